"""Claims on a world file that the operating system drops when their process dies.

Two processes serving one viewer repeat videos the other already showed and count likes twice;
two terminals running one study participant race each other's writes. A claim is a POSIX lock
on one byte of ``<world>.lock``: the kernel refuses it to a second process and drops it when
the holder dies, however it dies, so a crashed feed never blocks the next one.

POSIX locks belong to the process, and closing *any* descriptor of the lock file drops *all*
of the process's locks on it. So every claim of a process on one lock file goes through one
shared descriptor here, with a count per byte: an engine closing never drops the study's claim
on its participant, nor a second engine's claim on another viewer.

Bytes are split by kind so that they never collide: participants hash into the low 2³¹ − 1
bytes, ``WRITERS_BYTE`` (2³¹) stands for the whole file, viewers are ``VIEWER_BYTES + user id``
exactly.

Claims are exclusive, except the writers byte's: every engine that writes the file holds a
*shared* claim on it, and a logged simulation an exclusive one, so that the run has the file
alone (:mod:`engine.writers`). Within one process the kernel never refuses a process its own
locks (asked for a shared lock on a byte it holds exclusively, it would quietly downgrade it),
so a claim of the other kind on a byte this process already holds is refused here, naming this
process.
"""

from __future__ import annotations

import fcntl
import os
import threading
from pathlib import Path

from engine.store.holders import lock_holder
from engine.store.permissions import PRIVATE_FILE

__all__ = ["VIEWER_BYTES", "WRITERS_BYTE", "ClaimedError", "Claims", "ViewerClaimedError"]

WRITERS_BYTE = 2**31  # above every participant's byte, below every viewer's
VIEWER_BYTES = 2**32  # the first byte of the viewers' range


class ClaimedError(Exception):
    """Another process holds the claim.

    Attributes:
        pid: that process, when the system says (None if it does not).
    """

    def __init__(self, pid: int | None) -> None:
        super().__init__(f"held by process {pid}" if pid else "held by another process")
        self.pid = pid


class ViewerClaimedError(ValueError):
    """A viewer that another process is serving; the message is one line for the user."""


class _LockFile:
    """The process's one descriptor on a lock file, and how many claims hold each byte."""

    def __init__(self, path: str) -> None:
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT, PRIVATE_FILE)
        self.holds: dict[int, int] = {}
        self.shared: set[int] = set()  # the bytes held by shared claims


_FILES: dict[str, _LockFile] = {}
_GUARD = threading.Lock()  # the TUI's worker threads open engines too


class Claims:
    """The bytes of one lock file that this holder claims, each locked against other processes.

    Args:
        path: the lock file (created on first claim).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._key = str(path.parent.resolve() / path.name)  # one key however it is spelled
        self._held: set[int] = set()

    def holds(self, offset: int) -> bool:
        return offset in self._held

    def held_here(self, offset: int) -> bool:
        """Whether another holder in this process holds byte ``offset`` (the kernel lets a
        process lock a byte it holds again, so only this count tells two holders apart)."""
        with _GUARD:
            lock_file = _FILES.get(self._key)
            return offset not in self._held and bool(lock_file and lock_file.holds.get(offset))

    def claim(self, offset: int, *, shared: bool = False) -> None:
        """Hold byte ``offset`` until :meth:`release` (again: nothing to do).

        Args:
            offset: the byte.
            shared: other processes may hold it too, as long as every holder shares it.

        Raises:
            ClaimedError: another process holds it, or this one holds it with the other kind
                of claim.
        """
        if offset in self._held:
            return
        with _GUARD:
            lock_file = _FILES.get(self._key) or _LockFile(self._key)
            _FILES[self._key] = lock_file
            if lock_file.holds.get(offset):
                if (offset in lock_file.shared) != shared:
                    raise ClaimedError(os.getpid())
            else:
                self._lock(lock_file, offset, shared)
            lock_file.holds[offset] = lock_file.holds.get(offset, 0) + 1
        self._held.add(offset)

    def _lock(self, lock_file: _LockFile, offset: int, shared: bool) -> None:
        kind = fcntl.LOCK_SH if shared else fcntl.LOCK_EX
        try:
            fcntl.lockf(lock_file.fd, kind | fcntl.LOCK_NB, 1, offset)
        except OSError:
            holder = lock_holder(lock_file.fd, offset, 1)
            self._close_if_unused(lock_file)
            raise ClaimedError(holder) from None
        if shared:
            lock_file.shared.add(offset)

    def release(self) -> None:
        """Let every claimed byte go (other holders in this process keep theirs)."""
        with _GUARD:
            lock_file = _FILES.get(self._key)
            for offset in self._held:
                if lock_file is None:
                    break
                lock_file.holds[offset] -= 1
                if not lock_file.holds[offset]:
                    del lock_file.holds[offset]
                    lock_file.shared.discard(offset)
                    fcntl.lockf(lock_file.fd, fcntl.LOCK_UN, 1, offset)
            if lock_file is not None:
                self._close_if_unused(lock_file)
        self._held.clear()

    def _close_if_unused(self, lock_file: _LockFile) -> None:
        if not lock_file.holds:
            os.close(lock_file.fd)
            del _FILES[self._key]
