"""How fast simulated viewers run, and where the time goes.

Counts two things per wall second of a whole run (engine opening and worker start-up
included): *impressions* (one ``Engine.next`` each) and *events* (one ``Engine.record`` each:
the closing skip/complete plus likes, shares, follows...; the rows ``events`` gets when logging).
The issue's target is >= 50k events/s on a 100k-video world with logging off (>= 10k/s with
logging on) on a 2-core machine. Run:

    python benchmarks/bench_sim.py            # ~3 minutes: every figure below
    python benchmarks/bench_sim.py --quick    # ~1 minute: fewer sizes
    python benchmarks/bench_sim.py --floors   # ~15 s: section 5 only
    python benchmarks/bench_sim.py --batched  # ~5 minutes: section 6 only
    python benchmarks/bench_sim.py --batched --million  # and section 6c on 1M videos too
    python benchmarks/bench_sim.py --split    # ~1 minute: section 6e only

It builds its worlds in a temporary folder (seed 7), and prints:
1. throughput at 20k and 100k videos, logging off/on, 1 and 2 jobs, and a longer run at 100k;
2. how the cost per impression grows with the catalog (5k..100k videos);
3. how the run time grows with the number of personas;
4. a profile of one shard, grouped by stage;
5. floors: against the per-event budget the target implies (cores / 50k events per second),
   what a pick costs at the least through today's per-viewer facade (``Engine.next`` and
   ``Engine.record`` with ranking replaced by a constant; the ~250 numpy calls one pick
   makes), what its retrieval costs, and a few core kernels of a batched multi-viewer form;
6. the batched path (issue 15): ``Engine.next_many`` per viewer against ``Engine.next`` on
   equal engines, events/s of the lockstep simulator with logging off and on (2 jobs, 100k
   videos), how it scales with the batch (the shard size: 1, 16, 64, 256 personas per engine)
   and with the catalogue (20k, 100k), ``foryou compare`` of 2 configs × 200 personas ×
   3 seeds without references (the CLI, whole wall time), and where an event's time goes
   (the pick, the rest of ``next_many``, reactions, record, session ends, the rest of the
   round loop, and outside it), logging off and on.

Shards hold 16 personas; 64 personas make 4 shards, so two jobs get equal halves.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import numpy as np
import numpy.typing as npt
from sqlite_utils import Database

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import Measurement, machine, measured, ratio, worst_load_warning
from engine import kernels
from engine.api import Engine
from engine.catalog import Catalog
from engine.clock import VirtualClock
from engine.pipeline import Decision
from engine.sim import runner
from engine.sim.baselines import builtin_arm
from engine.sim.experiment import ArmRun, RunSpec, run_experiment
from engine.sim.persona import Persona
from engine.store.world_io import load_world
from seed.build import build_world

EPOCH = 1_790_000_000.0
STAGES = {  # profile rows (file fragment, function) grouped into the stages a reader knows
    # The lockstep run picks through Engine.next_many: the batched forms of each stage.
    "candidates (embedding scan, sources)": [("candidates.py", "gather_many")],
    "filters": [("filters.py", "apply_filters_many")],
    "scoring (engine scores, the scorer's read)": [
        ("policy.py", "score_candidates"),
        ("policy.py", "_final"),
    ],
    "re-rank + pick (+ receipt drafts)": [("pipeline.py", "decide_many")],
    "receipts written (logging on)": [("pipeline.py", "write_receipts")],
    "trending/pools refresh": [("api.py", "_refresh_shared")],
    "video description (caption read)": [("video.py", "describe_many")],
    "record (profile update, writes)": [("api.py", "record")],
    "impression write": [("api.py", "_log_impression")],
    "persona (watch model)": [("persona.py", "react")],
}


def world(folder: Path, videos: int) -> Path:
    path = folder / f"world-{videos}.db"
    if not path.exists():
        build_world(path, videos=videos, seed=7, epoch_unix=EPOCH)
    return path


def run(
    db: Path, *, users: int, sessions: int, jobs: int, log: bool, shard_size: int = 16
) -> tuple[ArmRun, Measurement]:
    """One engine arm on a fresh copy of the world (logging must not accumulate), with the CPU
    of this process and of its finished workers, and the load around it."""
    copy = db.with_name(f"run-{db.name}")
    shutil.copy(db, copy)
    spec = RunSpec(
        db_path=copy,
        users=users,
        sessions=sessions,
        seed=1,
        jobs=jobs,
        log=log,
        shard_size=shard_size,
    )
    try:
        with measured("run", children=True, echo=False) as measurement:
            arm = run_experiment(spec, [builtin_arm("engine")]).runs["engine"]
        return arm, measurement
    finally:
        copy.unlink()


CPU_LOAD_HEADER = f"{'cpu/wall':>8} {'load':>12}"


def cpu_load(measurement: Measurement) -> str:
    """The table columns every timed row ends with: CPU per wall second, load before → after."""
    return f"{measurement.cpu_share:>8.2f} {measurement.load():>12}"


def warn(measurements: list[Measurement]) -> None:
    if warning := worst_load_warning(measurements):
        print(warning)


def throughput(folder: Path, sizes: list[int], users: int, long_users: int) -> None:
    print("\n1. Throughput (engine arm, whole-run wall time)")
    header = ("videos", "personas", "log", "jobs", "impr.", "events", "impr/s", "events/s")
    widths = (8, 8, 4, 4, 7, 7, 8, 9)
    print(" ".join(f"{h:>{w}}" for h, w in zip(header, widths, strict=True)), CPU_LOAD_HEADER)
    measurements = []
    runs = [
        (videos, users, log, jobs) for videos in sizes for log in (False, True) for jobs in (1, 2)
    ]
    # A longer run at the largest size: worker start-up and world loading weigh less.
    runs += [(sizes[-1], long_users, log, 2) for log in (False, True)]
    for videos, personas, log, jobs in runs:
        r, measurement = run(world(folder, videos), users=personas, sessions=2, jobs=jobs, log=log)
        measurements.append(measurement)
        print(
            f"{videos:>8,} {personas:>8} {'on' if log else 'off':>4} {jobs:>4} "
            f"{r.impressions:>7,} {r.events:>7,} {r.impressions / r.wall_s:>8,.0f} "
            f"{r.events / r.wall_s:>9,.0f} {cpu_load(measurement)}"
        )
    warn(measurements)


def catalog_growth(folder: Path, sizes: list[int]) -> None:
    print("\n2. Cost per impression vs catalog size (1 job, logging off, inside the loop)")
    print(f"{'videos':>8} {'ms/impression':>14} {'events/s':>9}", CPU_LOAD_HEADER, "(whole run)")
    measurements = []
    for videos in sizes:
        r, measurement = run(world(folder, videos), users=16, sessions=2, jobs=1, log=False)
        measurements.append(measurement)
        ms = 1000 * r.engine_s / r.impressions
        print(f"{videos:>8,} {ms:>14.2f} {r.events / r.engine_s:>9,.0f} {cpu_load(measurement)}")
    warn(measurements)


def user_growth(folder: Path, counts: list[int]) -> None:
    print("\n3. Run time vs personas (20k videos, 2 sessions, 1 job, logging off)")
    print(
        f"{'personas':>8} {'impressions':>11} {'wall s':>7} {'ms/impression':>14}", CPU_LOAD_HEADER
    )
    db = world(folder, 20_000)
    measurements = []
    for users in counts:
        r, measurement = run(db, users=users, sessions=2, jobs=1, log=False)
        measurements.append(measurement)
        ms = 1000 * r.wall_s / r.impressions
        print(
            f"{users:>8} {r.impressions:>11,} {r.wall_s:>7.1f} {ms:>14.2f} {cpu_load(measurement)}"
        )
    warn(measurements)


def profile(folder: Path, videos: int, log: bool) -> None:
    print(f"\n4. Where the time goes ({videos:,} videos, logging {'on' if log else 'off'}, 1 job)")
    db = world(folder, videos)
    profiler = cProfile.Profile()
    profiler.enable()
    r, measurement = run(db, users=16, sessions=2, jobs=1, log=log)
    profiler.disable()
    measurement.label = "profiled run"
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    total = r.engine_s
    print(f"{'stage':<44} {'ms/impression':>14} {'share':>6}")
    for stage, keys in STAGES.items():
        rows = [
            row[3]
            for (file, _, name), row in stats.items()
            if any(file.endswith(f) and name == fn for f, fn in keys)
        ]
        if not rows:  # a renamed function must not pass for a free stage
            print(f"{stage:<44} {'not run':>14}")
            continue
        seconds = sum(rows)
        print(f"{stage:<44} {1000 * seconds / r.impressions:>14.3f} {seconds / total:>6.0%}")
    print(f"{'total inside the loop (profiled)':<44} {1000 * total / r.impressions:>14.3f}")
    print(measurement.report())


TARGET_EVENTS_S = 50_000
NUMPY_CALLS_PER_PICK = 250  # counted with cProfile over a 100k-video run: ~246
INTEREST_K = 140  # the interest source's own top-k under the default quotas


@dataclass(frozen=True)
class PerCall:
    """Wall microseconds per call, and the CPU seconds per wall second behind them."""

    us: float
    cpu_share: float

    def scaled(self, factor: float) -> PerCall:
        return PerCall(self.us * factor, self.cpu_share)


def _per_call_us(fn: Callable[[], object], repeat: int) -> PerCall:
    fn()
    started, cpu = time.perf_counter(), time.process_time()
    for _ in range(repeat):
        fn()
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    return PerCall(1e6 * wall / repeat, cpu / wall)


def _total(parts: list[PerCall]) -> PerCall:
    us = sum(part.us for part in parts)
    return PerCall(us, sum(part.us * part.cpu_share for part in parts) / us)


def floors(folder: Path, videos: int) -> None:
    """The cheapest forms of work every pick does today, timed alone."""
    print(f"\n5. Floors per pick ({videos:,} videos, one thread)")
    with measured("floors", indent=""):
        _floors(folder, videos)


def _floors(folder: Path, videos: int) -> None:
    budget = 1e6 * (os.cpu_count() or 1) / TARGET_EVENTS_S
    print(
        f"per-event budget at {TARGET_EVENTS_S:,} events/s on {os.cpu_count()} cores: "
        f"{budget:.0f} us"
    )
    catalog = Catalog(load_world(Database(world(folder, videos)), captions=False))
    emb = catalog.embedding
    rng = np.random.default_rng(0)
    topics = catalog.world.topics.centroid
    # Viewers with one interest (a topic's centroid) and with two (the mean of two).
    one = [t.astype(np.float32) / np.linalg.norm(t) for t in topics]
    queries = [
        (q / np.linalg.norm(q)).astype(np.float32)
        for q in (topics[a] + topics[b] for a, b in rng.integers(0, len(topics), (50, 2)))
    ]
    none = np.zeros(0, dtype=np.int64)
    small = rng.random(300)
    scan = _per_call_us(lambda: np.argpartition(emb @ queries[0], -INTEREST_K)[-INTEREST_K:], 50)
    one_viewer = _per_call_us(lambda: emb @ queries[0], 50)
    focused, blended = iter(one * 100), iter(queries * 100)
    pruned_one = _per_call_us(lambda: catalog.index.search(next(focused), INTEREST_K, none), 200)
    pruned = _per_call_us(lambda: catalog.index.search(next(blended), INTEREST_K, none), 200)
    batch = np.stack(queries[:32], axis=1)
    gemm = _per_call_us(lambda: emb @ batch, 10).scaled(1 / batch.shape[1])
    generator = _per_call_us(
        lambda: np.random.default_rng(np.random.SeedSequence(7, spawn_key=(123, 4))), 2000
    )
    rows = [
        ("exact top-k, full scan, one viewer", scan),
        ("exact top-k, topic-pruned, one interest", pruned_one),
        ("exact top-k, topic-pruned, two interests", pruned),
        ("similarities only, one viewer (matrix @ vector)", one_viewer),
        ("similarities only, 32 viewers in one GEMM", gemm),
        ("the pick's seeded Generator, created", generator),
        ("Engine.next + record, ranking replaced by a constant", _facade_us(folder, videos)),
        (
            f"{NUMPY_CALLS_PER_PICK} numpy calls on 300 elements (a pick makes ~that many)",
            _per_call_us(lambda: small * 1.5, 20000).scaled(NUMPY_CALLS_PER_PICK),
        ),
    ]
    _print_floors(rows, budget)
    print(
        "similarities per viewer, batched vs alone (same run): "
        + ratio("32 in one GEMM", gemm.us, "one viewer", one_viewer.us, "us")
    )
    kernels = _batched_kernels_us(catalog, rng)
    print(
        f"\nA batched pipeline's core kernels, {BATCH_VIEWERS} viewers x {BATCH_CANDIDATES} "
        "candidates per numpy call (the engine's ~300 candidates per pick):"
    )
    _print_floors([*kernels, ("sum of these kernels", _total([k for _, k in kernels]))], budget)


def _print_floors(rows: list[tuple[str, PerCall]], budget: float) -> None:
    print(f"{'work':<60} {'us/pick':>8} {'x budget':>9} {'cpu/wall':>8}")
    for name, cost in rows:
        print(f"{name:<60} {cost.us:>8.1f} {cost.us / budget:>9.1f} {cost.cpu_share:>8.2f}")


def _facade_us(folder: Path, videos: int) -> PerCall:
    """What a persona's pick costs through the facade when ranking costs nothing.

    Everything of ``Engine.next`` and ``Engine.record`` runs (state, seeded generator, video
    description, profile update, live counters) except the policy's ``pick_many``, which
    returns the next video id in turn: the floor of the per-call contract the simulator drives.
    """
    clock = VirtualClock(EPOCH + 30 * 86400.0)
    with Engine.open(world(folder, videos), clock=clock, log=False) as engine:
        user = engine.new_user(interests=engine.topics()[:1], pick_seed=1)
        template = engine.next(user).receipt
        picks = iter(range(videos))

        def constant(*_: object) -> Decision:
            return Decision(next(picks), "interest", 1.0, 0, 1.0, template)

        def one_pick() -> None:
            clock.advance(10.0)
            rec = engine.next(user)
            engine.record(user, rec.video.id, "skip", watched_s=1.5)

        def pick_many(requests: object) -> list[Decision]:
            return [constant()]

        with mock.patch.object(engine.policy, "pick_many", pick_many):
            return _per_call_us(one_pick, 5000)


BATCH_VIEWERS = 512
BATCH_CANDIDATES = 300


def _dedupe(rows: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
    ordered = np.sort(rows, axis=1)
    first: npt.NDArray[np.bool_] = np.ones(ordered.shape, dtype=bool)
    first[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    return first


def _batched_kernels_us(catalog: Catalog, rng: np.random.Generator) -> list[tuple[str, PerCall]]:
    """A few array operations any batched form of today's pick must still do, per viewer."""
    n, b = catalog.n, BATCH_VIEWERS
    videos = catalog.world.videos
    columns: list[npt.NDArray[np.generic]] = [
        videos.topic_id,
        videos.creator_id,
        videos.sound_id,
        videos.language,
        videos.country,
        videos.published_at,
        videos.duration_s,
        videos.spam,
        videos.sensitive,
        catalog.dup_root,
    ]
    queries = catalog.embedding[rng.integers(0, n, b)]
    candidates = rng.integers(0, n, (b, BATCH_CANDIDATES))
    flat = candidates.ravel()
    keys = (np.arange(b)[:, None] * n + candidates).ravel()  # viewer-keyed, for one search
    seen = np.sort((np.arange(b)[:, None] * n + rng.integers(0, n, (b, 60))).ravel())
    values = rng.random(len(flat))

    def per_viewer(fn: Callable[[], object]) -> PerCall:
        return _per_call_us(fn, 5).scaled(1 / b)

    return [
        (
            "similarity (gather embeddings, row dot)",
            per_viewer(lambda: np.einsum("bcd,bd->bc", catalog.embedding[candidates], queries)),
        ),
        ("merge sources (sort each row, drop repeats)", per_viewer(lambda: _dedupe(candidates))),
        ("already seen (one searchsorted)", per_viewer(lambda: np.searchsorted(seen, keys))),
        ("10 per-video columns gathered", per_viewer(lambda: [c[flat] for c in columns])),
        (
            "40 element-wise feature/score ops",
            per_viewer(lambda: [values * 1.5 for _ in range(40)]),
        ),
        (
            "slate order (argsort per viewer)",
            per_viewer(lambda: np.argsort(-values.reshape(b, -1), axis=1)),
        ),
    ]


