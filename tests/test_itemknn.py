"""The item-kNN baseline: item-item cosine over every viewer's positives (engine/itemknn.py)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from engine import Engine
from engine.clock import VirtualClock
from engine.events import Event
from engine.itemknn import ItemKNNPolicy, ItemKNNScorer
from engine.policy import PolicySpec
from tui.cli import main


def _positives(scorer: ItemKNNScorer, rows: list[tuple[int, int]], kind: str = "complete") -> None:
    for user, video in rows:
        scorer.observe(Event(user_id=user, video_id=video, kind=kind, world_t=0.0))


def test_cosine_sums_match_the_dense_formula() -> None:
    """Against sim(i, j) = C_ij / sqrt(n_i n_j) over the other viewers, computed densely."""
    rng = np.random.default_rng(3)
    matrix = rng.random((30, 40)) < 0.15  # viewers x videos, positive or not
    scorer = ItemKNNScorer()
    _positives(scorer, [(int(u), int(v)) for u, v in zip(*np.nonzero(matrix), strict=True)])
    viewer = int(np.argmax(matrix.sum(axis=1)))
    others = np.delete(matrix, viewer, axis=0).astype(float)
    counts = matrix.sum(axis=0).astype(float)
    co = others.T @ others
    norm = np.sqrt(np.outer(counts, counts))
    sim = np.divide(co, norm, out=np.zeros_like(co), where=norm > 0)
    expected = sim[matrix[viewer]].sum(axis=0)
    got = scorer.neighbour_scores(viewer, 40)
    np.testing.assert_allclose(got, expected / expected.max())


def test_what_others_finished_alongside_ranks_first(world_path: Path) -> None:
    """Two viewers finished 10 and 20, one finished 10 and 30: a viewer who finished 10 is
    offered 20 before 30, and 30 before a video nobody finished with 10."""
    policy = ItemKNNPolicy()
    with Engine.open(world_path, clock=VirtualClock(1000.0), log=False, policy=policy) as engine:
        uid = engine.new_user(interests=["cooking"])
        _positives(policy.scorer, [(-1, 10), (-1, 20), (-2, 10), (-2, 20), (-3, 10), (-3, 30)])
        _positives(policy.scorer, [(uid, 10)], kind="like")
        ranking = engine.rank(uid, [40, 30, 20])
    assert ranking.video_ids[ranking.order].tolist() == [20, 30, 40]


def test_a_like_after_the_completion_counts_once() -> None:
    once, twice = ItemKNNScorer(), ItemKNNScorer()
    rows = [(1, 5), (1, 6), (2, 5), (2, 7), (3, 5)]
    _positives(once, rows)
    _positives(twice, rows)
    _positives(twice, [(1, 6), (2, 7)], kind="like")
    np.testing.assert_array_equal(once.neighbour_scores(3, 10), twice.neighbour_scores(3, 10))


def test_skips_and_not_interested_are_no_positives() -> None:
    scorer = ItemKNNScorer()
    _positives(scorer, [(1, 5), (1, 6), (2, 5)])
    _positives(scorer, [(1, 7)], kind="skip")
    _positives(scorer, [(1, 8)], kind="not_interested")
    scores = scorer.neighbour_scores(2, 10)
    assert scores[6] == pytest.approx(1.0)
    assert scores[7] == scores[8] == 0.0


def test_it_is_a_builtin_by_name() -> None:
    policy = PolicySpec.parse("itemknn").build()
    assert isinstance(policy, ItemKNNPolicy)
    assert policy.name == "itemknn"


def test_compare_runs_it_beside_the_engine(world_path: Path, tmp_path: Path) -> None:
    """Simulated personas watch it through `foryou compare` like any built-in arm."""
    small = ["--users", "4", "--seeds", "1", "--sessions", "1", "--resamples", "5"]
    result = CliRunner().invoke(
        main,
        ["compare", "engine", "itemknn", "--db", str(world_path), *small, "--no-baselines",
         "--out", str(tmp_path / "out")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "itemknn" in result.output
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert "itemknn" in json.dumps(metrics)
