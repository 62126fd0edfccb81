"""Every source a pick can be credited to, in priority order, and how each is told.

A video proposed by several candidate sources is credited to the first of them in this order.
The candidates, the receipt's sentences, the why-screen, the video details, the study debrief
and the simulator's trace all read this one registry, so a source added here has a name, a
code and words everywhere at once. Besides the engine's own candidate sources it holds what
whole policies credit their picks to (``random``, ``popular``, ``oracle``) and ``revisit``,
the impression of a viewing the viewer went back to. A developer's policy may credit a name
of its own: readers of the registry fall back to that name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Source(StrEnum):
    """A source's name as stored in ``impressions.source`` and receipts; order = priority."""

    BOOSTED = "boosted"
    FOLLOW = "follow"
    FRESH = "fresh"
    COENGAGEMENT = "co-engagement"
    COCREATOR = "co-engaged creators"
    TRENDING = "trending"
    LOCALE = "locale"
    EXPLORE = "explore"
    INTEREST = "interest"
    STARTER = "starter"
    CATALOG = "catalog"
    RANDOM = "random"
    POPULAR = "popular"
    ORACLE = "oracle"
    REVISIT = "revisit"


@dataclass(frozen=True)
class SourceWords:
    """How one source is told to a viewer.

    Attributes:
        receipt: The receipt's sentence; ``{creator}``, ``{pool}``, ``{country}`` and the
            other keys of ``Receipt.context`` are filled in.
        why: The why-screen's "Proposed by ..." words.
        short: The video details' "from ..." words.
    """

    receipt: str
    why: str
    short: str


WORDS: Mapping[Source, SourceWords] = {
    Source.BOOSTED: SourceWords("Operator boost.", "a boost (heating)", "a boost (heating)"),
    Source.FOLLOW: SourceWords(
        "From @{creator}, whom you follow.", "creators you follow", "a creator you follow"
    ),
    Source.FRESH: SourceWords(
        "A new upload getting its first audience (test pool {pool}).",
        "new uploads getting a first audience",
        "new uploads",
    ),
    Source.COENGAGEMENT: SourceWords(
        "Viewers who finished videos you finished also finished this.",
        "what viewers like you finished",
        "viewers like you",
    ),
    Source.COCREATOR: SourceWords(
        "Viewers who finished the creators you finished also finished @{creator}.",
        "creators that viewers like you also finished",
        "creators viewers like you finish",
    ),
    Source.TRENDING: SourceWords("Trending right now.", "what is trending", "trending"),
    Source.LOCALE: SourceWords(
        "Recent in your region ({country}).", "what is recent in your region", "your region"
    ),
    Source.EXPLORE: SourceWords(
        "Something outside your usual interests, to keep your feed diverse.",
        "exploration outside your interests",
        "something new for you",
    ),
    Source.INTEREST: SourceWords(
        "Found by its similarity to your interests (sign-up choices and reactions).",
        "your interests",
        "your interests",
    ),
    Source.STARTER: SourceWords(
        "Popular across topics, while the feed learns what you like.",
        "popular videos across topics, while the feed learns you",
        "popular picks",
    ),
    Source.CATALOG: SourceWords(
        "Your filters ruled out the usual candidates, so the whole catalogue was searched.",
        "the whole catalogue (your filters ruled out the usual candidates)",
        "the whole catalogue",
    ),
    Source.RANDOM: SourceWords(
        "Drawn at random from every video your filters allow.",
        "a random draw from every video allowed",
        "a random pick",
    ),
    Source.POPULAR: SourceWords(
        "Among the most watched-through videos you have not seen yet.",
        "the most watched-through videos",
        "popular videos",
    ),
    Source.ORACLE: SourceWords(
        "Chosen by the simulator's oracle, which knows this persona's true taste.",
        "the simulator's oracle",
        "the oracle",
    ),
    Source.REVISIT: SourceWords("You went back to it.", "you going back to it", "going back"),
}
# What a candidate set may credit, first to last. The oracle credits a whole policy's picks to
# itself and a revisit is no pick: neither is ever among a pick's candidates (nor in a funnel).
PRIORITY: tuple[Source, ...] = tuple(s for s in Source if s not in {Source.ORACLE, Source.REVISIT})
# A source's small integer code (its place in PRIORITY, then the others): the candidates' and
# the simulator trace's int8 columns. In memory only; what is stored is the name.
CODE: Mapping[str, int] = {name: code for code, name in enumerate(Source)}
NO_CODE = -1  # a source no registry entry names (a developer policy's own)


def receipt_sentence(source: str, context: Mapping[str, Any]) -> str:
    """The receipt's sentence for a source, filled in from the receipt's context."""
    if source not in WORDS:
        return f"Proposed by {source}."
    return WORDS[Source(source)].receipt.format(**context)


def why_words(source: str) -> str:
    """The why-screen's words for a source (its name when the registry has none)."""
    return WORDS[Source(source)].why if source in WORDS else source


def short_words(source: str) -> str:
    """The video details' words for a source (its name when the registry has none)."""
    return WORDS[Source(source)].short if source in WORDS else source