MILLION_BATCHES = (16, 256)  # a 1M world takes ~20-100 s to build: two batch sizes show the trend


def batched(folder: Path, million: bool = False) -> None:
    print("\n6. The batched path (issue 15)")
    _next_many_vs_next(world(folder, 100_000))
    print("\n6b. Lockstep simulator, 100k videos, 256 personas x 2 sessions, 2 jobs (whole run)")
    print("    (ev/cpu-s: events per CPU second of the run and its workers, which a busy machine")
    print("    leaves comparable; two idle cores give up to twice that per wall second)")
    print(f"{'log':>4} {'impr.':>7} {'events':>7} {'events/s':>9} {'ev/cpu-s':>9}", CPU_LOAD_HEADER)
    measurements = []
    for log in (False, True):
        r, m = run(world(folder, 100_000), users=256, sessions=2, jobs=2, log=log)
        measurements.append(m)
        print(
            f"{'on' if log else 'off':>4} {r.impressions:>7,} {r.events:>7,} "
            f"{r.events / r.wall_s:>9,.0f} {r.events / m.cpu_s:>9,.0f} {cpu_load(m)}"
        )
    warn(measurements)
    print("\n6c. Events/s by batch (shard) size and catalogue (256 personas x 2 sessions, 1 job,")
    print("    logging off; 'loop' counts only the shards' loops, 'run' the whole wall time)")
    print(
        f"{'videos':>8} {'batch':>5} {'loop ev/s':>9} {'run ev/s':>9} {'ev/cpu-s':>9}",
        CPU_LOAD_HEADER,
    )
    measurements = []
    sizes = [(v, b) for v in (20_000, 100_000) for b in (1, 16, 64, 256)]
    sizes += [(1_000_000, b) for b in MILLION_BATCHES] if million else []
    for videos, size in sizes:
        r, m = run(world(folder, videos), users=256, sessions=2, jobs=1, log=False, shard_size=size)
        measurements.append(m)
        print(
            f"{videos:>8,} {size:>5} {r.events / r.engine_s:>9,.0f} "
            f"{r.events / r.wall_s:>9,.0f} {r.events / m.cpu_s:>9,.0f} {cpu_load(m)}"
        )
    warn(measurements)
    _compare_wall(folder)
    split(folder)


