"""Events, and what each reaction changes in a viewer's state and in the world's live counters.

An :class:`Event` is the one value that travels between the layers: the engine builds it from
a reaction (or a recorded row), :mod:`engine.update` applies it to the viewer, policies
observe it. The explicit part of a reaction (a follow, a hide, a "not interested" mark, a
report, a like) is applied here; how it moves the learned interests is
:func:`engine.profile.learn`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.profile import NegativeMark, UserState
from engine.world import Videos

__all__ = ["STAT_OF_KIND", "Event", "apply_choice", "check_undo"]

STAT_OF_KIND = {
    "like": ("likes", 1),
    "unlike": ("likes", -1),
    "share": ("shares", 1),
    "save": ("saves", 1),
    "unsave": ("saves", -1),
    "comment": ("comments", 1),
    "follow": ("follows", 1),
    "unfollow": ("follows", -1),
    "rewatch": ("rewatches", 1),
    "not_interested": ("not_interested", 1),
    "report": ("reports", 1),
}


@dataclass(frozen=True)
class Event:
    """One recorded event, as the engine applies it and a policy observes it.

    ``video_id`` is None for a refresh; ``watched_s`` is set on closing events, ``scope`` on
    "not interested", ``reason`` on reports, ``text`` on comments. ``impression_id`` is the
    viewing the event belongs to when known (None: the viewer's latest of the video).
    """

    user_id: int
    video_id: int | None
    kind: str
    world_t: float
    watched_s: float | None = None
    scope: str | None = None
    reason: str | None = None
    text: str | None = None
    impression_id: int | None = None

    @classmethod
    def of(cls, row: Mapping[str, Any], user_id: int) -> Event:
        """The event of a stored or about-to-be-stored row (stored rows may lack the user)."""
        video = row.get("video_id")
        watched = row.get("watched_s")
        impression = row.get("impression_id")
        return cls(
            user_id=user_id,
            video_id=None if video is None else int(video),
            kind=str(row["kind"]),
            world_t=float(row.get("world_t") or 0.0),
            watched_s=None if watched is None else float(watched),
            scope=row.get("scope"),
            reason=row.get("reason"),
            text=row.get("text"),
            impression_id=int(impression) if impression else None,
        )


def check_undo(state: UserState, video_id: int, creator: int, kind: str) -> None:
    """Undo only what was done, and do nothing twice that can only be done once."""
    already = {
        "like": video_id in state.liked,
        "save": video_id in state.saved,
        "follow": creator in state.follows,
        "hide_creator": creator in state.hidden_creators,
    }
    if already.get(kind):
        raise ValueError(f"{kind}: already done for video {video_id}; undo it with un{kind}")
    undone = kind.removeprefix("un")
    if kind.startswith("un") and undone in already and not already[undone]:
        raise ValueError(f"{kind}: nothing to undo, video {video_id} has no {undone}")


def apply_choice(state: UserState, event: Event, videos: Videos) -> None:
    """The explicit part of a reaction: follows, hides, marks, reports, likes, saves."""
    if event.video_id is None:
        return
    kind, video_id, v = event.kind, event.video_id, videos
    creator = int(v.creator_id[video_id])
    if kind == "follow":
        state.follows.add(creator)
    elif kind == "unfollow":
        state.follows.discard(creator)
    elif kind == "hide_creator":
        state.hidden_creators.add(creator)
        state.hidden_on[creator] = video_id
    elif kind == "unhide_creator":
        state.hidden_creators.discard(creator)
        state.hidden_on.pop(creator, None)
    elif kind == "like":
        state.liked.add(video_id)
    elif kind == "unlike":
        state.liked.discard(video_id)
    elif kind == "save":
        state.saved.add(video_id)
    elif kind == "unsave":
        state.saved.discard(video_id)
    elif kind == "report":
        state.reported.add(video_id)
    elif kind == "not_interested":
        target = {
            "video": video_id,
            "creator": creator,
            "sound": int(v.sound_id[video_id]),
            "topic": int(v.topic_id[video_id]),
        }[str(event.scope)]
        state.negatives.append(NegativeMark(str(event.scope), target, event.world_t))
