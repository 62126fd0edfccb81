"""The pruned nearest-neighbour search returns exactly what a full scan of the matrix returns."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.catalog import Catalog
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
    found, _ = catalog.index.search(query, k, catalog.index.exclusion(seen))
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
