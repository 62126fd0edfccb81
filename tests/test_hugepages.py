"""The world's hot arrays packed into huge pages (engine.hugepages) hold the same values."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from engine.hugepages import HUGE_PAGE, packed
from engine.idset import SparseTable
from engine.store import Store


def test_packed_arrays_keep_values_dtypes_and_shapes_side_by_side() -> None:
    rng = np.random.default_rng(3)
    arrays = {
        "ids": rng.integers(-5, 10**6, 1001).astype(np.int64),
        "topic": rng.integers(0, 40, 999).astype(np.int16),
        "flag": rng.random(7) < 0.5,
        "embedding": rng.standard_normal((33, 32)).astype(np.float32),
        "empty": np.zeros(0, dtype=np.float64),
    }
    hot = packed(arrays)
    for name, array in arrays.items():
        assert hot[name].dtype == array.dtype and hot[name].shape == array.shape
        assert np.array_equal(hot[name], array)
        assert not hot[name].flags.writeable
        assert hot[name].ctypes.data % 64 == 0  # each on its own cache line
    assert hot["ids"].ctypes.data % HUGE_PAGE == 0  # the block starts on a huge page


def test_writable_packed_arrays_move_in_place() -> None:
    hot = packed({"counts": np.zeros(5, dtype=np.int32), "rate": np.ones(3)}, writable=True)
    hot["counts"][2] += 4
    hot["rate"][0] = 0.5
    assert hot["counts"].tolist() == [0, 0, 4, 0, 0]
    assert hot["rate"].tolist() == [0.5, 1.0, 1.0]


def test_a_loaded_world_is_the_stored_one_read_only(world_path: Path) -> None:
    with Store.open(world_path) as store:
        world = store.load_world()
        rows = store.db.execute("SELECT id, topic_id, duration_s FROM videos ORDER BY id")
        ids, topics, durations = (np.array(column) for column in zip(*rows, strict=True))
    videos = world.videos
    assert np.array_equal(ids, np.arange(len(videos)))
    assert np.array_equal(videos.topic_id, topics)
    assert np.allclose(videos.duration_s, durations)
    assert not videos.embedding.flags.writeable
    assert np.allclose(np.linalg.norm(videos.embedding, axis=1), 1.0, atol=1e-5)


def test_a_sparse_tables_arrays_follow_every_change() -> None:
    """The sorted arrays a pick searches are moved with each update, not rebuilt: after any
    sequence of sets (new keys and old) they equal the table sorted."""
    rng = np.random.default_rng(5)
    table = SparseTable()
    expected: dict[int, float] = {}
    for step in range(2000):
        if step % 7 == 0:
            table.arrays()  # read now and then, as picks do between updates
        key, value = int(rng.integers(0, 300)), float(rng.normal())
        table[key] = value
        expected[key] = value
        if step % 97 == 0:
            removed = int(rng.integers(0, 300))
            table.pop(removed, None)
            expected.pop(removed, None)
        keys, values = table.arrays()
        assert keys.tolist() == sorted(expected)
        assert values.tolist() == [expected[k] for k in sorted(expected)]
