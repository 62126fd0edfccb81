"""Where an engine's activity goes: the world file, or memory only.

An engine makes the same writes whatever keeps them: a viewer signs up, a session starts and
ends, an impression is served or revisited, seen, an event changes counters and a test pool,
settings and boosts are saved. A :class:`Recorder` takes those writes and hands back ids.
:class:`SqliteRecorder` writes them to the file (what ``Engine.open`` does by default, and
what lets a later engine resume every viewer); :class:`MemoryRecorder` keeps nothing and only
numbers rows (``log=False``: fast simulations, replay, previews). Its ids are positive and
start above every id the file held, so a viewer or impression of memory never shares an id
with one of the file. :class:`ReadOnlyRecorder` is a logging engine's on a file this process
may not write: reading works, and the first write is refused naming the file.
"""

from __future__ import annotations

import hashlib
import itertools
import secrets
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NoReturn, Protocol

from engine.config import Config, recorded_toml
from engine.store import RecordingRefusedError, Store
from engine.store.files import writable

__all__ = ["MemoryRecorder", "ReadOnlyRecorder", "Recorder", "SqliteRecorder", "recorder_for"]

Profile = Callable[[], Mapping[str, Any]]


class Recorder(Protocol):
    """The writes an engine makes; each returns the new row's id where there is one."""

    @property
    def writes(self) -> bool:
        """Whether the activity reaches the file (the engine then claims the viewers it
        serves, and impressions can be explained from their stored receipts)."""
        ...

    def add_user(
        self,
        *,
        name: str | None,
        language: str,
        country: str,
        interests: list[str],
        simulated: bool,
        settings: Mapping[str, Any],
        pick_seed: int | None,
    ) -> tuple[int, str] | None:
        """A new viewer's id and name (a generated one if ``name`` is None); None if taken."""
        ...

    def start_session(
        self,
        *,
        user_id: int,
        config: Config,
        simulated: bool,
        condition: str | None,
        picked_by: Mapping[str, Any] | None = None,
    ) -> int:
        """A new session; ``picked_by`` names the policy that picks when it is not the
        config's own (:func:`engine.config.recorded_toml`)."""
        ...

    def end_session(self, session_id: int, user_id: int, profile: Profile) -> None:
        """Close a session; ``profile`` computes the snapshot to keep (called only if kept)."""
        ...

    def add_impression(self, row: Mapping[str, Any]) -> int: ...

    def add_revisit(
        self, of_impression: int, *, session_id: int, served_at: float, world_t: float
    ) -> int: ...

    def mark_seen(self, impression_id: int, at: float) -> None: ...

    def add_event(
        self,
        event: Mapping[str, Any],
        *,
        close: tuple[float, float] | None,
        stat_deltas: Mapping[str, float],
        pool: tuple[Any, ...] | None,
    ) -> int:
        """One event with what it changes (see :meth:`engine.store.Store.add_event`)."""
        ...

    def save_settings(self, user_id: int, settings: Mapping[str, Any]) -> None: ...

    def add_boost(self, row: Mapping[str, Any]) -> int: ...


class SqliteRecorder:
    """Every write goes to the world file as it happens."""

    writes = True

    def __init__(self, store: Store) -> None:
        self.store = store
        self._config_ids: dict[str, int] = {}
        # Each session asks for its config's row: the hash (the config written out as TOML,
        # with who picks) is computed once per config object (frozen) and record of who picks
        # rather than at every session start; both are kept, so their id() is not reused.
        self._hashes: dict[tuple[int, int], tuple[Config, Mapping[str, Any] | None, str, str]] = {}

    def add_user(
        self,
        *,
        name: str | None,
        language: str,
        country: str,
        interests: list[str],
        simulated: bool,
        settings: Mapping[str, Any],
        pick_seed: int | None,
    ) -> tuple[int, str] | None:
        chosen = name or f"viewer-{secrets.token_hex(3)}"
        added = self.store.add_user(
            name=chosen,
            language=language,
            country=country,
            interests=interests,
            simulated=simulated,
            settings=settings,
            pick_seed=pick_seed,
        )
        return None if added is None else (added, chosen)

    def start_session(
        self,
        *,
        user_id: int,
        config: Config,
        simulated: bool,
        condition: str | None,
        picked_by: Mapping[str, Any] | None = None,
    ) -> int:
        return self.store.start_session(
            user_id=user_id,
            config_id=self._config_id(config, picked_by),
            simulated=simulated,
            condition=condition,
        )

    def _config_id(self, config: Config, picked_by: Mapping[str, Any] | None) -> int:
        """The config's row, written by the first session that needs it: an engine that is
        opened and then refuses (an unknown viewer, say) leaves the file untouched."""
        known = self._hashes.get((id(config), id(picked_by)))
        if known is None:
            toml = recorded_toml(config, picked_by)
            sha256 = hashlib.sha256(toml.encode()).hexdigest()
            known = self._hashes[(id(config), id(picked_by))] = (config, picked_by, sha256, toml)
        _, _, sha256, toml = known
        if sha256 not in self._config_ids:
            self._config_ids[sha256] = self.store.ensure_config(
                name=config.name, sha256=sha256, toml=toml
            )
        return self._config_ids[sha256]

    def end_session(self, session_id: int, user_id: int, profile: Profile) -> None:
        self.store.end_session(session_id, profile(), user_id)

    def add_impression(self, row: Mapping[str, Any]) -> int:
        return self.store.add_impression(row)

    def add_revisit(
        self, of_impression: int, *, session_id: int, served_at: float, world_t: float
    ) -> int:
        return self.store.add_revisit(
            of_impression, session_id=session_id, served_at=served_at, world_t=world_t
        )

    def mark_seen(self, impression_id: int, at: float) -> None:
        self.store.mark_seen(impression_id, at)

    def add_event(
        self,
        event: Mapping[str, Any],
        *,
        close: tuple[float, float] | None,
        stat_deltas: Mapping[str, float],
        pool: tuple[Any, ...] | None,
    ) -> int:
        return self.store.add_event(event, close=close, stat_deltas=stat_deltas, pool=pool)

    def save_settings(self, user_id: int, settings: Mapping[str, Any]) -> None:
        self.store.save_settings(user_id, settings)

    def add_boost(self, row: Mapping[str, Any]) -> int:
        return self.store.add_boost(row)


