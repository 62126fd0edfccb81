"""The world as it stood when a run began, handed to every shard so that all start alike.

Each shard of personas drives its own :class:`engine.Engine`, and an engine restores live stats,
test pools, boosts and recent trending events from the file when it opens. With logging on, a
shard opened after another one has written would start from that shard's activity, and results
would depend on ``--jobs`` and on scheduling. A :class:`StartStore` answers those four reads
from a :class:`StartState` taken once before any shard runs, and serves the world's arrays
loaded once per process; every write still goes to the real file, like a person's.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sqlite_utils import Database

from engine.store import Store
from engine.store.files import open_database
from engine.world import World

_WORLDS: dict[str, World] = {}


@dataclass(frozen=True)
class StartState:
    """What an engine restores when it opens, read once from the file."""

    live_stats: list[tuple[Any, ...]]
    pools: list[tuple[Any, ...]]
    boosts: list[dict[str, Any]]
    recent_events: list[tuple[float, int, str]]
    since: float  # recent_events holds everything from this world time on
    recent_viewers: list[tuple[int, float]] = field(default_factory=list)  # from since on


def take_start_state(path: str | Path, since: float) -> StartState:
    """Read the restorable state of a world file (``since``: oldest trending event kept)."""
    with Store.open(path) as store:
        return StartState(
            live_stats=store.live_stats(),
            pools=store.pools(),
            boosts=store.boosts(),
            recent_events=store.recent_events(since),
            since=since,
            recent_viewers=store.recent_viewers(since),
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


class StartStore(Store):
    """A store whose restore-time reads come from a :class:`StartState`."""

    def __init__(self, db: Database, path: Path, world: World, start: StartState) -> None:
        super().__init__(db, path)
        self._world = world
        self._start = start

    @classmethod
    def at_start(cls, path: str | Path, world: World, start: StartState) -> StartStore:
        """Open the world file for writing, reading the run's start state instead of its tables."""
        path = Path(path)
        return cls(open_database(path), path, world, start)

    def load_world(self, *, captions: bool = False) -> World:
        if captions:
            return super().load_world(captions=True)
        return self._world

    def live_stats(self) -> list[tuple[Any, ...]]:
        return list(self._start.live_stats)

    def pools(self) -> list[tuple[Any, ...]]:
        return list(self._start.pools)

    def boosts(self) -> list[dict[str, Any]]:
        return list(self._start.boosts)

    def data_version(self) -> int:
        return 0  # a run's boosts are the ones it started with, whatever other shards write

    def recent_events(self, since_world_t: float) -> list[tuple[float, int, str]]:
        return [e for e in self._start.recent_events if e[0] >= since_world_t]

    def recent_viewers(self, since_world_t: float) -> list[tuple[int, float]]:
        return [v for v in self._start.recent_viewers if v[1] >= since_world_t]
