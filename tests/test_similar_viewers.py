"""Learning from everyone, item-kNN's way: viewers who share your favourites finished it.

The score against a dense viewer × video matrix computed the textbook way, then in the engine:
a newcomer who finished what a group of fans finished is told of the fans' other favourite,
the receipt holds the input and the model learns its weight, and a reopened file rebuilds it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import Config, Engine, VirtualClock, similar_viewers
from engine.config import Rerank
from engine.similar_viewers import SHRINK, SimilarViewers
from tests.test_coengagement import _fans_of_a_pair

POSITIVES = st.lists(st.tuples(st.integers(0, 7), st.integers(0, 11)), max_size=80)


def _dense_reference(positives: list[tuple[int, int]], viewer: int, ids: list[int]) -> list[float]:
    """log(1 + Σ over the viewer's positives i of C_ij / √(n_i n_j), over their count + SHRINK),
    from the dense binary matrix: C_ij counts the other viewers positive on both, n_i every
    viewer positive on i."""
    x = np.zeros((9, 13))  # viewer 8 never appears
    for v, i in positives:
        x[v, i] = 1.0
    history = np.flatnonzero(x[viewer])
    if len(history) == 0:
        return [0.0] * len(ids)
    n = x.sum(axis=0)
    others = np.delete(x, viewer, axis=0)
    result = []
    for j in ids:
        total = 0.0
        for h in history.tolist():
            if n[h] and n[j]:
                total += float(others[:, h] @ others[:, j]) / np.sqrt(n[h] * n[j])
        result.append(float(np.log1p(total / (len(history) + SHRINK))))
    return result


@settings(max_examples=120, deadline=None)
@given(
    positives=POSITIVES,
    viewer=st.integers(0, 8),
    ids=st.lists(st.integers(0, 12), max_size=9),
    layout_every=st.sampled_from([3, 7, 4096]),
)
def test_the_score_is_the_shrunk_mean_cosine_of_the_textbook_matrix(
    positives: list[tuple[int, int]], viewer: int, ids: list[int], layout_every: int
) -> None:
    """Any order of positives, repeats included (a like after a completion counts once), any
    candidates (repeated, or a video nobody was positive on), pairs laid out in columns or
    still newer than the layout: the dense computation's numbers."""
    similar_viewers.LAYOUT_EVERY = layout_every
    index = SimilarViewers()
    for v, i in positives:
        index.add(v, i)
    try:
        got = index.scores(np.array(ids, dtype=np.int64), viewer)
        again = index.scores_many([np.array(ids, dtype=np.int64)], [viewer])[0]
    finally:
        similar_viewers.LAYOUT_EVERY = 4096
    np.testing.assert_allclose(got, _dense_reference(positives, viewer, ids), atol=1e-12)
    assert again.tolist() == got.tolist()


def test_a_long_history_counts_every_positive() -> None:
    """A viewer positive on all twelve videos, long past the few its history first holds
    room for, among others positive on some: the dense computation's numbers."""
    rng = np.random.default_rng(3)
    positives = [(0, i) for i in range(12)]
    positives += [(v, int(i)) for v in range(1, 8) for i in rng.choice(12, 5, replace=False)]
    index = SimilarViewers()
    for v, i in positives:
        index.add(v, i)
    ids = list(range(13))
    got = index.scores(np.array(ids, dtype=np.int64), 0)
    np.testing.assert_allclose(got, _dense_reference(positives, 0, ids), atol=1e-12)


def test_only_other_viewers_are_evidence() -> None:
    """A viewer's own pair of favourites says nothing; a second viewer finishing both does."""
    index = SimilarViewers()
    for video in (1, 2):
        index.add(0, video)
    assert index.scores(np.array([2, 5]), 0).tolist() == [0.0, 0.0]
    index.add(1, 1)
    index.add(1, 2)
    close, stranger = index.scores(np.array([2, 5]), 0).tolist()
    assert close > 0.0 == stranger


def test_a_newcomer_is_told_what_viewers_who_share_their_favourites_finished(
    world_path: Path,
) -> None:
    """Five fans finished two videos of different topics and creators; a newcomer finished
    the first: the partner's "similar viewers" is positive, and the reopened file rebuilds
    the same score (the model's use of it: test_coengagement's learning-from-everyone
    test)."""
    with _fans_of_a_pair(world_path) as (eng, _, partner, newcomer):
        candidates = eng.pick_request(newcomer).candidates()
        assert candidates.similar_viewers is not None
        assert candidates.similar_viewers[candidates.ids.tolist().index(partner)] > 0
        scored = eng.coengagement.viewers.scores(np.array([partner]), newcomer).tolist()
    config = Config(rerank=Rerank(explore_share=0.0, cold_start_explore=0.0))
    with Engine.open(world_path, config=config, clock=VirtualClock(40.0)) as reopened:
        rebuilt = reopened.coengagement.viewers.scores(np.array([partner]), newcomer).tolist()
    assert rebuilt == scored


@settings(max_examples=120, deadline=None)
@given(
    positives=POSITIVES,
    asks=st.lists(
        st.tuples(st.integers(0, 9), st.lists(st.integers(0, 14), max_size=9)), max_size=6
    ),
    layout_every=st.sampled_from([3, 7, 4096]),
)
def test_a_batch_scores_each_viewer_as_alone_to_the_last_bit(
    positives: list[tuple[int, int]], asks: list[tuple[int, list[int]]], layout_every: int
) -> None:
    """Viewers scored together (some without positives, without candidates, the same viewer
    twice, candidates repeated or never seen): each gets exactly its own scores alone, so a
    pick does not depend on who shares its batch."""
    similar_viewers.LAYOUT_EVERY = layout_every
    try:
        index = SimilarViewers()
        for v, i in positives:
            index.add(v, i)
        ids = [np.array(own, dtype=np.int64) for _, own in asks]
        users = [user for user, _ in asks]
        together = index.scores_many(ids, users)
        alone = [index.scores(own, user) for own, user in zip(ids, users, strict=True)]
    finally:
        similar_viewers.LAYOUT_EVERY = 4096
    assert [t.tolist() for t in together] == [a.tolist() for a in alone]
