"""Retrieval at scale: what a pick's topic-pruned search finds against the exact scan, what it
reads, and what it costs, on 20k, 100k and 1M videos.

Issue 15 asks the batched path to score a few thousand candidates per viewer with recall >= 0.95
against the exact scan. A pick's interest search (:meth:`engine.retrieval.TopicIndex.search`)
reads topics from the highest bound down and stops after :data:`engine.retrieval.PROBES` topics
once it has read :data:`engine.retrieval.ROWS_PER_RESULT` videos per result. Per catalogue
size this prints, over viewer-like queries (the normalised mean of 8 videos from each of one
to three topics, those videos excluded, as ``tests/test_retrieval.py``):

- recall of the pick's search against a brute-force scan (``embedding @ query``, top k of the
  unexcluded), mean and worst, for k = 140 (a pick's interest quota less the per-topic shares)
  and k = 25;
- the rows it read, as a share of the catalogue;
- its time per query beside the brute-force scan's (matrix @ query, then the top k), each
  over all the queries in a row, in the same run.

Run: ``python -m benchmarks.bench_retrieval [SIZES...]`` (default 20000 100000 1000000; the 1M
world is built on first use, ~1 minute).
"""

from __future__ import annotations

import sys
import time

import numpy as np

from benchmarks.common import load_now, machine, measured, world
from engine.catalog import Catalog
from engine.store import Store

QUERIES = 300
KS = (140, 25)


def viewer_queries(
    catalog: Catalog, rng: np.random.Generator, n: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """``n`` (query, excluded video ids) pairs shaped like a viewer's interest query."""
    queries = []
    for _ in range(n):
        topics = rng.choice(len(catalog.by_topic), size=int(rng.integers(1, 4)), replace=False)
        liked = np.concatenate([rng.choice(catalog.by_topic[int(t)], size=8) for t in topics])
        query = catalog.embedding[liked].mean(axis=0)
        queries.append(((query / np.linalg.norm(query)).astype(np.float32), np.unique(liked)))
    return queries


def brute_force(embedding: np.ndarray, query: np.ndarray, excluded: np.ndarray, k: int) -> set[int]:
    sims = embedding @ query
    sims[excluded] = -np.inf
    return set(np.argpartition(sims, len(sims) - k)[len(sims) - k :].tolist())


def one_size(videos: int) -> None:
    with Store.open(world(videos)) as store:
        catalog = Catalog(store.load_world())
    index, embedding = catalog.index, catalog.embedding
    queries = viewer_queries(catalog, np.random.default_rng(3), QUERIES)
    print(f"\n{videos:,} videos, {QUERIES} viewer-like queries:")
    excluded = [index.exclusion(liked) for _, liked in queries]
    with measured(f"  {videos:,}", echo=False) as measurement:
        for k in KS:
            started = time.perf_counter()
            exact = [brute_force(embedding, query, liked, k) for query, liked in queries]
            scan_s = time.perf_counter() - started
            started = time.perf_counter()
            found = [index.search(q, k, e) for (q, _), e in zip(queries, excluded, strict=True)]
            search_s = time.perf_counter() - started
            recalls = [
                len(want & set(ids.tolist())) / k
                for want, (ids, _) in zip(exact, found, strict=True)
            ]
            rows = sum(len(s) for _, scanned in found for s in scanned.values())
            print(
                f"  k={k:<4} recall mean {np.mean(recalls):.4f}, worst {min(recalls):.3f} · "
                f"reads {rows / QUERIES / videos:.1%} of the rows · "
                f"search {1e3 * search_s / QUERIES:.2f} ms / brute-force scan "
                f"{1e3 * scan_s / QUERIES:.2f} ms = {search_s / scan_s:.2f}×"
            )
    print(measurement.report("  "))


def main() -> None:
    sizes = [int(arg) for arg in sys.argv[1:]] or [20_000, 100_000, 1_000_000]
    print(machine())
    print(f"at start: {load_now()}")
    for videos in sizes:
        one_size(videos)
    print(f"at end: {load_now()}")


if __name__ == "__main__":
    main()
