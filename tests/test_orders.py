"""The pick's sorting and membership shortcuts give exactly what the plain numpy calls give:
the same orders (ties by position), the same counts, the same members, on arrays with ties,
signed zeros, infinities and NaNs, and sets that grow, shrink and are copied."""

from __future__ import annotations

import copy
import pickle

import numpy as np

from engine.idset import IdSet, counts_in, stable_order, stable_order_of_ids


def _keys(rng: np.random.Generator, n: int, kind: int) -> np.ndarray:
    if kind == 0:
        return rng.standard_normal(n)
    if kind == 1:
        return rng.integers(0, 4, n).astype(np.float64)  # many ties
    keys = rng.choice([0.0, -0.0, 1.5, np.inf, -np.inf], n)
    if kind == 3 and n:
        keys[rng.integers(0, n, 2)] = np.nan
    return keys


def test_stable_order_is_the_stable_sort_and_the_lexsort() -> None:
    rng = np.random.default_rng(0)
    for trial in range(400):
        n = int(rng.integers(0, 200))
        keys = _keys(rng, n, trial % 4)
        groups = rng.integers(0, 5, n)
        assert stable_order(keys).tolist() == keys.argsort(kind="stable").tolist()
        assert stable_order(keys, groups).tolist() == np.lexsort((keys, groups)).tolist()


def test_ids_keep_their_first_place_among_equals() -> None:
    rng = np.random.default_rng(1)
    for trial in range(200):
        ids = rng.integers(0, 30 if trial % 2 else 10**9, int(rng.integers(0, 300)))
        assert stable_order_of_ids(ids).tolist() == ids.argsort(kind="stable").tolist()


def test_counts_in_a_window_short_or_long() -> None:
    rng = np.random.default_rng(2)
    values = rng.integers(0, 20, 300).astype(np.int32)
    for size in (0, 1, 10, 64, 65, 500):
        window = rng.integers(0, 20, size).astype(np.int32)
        expected = [int(np.count_nonzero(window == v)) for v in values]
        assert counts_in(values, window).tolist() == expected


def test_an_id_set_answers_membership_as_isin_through_every_change() -> None:
    rng = np.random.default_rng(4)
    ids = IdSet([5, 70_000])
    members = {5, 70_000}
    for step in range(500):
        move = rng.random()
        if move < 0.6:
            item = int(rng.integers(-3 if step > 400 else 0, 90_000))
            ids.add(item)
            members.add(item)
        elif move < 0.7 and members:
            item = sorted(members)[int(rng.integers(len(members)))]
            ids.discard(item)
            members.discard(item)
        elif move < 0.72:
            ids = copy.deepcopy(ids) if step % 2 else pickle.loads(pickle.dumps(ids))
        asked = rng.integers(-5, 100_000, int(rng.integers(0, 400)))
        known = np.array(sorted(members), dtype=np.int64)
        assert ids.mask(asked).tolist() == np.isin(asked, known).tolist(), step
        pool = np.unique(rng.integers(0, 100_000, int(rng.integers(0, 3000))))
        at = np.flatnonzero(np.isin(pool, known))
        assert ids.positions_in(pool).tolist() == at.tolist(), step


def test_an_id_sets_array_and_sorted_image_follow_ids_that_come_and_go_between_reads() -> None:
    rng = np.random.default_rng(6)
    mapping = rng.permutation(100_000).astype(np.int64)  # ids 0-299 read a long array
    ids, members = IdSet(), set()
    for step in range(3000):
        item = int(rng.integers(0, 300))
        if rng.random() < 0.6:
            ids.add(item)
            members.add(item)
        elif rng.random() < 0.9:  # an id added since the last read, or one already read
            ids.discard(item)
            members.discard(item)
        else:
            kept = pickle.dumps(ids)
            assert len(kept) < mapping.nbytes // 10  # the mapping it was read through stays
            ids = pickle.loads(kept)
        read = rng.random()
        if read < 0.2:
            assert ids.array().tolist() == sorted(members), step
        elif read < 0.4:
            expected = np.sort(mapping[sorted(members)]).tolist() if members else []
            assert ids.mapped(mapping).tolist() == expected, step
