"""The world in memory, indexed the ways the candidate sources look it up, plus live engagement.

Built once when an engine opens: per-topic, per-creator and per-country id lists, and the
engagement counters (background from seed time plus everything recorded since) that the
scoring's smoothed rates and the trending source read.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import numpy.typing as npt

from engine.retrieval import TopicIndex
from engine.store.activity import LIVE_STAT_FIELDS
from engine.store.ids import SQLITE_INTEGER, as_id
from engine.world import NO_ID, World

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]

POPULAR_PER_TOPIC = 40
LENGTH_BINS = 12  # bins of log duration, equally wide, the length-aware completion prior pools
LENGTH_BIN_VIEWS = 1000.0  # pseudo-views pulling a thinly viewed bin toward the overall rate
# Seconds a viewer who does not finish a video is expected to have watched of it (at most its
# length), in the sources' prior under the length-aware completion prior: about what the
# learned model's mean seconds before a skip reaches on simulated viewers (3 s for videos under
# 10 s to 12 s past 90 s, engine.learned.OnlineLogit.skip_seconds).
PARTIAL_WATCH_S = 10.0
# The live counters are exactly the columns of video_stats_live.
ENGAGEMENT = LIVE_STAT_FIELDS


@dataclass(frozen=True, eq=False)
class Groups:
    """Video ids per key (topic, creator or country), newest first within each group.

    All groups live in one array, with the negated publication times beside it, so "the newest
    already-published videos of a group" is one binary search instead of a pass over the group
    (a country holds a tenth of a 1M world).
    """

    ids: I64  # grouped by key, newest first inside a group
    neg_published: F64
    bounds: I64  # group g is ids[bounds[g] : bounds[g + 1]]

    @classmethod
    def of(cls, keys: npt.NDArray[np.integer], n_groups: int, published: F64) -> Groups:
        order = np.lexsort((-published, keys)).astype(np.int64)
        bounds = np.searchsorted(keys[order], np.arange(n_groups + 1)).astype(np.int64)
        neg_published = -published[order]
        order.setflags(write=False)  # groups are handed out as views
        return cls(ids=order, neg_published=neg_published, bounds=bounds)

    def __len__(self) -> int:
        return len(self.bounds) - 1

    def __getitem__(self, g: int) -> I64:
        return self.ids[self.bounds[g] : self.bounds[g + 1]]

    def __iter__(self) -> Iterator[I64]:
        return (self[g] for g in range(len(self)))

    def newest(self, g: int, now: float, n: int) -> I64:
        """The ``n`` newest videos of group ``g`` already published at ``now``."""
        lo, hi = int(self.bounds[g]), int(self.bounds[g + 1])
        start = lo + int(self.neg_published[lo:hi].searchsorted(-now))
        return self.ids[start : min(start + n, hi)]


@dataclass(eq=False)
class Engagement:
    """Counters per video: background (seed) plus live. Live deltas are kept apart for writing.

    The counters are the rows of one (field, video) table, so a pick gathers every rate it
    scores in one indexing call; ``counts`` names the rows.
    """

    table: F64  # (len(ENGAGEMENT), videos)
    counts: dict[str, F64]  # field -> its row of ``table`` (a view)
    totals: dict[str, float]
    # The background (seed-time) totals: what :meth:`steady_logit` shrinks toward, the same
    # whenever an engine opens the world and whatever it has recorded since.
    background: dict[str, float] = field(default_factory=dict)
    # Per video, the background completion rate of videos of its length
    # (:func:`completion_by_length`): what ``rates(..., by_length=True)`` shrinks toward.
    length_prior: F64 = field(default_factory=lambda: np.zeros(0))
    _watchers: list[set[int]] = field(default_factory=list)  # see watch()

    @classmethod
    def from_world(cls, world: World) -> Engagement:
        table = np.zeros((len(ENGAGEMENT), len(world.videos)), dtype=np.float64)
        counts = {name: table[i] for i, name in enumerate(ENGAGEMENT)}
        for name in ("views", "completions", "likes", "shares", "comments", "saves", "follows"):
            counts[name] += getattr(world.stats, name)
        totals = {name: float(c.sum()) for name, c in counts.items()}
        by_length = completion_by_length(
            world.videos.duration_s, counts["completions"], counts["views"]
        )
        return cls(table, counts, totals, background=dict(totals), length_prior=by_length)

    def add(self, video_id: int, deltas: dict[str, float]) -> None:
        for name, delta in deltas.items():
            self.counts[name][video_id] += delta
            self.totals[name] += delta
        for moved in self._watchers:
            moved.add(video_id)

    def watch(self) -> set[int]:
        """A set every later :meth:`add` puts its video in: a reader keeping values derived
        from the counters brings those videos up to date, then empties it."""
        moved: set[int] = set()
        self._watchers.append(moved)
        return moved

    def rate(self, name: str, ids: I64, prior_views: float) -> F64:
        """Smoothed per-view rate of ``name`` for ``ids``, shrunk toward the global rate."""
        rates: F64 = self.rates((name,), ids, prior_views)[0]
        return rates

    def logit(self, name: str, ids: I64, prior_views: float) -> F64:
        """The logit of :meth:`rate` (kept within ±13.8): the counter and the views gathered
        alone, what a source weighing thousands of videos per pick can afford."""
        views = self.table[ENGAGEMENT.index("views")].take(ids)
        count = self.table[ENGAGEMENT.index(name)].take(ids)
        overall = (self.totals[name] + 1.0) / (self.totals["views"] + 2.0)
        rate = np.clip((count + prior_views * overall) / (views + prior_views), 1e-6, 1 - 1e-6)
        result: F64 = np.log(rate / (1.0 - rate))
        return result

    def steady_logit(self, name: str, ids: I64, prior_views: float) -> F64:
        """The logit of the smoothed ``name`` rate of ``ids``, shrunk toward the background
        rate (seed time) rather than the live overall one (:meth:`logit`), kept within ±13.8:
        a video's value moves only with its own counters, so a whole-catalogue array of it
        can be kept up to date one recorded video at a time (:meth:`Catalog.watch_prior`)."""
        views = self.table[ENGAGEMENT.index("views")].take(ids)
        count = self.table[ENGAGEMENT.index(name)].take(ids)
        base = (self.background[name] + 1.0) / (self.background["views"] + 2.0)
        rate = (count + prior_views * base) / (views + prior_views)
        # np.clip's steps (max, then min) in place, without its Python wrappers: every
        # recorded video's prior is computed again at the next pick.
        np.minimum(np.maximum(rate, 1e-6, out=rate), 1 - 1e-6, out=rate)
        result: F64 = np.log(rate / (1.0 - rate))
        return result

    def steady_completion(self, ids: I64, prior_views: float) -> F64:
        """The completion rate of ``ids`` shrunk toward the background completion rate of
        videos of their length (:attr:`length_prior`): like :meth:`steady_logit`, it moves
        only with each video's own counters."""
        views = self.table[ENGAGEMENT.index("views")].take(ids)
        count = self.table[ENGAGEMENT.index("completions")].take(ids)
        rate: F64 = (count + prior_views * self.length_prior[ids]) / (views + prior_views)
        return rate

    def rates(
        self, names: tuple[str, ...], ids: I64, prior_views: float, *, by_length: bool = False
    ) -> F64:
        """:meth:`rate` of several counters at once: one row per name.

        Args:
            by_length: shrink completions toward the completion rate of videos of the same
                length (:attr:`length_prior`) instead of the overall rate.
        """
        views = self.totals["views"] + 2.0
        global_rate = np.array([(self.totals[name] + 1.0) / views for name in names])
        # Every counter's ids and the views' in one gather from the flat table (far faster than
        # ``table[:, ids]``, and one call instead of one per counter).
        rows = np.array([*map(ENGAGEMENT.index, names), ENGAGEMENT.index("views")], np.int64)
        gathered = self.table.take(np.add.outer(rows * self.table.shape[1], ids))
        # Broadcast by the arithmetic below (np.broadcast_to's wrappers cost more than it).
        prior = global_rate[:, None]
        if by_length and "completions" in names:
            prior = np.empty(gathered[:-1].shape)
            prior[:] = global_rate[:, None]
            prior[names.index("completions")] = self.length_prior[ids]
        result: F64 = (gathered[:-1] + prior_views * prior) / (gathered[-1] + prior_views)
        return result


