"""World time: what "now" means for publication, freshness, trends and fading.

World time is seconds relative to the world's epoch. By default it follows the wall clock, so
scheduled uploads appear as days pass; simulations inject a :class:`VirtualClock` and advance it
by the seconds their viewers watch.
"""

from __future__ import annotations

import math
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
    """World time that only moves when told to, for simulations and tests.

    Raises:
        ValueError: a start that is not a finite number (a nan or infinite "now" would be
            written into every impression and event, and no trend or test pool would move).
    """

    def __init__(self, start: float = 0.0) -> None:
        self.now = finite_time(start, "VirtualClock's start")

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move forward by ``seconds``.

        Raises:
            ValueError: a negative or non-finite step (set ``now`` to jump anywhere).
        """
        step = finite_time(seconds, "VirtualClock.advance")
        if step < 0:
            raise ValueError(f"VirtualClock.advance needs seconds >= 0, got {seconds!r}")
        self.now += step


def finite_time(value: float, what: str) -> float:
    """A world time or step given from outside, as a finite float.

    Raises:
        ValueError: not a number, nan or infinite.
    """
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if isinstance(value, (bool, str)) or not math.isfinite(number):
        raise ValueError(f"{what} must be a finite number of world seconds, got {value!r}")
    return number
