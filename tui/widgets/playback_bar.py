"""The playback line under the video: play state, elapsed time, a progress bar, length, speed.

It repaints only when what it shows changes (a cell of the bar, a second of the clock), so the
20-per-second updates from the feed cost nothing between visible changes.
"""

from __future__ import annotations

from textual.content import Content
from textual.widget import Widget

from tui.playback import Playback


def clock_text(seconds: float) -> str:
    """Seconds as m:ss."""
    whole = max(int(seconds), 0)
    return f"{whole // 60}:{whole % 60:02d}"


class PlaybackBar(Widget):
    """▶ 0:03 ━━━━━━━━──── 0:15 2× — set with :meth:`show`."""

    DEFAULT_CSS = """
    PlaybackBar {
        height: 1;
        width: 1fr;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._state: tuple[object, ...] = ()
        self._playback = Playback(duration_s=0.0)

    def show(self, playback: Playback) -> None:
        """Reflect a viewing's clock; repaints only if the visible text changes.

        Args:
            playback: The viewing on screen (read, never changed).
        """
        self._playback = playback
        state = self._visible_state()
        if state != self._state:
            self._state = state
            self.refresh()

    def _visible_state(self) -> tuple[object, ...]:
        p = self._playback
        return (
            int(p.position_s),
            int(p.duration_s),
            round(p.fraction * max(self.size.width, 1) * 2),
            p.paused,
            p.speed,
            p.completed,
        )

    def render(self) -> Content:
        p = self._playback
        icon = "⏸" if p.paused else ("↻" if p.completed else "▶")
        left = f"{icon} {clock_text(p.position_s)} "
        right = f" {clock_text(p.duration_s)} {p.speed:g}×"
        width = max(self.size.width - len(left) - len(right), 0)
        halves = round(p.fraction * width * 2)
        played = "━" * (halves // 2) + ("╸" if halves % 2 else "")
        rest = "━" * max(width - len(played), 0)
        return Content.assemble(
            (left, "$text-muted" if p.paused else "$text"),
            (played, "$accent"),
            (rest, "$surface-lighten-2"),
            (right, "$text-muted"),
        )