def completion_by_length(duration_s: npt.NDArray[np.floating], completions: F64, views: F64) -> F64:
    """Per video, the pooled completion rate of the videos of about its length (one of
    :data:`LENGTH_BINS` bins equally wide in log duration), a thinly viewed bin shrunk toward
    the overall rate by :data:`LENGTH_BIN_VIEWS` pseudo-views.

    Completion falls steeply with length (on the demo world from ~65% for 5 s clips to ~6% at
    3 minutes), so shrunk toward the overall ~30%, a 3-minute video with few views looks
    several times likelier to be finished than videos of its length are.

    Args:
        duration_s: every video's length.
        completions: every video's completions (the counters at open).
        views: every video's views.
    """
    overall = (completions.sum() + 1.0) / (views.sum() + 2.0)
    duration = np.maximum(duration_s.astype(np.float64), 1e-3)
    if len(duration) == 0:
        return np.zeros(0)
    log_d = np.log(duration)
    edges = np.linspace(log_d.min(), log_d.max(), LENGTH_BINS + 1)[1:-1]
    bins = np.searchsorted(edges, log_d, side="right")
    pooled_views = np.bincount(bins, weights=views, minlength=LENGTH_BINS)
    pooled_completions = np.bincount(bins, weights=completions, minlength=LENGTH_BINS)
    rate = (pooled_completions + LENGTH_BIN_VIEWS * overall) / (pooled_views + LENGTH_BIN_VIEWS)
    by_video: F64 = rate[bins]
    return by_video


