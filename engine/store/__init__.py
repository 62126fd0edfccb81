"""The one place that touches SQLite: files, schema, the world's rows and arrays, and activity.

Everything outside this package receives plain values, frozen dataclasses or numpy arrays.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import engine.store.driver  # noqa: F401  # first: sqlite-utils must load without pandas

# isort: split
from sqlite_utils import Database

from engine.store.activity import ActivityLog
from engine.store.files import (
    DamagedFileError,
    DatabaseError,
    IntactCheck,
    NewerSchemaError,
    NotAWorldError,
    ReadOnlyError,
    RecordingRefusedError,
    StoreError,
    WorldExistsError,
    WorldInUseError,
    check_target,
    connect,
    damage_message,
    inspect_file,
    open_database,
    writable,
)
from engine.store.summary import world_summary
from engine.store.world_io import content_hash, load_world, write_world
from engine.world import World

__all__ = [
    "DamagedFileError",
    "DatabaseError",
    "NewerSchemaError",
    "NotAWorldError",
    "ReadOnlyError",
    "RecordingRefusedError",
    "Store",
    "StoreError",
    "WorldExistsError",
    "WorldInUseError",
    "check_target",
    "connect",
    "inspect_file",
    "world_summary",
    "write_world",
]


class Store(ActivityLog):
    """An open foryou database: the world and everything recorded in it."""

    def __init__(self, db: Database, path: Path, intact: IntactCheck | None = None) -> None:
        super().__init__(db)
        self.path = path
        self._intact = intact

    @classmethod
    def open(cls, path: str | Path, *, check: bool = True, background: bool = False) -> Store:
        """Open an existing world (see :func:`engine.store.files.open_database`).

        Args:
            path: the world's file.
            check: check that the file is intact (``PRAGMA quick_check``).
            background: run that check in a thread while the caller goes on reading (a file
                this process may write only); the caller must call :meth:`wait_intact` before
                its first write.
        """
        path = Path(path)
        kind = inspect_file(path) if check and background else None
        if kind != "foryou" or not writable(path):
            return cls(open_database(path, check=check, kind=kind), path)
        intact = IntactCheck(path)
        try:
            db = open_database(path, pending=intact, kind=kind)
        except BaseException:
            intact.wait()  # its verdict first: "damaged" says more than what failed meanwhile
            raise
        return cls(db, path, intact)

    def wait_intact(self) -> None:
        """Wait for a background integrity check (nothing to do without one).

        Raises:
            DamagedFileError: the file is damaged.
        """
        if self._intact is not None:
            self._intact.wait()

    def close(self) -> None:
        try:
            if self._intact is not None:
                self._intact.join()  # its connection must not outlive the store
        finally:
            self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def meta(self) -> dict[str, str]:
        return {row["key"]: row["value"] for row in self.db.table("foryou_meta").rows}

    def table_names(self) -> list[str]:
        """The tables present (a world without a study has no study tables)."""
        return list(self.db.table_names())

    def summary(self) -> dict[str, Any]:
        """What `foryou info` shows (see :func:`engine.store.summary.world_summary`)."""
        return world_summary(self.db)

    def load_world(self, *, captions: bool = False) -> World:
        """Load the world's columns into contiguous numpy arrays (captions only if asked)."""
        try:
            return load_world(self.db, captions=captions)
        except DamagedFileError as exc:
            raise DamagedFileError(damage_message(self.path, exc.args[0])) from None

    def content_hash(self) -> str:
        """A digest of every world row and array, independent of when or where it was built."""
        return content_hash(self.db)
