"""The debrief: a participant's own interest trajectory and what the engine assumed about them.

Shown after the post-questionnaire when the study asks for it. What the condition does not
disclose (its heating) stays out of it here too, as it did in the feed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Header, Label, Static

from engine.sources import short_words
from engine.study import Debrief
from engine.text import printable
from tui.screens.summary import belief_lines, plural, trail_text
from tui.study_session import untold_source

TRAIL_WIDTH = 32
TOPICS_WATCHED = 5
MOVED = 0.005  # a topic whose interest never went beyond this is left out of the chart


def resample(values: Sequence[float], width: int = TRAIL_WIDTH) -> list[float]:
    """At most `width` values spread evenly over the whole sequence, first and last kept."""
    if len(values) <= width:
        return list(values)
    last = len(values) - 1
    return [values[round(i * last / (width - 1))] for i in range(width)]


def share_text(shares: dict[str, float], labels: dict[str, str]) -> str:
    """ "Cooking 38% · Pets 25% · …" (the largest shares)."""
    top = list(shares.items())[:TOPICS_WATCHED]
    return " · ".join(f"{labels.get(topic, topic)} {share:.0%}" for topic, share in top)


def sources_text(sources: dict[str, int], *, heating_disclosed: bool) -> str:
    """ "your interests 5 · trending 2 · …"; undisclosed heating is told as the feed told it."""
    counts: dict[str, int] = {}
    for source, n in sources.items():
        told = source if heating_disclosed else untold_source(source)
        counts[told] = counts.get(told, 0) + n
    ranked = sorted(counts.items(), key=lambda kv: -kv[1])
    return " · ".join(f"{short_words(source)} {n}" for source, n in ranked)


class TrajectoryRow(Horizontal):
    """One topic: the engine's affinity for it after every video, and where it started and ended."""

    def __init__(self, label: str, values: list[float]) -> None:
        super().__init__(classes="trajectory")
        self.label = label
        self.values = values

    def compose(self) -> ComposeResult:
        yield Label(Content(self.label), classes="trajectory-name")
        yield Label(trail_text(resample(self.values), TRAIL_WIDTH), classes="trajectory-spark")
        first, last = self.values[0], self.values[-1]
        yield Label(f"{first:+.2f} → {last:+.2f}", classes="trajectory-values")


class DebriefScreen(Screen[None]):
    """What the feed learned; enter or escape goes on to the completion code."""

    CSS_PATH = "study_debrief.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter,escape", "done", "continue", key_display="enter"),
    ]

    def __init__(
        self, debrief: Debrief, labels: dict[str, str], *, boost_disclosed: bool | None
    ) -> None:
        """Create the screen.

        Args:
            debrief: The participant's debrief (:meth:`StudyBundle.debrief`).
            labels: Topic slug -> display name.
            boost_disclosed: The condition's heating is disclosed (None: it has none).
        """
        super().__init__()
        self.debrief = debrief
        self.labels = labels
        self.boost_disclosed = boost_disclosed

    def compose(self) -> ComposeResult:
        d, labels = self.debrief, self.labels
        chosen = (
            printable(", ".join(labels.get(t, t) for t in d.interests))
            or "nothing (you skipped it)"
        )
        yield Header()
        with Vertical(id="debrief"):
            yield Label("WHAT THE FEED LEARNED ABOUT YOU", classes="title")
            with VerticalScroll(id="debrief-body"):
                yield Static(
                    Content(
                        f"You watched {plural(len(d.points), 'video')}. At the start you "
                        f"chose: {chosen}."
                    )
                )
                yield Label(
                    "Your interest trajectory, video by video (the feed's affinity for each "
                    "topic, -1 to 1)",
                    classes="heading",
                )
                moved = {t: v for t, v in d.trajectory.items() if any(abs(x) > MOVED for x in v)}
                for topic, values in moved.items():
                    yield TrajectoryRow(labels.get(topic, topic), values)
                if not moved:
                    yield Static(
                        "No topic stood out yet: likes, shares, saves, follows and 'not "
                        "interested' move these most."
                    )
                yield Label("What you watched", classes="heading")
                yield Static(Content(share_text(d.watched_share, labels) or "nothing"))
                yield Label("Where your videos came from", classes="heading")
                disclosed = self.boost_disclosed is not False
                yield Static(Content(sources_text(d.sources, heating_disclosed=disclosed)))
                if self.boost_disclosed and d.boosted_seen:
                    yield Static(
                        Content(
                            f"{plural(d.boosted_seen, 'video')} you watched "
                            f"{'was' if d.boosted_seen == 1 else 'were'} boosted by the study."
                        ),
                        id="boosted",
                    )
                yield Label("What the engine assumed about you", classes="heading")
                yield Static(Content("\n".join(belief_lines(d.assumed, labels))))
            yield Label("enter: continue to your completion code", classes="hint")
        yield Footer(compact=True, show_command_palette=False)

    def action_done(self) -> None:
        """On to the completion code."""
        self.dismiss(None)
