"""Receipts: the full, storable explanation of one pick, and its telling in plain words.

A receipt holds the candidate funnel (what each source proposed, what each filter removed,
what diversity kept out), every score term of the picked video, its multipliers (a boost is
always named), its rank and its propensity. ``reasons()`` turns it into the coarse, honest
sentences a viewer reads under "why this video".
"""

from __future__ import annotations

from typing import Any

import msgspec

from engine.sources import Source, receipt_sentence


class Funnel(msgspec.Struct, frozen=True):
    proposed: dict[str, int]  # per source, before merging
    merged: int  # distinct candidates
    removed: dict[str, int]  # per filter, in order
    kept: int
    diversity_blocked: dict[str, int]
    slate: int


class Receipt(msgspec.Struct, frozen=True):
    video_id: int
    position: int
    policy: str
    source: str
    sources: list[str]  # every source that proposed this video
    funnel: Funnel
    features: dict[str, float]  # weighted contribution to the affinity
    affinity: float
    terms: dict[str, dict[str, float]]  # action -> p, value, contribution
    base_score: float
    multipliers: dict[str, float]
    author_penalty: float
    score: float  # after multipliers and diversity
    rank: int  # in the slate, 0 = best
    propensity: float
    slate: list[dict[str, Any]]  # the top of the slate: video_id, score, source, probability
    boost: dict[str, Any] | None  # weight, reason, by, until: never hidden
    context: dict[str, Any]  # names for the telling: topic, creator, sound, country, pool
    # The learned model's view (engine.learned), empty for other scorers: each action's
    # weight × input (they sum to logit P(action)), and the pick-time inputs and global-rate
    # logits its viewing is learned from.
    learned: dict[str, dict[str, float]] = msgspec.field(default_factory=dict)
    inputs: dict[str, float] = msgspec.field(default_factory=dict)
    rates: dict[str, float] = msgspec.field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = msgspec.to_builtins(self)
        return result

    def to_json(self) -> str:
        return msgspec.json.encode(self).decode()

    @classmethod
    def from_json(cls, text: str | bytes) -> Receipt:
        return msgspec.json.decode(text, type=cls)

    def reasons(self) -> list[str]:
        """Why this video, in words a non-expert follows (strongest reasons first)."""
        ctx = self.context
        lines: list[str] = []
        if self.boost:
            lines.append(
                f"BOOSTED by {self.boost['by']}: {self.boost['reason']} "
                f"(score ×{self.boost['weight']:g}). Operators can promote videos; "
                "we always say so."
            )
        lines.extend(_source_reasons(self.sources, ctx))
        if "debut" in ctx:
            lines.append(_debut_reason(ctx["debut"]))
        if "raised" in ctx:
            lines.append(_raised_reason(ctx["raised"], ctx["topic"]))
        lines.extend(_feature_reasons(self.features, ctx, said=set(self.sources)))
        if self.multipliers.get("topic slider", 1.0) != 1.0:
            lines.append(
                f"Your slider for {ctx['topic']} scales it ×{self.multipliers['topic slider']:g}."
            )
        chance = _chance(self.propensity)
        lines.append(
            f"Ranked #{self.rank + 1} of {self.funnel.slate} finalists out of "
            f"{self.funnel.merged} candidates; chance of being shown: {chance}."
        )
        return lines


def _chance(propensity: float) -> str:
    """A probability in words that never rounds a real chance to "0.0%" or to "certain"."""
    if propensity >= 0.9995:
        return "certain"
    percent = 100 * propensity
    if percent >= 0.1:
        return f"{percent:.1f}%"
    if percent <= 0:
        return "0%"
    # Two significant digits: a random pick among 20,000 videos is "0.005%", not "0.0%".
    return f"{percent:.2g}%" if percent >= 1e-4 else "under 0.0001%"


def _debut_reason(slot: dict[str, Any]) -> str:
    """Why a new creator's upload had the debut slot's chance (``Receipt.context["debut"]``)."""
    share, had, seen = slot["share"], int(slot["had"]), int(slot["seen"])
    uploads = "upload" if had == 1 else "uploads"
    return (
        f"New creators are owed {share:.0%} of your feed and had {had} {uploads} among the "
        f"last {seen} videos you saw, so {slot['mass']:.0%} of this pick's chance went to "
        "their uploads still in a test pool, whatever their score."
    )


def _raised_reason(slot: dict[str, Any], topic: str) -> str:
    """Why a video of a topic the viewer turned up had the slider slot's chance
    (``Receipt.context["raised"]``)."""
    had, seen = int(slot["had"]), int(slot["seen"])
    videos = "video" if had == 1 else "videos"
    return (
        f"You turned {topic} up with its slider: the topics you turned up are owed "
        f"{slot['share']:.0%} of your feed and had {had} {videos} among the last {seen} you "
        f"saw, so {slot['mass']:.0%} of this pick's chance went to their videos, whatever "
        "their score."
    )


def _source_reasons(sources: list[str], ctx: dict[str, Any]) -> list[str]:
    # The boost has a line of its own, first, saying who boosted it and why.
    return [receipt_sentence(s, ctx) for s in sources if s != Source.BOOSTED]


ACCOUNT_SETTINGS = frozenset({"language", "country"})  # the reasons said last, if at all


def _feature_reasons(features: dict[str, float], ctx: dict[str, Any], said: set[str]) -> list[str]:
    text = {
        "similarity": "Its content is close to your interests.",
        "topic": "{topic} is one of your interests.",
        "hashtags": "You engage with its hashtags.",
        "sound": "You like its sound, {sound}.",
        "creator": "You engage with @{creator}.",
        "followed": "You follow @{creator}.",
        "language": "It is in a language you follow.",
        "country": "It is from your country.",
        "freshness": "It is new.",
        "new from followed": "New from @{creator}, whom you follow.",
    }
    # The interest source already said the similarity part; saying it twice reads as padding.
    skip = {"similarity"} if "interest" in said else set()
    # What the viewer did comes first; the account's settings weigh least, so they only fill
    # what is left (most videos are in a language the viewer follows: said first, it would
    # crowd out the reasons that tell this video apart).
    strongest = sorted(
        (
            (k in ACCOUNT_SETTINGS, -v, k)
            for k, v in features.items()
            if v > 0.05 and k in text and k not in skip
        ),
    )[:3]
    return [text[k].format(**ctx) for _, _, k in strongest]
