"""What each reaction changes in a viewer's state and in the world's live counters.

The explicit part of a reaction (a follow, a hide, a "not interested" mark, a report, a like)
is applied here; how it moves the learned interests is :func:`engine.profile.learn`.
"""

from __future__ import annotations

from typing import Any

from engine.profile import NegativeMark, UserState
from engine.world import Videos

REWATCH_FADE = 0.5

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


def apply_choice(
    state: UserState, kind: str, video_id: int, event: dict[str, Any], videos: Videos
) -> None:
    """The explicit part of a reaction: follows, hides, marks, reports, likes, saves."""
    v = videos
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
        scope = str(event["scope"])
        target = {
            "video": video_id,
            "creator": creator,
            "sound": int(v.sound_id[video_id]),
            "topic": int(v.topic_id[video_id]),
        }[scope]
        state.negatives.append(NegativeMark(scope, target, float(event["world_t"])))


def loop_weight(state: UserState, video_id: int, event: dict[str, Any]) -> float:
    """How much this rewatch teaches: each further loop of one viewing half the one before.

    A short clip left on screen keeps looping (a presenter talking over it, a participant who
    looked away); at full weight every loop, it would outweigh everything else the viewer did.
    The rows are all kept; only what the profile learns from them fades.
    """
    viewing = event["impression_id"] or state.impression_of.get(video_id, 0)
    loops = state.loops.get(viewing, 0)
    state.loops[viewing] = loops + 1
    weight: float = REWATCH_FADE**loops
    return weight
