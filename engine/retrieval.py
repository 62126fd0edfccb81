"""Exact nearest-neighbour search over the video embeddings, pruned by topic.

Embeddings are unit vectors built around their topic's centroid, so every video of a topic lies
within a ball of radius ``r`` around the topic's mean ``c``. For a unit query ``q`` no video of
that topic can score above ``c·q + r`` (Cauchy-Schwarz). The search scans topics from the
highest bound down and stops as soon as the next bound cannot beat the k-th best found so far:
the answer is exactly the full scan's top-k, but a viewer with a few interests touches a
fraction of the matrix. The matrix is kept a second time, grouped by topic, so each topic is
one contiguous block (a 1M world: +128 MB, against a full scan per pick).

The ball bound is loose (a topic's radius is its farthest video; a query meets few of them
head-on), so the exact scan still reads four or five topics for a typical viewer and nine for
one between two interests, where the best k almost always sit in the first two or three. A
pick's search therefore also stops after :data:`PROBES` topics once it has read
:data:`ROWS_PER_RESULT` videos per result: on a 100k world, recall against the exact scan
was 1.0000 over 1,000 viewer queries (0.9998 with two probes; see
``tests/test_retrieval.py``), and a small world, where three topics hold few videos, keeps
scanning to the exact answer.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from engine.idset import IdSet

I64 = npt.NDArray[np.int64]
F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]

PROBES = 3  # topics a pick's search reads at least (highest bounds first)
ROWS_PER_RESULT = 20  # ... and videos per wanted result, before it may stop short of exact


class TopicIndex:
    def __init__(self, embedding: F32, ids: I64, bounds: I64) -> None:
        """``ids`` holds every video grouped by topic; topic t is ``ids[bounds[t]:bounds[t+1]]``."""
        self.ids = ids
        self.bounds = bounds
        self.matrix = np.ascontiguousarray(embedding[self.ids])
        self.position = np.empty(len(self.ids), dtype=np.int64)
        self.position[self.ids] = np.arange(len(self.ids))
        n_topics = len(bounds) - 1
        self.centroids = np.zeros((n_topics, embedding.shape[1]), dtype=np.float64)
        self.radii = np.zeros(n_topics, dtype=np.float64)
        for t in range(n_topics):
            block = self.matrix[self.bounds[t] : self.bounds[t + 1]]
            if len(block):
                c = block.mean(axis=0, dtype=np.float64)
                # |e - c|² = |e|² - 2 e·c + |c|², without a float64 copy of the block
                squared = np.einsum("ij,ij->i", block, block) - 2.0 * (block @ c.astype(np.float32))
                self.centroids[t] = c
                # Slack so float32 rounding in the scan can never beat the bound.
                self.radii[t] = np.sqrt(max(float(squared.max()) + c @ c, 0.0)) + 1e-4

    def exclusion(self, videos: IdSet | I64) -> I64:
        """Where the given videos sit in the grouped matrix, sorted: the ``excluded`` argument
        (for a viewer's seen set, kept by the set from one pick to the next:
        :meth:`engine.idset.IdSet.mapped`)."""
        if isinstance(videos, IdSet):
            return videos.mapped(self.position)
        excluded: I64 = np.sort(self.position[videos])
        return excluded

    def topic_sims(self, topic: int, query: F32, excluded: I64) -> F32:
        """Similarity of every video of one topic (in grouped order), excluded ones -inf."""
        lo, hi = int(self.bounds[topic]), int(self.bounds[topic + 1])
        sims: F32 = self.matrix[lo:hi] @ query
        a, b = excluded.searchsorted((lo, hi))
        sims[excluded[a:b] - lo] = -np.inf
        return sims

    def sims_many(
        self, queries: Sequence[F32], excluded: Sequence[I64], topics: Sequence[Sequence[int]]
    ) -> list[dict[int, F32]]:
        """For each query, :meth:`topic_sims` of each of its ``topics``, topic by topic for
        every query that wants it: a block is read from memory once for all of them.

        Each stays a matrix-vector product: a matrix-matrix one (one per topic for all its
        queries) rounds differently in the last bit, so a viewer's similarities would depend
        on who shares its batch, and at this width and a few queries per topic it was no
        faster (measured: engine/sim/README.md, "Fifth pass").
        """
        wanting: dict[int, list[int]] = {}
        for row, wanted in enumerate(topics):
            for t in wanted:
                wanting.setdefault(t, []).append(row)
        found: list[dict[int, F32]] = [{} for _ in topics]
        for t, rows in wanting.items():
            for row in rows:
                found[row][t] = self.topic_sims(t, queries[row], excluded[row])
        return found

    def bound(self, query: F32) -> F64:
        """The most any video of each topic can score against ``query`` (see the module)."""
        result: F64 = self.centroids @ query.astype(np.float64) + self.radii
        return result

    def probed(self, bound: F64, probes: int = PROBES) -> list[int]:
        """The topics a search reads first whatever it finds: the ``probes`` of highest
        ``bound`` (it may stop before them, or read more; see :meth:`search`)."""
        first: list[int] = (-bound).argsort(kind="stable")[:probes].tolist()
        return first

    def search(
        self,
        query: F32,
        k: int,
        excluded: I64,
        probes: int | None = PROBES,
        known: dict[int, F32] | None = None,
        bound: F64 | None = None,
    ) -> tuple[I64, dict[int, F32]]:
        """The ``k`` ids most similar to ``query`` outside ``excluded`` (any order), and the
        similarities of every topic it had to scan (reused by per-topic retrieval).

        Args:
            probes: stop after this many topics once ``ROWS_PER_RESULT * k`` videos are read
                (see the module's note on recall); None: exactly the full scan's top k.
            known: similarities already computed (:meth:`sims_many`), read, not recomputed.
            bound: :meth:`bound` of ``query``, if already computed.
        """
        if bound is None:
            bound = self.bound(query)
        known = {} if known is None else known
        scanned: dict[int, F32] = {}
        best_pos = np.zeros(0, dtype=np.int64)
        best_sim = np.zeros(0, dtype=np.float32)
        floor = -np.inf  # the k-th best so far (-inf until there are k)
        enough = np.inf if probes is None else ROWS_PER_RESULT * k
        rows = 0
        for t in (-bound).argsort(kind="stable").tolist():
            if bound[t] < floor:
                break  # no video of this topic, or of any later one, can enter the top k
            if probes is not None and len(scanned) >= probes and rows >= enough:
                break
            sims = known[t] if t in known else self.topic_sims(t, query, excluded)
            scanned[t] = sims
            rows += len(sims)
            # Only what can still enter the top k joins it (excluded videos are -inf): the
            # merge stays about k long instead of k plus a whole topic.
            live = (sims >= floor).nonzero()[0] if floor > -np.inf else _finite(sims)
            if len(live) == 0:
                continue
            pos = np.concatenate([best_pos, live + self.bounds[t]])
            sim = np.concatenate([best_sim, sims[live]])
            if len(sim) > k:
                keep = largest(sim, k)
                pos, sim = pos[keep], sim[keep]
            best_pos, best_sim = pos, sim
            if len(best_sim) >= k:
                floor = float(best_sim.min())
        found: I64 = self.ids[best_pos]
        return found, scanned


def _finite(sims: F32) -> I64:
    live: I64 = np.isfinite(sims).nonzero()[0]
    return live


# A sample of one in SAMPLE_STRIDE values (at most) finds the threshold, so the selection
# proper runs on about SAMPLE_STRIDE * n values instead of all of them.
SAMPLE_STRIDE = 16
SAMPLE_PER_RESULT = 4  # ... and the sample holds at least this many values per wanted one


def largest(values: npt.NDArray[np.floating], n: int) -> I64:
    """Where the ``n`` largest of ``values`` sit (any order; ``0 < n <= len(values)``): the
    set ``np.argpartition(values, len(values) - n)[-n:]`` selects.

    numpy's argpartition costs 35-50 us on a topic's few thousand values where it has no SIMD
    kernel (AVX2 machines), and a pick makes several. The n-th largest of a strided sample is
    at most the n-th largest of all, so every one of the n largest is at or above it: the
    selection runs on those only (a few hundred).
    """
    size = len(values)
    stride = min(SAMPLE_STRIDE, size // (SAMPLE_PER_RESULT * n)) if n else 0
    if stride < 2:
        return np.argpartition(values, size - n)[size - n :].astype(np.int64)
    sample = values[::stride]
    threshold = np.partition(sample, len(sample) - n)[len(sample) - n]
    above = (values >= threshold).nonzero()[0]
    chosen: I64 = above[np.argpartition(values[above], len(above) - n)[len(above) - n :]]
    return chosen
