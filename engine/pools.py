"""Staged test pools: how a new upload earns its audience on its content alone.

Every video published inside the fresh window enters pool 0, a small first audience. When it
has been seen by as many viewers as its pool holds, its engagement (completion rate + 5 × like
rate, smoothed) is compared with the average of every video that went through the same pool: if
it beats it by ``min_ratio`` it is promoted to the next, larger pool, otherwise it stops spreading
through this source (interest retrieval can still find it). Follower counts play no part.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from engine.catalog import Catalog
from engine.config import Pools as PoolsConfig

OUTSIDE, TESTING, STOPPED, GRADUATED = -1, 0, 1, 2
STATE_NAMES = {TESTING: "testing", STOPPED: "stopped", GRADUATED: "graduated"}
STATE_CODES = {name: code for code, name in STATE_NAMES.items()}
LIKE_WEIGHT = 5.0

I64 = npt.NDArray[np.int64]


class TestPools:
    __test__ = False  # not a pytest class

    def __init__(self, catalog: Catalog, config: PoolsConfig, fresh_window_h: float) -> None:
        self.catalog = catalog
        self.sizes = list(config.sizes)
        self.min_ratio = config.min_ratio
        self.window_s = fresh_window_h * 3600.0
        n = catalog.n
        self.stage = np.zeros(n, dtype=np.int8)
        self.state = np.full(n, OUTSIDE, dtype=np.int8)
        self.impressions = np.zeros(n, dtype=np.int32)
        self.completions = np.zeros(n, dtype=np.int32)
        self.likes = np.zeros(n, dtype=np.int32)
        self.totals = np.zeros((len(self.sizes), 3), dtype=np.float64)  # impr, compl, likes
        self._testing: I64 = np.zeros(0, dtype=np.int64)

    def load(self, rows: list[tuple[object, ...]]) -> None:
        for video_id, pool, state, impressions, completions, likes in rows:
            v = int(video_id)  # type: ignore[call-overload]
            self.stage[v] = int(pool)  # type: ignore[call-overload]
            self.state[v] = STATE_CODES[str(state)]
            self.impressions[v] = int(impressions)  # type: ignore[call-overload]
            self.completions[v] = int(completions)  # type: ignore[call-overload]
            self.likes[v] = int(likes)  # type: ignore[call-overload]
        self._testing = np.flatnonzero(self.state == TESTING).astype(np.int64)

    def admit(self, now: float) -> None:
        """Put every video published inside the fresh window into pool 0 (run it on the
        trending refresh cadence, not per pick)."""
        recent = self.catalog.published_between(now - self.window_s, now)
        new = recent[self.state[recent] == OUTSIDE]
        self.state[new] = TESTING
        still = self._testing[self.state[self._testing] == TESTING]
        self._testing = np.union1d(still, new).astype(np.int64)

    def testing(self, now: float) -> I64:
        """Videos currently being tested, from the list admit() keeps."""
        ids = self._testing
        published = self.catalog.world.videos.published_at[ids]
        live: I64 = ids[(self.state[ids] == TESTING) & (published <= now)]
        return live

    def _score(self, impressions: float, completions: float, likes: float) -> float:
        return (completions + 1.0) / (impressions + 2.0) + LIKE_WEIGHT * (likes + 0.1) / (
            impressions + 5.0
        )

    def checkpoint(self, video_id: int) -> tuple[int, tuple[int, ...], npt.NDArray[np.float64]]:
        """What :meth:`on_view` and :meth:`on_like` may change for one video, for
        :meth:`restore` (the engine counts a view before its write, and undoes it if the
        write fails)."""
        v = video_id
        counts = (
            int(self.stage[v]),
            int(self.state[v]),
            int(self.impressions[v]),
            int(self.completions[v]),
            int(self.likes[v]),
        )
        return v, counts, self.totals.copy()

    def restore(self, checkpoint: tuple[int, tuple[int, ...], npt.NDArray[np.float64]]) -> None:
        """Put one video's pool counts back as a :meth:`checkpoint` took them."""
        v, (stage, state, impressions, completions, likes), totals = checkpoint
        self.stage[v], self.state[v] = stage, state
        self.impressions[v], self.completions[v], self.likes[v] = impressions, completions, likes
        self.totals[:] = totals

    def on_like(self, video_id: int) -> bool:
        if self.state[video_id] != TESTING:
            return False
        self.likes[video_id] += 1
        return True

    def on_view(self, video_id: int, completed: bool) -> bool:
        """Count a closed impression; returns True when the pool row changed."""
        if self.state[video_id] != TESTING:
            return False
        self.impressions[video_id] += 1
        self.completions[video_id] += int(completed)
        stage = int(self.stage[video_id])
        if self.impressions[video_id] >= self.sizes[stage]:
            self._decide(video_id, stage)
        return True

    def _decide(self, video_id: int, stage: int) -> None:
        mine = (
            float(self.impressions[video_id]),
            float(self.completions[video_id]),
            float(self.likes[video_id]),
        )
        before = self.totals[stage].copy()
        self.totals[stage] += mine
        # The first videos through a pool have no peers yet: compare with the pool so far.
        peers = self.totals[stage] if before[0] == 0 else before
        beats = self._score(*mine) >= self.min_ratio * self._score(*peers)
        if beats and stage + 1 < len(self.sizes):
            self.stage[video_id] = stage + 1
            self.impressions[video_id] = self.completions[video_id] = self.likes[video_id] = 0
        else:
            self.state[video_id] = GRADUATED if beats else STOPPED

    def row(self, video_id: int, now: float) -> tuple[object, ...]:
        return (
            video_id,
            int(self.stage[video_id]),
            STATE_NAMES[int(self.state[video_id])],
            int(self.impressions[video_id]),
            int(self.completions[video_id]),
            int(self.likes[video_id]),
            now,
        )
