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
        self.hashtag_velocity: F64 = np.zeros(len(catalog.world.hashtags), dtype=np.float64)
        self.sound_velocity: F64 = np.zeros(len(catalog.world.sounds), dtype=np.float64)

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
        self.velocity = self._background(now, start) + self._live()
        self._rank()
        self.computed_at = now

    def _background(self, now: float, start: float) -> F64:
        videos, counts = self.catalog.world.videos, self.catalog.engagement.counts
        published = videos.published_at
        inside = (published > start) & (published <= now)
        engagement = counts["likes"] + 3 * counts["shares"] + 0.3 * counts["completions"]
        engagement = engagement + 3 * counts["follows"]
        age_h = np.maximum(now - published, 0.0) / 3600.0
        return np.where(inside, engagement / (age_h + 2.0), 0.0)

    def _live(self) -> F64:
        if not self.events:
            return np.zeros(self.catalog.n, dtype=np.float64)
        _, ids, weights = zip(*self.events, strict=True)
        live: F64 = np.bincount(
            np.array(ids), weights=np.array(weights), minlength=self.catalog.n
        ).astype(np.float64)
        return live

    def _rank(self) -> None:
        v = self.velocity
        k = min(TOP_N, int((v > 0).sum()))
        top = np.argpartition(-v, k - 1)[:k] if k else np.zeros(0, dtype=np.int64)
        self.top_videos = top[np.argsort(-v[top], kind="stable")].astype(np.int64)
        videos = self.catalog.world.videos
        tags = videos.hashtags
        per_tag = np.repeat(v, tags.shape[1])
        valid = tags.ravel() != NO_ID
        self.hashtag_velocity = np.bincount(
            tags.ravel()[valid], weights=per_tag[valid], minlength=len(self.hashtag_velocity)
        ).astype(np.float64)
        self.sound_velocity = np.bincount(
            videos.sound_id, weights=v, minlength=len(self.sound_velocity)
        ).astype(np.float64)

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
