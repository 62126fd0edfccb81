"""Learning from everyone, item-kNN's way: how much viewers who share a viewer's positives
engaged with a video.

:mod:`engine.coengagement` pairs each positive with the viewer's last few and keeps a video's
strongest partners: cheap to read, but a viewer with a long history is known by five videos,
and two videos a viewer finished a month apart never meet. This holds every viewer's positives
(a completion or a like, once per viewer and video) as (viewer, video) pairs, the binary
viewer × video matrix X of item-based nearest neighbours (Sarwar et al. 2001), and scores a
candidate j for viewer u by the cosine of its column with each of u's positives i, averaged
over them as if :data:`SHRINK` more positives shared nothing:

    Σ_i C_ij / √(n_i n_j) / (|H(u)| + SHRINK)

C_ij counting the *other* viewers positive on both, n_i the viewers positive on i. It is the
``itemknn`` baseline's score (:mod:`engine.itemknn`) over the viewer's history H(u) (there
scaled by its best, here by the history's length, so that viewers and times compare, and a
newcomer's one or two positives say little), computed for the candidates only in two passes,
w_v = Σ_{i∈H(u)} X_vi / √n_i per viewer v, then Σ_v w_v X_vj / √n_j per candidate, each
reading only the columns it needs (the pairs laid out by video every :data:`LAYOUT_EVERY`
pairs, the newer ones scanned). The learned model reads log(1 + it) as its input "similar
viewers" (:mod:`engine.learned`). A function of the positive events in the order they were
recorded, like co-engagement: rebuilt from the file when the engine opens, replayed exactly.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]

SHRINK = 20  # positives a viewer's mean is taken as if it had more of, all sharing nothing
# Pairs between two layouts of the columns: the newer ones are read in one pass, and laying
# out 100k pairs again costs a few milliseconds.
LAYOUT_EVERY = 4096


class SimilarViewers:
    """Every viewer's positives, and item-item cosine sums over them (see the module)."""

    def __init__(self) -> None:
        self._row_of: dict[int, int] = {}  # viewer id -> row of X
        # Per row, its positive videos in order: the first _lengths[row] of a buffer that
        # doubles when full (an array built from a list per pick grew with the history: 0.26
        # ms a pick at 4,000 positives).
        self._history: list[I64] = []
        self._lengths: list[int] = []
        # ... and as a set, for repeats: one set per viewer, not a (viewer, video) tuple per
        # positive (a third of the memory of a set of tuples).
        self._known: list[set[int]] = []
        self._who = np.zeros(1024, dtype=np.int64)
        self._what = np.zeros(1024, dtype=np.int64)
        self._pairs = 0
        self._counts = np.zeros(1024, dtype=np.int64)  # n_i: viewers positive on each video
        self._inverse_root = np.zeros(1024)  # 1/√n_i (0 where nobody is positive)
        self._marks = np.zeros(0, dtype=bool)
        self._slots = np.zeros(0, dtype=np.int64)
        self._layout: _Columns | None = None

    def __len__(self) -> int:
        return self._pairs

    def add(self, user_id: int, video_id: int) -> None:
        """One positive (the caller keeps to completions and likes); a repeat counts once."""
        row = self._row_of.setdefault(user_id, len(self._row_of))
        if row == len(self._history):
            self._history.append(np.zeros(8, dtype=np.int64))
            self._lengths.append(0)
            self._known.append(set())
        elif video_id in self._known[row]:
            return
        self._known[row].add(video_id)
        held = self._lengths[row]
        if held == len(self._history[row]):
            self._history[row] = _grown(self._history[row], 2 * held)
        self._history[row][held] = video_id
        self._lengths[row] = held + 1
        if self._pairs == len(self._who):
            self._who = np.resize(self._who, 2 * self._pairs)
            self._what = np.resize(self._what, 2 * self._pairs)
        self._who[self._pairs] = row
        self._what[self._pairs] = video_id
        self._pairs += 1
        if video_id >= len(self._counts):
            size = max(2 * len(self._counts), video_id + 1)
            self._counts = _grown(self._counts, size)
            self._inverse_root = _grown(self._inverse_root, size)
        self._counts[video_id] += 1
        # Kept up to date pair by pair: recomputed for the whole catalogue it cost a pick
        # 0.3 ms after every positive on a 100k world.
        self._inverse_root[video_id] = 1.0 / math.sqrt(self._counts[video_id])

    def scores_many(self, ids: Sequence[I64], user_ids: Sequence[int]) -> list[F64]:
        """log(1 + shrunk mean cosine) of each ``ids[k]`` with ``user_ids[k]``'s positives: 0
        for a viewer without positives and for a video nobody else shares one with.

        One viewer after another: keyed by viewer in one pass, the batch had to sort every key
        its viewers' columns reach, and from a few thousand positives on that cost more than
        the per-viewer bincounts (at 31k positives 810 us per viewer against 113)."""
        return [self.scores(own, user) for own, user in zip(ids, user_ids, strict=True)]

    def scores(self, ids: I64, user_id: int) -> F64:
        """:meth:`scores_many` of one viewer: the two passes read only the columns of the
        viewer's positives and of the candidates (:class:`_Columns`), and the pairs since
        the columns were last laid out."""
        result = np.zeros(len(ids))
        row = self._row_of.get(user_id)
        if row is None or not len(ids):
            return result
        columns = self._columns()
        inverse_root = self._inverse_root
        history = self._positives(row)
        # Pass 1, w_v: the viewers in each positive's column, then those of the newer pairs.
        viewers, of = columns.entries(history)
        tail_who, tail_what = columns.tail(self._who, self._what, self._pairs)
        newer = self._marked(history, tail_what)
        weights = np.concatenate([inverse_root[history[of]], inverse_root[tail_what[newer]]])
        every = np.concatenate([viewers, tail_who[newer]])
        overlap = np.bincount(every, weights, len(self._history)).astype(np.float64)
        overlap[row] = 0.0  # the viewer's own positives are no evidence of similarity
        # Pass 2, Σ_v w_v X_vj per distinct candidate (a repeated id gets the same).
        distinct, slot_of = _distinct(ids)
        distinct = distinct[distinct < len(self._counts)]
        viewers, of = columns.entries(distinct)
        slots = self._slotted(distinct, tail_what)
        reached = slots >= 0
        sums = np.bincount(
            np.concatenate([of, slots[reached]]),
            np.concatenate([overlap[viewers], overlap[tail_who[reached]]]),
            len(distinct),
        )
        # The mean over the viewer's positives, as if SHRINK more of them shared nothing:
        # comparable between a viewer with five and one with five hundred (a plain sum grows
        # with the history), and a newcomer's one or two positives say little.
        mean = sums * inverse_root[distinct] / (len(history) + SHRINK)
        inside = slot_of < len(distinct)
        result[inside] = np.log1p(mean[slot_of[inside]])
        return result

    def cosine_sums(self, user_id: int, n_videos: int) -> F64:
        """Σ_i C_ij / √(n_i n_j) over the viewer's positives i, for every video j < n_videos
        (all 0 for a viewer without positives): the ``itemknn`` baseline's score before its
        scaling, in two passes over every pair (it scores the whole catalogue)."""
        row = self._row_of.get(user_id)
        if row is None:
            return np.zeros(n_videos)
        who, what = self._who[: self._pairs], self._what[: self._pairs]
        inverse_root = np.zeros(n_videos)
        known = min(n_videos, len(self._counts))
        inverse_root[:known] = self._inverse_root[:known]
        history = self._positives(row)
        shared = self._marked(history, what)
        weights = self._inverse_root[what[shared]]
        overlap = np.bincount(who[shared], weights, len(self._history)).astype(np.float64)
        overlap[row] = 0.0
        sums: F64 = np.bincount(what, weights=overlap[who], minlength=n_videos) * inverse_root
        return sums

    def _positives(self, row: int) -> I64:
        """The row's positive videos in order (a view of its buffer: read, never kept)."""
        return self._history[row][: self._lengths[row]]

    def _columns(self) -> _Columns:
        """The pairs laid out by video up to the last multiple of :data:`LAYOUT_EVERY` pairs:
        a function of the pair count alone, so an engine that loaded its pairs at open and one
        that saw them arrive read the same columns and sum in the same order."""
        laid = self._pairs - self._pairs % LAYOUT_EVERY
        layout = self._layout
        if layout is None or layout.pairs != laid or len(layout.start) != len(self._counts) + 1:
            layout = _Columns.of(self._who[:laid], self._what[:laid], len(self._counts))
            self._layout = layout
        return layout

    def _marked(self, videos: I64, what: I64) -> npt.NDArray[np.bool_]:
        """Which of the pairs' videos ``what`` are among ``videos``."""
        marks = self._scratch()[0]
        marks[videos] = True
        try:
            return marks[what]
        finally:
            marks[videos] = False

    def _slotted(self, distinct: I64, what: I64) -> I64:
        """Where each of the pairs' videos ``what`` sits in ``distinct`` (-1: not there)."""
        slots = self._scratch()[1]
        slots[distinct] = np.arange(len(distinct))
        try:
            return slots[what]
        finally:
            slots[distinct] = -1

    def _scratch(self) -> tuple[npt.NDArray[np.bool_], I64]:
        """Per-video arrays a score marks and clears again (all False, all -1 between calls):
        allocating them per pick cost more than reading the pairs on a 100k world."""
        size = len(self._counts)
        if len(self._marks) != size:
            self._marks = np.zeros(size, dtype=bool)
            self._slots = np.full(size, -1, dtype=np.int64)
        return self._marks, self._slots


