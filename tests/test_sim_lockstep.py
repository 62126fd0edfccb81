"""The lockstep simulator: personas advance in rounds of one batched pick and one batched
record, each persona on its own timeline."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import spearmanr
from sqlite_utils import Database

from engine.api import Engine
from engine.clock import VirtualClock
from engine.sim.baselines import builtin_arm
from engine.sim.experiment import RunSpec, run_experiment
from engine.sim.runner import _spearman


def test_each_personas_events_carry_its_own_moments(world_template: Path, tmp_path: Path) -> None:
    path = tmp_path / "w.db"
    shutil.copy(world_template, path)
    spec = RunSpec(db_path=path, users=6, sessions=2, seed=2, log=True, shard_size=6)
    trace = run_experiment(spec, [builtin_arm("engine")]).runs["engine"].trace
    db = Database(path)
    rows = db.execute(
        "SELECT i.user_id, i.world_t, e.world_t FROM impressions i JOIN events e "
        "ON e.impression_id = i.id WHERE i.source != 'revisit'"
    ).fetchall()
    assert rows and all(picked == reacted for _, picked, reacted in rows)
    # Each persona's moments only move forward, and personas of one round are apart in time.
    per_unit = [trace["world_t"][trace["unit"] == u] for u in np.unique(trace["unit"])]
    assert all((np.diff(t) > 0).all() for t in per_unit)
    firsts = sorted(float(t[0]) for t in per_unit)
    assert firsts[-1] - firsts[0] > 60.0


def test_a_logged_round_of_events_and_session_ends_commits_as_one(world_path: Path) -> None:
    """A round's events and the sessions that end after them are one transaction (a session
    end used to commit, and copy the log into the file, on its own): another reader sees
    none of it until the round ends, then all of it, with the learned model as it stands."""
    outside = Database(world_path)

    def counts() -> tuple[int, int]:
        events = outside.execute("SELECT count(*) FROM events").fetchone()[0]
        ended = outside.execute("SELECT count(*) FROM sessions WHERE ended_at IS NOT NULL")
        return int(events), int(ended.fetchone()[0])

    with Engine.open(world_path, clock=VirtualClock(0.0)) as engine:
        viewers = [engine.new_user(pick_seed=k) for k in range(4)]
        recs = engine.next_many(viewers)
        with engine.batch():
            engine.record_many(
                (u, r.video.id, "complete", {"watched_s": r.video.duration_s})
                for u, r in zip(viewers, recs, strict=True)
            )
            for user in viewers[:2]:
                engine.end_session(user)
            assert counts() == (0, 0)
        assert counts() == (4, 2)
        assert engine.learner is not None and engine.learner.model is not None
        stored = outside.execute("SELECT state FROM learned_models WHERE name = 'engine'")
        assert stored.fetchone()[0] == engine.learner.model.to_json()


@pytest.mark.parametrize("ties", [False, True])
def test_spearman_without_scipy_is_scipys(ties: bool) -> None:
    rng = np.random.default_rng(3)
    for _ in range(50):
        a, b = rng.normal(size=39), rng.normal(size=39)
        if ties:
            a = np.round(a, 0)
            a[:15] = 0.0
        assert _spearman(a, b) == pytest.approx(spearmanr(a, b).statistic, abs=1e-12)
