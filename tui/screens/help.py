"""The feed's own help: every key it answers to, in the feed's words, with the numbered choices
behind `n` and `r`.

Textual's generic key panel listed `super+c`, `^q` and `^p` and never said what `n` 1–4 or
`r` 1–6 choose. The feed decides which entries are shown (a study leaves out the controls its
condition does not grant), so this screen only lays them out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Label, Static

from engine.vocabulary import NotInterestedScope, ReportReason
from tui.screens.panel import Panel
from tui.screens.prompts import REPORT_WORDS, SCOPE_WORDS

KEYS_WIDTH = 13


@dataclass(frozen=True)
class HelpEntry:
    """One line of the help: the keys, what they do, and the feed action they run."""

    keys: str
    words: str
    action: str  # the feed screen's action, so a study can leave out what it does not grant
    choices: tuple[str, ...] = ()  # the numbered choices the key asks for


FEED_KEYS = (
    HelpEntry("j ↓ space", "next video (the one you leave is a skip unless it ended)", "next"),
    HelpEntry("k ↑", "previous video", "previous"),
    HelpEntry("p", "pause / resume", "pause"),
    HelpEntry("v", "playback speed 1× → 2× → 4× (kept for next time)", "speed"),
    HelpEntry("l", "like; again: unlike", "like"),
    HelpEntry("c", "comment (one line; enter sends, escape cancels)", "comment"),
    HelpEntry("s", "share", "share"),
    HelpEntry("f", "save to favourites; again: unsave", "save"),
    HelpEntry("F", "follow the creator; again: unfollow", "follow"),
    HelpEntry(
        "n",
        "not interested, then the next video; in what:",
        "not_interested",
        tuple(SCOPE_WORDS[scope] for scope in NotInterestedScope),
    ),
    HelpEntry("h", "hide the creator (never shown again), then the next video", "hide"),
    HelpEntry(
        "r",
        "report, then the next video; why:",
        "report",
        tuple(REPORT_WORDS[reason] for reason in ReportReason),
    ),
    HelpEntry("w", "why this video: the pick explained", "why"),
    HelpEntry("i", "your profile beside the video (again: close)", "profile"),
    HelpEntry("x", "x-ray: how this pick was made (again: close)", "xray"),
    HelpEntry("d", "trends: hashtags and sounds", "discover"),
    HelpEntry(",", "settings: your feed's controls and the playback speed", "settings"),
    HelpEntry("?", "this help (again or escape: close)", "help"),
    HelpEntry("q ctrl+q", "quit: closes the video, then your session summary", "quit"),
    HelpEntry("ctrl+c", "leave at once (the video on screen is closed first)", "quit"),
)
MOUSE = "Mouse: click the video to pause, the wheel over it scrolls, the rail's entries react."


def entry_lines(entry: HelpEntry) -> Content:
    """`n            not interested…` and, under it, `1 this video  2 …` numbered."""
    line = Content.assemble((f"{entry.keys:<{KEYS_WIDTH}}", "bold $accent"), entry.words)
    if not entry.choices:
        return line
    numbered = [
        Content.assemble(" " * KEYS_WIDTH + "  ", (f"{n}", "bold $accent"), f"  {choice}")
        for n, choice in enumerate(entry.choices, 1)
    ]
    return Content("\n").join([line, *numbered])


class HelpScreen(Panel[None]):
    """Every key of the feed; escape or ? closes it."""

    CSS_PATH = "help.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark", "close", "close"),
    ]

    def __init__(self, entries: Sequence[HelpEntry]) -> None:
        """Create the screen.

        Args:
            entries: The keys to list, in order (the feed leaves out what it does not offer).
        """
        super().__init__()
        self.entries = tuple(entries)

    def compose(self) -> ComposeResult:
        with Vertical(id="help"):
            yield Label("KEYS OF THE FEED", classes="title")
            with VerticalScroll():
                yield Static(Content("\n").join(entry_lines(e) for e in self.entries))
                yield Static(MOUSE, classes="note")
            yield Label("escape or ?: back to the feed", classes="hint")

    def action_close(self) -> None:
        self.dismiss(None)
