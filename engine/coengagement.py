"""Learning from everyone: "viewers who finished this also finished that".

Every viewer's positive outcomes (a completed viewing, a like) are paired with that viewer's
recent earlier positives; each pair counts once more for both videos, and for both creators.
The counts are sparse and bounded: a video (or creator) keeps its ``NEIGHBOURS`` strongest
partners, dropping the weakest (ties: the highest id) when a new one arrives, and a viewer's
pairing window holds their last ``WINDOW`` positives. Everything is a deterministic function of
the positive events in the order they were recorded: the engine rebuilds it from the file when
it opens and then updates it with every live event (a replay re-lives the same order).

It feeds the ``co-engagement`` candidate source (the strongest partners of the viewer's recent
positives, across topics), the ``co-engaged creators`` source (the newest videos of the creators
most co-engaged with the creators of those positives) and a per-candidate score a scorer may read
(:attr:`engine.policy.CandidateSet.coengagement`), which the engine's own learned P(action) reads as
its input ``"co-engagement"`` (:mod:`engine.learned`).
"""

from __future__ import annotations

import math
from bisect import bisect_left, insort
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from heapq import heapify, heappop, heappush
from itertools import chain
from typing import Any

import numpy as np
import numpy.typing as npt

from engine.batch import VIEWER_SHIFT, Batch
from engine.similar_viewers import SimilarViewers

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]

NEIGHBOURS = 64  # partners kept per video and per creator
WINDOW = 10  # a viewer's recent positives a new one is paired with
SEEDS = 5  # a viewer's recent positives the source starts from
POSITIVE_KINDS = frozenset({"complete", "like"})


class Pairs:
    """Bounded co-occurrence counts between keys (videos or creators)."""

    def __init__(self, capacity: int = NEIGHBOURS) -> None:
        self.capacity = capacity
        self.partners: dict[int, dict[int, int]] = {}
        # Rows read so far as (-count, partner), strongest first, kept in step as they change.
        self._ranked: dict[int, list[tuple[int, int]]] = {}
        self._arrays: dict[int, tuple[I64, F64]] = {}  # rows as arrays, until changed
        self.changes = 0  # counts every change: what was read of the rows is good until it moves

    def add(self, a: int, b: int) -> None:
        """Count one more co-engagement of ``a`` and ``b`` (both directions)."""
        self.add_all(a, (b,))

    def add_all(self, a: int, others: Iterable[int]) -> None:
        """:meth:`add` of ``a`` with each of ``others`` in turn, in one call for a new positive's
        window: each row counts the same partners in the same order."""
        own: tuple[dict[int, int], list[tuple[int, int]] | None] | None = None  # a's, at 1st bump
        bumps = 0
        for b in others:
            if a == b:
                continue
            bumps += 2
            if own is None:
                own = self._changed_row(a)
            _count(*own, b, self.capacity)
            _count(*self._changed_row(b), a, self.capacity)
        self.changes += bumps

    def _changed_row(self, key: int) -> tuple[dict[int, int], list[tuple[int, int]] | None]:
        """``key``'s row, about to change, and its ranking if one was read (kept in step with
        the row by :func:`_count`): the arrays read of it are dropped."""
        self._arrays.pop(key, None)
        row = self.partners.get(key)
        if row is None:
            row = self.partners[key] = {}
        return row, self._ranked.get(key)

    def strongest(self, key: int, n: int) -> list[tuple[int, int]]:
        """The ``n`` strongest partners of ``key`` and their counts, strongest (then lowest id)
        first."""
        ranked = self._ranked.get(key)
        if ranked is None:
            row = self.partners.get(key, {})
            # By partner, then stably by count, strongest first (reverse keeps ties in order):
            # the order of the key (-count, partner) without a Python call per entry.
            ranked = [(-count, partner) for partner, count in row.items()]
            ranked.sort()  # partners are distinct: (count descending, partner ascending)
            self._ranked[key] = ranked
        return [(partner, -count) for count, partner in ranked[:n]]

    def arrays(self, key: int) -> tuple[I64, F64]:
        """The partners of ``key`` and their counts as arrays, in the row's order (kept until
        the row changes: a pick reads its seeds' rows without a Python step per entry)."""
        found = self._arrays.get(key)
        if found is None:
            row = self.partners.get(key, {})
            found = (
                np.fromiter(row, dtype=np.int64, count=len(row)),
                np.fromiter(row.values(), dtype=np.float64, count=len(row)),
            )
            self._arrays[key] = found
        return found

    def count(self, a: int, b: int) -> int:
        return self.partners.get(a, {}).get(b, 0)

    def forget_reads(self) -> None:
        """Drop what was read of the rows (rankings, arrays): they are read afresh."""
        self._ranked.clear()
        self._arrays.clear()

    def load_all(self, a: int, others: Iterable[int], floors: _Floors) -> None:
        """:meth:`add_all` while a file's history loads: the same rows, with each full row's
        weakest partners kept at hand in ``floors`` (the load's own), since finding them
        afresh at every newcomer took seconds on an imported log (MovieLens: 650,000 newcomers
        to full rows among 67,000 positives)."""
        bumps = 0
        for b in others:
            if a == b:
                continue
            bumps += 2
            self._bump_loading(a, b, floors)
            self._bump_loading(b, a, floors)
        self.changes += bumps

    def _bump_loading(self, key: int, other: int, floors: _Floors) -> None:
        """:func:`_count` of ``other`` in ``key``'s row, keeping its floor in step once the row
        is full: the lowest count, how many partners are at it, and a heap of their ids, highest
        first, in which a partner that moved up or left is dropped when it reaches the top."""
        row = self.partners.get(key)
        if row is None:
            row = self.partners[key] = {}
        count = row.get(other)
        floor = floors.get(key)
        if count is not None:
            row[other] = count + 1
            if floor is not None and count == floor[0]:
                floor[1] -= 1
                if not floor[1]:
                    floors[key] = _floor_of(row)
            return
        if len(row) >= self.capacity:
            if floor is None:
                floor = floors[key] = _floor_of(row)
            least, heap = floor[0], floor[2]
            weakest = -heappop(heap)
            while row.get(weakest) != least:  # moved up since, or left and came back
                weakest = -heappop(heap)
            del row[weakest]  # _weakest's choice: the lowest count, the highest id
            if least == 1:
                heappush(heap, -other)
            else:  # the newcomer's 1 is the row's lowest count now
                floors[key] = [1, 1, [-other]]
        row[other] = 1


