"""Why this video: the pick's receipt told in words a non-expert follows, every number shown."""

from __future__ import annotations

import math
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Label, Static

from engine import Receipt, Video
from engine.scoring import BOOST_FLOOR
from engine.sources import why_words
from engine.text import printable
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
    "similarity": "watch similarity",
    "topic": "topic affinity ({topic})",
    "hashtags": "its hashtags",
    "sound": "its sound",
    "creator": "its creator",
    "followed": "you follow the creator",
    "language": "in a language you follow",
    "country": "from your country",
    "freshness": "a new upload",
    "new from followed": "new from a creator you follow",
    "recent same topic": "{topic} just before",
    "recent same creator": "this creator just before",
    "recent same sound": "this sound just before",
    "recent skips of topic": "{topic} you just skipped",
    "topic mood": "your mood for {topic} over the last few videos",
    "duration (log)": "its length",
    "liked by everyone": "how often everyone likes it",
    "taste": "like the videos that held you",
    "co-engagement": "viewers who liked what you liked liked it",
    "similar viewers": "viewers who share your favourites finished it",
    "global rate": "how everyone reacts to it",
    "bias": "baseline",
    "calibration": "calibration (what served picks turned out to be)",
}
LEARNED_SHOWN = 3  # strongest terms told per action; the rest are summed


def signed(value: float) -> str:
    """+0.53, -1.20, and 0.00 for anything that rounds to zero (never -0.00)."""
    rounded = round(value, 2) + 0.0  # + 0.0 turns -0.0 into 0.0
    return f"{rounded:+.2f}" if rounded else "0.00"


def plain(value: float) -> str:
    """1.49, -1.49, and 0.00 for anything that rounds to zero (never -0.00)."""
    return f"{round(value, 2) + 0.0:.2f}"


def scoring_lines(receipt: Receipt) -> list[Content]:
    """Predicted chance × value = contribution, one line per action, then the sum."""
    lines = [Content("The engine guesses what you will do and adds up what each is worth:")]
    for action, term in sorted(receipt.terms.items(), key=lambda kv: -abs(kv[1]["contribution"])):
        words = ACTION_WORDS.get(action, action)
        contribution = signed(term["contribution"])
        style = "$text-muted" if contribution == "0.00" else "$success"
        lines.append(
            Content.assemble(
                f"  {words:<22}{term['p']:>7.1%} chance × {plain(term['value']):>7} = ",
                (f"{contribution:>6}", "$error" if contribution[0] == "-" else style),
            )
        )
    lines.append(
        Content.styled(f"  {'score before adjustments':<49}{plain(receipt.base_score):>6}", "bold")
    )
    return lines


def learned_lines(receipt: Receipt) -> list[Content]:
    """Each learned chance as its strongest weight × input terms (they add up to the chance's
    logit; the weights are learned from every viewer's outcomes)."""
    if not receipt.learned:
        return []
    lines = [Content("Each chance adds up learned weight × what it knows (in log-odds):")]
    for action, terms in receipt.learned.items():
        p = receipt.terms.get(action, {}).get("p", 0.0)
        ranked = sorted(terms.items(), key=lambda kv: -abs(kv[1]))
        told = [
            f"{printable(FEATURE_WORDS.get(k, k).format(**receipt.context))} {signed(v)}"
            for k, v in ranked[:LEARNED_SHOWN]
        ]
        rest = sum(v for _, v in ranked[LEARNED_SHOWN:])
        if abs(rest) >= 0.005:
            told.append(f"{len(ranked) - LEARNED_SHOWN} more {signed(rest)}")
        words = ACTION_WORDS.get(action, action)
        lines.append(Content(f"  {words:<22}{p:>7.1%}: " + " · ".join(told)))
    return lines


MULTIPLIER_WORDS = {
    "topic draw": "how sure the engine is about this topic for you (a Thompson draw from "
    "what held you, starting from the topic's audience: high while it knows little)",
}


def scaled(score: float, factor: float, reason: str) -> tuple[float, str]:
    """Apply a multiplier as the engine does: a score below zero is divided by it instead, so
    "more of this" never ranks a disliked video lower. Returns the new score and its line."""
    if score >= 0:
        return score * factor, f"× {factor:.3g} {reason}"
    return score / max(factor, 1e-6), f"÷ {factor:.3g} {reason} (a negative score is divided)"


