"""A big heart that pops over the video for a moment when the viewer likes it."""

from __future__ import annotations

from textual.widgets import Static

HEART = "▄██▄▄██▄\n████████\n ▀████▀ \n   ▀▀   "
SHOW_S = 0.8


class HeartBurst(Static):
    """Hidden until :meth:`burst`; hides itself again after `SHOW_S` seconds."""

    DEFAULT_CSS = """
    HeartBurst {
        width: 8;
        height: 4;
        color: $error;
        display: none;
    }
    HeartBurst.-shown {
        display: block;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(HEART, id=id)

    def burst(self) -> None:
        """Show the heart; a second burst while shown restarts its timer."""
        self.add_class("-shown")
        self.set_timer(SHOW_S, self._hide, name="heart")

    def _hide(self) -> None:
        self.remove_class("-shown")