# A full row's floor while a file's history loads: [lowest count, partners at it, heap of their
# negated ids (with stale entries)].
_Floors = dict[int, list[Any]]


def _floor_of(row: dict[int, int]) -> list[Any]:
    least = min(row.values())
    heap = [-partner for partner, count in row.items() if count == least]
    heapify(heap)
    return [least, len(heap), heap]


def _count(
    row: dict[int, int], ranked: list[tuple[int, int]] | None, other: int, capacity: int
) -> None:
    """One more co-engagement with ``other`` in a row of at most ``capacity`` partners (a full
    row drops its weakest for a newcomer), and in the row's ranking if it has one: a seed's
    row changes with every positive paired with it, and ranking all of it again at the next
    pick cost more than moving one entry."""
    count = row.get(other)
    if count is not None:
        row[other] = count + 1
        if ranked is not None:
            del ranked[bisect_left(ranked, (-count, other))]
            insort(ranked, (-count - 1, other))
        return
    if len(row) >= capacity:
        if ranked is not None:  # the weakest ranks last: (lowest count, then highest id)
            del row[ranked.pop()[1]]
        else:
            del row[_weakest(row)]
    row[other] = 1
    if ranked is not None:
        insort(ranked, (-1, other))


def _weakest(row: dict[int, int]) -> int:
    """The partner a full row drops: the lowest count, of those the highest id (the minimum
    of (count, -partner), found with the lowest count first rather than a key per entry)."""
    least = min(row.values())
    return max([partner for partner, count in row.items() if count == least])


