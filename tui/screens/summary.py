"""The summary shown on quit: what was watched, how interests moved, what the engine thinks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Label, Static

from engine import Profile
from engine.text import printable
from tui.session import SessionSummary, into_topics, muted_topics
from tui.widgets.playback_bar import clock_text

TOP = 3
LEVELS = "▁▂▃▄▅▆▇█"
TRAIL_WIDTH = 24
GAP = " "  # in a trail: the topic was not among the profile's top topics then
GAP_VALUE = "   –"


def plural(count: int, word: str) -> str:
    """3 videos, 1 video."""
    return f"{count} {word}{'' if count == 1 else 's'}"


def trail_text(values: Sequence[float | None], width: int = TRAIL_WIDTH) -> str:
    """A sparkline on a fixed 0..1 scale (Textual's rescales each line to its own range, which
    would blow a 0.01 wobble up to full height); the last `width` values, one cell each, and a
    blank cell for a value not known (drawing it as 0 would make a dip that never happened)."""
    top = len(LEVELS) - 1
    return "".join(
        GAP if v is None else LEVELS[round(min(max(v, 0.0), 1.0) * top)] for v in values[-width:]
    )


def value_text(value: float | None) -> str:
    """0.57, or a dash for a value not known."""
    return GAP_VALUE if value is None else f"{value:.2f}"


def belief_lines(profile: Profile, labels: dict[str, str]) -> list[str]:
    """The engine's view of the viewer, in sentences: what they are into by topic affinity
    (never a topic they said "not interested" in while that holds), and what they watch by
    watch similarity, in the words and numbers of the profile panel."""

    def names(pairs: list[tuple[str, float]]) -> str:
        top = [labels.get(slug, slug) for slug, value in pairs[:TOP] if value > 0]
        return ", ".join(top) or "nothing yet"

    into = ", ".join(f"{labels.get(t, t)} {a:.2f}" for t, a in into_topics(profile, TOP))
    muted = ", ".join(labels.get(t, t) for t in muted_topics(profile))
    follows = ", ".join(f"@{h}" for h in profile.follows[:5]) or "nobody"
    hidden = ", ".join(f"@{h}" for h in profile.hidden_creators[:5]) or "nobody"
    filters = ", ".join(profile.keyword_filters) or "none"
    marks = f"'Not interested' marks: {len(profile.not_interested)}"
    lines = [
        f"You are into (topic affinity): {into or 'nothing yet'}.",
        f"What you watch is closest to (watch similarity): long-term "
        f"{names(profile.long_term_topics)}; right now {names(profile.short_term_topics)}.",
        f"You follow {follows}; you hid {hidden}.",
        f"{marks}{f' (topics: {muted})' if muted else ''}; keyword filters: {filters}.",
        f"Seen {plural(profile.seen, 'video')} in total, {profile.served} served.",
    ]
    return [printable(line) for line in lines]  # handles and filters come from the file


class InterestRow(Horizontal):
    """One topic: its long-term trail, long-term start → now, its short-term trail."""

    def __init__(
        self, label: str, long_term: list[float | None], short_term: list[float | None]
    ) -> None:
        super().__init__(classes="interest")
        self.label = label
        self.long_term = long_term
        self.short_term = short_term

    def compose(self) -> ComposeResult:
        yield Label(Content(self.label), classes="interest-name")
        yield Label(trail_text(self.long_term), classes="interest-spark")
        start, now = self.long_term[0], self.long_term[-1]
        yield Label(f"{value_text(start)} → {value_text(now)} ", classes="interest-values")
        yield Label(trail_text(self.short_term), classes="interest-spark")


class SummaryScreen(Screen[None]):
    """Shown after the feed closed; q, enter or escape leaves the app."""

    CSS_PATH = "summary.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q,enter,escape", "app.quit", "quit", key_display="q"),
    ]

    def __init__(self, summary: SessionSummary) -> None:
        super().__init__()
        self.summary = summary

    def compose(self) -> ComposeResult:
        s = self.summary
        with Vertical(id="summary"):
            yield Label(Content(f"SESSION SUMMARY · @{printable(s.viewer)}"), classes="title")
            yield Static(
                f"{plural(s.videos_watched, 'video')} watched, {s.completions} to the end, "
                f"{plural(s.reactions, 'reaction')} in {clock_text(s.session_s)} "
                f"({clock_text(s.watched_s)} of video)."
            )
            yield Label("Watch similarity per topic, video by video (0-1)", classes="heading")
            with Horizontal(classes="interest interest-header"):
                yield Label("", classes="interest-name")
                yield Label("long-term", classes="interest-spark")
                yield Label("start → now ", classes="interest-values")
                yield Label("right now", classes="interest-spark")
            with VerticalScroll(id="interests"):
                for label, (long_term, short_term) in s.interest_trail.items():
                    yield InterestRow(label, long_term, short_term)
                if not s.interest_trail:
                    yield Label("No interests learned yet.")
            if any(None in trail for pair in s.interest_trail.values() for trail in pair):
                yield Label(
                    "blank, –: not among your top topics then (the profile keeps only those)",
                    classes="note",
                )
            yield Label("What the engine now believes about you", classes="heading")
            yield Static(Content("\n".join(belief_lines(s.profile_after, s.labels))))
            yield Label("q or enter: quit", classes="hint")
