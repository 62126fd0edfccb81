"""The action rail beside the video, as in the app: counts the viewer can click, with their keys.

Each entry is a link to the feed screen's action, so a click does exactly what the key does.
A liked, saved or followed entry keeps its own colour: links here take only CSS `link-style`.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.style import Style
from textual.content import Content
from textual.widget import Widget

from engine import Video


def short_count(n: int) -> str:
    """1234 → 1.2k, 12345 → 12k, 1234567 → 1.2M."""
    for size, suffix in ((1_000_000, "M"), (1_000, "k")):
        if n >= size:
            scaled = n / size
            return f"{scaled:.1f}{suffix}" if scaled < 10 else f"{scaled:.0f}{suffix}"
    return str(n)


@dataclass(frozen=True)
class RailState:
    """What the rail shows for the video on screen."""

    video: Video
    liked: bool
    saved: bool
    following: bool


class ActionRail(Widget):
    """♥ likes, ✎ comments, ↗ shares, ★ saves, then follow / not interested / hide / report."""

    DEFAULT_CSS = """
    ActionRail {
        width: 12;
        height: auto;
        padding: 0 1;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.state: RailState | None = None
        # Actions left off the rail: a study condition that does not offer them.
        self.unavailable: frozenset[str] = frozenset()

    @property
    def link_style(self) -> Style:
        """The style Textual lays over every action link: `link-style` (an underline) alone.

        Textual's own adds the widget's single `link-color`, which would paint a liked ♥, a
        saved ★ and a followed ✓ the same grey as the rest; each entry's colour is its own.
        """
        return self.styles.link_style

    def show(self, state: RailState | None) -> None:
        """Show the counts and states of a video (None: empty rail).

        Args:
            state: The video with the viewer's like, save and follow states.
        """
        self.state = state
        self.refresh()  # always the same number of lines: no layout pass needed

    def render(self) -> Content:
        if self.state is None:
            return Content("")
        v, s = self.state.video, self.state
        entries = [
            ("♥", short_count(v.likes), "like", "l", s.liked, "$error"),
            ("✎", short_count(v.comments), "comment", "c", False, ""),
            ("↗", short_count(v.shares), "share", "s", False, ""),
            ("★", short_count(v.saves), "save", "f", s.saved, "$warning"),
            ("✓" if s.following else "+", "follow", "follow", "F", s.following, "$success"),
            ("✕", "nope", "not_interested", "n", False, ""),
            ("⊘", "hide", "hide", "h", False, ""),
            ("⚑", "report", "report", "r", False, ""),
        ]
        lines = []
        for icon, label, action, key, active, colour in entries:
            if action in self.unavailable:
                continue
            style = f"bold {colour}" if active else ""
            lines.append(
                Content.assemble(
                    (f"{icon} {label:<6}", f"{style} @click=screen.{action}".strip()),
                    (f" {key}", "$text-muted"),
                )
            )
            if action == "save":
                lines.append(Content(""))
        return Content("\n").join(lines)
