"""A key cap under the action rail: the key the autopilot just pressed, so an audience sees it.

The viewer's own keys need no echo; a key pressed on their behalf does, or the feed seems to
move by itself. The cap lights up when pressed and dims after a moment, like a real key.
"""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static


class KeyCap(Static):
    """Hidden until :meth:`press` or :meth:`annotate`; :meth:`clear` hides it again."""

    DEFAULT_CSS = """
    KeyCap {
        width: 12;
        height: auto;
        margin-top: 1;
        border: round $accent;
        text-align: center;
        display: none;
    }
    KeyCap.-shown {
        display: block;
    }
    KeyCap.-lit {
        border: round $warning;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.key = ""
        self.label = ""
        self.note = ""

    def press(self, key: str, label: str, *, lit_s: float) -> None:
        """Show a key being pressed; it stays lit for `lit_s` seconds.

        Args:
            key: The key as printed on it ("l", "j", "1", ...).
            label: What it does ("like", "next", ...).
            lit_s: Seconds before the cap dims.
        """
        self.key, self.label = key, label
        self.add_class("-shown", "-lit")
        self.set_timer(lit_s, self._dim, name="key-cap")
        self._draw()

    def annotate(self, note: str) -> None:
        """A line under the key (the autopilot's plan for the video on screen)."""
        self.note = note
        self.add_class("-shown")
        self._draw()

    def clear(self) -> None:
        """Hide the cap."""
        self.remove_class("-shown", "-lit")

    def _dim(self) -> None:
        self.remove_class("-lit")
        self._draw()

    def _draw(self) -> None:
        key_style = "bold reverse $warning" if self.has_class("-lit") else "bold reverse"
        lines = [Content.styled("autopilot", "$accent")]
        lines.append(Content.styled(f" {self.key} ", key_style) if self.key else Content(""))
        lines.append(Content(self.label))
        lines.append(Content.styled(self.note, "$text-muted"))
        self.update(Content("\n").join(lines))
