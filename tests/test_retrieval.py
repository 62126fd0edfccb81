"""The pruned nearest-neighbour search returns exactly what a full scan of the matrix returns."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.catalog import Catalog
from engine.retrieval import largest
from engine.store import Store


@pytest.fixture(scope="module")
def catalog(world_template: Path) -> Catalog:
    with Store.open(world_template) as store:
        return Catalog(store.load_world())


def full_scan(catalog: Catalog, query: np.ndarray, k: int, seen: np.ndarray) -> set[int]:
    sims = catalog.embedding @ query
    sims[seen] = -np.inf
    top = np.argpartition(sims, len(sims) - k)[-k:]
    return set(top[np.isfinite(sims[top])].tolist())


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    k=st.integers(1, 400),
    n_seen=st.integers(0, 300),
    mix=st.integers(1, 4),
)
def test_search_matches_a_full_scan(
    catalog: Catalog, seed: int, k: int, n_seen: int, mix: int
) -> None:
    """Queries like a viewer's blend of a few topics, or pure noise; seen videos excluded."""
    rng = np.random.default_rng(seed)
    if seed % 5 == 0:
        query = rng.standard_normal(catalog.embedding.shape[1])
    else:
        liked = rng.choice(catalog.n, size=mix * 5)
        query = catalog.embedding[liked].mean(axis=0) + 0.1 * rng.standard_normal(32)
    query = (query / np.linalg.norm(query)).astype(np.float32)
    seen = rng.choice(catalog.n, size=n_seen, replace=False).astype(np.int64)
    found, _ = catalog.index.search(query, k, catalog.index.exclusion(seen), probes=None)
    assert len(found) == len(set(found.tolist())) == k
    assert not set(found.tolist()) & set(seen.tolist())
    assert set(found.tolist()) == full_scan(catalog, query, k, seen)


def test_a_focused_viewer_touches_a_fraction_of_the_catalog(catalog: Catalog) -> None:
    """The point of the index: a viewer into one topic does not pay for all of them (k is a
    quarter of the topic, as 140 interest candidates are of a topic in a 100k world)."""
    topic_videos = catalog.by_topic[3]
    query = catalog.embedding[topic_videos[:20]].mean(axis=0)
    query = (query / np.linalg.norm(query)).astype(np.float32)
    _, scanned = catalog.index.search(
        query, len(topic_videos) // 4, catalog.index.exclusion(np.zeros(0, np.int64))
    )
    assert 3 in scanned
    assert len(scanned) < len(catalog.by_topic) / 2


def test_a_picks_search_finds_what_the_exact_scan_finds(demo_world: Path) -> None:
    """A pick reads at most a few topics once it has read enough videos (PROBES): for
    viewer-like queries (the blend of one to three topics' videos, seen videos excluded) it
    finds at least 95% of the exact scan's top k on average, and at least 80% every time,
    while reading fewer topics than the exact scan."""
    with Store.open(demo_world) as store:
        catalog = Catalog(store.load_world())
    index, rng = catalog.index, np.random.default_rng(3)
    recalls, probed, exact_scanned = [], 0, 0
    for _ in range(120):
        topics = rng.choice(len(catalog.by_topic), size=int(rng.integers(1, 4)), replace=False)
        liked = np.concatenate([rng.choice(catalog.by_topic[int(t)], size=8) for t in topics])
        query = catalog.embedding[liked].mean(axis=0)
        query = (query / np.linalg.norm(query)).astype(np.float32)
        excluded = index.exclusion(np.unique(liked))
        for k in (25, 140):
            exact, every = index.search(query, k, excluded, probes=None)
            found, some = index.search(query, k, excluded)
            recalls.append(len(set(found.tolist()) & set(exact.tolist())) / len(exact))
            probed, exact_scanned = probed + len(some), exact_scanned + len(every)
    assert np.mean(recalls) >= 0.95 and min(recalls) >= 0.8
    assert probed < 0.8 * exact_scanned


@settings(max_examples=200, deadline=None)
@given(
    size=st.integers(1, 6000),
    n=st.integers(1, 300),
    seen=st.floats(0.0, 0.9),
    seed=st.integers(0, 2**32 - 1),
)
def test_largest_selects_what_argpartition_selects(
    size: int, n: int, seen: float, seed: int
) -> None:
    """The sampled threshold never drops one of the n largest, seen (-inf) values included."""
    n = min(n, size)
    rng = np.random.default_rng(seed)
    values = rng.standard_normal(size)
    values[rng.random(size) < seen] = -np.inf
    chosen = largest(values, n)
    expected = np.argpartition(values, size - n)[size - n :]
    assert len(chosen) == n == len(np.unique(chosen))
    assert np.array_equal(np.sort(values[chosen]), np.sort(values[expected]))
