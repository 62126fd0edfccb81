"""Experiments: the same personas, seeds and start state under each arm, so arms can be paired.

A run has ``replicates`` independent populations of ``users`` personas. Persona *i* of replicate
*r* is seeded by ``SeedSequence(seed, spawn_key=(r, i))``, exactly the child that
``SeedSequence(seed).spawn(r + 1)[r].spawn(i + 1)[i]`` would give, so its truth and its
random streams are the same under every arm, in every process. Each replicate's personas are
cut into shards of ``shard_size`` in order; the shards, not the workers, define who shares an
engine, which is why ``jobs`` never changes a result.

Every arm starts from one :class:`StartState` read before the first arm runs, so arms that log
into the world file do not see each other's activity. A file with logged impressions but no
stored learned model is what an opening engine fits its model on (:mod:`engine.learned`'s warm
start); the run fits it too, once per arm before its shards start (:func:`warm_models`), so a
simulation starts from the model the feed would open with.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import numpy.typing as npt

from engine import writers
from engine.api import Engine
from engine.clock import VirtualClock
from engine.history import simulated_viewer_name
from engine.learned import WARM_START_LIMIT, fitted_on
from engine.sim.backends import Backend, RunBatch, ctrl_c_held, shard_runner
from engine.sim.persona import Taste, child, draw_taste, sign_up
from engine.sim.runner import Arm, RunContext, Seat, ShardResult, ShardTask
from engine.sim.snapshot import StartState, shared_world, take_start_state
from engine.sim.trace import Population, Trace, stack_populations
from engine.sim.watch import Behaviour
from engine.store import Store, StoreError
from engine.store.undo import RunMark
from engine.world import World

F64 = npt.NDArray[np.float64]
DEFAULT_SHARD_SIZE = 16
Progress = Callable[[str, float], None]  # (what is running, fraction of the experiment done)


@dataclass(frozen=True)
class RunSpec:
    """Who watches, for how long, with which seeds, and how the work is spread."""

    db_path: Path
    users: int
    sessions: int
    seed: int = 0
    replicates: int = 1
    jobs: int = 1
    log: bool = False
    backend: Backend = "process"
    shard_size: int = DEFAULT_SHARD_SIZE
    behaviour: Behaviour = field(default_factory=Behaviour)
    start_t: float = 0.0  # world time the run starts at (0 = when the world was built)

    def check(self) -> None:
        """Raises: ValueError naming the first field that makes no sense."""
        for name in ("users", "sessions", "replicates", "jobs", "shard_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.seed < 0:
            raise ValueError(f"seed must be >= 0, got {self.seed}")


@dataclass(frozen=True, eq=False)
class ArmRun:
    """Everything one arm produced, replicates stacked (unit = replicate · users + persona)."""

    arm: Arm
    trace: Trace
    population: Population
    pool_reach: F64  # mean over shards of the videos reaching each test pool
    impressions: int
    events: int
    engine_s: float  # wall seconds inside the shards' loops, summed over shards
    wall_s: float  # wall seconds for the whole arm, setup and workers included


@dataclass(frozen=True, eq=False)
class Experiment:
    spec: RunSpec
    runs: dict[str, ArmRun]  # by arm name, in the order run
    world: World


def persona_seed(seed: int, replicate: int, index: int) -> np.random.SeedSequence:
    return np.random.SeedSequence(seed, spawn_key=(replicate, index))


def draw_tastes(world: World, seed: int, replicate: int, users: int) -> list[Taste]:
    """The hidden truths of one replicate's personas (stream 0 of each persona's seed)."""
    return [
        draw_taste(world, np.random.default_rng(child(persona_seed(seed, replicate, i), 0)))
        for i in range(users)
    ]


def run_experiment(
    spec: RunSpec, arms: Sequence[Arm], progress: Progress | None = None
) -> Experiment:
    """Run every arm on the same personas and return what each produced.

    Raises:
        ValueError: a spec that makes no sense, or two arms with one name.
        BackendError: the backend cannot run.
        StoreError: the world file cannot be opened, or the run logs and another process
            writes the file (WorldInUseError; nothing is written).
    """
    spec.check()
    names = [arm.name for arm in arms]
    if len(set(names)) != len(names):
        raise ValueError(f"arm names must differ, got {names}")
    world = shared_world(spec.db_path)
    logs = spec.log and any(arm.log for arm in arms)
    # A logged run has the file alone from before it reads its start state until it finished
    # or was taken back: nobody else's writes are in the start state it runs from, or undone
    # with it (engine.store.undo).
    with writers.alone(Path(spec.db_path)) if logs else nullcontext():
        return _run_arms(spec, arms, world, logs, progress)


def _run_arms(
    spec: RunSpec, arms: Sequence[Arm], world: World, logs: bool, progress: Progress | None
) -> Experiment:
    window_h = max(arm.config.sources.trending_window_h for arm in arms)
    start = take_start_state(spec.db_path, spec.start_t - window_h * 3600.0)
    tastes = [draw_tastes(world, spec.seed, r, spec.users) for r in range(spec.replicates)]
    warm = warm_models(spec.db_path, arms, start)
    report = progress or (lambda what, done: None)
    runs: dict[str, ArmRun] = {}
    context = RunContext(db_path=spec.db_path, start=start, logged=logs)
    # One set of workers for every arm: each new pool paid for its processes' imports and
    # world loading again (about a second with two jobs). They have ended before a run that
    # did not finish is taken back (the undo comes last).
    with (
        _all_or_nothing(spec.db_path, logs) as viewers,
        shard_runner(context, jobs=spec.jobs, backend=spec.backend) as run,
    ):
        for a, arm in enumerate(arms):
            report(arm.name, a / len(arms))  # the bar names the arm running, not the last one

            def shard_done(done: int, total: int, a: int = a, name: str = arm.name) -> None:
                report(name, (a + done / total) / len(arms))

            runs[arm.name] = run_arm(
                spec, arm, world, tastes, run, shard_done, model=warm.get(arm.name), viewers=viewers
            )
    return Experiment(spec=spec, runs=runs, world=world)


@contextmanager
def _all_or_nothing(path: Path, logs: bool) -> Iterator[list[int]]:
    """The list the run adds its logged viewers to; if the block does not finish (an error,
    Ctrl+C), they and everything the run wrote are taken back out of the file
    (:class:`engine.store.undo.RunMark`), so a later evaluate or replay never reads half a run.
    The workers have ended by then (:func:`shard_runner`'s block is inside this one)."""
    viewers: list[int] = []
    if not logs:
        yield viewers
        return
    with Store.open(path, check=False) as store:  # checked as the run loaded the world
        mark = RunMark(store.db)
        try:
            yield viewers
        except BaseException as stopped:
            with ctrl_c_held():  # a second Ctrl+C must not stop the undo half-way
                _take_back(mark, viewers, stopped)
            raise
        mark.drop()


def _take_back(mark: RunMark, viewers: list[int], stopped: BaseException) -> None:
    """Undo the run, or say in one line both why it stopped and that its rows stayed."""
    try:
        mark.undo(viewers)
    except StoreError as failed:
        why = "interrupted" if isinstance(stopped, KeyboardInterrupt) else str(stopped)
        raise StoreError(f"the logged run stopped ({why}) and {failed}") from stopped


def warm_models(path: Path, arms: Sequence[Arm], start: StartState) -> dict[str, str]:
    """The learned model each learning arm's shards start from, by arm name: fitted on the
    file's logged impressions under the arm's config, as an engine opening the file would
    (none when the file stores a model, which every shard then loads, or logged nothing)."""
    if start.model is not None:
        return {}
    learning = [arm for arm in arms if getattr(arm.spec.build(), "learner", None) is not None]
    if not learning:
        return {}
    with Store.open(path, check=False) as store:  # checked as the run loaded the world
        rows = store.learning_history(WARM_START_LIMIT)
    if not rows:
        return {}
    return {arm.name: fitted_on(rows, arm.config)[0].to_json() for arm in learning}


def run_arm(
    spec: RunSpec,
    arm: Arm,
    world: World,
    tastes: list[list[Taste]],
    run: RunBatch,
    progress: Callable[[int, int], None] | None = None,
    *,
    model: str | None = None,
    viewers: list[int] | None = None,
) -> ArmRun:
    """Run one arm over every replicate's personas on ``run``'s workers
    (:func:`engine.sim.backends.shard_runner`); the logged viewers it creates are added to
    ``viewers``."""
    started = time.perf_counter()
    created = viewers if viewers is not None else []
    tasks = [replace(task, model=model) for task in _tasks(spec, arm, world, tastes, created)]
    results = run(tasks, progress)
    if len(tasks) > 1 and tasks[0].log:
        _forget_shard_models(spec.db_path)
    return _combine(arm, results, time.perf_counter() - started)


def _forget_shard_models(path: Path) -> None:
    """Each logging shard's engine stored the model it learned from its own personas at
    close, so the file would keep whichever shard closed last. Dropped, the next engine
    refits on the logged impressions, every shard's included (engine.learned's warm start)."""
    with Store.open(path, check=False) as store:  # checked as the run loaded the world
        store.drop_learned_models()


def _tasks(
    spec: RunSpec, arm: Arm, world: World, tastes: list[list[Taste]], created: list[int]
) -> list[ShardTask]:
    """Shards of ``shard_size`` personas in unit order; a shard never spans two replicates,
    which are independent worlds. Logged viewers created are added to ``created``."""
    logs = spec.log and arm.log
    viewers = _create_viewers(spec, arm, world, tastes) if logs else None
    if viewers is not None:
        created.extend(v for replicate in viewers for v in replicate if v is not None)
    groups: list[tuple[Seat, ...]] = []
    for r, replicate in enumerate(tastes):
        users = viewers[r] if viewers is not None else [None] * spec.users
        seats = [
            Seat(r * spec.users + i, taste, persona_seed(spec.seed, r, i), users[i])
            for i, taste in enumerate(replicate)
        ]
        size = spec.shard_size
        groups.extend(tuple(seats[k : k + size]) for k in range(0, len(seats), size))
    return [
        ShardTask(
            shard=k,
            arm=arm,
            seats=seats,
            sessions=spec.sessions,
            log=logs,
            condition=f"sim:{arm.name}",
            behaviour=spec.behaviour,
            start_t=spec.start_t,
        )
        for k, seats in enumerate(groups)
    ]


def _create_viewers(
    spec: RunSpec, arm: Arm, world: World, tastes: list[list[Taste]]
) -> list[list[int | None]]:
    """Create the logged viewers of every replicate up front (one transaction), each keyed by
    its persona's unit, so neither the ids the file hands out nor which worker gets there
    first changes a pick."""
    token = secrets.token_hex(3)
    # Over the world this process loaded (and checked) already: a second load, check and set
    # of lookups cost about 0.3 s at 100k videos.
    store = Store.open(spec.db_path, check=False)
    try:
        engine = Engine(
            store, arm.config, clock=VirtualClock(spec.start_t), world=world, of_logged_run=True
        )
    except BaseException:
        store.close()
        raise
    with engine, engine.batch():
        return [
            [
                engine.new_user(
                    **sign_up(taste, world),
                    name=simulated_viewer_name(
                        arm.name, token, r, i // spec.shard_size, i, spec.start_t
                    ),
                    pick_seed=r * spec.users + i,
                )
                for i, taste in enumerate(replicate)
            ]
            for r, replicate in enumerate(tastes)
        ]


def _combine(arm: Arm, results: list[ShardResult], wall_s: float) -> ArmRun:
    trace = np.concatenate([r.trace for r in results])
    return ArmRun(
        arm=arm,
        trace=trace[np.argsort(trace["unit"], kind="stable")],
        population=stack_populations([r.population for r in results]),
        pool_reach=np.mean([r.pool_reach for r in results], axis=0),
        impressions=sum(r.impressions for r in results),
        events=sum(r.events for r in results),
        engine_s=sum(r.elapsed_s for r in results),
        wall_s=wall_s,
    )
