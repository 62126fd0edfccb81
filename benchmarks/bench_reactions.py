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
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import machine, measured, world
from engine.sim.baselines import builtin_arm
from engine.sim.experiment import RunSpec, run_experiment
from engine.sim.metrics import measure
from engine.sim.trace import NO_NEGATIVE, Trace
from engine.world import World

F64 = npt.NDArray[np.float64]
REAL = Path("/work/shared/data/kuairand-27k-like-hate/likes_hates_kcore15.tsv")
QUANTILES = (10, 25, 50, 75, 90)
# KuaiRand-Pure per impression (shared/calibration.md); engine/sim/README.md gives the definitions.
RATES = {"valid_play": 0.46, "long_view": 0.33, "like": 0.0185, "strong_negative": 0.0005}


@dataclass(frozen=True)
class Fractions:
    """Watched fractions (watched / duration) of one set of impressions."""

    like: F64
    not_interested: F64
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
    return Fractions(like=fraction[label[known] == 1], not_interested=fraction[label[known] == 0])


def simulated_fractions(trace: Trace, world: World) -> Fractions:
    """The trace's ``watched_s`` over each video's duration, by the reaction that came with it."""
    duration = world.videos.duration_s[trace["video"]].astype(np.float64)
    fraction = trace["watched_s"].astype(np.float64) / duration
    return Fractions(
        like=fraction[trace["like"]],
        not_interested=fraction[trace["negative"] != NO_NEGATIVE],
        every=fraction,
    )


def describe(values: F64) -> str:
    """`median 0.95 · IQR 0.41–1.18 · p10/p90 0.12/1.93 · n=26,849`."""
    if len(values) == 0:
        return "none"
    p10, p25, p50, p75, p90 = np.percentile(values, QUANTILES)
    return (
        f"median {p50:.3f} · IQR {p25:.3f}–{p75:.3f} · p10/p90 {p10:.3f}/{p90:.3f} · "
        f"over 1: {np.mean(values > 1.0):.0%} · n={len(values):,}"
    )


def side_by_side(simulated: Fractions, real: Fractions) -> list[str]:
    lines = ["Watched fraction (watched / duration) before a reaction, simulated vs real:"]
    for name, sim, kuai in (
        ("like", simulated.like, real.like),
        ("not interested", simulated.not_interested, real.not_interested),
    ):
        lines += [f"  {name}", f"    simulated  {describe(sim)}"]
        lines.append(f"    KuaiRand   {describe(kuai)}")
    if simulated.every is not None:
        lines += ["  every impression", f"    simulated  {describe(simulated.every)}"]
    return lines


def run(
    db: Path, users: int, sessions: int, seeds: Iterable[int], jobs: int, save: Path | None
) -> None:
    print(machine())
    traces: list[Trace] = []
    rates: dict[str, list[float]] = {k: [] for k in RATES}
    loaded: World | None = None
    for seed in seeds:
        spec = RunSpec(db_path=db, users=users, sessions=sessions, seed=seed, jobs=jobs)
        with measured(f"seed {seed}: {users} personas × {sessions} sessions", children=True):
            experiment = run_experiment(spec, [builtin_arm("engine")])
        engine_run = experiment.runs["engine"]
        loaded = experiment.world
        traces.append(engine_run.trace)
        summary = measure(engine_run, loaded).summary()
        for key in RATES:
            rates[key].append(summary[key])
    assert loaded is not None
    trace = np.concatenate(traces)
    print(f"{len(trace):,} impressions")
    if save is not None:  # for tuning the watch model offline on the engine's real picks
        duration = loaded.videos.duration_s[trace["video"]]
        np.savez(save, trace=trace, duration=duration)
    print("\n".join(side_by_side(simulated_fractions(trace, loaded), real_fractions(REAL))))
    print("Per-impression rates, simulated (mean of the seeds) vs KuaiRand-Pure:")
    for key in RATES:
        per_seed = " ".join(f"{v:.2%}" for v in rates[key])
        print(f"  {key:<16} {np.mean(rates[key]):7.2%}  (seeds: {per_seed})  real {RATES[key]:.2%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", type=Path, help="world file (default: cached 20k world, seed 42)")
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--sessions", type=int, default=3)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--save-trace", type=Path, help="also write the trace to this .npz")
    args = parser.parse_args()
    db = args.db or world(20_000)
    run(db, args.users, args.sessions, args.seeds, args.jobs, args.save_trace)


if __name__ == "__main__":
    main()