class MemoryRecorder:
    """Nothing is kept: rows are only numbered, each table from above the file's last id."""

    writes = False

    def __init__(self, last_ids: Mapping[str, int] | None = None) -> None:
        last = dict(last_ids or {})
        self._ids = {
            table: itertools.count(last.get(table, 0) + 1)
            for table in ("users", "sessions", "impressions", "events", "boosts")
        }
        self._users = itertools.count(1)

    @classmethod
    def over(cls, store: Store) -> MemoryRecorder:
        """A recorder whose ids never meet the ids ``store``'s file holds now."""
        return cls(store.last_ids())

    def _next(self, table: str) -> int:
        return next(self._ids[table])

    def add_user(
        self,
        *,
        name: str | None,
        language: str,
        country: str,
        interests: list[str],
        simulated: bool,
        settings: Mapping[str, Any],
        pick_seed: int | None,
    ) -> tuple[int, str] | None:
        return self._next("users"), name or f"memory-{next(self._users)}"

    def start_session(
        self,
        *,
        user_id: int,
        config: Config,
        simulated: bool,
        condition: str | None,
        picked_by: Mapping[str, Any] | None = None,
    ) -> int:
        return self._next("sessions")

    def end_session(self, session_id: int, user_id: int, profile: Profile) -> None:
        """Nothing to keep (the profile is not even computed)."""

    def add_impression(self, row: Mapping[str, Any]) -> int:
        return self._next("impressions")

    def add_revisit(
        self, of_impression: int, *, session_id: int, served_at: float, world_t: float
    ) -> int:
        return self._next("impressions")

    def mark_seen(self, impression_id: int, at: float) -> None:
        """Nothing to keep."""

    def add_event(
        self,
        event: Mapping[str, Any],
        *,
        close: tuple[float, float] | None,
        stat_deltas: Mapping[str, float],
        pool: tuple[Any, ...] | None,
    ) -> int:
        return self._next("events")

    def save_settings(self, user_id: int, settings: Mapping[str, Any]) -> None:
        """Nothing to keep: the engine holds the viewer's settings."""

    def add_boost(self, row: Mapping[str, Any]) -> int:
        return self._next("boosts")


class ReadOnlyRecorder:
    """A logging engine's recorder on a file this process may not write (opened read-only).

    Every write is refused up front as :class:`RecordingRefusedError` (a ``ReadOnlyError``)
    naming the file and the way out,
    rather than as SQLite's "attempt to write a readonly database", which names neither. It
    counts as writing: the engine was asked to log, and its reads are the file's.
    """

    writes = True

    def __init__(self, path: Path) -> None:
        self.path = path

    def _refuse(self, *_: Any, **__: Any) -> NoReturn:
        raise RecordingRefusedError(self.path)

    add_user = start_session = end_session = add_impression = add_revisit = _refuse
    mark_seen = add_event = save_settings = add_boost = _refuse


def recorder_for(store: Store, *, log: bool) -> Recorder:
    """The file's recorder when logging (refusing every write if this process may not write
    the file), else one in memory numbering above the file's ids."""
    if not log:
        return MemoryRecorder.over(store)
    return SqliteRecorder(store) if writable(store.path) else ReadOnlyRecorder(store.path)
