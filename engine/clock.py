"""World time: what "now" means for publication, freshness, trends and fading.

World time is seconds relative to the world's epoch. By default it follows the wall clock, so
scheduled uploads appear as days pass; simulations inject a :class:`VirtualClock` and advance it
by the seconds their viewers watch.
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def __call__(self) -> float:
        """The current world time in seconds."""
        ...


class WallClock:
    """World time that advances with the wall clock from the world's epoch."""

    def __init__(self, epoch_unix: float) -> None:
        self.epoch_unix = epoch_unix

    def __call__(self) -> float:
        return time.time() - self.epoch_unix


class VirtualClock:
    """World time that only moves when told to, for simulations and tests."""

    def __init__(self, start: float = 0.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