def adjustment_steps(receipt: Receipt) -> tuple[list[str], float]:
    """The adjustments in the engine's order (engine/scoring.py ``score``, then the re-rank's
    repeat-creator penalty), and the score they come to.

    Args:
        receipt: The pick's receipt.

    Returns:
        One line per adjustment, and the score after them (the receipt's final score, unless
        the receipt was edited, as where a study conceals its heating).
    """
    factors = {
        name: factor
        for name, factor in receipt.multipliers.items()
        if name != "boost" and abs(factor - 1.0) > 1e-9
    }
    # The engine scales by the product of these at once; shown one by one, as each reads.
    score, _ = scaled(receipt.base_score, math.prod(factors.values()), "")
    lines = [
        scaled(receipt.base_score, factor, f"for {MULTIPLIER_WORDS.get(name, name)}")[1]
        for name, factor in factors.items()
    ]
    boost = receipt.multipliers.get("boost", 1.0)
    if boost != 1.0:
        if score < BOOST_FLOOR:
            score = BOOST_FLOOR
            lines.append(f"raised to {BOOST_FLOOR:.2f} before the boost (a boost lifts any video)")
        score *= boost
        lines.append(f"× {boost:g} for boost")
    if receipt.author_penalty != 1.0:
        score, line = scaled(score, receipt.author_penalty, "for another video by this creator")
        lines.append(line)
    return lines, score


def adjustment_lines(receipt: Receipt) -> list[Content]:
    """The adjustments, one per line, then the final score."""
    lines = [Content(f"  {line}") for line in adjustment_steps(receipt)[0]]
    if not lines:
        lines.append(Content("  none: no slider, fading 'not interested' or boost applied"))
    lines.append(Content.styled(f"  {'final score':<49}{plain(receipt.score):>6}", "bold"))
    return lines


def feature_words(name: str, context: dict[str, Any]) -> str:
    """What a score feature is, in the words the profile panel and the summary use; the topic
    names its affinity when the pick was made (the number the profile panel showed then)."""
    words = FEATURE_WORDS.get(name, name).format(**context)
    if name == "topic" and "topic_affinity" in context:  # receipts from before it was kept
        words = f"topic affinity {plain(context['topic_affinity'])} ({context['topic']})"
    return words


def match_lines(receipt: Receipt) -> list[Content]:
    """What in the profile made it match, strongest first: each feature's weighted part of
    the affinity score."""
    lines = []
    for name, value in sorted(receipt.features.items(), key=lambda kv: -abs(kv[1])):
        if abs(value) < 0.005:
            continue
        words = printable(feature_words(name, receipt.context))
        lines.append(
            Content.assemble(
                f"  {words:<34}", (f"{value:+.2f}", "$success" if value > 0 else "$error")
            )
        )
    return lines or [Content("  nothing in your profile yet: it is a first guess")]


def pick_line(receipt: Receipt) -> Content:
    """Where it came from, its rank and its chance of being shown."""
    f = receipt.funnel
    # A whole policy (random, the oracle) proposes nothing itself: its pick is its own.
    sources = ", ".join(why_words(s) for s in receipt.sources or [receipt.source])
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
            yield Label(
                Content(f"WHY THIS VIDEO · @{printable(self.video.creator_handle)}"),
                classes="title",
            )
            with VerticalScroll():
                if r.boost:
                    yield Static(
                        Content(
                            printable(
                                f"BOOSTED ×{r.boost['weight']:g} by {r.boost['by']}: "
                                f"{r.boost['reason']}"
                            )
                        ),
                        id="boosted",
                    )
                yield Label("In short", classes="heading")
                yield Static(Content("\n".join(f"• {printable(line)}" for line in r.reasons())))
                yield Label("Why it matched you (what each adds to the match)", classes="heading")
                yield Static(Content("\n").join(match_lines(r)))
                yield Label("How it was scored", classes="heading")
                yield Static(Content("\n").join(scoring_lines(r)))
                yield Label("Adjustments", classes="heading")
                yield Static(Content("\n").join(adjustment_lines(r)))
                yield Label("Where it came from and the pick", classes="heading")
                yield Static(pick_line(r))
                if r.learned:
                    yield Label("How each chance was learned", classes="heading")
                    yield Static(Content("\n").join(learned_lines(r)), id="learned")
            yield Label("escape or w: back to the feed", classes="hint")

    def action_close(self) -> None:
        self.dismiss(None)