# Where an event's time goes in the lockstep run: (label, owner, method), timed around each call.
# "pick" is the policy's batched pick; "serve" the rest of next_many (captions, impressions,
# and with logging the receipts and their rows); "session ends" includes the profile snapshot.
SPLIT = (
    ("pick (policy.pick_many)", Engine, "_pick_batch"),
    ("next_many", Engine, "next_many"),
    ("reactions (Persona.react)", Persona, "react"),
    ("record (Engine.record_many)", Engine, "record_many"),
    ("session ends (Engine.end_session)", Engine, "end_session"),
    ("shard loop", runner, "_drive"),
)


def split(folder: Path) -> None:
    """The time per event of each part of the lockstep run (1 job, 64 personas x 2 sessions,
    shards of 16), timed around the calls without a profiler (which inflates Python-heavy
    parts more than numpy-heavy ones); logging off and on."""
    db = world(folder, 100_000)
    print("\n6e. Where an event's time goes, 100k videos, 64 personas x 2 sessions, 1 job")
    print(f"{'part':<36} {'off ms/ev':>9} {'share':>6} {'on ms/ev':>9} {'share':>6}")
    rows: dict[str, list[tuple[float, float]]] = {}
    measurements = []
    for log in (False, True):
        seconds: dict[str, float] = dict.fromkeys([label for label, _, _ in SPLIT], 0.0)
        with _timed_parts(seconds):
            r, m = run(db, users=64, sessions=2, jobs=1, log=log)
        measurements.append(m)
        parts = {
            "pick (policy.pick_many)": seconds["pick (policy.pick_many)"],
            "serve (rest of next_many)": seconds["next_many"] - seconds["pick (policy.pick_many)"],
            "reactions (Persona.react)": seconds["reactions (Persona.react)"],
            "record (Engine.record_many)": seconds["record (Engine.record_many)"],
            "session ends (Engine.end_session)": seconds["session ends (Engine.end_session)"],
        }
        parts["rest of the round loop"] = seconds["shard loop"] - sum(parts.values())
        parts["outside the loop (start-up, results)"] = r.wall_s - seconds["shard loop"]
        for label, value in parts.items():
            rows.setdefault(label, []).append((1e3 * value / r.events, value / r.wall_s))
    for label, ((off, off_share), (on, on_share)) in rows.items():
        print(f"{label:<36} {off:>9.3f} {off_share:>6.0%} {on:>9.3f} {on_share:>6.0%}")
    for m in measurements:
        print(m.report("    "))
    warn(measurements)


