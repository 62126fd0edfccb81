"""Learning from everyone, item-kNN's way: how much viewers who share a viewer's positives
engaged with a video.

:mod:`engine.coengagement` pairs each positive with the viewer's last few and keeps a video's
strongest partners: cheap to read, but a viewer with a long history is known by five videos,
and two videos a viewer finished a month apart never meet. This holds every viewer's positives
(a completion or a like, once per viewer and video) as (viewer, video) pairs, the binary
viewer × video matrix X of item-based nearest neighbours (Sarwar et al. 2001), and scores a
candidate j for viewer u by the cosine of its column with each of u's positives i, averaged
over them:

    Σ_i C_ij / √(n_i n_j) / |H(u)|

C_ij counting the *other* viewers positive on both, n_i the viewers positive on i. It is the
``itemknn`` baseline's score (:mod:`engine.itemknn`) over the viewer's history H(u) (there
scaled by its best, here by the history's length, so that viewers and times compare),
computed for the candidates only, in two
passes over the pairs (``np.bincount``): w_v = Σ_{i∈H(u)} X_vi / √n_i per viewer v, then
Σ_v w_v X_vj / √n_j per candidate. The learned model reads log(1 + it) as its input "similar
viewers" (:mod:`engine.learned`). A function of the positive events in the order they were
recorded, like co-engagement: rebuilt from the file when the engine opens, replayed exactly.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]


class SimilarViewers:
    """Every viewer's positives, and item-item cosine sums over them (see the module)."""

    def __init__(self) -> None:
        self._row_of: dict[int, int] = {}  # viewer id -> row of X
        self._history: list[list[int]] = []  # per row, its positive videos in order
        self._known: set[tuple[int, int]] = set()
        self._who = np.zeros(1024, dtype=np.int64)
        self._what = np.zeros(1024, dtype=np.int64)
        self._pairs = 0
        self._counts = np.zeros(1024, dtype=np.int64)  # n_i: viewers positive on each video
        # 1/√n_i of every video, until a pair arrives.
        self._inverse_root: tuple[int, F64] | None = None
        self._marks = np.zeros(0, dtype=bool)
        self._slots = np.zeros(0, dtype=np.int64)

    def __len__(self) -> int:
        return self._pairs

    def add(self, user_id: int, video_id: int) -> None:
        """One positive (the caller keeps to completions and likes); a repeat counts once."""
        if (user_id, video_id) in self._known:
            return
        self._known.add((user_id, video_id))
        row = self._row_of.setdefault(user_id, len(self._row_of))
        if row == len(self._history):
            self._history.append([])
        self._history[row].append(video_id)
        if self._pairs == len(self._who):
            self._who = np.resize(self._who, 2 * self._pairs)
            self._what = np.resize(self._what, 2 * self._pairs)
        self._who[self._pairs] = row
        self._what[self._pairs] = video_id
        self._pairs += 1
        if video_id >= len(self._counts):
            grown = np.zeros(max(2 * len(self._counts), video_id + 1), dtype=np.int64)
            grown[: len(self._counts)] = self._counts
            self._counts = grown
        self._counts[video_id] += 1

    def scores_many(self, ids: Sequence[I64], user_ids: Sequence[int]) -> list[F64]:
        """log(1 + mean cosine) of each ``ids[k]`` with ``user_ids[k]``'s positives: 0 for a
        viewer without positives and for a video nobody else shares one with."""
        return [self.scores(own, user) for own, user in zip(ids, user_ids, strict=True)]

    def scores(self, ids: I64, user_id: int) -> F64:
        """:meth:`scores_many` of one viewer."""
        result = np.zeros(len(ids))
        row = self._row_of.get(user_id)
        if row is None or not len(ids):
            return result
        who, what = self._who[: self._pairs], self._what[: self._pairs]
        inverse_root = self._inverse_roots()
        overlap = self._overlap(row)
        slots = self._scratch()[1]
        # Each distinct candidate the pairs can reach gets a slot (a repeated id, the same).
        distinct, slot_of = np.unique(ids, return_inverse=True)
        distinct = distinct[distinct < len(slots)]
        slots[distinct] = np.arange(len(distinct))
        try:
            position = slots[what]
        finally:
            slots[distinct] = -1
        reached = position >= 0
        sums = np.bincount(position[reached], overlap[who[reached]], len(distinct))
        # The mean over the viewer's positives: comparable between a viewer with five and one
        # with five hundred (a sum grows with the history, and a model learned on short
        # histories over-rated long ones: MovieLens ECE of P(complete) 0.037 -> 0.066).
        mean = sums * inverse_root[distinct] / len(self._history[row])  # (float even when empty)
        inside = slot_of < len(distinct)
        result[inside] = np.log1p(mean[slot_of[inside]])
        return result

    def cosine_sums(self, user_id: int, n_videos: int) -> F64:
        """Σ_i C_ij / √(n_i n_j) over the viewer's positives i, for every video j < n_videos
        (all 0 for a viewer without positives): the ``itemknn`` baseline's score before its
        scaling."""
        row = self._row_of.get(user_id)
        if row is None:
            return np.zeros(n_videos)
        who, what = self._who[: self._pairs], self._what[: self._pairs]
        inverse_root = np.zeros(n_videos)
        known = min(n_videos, len(self._counts))
        inverse_root[:known] = self._inverse_roots()[:known]
        overlap = self._overlap(row)
        sums: F64 = np.bincount(what, weights=overlap[who], minlength=n_videos) * inverse_root
        return sums

    def _overlap(self, row: int) -> F64:
        """w_v = Σ_{i∈H(u)} X_vi / √n_i for every viewer v (0 for the viewer u itself, whose own
        positives are no evidence of similarity)."""
        history = self._history[row]
        who, what = self._who[: self._pairs], self._what[: self._pairs]
        marks = self._scratch()[0]
        marks[history] = True
        try:
            shared = marks[what]
        finally:
            marks[history] = False
        weights = self._inverse_roots()[what[shared]]
        overlap: F64 = np.bincount(who[shared], weights, len(self._history)).astype(np.float64)
        overlap[row] = 0.0  # (a bincount of no pairs is int64: hence the cast)
        return overlap

    def _scratch(self) -> tuple[npt.NDArray[np.bool_], I64]:
        """Per-video arrays a score marks and clears again (all False, all -1 between calls):
        allocating them per pick cost more than the passes over the pairs on a 100k world."""
        size = len(self._counts)
        if len(self._marks) != size:
            self._marks = np.zeros(size, dtype=bool)
            self._slots = np.full(size, -1, dtype=np.int64)
        return self._marks, self._slots

    def _inverse_roots(self) -> F64:
        """1/√n_i of every video (0 where nobody is positive), kept until a pair arrives."""
        if self._inverse_root is not None and self._inverse_root[0] == self._pairs:
            return self._inverse_root[1]
        counts = self._counts
        roots = np.zeros(len(counts))
        np.divide(1.0, np.sqrt(counts), out=roots, where=counts > 0)
        self._inverse_root = (self._pairs, roots)
        return roots
