"""Issue 14's scoreboard: every target of "a feed that learns" beside what is measured today.

Every later change to the ranker is judged by this: it prints each target with the engine's
figure and the ``bandit`` baseline's (Thompson sampling over topics, :mod:`engine.bandit`), on
the default 20k demo world (``benchmarks.common.world(20000)``, seed 42). Run:

    python benchmarks/bench_learning.py            # 200 personas x 3 sessions x 3 seeds
    python benchmarks/bench_learning.py --quick    # 40 personas x 3 sessions x 1 seed
    python benchmarks/bench_learning.py --users 100 --seeds 1 --jobs 2
    python benchmarks/bench_learning.py --config tweak.toml   # the engine arm under a TOML
    python benchmarks/bench_learning.py --engine-only [--world W]  # the engine arm alone
    python benchmarks/bench_learning.py --engine-only --save before.npz   # then, changed code:
    python benchmarks/bench_learning.py --engine-only --against before.npz

1. The scripted viewer (:mod:`engine.sim.scripted`): completes and likes two topics, skips
   everything else at 1.5 s; the share of picks 21-50 from its two topics, for six topic pairs,
   without onboarding (the target) and with it; and, onboarded, how much "not interested" in
   its first topic cuts that topic's share of the next 20 picks. One viewer at one start time
   is a lottery (a first lucky hit decides much), so the engine's mean over pick seeds 0-2 ×
   start times 0, 1 h and 1 day is printed beside it.
2. Simulated personas under random, engine, bandit and oracle, paired (the same personas and
   random numbers under every arm, ``compare``'s experiment): placement, the cold-start
   figures, calibration of P(complete) and P(like), "not interested" on a topic, new creators'
   share, and engine − bandit watch time per session with its 95% bootstrap interval.

3. The learning ceiling (:mod:`engine.sim.ceiling`) on the same personas: a policy that knows
   the simulator's model but not the persona's truth and learns loved topics from reactions
   alone, with a typical video in the topic and, as variants, the engine's kind of video and
   the video whose reaction says most about the topic.
   Its cold-start loved share over impressions 21-40 is what any learner can hope for; it is
   printed beside the 60% target with a 95% bootstrap interval over personas
   (``--ceiling-only`` runs this part alone). Three more variants serve the video of most
   expected watch under the same posterior (``objective = "watch"``), one knowing every
   video's hidden quality (errs high), one only its spread (``quality = "prior"``, errs
   low), one judging it from the video's public counts (``quality = "crowd"``); random and
   oracle run beside them, and every arm's watch time per session is
   placed between those two, with a paired 95% bootstrap interval over personas: whether the
   issue's 0.6 placement is within a learner's reach.

Today's engine misses most targets; that is expected. The figures are the point.

A change to the engine's *code* (not a config, which ``foryou compare`` pairs) is measured with
``--engine-only --save`` on the code before it and ``--against`` on the code after, the same
personas and random numbers: the engine arm's per-persona figures are kept in the ``.npz``, and
the second run prints this run − the saved one per persona group, with a 95% interval from the
clustered bootstrap ``compare`` uses (shards, whose personas share an engine, are the units).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
import numpy.typing as npt

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import load_now, machine, measured, world
from engine.config import Config, load_config
from engine.policy import PolicySpec
from engine.sim.baselines import builtin_arm, with_references
from engine.sim.comparison import Comparison, compare, shard_of_units
from engine.sim.experiment import RunSpec, run_experiment
from engine.sim.inference import cluster_resamples
from engine.sim.inference import ratio_difference as clustered_difference
from engine.sim.metrics import CURVE_BUCKET, Measures
from engine.sim.runner import Arm
from engine.sim.scripted import TOPIC_PAIRS, dismissal_cut, two_topic_share
from engine.sim.stats import ratio_difference
from engine.store import Store

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
ARMS = ("engine", "bandit")
STEADY_SEEDS = (0, 1, 2)
STEADY_STARTS = (0.0, 3_600.0, 86_400.0)
SCRIPTED_TARGET = 0.7
DISMISSAL_TARGET = 0.9
RESAMPLES = 999


@dataclass(frozen=True)
class Target:
    """One of the issue's targets: how to read it off an arm's measures, and the bar."""

    label: str
    read: Callable[[Comparison, str], float]
    bar: float
    higher: bool = True
    unit: str = "%"

    def met(self, value: float) -> str:
        if not np.isfinite(value):
            return "n/a"
        return "yes" if (value >= self.bar if self.higher else value <= self.bar) else "no"

    def show(self, value: float) -> str:
        if not np.isfinite(value):
            return "n/a"
        return f"{100 * value:.1f}%" if self.unit == "%" else f"{value:.3f}"


def _metric(key: str, group: str | None = None) -> Callable[[Comparison, str], float]:
    return lambda c, arm: c.measures[arm].summary(group)[key]


def _ece(action: str) -> Callable[[Comparison, str], float]:
    def read(c: Comparison, arm: str) -> float:
        figures = c.measures[arm].predictions["all"][action]
        return float("nan") if figures is None else figures.ece

    return read


def _placement(c: Comparison, arm: str) -> float:
    return c.placement().get(arm, float("nan"))


def _dismissal_cut(c: Comparison, arm: str) -> float:
    return 1.0 - c.measures[arm].summary()["dismissed_topic_kept"]


TARGETS = (
    Target("placement on watch time per session", _placement, 0.6, unit=""),
    Target(
        "cold start: loved-topic share, impressions 21-40",
        _metric("loved_share_21_40", "cold"),
        0.6,
    ),
    Target("cold start: watch/impression 41-80 vs 1-10", _metric("watch_lift", "cold"), 0.5),
    Target("ECE of P(complete)", _ece("complete"), 0.03, higher=False, unit=""),
    Target("ECE of P(like)", _ece("like"), 0.005, higher=False, unit=""),
    Target("'not interested' on a topic: cut in next 20", _dismissal_cut, 0.9),
    Target("new creators' share of impressions", _metric("new_creator_share"), 0.10),
)


def _config(arm: str, engine: Config) -> Config | None:
    """The config the scripted viewer's engine opens with: ``engine`` for the engine arm."""
    return engine if arm == "engine" else None


