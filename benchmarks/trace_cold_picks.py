"""Where a cold viewer's picks 21-40 come from, and what the engine knew at pick 20.

Issue 14's cold loved-topic share (impressions 21-40) sits far below the learning ceiling
(:mod:`engine.sim.ceiling`). This traces the engine arm's cold personas (no onboarding) over
that window:

1. each source's share of the picks and how often its picks were of a loved topic;
2. the true class of the picks' topics (loved, liked, indifferent, disliked: the persona's
   hidden taste, :func:`engine.sim.persona._topic_taste`);
3. how far exploration got by pick 20 (the share of loved topics shown, and hooked, by then;
   distinct topics in picks 1-20 and 21-40);
4. the engine's own evidence at pick 20, rebuilt from the trace the way
   :func:`engine.uncertainty.note_outcome` counts it (without the "not now" discount): is the
   topic with the best posterior mean loved, and what share of picks 21-40 went to it;
5. the rate of each reaction by class, over all the cold personas' picks: what a learner can
   tell a loved topic from an indifferent one by.

Run (one process):

    python -m benchmarks.trace_cold_picks --users 200 --seeds 1 [--config ranking.toml]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import numpy.typing as npt

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import load_now, machine, measured, world
from engine.config import load_config
from engine.sim.experiment import ArmRun, RunSpec, run_experiment
from engine.sim.runner import Arm
from engine.sources import CODE
from engine.uncertainty import (
    EARLY_SKIP_MISSES,
    EARLY_SKIP_S,
    HELD_S,
    HOOKED_FRACTION,
    PARTIAL_MISSES,
    topic_prior,
)
from engine.world import World

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
CLASSES = ("loved", "liked", "indifferent", "disliked")
WINDOW = (20, 40)  # picks 21-40, counted from 0


def classes(run: ArmRun, units: I64, topics: I64) -> I64:
    """The true class of each (persona, topic): 0 loved ... 3 disliked (liked ≈ 0.5 taste,
    disliked ≈ -1, the rest near 0)."""
    taste = run.population.taste[units, topics]
    found: I64 = np.where(taste > 0.3, 1, np.where(taste < -0.5, 3, 2))
    return np.where(run.population.loved[units, topics], 0, found)


def evidence(rows: npt.NDArray[np.void], world: World) -> tuple[F64, F64]:
    """Hooks and misses per topic from one persona's trace rows, as the engine counts them."""
    n = len(world.topics)
    topic = world.videos.topic_id[rows["video"]]
    watched = rows["watched_s"].astype(np.float64)
    duration = world.videos.duration_s[rows["video"]].astype(np.float64)
    hooked = rows["completed"] | (watched >= HELD_S) | (watched >= HOOKED_FRACTION * duration)
    early = ~hooked & (watched < EARLY_SKIP_S)
    partial = ~hooked & ~early
    positives = rows["like"].astype(float) + rows["share"] + rows["save"]
    hooks = np.bincount(topic, hooked + positives, minlength=n)
    misses = np.bincount(topic, EARLY_SKIP_MISSES * early + PARTIAL_MISSES * partial, minlength=n)
    return hooks, misses


