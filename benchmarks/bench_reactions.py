"""Simulated reactions against real ones: how much of a video people watch before a like and
before a "not interested", and the per-impression rates the personas are calibrated to.

The real side is KuaiRand-27K's like/hate file (``shared/data/kuairand-27k-like-hate``, CC BY-SA
4.0, read in place): ``play_time_ms / duration_ms`` per impression that ended in an explicit like
(``label`` 1) or "hate" (``label`` 0, KuaiRand's "not interested"); rows with no duration (about
one in five) are left out. The simulated side is the default engine's trace: ``watched_s`` over
the video's duration, for impressions with a like, with a "not interested", and for all of them.
Run:

    python benchmarks/bench_reactions.py                       # 200 personas × 3 sessions × 3 seeds
    python benchmarks/bench_reactions.py --users 60 --seeds 0  # a quick look
    python benchmarks/bench_reactions.py --db foryou.db        # a given world (default: the cached
                                                               # 20k benchmark world, seed 42)

Both sides print as median, IQR and p10/p90, side by side, then the simulation's valid play,
long view, like and strong negative rates against KuaiRand-Pure's (``shared/calibration.md``),
with the machine, wall and CPU time and the load around the run.
"""

from __future__ import annotations

import argparse
import csv
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import numpy.typing as npt

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import machine, measured, world
from engine.sim.baselines import builtin_arm
from engine.sim.experiment import RunSpec, run_experiment
from engine.sim.metrics import measure
from engine.sim.trace import NO_NEGATIVE, Trace
from engine.sim.watch import Behaviour
from engine.world import World

F64 = npt.NDArray[np.float64]
REAL = Path("/work/shared/data/kuairand-27k-like-hate/likes_hates_kcore15.tsv")
QUANTILES = (10, 25, 50, 75, 90)
# KuaiRand-Pure per impression (shared/calibration.md); engine/sim/README.md gives the definitions.
RATES = {"valid_play": 0.46, "long_view": 0.33, "like": 0.0185, "strong_negative": 0.0005}
ALSO = ("completion", "share", "save", "comment", "follow", "session_depth", "watch_per_session")


@dataclass(frozen=True)
class Fractions:
    """Watched fractions (watched / duration) of one set of impressions."""

    like: F64
    not_interested: F64
    not_interested_s: F64  # seconds watched before the "not interested"
    every: F64 | None = None  # all impressions (the real file holds only likes and hates)


def real_fractions(path: Path) -> Fractions:
    """The like/hate file's ``play_time_ms / duration_ms`` per label (rows with a duration)."""
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    label = np.array([int(r["label"]) for r in rows])
    play = np.array([float(r["play_time_ms"]) for r in rows])
    duration = np.array([float(r["duration_ms"]) for r in rows])
    known = duration > 0
    fraction = play[known] / duration[known]
    hate = label[known] == 0
    return Fractions(
        like=fraction[label[known] == 1],
        not_interested=fraction[hate],
        not_interested_s=play[known][hate] / 1000.0,
    )


def simulated_fractions(trace: Trace, world: World) -> Fractions:
    """The trace's ``watched_s`` over each video's duration, by the reaction that came with it."""
    duration = world.videos.duration_s[trace["video"]].astype(np.float64)
    watched = trace["watched_s"].astype(np.float64)
    fraction = watched / duration
    negative = trace["negative"] != NO_NEGATIVE
    return Fractions(
        like=fraction[trace["like"]],
        not_interested=fraction[negative],
        not_interested_s=watched[negative],
        every=fraction,
    )


def describe(values: F64, unit: str = "") -> str:
    """`median 0.946 · IQR 0.412–1.182 · p10/p90 0.125/1.932 · over 1: 45% · n=26,849`."""
    if len(values) == 0:
        return "none"
    p10, p25, p50, p75, p90 = np.percentile(values, QUANTILES)
    over = "" if unit else f"over 1: {np.mean(values > 1.0):.0%} · "
    return (
        f"median {p50:.3f}{unit} · IQR {p25:.3f}–{p75:.3f}{unit} · "
        f"p10/p90 {p10:.3f}/{p90:.3f}{unit} · {over}n={len(values):,}"
    )


