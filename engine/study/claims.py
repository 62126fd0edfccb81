"""One participant, one running feed: claims the operating system drops when a process dies.

Two terminals running the same participant would serve them twice and race each other's writes;
a run that died (its terminal closed, the process killed) leaves a feed run open, and only a
claim that dies with its process tells that run apart from one still going. A claim is a POSIX
lock on one byte of ``<bundle>.lock``, chosen by the participant's id, held until the bundle
closes.
"""

from __future__ import annotations

import fcntl
import os
import zlib
from pathlib import Path

from engine.store.permissions import PRIVATE_FILE
from engine.study.definition import StudyError

_BYTES = 2**31 - 1  # participants spread over this many lockable bytes


class Claims:
    """The participants this process is running, each locked against every other process."""

    def __init__(self, bundle: Path) -> None:
        self.path = Path(f"{bundle}.lock")
        self._fd: int | None = None
        self._held: set[str] = set()

    def claim(self, participant: str) -> None:
        """Hold the participant for this process (again: nothing to do).

        Raises:
            StudyError: another process is running this participant.
        """
        if participant in self._held:
            return
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, PRIVATE_FILE)
        offset = zlib.crc32(participant.encode()) % _BYTES
        try:
            fcntl.lockf(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, offset)
        except OSError:
            raise StudyError(
                f"participant {participant} is running in another terminal; "
                "finish or leave there first"
            ) from None
        self._held.add(participant)

    def release(self) -> None:
        """Let every claimed participant go (closing the file drops its locks)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        self._held.clear()