def _distinct(ids: I64) -> tuple[I64, I64]:
    """``np.unique(ids, return_inverse=True)``, without its sort when ``ids`` are already
    strictly increasing (a pick's candidates are)."""
    if len(ids) < 2 or bool((ids[1:] > ids[:-1]).all()):
        return ids, np.arange(len(ids))
    distinct, inverse = np.unique(ids, return_inverse=True)
    return distinct, inverse


def _grown(values: npt.NDArray[Any], size: int) -> npt.NDArray[Any]:
    """``values`` followed by zeros up to ``size``."""
    grown = np.zeros(size, dtype=values.dtype)
    grown[: len(values)] = values
    return grown


class _Columns:
    """The first ``pairs`` pairs grouped by video (stable: in arrival order within a video),
    so the viewers positive on some videos are a few slices, not a pass over every pair."""

    def __init__(self, pairs: int, viewers: I64, start: I64) -> None:
        self.pairs = pairs
        self.viewers = viewers  # each pair's viewer, grouped by video
        self.start = start  # video v's viewers: viewers[start[v]:start[v + 1]]

    @classmethod
    def of(cls, who: I64, what: I64, n_videos: int) -> _Columns:
        order = np.argsort(what, kind="stable")
        start = np.zeros(n_videos + 1, dtype=np.int64)
        np.cumsum(np.bincount(what, minlength=n_videos), out=start[1:])
        return cls(len(who), who[order], start)

    def entries(self, videos: I64) -> tuple[I64, I64]:
        """The viewers of every column of ``videos``, and for each which of ``videos`` (its
        index) it came from: a ragged gather in a few numpy calls."""
        lo = self.start[videos]
        sizes = self.start[videos + 1] - lo
        of = np.repeat(np.arange(len(videos)), sizes)
        # Each entry's place: its column's start, plus its rank within the column.
        first = np.cumsum(sizes) - sizes
        at = lo[of] + np.arange(len(of)) - first[of]
        return self.viewers[at], of

    def tail(self, who: I64, what: I64, pairs: int) -> tuple[I64, I64]:
        """The pairs that arrived after the layout (any number below LAYOUT_EVERY)."""
        return who[self.pairs : pairs], what[self.pairs : pairs]
