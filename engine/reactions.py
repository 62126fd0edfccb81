"""The reactions a viewer can have, what each needs, and what each is worth.

Values are relative to a like (= 1): completion strong (stronger for longer videos), a skip
scaled by how much was watched (an early skip is negative), then share, save, comment and
follow in increasing strength; "not interested" and reports strongly negative.
"""

from __future__ import annotations

from engine.config import Reactions

CLOSING = frozenset({"skip", "complete"})  # these end an impression and carry watched_s
POSITIVE = frozenset({"rewatch", "like", "share", "save", "comment", "follow"})
NEGATIVE = frozenset({"not_interested", "hide_creator", "report"})
UNDO = {"unlike": "like", "unfollow": "follow", "unsave": "save", "unhide_creator": "hide_creator"}
KINDS = CLOSING | POSITIVE | NEGATIVE | frozenset(UNDO)
SCOPES = ("video", "creator", "sound", "topic")
REPORT_REASONS = ("spam", "misleading", "harmful", "sensitive", "hateful", "other")


def check_event(
    kind: str,
    *,
    watched_s: float | None,
    scope: str | None,
    reason: str | None,
    text: str | None,
) -> None:
    """Reject an event that cannot be recorded as given.

    Raises:
        ValueError: an unknown kind or a missing/invalid argument, named in the message.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown event kind {kind!r}; expected one of {', '.join(sorted(KINDS))}")
    if kind in CLOSING and (watched_s is None or watched_s < 0):
        raise ValueError(f"{kind} needs watched_s >= 0 (seconds watched)")
    if kind == "not_interested" and scope not in SCOPES:
        raise ValueError(f"not_interested needs scope= one of {', '.join(SCOPES)}")
    if kind == "report" and not reason:
        raise ValueError("report needs a reason=")
    if kind == "comment" and not (text and text.strip()):
        raise ValueError("comment needs text=")


def reaction_value(kind: str, values: Reactions, *, watched_s: float, duration_s: float) -> float:
    """What a reaction says about the viewer's interest in the video, like = 1."""
    if kind == "complete":
        return values.complete + values.complete_per_minute * duration_s / 60.0
    if kind == "skip":
        if watched_s < values.early_skip_s:
            return values.early_skip
        fraction = min(watched_s / max(duration_s, 1e-6), 1.0)
        return values.skip_max * (2.0 * fraction - 1.0)
    if kind == "unhide_creator":
        return 0.0  # lifting a hide restores the creator; it says nothing new about taste
    if kind in UNDO:
        return -reaction_value(UNDO[kind], values, watched_s=watched_s, duration_s=duration_s)
    value: float = getattr(values, kind)
    return value
