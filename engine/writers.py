"""Who writes a world file: every writing engine together, or one logged simulation alone.

A logged simulation that fails or is interrupted is taken back out of the file by restoring the
shared rows it changed (live counters, test pools, the learned model) from a copy taken before
it started (:mod:`engine.store.undo`). Anything another process wrote to those rows meanwhile
(a feed's likes, a study participant's views, the model it saved) would be restored away with
the run. So a logged run has the file alone: its parent holds an exclusive claim on the file's
writers byte (:data:`engine.claims.WRITERS_BYTE`) from before it reads its start state until it
has finished or been taken back, and every other engine that writes the file holds a shared
claim on that byte while it is open. Either one is refused, in one line naming the other
process, while the other is held. The run's own engines (its shard workers, in this process or
others) are part of it and take no claim. Engines that write nothing (``log=False``: unlogged
simulations, replay, evaluate) and read-only files need no claim.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from engine.claims import WRITERS_BYTE, ClaimedError, Claims
from engine.store import WorldInUseError
from engine.store.files import holder_words, writable

__all__ = ["alone", "lock_path", "share"]


def lock_path(world: Path) -> Path:
    """The lock file of ``world``, where every claim on it is held (:mod:`engine.claims`)."""
    return Path(f"{world}.lock")


def share(claims: Claims, world: Path) -> None:
    """Hold a writer's share of ``world`` on ``claims``, until they are released.

    Raises:
        WorldInUseError: a logged simulation has the file alone.
    """
    try:
        claims.claim(WRITERS_BYTE, shared=True)
    except ClaimedError as held:
        run = f"a logged simulation (pid {held.pid})" if held.pid else "a logged simulation"
        raise WorldInUseError(f"{run} is writing {world}; wait for it to finish") from None


@contextmanager
def alone(world: Path) -> Iterator[None]:
    """Keep every other writer of ``world`` out for the block (a read-only file: nothing to
    keep out, its writes fail anyway).

    Raises:
        WorldInUseError: another process (or an engine of this one) writes the file.
    """
    if not writable(world):
        yield
        return
    claims = Claims(lock_path(world))
    try:
        claims.claim(WRITERS_BYTE)
    except ClaimedError as held:
        where = "this process" if held.pid == os.getpid() else holder_words(held.pid)
        raise WorldInUseError(
            f"{world} is open for writing in {where}; a logged simulation needs it alone: "
            "close it there, log to a copy, or run without logging"
        ) from None
    try:
        yield
    finally:
        claims.release()
