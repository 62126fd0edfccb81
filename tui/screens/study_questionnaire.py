"""A study's pre- or post-questionnaire: every item on one scrolling page.

Required items are checked here, before anything is recorded; the screen returns the answers
and the app stores them through the study bundle (which checks them again).
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Footer, Header, Input, Label

from engine.study import Item
from tui.widgets.question import Question


class QuestionnaireScreen(Screen[dict[str, Any]]):
    """Asks the items; returns {item id: answer} for the answered ones."""

    CSS_PATH = "study_questionnaire.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "submit", "continue"),
    ]

    def __init__(self, heading: str, items: list[Item]) -> None:
        """Create the screen.

        Args:
            heading: What this questionnaire is (before or after the feed).
            items: Its items, in order.
        """
        super().__init__()
        self.heading = heading
        self.items = items

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="questionnaire"):
            yield Label(self.heading, classes="title")
            yield Label(
                "tab: next question · arrows and enter: choose · * required",
                classes="hint",
            )
            with VerticalScroll(id="questions"):
                for number, item in enumerate(self.items, 1):
                    yield Question(item, number)
                yield Button("Continue", variant="primary", compact=True, id="submit")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        questions = self.query(Question)
        if questions:
            questions.first().focus_answer()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.focus_next()  # enter in a text answer moves on, like tab

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.action_submit()

    def action_submit(self) -> None:
        """Return the answers, or point at the required items still unanswered."""
        # A choice made by the key just before this one settles through messages of its own:
        # read the answers once they are handled (keys typed fast, or sent by a script).
        self.call_after_refresh(self._submit)

    def _submit(self) -> None:
        if not self.is_current:
            return  # submitted twice in a row: the first one already closed the screen
        questions = list(self.query(Question))
        missing = [q for q in questions if q.item.required and q.value is None]
        for question in questions:
            question.set_class(question in missing, "-missing")
        if missing:
            numbers = ", ".join(str(q.number) for q in missing)
            self.notify(f"Please answer question {numbers}.", severity="warning", timeout=3)
            missing[0].focus_answer()
            missing[0].scroll_visible()
            return
        self.dismiss({q.item.id: q.value for q in questions if q.value is not None})