@contextmanager
def _timed_parts(seconds: dict[str, float]) -> Iterator[None]:
    """Add the wall time of every call of each :data:`SPLIT` method to ``seconds``."""
    with ExitStack() as patches:
        for label, owner, name in SPLIT:
            patches.enter_context(
                mock.patch.object(owner, name, _timer(getattr(owner, name), label, seconds))
            )
        yield


def _timer(
    method: Callable[..., object], label: str, seconds: dict[str, float]
) -> Callable[..., object]:
    def timed(*args: object, **kwargs: object) -> object:
        started = time.perf_counter()
        try:
            return method(*args, **kwargs)
        finally:
            seconds[label] += time.perf_counter() - started

    return timed


def _next_many_vs_next(db: Path, viewers: int = 64, rounds: int = 10) -> None:
    """Per-viewer cost of one batched pick against one pick at a time, on two engines driven
    through the same picks and reactions (so each round's states are equal)."""
    import numpy as np

    engines = [Engine.open(db, clock=VirtualClock(EPOCH_OFFSET_S), log=False) for _ in range(2)]
    try:
        users = []
        for engine in engines:
            topics = engine.topics()
            users.append(
                [
                    engine.new_user(topics[k % 39 : k % 39 + 1] if k % 2 else [], pick_seed=k)
                    for k in range(viewers)
                ]
            )
        seconds = {"next_many": 0.0, "next": 0.0}
        cpu = {"next_many": 0.0, "next": 0.0}
        kernels.load()  # numba's one-off import (when installed) is no pick's: next() uses them too
        with measured("6a", echo=False) as measurement:
            for round_ in range(rounds):
                started, c = time.perf_counter(), time.process_time()
                many = engines[0].next_many(users[0])
                seconds["next_many"] += time.perf_counter() - started
                cpu["next_many"] += time.process_time() - c
                started, c = time.perf_counter(), time.process_time()
                one = [engines[1].next(u) for u in users[1]]
                seconds["next"] += time.perf_counter() - started
                cpu["next"] += time.process_time() - c
                assert [r.video.id for r in many] == [r.video.id for r in one]
                for engine, ids, recs in (
                    (engines[0], users[0], many),
                    (engines[1], users[1], one),
                ):
                    rng = np.random.default_rng(round_)
                    engine.record_many(
                        (
                            u,
                            r.video.id,
                            "complete" if rng.random() < 0.4 else "skip",
                            {"watched_s": 5.0},
                        )
                        for u, r in zip(ids, recs, strict=True)
                    )
                    engine.clock.advance(15.0)  # type: ignore[attr-defined]
    finally:
        for engine in engines:
            engine.close()
    picks = viewers * rounds
    print(
        f"6a. next_many({viewers}) per viewer vs next() one at a time, 100k videos, "
        f"{picks} picks each:"
    )
    batched_ms, alone_ms = 1e3 * seconds["next_many"] / picks, 1e3 * seconds["next"] / picks
    print("    " + ratio("next_many per viewer", batched_ms, "next()", alone_ms))
    print(
        f"    cpu per pick: next_many {1e3 * cpu['next_many'] / picks:.2f} ms, "
        f"next {1e3 * cpu['next'] / picks:.2f} ms; same picks: yes"
    )
    print(measurement.report("    "))


