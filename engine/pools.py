"""Staged test pools: how a new upload earns its audience on its content alone.

Every video published inside the fresh window enters pool 0, a small first audience. When it
has been seen by as many viewers as its pool holds, its engagement (completion rate + 5 × like
rate, smoothed) is compared with the average of every video that went through the same pool: if
it beats it by ``min_ratio`` it is promoted to the next, larger pool, otherwise it stops spreading
through this source (interest retrieval can still find it). Follower counts play no part.

A pool's size is relative to the audience: ``audience_shares[k]`` of the viewers who closed a
viewing inside the audience window (the trending window), at least ``min_size`` and at most
``sizes[k]``. A lab of a hundred viewers tests a video on 5, 10, 20 and 40 of them; a large
audience on the absolute sizes. The audience count is recomputed on the trending cadence
(:meth:`TestPools.admit`) from the viewers' closing events, so it is a deterministic function
of the events and the world time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt

from engine.catalog import Catalog
from engine.config import Pools as PoolsConfig
from engine.idset import IdSet, sorted_union

OUTSIDE, TESTING, STOPPED, GRADUATED = -1, 0, 1, 2
STATE_NAMES = {TESTING: "testing", STOPPED: "stopped", GRADUATED: "graduated"}
STATE_CODES = {name: code for code, name in STATE_NAMES.items()}
LIKE_WEIGHT = 5.0
MASKS_KEPT = 8  # a pool view's masks kept for that many (kind, time) pairs

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class OpenPool:
    """The uploads in a pool and published at one time (:meth:`PoolView.open_at`), sorted."""

    ids: I64
    topic: I64  # each one's topic
    language: I64  # each one's language
    debut: I64  # where the new creators' uploads sit in ``ids`` (PoolView.new_creators_at)


@dataclass(frozen=True, eq=False)
class PoolView:
    """What the fresh source reads of the pools at one moment of the pools (not of the clock):
    the same for every viewer of a batch, so a batch computes it once
    (:meth:`TestPools.view`) and each viewer only cuts it at its own time."""

    testing: I64  # videos in a pool, sorted (published or not yet)
    testing_published: F64
    testing_debut: F64  # when each one's creator first published
    testing_topic: I64  # each one's topic (as indices: gathering by int16 ids costs 5x more)
    testing_language: I64  # each one's language (the same)
    started: I64  # as TestPools.started() (published or not yet)
    started_published: F64
    window_s: float
    # Each mask at the last few times asked: the picks of one time (a batch, or a viewer
    # whose clock stands still) share them; read-only.
    _masks: dict[tuple[str, float], npt.NDArray[np.bool_]] = field(default_factory=dict, repr=False)
    _open: dict[float, OpenPool] = field(default_factory=dict, repr=False)  # likewise

    def open_at(self, now: float) -> OpenPool:
        """The uploads of :attr:`testing` published at ``now``, with what the fresh source
        reads of each: the same for every viewer, cut once per time (each pick then only
        takes out the few its viewer has seen)."""
        found = self._open.get(now)
        if found is None:
            live = self.testing_at(now)
            found = OpenPool(
                ids=self.testing[live],
                topic=self.testing_topic[live],
                language=self.testing_language[live],
                debut=np.flatnonzero(self.new_creators_at(now)[live]),
            )
            for array in (found.ids, found.topic, found.language, found.debut):
                array.setflags(write=False)
            if len(self._open) >= MASKS_KEPT:
                self._open.clear()
            self._open[now] = found
        return found

    def testing_at(self, now: float) -> npt.NDArray[np.bool_]:
        """Which of :attr:`testing` are published at ``now`` (:meth:`TestPools.testing`)."""
        live = self._masks.get(("testing", now))
        if live is None:
            live = self._keep(("testing", now), self.testing_published <= now)
        return live

    def new_creators_at(self, now: float) -> npt.NDArray[np.bool_]:
        """Which of :attr:`testing` are a new creator's at ``now``
        (:meth:`TestPools.new_creators`)."""
        new = self._masks.get(("new", now))
        if new is None:
            debut = self.testing_debut
            new = self._keep(("new", now), (debut >= now - self.window_s) & (debut <= now))
        return new

    def _keep(self, key: tuple[str, float], mask: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
        if len(self._masks) >= MASKS_KEPT:
            self._masks.clear()
        mask.setflags(write=False)
        self._masks[key] = mask
        return mask


@dataclass(frozen=True, eq=False)
class PoolCheckpoint:
    """One video's pool counts before a view or a like (:meth:`TestPools.checkpoint`)."""

    video_id: int
    counts: tuple[int, int, int, int, int]  # stage, state, impressions, completions, likes
    started: bool  # its pool had begun counting (in TestPools.started())
    totals: F64


