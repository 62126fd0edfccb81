"""The two ways a study ends: thanks after a declined consent, or the completion code."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Label, Static

from engine.text import printable


class DeclinedScreen(Screen[None]):
    """Thanks the participant who declined; q, enter or escape closes the app."""

    CSS_PATH = "study_end.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q,enter,escape", "app.quit", "close", key_display="q"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(classes="study-end"):
            yield Label("THANK YOU", classes="title")
            yield Static(
                "You chose not to take part. Only that decision was recorded: nothing else "
                "about you is stored."
            )
            yield Label("q or enter: close", classes="hint")


class CompletionScreen(Screen[None]):
    """The participant's completion code; q, enter or escape closes the app."""

    CSS_PATH = "study_end.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q,enter,escape", "app.quit", "close", key_display="q"),
    ]

    def __init__(self, code: str) -> None:
        """Create the screen.

        Args:
            code: The completion code.
        """
        super().__init__()
        self.code = code

    def compose(self) -> ComposeResult:
        with Vertical(classes="study-end"):
            yield Label("THANK YOU FOR TAKING PART", classes="title")
            yield Static("Your completion code:")
            yield Label(Content(printable(self.code)), id="code")
            yield Static("Copy it into the study's form to confirm that you took part.")
            yield Label("q or enter: close", classes="hint")
