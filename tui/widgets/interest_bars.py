"""Horizontal bars for interest strengths, labelled, with an arrow when a value moved; a
negative value (a topic affinity below 0) is a bar of its size in the error colour."""

from __future__ import annotations

from textual.content import Content
from textual.widget import Widget

EIGHTHS = " ▏▎▍▌▋▊▉█"
LABEL_WIDTH = 13
VALUE_WIDTH = 5


def bar_text(value: float, width: int) -> str:
    """A bar `value` (0..1) of `width` cells, in eighth-cell steps."""
    eighths = round(min(max(value, 0.0), 1.0) * width * 8)
    full, part = divmod(eighths, 8)
    return ("█" * full + (EIGHTHS[part] if part else "")).ljust(width)


class InterestBars(Widget):
    """Rows of `label ████▌  0.57 ▲`; set with :meth:`show`."""

    DEFAULT_CSS = """
    InterestBars {
        height: auto;
        width: 1fr;
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.rows: list[tuple[str, float]] = []
        self.before: dict[str, float] = {}
        self.empty_text = "nothing yet"

    def show(self, rows: list[tuple[str, float]], before: dict[str, float] | None = None) -> None:
        """Show labelled values in -1..1, with ▲/▼ against `before` when given.

        Args:
            rows: (label, value) pairs, strongest first.
            before: Earlier values by label, to mark what moved.
        """
        self.rows = rows
        self.before = before or {}
        self.refresh(layout=True)

    def render(self) -> Content:
        if not self.rows:
            return Content.styled(self.empty_text, "$text-muted italic")
        bar_width = max(self.size.width - LABEL_WIDTH - VALUE_WIDTH - 3, 3)
        lines = []
        for label, value in self.rows:
            moved = value - self.before.get(label, value)
            arrow: str | tuple[str, str] = " "
            if abs(moved) > 0.005:
                arrow = ("▲", "$success") if moved > 0 else ("▼", "$error")
            lines.append(
                Content.assemble(
                    f"{label[:LABEL_WIDTH]:<{LABEL_WIDTH}} ",
                    (bar_text(abs(value), bar_width), "$accent" if value >= 0 else "$error"),
                    f" {value:>{VALUE_WIDTH}.2f}",
                    arrow,
                )
            )
        return Content("\n").join(lines)
