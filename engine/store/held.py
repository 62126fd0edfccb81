"""Which files this process holds open through SQLite, so that nothing else here closes one.

POSIX record locks belong to a process and a file, not to a descriptor: closing *any*
descriptor of a database file drops every lock SQLite holds on it through its own. SQLite
cannot see that happen and goes on as if it held them. In WAL mode its shared lock on the file
is what tells another process's closing connection that it is not the last one; without it,
that connection checkpoints the write-ahead log and deletes it while this process still writes
into it, and from then on this process's commits are invisible to everyone else and can be lost
(https://www.sqlite.org/howtocorrupt.html, section 2.2). SQLite's own connections defer such
closes among themselves; a header read with ``open()``, or a connection opened ``immutable``
(which takes no locks and closes its descriptor at once), does not.

So every connection is opened through :func:`open_connection`, and code that would read a file
by itself first asks :func:`held` under :data:`lock`.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import weakref
from collections import Counter
from collections.abc import Callable
from pathlib import Path

__all__ = ["held", "lock", "open_connection"]

# Re-entrant: a connection collected by the garbage collector releases its file from
# whichever code happened to trigger the collection, possibly while this lock is held.
lock = threading.RLock()
_open: Counter[tuple[int, int]] = Counter()


class _Connection(sqlite3.Connection):
    """A connection that releases its file from the registry when it closes."""

    release: Callable[[], object] | None = None

    def close(self) -> None:
        super().close()
        if self.release is not None:
            self.release()


def open_connection(
    database: str, path: Path, *, uri: bool = False, timeout: float = 5.0
) -> sqlite3.Connection:
    """``sqlite3.connect(database)``, with ``path`` (the file it opens) marked as held until the
    connection is closed or collected."""
    with lock:
        conn = sqlite3.connect(database, uri=uri, timeout=timeout, factory=_Connection)
        key = _key(path)
        if key is not None:
            _open[key] += 1
            conn.release = weakref.finalize(conn, _release, key)
    return conn


def held(path: Path) -> bool:
    """Whether this process has a connection to ``path``: call it under :data:`lock` and keep
    the lock while reading the file by other means."""
    key = _key(path)
    return key is not None and _open[key] > 0


def _release(key: tuple[int, int]) -> None:
    with lock:
        _open[key] -= 1
        if _open[key] <= 0:
            del _open[key]


def _key(path: Path) -> tuple[int, int] | None:
    try:
        stat = os.stat(path)
    except OSError:  # ":memory:", or gone
        return None
    return stat.st_dev, stat.st_ino