def _policy(arm: str) -> str | None:
    """Who picks for the scripted viewer: the config's own policy for the engine arm."""
    return None if arm == "engine" else arm


def scripted(path: Path, engine: Config) -> dict[str, dict[bool, list[float]]]:
    """Share of picks 21-50 from the scripted viewer's two topics, per arm and onboarding."""
    shares: dict[str, dict[bool, list[float]]] = {}
    for arm in ARMS:
        shares[arm] = {
            onboard: [
                two_topic_share(
                    path, pair, onboard=onboard, config=_config(arm, engine), policy=_policy(arm)
                )
                for pair in TOPIC_PAIRS
            ]
            for onboard in (False, True)
        }
    return shares


def steady_scripted(path: Path, engine: Config) -> list[float]:
    """The engine's no-onboarding share of picks 21-50 over six pairs, once per pick seed ×
    start time of :data:`STEADY_SEEDS` × :data:`STEADY_STARTS`."""
    means = []
    for seed in STEADY_SEEDS:
        config = msgspec.structs.replace(engine, seed=seed)
        for start in STEADY_STARTS:
            shares = [
                two_topic_share(path, pair, config=config, onboard=False, start=start)
                for pair in TOPIC_PAIRS
            ]
            means.append(float(np.mean(shares)))
    return means


def print_scripted(shares: dict[str, dict[bool, list[float]]]) -> None:
    pairs = " · ".join("+".join(p) for p in TOPIC_PAIRS)
    print(f"\nScripted viewer, share of picks 21-50 from its two topics ({pairs}):")
    for arm, by_onboarding in shares.items():
        for onboard, values in by_onboarding.items():
            each = " ".join(f"{v:.2f}" for v in values)
            kind = "onboarded " if onboard else "no onboarding"
            mark = (
                ""
                if onboard
                else f"  target >= {SCRIPTED_TARGET:.2f} at pick seed 0: "
                + ("met" if np.mean(values) >= SCRIPTED_TARGET else "missed")
            )
            print(f"  {arm:7s} {kind:13s} mean {np.mean(values):.2f}  [{each}]{mark}")


