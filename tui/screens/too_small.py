"""Shown instead of a garbled layout when the terminal is smaller than the app needs."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Static


class TooSmallScreen(Screen[None]):
    """Says how big the terminal must be; the app pops it when the terminal grows."""

    CSS_PATH = "too_small.tcss"

    def __init__(self, minimum: tuple[int, int]) -> None:
        super().__init__()
        self.minimum = minimum

    def compose(self) -> ComposeResult:
        yield Static(id="too-small")

    def on_resize(self) -> None:
        width, height = self.app.size
        min_width, min_height = self.minimum
        self.query_one("#too-small", Static).update(
            Content(
                f"foryou needs a terminal of at least {min_width}×{min_height}; "
                f"this one is {width}×{height}. Enlarge it, or press q to quit."
            )
        )
