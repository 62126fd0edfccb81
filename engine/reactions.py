"""The reactions a viewer can have, what each needs, and what each is worth.

Values are relative to a like (= 1): completion strong (stronger for longer videos), a skip
scaled by how much was watched (an early skip is negative), then share, save, comment and
follow in increasing strength; "not interested" and reports strongly negative.
"""

from __future__ import annotations

import math

from engine.config import Reactions
from engine.text import MAX_FREE_TEXT, check_free_text
from engine.vocabulary import EventKind, NotInterestedScope, ReportReason

CLOSING = frozenset({EventKind.SKIP, EventKind.COMPLETE})  # end an impression, carry watched_s
POSITIVE = frozenset(
    {
        EventKind.REWATCH,
        EventKind.LIKE,
        EventKind.SHARE,
        EventKind.SAVE,
        EventKind.COMMENT,
        EventKind.FOLLOW,
    }
)
NEGATIVE = frozenset({EventKind.NOT_INTERESTED, EventKind.HIDE_CREATOR, EventKind.REPORT})
UNDO: dict[str, EventKind] = {
    EventKind.UNLIKE: EventKind.LIKE,
    EventKind.UNFOLLOW: EventKind.FOLLOW,
    EventKind.UNSAVE: EventKind.SAVE,
    EventKind.UNHIDE_CREATOR: EventKind.HIDE_CREATOR,
}
# What Engine.record accepts: every kind but refresh, which has an entry point of its own.
KINDS = CLOSING | POSITIVE | NEGATIVE | frozenset(UNDO)
SCOPES = tuple(NotInterestedScope)
REPORT_REASONS = tuple(ReportReason)
# Which kinds each optional detail of an event belongs to.
DETAIL_KINDS = {
    "watched_s": (EventKind.SKIP, EventKind.COMPLETE),
    "scope": (EventKind.NOT_INTERESTED,),
    "reason": (EventKind.REPORT,),
    "text": (EventKind.COMMENT,),
}
MAX_WATCHED_S = 86_400.0  # one impression, loops included, lasts at most a day


def check_event(
    kind: str,
    *,
    watched_s: float | None,
    scope: str | None,
    reason: str | None,
    text: str | None,
) -> None:
    """Reject an event that cannot be recorded as given.

    Each detail belongs to one kind: ``watched_s`` (seconds, finite, ``0 <= watched_s <=
    MAX_WATCHED_S``) to the closing kinds, ``scope`` (one of :data:`SCOPES`) to
    ``not_interested``, ``reason`` (one of :data:`REPORT_REASONS`) to ``report`` and ``text``
    (at most :data:`~engine.text.MAX_FREE_TEXT` characters, no NUL or other control character
    but line breaks and tabs) to ``comment``. The cap on ``watched_s`` is a fixed day rather
    than a multiple of the video's length: loops are legitimate, and a day bounds what one
    impression could last.

    Raises:
        ValueError: an unknown kind, a missing, invalid or misplaced detail, named in the message.
    """
    if not isinstance(kind, str) or kind not in KINDS:
        raise ValueError(f"unknown event kind {kind!r}; expected one of {', '.join(sorted(KINDS))}")
    given = {"watched_s": watched_s, "scope": scope, "reason": reason, "text": text}
    for name, value in given.items():
        if value is not None and kind not in DETAIL_KINDS[name]:
            owners = " or ".join(DETAIL_KINDS[name])
            raise ValueError(f"{name}= belongs to {owners} events, not to {kind}")
    if kind in CLOSING:
        _check_watched(kind, watched_s)
    if kind == "not_interested" and scope not in SCOPES:
        raise ValueError(f"not_interested needs scope= one of {', '.join(SCOPES)}, got {scope!r}")
    if kind == "report" and reason not in REPORT_REASONS:
        reasons = ", ".join(REPORT_REASONS)
        raise ValueError(f"report needs reason= one of {reasons}, got {reason!r}")
    if kind == "comment":
        if not (isinstance(text, str) and text.strip()):
            raise ValueError("comment needs text= (a non-empty string)")
        check_free_text(text, "comment", max_chars=MAX_FREE_TEXT)


def _check_watched(kind: str, watched_s: object) -> None:
    # bool is an int to Python, and numpy scalars other than float64 cannot be stored.
    if not isinstance(watched_s, int | float) or isinstance(watched_s, bool):
        got = "nothing" if watched_s is None else f"{type(watched_s).__name__} {watched_s!r}"
        raise ValueError(f"{kind} needs watched_s= (seconds watched, a number), got {got}")
    if not (math.isfinite(watched_s) and 0 <= watched_s <= MAX_WATCHED_S):
        raise ValueError(
            f"{kind} needs watched_s= between 0 and {MAX_WATCHED_S:.0f} seconds (a day), "
            f"got {watched_s}"
        )


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