class CoEngagement:
    """Video-video and creator-creator co-engagement learned from all viewers."""

    def __init__(self, creator_of: npt.NDArray[np.integer]) -> None:
        self.creator_of = creator_of
        self.videos = Pairs()
        self.creators = Pairs()
        self._recent: dict[int, deque[int]] = {}  # viewer -> recent positive videos
        self.viewers = SimilarViewers()  # every viewer's positives, for item-kNN's cosine
        # The count tables of the last seeds scored, until the seeds or the counts change: a
        # viewer who skips keeps its seeds, and its next pick reads the same tables.
        self._tables: tuple[tuple[object, ...], _Table, _Table] | None = None

    def load(self, rows: Iterable[tuple[int, int, str]]) -> None:
        """Rebuild from recorded (viewer, video, kind) rows in the order they were recorded:
        :meth:`observe` of each, each full row's weakest partners tracked as it goes
        (:meth:`Pairs.load_all`)."""
        floors: tuple[_Floors, _Floors] = ({}, {})
        for pairs in (self.videos, self.creators):
            pairs.forget_reads()  # load_all moves rows without keeping what was read of them
        for user_id, video_id, kind in rows:
            self._observe(int(user_id), int(video_id), str(kind), floors)

    def observe(self, user_id: int, video_id: int, kind: str) -> None:
        """One recorded event; only completions and likes count, once per viewer and video."""
        self._observe(user_id, video_id, kind, None)

    def _observe(
        self, user_id: int, video_id: int, kind: str, floors: tuple[_Floors, _Floors] | None
    ) -> None:
        if kind not in POSITIVE_KINDS:
            return
        self.viewers.add(user_id, video_id)
        recent = self._recent.get(user_id)
        if recent is None:
            recent = self._recent[user_id] = deque(maxlen=WINDOW)
        elif video_id in recent:
            return  # a like after the completion (or a loop) is the same positive
        if recent:
            # The two tables never meet, so each takes the window in one call; the creators
            # in one gather, as Python ints (a numpy scalar read per partner cost more).
            creator, *others = self.creator_of[[video_id, *recent]].tolist()
            if floors is None:
                self.videos.add_all(video_id, recent)
                self.creators.add_all(creator, others)
            else:
                self.videos.load_all(video_id, recent, floors[0])
                self.creators.load_all(creator, others, floors[1])
        recent.append(video_id)

    def neighbours(self, seeds: Sequence[int], quota: int) -> I64:
        """Videos most co-engaged with the seeds: each seed's strongest partners in turn."""
        if quota == 0 or not seeds:
            return np.zeros(0, dtype=np.int64)
        per_seed = max(1, math.ceil(quota / len(seeds)))
        found = [v for s in seeds for v, _ in self.videos.strongest(s, per_seed)]
        return np.array(list(dict.fromkeys(found))[:quota], dtype=np.int64)

    def partner_creators(self, seeds: Sequence[int], n: int) -> list[int]:
        """Creators most co-engaged with the seeds' creators ("viewers who finished this
        creator also finished that one"), each seed's creator's strongest partners in turn,
        without the seeds' own creators.

        Args:
            seeds: a viewer's recent positive videos, newest first.
            n: how many creators at most.
        """
        own = list(dict.fromkeys(int(self.creator_of[s]) for s in seeds))
        if n == 0 or not own:
            return []
        per_seed = max(1, math.ceil(n / len(own)))
        found = [c for s in own for c, _ in self.creators.strongest(s, per_seed) if c not in own]
        return list(dict.fromkeys(found))[:n]

    def scores(self, ids: I64, seeds: Sequence[int]) -> F64:
        """log(1 + Σ co-engagement counts with the seeds) per candidate (videos and, at half
        weight, their creators): 0 for a candidate nobody engaged with alongside the seeds."""
        return self.scores_many([ids], [seeds])[0]

    def scores_many(self, ids: Sequence[I64], seeds: Sequence[Sequence[int]]) -> list[F64]:
        """:meth:`scores` of several viewers' candidates (``ids[k]`` against ``seeds[k]``):
        each viewer's tables laid end to end, keyed by viewer, and read in one search."""
        if len(ids) == 1:  # a single pick: its own tables, without the batch's keys
            video_table, creator_table = self._tables_of(seeds[0])
            # 0 + the videos' sums, as the batch's running total starts (counts are >= 0).
            alone = _summed_counts(video_table, ids[0])
            creators = self.creator_of[ids[0]]
            alone += 0.5 * _summed_counts(creator_table, creators, ordered=False)
            return [np.log1p(alone)]
        tables = [self._tables_of(own) for own in seeds]
        rows = Batch.of(ids)
        total = np.zeros(len(rows.ids), dtype=np.float64)
        total += _summed_counts_many([t[0] for t in tables], rows, rows.ids)
        total += 0.5 * _summed_counts_many([t[1] for t in tables], rows, self.creator_of[rows.ids])
        result: F64 = np.log1p(total)
        return rows.split(result)

    def _tables_of(self, seeds: Sequence[int]) -> tuple[_Table, _Table]:
        """The summed tables of the seeds' video and creator partners (the last kept: a
        viewer's next pick often has the same seeds)."""
        if not seeds:
            return _EMPTY, _EMPTY
        key = (*seeds, self.videos.changes, self.creators.changes)
        if self._tables is None or self._tables[0] != key:
            videos = [self.videos.partners.get(seed, _NO_ROW) for seed in seeds]
            seed_creators = self.creator_of[list(seeds)].tolist()
            creators = [self.creators.partners.get(c, _NO_ROW) for c in seed_creators]
            self._tables = (key, _summed_table(videos), _summed_table(creators))
        return self._tables[1], self._tables[2]