def print_dismissals(path: Path, engine: Config) -> None:
    """The scripted viewer's "not interested" in its first topic: personas rarely dismiss a
    topic a learning engine shows them, so the personas' row can have no data."""
    print("\nScripted viewer, 'not interested' in its first topic: its share of the next 20 cut by")
    for arm in ARMS:
        cuts = [
            dismissal_cut(path, pair, config=_config(arm, engine), policy=_policy(arm))
            for pair in TOPIC_PAIRS
        ]
        each = " ".join("n/a" if np.isnan(v) else f"{v:.0%}" for v in cuts)
        mean = float(np.nanmean(cuts)) if not np.all(np.isnan(cuts)) else float("nan")
        met = "met" if mean >= DISMISSAL_TARGET else "missed"
        print(f"  {arm:7s} mean {mean:.0%}  [{each}]  target >= {DISMISSAL_TARGET:.0%}: {met}")


def personas(
    path: Path, users: int, seeds: int, sessions: int, jobs: int, engine: Config
) -> Comparison:
    arms = with_references(
        [Arm("engine", engine) if a == "engine" else builtin_arm(a) for a in ARMS]
    )
    spec = RunSpec(
        db_path=path, users=users, sessions=sessions, replicates=seeds, jobs=jobs, log=False
    )
    experiment = run_experiment(spec, arms)
    return compare(experiment, bootstrap=False)


def print_targets(c: Comparison) -> None:
    sizes = next(iter(c.measures.values())).group_sizes()
    print(
        f"\nIssue 14 targets ({sizes['onboarded']} onboarded + {sizes['cold']} cold-start "
        "personas; oracle = the corrected one):"
    )
    header = f"  {'target':52s} {'bar':>8s}" + "".join(f" {a:>9s} met" for a in ARMS)
    print(header)
    for t in TARGETS:
        bar = ("≥ " if t.higher else "≤ ") + t.show(t.bar)
        cells = "".join(f" {t.show(t.read(c, a)):>9s} {t.met(t.read(c, a)):3s}" for a in ARMS)
        print(f"  {t.label:52s} {bar:>8s}{cells}")
    rng = np.random.default_rng(0)
    key = "watch_per_session"
    d = ratio_difference(
        key, c.measures["bandit"].parts[key], c.measures["engine"].parts[key], rng, RESAMPLES
    )
    verdict = "beats" if d.low > 0 else ("loses to" if d.high < 0 else "does not clearly beat")
    print(
        f"  engine − bandit, watch time per session: {d.diff:+.1f} s "
        f"[{d.low:+.1f}, {d.high:+.1f}] (95% paired bootstrap): the engine {verdict} the bandit"
    )


def print_split(c: Comparison) -> None:
    keys = ("watch_per_session", "loved_share", "loved_share_21_40", "watch_1_10", "watch_41_80")
    print("\nBy persona group (all · onboarded · cold):")
    placement = {g: c.placement(g) for g in (None, "onboarded", "cold")}
    for arm, m in c.measures.items():
        cells = [_row(m, key) for key in keys]
        where = " · ".join(f"{p.get(arm, float('nan')):.2f}" for p in placement.values())
        print(f"  {arm:7s} placement {where} | " + " | ".join(cells))


def _row(m: Measures, key: str) -> str:
    values = [m.summary(g)[key] for g in (None, "onboarded", "cold")]
    return f"{key} " + " · ".join(f"{v:.3g}" for v in values)


CEILING_ARMS = (
    Arm("ceiling", Config(name="ceiling"), PolicySpec("ceiling")),
    Arm(
        "ceiling-popular",
        Config(name="ceiling-popular"),
        PolicySpec("ceiling", {"video": "popular"}),
    ),
    Arm(
        "ceiling-informative",
        Config(name="ceiling-informative"),
        PolicySpec("ceiling", {"video": "informative"}),
    ),
    Arm(
        "ceiling-watch",
        Config(name="ceiling-watch"),
        PolicySpec("ceiling", {"objective": "watch"}),
    ),
    Arm(
        "ceiling-watch-blind",
        Config(name="ceiling-watch-blind"),
        PolicySpec("ceiling", {"objective": "watch", "quality": "prior"}),
    ),
    Arm(
        "ceiling-watch-crowd",
        Config(name="ceiling-watch-crowd"),
        PolicySpec("ceiling", {"objective": "watch", "quality": "crowd"}),
    ),
)
CEILING_LABEL = {
    "ceiling": "ceiling (knows the model, learns from reactions)",
    "ceiling-popular": "  same, the engine's kind of video in the topic",
    "ceiling-informative": "  same, the most informative video in the topic",
    "ceiling-watch": "  same, the video of most expected watch, any topic",
    "ceiling-watch-blind": "  same, not knowing any video's hidden quality",
    "ceiling-watch-crowd": "  same, quality judged from its public counts",
    "random": "random (reference)",
    "oracle": "oracle (reads the truth; reference)",
}
GROUPS = (None, "onboarded", "cold")


