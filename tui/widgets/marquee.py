"""One line of text that scrolls sideways when it is longer than its width (the sound's name)."""

from __future__ import annotations

from textual.content import Content
from textual.timer import Timer
from textual.widget import Widget

GAP = "   ·   "


class Marquee(Widget):
    """Shows `text`; when it does not fit and `scrolling` is on, it scrolls at `STEPS_PER_S`."""

    DEFAULT_CSS = """
    Marquee {
        height: 1;
        width: 1fr;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    STEPS_PER_S = 4

    def __init__(self, text: str = "", *, scrolling: bool = True, id: str | None = None) -> None:
        super().__init__(id=id)
        self.text = text
        self.scrolling = scrolling
        self.offset_cells = 0
        self._timer: Timer | None = None

    def on_mount(self) -> None:
        self._timer = self.set_interval(1 / self.STEPS_PER_S, self._step, pause=True)
        self._sync()

    def set_text(self, text: str) -> None:
        """Show new text from its start.

        Args:
            text: The line to show.
        """
        self.text = text
        self.offset_cells = 0
        self._sync()
        self.refresh()

    def on_resize(self) -> None:
        self._sync()

    def _overflows(self) -> bool:
        return len(self.text) > self.size.width > 0

    def _sync(self) -> None:
        if self._timer is None:
            return
        if self.scrolling and self._overflows():
            self._timer.resume()
        else:
            self._timer.pause()

    def _step(self) -> None:
        self.offset_cells = (self.offset_cells + 1) % (len(self.text) + len(GAP))
        self.refresh()

    def render(self) -> Content:
        if not (self.scrolling and self._overflows()):
            return Content(self.text)
        loop = self.text + GAP + self.text
        start = self.offset_cells
        return Content(loop[start : start + self.size.width])
