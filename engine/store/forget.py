"""Deleting everything recorded about one study participant, for good.

Rows go in one transaction, children first. ``secure_delete`` makes SQLite overwrite the freed
bytes with zeros and a truncating WAL checkpoint drops the old page images, so the id cannot
be recovered from the file afterwards either. Aggregate counters (``video_stats_live``) are
decremented by the participant's share, computed by the caller from the rows being deleted;
a counter row left at zero is deleted, since it would still say that someone watched. The
learned P(action) model (``learned_models``) was fitted on everyone's events, theirs included:
it is deleted too, and the next engine to open the file fits it again from the events that
remain (:mod:`engine.learned`'s warm start), so nothing learned from them survives.

Nothing may have the file open in another process meanwhile. A reader of an older snapshot (a
``sqlite3`` shell, an export, a stray simulation worker) keeps the old pages in the file, so
reporting success would be a lie; and an engine left open (another participant's feed) writes
again what it learned, the participant's events included, when it closes (its learned model).
So the connection first takes SQLite's exclusive lock on the file (``locking_mode =
EXCLUSIVE`` and a write), which every other connection that has read the file blocks, and
holds it until the rows are deleted and their bytes overwritten; while it holds it, no other
connection can open the file. If the lock cannot be had, nothing is deleted
(:class:`FileInUseError`, naming the process).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path

from sqlite_utils import Database

from engine.store import holders
from engine.store.activity import BUILT_MODEL, LIVE_STAT_FIELDS
from engine.store.files import BUSY_TIMEOUT_S

__all__ = ["FileInUseError", "forget_participant", "overwrite_freed", "processes_holding"]

# How long a checkpoint waits for other readers to finish: long enough for a running feed's
# short reads, short enough that an operator is not left staring at a silent command.
CHECKPOINT_WAIT_S = 3.0

# (table, the column that ties a row to the participant: "user" or "participant").
_OWNED = (
    ("answers", "participant_id", "participant"),
    ("feed_runs", "participant_id", "participant"),
    ("participants", "id", "participant"),
    ("user_origins", "user_id", "user"),
    ("events", "user_id", "user"),
    ("impressions", "user_id", "user"),
    ("profile_snapshots", "user_id", "user"),
    ("sessions", "user_id", "user"),
    ("users", "id", "user"),
)


class FileInUseError(Exception):
    """Another connection reads the file, so freed bytes cannot be overwritten yet.

    Attributes:
        deleted: rows deleted per table (empty: nothing was deleted).
        holders: the other processes that have the file open, as "pid N, `command`".
    """

    def __init__(self, deleted: dict[str, int], holders: list[str]) -> None:
        super().__init__("another process is reading the file")
        self.deleted = deleted
        self.holders = holders


def forget_participant(
    db: Database,
    *,
    participant_id: int,
    user_id: int | None,
    stat_deltas: Mapping[int, Mapping[str, float]],
) -> dict[str, int]:
    """Delete a participant's rows everywhere and subtract their live-stat contributions.

    Args:
        participant_id: the participants row id.
        user_id: their viewer (None if they never reached the feed).
        stat_deltas: video id -> increments of ``video_stats_live`` columns to subtract.

    Returns:
        Rows deleted per table.

    Raises:
        FileInUseError: another connection reads the file: ``deleted`` is empty when nothing was
            deleted, else the rows are gone but their bytes are not overwritten yet.
    """
    db.execute("PRAGMA secure_delete = ON")
    with _alone(db, participant_id):
        return _delete(db, participant_id, user_id, stat_deltas)


@contextmanager
def _alone(db: Database, participant_id: int) -> Iterator[None]:
    """Hold SQLite's exclusive lock on the file: refused while another connection has it open."""
    db.execute("PRAGMA locking_mode = EXCLUSIVE")
    try:
        _write_exclusively(db, participant_id)
        yield
    finally:
        # NORMAL lets the lock go at the connection's next access.
        db.execute("PRAGMA locking_mode = NORMAL")
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()


def _write_exclusively(db: Database, participant_id: int) -> None:
    db.execute(f"PRAGMA busy_timeout = {int(CHECKPOINT_WAIT_S * 1000)}")
    try:
        with db.atomic():  # in exclusive mode, the write takes the file's exclusive lock
            db.execute("UPDATE participants SET id = id WHERE id = ?", [participant_id])
    except sqlite3.OperationalError as exc:
        if not holders.is_busy(exc):
            raise
        raise FileInUseError({}, processes_holding(db)) from None
    finally:
        db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
    if not overwrite_freed(db):  # a reader of an older snapshot, should one have slipped in
        raise FileInUseError({}, processes_holding(db))


def _delete(
    db: Database,
    participant_id: int,
    user_id: int | None,
    stat_deltas: Mapping[int, Mapping[str, float]],
) -> dict[str, int]:
    ids = {"participant": participant_id, "user": user_id}
    deleted: dict[str, int] = {}
    with db.atomic():
        for table, column, owner in _OWNED:
            if ids[owner] is None:
                continue
            cursor = db.execute(f"DELETE FROM {table} WHERE {column} = ?", [ids[owner]])
            deleted[table] = cursor.rowcount
        sets = ", ".join(f"{f} = {f} - ?" for f in LIVE_STAT_FIELDS)
        zero = " AND ".join(f"abs({f}) < 1e-9" for f in LIVE_STAT_FIELDS)
        for video_id, deltas in stat_deltas.items():
            values = [deltas.get(f, 0) for f in LIVE_STAT_FIELDS]
            db.execute(
                f"UPDATE video_stats_live SET {sets} WHERE video_id = ?", [*values, video_id]
            )
            db.execute(f"DELETE FROM video_stats_live WHERE video_id = ? AND {zero}", [video_id])
        if user_id is not None and db["learned_models"].exists():
            # The world's model as built learned from an imported public log, never from a
            # participant: it stays.
            deleted["learned_models"] = db.execute(
                "DELETE FROM learned_models WHERE name != ?", [BUILT_MODEL]
            ).rowcount
    if not overwrite_freed(db):
        raise FileInUseError(deleted, processes_holding(db))
    return deleted


def overwrite_freed(db: Database, wait_s: float = CHECKPOINT_WAIT_S) -> bool:
    """Copy the WAL into the file and empty it, waiting up to ``wait_s`` for other readers.

    Returns:
        True when every page is in the file and the WAL is empty (no old page image is left);
        False while another connection still reads an older snapshot.
    """
    db.execute(f"PRAGMA busy_timeout = {int(wait_s * 1000)}")
    try:
        busy, _, _ = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    finally:
        db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
    return not busy


def processes_holding(db: Database) -> list[str]:
    """Other processes with the database (or its WAL) open, as "pid N, `command`".

    Read from ``/proc`` (Linux); elsewhere, or for other users' processes, the list is empty.
    """
    path = Path(db.execute("PRAGMA database_list").fetchone()[2]).resolve()
    targets = {str(path), f"{path}-wal"}
    found = []
    for pid in filter(str.isdigit, _listdir("/proc")):
        if int(pid) == os.getpid():
            continue
        with suppress(OSError):
            if any(
                os.readlink(f"/proc/{pid}/fd/{fd}") in targets for fd in _listdir(f"/proc/{pid}/fd")
            ):
                command = holders.command_of(int(pid))
                found.append(f"pid {pid}, `{command}`" if command else f"pid {pid}")
    return found


def _listdir(path: str) -> list[str]:
    try:
        return os.listdir(path)
    except OSError:
        return []
