"""One shard of personas watching through one engine, in virtual time, in lockstep rounds.

A shard is a fixed group of personas sharing an engine (and so its live engagement, trends and
test pools), the way viewers of one world share it. Each persona has its own next moment in
world time, moved by the seconds it watched or by a gap between sessions when it leaves. The
shard advances in rounds: every persona still watching takes one step, in the order of its
moment (then its number): one batched pick for all (``Engine.next_many``, each at its own
moment), the personas' reactions, one batched record (``Engine.record_many``, each persona's
events at its moment). The order is fixed by the seeds, so a shard's result never depends on
which process runs it; how it differs from the discrete-event order used before is in
engine/sim/README.md ("Rounds").
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from engine import kernels
from engine.api import Engine
from engine.clock import VirtualClock
from engine.config import Config
from engine.pipeline import NothingToRecommendError
from engine.policy import PolicySpec
from engine.pools import OUTSIDE
from engine.recorder import recorder_for
from engine.sim.persona import Persona, Reaction, Taste
from engine.sim.snapshot import StartState, shared_world
from engine.sim.trace import (
    NO_NEGATIVE,
    NO_PREDICTION,
    PREDICTED,
    SCOPE_CODE,
    SOURCE_CODE,
    TRACE_DTYPE,
    Population,
    Trace,
)
from engine.sim.watch import SWIPE_S, Behaviour
from engine.sources import NO_CODE
from engine.store import Store
from engine.video import Recommendation

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Arm:
    """One ranking setup under test: an engine config and the policy that picks with it."""

    name: str
    config: Config
    policy: PolicySpec | None = None  # None: the config's policy name
    log: bool = True  # may write to the world file when the run logs (references do not)

    @property
    def spec(self) -> PolicySpec:
        return self.policy or PolicySpec(self.config.policy)

    @property
    def oracle(self) -> bool:
        """Whether this arm is the oracle reference (reports place arms under it)."""
        return self.spec.target == "oracle"


@runtime_checkable
class KnowsPersonas(Protocol):
    """A policy that reads the simulated viewers' truth (the oracle): each viewer's persona
    is attached to it as the viewer is created."""

    def attach(self, user_id: int, persona: Persona) -> None: ...


@dataclass(frozen=True)
class Seat:
    """A persona's place in a run: its truth, its seed, and its viewer id if already created."""

    unit: int
    taste: Taste
    seed: np.random.SeedSequence
    user_id: int | None = None


@dataclass(frozen=True)
class RunContext:
    """What every shard of a run shares: the world file and the state it started from."""

    db_path: Path
    start: StartState
    # The run logs and its parent has the file alone (engine.writers): the shards' engines are
    # the run's own and take no writer's share, which the parent's claim would refuse.
    logged: bool = False


@dataclass(frozen=True)
class ShardTask:
    shard: int
    arm: Arm
    seats: tuple[Seat, ...]
    sessions: int
    log: bool
    condition: str | None
    behaviour: Behaviour
    start_t: float
    # The learned model the shard's engine starts from, when the run fitted one for its arm on
    # the file's history (engine.sim.experiment.warm_models); None: the start state's.
    model: str | None = None


@dataclass(frozen=True, eq=False)
class ShardResult:
    shard: int
    trace: Trace
    population: Population
    pool_reach: I64  # videos that reached each test pool (index 0 = admitted)
    impressions: int
    events: int  # reactions recorded (closing events included)
    elapsed_s: float  # wall seconds spent driving the engine


def run_shard(task: ShardTask, context: RunContext) -> ShardResult:
    """Open an engine for the shard, let its personas watch, and collect what happened."""
    world = shared_world(context.db_path)
    # The parent process checked the file (quick_check) when it loaded the world.
    store = Store.open(context.db_path, check=False)
    clock = VirtualClock(task.start_t)
    try:
        engine = Engine(
            store,
            task.arm.config,
            clock=clock,
            recorder=recorder_for(store, log=task.log),
            start=context.start if task.model is None else replace(context.start, model=task.model),
            world=world,
            condition=task.condition,
            policy=task.arm.spec,  # built by the engine: each worker its own, recorded with it
            of_logged_run=context.logged,
        )
    except BaseException:
        store.close()
        raise
    if len(task.seats) > 1:  # batched picks: the kernels load here, outside the shard's loop
        kernels.load()
    try:
        return _drive(engine, clock, task)
    finally:
        engine.close()


