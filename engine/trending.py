"""What is taking off right now: engagement velocity in a recent window of world time.

Velocity counts the background engagement of videos published inside the window (per hour of
age) plus every reaction recorded here inside the window. Recomputed at most once per
``REFRESH_S`` of world time, so picks stay cheap; hashtags and sounds trend by summing their
videos' velocity. Their recent series (Discover's sparklines) spread the same background rate
over time buckets and add the live reactions on top, so a world nobody has watched yet moves.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from engine.catalog import Catalog
from engine.idset import distinct, sorted_union
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
        self.top_videos = ids[fastest(velocity, TOP_N)].astype(np.int64)
        self._by_hashtag = self._by_sound = None
        self.computed_at = now

    def _velocity(self, now: float, start: float) -> tuple[I64, F64]:
        """Velocity of the only videos that can have any: published inside the window, or
        reacted to inside it (sorted ids, so the rest of the catalogue is never touched)."""
        inside = self.catalog.published_between(start, now)
        engagement = self._engagement(inside)
        age_h = np.maximum(now - self.catalog.world.videos.published_at[inside], 0.0) / 3600.0
        background = engagement / (age_h + 2.0)
        if not self.events:
            return inside, background
        _, videos, weights = zip(*self.events, strict=True)
        live_ids, where = distinct(np.array(videos, dtype=np.int64))
        live = np.bincount(where, weights=np.array(weights, dtype=np.float64))
        ids = sorted_union(inside, live_ids)
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

    def hashtag_series(self, now: float, *, buckets: int, bucket_s: float) -> F64:
        """Engagement per hashtag in recent buckets, oldest first (for sparklines).

        Args:
            now: world time the last bucket ends at.
            buckets: how many buckets.
            bucket_s: world seconds per bucket.

        Returns:
            [hashtags, buckets] the background engagement its videos gathered in each bucket
            plus every reaction recorded here in it.
        """
        ids, per_bucket = self._recent(now, buckets, bucket_s)
        tags = self.catalog.world.videos.hashtags[ids]
        rows, column = np.nonzero(tags != NO_ID)
        out = np.zeros((len(self.catalog.world.hashtags), buckets), dtype=np.float64)
        np.add.at(out, tags[rows, column], per_bucket[rows])
        return out

    def sound_series(self, now: float, *, buckets: int, bucket_s: float) -> F64:
        """Engagement per sound in recent buckets, oldest first (for sparklines).

        Args:
            now: world time the last bucket ends at.
            buckets: how many buckets.
            bucket_s: world seconds per bucket.

        Returns:
            [sounds, buckets] as :meth:`hashtag_series`, summed over each sound's videos.
        """
        ids, per_bucket = self._recent(now, buckets, bucket_s)
        out = np.zeros((len(self.catalog.world.sounds), buckets), dtype=np.float64)
        np.add.at(out, self.catalog.world.videos.sound_id[ids], per_bucket)
        return out

    def _recent(self, now: float, buckets: int, bucket_s: float) -> tuple[I64, F64]:
        """Per video that has any, its engagement in each bucket: background, then live on top.

        Background engagement arrives at the rate velocity uses, ``engagement / (age_h + 2)``,
        while the video is inside the trending window; a bucket holds that rate's integral
        over its span, so a world nobody has watched yet still shows its videos arriving and
        fading instead of flat lines.
        """
        start = now - buckets * bucket_s
        edges = start + bucket_s * np.arange(buckets + 1, dtype=np.float64)
        background_ids = self.catalog.published_between(start - self.window_s, now)
        published = self.catalog.world.videos.published_at[background_ids].astype(np.float64)
        # Age in hours at each bucket edge, held inside [0, window]: before publication and
        # after leaving the window the rate counts for nothing, as in velocity.
        age_h = np.clip(edges[None, :] - published[:, None], 0.0, self.window_s) / 3600.0
        gathered = np.diff(np.log(age_h + 2.0), axis=1)
        background = self._engagement(background_ids)[:, None] * gathered
        live_videos, live = self._live_buckets(start, buckets, bucket_s)
        ids = sorted_union(background_ids, live_videos)
        per_bucket = np.zeros((len(ids), buckets), dtype=np.float64)
        per_bucket[np.searchsorted(ids, background_ids)] = background
        per_bucket[np.searchsorted(ids, live_videos)] += live
        return ids, per_bucket

    def _live_buckets(self, start: float, buckets: int, bucket_s: float) -> tuple[I64, F64]:
        """Reactions recorded here since ``start``: sorted video ids, their weight per bucket."""
        recent = [(t, video, weight) for t, video, weight in self.events if t >= start]
        if not recent:
            return np.zeros(0, dtype=np.int64), np.zeros((0, buckets), dtype=np.float64)
        times, videos, weights = (np.array(column) for column in zip(*recent, strict=True))
        bucket = np.minimum(buckets - 1, ((times - start) // bucket_s).astype(np.int64))
        ids, row = distinct(videos.astype(np.int64))
        live = np.zeros((len(ids), buckets), dtype=np.float64)
        np.add.at(live, (row, bucket), weights.astype(np.float64))
        return ids, live

    def _engagement(self, ids: I64) -> F64:
        """The weighted background engagement velocity is built on, per video."""
        counts = self.catalog.engagement.counts
        engagement = counts["likes"][ids] + 3 * counts["shares"][ids]
        engagement = engagement + 0.3 * counts["completions"][ids]
        return np.asarray(engagement + 3 * counts["follows"][ids], dtype=np.float64)


def fastest(velocity: F64, n: int) -> I64:
    """The positions of the ``n`` highest velocities, highest first, ties in position order:
    ``np.lexsort((positions, -velocity))[:n]``, sorting only the velocities that can be among
    them (a full sort of every moving video cost a third of a millisecond at each refresh)."""
    candidates = np.arange(len(velocity))
    if len(velocity) > n > 0:
        nth = np.partition(velocity, len(velocity) - n)[len(velocity) - n]  # the n-th highest
        candidates = np.flatnonzero(velocity >= nth)  # every tie with it too, in order
    ranked: I64 = candidates[np.argsort(-velocity[candidates], kind="stable")][:n]
    return ranked


@dataclass(frozen=True)
class Trend:
    name: str
    velocity: float  # engagement per hour in the trending window
    recent: list[float]  # engagement per bucket (background and live), oldest first


@dataclass(frozen=True)
class Discover:
    hashtags: list[Trend]
    sounds: list[Trend]
    videos: list[int]  # top trending video ids
    bucket_s: float
