"""The words events are written in: event kinds, "not interested" scopes and report reasons.

One module owns them so the engine's checks, the simulator, the codebook and the TUI's key
tables cannot drift apart. They are string enums: a member compares equal to its plain string
(``EventKind.LIKE == "like"``), so callers may pass either, and what is stored in SQLite, JSON
exports and receipts is the same text as before they existed.
"""

from __future__ import annotations

from enum import StrEnum


class EventKind(StrEnum):
    """What an ``events`` row records (its ``kind`` column)."""

    SKIP = "skip"
    COMPLETE = "complete"
    REWATCH = "rewatch"
    LIKE = "like"
    UNLIKE = "unlike"
    SHARE = "share"
    SAVE = "save"
    UNSAVE = "unsave"
    COMMENT = "comment"
    FOLLOW = "follow"
    UNFOLLOW = "unfollow"
    NOT_INTERESTED = "not_interested"
    HIDE_CREATOR = "hide_creator"
    UNHIDE_CREATOR = "unhide_creator"
    REPORT = "report"
    # Not a reaction to a video: the viewer asked the feed to forget learned interests
    # (``Engine.refresh``); ``Engine.record`` refuses it.
    REFRESH = "refresh"


class NotInterestedScope(StrEnum):
    """What a "not interested" mark covers; the order is the order the TUI offers them in."""

    VIDEO = "video"
    CREATOR = "creator"
    SOUND = "sound"
    TOPIC = "topic"


class ReportReason(StrEnum):
    """Why a video was reported; the order is the order the TUI offers them in."""

    SPAM = "spam"
    MISLEADING = "misleading"
    HARMFUL = "harmful"
    SENSITIVE = "sensitive"
    HATEFUL = "hateful"
    OTHER = "other"