EPOCH_OFFSET_S = 3600.0


def _compare_wall(folder: Path) -> None:
    """`foryou compare` of two configs, 200 personas x 3 seeds (3 sessions), 2 jobs, no
    references, on a 20k world: the whole command, statistics and report included."""
    import subprocess

    db = world(folder, 20_000)
    variant = folder / "explore.toml"
    variant.write_text("[rerank]\nexplore_share = 0.2\n")
    command = [
        sys.executable,
        "-m",
        "tui",
        "--db",
        str(db),
        "compare",
        "engine",
        str(variant),
        "--users",
        "200",
        "--seeds",
        "3",
        "--no-baselines",
        "--jobs",
        "2",
        "--out",
        str(folder / "compare"),
    ]
    print("\n6d. foryou compare engine explore.toml --users 200 --seeds 3 --no-baselines --jobs 2")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    with measured("    compare (20k videos, 3 sessions)", children=True, indent="") as m:
        done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode:
        print(done.stdout[-2000:], done.stderr[-2000:])
    del m


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer sizes, fewer personas")
    parser.add_argument("--floors", action="store_true", help="only section 5 (~15 s)")
    parser.add_argument("--batched", action="store_true", help="only section 6 (~5 minutes)")
    parser.add_argument("--split", action="store_true", help="only section 6e (~1 minute)")
    parser.add_argument(
        "--million", action="store_true", help="section 6c also on a 1M world (+5-8 minutes)"
    )
    parser.add_argument(
        "--numpy", action="store_true", help="keep every pick on the numpy path (no kernels)"
    )
    args = parser.parse_args()
    print(machine())
    if args.numpy:  # read by this process and by the workers it spawns
        os.environ[kernels.ENV] = "numpy"
    # Batched picks load the compiled kernels (engine.kernels) when numba is installed.
    print(f"batched picks: {'kernels' if kernels.available() else 'numpy'} path")
    folder = Path(tempfile.mkdtemp(prefix="foryou-bench-"))
    try:
        if args.floors:
            floors(folder, 100_000)
            return
        if args.batched:
            batched(folder, million=args.million)
            return
        if args.split:
            split(folder)
            return
        throughput(
            folder,
            [20_000, 100_000],
            users=32 if args.quick else 64,
            long_users=64 if args.quick else 256,
        )
        catalog_growth(
            folder, [5_000, 20_000, 100_000] if args.quick else [5_000, 20_000, 50_000, 100_000]
        )
        user_growth(folder, [8, 32] if args.quick else [8, 32, 128])
        profile(folder, 100_000, log=False)
        profile(folder, 100_000, log=True)
        floors(folder, 100_000)
        batched(folder, million=args.million)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