def ceiling(path: Path, users: int, seeds: int, sessions: int, jobs: int) -> Comparison:
    """The learning ceiling's variants on the same personas as :func:`personas`, with
    random and oracle to place their watch time between."""
    spec = RunSpec(
        db_path=path, users=users, sessions=sessions, replicates=seeds, jobs=jobs, log=False
    )
    return compare(run_experiment(spec, with_references(CEILING_ARMS)), bootstrap=False)


def print_ceiling(c: Comparison) -> None:
    rng = np.random.default_rng(0)
    bar = TARGETS[1].bar
    for group in ("cold", "onboarded"):
        aim = f"the cold-start target is >= {bar:.0%}" if group == "cold" else "reference"
        size = next(iter(c.measures.values())).group_sizes()[group]
        print(f"\n{size} {group} personas, loved-topic share of impressions 21-40 ({aim}):")
        for arm, m in c.measures.items():
            share, low, high = _persona_interval(m, "loved_share_21_40", group, rng)
            watch = m.summary(group)["watch_per_session"]
            print(
                f"  {CEILING_LABEL[arm]:51s} {share:6.1%} [{low:.1%}, {high:.1%}]"
                f"  watch/session {watch:5.0f} s"
            )
    print(f"\ncold loved share by {CURVE_BUCKET} impressions (from impression 1):")
    for arm, m in c.measures.items():
        curve = m.group_curves["cold"]["loved_share"][: 80 // CURVE_BUCKET]
        passed = np.flatnonzero(curve >= bar)
        when = f"first >= {bar:.0%} at {passed[0] * CURVE_BUCKET + 1}" if len(passed) else ""
        print(f"  {arm:20s} " + " ".join(f"{v:.2f}" for v in curve) + f"  {when}")
    print_ceiling_placement(c, rng)


def print_ceiling_placement(c: Comparison, rng: np.random.Generator) -> None:
    """Watch time per session of every arm and the placement it implies, all · onboarded ·
    cold: whether a learner that knows the model can reach the issue's placement target."""
    bar = TARGETS[0].bar
    print(
        "\nWatch time per session (all · onboarded · cold), loved share 21-40 (same), and the "
        f"placement it implies (target >= {bar}),\n  (watch - random) / (oracle - random), "
        "with its 95% paired bootstrap interval over personas:"
    )
    for arm, m in c.measures.items():
        watch = " · ".join(f"{m.summary(g)['watch_per_session']:4.0f}" for g in GROUPS)
        loved = " · ".join(f"{m.summary(g)['loved_share_21_40']:.2f}" for g in GROUPS)
        places = []
        for group in GROUPS:
            point, low, high = _placement_interval(c, arm, group, rng)
            places.append(f"{point:.3f} [{low:.3f}, {high:.3f}]")
        print(f"  {arm:20s} watch {watch} s | loved {loved} | placement " + " · ".join(places))


def _placement_interval(
    c: Comparison, arm: str, group: str | None, rng: np.random.Generator
) -> tuple[float, float, float]:
    """An arm's placement on watch time per session and its 95% bootstrap interval,
    resampling personas together under the arm, random and oracle (they are paired)."""
    key = "watch_per_session"
    mask = next(iter(c.measures.values())).groups[group] if group else None
    parts = []
    for name in ("random", arm, "oracle"):
        p = c.measures[name].parts[key]
        parts.append(p.within(mask) if mask is not None else p)
    point = c.placement(group).get(arm, float("nan"))
    n = len(parts[0].num)
    draws = rng.integers(n, size=(RESAMPLES, n))
    floor, value, top = (p.num[draws].sum(axis=1) / p.den[draws].sum(axis=1) for p in parts)
    low, high = np.percentile((value - floor) / (top - floor), [2.5, 97.5])
    return point, float(low), float(high)


def _persona_interval(
    m: Measures, key: str, group: str, rng: np.random.Generator
) -> tuple[float, float, float]:
    """The group's ratio and its 95% bootstrap interval over personas (the ceiling learns
    nothing across viewers, so personas are independent units)."""
    parts = m.parts[key].within(m.groups[group])
    keep = parts.den > 0
    num, den = parts.num[keep], parts.den[keep]
    draws = rng.integers(len(num), size=(RESAMPLES, len(num)))
    ratios = num[draws].sum(axis=1) / den[draws].sum(axis=1)
    low, high = np.percentile(ratios, [2.5, 97.5])
    return parts.value, float(low), float(high)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="40 personas, 1 seed")
    parser.add_argument("--users", type=int, default=None)
    parser.add_argument("--seeds", type=int, default=None)
    parser.add_argument("--sessions", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--ceiling-only", action="store_true", help="only the learning ceiling")
    parser.add_argument("--config", default=None, help="a ranking TOML for the engine arm")
    parser.add_argument(
        "--engine-only",
        action="store_true",
        help="the engine arm and the scripted viewer's steady mean alone (under a minute)",
    )
    parser.add_argument(
        "--world", type=Path, default=None, help="another world file [the 20k benchmark world]"
    )
    parser.add_argument(
        "--save", type=Path, default=None, help="with --engine-only: keep its per-persona figures"
    )
    parser.add_argument(
        "--against",
        type=Path,
        default=None,
        help="with --engine-only: this run minus a --save'd one of the same personas",
    )
    args = parser.parse_args()
    if (args.save or args.against) and not args.engine_only:
        parser.error("--save and --against go with --engine-only")
    if args.against is not None and not args.against.is_file():
        parser.error(f"--against: no such file: {args.against}")
    engine = load_config(args.config)
    users = args.users or (40 if args.quick else 200)
    seeds = args.seeds or (1 if args.quick else 3)
    print(machine())
    print(f"at start: {load_now()}", flush=True)
    path = args.world or world(20_000)
    if args.engine_only:
        spec = RunSpec(
            db_path=path,
            users=users,
            sessions=args.sessions,
            replicates=seeds,
            jobs=args.jobs,
            log=False,
        )
        engine_only(spec, engine, args.save, args.against)
        print(f"at end: {load_now()}")
        return
    if not args.ceiling_only:
        learning(path, users, seeds, args.sessions, args.jobs, engine)
    label = (
        f"ceiling: {users} personas x {args.sessions} sessions x {seeds} seeds, "
        f"{len(CEILING_ARMS)} variants + random + oracle"
    )
    with measured(label, children=True, indent=""):
        bound = ceiling(path, users, seeds, args.sessions, args.jobs)
    print_ceiling(bound)
    print(f"at end: {load_now()}")


def engine_only(
    spec: RunSpec, engine: Config, save: Path | None = None, against: Path | None = None
) -> None:
    """The engine arm alone on the scoreboard's personas, and the scripted viewer's steady
    mean: what a ranking change moves, without the reference arms (placement needs random and
    the oracle: run the whole board for it, or place the watch time by theirs, which no engine
    change moves). ``save``: keep the per-persona figures; ``against``: print this run minus
    such a saved run (:func:`print_against`)."""
    label = (
        f"{spec.users} personas x {spec.sessions} sessions x {spec.replicates} seeds, engine arm"
    )
    with measured(label, children=True, indent=""):
        experiment = run_experiment(spec, [Arm("engine", engine)])
        run = compare(experiment, bootstrap=False)
    measures = run.measures["engine"]
    print("\nEngine arm by persona group:")
    for group in GROUPS:
        s = measures.summary(group)
        print(
            f"  {group or 'all':9s} watch/session {s['watch_per_session']:6.1f} s · loved 21-40 "
            f"{s['loved_share_21_40']:.3f} · watch/impression 1-10 {s['watch_1_10']:.1f} s, "
            f"41-80 {s['watch_41_80']:.1f} s (lift {s['watch_lift']:+.3f}) · new creators "
            f"{s['new_creator_share']:.3f}"
        )
    for action in ("complete", "like"):
        figures = measures.predictions["all"][action]
        if figures is not None:
            print(f"  P({action}): ECE {figures.ece:.4f} · AUC {figures.auc:.3f}")
    shard = shard_of_units(experiment)
    if save is not None:
        save_run(save, spec, measures, shard)
        print(f"  per-persona figures saved to {save}")
    if against is not None:
        print_against(against, spec, measures, shard)
    label = f"scripted viewer, engine, {len(STEADY_SEEDS)} pick seeds x {len(STEADY_STARTS)} starts"
    with measured(label, indent=""):
        steady = steady_scripted(spec.db_path, engine)
    print(f"  scripted viewer, no onboarding: mean {np.mean(steady):.3f} over seeds x starts")


SAVED = ("watch_per_session", "loved_share_21_40", "watch_1_10", "watch_41_80")


def _personas_of(spec: RunSpec) -> F64:
    """What makes two runs' personas the same ones, with the world (:func:`_world_of`):
    their seed and counts."""
    shape = [spec.seed, spec.users, spec.sessions, spec.replicates, spec.shard_size]
    return np.array(shape, dtype=float)


def _world_of(spec: RunSpec) -> str:
    """The world's content digest: another world of the same size is another world."""
    with Store.open(spec.db_path, check=False) as store:
        return store.content_hash()


def save_run(path: Path, spec: RunSpec, measures: Measures, shard: I64) -> None:
    """The engine arm's per-persona numerators and denominators, groups and shards."""
    arrays: dict[str, Any] = {
        "personas": _personas_of(spec),
        "world": np.array(_world_of(spec)),
        "shard": shard,
    }
    for key in SAVED:
        parts = measures.parts[key]
        arrays[f"{key}.num"], arrays[f"{key}.den"] = parts.num, parts.den
    for group in GROUPS[1:]:
        arrays[f"group.{group}"] = measures.groups[group]
    np.savez(path, **arrays)


def print_against(path: Path, spec: RunSpec, measures: Measures, shard: I64) -> None:
    """This run minus a saved one of the same personas, per group, with a 95% interval from
    the shard-clustered bootstrap (the units ``compare`` resamples)."""
    with np.load(path) as saved:
        same_world = "world" in saved.files and str(saved["world"]) == _world_of(spec)
        if not same_world or not np.array_equal(saved["personas"], _personas_of(spec)):
            raise SystemExit(
                f"--against {path}: saved for other personas (users, sessions, seeds, shard "
                "size or world differ; a file saved before 2026-12-08: save it again)"
            )
        before = {k: saved[k] for k in saved.files}
    rng = np.random.default_rng(0)
    print(f"\nThis run − {path.name} (95% interval, {RESAMPLES} shard resamples):")
    for group in GROUPS:
        within = np.ones(len(shard), bool) if group is None else measures.groups[group]
        cluster = np.unique(shard[within], return_inverse=True)[1].astype(np.int64)
        counts = cluster_resamples(int(cluster.max(initial=-1)) + 1, rng, RESAMPLES)
        cells = []
        for key in SAVED:
            was = (before[f"{key}.num"][within], before[f"{key}.den"][within])
            now = measures.parts[key].within(within)
            d = clustered_difference(was, (now.num, now.den), cluster, counts)
            low, high = d.interval()
            cells.append(f"{key} {d.point:+.3f} [{low:+.3f}, {high:+.3f}]")
        print(f"  {group or 'all':9s} " + " · ".join(cells))


def learning(path: Path, users: int, seeds: int, sessions: int, jobs: int, engine: Config) -> None:
    """Parts 1 and 2: the scripted viewer, then the personas under every arm."""
    if engine != Config():
        print(f"engine arm under {engine.name!r}: {msgspec.json.encode(engine).decode()}")
    with measured("scripted viewer, 6 pairs x 2 arms x 2", indent=""):
        shares = scripted(path, engine)
    print_scripted(shares)
    label = f"scripted viewer, engine, {len(STEADY_SEEDS)} pick seeds x {len(STEADY_STARTS)} starts"
    with measured(label, indent=""):
        steady = steady_scripted(path, engine)
    # One pick seed moves a pair's share by +-0.2: the engine's verdict is this mean's.
    each = " ".join(f"{v:.2f}" for v in steady)
    verdict = "met" if np.mean(steady) >= SCRIPTED_TARGET else "missed"
    print(
        f"  engine  no onboarding mean {np.mean(steady):.2f} over seeds x starts  [{each}]"
        f"  target >= {SCRIPTED_TARGET:.2f}: {verdict}"
    )
    print_dismissals(path, engine)
    label = f"{users} personas x {sessions} sessions x {seeds} seeds, 4 arms"
    with measured(label, children=True, indent=""):
        comparison = personas(path, users, seeds, sessions, jobs, engine)
    print_targets(comparison)
    print_split(comparison)


if __name__ == "__main__":
    main()
