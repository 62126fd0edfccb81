"""A study's pre- or post-questionnaire: every item on one scrolling page.

Required items are checked here, before anything is recorded; the screen returns the answers
and the app stores them through the study bundle (which checks them again).

After the feed, the participant's fingers are still on the feed keys when the feed ends by
itself: a `j` meant for the next video used to land in a text answer. So that questionnaire
opens with nothing focused and says the feed is over; Enter, Tab or a click starts it, and no
feed key does (Enter and Tab are not feed keys).
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
        Binding("enter", "start", show=False),  # reaches here only while nothing is focused
    ]
    AUTO_FOCUS = ""  # on_mount decides what has the focus

    def __init__(self, heading: str, items: list[Item], *, wait_for_start: bool = False) -> None:
        """Create the screen.

        Args:
            heading: What this questionnaire is (before or after the feed).
            items: Its items, in order.
            wait_for_start: Focus nothing until Enter, Tab or a click (right after the feed,
                so that keys still meant for the feed answer nothing).
        """
        super().__init__()
        self.heading = heading
        self.items = items
        self.wait_for_start = wait_for_start

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="questionnaire"):
            yield Label(self.heading, classes="title")
            if self.wait_for_start:
                yield Label(
                    "The feed is over. Press enter to answer a few last questions.",
                    id="start-hint",
                )
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
        if not self.wait_for_start:
            self.action_start()

    def action_start(self) -> None:
        """Put the focus on the first answer (nothing else while something has it)."""
        questions = self.query(Question)
        if questions and self.focused is None:
            questions.first().focus_answer()

    def on_descendant_focus(self) -> None:
        self.query("#start-hint").remove()  # started, by enter, tab or a click

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
