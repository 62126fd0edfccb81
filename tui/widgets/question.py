"""One questionnaire item on screen: its text and the control that answers it.

A Likert item is a row of points (1..scale, its anchors under them), a choice is a list of
options (several may be ticked when the item allows it), free text is an input line. The
widget knows the answer's value in the form :meth:`StudyBundle.record_answers` takes.
"""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Input, Label, RadioButton, RadioSet, SelectionList

from engine.study import Choice, Item, Likert
from engine.text import printable


def anchor_line(item: Likert) -> str:
    """ "1 = never … 5 = always" for an item whose anchors label its two ends."""
    if len(item.anchors) != 2:
        return ""
    low, high = item.anchors
    return f"1 = {low} … {item.scale} = {high}"


class Question(Vertical):
    """A numbered item; :attr:`value` is None until it is answered."""

    def __init__(self, item: Item, number: int) -> None:
        """Create the widget.

        Args:
            item: The questionnaire item.
            number: Its place in the questionnaire, from 1.
        """
        super().__init__(classes="question")
        self.item = item
        self.number = number

    def compose(self) -> ComposeResult:
        item = self.item
        mark = " *" if item.required else " (optional)"
        yield Label(
            Content(printable(f"{self.number}. {item.text}{mark}")), classes="question-text"
        )
        if isinstance(item, Likert):
            every_point = len(item.anchors) == item.scale
            with RadioSet(compact=True, classes="likert" + (" -labelled" if every_point else "")):
                for point in range(1, item.scale + 1):
                    label = f"{point} {item.anchors[point - 1]}" if every_point else str(point)
                    yield RadioButton(Content(printable(label)))
            if anchor_line(item):
                yield Label(Content(printable(anchor_line(item))), classes="anchors")
        elif isinstance(item, Choice) and item.multiple:
            yield SelectionList[str](*((Content(printable(o)), o) for o in item.options))
            yield Label("space: tick or untick", classes="anchors")
        elif isinstance(item, Choice):
            with RadioSet(compact=True):
                for option in item.options:
                    yield RadioButton(Content(printable(option)))
        else:
            yield Input(
                placeholder="your answer" + ("" if item.required else " (optional)"),
                max_length=item.max_chars,
                compact=True,
            )

    @property
    def value(self) -> Any:
        """The answer: a Likert point, an option, a list of options or text; None if none."""
        item = self.item
        if isinstance(item, Likert):
            pressed = self.query_one(RadioSet).pressed_index
            return pressed + 1 if pressed >= 0 else None
        if isinstance(item, Choice) and item.multiple:
            return list(self.query_one(SelectionList).selected) or None
        if isinstance(item, Choice):
            pressed = self.query_one(RadioSet).pressed_index
            return item.options[pressed] if pressed >= 0 else None
        return self.query_one(Input).value.strip() or None

    def focus_answer(self) -> None:
        """Put the focus on the control that answers this item."""
        self.query_one("RadioSet, SelectionList, Input").focus()