def report(run: ArmRun, world: World) -> None:
    trace = run.trace
    onboarded = run.population.groups()["onboarded"]
    cold = ~onboarded[trace["unit"]]
    topic = world.videos.topic_id[trace["video"]].astype(np.int64)
    klass = classes(run, trace["unit"].astype(np.int64), topic)
    window = cold & (trace["life"] >= WINDOW[0]) & (trace["life"] < WINDOW[1])
    picks = int(window.sum())
    print(f"\ncold personas' picks 21-40: {picks}, loved {np.mean(klass[window] == 0):.1%}")
    print("  by source: share of the picks, loved among them")
    names = list(CODE)
    for code in np.unique(trace["source"][window]).tolist():
        mine = window & (trace["source"] == code)
        share, loved = mine.sum() / picks, np.mean(klass[mine] == 0)
        print(f"    {names[code]:<22}{share:>7.1%}{loved:>8.1%}")
    counts = np.bincount(klass[window], minlength=len(CLASSES)) / picks
    told = (f"{name} {share:.1%}" for name, share in zip(CLASSES, counts, strict=True))
    print("  true class: " + ", ".join(told))
    _at_pick_20(run, world, trace, topic)
    print("\nreaction rates by class, all cold picks (what tells the classes apart)")
    watched = trace["watched_s"]
    duration = world.videos.duration_s[trace["video"]]
    hooked = trace["completed"] | (watched >= HELD_S) | (watched >= HOOKED_FRACTION * duration)
    rates = {
        "held/finished": hooked,
        "swiped < 2 s": ~hooked & (watched < EARLY_SKIP_S),
        "finished": trace["completed"],
        "liked": trace["like"],
        "looped": trace["rewatch"],
    }
    print(f"    {'':<14}" + "".join(f"{name:>15}" for name in rates))
    for k, name in enumerate(CLASSES):
        mine = cold & (klass == k)
        row = "".join(f"{np.mean(v[mine]):>15.3f}" for v in rates.values())
        print(f"    {name:<14}{row}")


def _at_pick_20(run: ArmRun, world: World, trace: npt.NDArray[np.void], topic: I64) -> None:
    """What the engine's evidence said after pick 20, and where picks 21-40 went."""
    prior = topic_prior(world)
    rows: dict[str, list[float]] = {
        "loved topics shown by pick 20": [],
        "loved topics hooked by pick 20": [],
        "distinct topics, picks 1-20": [],
        "distinct topics, picks 21-40": [],
        "best-evidence topic at 20 is loved": [],
        "picks 21-40 on that topic": [],
    }
    onboarded = run.population.groups()["onboarded"]
    for unit in np.flatnonzero(~onboarded).tolist():
        mine = trace[trace["unit"] == unit]
        mine = mine[np.argsort(mine["life"], kind="stable")]
        if len(mine) < WINDOW[1]:
            continue
        topics = world.videos.topic_id[mine["video"]].astype(np.int64)
        early, later = topics[: WINDOW[0]], topics[WINDOW[0] : WINDOW[1]]
        loved = run.population.loved[unit]
        hooks, misses = evidence(mine[: WINDOW[0]], world)
        mean = (prior.hooked + hooks) / (prior.hooked + prior.missed + hooks + misses)
        best = int(np.argmax(mean))
        rows["loved topics shown by pick 20"].append(np.isin(np.flatnonzero(loved), early).mean())
        rows["loved topics hooked by pick 20"].append(float(np.mean(hooks[loved] > 0)))
        rows["distinct topics, picks 1-20"].append(len(np.unique(early)))
        rows["distinct topics, picks 21-40"].append(len(np.unique(later)))
        rows["best-evidence topic at 20 is loved"].append(float(loved[best]))
        rows["picks 21-40 on that topic"].append(float(np.mean(later == best)))
    print("  per cold persona (mean):")
    for name, values in rows.items():
        print(f"    {name:<38}{np.mean(values):>8.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--sessions", type=int, default=3)
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--config", type=Path, default=None, help="an engine config (TOML)")
    args = parser.parse_args()
    print(machine())
    print(f"at start: {load_now()}", flush=True)
    spec = RunSpec(
        db_path=world(20_000),
        users=args.users,
        sessions=args.sessions,
        replicates=args.seeds,
        jobs=1,
        log=False,
    )
    arm = Arm("engine", load_config(args.config))
    with measured(f"{args.users} personas x {args.sessions} sessions x {args.seeds} seeds"):
        experiment = run_experiment(spec, [arm])
    report(experiment.runs["engine"], experiment.world)
    print(f"at end: {load_now()}")


if __name__ == "__main__":
    main()
