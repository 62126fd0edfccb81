"""The base of every screen that opens over the feed (why, discover, settings, prompts)."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.screen import ModalScreen, ScreenResultType


class Panel(ModalScreen[ScreenResultType]):
    """A modal screen from which q still leaves: Textual stops the binding chain at a modal
    screen, so the app's own q would otherwise not be heard until the panel closes."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "app.request_quit", "quit", show=False),
    ]
