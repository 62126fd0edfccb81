"""The clock of one viewing: where playback is, and when it becomes a completion or a rewatch.

Kept apart from the screen so the watch-time rules are plain code a test can drive second by
second: reaching the end is a completion, every further full loop while the viewer stays is a
rewatch, and leaving before the end is a skip with the seconds watched.
"""

from __future__ import annotations

from dataclasses import dataclass

SPEEDS = (1.0, 2.0, 4.0)


@dataclass
class Playback:
    """One viewing of one video.

    Attributes:
        duration_s: Length of the video.
        speed: Playback speed (1×, 2×, 4×): video seconds per wall-clock second.
        paused: Whether the clock is stopped.
        position_s: Seconds into the current loop.
        completed: The end was reached at least once in this viewing.
        rewatches: Extra loops watched to the end after the completion.
    """

    duration_s: float
    speed: float = 1.0
    paused: bool = False
    position_s: float = 0.0
    completed: bool = False
    rewatches: int = 0

    def advance(self, wall_s: float) -> list[str]:
        """Let `wall_s` seconds of wall-clock time pass.

        Args:
            wall_s: Elapsed real time; ignored while paused or when not positive.

        Returns:
            The closing kinds this stretch produced, in order: "complete" once per viewing,
            then "rewatch" for every further loop that reached the end.
        """
        if self.paused or wall_s <= 0 or self.duration_s <= 0:
            return []
        self.position_s += wall_s * self.speed
        crossed: list[str] = []
        while self.position_s >= self.duration_s:
            self.position_s -= self.duration_s
            if self.completed:
                self.rewatches += 1
                crossed.append("rewatch")
            else:
                self.completed = True
                crossed.append("complete")
        return crossed

    @property
    def watched_s(self) -> float:
        """Seconds to record if the viewer leaves now (meaningful only before completion)."""
        return round(min(self.position_s, self.duration_s), 2)

    @property
    def fraction(self) -> float:
        """How far through the current loop, 0..1."""
        return min(self.position_s / self.duration_s, 1.0) if self.duration_s > 0 else 0.0


def next_speed(speed: float) -> float:
    """The speed after `speed` in the 1× → 2× → 4× → 1× cycle."""
    later = [s for s in SPEEDS if s > speed]
    return later[0] if later else SPEEDS[0]
