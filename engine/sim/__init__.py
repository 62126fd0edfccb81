"""Simulated viewers and ranking experiments.

Personas with a hidden truth watch a world through the same :class:`engine.Engine` API and
tables as people (their rows are marked simulated), in virtual time. Around them: a runner that
shards personas over processes with identical results for any number of jobs, baselines (random,
popular, an oracle that knows each persona's truth), metrics, paired bootstrap comparisons, and
reports. Module by module, in the order a run flows:

- :mod:`engine.sim.persona` and :mod:`engine.sim.watch`: who the viewers are and how they watch;
- :mod:`engine.sim.oracle` and :mod:`engine.sim.baselines`: the arms a run can compare;
- :mod:`engine.sim.runner`, :mod:`engine.sim.backends`, :mod:`engine.sim.snapshot`: running;
- :mod:`engine.sim.experiment`: the same personas under every arm;
- :mod:`engine.sim.trace`, :mod:`engine.sim.metrics`, :mod:`engine.sim.stats`,
  :mod:`engine.sim.comparison`, :mod:`engine.sim.report`: measuring and telling.

The package imports only what running needs; the statistics (``engine.sim.comparison``, which
loads scipy.stats) and the report (matplotlib) load when used. See ``engine/sim/README.md`` for
the calibration and the measured throughput.
"""

from engine.sim.baselines import builtin_arm, resolve_arm, with_references
from engine.sim.experiment import Experiment, RunSpec, run_experiment
from engine.sim.persona import Persona, Reaction, Taste
from engine.sim.runner import Arm
from engine.sim.watch import Behaviour

__all__ = [
    "Arm",
    "Behaviour",
    "Experiment",
    "Persona",
    "Reaction",
    "RunSpec",
    "Taste",
    "builtin_arm",
    "resolve_arm",
    "run_experiment",
    "with_references",
]
