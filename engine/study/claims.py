"""One participant, one running feed: claims the operating system drops when a process dies.

Two terminals running the same participant would serve them twice and race each other's writes;
a run that died (its terminal closed, the process killed) leaves a feed run open, and only a
claim that dies with its process tells that run apart from one still going. A claim is a POSIX
lock on one byte of ``<bundle>.lock``, chosen by the participant's id, held until the bundle
closes (:mod:`engine.claims`, which viewers' claims share).
"""

from __future__ import annotations

import zlib
from pathlib import Path

from engine.claims import ClaimedError
from engine.claims import Claims as ByteClaims
from engine.study.definition import StudyError

_BYTES = 2**31 - 1  # participants spread over this many lockable bytes


class Claims:
    """The participants this process is running, each locked against every other process."""

    def __init__(self, bundle: Path) -> None:
        self.path = Path(f"{bundle}.lock")
        self._bytes = ByteClaims(self.path)

    def claim(self, participant: str) -> None:
        """Hold the participant for this process (again: nothing to do).

        Raises:
            StudyError: another process is running this participant.
        """
        try:
            self._bytes.claim(zlib.crc32(participant.encode()) % _BYTES)
        except ClaimedError:
            raise StudyError(
                f"participant {participant} is running in another terminal; "
                "finish or leave there first"
            ) from None

    def release(self) -> None:
        """Let every claimed participant go."""
        self._bytes.release()
