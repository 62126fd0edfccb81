"""A study's first screen: the consent text, and the participant's agreement or refusal.

The screen only returns the decision; the app records it through the study bundle (declining
records nothing but the decline).
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Button, Footer, Header, Label, Static

from engine.text import printable


class ConsentScreen(Screen[bool]):
    """Shows the consent text; returns True for "I agree", False for "I do not agree"."""

    CSS_PATH = "study_consent.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "agree", "I agree"),
        Binding("n", "decline", "I do not agree"),
    ]

    def __init__(self, consent: str) -> None:
        """Create the screen.

        Args:
            consent: The study's consent text, as the researchers wrote it.
        """
        super().__init__()
        self.consent = consent

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="consent"):
            yield Label("BEFORE YOU START", classes="title")
            with VerticalScroll(id="consent-text"):
                yield Static(Content(printable(self.consent.strip(), keep_newlines=True)))
            with Horizontal(id="consent-buttons"):
                yield Button("I agree (y)", variant="primary", compact=True, id="agree")
                yield Button("I do not agree (n)", compact=True, id="decline")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one("#consent-text").focus()  # arrows scroll a long text

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "agree")

    def action_agree(self) -> None:
        """Take part."""
        self.dismiss(True)

    def action_decline(self) -> None:
        """Do not take part (nothing but the decision is recorded)."""
        self.dismiss(False)
