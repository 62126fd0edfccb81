"""Why this video: the pick's receipt told in words a non-expert follows, every number shown."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Label, Static

from engine import Receipt, Video
from tui.screens.panel import Panel

ACTION_WORDS = {
    "complete": "watch it to the end",
    "like": "like it",
    "share": "share it",
    "save": "save it",
    "comment": "comment",
    "follow": "follow the creator",
    "skip": "skip it",
    "rewatch": "watch it again",
    "not_interested": "say not interested",
    "report": "report it",
}
FEATURE_WORDS = {
    "similarity": "close to what you watch",
    "topic": "your taste for {topic}",
    "hashtags": "its hashtags",
    "sound": "its sound",
    "creator": "its creator",
    "followed": "you follow the creator",
    "language": "in your language",
    "country": "from your country",
    "freshness": "a new upload",
}
SOURCE_WORDS = {
    "interest": "your interests",
    "follow": "creators you follow",
    "trending": "what is trending",
    "fresh": "new uploads getting a first audience",
    "explore": "exploration outside your interests",
    "locale": "what is recent in your region",
    "boosted": "an operator boost",
}


def scoring_lines(receipt: Receipt) -> list[Content]:
    """Predicted chance × value = contribution, one line per action, then the sum."""
    lines = [Content("The engine guesses what you will do and adds up what each is worth:")]
    for action, term in sorted(receipt.terms.items(), key=lambda kv: -abs(kv[1]["contribution"])):
        words = ACTION_WORDS.get(action, action)
        contribution = term["contribution"]
        lines.append(
            Content.assemble(
                f"  {words:<22}{term['p']:>7.1%} chance × {term['value']:>7.2f} = ",
                (f"{contribution:+.2f}", "$success" if contribution >= 0 else "$error"),
            )
        )
    lines.append(
        Content.styled(f"  {'score before adjustments':<53}{receipt.base_score:.2f}", "bold")
    )
    return lines


def adjustment_lines(receipt: Receipt) -> list[Content]:
    """Multipliers and penalties, then the final score."""
    changed = {k: m for k, m in receipt.multipliers.items() if abs(m - 1.0) > 1e-9}
    lines = [Content(f"  × {m:g} for {name}") for name, m in changed.items()]
    if receipt.author_penalty != 1.0:
        lines.append(Content(f"  × {receipt.author_penalty:g}: another video by this creator"))
    if not lines:
        lines.append(Content("  none: no slider, fading 'not interested' or boost applied"))
    lines.append(Content.styled(f"  final score {receipt.score:.2f}", "bold"))
    return lines


def match_lines(receipt: Receipt) -> list[Content]:
    """What in the profile made it match, strongest first."""
    lines = []
    for name, value in sorted(receipt.features.items(), key=lambda kv: -abs(kv[1])):
        if abs(value) < 0.005:
            continue
        words = FEATURE_WORDS.get(name, name).format(**receipt.context)
        lines.append(
            Content.assemble(
                f"  {words:<34}", (f"{value:+.2f}", "$success" if value > 0 else "$error")
            )
        )
    return lines or [Content("  nothing in your profile yet: it is a first guess")]


def pick_line(receipt: Receipt) -> Content:
    """Where it came from, its rank and its chance of being shown."""
    f = receipt.funnel
    sources = ", ".join(SOURCE_WORDS.get(s, s) for s in receipt.sources)
    return Content(
        f"Proposed by {sources}. "
        f"Ranked #{receipt.rank + 1} of {f.slate} finalists (out of {f.merged} candidates). "
        "The engine draws from the finalists at random, weighted by score, so you also see "
        f"things that are not the top guess: this one had a {receipt.propensity:.1%} chance."
    )


class WhyScreen(Panel[None]):
    """The receipt of the video on screen; escape or w closes it."""

    CSS_PATH = "why.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,w", "close", "close"),
    ]

    def __init__(self, receipt: Receipt, video: Video) -> None:
        super().__init__()
        self.receipt = receipt
        self.video = video

    def compose(self) -> ComposeResult:
        r = self.receipt
        with Vertical(id="why"):
            yield Label(Content(f"WHY THIS VIDEO · @{self.video.creator_handle}"), classes="title")
            with VerticalScroll():
                if r.boost:
                    yield Static(
                        Content(
                            f"BOOSTED ×{r.boost['weight']:g} by {r.boost['by']}: "
                            f"{r.boost['reason']}"
                        ),
                        id="boosted",
                    )
                yield Label("In short", classes="heading")
                yield Static(Content("\n".join(f"• {line}" for line in r.reasons())))
                yield Label("Why it matched you", classes="heading")
                yield Static(Content("\n").join(match_lines(r)))
                yield Label("How it was scored", classes="heading")
                yield Static(Content("\n").join(scoring_lines(r)))
                yield Label("Adjustments", classes="heading")
                yield Static(Content("\n").join(adjustment_lines(r)))
                yield Label("Where it came from and the pick", classes="heading")
                yield Static(pick_line(r))
            yield Label("escape or w: back to the feed", classes="hint")

    def action_close(self) -> None:
        self.dismiss(None)
