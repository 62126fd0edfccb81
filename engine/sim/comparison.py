"""An experiment's verdict: every arm's metrics, where each sits between random and the oracle,
and paired differences against a baseline arm with bootstrap intervals.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from importlib import metadata
from typing import Any

import numpy as np

from engine.config import config_hash, effective_toml
from engine.sim.experiment import Experiment
from engine.sim.metrics import GROUPS, POPULATION_METRICS, RATIO_METRICS, Measures, measure
from engine.sim.stats import N_RESAMPLES, Difference, population_difference, ratio_difference

PLACEMENT_METRIC = "watch_per_session"
ORACLE = "oracle"
# The oracle serves, pick by pick, the highest true expected watch time: watch time is all it
# aims at, and greedily; on anything else it is just another feed.
ORACLE_AIMS = ("watch_per_session", "watch_per_impression")
ORACLE_NOTE = (
    "oracle: at each pick, the video with the highest true expected watch time (greedy, so a "
    "feed that plans ahead could still pass it per session). On watch time it is the ceiling; "
    "on every other metric a reference, not a bound."
)
BOOTSTRAP_KEY = 0xB007  # spawn key of the bootstrap's stream: no persona's key has one part


@dataclass(frozen=True, eq=False)
class Comparison:
    experiment: Experiment
    measures: dict[str, Measures]  # by arm, in run order
    baseline: str | None  # the arm differences are taken against
    differences: dict[str, list[Difference]]  # other arm -> its differences from the baseline
    resamples: int | None = None  # bootstrap resamples behind the intervals (None: no intervals)

    def summary(self, group: str | None = None) -> dict[str, dict[str, float]]:
        """Point estimates per arm and metric, over all personas or one group's."""
        return {arm: m.summary(group) for arm, m in self.measures.items()}

    def placement(self, group: str | None = None) -> dict[str, float]:
        """Where each arm's watch time per session falls: 0 = random, 1 = oracle.

        The oracle is greedy (one pick at a time), so an arm that plans ahead can exceed 1.
        """
        summary = self.summary(group)
        if "random" not in summary or "oracle" not in summary:
            return {}
        floor = summary["random"][PLACEMENT_METRIC]
        span = summary["oracle"][PLACEMENT_METRIC] - floor
        if not np.isfinite(span) or span == 0:
            return {}
        return {arm: (s[PLACEMENT_METRIC] - floor) / span for arm, s in summary.items()}

    def reference_only(self, arm: str, metric: str) -> bool:
        """Whether ``arm``'s value of ``metric`` is a reference, not a bound: the oracle's on
        anything but watch time."""
        return arm == ORACLE and metric not in ORACLE_AIMS

    def as_dict(self) -> dict[str, Any]:
        """Everything a metrics JSON holds (plain values only), down to what it takes to run the
        same experiment again: the foryou version, every arm's effective config, the resamples."""
        spec = self.experiment.spec
        runs = self.experiment.runs
        data = {
            "foryou_version": _foryou_version(),
            "spec": {
                "db": str(spec.db_path),
                "users": spec.users,
                "sessions": spec.sessions,
                "seed": spec.seed,
                "replicates": spec.replicates,
                "jobs": spec.jobs,
                "log": spec.log,
                "backend": spec.backend,
                "shard_size": spec.shard_size,
                "start_t": spec.start_t,
                "behaviour": asdict(spec.behaviour),
            },
            "resamples": self.resamples,
            "arms": {
                name: {
                    "config": {
                        "name": run.arm.config.name,
                        "sha256": config_hash(run.arm.config),
                        "toml": effective_toml(run.arm.config),
                    },
                    "oracle": run.arm.oracle,
                    "log": run.arm.log,
                    "metrics": self.measures[name].summary(),
                    "pool_reach": [float(x) for x in self.measures[name].pool_reach],
                    "impressions": run.impressions,
                    "events": run.events,
                    "engine_s": run.engine_s,
                    "wall_s": run.wall_s,
                    "curves": {k: v.tolist() for k, v in self.measures[name].curves.items()},
                    "groups": _groups(self.measures[name]),
                    "predictions": _predictions(self.measures[name]),
                }
                for name, run in runs.items()
            },
            "placement": self.placement(),
            "placement_by_group": {g: self.placement(g) for g in GROUPS},
            "oracle_note": ORACLE_NOTE if ORACLE in runs else None,
            "baseline": self.baseline,
            "differences": {
                arm: [vars(d) for d in diffs] for arm, diffs in self.differences.items()
            },
        }
        result: dict[str, Any] = _plain(data)
        return result


def _groups(measures: Measures) -> dict[str, Any]:
    """Each persona group's size, metrics and curves."""
    sizes = measures.group_sizes()
    return {
        group: {
            "personas": sizes[group],
            "metrics": measures.summary(group),
            "curves": {k: v.tolist() for k, v in measures.group_curves[group].items()},
        }
        for group in GROUPS
    }


def _predictions(measures: Measures) -> dict[str, Any]:
    """Calibration and AUC per action, for all personas and per group (null: no predictions)."""
    return {
        group: {a: None if c is None else asdict(c) for a, c in by_action.items()}
        for group, by_action in measures.predictions.items()
    }


def _foryou_version() -> str | None:
    try:
        return metadata.version("foryou")
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return None


def _plain(value: Any) -> Any:
    """JSON has no NaN: undefined numbers become null and numpy numbers plain, at any depth."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def compare(
    experiment: Experiment,
    *,
    baseline: str | None = None,
    bootstrap: bool = True,
    n_resamples: int = N_RESAMPLES,
) -> Comparison:
    """Measure every arm; with ``bootstrap``, difference every other arm from ``baseline``.

    The baseline defaults to the first arm that is not a reference (random, oracle).

    Raises:
        ValueError: ``bootstrap`` with fewer than one resample.
    """
    if bootstrap and n_resamples < 1:
        raise ValueError(f"n_resamples must be at least 1, got {n_resamples}")
    world = experiment.world
    measures = {name: measure(run, world) for name, run in experiment.runs.items()}
    names = list(measures)
    chosen = baseline or next((n for n in names if n not in ("random", "oracle")), names[0])
    differences: dict[str, list[Difference]] = {}
    if bootstrap:
        rng = np.random.default_rng(
            np.random.SeedSequence(experiment.spec.seed, spawn_key=(BOOTSTRAP_KEY,))
        )
        for name in names:
            if name != chosen:
                differences[name] = _differences(measures[chosen], measures[name], rng, n_resamples)
    return Comparison(experiment, measures, chosen, differences, n_resamples if bootstrap else None)


def _differences(
    a: Measures, b: Measures, rng: np.random.Generator, n_resamples: int
) -> list[Difference]:
    ratio = [
        ratio_difference(m.key, a.parts[m.key], b.parts[m.key], rng, n_resamples)
        for m in RATIO_METRICS
    ]
    population = [
        population_difference(m.key, a.exposure, b.exposure, rng, n_resamples)
        for m in POPULATION_METRICS
    ]
    return ratio + population
