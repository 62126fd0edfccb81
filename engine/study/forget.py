"""What forgetting a participant takes away from the shared counters.

``video_stats_live`` sums everyone's engagement per video. Leaving a forgotten participant's
share in it would keep a trace of what they watched, so their share is recomputed from their
events with the engine's own rules (a view and a completion or skip at the first close of an
impression, one count per like, share, ... and minus one per undo) and subtracted.

Test-pool rows (``video_pools``) are left as they are: a pool stage is a decision the engine
took, and its counters cover the current pool only. Replays of sessions that ran after a
forgotten participant may no longer match exactly, since that participant's activity shaped
the trends and counts those sessions saw.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from engine.events import STAT_OF_KIND
from engine.reactions import CLOSING

__all__ = ["live_stat_share"]


def live_stat_share(events: Iterable[Mapping[str, Any]]) -> dict[int, dict[str, float]]:
    """Per video, what these events (one viewer's, in order) added to ``video_stats_live``."""
    share: dict[int, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    closed: set[int] = set()
    for event in events:
        kind, video = str(event["kind"]), event["video_id"]
        if video is None:
            continue
        counts = share[int(video)]
        if kind in CLOSING:
            impression = int(event["impression_id"] or 0)
            if impression in closed:
                continue
            closed.add(impression)
            counts["views"] += 1
            counts["completions" if kind == "complete" else "skips"] += 1
            counts["watched_s"] += float(event["watched_s"] or 0.0)
        elif kind in STAT_OF_KIND:
            field, delta = STAT_OF_KIND[kind]
            counts[field] += delta
    return {video: dict(counts) for video, counts in share.items()}