@dataclass(eq=False)
class _Tally:
    """What a shard has seen so far, per persona and in all."""

    sessions: I64
    life: I64
    rows: list[tuple[object, ...]] = field(default_factory=list)
    events: int = 0


def watch(engine: Engine, clock: VirtualClock, task: ShardTask) -> ShardResult:
    """Let a shard's personas watch through an engine the caller opened and will close (a
    world's background viewers, :mod:`engine.sim.background`)."""
    return _drive(engine, clock, task)


def _drive(engine: Engine, clock: VirtualClock, task: ShardTask) -> ShardResult:
    world = engine.catalog.world
    personas = [Persona.draw(world, s.seed, task.behaviour, s.taste) for s in task.seats]
    users = [_viewer(engine, s, p) for s, p in zip(task.seats, personas, strict=True)]
    tally = _Tally(np.zeros(len(personas), np.int64), np.zeros(len(personas), np.int64))
    due: dict[int, float] = {k: task.start_t + p.first_arrival_s() for k, p in enumerate(personas)}
    started = time.perf_counter()
    while due:
        # A round: every persona still watching, in the order of its own moment.
        active = sorted(due, key=lambda k: (due[k], k))
        picks = _pick_round(engine, personas, users, active, due)
        depths = [personas[k].depth for k, _ in picks]
        reactions = [personas[k].react(rec.video.id) for k, rec in picks]
        with engine.batch():  # when logging, one transaction: the events, the sessions ended
            engine.record_many(_round_events(clock, users, picks, reactions, due))
            for (k, rec), reaction, depth in zip(picks, reactions, depths, strict=True):
                place = (k, depth, due[k])
                then = _after(engine, personas[k], users[k], task, place, rec, reaction, tally)
                if then is None:
                    del due[k]
                else:
                    due[k] = then
    elapsed = time.perf_counter() - started
    return ShardResult(
        shard=task.shard,
        trace=np.array(tally.rows, dtype=TRACE_DTYPE),
        population=_population(engine, personas, users, tally.sessions),
        pool_reach=_pool_reach(engine),
        impressions=len(tally.rows),
        events=tally.events,
        elapsed_s=elapsed,
    )


def _pick_round(
    engine: Engine,
    personas: list[Persona],
    users: list[int],
    active: list[int],
    due: dict[int, float],
) -> list[tuple[int, Recommendation]]:
    """One batched pick for every active persona, each at its own moment; a persona with
    nothing left to watch ends there and the others are picked for again."""
    for k in active:
        if not personas[k].in_session:
            personas[k].start_session()  # before the pick: the oracle reads the session's mood
    while active:
        try:
            recs = engine.next_many([users[k] for k in active], at=[due[k] for k in active])
        except NothingToRecommendError as empty:
            who = [users[j] for j in active]
            if empty.user_id not in who:
                raise
            k = active[who.index(empty.user_id)]
            engine.end_session(users[k])
            personas[k].end_session()
            del due[k]
            active = [j for j in active if j != k]
            continue
        return list(zip(active, recs, strict=True))
    return []


def _round_events(
    clock: VirtualClock,
    users: list[int],
    picks: list[tuple[int, Recommendation]],
    reactions: list[Reaction],
    due: dict[int, float],
) -> Iterator[tuple[int, int, str, Mapping[str, Any]]]:
    """The round's reactions for one batched record, each persona's at its own moment: the
    clock is moved as the engine takes each persona's first event."""
    for (k, rec), reaction in zip(picks, reactions, strict=True):
        clock.now = due[k]
        for kind, kwargs in reaction.actions:
            yield users[k], rec.video.id, kind, kwargs