class PoolViewOnce:
    """The pools' :class:`PoolView` for one batch of picks, computed when a pick first reads
    it (a policy without the fresh source never does)."""

    def __init__(self, pools: TestPools) -> None:
        self._pools = pools
        self._view: PoolView | None = None

    def get(self) -> PoolView:
        if self._view is None:
            self._view = self._pools.view()
        return self._view


class TestPools:
    __test__ = False  # not a pytest class

    def __init__(
        self,
        catalog: Catalog,
        config: PoolsConfig,
        fresh_window_h: float,
        audience_window_h: float = 48.0,
    ) -> None:
        self.catalog = catalog
        self.sizes = list(config.sizes)
        self.shares = list(config.audience_shares)
        self.min_size = config.min_size
        self.min_ratio = config.min_ratio
        self.window_s = fresh_window_h * 3600.0
        self.audience_window_s = audience_window_h * 3600.0
        self._last_active: dict[int, float] = {}  # viewer -> world time of their last close
        self.audience = 0  # active viewers at the last admit()
        n = catalog.n
        self.stage = np.zeros(n, dtype=np.int8)
        self.state = np.full(n, OUTSIDE, dtype=np.int8)
        self.impressions = np.zeros(n, dtype=np.int32)
        self.completions = np.zeros(n, dtype=np.int32)
        self.likes = np.zeros(n, dtype=np.int32)
        self.totals = np.zeros((len(self.sizes), 3), dtype=np.float64)  # impr, compl, likes
        self._testing: I64 = np.zeros(0, dtype=np.int64)
        self._started = IdSet()  # testing videos a pool has begun counting
        # view() until the pools next change (most picks change no pool: a next() alone
        # then reads the lists without rebuilding them).
        self._view: PoolView | None = None
        # The last view's lists of testing videos, kept while no video enters or leaves a
        # pool: a view of a testing video moves only the short started list, and rebuilding
        # the thousands of testing rows (and their masks) after every such view was a pick in
        # five paying for it.
        self._listed: PoolView | None = None
        # When each creator's first video was published: a creator whose first upload is
        # still fresh is new, and their videos come first to a first audience.
        videos = catalog.world.videos
        self.debut = np.full(len(catalog.world.creators), np.inf)
        np.minimum.at(self.debut, videos.creator_id, videos.published_at)
        # Each video's creator's debut: a pick asks it of a thousand videos in one gather.
        self._video_debut = self.debut[videos.creator_id]

    def load(self, rows: list[tuple[object, ...]]) -> None:
        for video_id, pool, state, impressions, completions, likes in rows:
            v = int(video_id)  # type: ignore[call-overload]
            self.stage[v] = int(pool)  # type: ignore[call-overload]
            self.state[v] = STATE_CODES[str(state)]
            self.impressions[v] = int(impressions)  # type: ignore[call-overload]
            self.completions[v] = int(completions)  # type: ignore[call-overload]
            self.likes[v] = int(likes)  # type: ignore[call-overload]
        self._view = self._listed = None
        self._testing = np.flatnonzero(self.state == TESTING).astype(np.int64)
        begun = (self.stage > 0) | (self.impressions > 0)
        self._started = IdSet(np.flatnonzero(begun & (self.state == TESTING)).tolist())

    def note_viewer(self, user_id: int, world_t: float) -> None:
        """A viewer closed a viewing at ``world_t``: they count in the active audience."""
        self._last_active[user_id] = max(world_t, self._last_active.get(user_id, world_t))

    def load_viewers(self, rows: list[tuple[int, float]]) -> None:
        """Restore the active audience: (viewer, world time of their last close) rows."""
        for user_id, world_t in rows:
            self.note_viewer(int(user_id), float(world_t))

    def active_viewers(self) -> list[tuple[int, float]]:
        """(viewer, world time of their last close) of every viewer :meth:`load_viewers` or
        :meth:`note_viewer` told of, still inside the window at the last :meth:`admit`."""
        return sorted(self._last_active.items())

    def size(self, stage: int) -> int:
        """How many viewers pool ``stage`` holds for the current audience."""
        cap = self.sizes[stage]
        if not self.shares:
            return cap
        share = self.shares[min(stage, len(self.shares) - 1)]
        return min(cap, max(self.min_size, math.ceil(share * self.audience)))

    def admit(self, now: float) -> None:
        """Put every video published inside the fresh window into pool 0, and count the active
        audience (run it on the trending refresh cadence, not per pick)."""
        since = now - self.audience_window_s
        self._last_active = {u: t for u, t in self._last_active.items() if t >= since}
        self.audience = sum(1 for t in self._last_active.values() if t <= now)
        recent = self.catalog.published_between(now - self.window_s, now)
        new = recent[self.state[recent] == OUTSIDE]
        self._view = self._listed = None
        self.state[new] = TESTING
        still = self._testing[self.state[self._testing] == TESTING]
        self._testing = sorted_union(still, new)  # new ones were outside: no overlap

    def started(self) -> I64:
        """Videos still testing whose pool has begun counting (a viewer or a later pool), the
        furthest along first: the fresh source fills them before opening new ones."""
        # Kept sorted as videos start and stop: sorting the set again after each view grew to
        # 0.2 ms a pick for a viewer with thousands of views (a video only one viewer has
        # seen stays started).
        ids = self._started.array()
        ids = ids[self.state[ids] == TESTING]
        progress = self.stage[ids].astype(np.int64) * (1 << 32) + self.impressions[ids]
        ahead: I64 = ids[np.argsort(-progress, kind="stable")]
        return ahead

    def view(self) -> PoolView:
        """The lists :meth:`testing`, :meth:`started` and :meth:`new_creators` read, before the
        clock cuts them (valid until the pools next change; kept until then)."""
        if self._view is None:
            self._view = self._view_now()
        return self._view

    def _view_now(self) -> PoolView:
        started = self.started()
        published = self.catalog.world.videos.published_at
        listed = self._listed
        if listed is not None:  # the same testing videos: only the started list moved
            # The copy shares the view's masks: they read the testing lists only.
            self._listed = replace(listed, started=started, started_published=published[started])
            return self._listed
        testing = self._testing[self.state[self._testing] == TESTING]
        creator = self.catalog.world.videos.creator_id
        self._listed = PoolView(
            testing=testing,
            testing_published=published[testing],
            testing_debut=self.debut[creator[testing]],
            testing_topic=self.catalog.world.videos.topic_id[testing].astype(np.int64),
            testing_language=self.catalog.world.videos.language[testing].astype(np.int64),
            started=started,
            started_published=published[started],
            window_s=self.window_s,
        )
        return self._listed

    def new_creators(self, ids: I64, now: float | npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
        """Which of ``ids`` come from a creator whose first upload is inside the fresh window
        (published at ``now`` or before): a new creator, with no audience of their own yet.
        ``now`` may give each id its own time (its viewer's)."""
        debut = self._video_debut[ids]
        new: npt.NDArray[np.bool_] = (debut >= now - self.window_s) & (debut <= now)
        return new

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

    def checkpoint(self, video_id: int) -> PoolCheckpoint:
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
        return PoolCheckpoint(v, counts, v in self._started, self.totals.copy())

    def restore(self, checkpoint: PoolCheckpoint) -> None:
        """Put one video's pool counts back as a :meth:`checkpoint` took them, with whether
        its pool had begun counting (a first view opens it, a decision closes it)."""
        v = checkpoint.video_id
        stage, state, impressions, completions, likes = checkpoint.counts
        if state != self.state[v]:
            self._listed = None
        self._view = None
        self.stage[v], self.state[v] = stage, state
        self.impressions[v], self.completions[v], self.likes[v] = impressions, completions, likes
        self.totals[:] = checkpoint.totals
        if checkpoint.started:
            self._started.add(v)
        else:
            self._started.discard(v)

    def on_like(self, video_id: int) -> bool:
        if self.state[video_id] != TESTING:
            return False
        self.likes[video_id] += 1
        return True

    def on_view(self, video_id: int, completed: bool) -> bool:
        """Count a closed impression; returns True when the pool row changed."""
        if self.state[video_id] != TESTING:
            return False
        self._view = None
        self.impressions[video_id] += 1
        self.completions[video_id] += int(completed)
        self._started.add(video_id)
        stage = int(self.stage[video_id])
        if self.impressions[video_id] >= self.size(stage):
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
            self._started.discard(video_id)
            self._listed = None  # it leaves the testing list

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
