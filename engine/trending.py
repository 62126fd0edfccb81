"""What is taking off right now: engagement velocity in a recent window of world time.

Velocity counts the background engagement of videos published inside the window (per hour of
age) plus every reaction recorded here inside the window. Recomputed at most once per
``REFRESH_S`` of world time, so picks stay cheap; hashtags and sounds trend by summing their
videos' velocity.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from engine.catalog import Catalog
from engine.world import NO_ID

REFRESH_S = 600.0
TOP_N = 400
EVENT_WEIGHT = {"like": 1.0, "share": 3.0, "comment": 2.0, "save": 2.0, "follow": 3.0}
EVENT_WEIGHT |= {"complete": 0.3, "rewatch": 1.0}

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]


class Trending:
    def __init__(self, catalog: Catalog, window_h: float) -> None:
        self.catalog = catalog
        self.window_s = window_h * 3600.0
        self.events: deque[tuple[float, int, float]] = deque()  # world_t, video, weight
        self.computed_at = -np.inf
        self.top_videos: I64 = np.zeros(0, dtype=np.int64)
        self.velocity: F64 = np.zeros(catalog.n, dtype=np.float64)
        self._by_hashtag: F64 | None = None
        self._by_sound: F64 | None = None

    def observe(self, world_t: float, video_id: int, kind: str) -> None:
        weight = EVENT_WEIGHT.get(kind)
        if weight:
            self.events.append((world_t, video_id, weight))

    def refresh(self, now: float, *, force: bool = False) -> None:
        if not force and now - self.computed_at < REFRESH_S:
            return
        start = now - self.window_s
        while self.events and self.events[0][0] < start:
            self.events.popleft()
        ids, velocity = self._velocity(now, start)
        self.velocity = np.zeros(self.catalog.n, dtype=np.float64)
        self.velocity[ids] = velocity
        moving = velocity > 0
        ids, velocity = ids[moving], velocity[moving]
        # Fastest first; equal velocities in id order, so the list never depends on the sort.
        self.top_videos = ids[np.lexsort((ids, -velocity))][:TOP_N].astype(np.int64)
        self._by_hashtag = self._by_sound = None
        self.computed_at = now

    def _velocity(self, now: float, start: float) -> tuple[I64, F64]:
        """Velocity of the only videos that can have any: published inside the window, or
        reacted to inside it (sorted ids, so the rest of the catalogue is never touched)."""
        inside = self.catalog.published_between(start, now)
        counts = self.catalog.engagement.counts
        engagement = counts["likes"][inside] + 3 * counts["shares"][inside]
        engagement = engagement + 0.3 * counts["completions"][inside]
        engagement = engagement + 3 * counts["follows"][inside]
        age_h = np.maximum(now - self.catalog.world.videos.published_at[inside], 0.0) / 3600.0
        background = engagement / (age_h + 2.0)
        if not self.events:
            return inside, background
        _, videos, weights = zip(*self.events, strict=True)
        live_ids, where = np.unique(np.array(videos, dtype=np.int64), return_inverse=True)
        live = np.bincount(where, weights=np.array(weights, dtype=np.float64))
        ids = np.union1d(inside, live_ids)
        velocity = np.zeros(len(ids), dtype=np.float64)
        velocity[np.searchsorted(ids, inside)] = background
        velocity[np.searchsorted(ids, live_ids)] += live
        return ids, velocity

    @property
    def hashtag_velocity(self) -> F64:
        """Velocity per hashtag: the sum over its videos (computed when first asked)."""
        if self._by_hashtag is None:
            tags = self.catalog.world.videos.hashtags
            per_tag = np.repeat(self.velocity, tags.shape[1])
            valid = tags.ravel() != NO_ID
            self._by_hashtag = np.bincount(
                tags.ravel()[valid],
                weights=per_tag[valid],
                minlength=len(self.catalog.world.hashtags),
            ).astype(np.float64)
        return self._by_hashtag

    @property
    def sound_velocity(self) -> F64:
        """Velocity per sound: the sum over its videos (computed when first asked)."""
        if self._by_sound is None:
            self._by_sound = np.bincount(
                self.catalog.world.videos.sound_id,
                weights=self.velocity,
                minlength=len(self.catalog.world.sounds),
            ).astype(np.float64)
        return self._by_sound

    def top_hashtags(self, n: int) -> list[tuple[int, float]]:
        order = np.argsort(-self.hashtag_velocity, kind="stable")[:n]
        return [(int(i), float(self.hashtag_velocity[i])) for i in order]

    def top_sounds(self, n: int) -> list[tuple[int, float]]:
        order = np.argsort(-self.sound_velocity, kind="stable")[:n]
        return [(int(i), float(self.sound_velocity[i])) for i in order]

    def hashtag_series(self, now: float, *, buckets: int, bucket_s: float) -> dict[int, F64]:
        """Live engagement per hashtag in recent buckets, oldest first (for sparklines)."""
        out: dict[int, F64] = {}
        start = now - buckets * bucket_s
        tags = self.catalog.world.videos.hashtags
        for t, video, weight in self.events:
            if t < start:
                continue
            b = min(buckets - 1, int((t - start) // bucket_s))
            for tag in tags[video].tolist():
                if tag != NO_ID:
                    out.setdefault(tag, np.zeros(buckets))[b] += weight
        return out

    def sound_series(self, now: float, *, buckets: int, bucket_s: float) -> dict[int, F64]:
        """Live engagement per sound in recent buckets, oldest first (for sparklines)."""
        out: dict[int, F64] = {}
        start = now - buckets * bucket_s
        sounds = self.catalog.world.videos.sound_id
        for t, video, weight in self.events:
            if t >= start:
                b = min(buckets - 1, int((t - start) // bucket_s))
                out.setdefault(int(sounds[video]), np.zeros(buckets))[b] += weight
        return out


@dataclass(frozen=True)
class Trend:
    name: str
    velocity: float  # engagement per hour in the trending window
    recent: list[float]  # live engagement per bucket, oldest first


@dataclass(frozen=True)
class Discover:
    hashtags: list[Trend]
    sounds: list[Trend]
    videos: list[int]  # top trending video ids
    bucket_s: float