_Table = tuple[I64, F64]  # partners, ascending, and the running sum of their counts


def _summed_table(rows: Sequence[Mapping[int, int]]) -> _Table:
    """Several rows' entries (partner: count) as one table :func:`_summed_counts` reads.
    Counts are whole numbers, so running sums over the rows' entries sorted by partner give
    the same totals as adding them row by row, whatever the order: a few calls, however many
    rows changed since the last pick (a seed's row changes with every positive paired with
    it), each row read straight into the two arrays."""
    size = sum(map(len, rows))
    partners = np.fromiter(chain.from_iterable(rows), dtype=np.int64, count=size)
    counts = np.fromiter(
        chain.from_iterable(row.values() for row in rows), dtype=np.float64, count=size
    )
    # Any order of equal partners gives the same sums at the ends of their run (the only
    # places read): numpy's default, vectorised sort.
    order = partners.argsort()
    running = np.zeros(len(partners) + 1, dtype=np.float64)
    np.cumsum(counts[order], out=running[1:])
    return partners[order], running


def _summed_counts(table: _Table, keys: npt.NDArray[np.integer], *, ordered: bool = True) -> F64:
    """The counts of each key summed over the table's rows, 0 where absent.

    Args:
        ordered: whether the keys are (mostly) ascending, as a pick's candidate ids are; keys
            in no order (their creators) are searched in ascending order and put back: a
            binary search of keys in no order mispredicts about every other step.
    """
    partners, running = table
    if len(partners) == 0:
        return np.zeros(len(keys), dtype=np.float64)
    if ordered:
        lo, hi = partners.searchsorted(keys), partners.searchsorted(keys, "right")
        result: F64 = running[hi] - running[lo]
        return result
    order = keys.argsort()
    ascending = keys[order]
    lo, hi = partners.searchsorted(ascending), partners.searchsorted(ascending, "right")
    put_back = np.empty(len(keys), dtype=np.float64)
    put_back[order] = running[hi] - running[lo]
    return put_back


_EMPTY: _Table = (np.zeros(0, dtype=np.int64), np.zeros(1, dtype=np.float64))
_NO_ROW: dict[int, int] = {}  # a key without partners (read, never written)


def _summed_counts_many(
    tables: Sequence[_Table], rows: Batch, keys: npt.NDArray[np.integer]
) -> F64:
    """:func:`_summed_counts` of each row's key in its viewer's table, every viewer's at
    once: the tables' partners keyed by viewer in one sorted array, their running sums end to
    end (viewer ``k``'s start ``k`` places after its partners, having one more entry), so a
    row reads exactly the two sums its own table holds."""
    if len(tables) == 1:
        return _summed_counts(tables[0], keys)
    sizes = [len(t[0]) for t in tables]
    viewer = np.repeat(np.arange(len(tables), dtype=np.int64), sizes)
    partners = (viewer << VIEWER_SHIFT) | np.concatenate([t[0] for t in tables])
    running = np.concatenate([t[1] for t in tables])
    wanted = (rows.viewer << VIEWER_SHIFT) | keys.astype(np.int64)
    lo, hi = partners.searchsorted(wanted), partners.searchsorted(wanted, "right")
    result: F64 = running[hi + rows.viewer] - running[lo + rows.viewer]
    return result


def recent_positives(reactions: Iterable[tuple[str, int]], n: int = SEEDS) -> list[int]:
    """A viewer's most recent positively engaged videos (newest first), from their reactions."""
    seeds: list[int] = []
    for kind, video in reversed(list(reactions)):
        if kind in POSITIVE_KINDS and video not in seeds:
            seeds.append(video)
            if len(seeds) == n:
                break
    return seeds
