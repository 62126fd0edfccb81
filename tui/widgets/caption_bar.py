"""The tour's caption bar: the chapter's claim, what to watch for, and the takeaway once shown.

Readable from the back of a room: the chapter's counter (the loved share of the last 10, a
topic's appearances after "not interested", a pool's viewers) is drawn in large numerals when
the terminal is wide enough for the presenter layout, as a plain number otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Digits, Label, Static


@dataclass(frozen=True)
class CaptionView:
    """What the caption bar shows.

    Attributes:
        title: "Chapter 2 of 8 · What you do weighs most".
        caption: What to watch for.
        status: Live lines (a pool's reach, a boost's way); they stay with the takeaway.
        takeaway: The one-line takeaway, once the evidence is on screen (None: waiting).
        evidence: What the evidence showed, in one line (with the takeaway).
        counter: The chapter's number, if it counts something.
        counter_label: What the number counts.
        keys: The presenter's keys ("← → chapters · q summary").
    """

    title: str
    caption: str
    status: str = ""
    takeaway: str | None = None
    evidence: str = ""
    counter: int | None = None
    counter_label: str = ""
    keys: str = ""


class CaptionBar(Horizontal):
    """The chapter's caption over the feed; set with :meth:`show`."""

    narrow = False  # set by the screen: no large numerals, the count goes in the status

    def compose(self) -> ComposeResult:
        with Vertical(id="caption-text"):
            yield Label(id="caption-title")
            yield Static(id="caption-watch")
            yield Static(id="caption-status")
            yield Static(id="caption-takeaway")
        with Vertical(id="caption-counter"):
            yield Digits(id="counter-digits")
            yield Label(id="counter-label")

    def show(self, view: CaptionView) -> None:
        """Show a chapter's caption, its status or takeaway, and its counter."""
        self.query_one("#caption-title", Label).update(Content(f"{view.title}   {view.keys}"))
        self.query_one("#caption-watch", Static).update(Content(f"Watch: {view.caption}"))
        counting = view.counter is not None
        lines = [view.status or "waiting for the evidence…"]
        if view.takeaway is not None and not view.status:  # a live status stays: it is the evidence
            lines = [f"On screen: {view.evidence}"]
        if counting and self.narrow:  # no room for large numerals: the count leads the status
            lines.insert(0, f"{view.counter} {view.counter_label}")
        self.query_one("#caption-status", Static).update(Content("\n".join(lines)))
        takeaway = self.query_one("#caption-takeaway", Static)
        takeaway.display = view.takeaway is not None
        takeaway.update(Content(f"✓ {view.takeaway}" if view.takeaway else ""))
        self.set_class(view.takeaway is not None, "-shown")
        self.query_one("#caption-counter").display = counting and not self.narrow
        if counting:
            self.query_one(Digits).update(str(view.counter))
            self.query_one("#counter-label", Label).update(Content(view.counter_label))