def side_by_side(
    simulated: Fractions, real: Fractions, boosted: Fractions | None = None, boost: float = 1.0
) -> list[str]:
    """The watched fractions before each reaction, simulated over real; with ``boosted`` (a run
    with the "not interested" rate × ``boost``), its "not interested" too: at the real rate a
    run sees only a few dozen, and the watch given the reaction does not depend on the rate."""
    lines = ["Watched fraction (watched / duration) before a reaction, simulated vs real:"]
    rows = [
        ("like", simulated.like, real.like, ""),
        ("not interested", simulated.not_interested, real.not_interested, ""),
        ("not interested, seconds", simulated.not_interested_s, real.not_interested_s, " s"),
    ]
    for name, sim, kuai, unit in rows:
        lines += [f"  {name}", f"    simulated  {describe(sim, unit)}"]
        if boosted is not None and name.startswith("not interested"):
            values = boosted.not_interested if not unit else boosted.not_interested_s
            lines.append(f"    {f'sim ×{boost:g}':<10} {describe(values, unit)}")
        lines.append(f"    KuaiRand   {describe(kuai, unit)}")
    if simulated.every is not None:
        lines += ["  every impression", f"    simulated  {describe(simulated.every)}"]
    return lines


def run(
    db: Path,
    users: int,
    sessions: int,
    seeds: list[int],
    jobs: int,
    save: Path | None,
    boost: float,
) -> None:
    print(machine())
    traces: list[Trace] = []
    rates: dict[str, list[float]] = {k: [] for k in (*RATES, *ALSO)}
    loaded: World | None = None
    for seed in seeds:
        spec = RunSpec(db_path=db, users=users, sessions=sessions, seed=seed, jobs=jobs)
        with measured(f"seed {seed}: {users} personas × {sessions} sessions", children=True):
            experiment = run_experiment(spec, [builtin_arm("engine")])
        engine_run = experiment.runs["engine"]
        loaded = experiment.world
        traces.append(engine_run.trace)
        summary = measure(engine_run, loaded).summary()
        for key in rates:
            rates[key].append(summary[key])
    assert loaded is not None
    trace = np.concatenate(traces)
    print(f"{len(trace):,} impressions")
    if save is not None:  # for tuning the watch model offline on the engine's real picks
        duration = loaded.videos.duration_s[trace["video"]]
        np.savez(save, trace=trace, duration=duration)
    boosted = None
    if boost > 1.0:
        behaviour = Behaviour()
        behaviour = replace(behaviour, not_interested_rate=boost * behaviour.not_interested_rate)
        spec = RunSpec(db, users, sessions, seed=seeds[0], jobs=jobs, behaviour=behaviour)
        with measured(f"seed {seeds[0]}, 'not interested' rate ×{boost:g}", children=True):
            experiment = run_experiment(spec, [builtin_arm("engine")])
        boosted = simulated_fractions(experiment.runs["engine"].trace, loaded)
    if not REAL.exists():  # the shared data folder of the machine the project was built on
        print(f"(no KuaiRand file at {REAL}: the real side shows as none)")
    empty = np.zeros(0)
    real = real_fractions(REAL) if REAL.exists() else Fractions(empty, empty, empty)
    print("\n".join(side_by_side(simulated_fractions(trace, loaded), real, boosted, boost)))
    print("Per-impression rates, simulated (mean of the seeds) vs KuaiRand-Pure:")
    for key, target in RATES.items():
        per_seed = " ".join(f"{v:.2%}" for v in rates[key])
        print(f"  {key:<16} {np.mean(rates[key]):7.2%}  (seeds: {per_seed})  real {target:.2%}")
    print("Also: " + " · ".join(f"{key} {np.mean(rates[key]):.4g}" for key in ALSO))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", type=Path, help="world file (default: cached 20k world, seed 42)")
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--sessions", type=int, default=3)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--save-trace", type=Path, help="also write the trace to this .npz")
    parser.add_argument(
        "--boost",
        type=float,
        default=40.0,
        help="one more run (first seed) with the 'not interested' rate × this (1: none)",
    )
    args = parser.parse_args()
    db = args.db or world(20_000)
    run(db, args.users, args.sessions, args.seeds, args.jobs, args.save_trace, args.boost)


if __name__ == "__main__":
    main()
