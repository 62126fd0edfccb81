"""The world as it stood when a run began, handed to every shard so that all start alike.

Each shard of personas drives its own :class:`engine.Engine`, and an engine restores live stats,
test pools, boosts and recent trending events when it opens (:mod:`engine.start`). From the
file, a shard opened after another one has written would start from that shard's activity with
logging on, and results would depend on ``--jobs`` and on scheduling. So every shard's engine
is given the same :class:`StartState`, taken once before any shard runs, and the world's arrays
loaded once per process; every write still goes to the real file, like a person's.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any

import numpy as np

from engine.learned import MODEL_NAME
from engine.store import Store
from engine.world import World

_WORLDS: dict[str, World] = {}


@dataclass(frozen=True)
class StartState:
    """What an engine restores when it opens, read once from the file (an
    :class:`engine.start.Start` whose boosts never change, whatever other shards write)."""

    stats: list[tuple[Any, ...]]
    pool_rows: list[tuple[Any, ...]]
    boost_rows: list[dict[str, Any]]
    events: list[tuple[float, int, str]]
    since: float  # events holds everything from this world time on
    # The learned P(action) model as stored. A file without one is fitted on its history once
    # per arm before the shards start (engine.sim.experiment.warm_models), not by each shard
    # (that would ship every shard thousands of receipts and fit it again per shard).
    model: str | None = None
    viewers: list[tuple[int, float]] = field(default_factory=list)  # active from since on
    positives: list[tuple[int, int, str]] = field(default_factory=list)  # every one, in order

    def live_stats(self) -> list[tuple[Any, ...]]:
        return list(self.stats)

    def pools(self) -> list[tuple[Any, ...]]:
        return list(self.pool_rows)

    def boosts(self) -> list[dict[str, Any]]:
        return list(self.boost_rows)

    def recent_events(self, since_world_t: float) -> list[tuple[float, int, str]]:
        return [e for e in self.events if e[0] >= since_world_t]

    def recent_viewers(self, since_world_t: float) -> list[tuple[int, float]]:
        return [v for v in self.viewers if v[1] >= since_world_t]

    def positive_events(self) -> list[tuple[int, int, str]]:
        return list(self.positives)

    def data_version(self) -> int:
        return 0  # a run's boosts are the ones it started with

    def learned_model(self, name: str) -> str | None:
        return self.model if name == MODEL_NAME else None

    def learning_history(self, limit: int) -> list[dict[str, Any]]:
        return []


def take_start_state(path: str | Path, since: float) -> StartState:
    """Read the restorable state of a world file (``since``: oldest trending event kept)."""
    with Store.open(path) as store:
        return StartState(
            stats=store.live_stats(),
            pool_rows=store.pools(),
            boost_rows=store.boosts(),
            events=store.recent_events(since),
            since=since,
            model=store.learned_model(MODEL_NAME),
            viewers=store.recent_viewers(since),
            positives=store.positive_events(),
        )


def shared_world(path: str | Path) -> World:
    """The world's arrays, loaded once per process and made read-only so engines can share them.

    Read-only arrays turn any accidental in-place write by an engine into an error instead of
    a silent leak from one shard into the next.
    """
    key = str(Path(path).resolve())
    if key not in _WORLDS:
        with Store.open(path) as store:
            world = store.load_world()
        _freeze(world)
        _WORLDS[key] = world
    return _WORLDS[key]


def _freeze(value: object) -> None:
    if isinstance(value, np.ndarray):
        value.flags.writeable = False
    elif is_dataclass(value) and not isinstance(value, type):
        for f in fields(value):
            _freeze(getattr(value, f.name))