def _after(
    engine: Engine,
    persona: Persona,
    user_id: int,
    task: ShardTask,
    at: tuple[int, int, float],
    rec: Recommendation,
    reaction: Reaction,
    tally: _Tally,
) -> float | None:
    """Tally the viewing of persona ``k`` at depth ``depth`` and moment ``now`` (``at``);
    returns when it acts next (None: it is done)."""
    k, depth, now = at
    tally.events += len(reaction.actions)
    place = (task.seats[k].unit, int(tally.sessions[k]), depth, int(tally.life[k]), now)
    tally.rows.append(_row(place, rec.source, reaction, rec.predicted))
    tally.life[k] += 1
    then = now + reaction.watched_s + SWIPE_S
    if not reaction.leaves:
        return then
    engine.end_session(user_id)
    persona.end_session()
    tally.sessions[k] += 1
    return then + persona.session_gap_s() if tally.sessions[k] < task.sessions else None


def _viewer(engine: Engine, seat: Seat, persona: Persona) -> int:
    user_id = seat.user_id
    if user_id is None:
        user_id = engine.new_user(
            **persona.sign_up(), name=f"sim-{seat.unit:06d}", pick_seed=seat.unit
        )
    if isinstance(engine.policy, KnowsPersonas):
        engine.policy.attach(user_id, persona)
    return user_id


def _row(
    place: tuple[int, int, int, int, float],
    source: str,
    reaction: Reaction,
    predicted: dict[str, float],
) -> tuple[object, ...]:
    """One trace row; ``place`` is (unit, session, depth, life, world_t)."""
    kinds = dict(reaction.actions)
    negative = kinds.get("not_interested")
    return (
        *place[:4],
        reaction.video_id,
        place[4],
        reaction.watched_s,
        reaction.hooked,
        reaction.completed,
        "like" in kinds,
        "share" in kinds,
        "save" in kinds,
        "comment" in kinds,
        "follow" in kinds,
        "rewatch" in kinds,
        NO_NEGATIVE if negative is None else SCOPE_CODE[str(negative["scope"])],
        "report" in kinds,
        SOURCE_CODE.get(source, NO_CODE),
        reaction.appeal,
        *_predicted(predicted),
    )


def _predicted(predicted: dict[str, float]) -> list[float]:
    """The pick's P(action) (:attr:`Recommendation.predicted`), NO_PREDICTION where the
    policy predicted none (random, oracle: their receipts hold no such term)."""
    return [predicted.get(a, NO_PREDICTION) for a in PREDICTED]


def _population(
    engine: Engine, personas: list[Persona], users: list[int], sessions: I64
) -> Population:
    slugs = engine.topics()
    taste = np.stack([p.taste.topic for p in personas]) if personas else np.zeros((0, len(slugs)))
    loved = np.zeros(taste.shape, dtype=bool)
    accuracy = np.full(len(personas), np.nan)
    for k, (persona, user_id) in enumerate(zip(personas, users, strict=True)):
        loved[k, persona.taste.loved] = True
        affinity = engine.profile(user_id).topic_affinity
        believed = np.array([affinity.get(slug, 0.0) for slug in slugs])
        if np.ptp(believed) > 0:
            accuracy[k] = _spearman(believed, persona.taste.topic)
    onboarded = np.array([len(p.taste.onboarding) > 0 for p in personas], dtype=bool)
    return Population(
        taste=taste, loved=loved, accuracy=accuracy, sessions=sessions.copy(), onboarded=onboarded
    )


def _pool_reach(engine: Engine) -> I64:
    pools = engine.pools
    tested = pools.state != OUTSIDE
    return np.array(
        [int((tested & (pools.stage >= k)).sum()) for k in range(len(pools.sizes))],
        dtype=np.int64,
    )


def _spearman(a: F64, b: F64) -> float:
    """Spearman rank correlation: Pearson's of the average ranks, as ``scipy.stats.spearmanr``
    computes it (not imported: scipy.stats costs each worker process two seconds to load)."""
    ra, rb = _average_ranks(a), _average_ranks(b)
    ra, rb = ra - ra.mean(), rb - rb.mean()
    return float((ra @ rb) / np.sqrt((ra @ ra) * (rb @ rb)))


def _average_ranks(values: F64) -> F64:
    """1-based ranks, ties sharing the mean of their ranks (``scipy.stats.rankdata``)."""
    order = np.argsort(values, kind="mergesort")
    ordered = values[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    ends = np.r_[starts[1:], len(values)]
    mean_rank = (starts + ends + 1) / 2.0
    ranks = np.empty(len(values))
    ranks[order] = np.repeat(mean_rank, ends - starts)
    return ranks
