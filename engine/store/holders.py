"""Whether any other connection has a database file open, and which process holds it.

A world replaced under an open connection is lost twice over: that connection goes on writing
into the unlinked old file, and the old file's write-ahead log, left beside the new file, is
applied to the new file by its next opener, which then finds it damaged. In WAL mode every
connection that has read the file keeps SQLite's shared lock on it until it closes (that lock is
how a closing connection knows it is not the last one), so asking SQLite for an exclusive lock
is the question for every reader and writer in every process, foryou or not: a feed, a study
run, a simulation, the sqlite3 shell, Datasette. Only connections opened ``immutable`` take no
locks and are not seen. Which process refused the lock is then the kernel's answer to F_GETLK.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import struct
import sys
from pathlib import Path
from urllib.request import pathname2url

from engine.store import held
from engine.text import printable

__all__ = ["EXCLUSIVE_WAIT_S", "command_of", "database_holder", "is_busy", "lock_holder", "take"]

# A connection that is closing holds the lock for a moment (its final checkpoint): wait that out
# rather than refuse, but not the 30 s busy timeout meant for writers taking turns.
EXCLUSIVE_WAIT_S = 1.0
# SQLite's unix VFS takes its shared lock as a read lock on these bytes of the database file
# (PENDING_BYTE = 2**30, then RESERVED_BYTE, then SHARED_SIZE = 510 bytes).
_LOCK_BYTES = (2**30, 512)
# struct flock as Linux lays it out on 64-bit machines (F_GETLK's answer names the holder).
_FLOCK = "hhqqi4x"
_MAX_COMMAND = 60  # characters of a holder's command line in a one-line message


def take(path: Path) -> sqlite3.Connection | None:
    """A connection holding SQLite's exclusive lock on ``path`` until it is closed, or None if
    the file is gone. While it is held, no other connection can read the file (they wait).

    Raises:
        sqlite3.OperationalError: another connection has the file open (:func:`is_busy`).
    """
    # mode=rw: a file removed since the caller looked is not created again, empty.
    uri = f"file:{pathname2url(str(path.absolute()))}?mode=rw"
    try:
        conn = held.open_connection(uri, path, uri=True, timeout=EXCLUSIVE_WAIT_S)
    except sqlite3.OperationalError as exc:
        if exc.sqlite_errorcode == sqlite3.SQLITE_CANTOPEN:
            return None
        raise
    try:
        conn.execute("PRAGMA locking_mode = EXCLUSIVE")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # the first read locks
    except BaseException:
        conn.close()
        raise
    return conn


def is_busy(error: sqlite3.Error) -> bool:
    """Whether SQLite refused because another connection holds the file."""
    return getattr(error, "sqlite_errorcode", None) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def database_holder(path: Path) -> int | None:
    """A process holding SQLite's lock on ``path`` (None: none, or the system does not say).

    This process's own connections are never named by the kernel; ``os.getpid()`` is returned
    for them instead, without opening the file: closing a descriptor of a file that SQLite has
    open here would drop SQLite's locks on it (see :mod:`engine.store.held`).
    """
    with held.lock:
        if held.held(path):
            return os.getpid()
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            return None
        try:
            return lock_holder(fd, *_LOCK_BYTES)
        finally:
            os.close(fd)


def lock_holder(fd: int, start: int, length: int) -> int | None:
    """The process holding a POSIX lock on these bytes, as F_GETLK reports it (None where the
    layout differs or no one holds them)."""
    if sys.platform != "linux":
        return None
    try:
        query = struct.pack(_FLOCK, fcntl.F_WRLCK, os.SEEK_SET, start, length, 0)
        kind, _, _, _, pid = struct.unpack(_FLOCK, fcntl.fcntl(fd, fcntl.F_GETLK, query))
    except (OSError, struct.error):
        return None
    return pid if kind != fcntl.F_UNLCK and pid > 0 else None


def command_of(pid: int) -> str | None:
    """The command line of ``pid``, shortened for a one-line message (``foryou --db w.db feed``),
    or None where the system does not show it (Linux's /proc only)."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    words = [os.fsdecode(word) for word in raw.split(b"\0") if word]
    if len(words) > 1 and Path(words[0]).name.startswith("python"):
        # The interpreter says nothing: `python -m tui ...` and `python .../bin/foryou ...`
        # are foryou; `python -c ...` stays as it is.
        if words[1] == "-m":
            words = words[2:]
        elif not words[1].startswith("-"):
            words = words[1:]
    if not words:
        return None
    name = Path(words[0]).name
    words[0] = "foryou" if name in ("tui", "tui.cli") else name
    # Another user's command line is text anyone may have chosen: no escape sequences.
    text = printable(" ".join(" ".join(words).split()))
    return text if len(text) <= _MAX_COMMAND else text[: _MAX_COMMAND - 1] + "…"