TYPICAL_DURATION_S = 30.0  # a typical video's length, where length-based values are centred


def valued_durations(world: World) -> F64:
    """Each video's length as rankings value it: its own, or, in a world whose lengths were all
    drawn (``World.durations_made_up``: MovieLens' movies become clips), a typical video's for
    every one. A made-up length says nothing of the video: valuing a finish per second ranked
    the catalogue by a random draw (MovieLens, ``foryou offline-eval``: NDCG@10 0.373, 0.545
    with every video valued at 30 s)."""
    if world.durations_made_up:
        return np.full(len(world.videos), TYPICAL_DURATION_S)
    valued: F64 = world.videos.duration_s.astype(np.float64)
    return valued


class Catalog:
    """The loaded world with lookup indices."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.n = len(world.videos)
        self.embedding = world.videos.embedding
        lookups = _lookups_of(world)
        self.dup_root = lookups.dup_root
        self.by_topic = lookups.by_topic
        self.by_creator = lookups.by_creator
        self.by_country = lookups.by_country
        self.index = lookups.index
        self.publish_order = lookups.publish_order
        # Each video's length as rankings value it (valued_durations), and log(that / 30 s):
        # what candidate sources weigh length by.
        self.valued_duration = lookups.valued_duration
        self.log_length = lookups.log_length
        self._neg_published_sorted = lookups.neg_published_sorted
        self.engagement = Engagement.from_world(world)
        # watch_prior() by (prior_views, completion prior), and the same in by_topic's order.
        self._priors: dict[tuple[float, str], tuple[F64, F64]] = {}
        self._priors_by_topic: dict[tuple[float, str], F64] = {}
        self._languages_by_topic: npt.NDArray[np.integer] | None = None
        self._prior_moved = self.engagement.watch()
        self.popular_by_topic = lookups.popular_by_topic
        self._popular: I64 = np.zeros(0, dtype=np.int64)
        self._popular_key: tuple[float, int, float] | None = None
        self.topic_slugs = {slug: i for i, slug in enumerate(world.topics.slug)}
        self.topic_names = {name.lower(): i for i, name in enumerate(world.topics.name)}
        self.language_index = {code: i for i, code in enumerate(world.languages)}
        self.country_index = {code: i for i, code in enumerate(world.countries)}

    @cached_property
    def hashtag_slots(self) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int32]]:
        """Each video's hashtags as slots of a hashtag vector with one more entry, 0, at its
        end (a missing tag's slot), and how many it has (at least 1): what a pick's hashtag
        feature averages, gathered in two calls instead of masked in six (built when first
        read, not at start-up)."""
        tags = self.world.videos.hashtags
        valid = tags != NO_ID
        # 32-bit: a 1M world keeps 28 MB for them (a count of int32 still divides in float64).
        slots = np.where(valid, tags, len(self.world.hashtags)).astype(np.int32)
        return slots, np.maximum(valid.sum(axis=1), 1).astype(np.int32)

    def topic_id(self, name: str) -> int:
        """Resolve a topic by slug or display name, case-insensitively.

        Raises:
            ValueError: no such topic.
        """
        if not isinstance(name, str):
            raise ValueError(f"unknown topic {name!r}; see Engine.topics()")
        key = name.strip().lower()
        if key in self.topic_slugs:
            return self.topic_slugs[key]
        if key in self.topic_names:
            return self.topic_names[key]
        raise ValueError(f"unknown topic {name!r}; see Engine.topics()")

    def check_video(self, video_id: int) -> int:
        """The id as Python's int, a video of the world.

        Raises:
            ValueError: not a whole number, or no such video.
        """
        video_id = as_id(video_id, "video id")
        if not 0 <= video_id < self.n:
            raise ValueError(f"unknown video id {video_id}")
        return video_id

    def check_videos(self, video_ids: Iterable[int]) -> I64:
        """The ids as an array, every one a video of the world.

        Raises:
            ValueError: the first id that is not a whole number, or the first unknown id (one
                beyond 64 bits too: numpy cannot hold it).
        """
        values = [as_id(v, "video id") for v in video_ids]
        try:
            ids = np.asarray(values, dtype=np.int64)
        except OverflowError:
            # Beyond 64 bits (numpy's int64 is SQLite's INTEGER): unknown, as below.
            ids = np.array([v if v in SQLITE_INTEGER else -1 for v in values], dtype=np.int64)
        bad = np.flatnonzero((ids < 0) | (ids >= self.n))
        if len(bad):
            self.check_video(values[int(bad[0])])
        return ids

    def published_between(self, start: float, end: float) -> I64:
        """Ids of the videos published in (start, end], sorted: a binary search, not a scan."""
        neg = self._neg_published_sorted
        lo, hi = np.searchsorted(neg, (-end, -start), side="left")
        return np.sort(self.publish_order[lo:hi])

    def watch_prior(self, prior_views: float, completion_prior: str = "overall") -> tuple[F64, F64]:
        """What every video promises in watch time before anything personal is known, on a
        log scale, and its exponential: kept up to date one recorded video at a time, so a
        source weighing thousands of videos every pick gathers them instead of computing
        them. The arrays are shared: read them, never write to them.

        The promise is a length term plus :meth:`Engagement.steady_logit` of likes. The length
        term follows the scorer's completion prior (``[scoring] completion_prior``): with
        "overall", log(duration / 30 s); with "length", log(expected seconds / 30 s), the
        seconds of a finished video times its completion rate shrunk toward videos of its
        length (:meth:`Engagement.steady_completion`) plus :data:`PARTIAL_WATCH_S` for the
        rest. The sources then propose what the scorer will rate: with the length-aware
        scorer a long video nobody finishes no longer fills the candidates only to be
        ranked last.
        """
        key = (prior_views, completion_prior)
        cached = self._priors.get(key)
        if cached is None:
            prior = self._promise_of(np.arange(self.n), key)
            cached = self._priors[key] = (prior, np.exp(prior))
        if self._prior_moved:
            # numpy gives each element the same bits alone as in a whole array: an array kept
            # up to date equals one computed afresh (a reopened engine's, a replay's).
            moved = np.fromiter(sorted(self._prior_moved), dtype=np.int64)
            self._prior_moved.clear()
            for kept, (prior, promise) in self._priors.items():
                fresh = self._promise_of(moved, kept)
                prior[moved] = fresh
                promise[moved] = np.exp(fresh)
                grouped = self._priors_by_topic.get(kept)
                if grouped is not None:
                    grouped[self.index.position[moved]] = fresh
        return cached

    def _promise_of(self, ids: I64, key: tuple[float, str]) -> F64:
        """:meth:`watch_prior` of ``ids`` computed afresh."""
        prior_views, completion_prior = key
        likes = self.engagement.steady_logit("likes", ids, prior_views)
        if completion_prior != "length":
            overall: F64 = self.log_length[ids] + likes
            return overall
        duration = self.valued_duration[ids]
        p = self.engagement.steady_completion(ids, prior_views)
        seconds = p * duration + (1.0 - p) * np.minimum(PARTIAL_WATCH_S, duration)
        by_length: F64 = np.log(np.maximum(seconds, 1.0) / TYPICAL_DURATION_S) + likes
        return by_length

    def topic_watch_prior(
        self, topic: int, prior_views: float, completion_prior: str = "overall"
    ) -> F64:
        """:meth:`watch_prior` of the videos of one topic, in ``by_topic[topic]``'s order: a
        slice of a copy kept in that order (the interest source weighs every video of a few
        topics each pick; a slice reads them in a row, a gather jumps across the catalogue).
        Read it, never write to it."""
        key = (prior_views, completion_prior)
        prior = self.watch_prior(*key)[0]  # brings the copy up to date as well
        grouped = self._priors_by_topic.get(key)
        if grouped is None:
            grouped = self._priors_by_topic[key] = prior[self.by_topic.ids]
        bounds = self.by_topic.bounds
        return grouped[int(bounds[topic]) : int(bounds[topic + 1])]

    def topic_languages(self, topic: int) -> npt.NDArray[np.integer]:
        """The language of each video of one topic, in ``by_topic[topic]``'s order (a slice of
        a copy made once: languages never change). Read it, never write to it."""
        if self._languages_by_topic is None:
            self._languages_by_topic = self.world.videos.language[self.by_topic.ids]
        bounds = self.by_topic.bounds
        return self._languages_by_topic[int(bounds[topic]) : int(bounds[topic + 1])]

    def most_completed(self, prior_views: float, n: int) -> I64:
        """The ``n`` videos with the best smoothed completion rate, best first (cached)."""
        key = (prior_views, n, self.engagement.totals["views"])
        if self._popular_key != key:
            rate = self.engagement.rate("completions", np.arange(self.n), prior_views)
            top = np.argpartition(-rate, min(n, self.n - 1))[:n]
            self._popular = top[np.argsort(-rate[top], kind="stable")].astype(np.int64)
            self._popular_key = key
        return self._popular


@dataclass(frozen=True, eq=False)
class _Lookups:
    """What a catalog derives from the world alone: the same for every engine over it."""

    dup_root: I64
    by_topic: Groups
    by_creator: Groups
    by_country: Groups
    index: TopicIndex
    publish_order: I64
    valued_duration: F64
    log_length: F64
    neg_published_sorted: F64
    popular_by_topic: list[I64]

    @classmethod
    def of(cls, world: World) -> _Lookups:
        videos = world.videos
        valued = valued_durations(world)
        n = len(videos)
        published = videos.published_at
        by_topic = Groups.of(videos.topic_id, len(world.topics), published)
        publish_order = np.argsort(-published, kind="stable").astype(np.int64)
        lookups = cls(
            dup_root=np.where(
                videos.duplicate_of != NO_ID, videos.duplicate_of, np.arange(n)
            ).astype(np.int64),
            by_topic=by_topic,
            by_creator=Groups.of(videos.creator_id, len(world.creators), published),
            by_country=Groups.of(videos.country, len(world.countries), published),
            index=TopicIndex(videos.embedding, by_topic.ids, by_topic.bounds),
            publish_order=publish_order,
            valued_duration=valued,
            log_length=np.log(np.maximum(valued, 1.0) / TYPICAL_DURATION_S),
            neg_published_sorted=-published[publish_order],
            popular_by_topic=[
                ids[np.argsort(-world.stats.completions[ids], kind="stable")][:POPULAR_PER_TOPIC]
                for ids in by_topic
            ],
        )
        for array in (
            lookups.dup_root,
            lookups.publish_order,
            lookups.valued_duration,
            lookups.log_length,
            lookups.neg_published_sorted,
            *lookups.popular_by_topic,
        ):
            array.setflags(write=False)  # shared by every catalog over the world
        return lookups


# Built once per loaded world and shared by every catalog over it: a simulation opens one
# engine per shard on the process's one world, and these lookups (the topic index is a grouped
# copy of the embedding matrix) are read-only; they took most of a shard's start-up.
_LOOKUPS: weakref.WeakKeyDictionary[World, _Lookups] = weakref.WeakKeyDictionary()


def _lookups_of(world: World) -> _Lookups:
    lookups = _LOOKUPS.get(world)
    if lookups is None:
        lookups = _LOOKUPS[world] = _Lookups.of(world)
    return lookups
