"""The profile side panel: what the engine believes about the viewer, after every reaction."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Label, Static

from engine import Profile
from engine.text import printable
from tui.session import muted_topics
from tui.widgets.interest_bars import InterestBars

TOP = 5
DISLIKED = 3  # topics of negative affinity shown under the liked ones
REACTION_WORDS = {
    "complete": "watched to the end",
    "skip": "skipped",
    "rewatch": "rewatched",
    "not_interested": "not interested",
    "hide_creator": "hid creator",
    "unhide_creator": "unhid creator",
}


def topic_rows(pairs: list[tuple[str, float]], labels: dict[str, str]) -> list[tuple[str, float]]:
    """The strongest positive topics, with display names."""
    return [(labels.get(slug, slug), value) for slug, value in pairs[:TOP] if value > 0]


def affinity_rows(affinity: dict[str, float], labels: dict[str, str]) -> list[tuple[str, float]]:
    """The topics of highest topic affinity, then the most disliked ones, with display names
    (the same numbers "why this video" and the summary give)."""
    ranked = sorted(((a, t) for t, a in affinity.items() if abs(a) >= 0.005), reverse=True)
    liked = [(t, a) for a, t in ranked if a > 0][:TOP]
    disliked = [(t, a) for a, t in ranked if a < 0][-DISLIKED:]
    return [(labels.get(t, t), a) for t, a in liked + disliked]


LANGUAGES = 3  # languages shown, most followed first
LANGUAGE_NAMES = {
    "en": "English",
    "pt": "Portuguese",
    "es": "Spanish",
    "de": "German",
    "fr": "French",
    "ja": "Japanese",
    "ko": "Korean",
    "id": "Indonesian",
}


def language_rows(followed: dict[str, float]) -> list[tuple[str, float]]:
    """The languages the viewer most likely follows, with their names (the chance, 0 to 1)."""
    ranked = sorted(followed.items(), key=lambda item: (-item[1], item[0]))[:LANGUAGES]
    return [(LANGUAGE_NAMES.get(code, code), chance) for code, chance in ranked]


def muted_text(profile: Profile, labels: dict[str, str]) -> str:
    """A line naming the topics a "not interested" mark still keeps out, if any."""
    muted = [labels.get(t, t) for t in muted_topics(profile)]
    return f"\n  topics: {', '.join(muted)}" if muted else ""


class ProfilePanel(VerticalScroll, can_focus=False):
    """Topic affinity, long- and short-term watch similarity and the languages followed as
    bars, follows and hides, the last reactions."""

    def __init__(
        self, labels: dict[str, str], *, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.labels = labels
        self._previous: dict[str, dict[str, float]] = {}

    def compose(self) -> ComposeResult:
        yield Label("YOUR PROFILE", classes="panel-title")
        yield Label("Topic affinity (-1 to 1)", classes="panel-heading")
        yield InterestBars(id="affinity")
        yield Label("Watch similarity, long-term", classes="panel-heading")
        yield InterestBars(id="long-term")
        yield Label("Watch similarity, right now", classes="panel-heading")
        yield InterestBars(id="short-term")
        yield Label("Languages you follow (chance)", classes="panel-heading")
        yield InterestBars(id="languages")
        yield Label("Follows and hides", classes="panel-heading")
        yield Static(id="choices")
        yield Label("Last reactions", classes="panel-heading")
        yield Static(id="reactions")

    def show(self, profile: Profile) -> None:
        """Show a profile; bars that moved since the last call get an arrow.

        Args:
            profile: The engine's current view of the viewer.
        """
        for panel_id, rows in (
            ("affinity", affinity_rows(profile.topic_affinity, self.labels)),
            ("long-term", topic_rows(profile.long_term_topics, self.labels)),
            ("short-term", topic_rows(profile.short_term_topics, self.labels)),
            ("languages", language_rows(profile.languages_followed)),
        ):
            self.query_one(f"#{panel_id}", InterestBars).show(rows, self._previous.get(panel_id))
            self._previous[panel_id] = dict(rows)
        follows = ", ".join(f"@{printable(h)}" for h in profile.follows[-4:]) or "none"
        hidden = ", ".join(f"@{printable(h)}" for h in profile.hidden_creators[-3:]) or "none"
        if profile.hidden_creators:
            hidden += "\n  unhide them in settings (,)"
        muted = muted_text(profile, self.labels)
        self.query_one("#choices", Static).update(
            Content(
                f"following {len(profile.follows)}: {follows}\n"
                f"hidden {len(profile.hidden_creators)}: {hidden}\n"
                f"not interested marks: {len(profile.not_interested)}{muted}"
            )
        )
        recent = [REACTION_WORDS.get(kind, kind) for kind, _ in profile.recent_reactions[-6:]]
        self.query_one("#reactions", Static).update(
            "\n".join(reversed(recent)) if recent else "none yet"
        )
