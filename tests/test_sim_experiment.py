"""Simulated viewers watching a small world through the engine: order, determinism, rows."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
from sqlite_utils import Database

from engine import Engine, VirtualClock
from engine.config import Config
from engine.sim import backends
from engine.sim.baselines import builtin_arm, with_references
from engine.sim.comparison import compare
from engine.sim.experiment import Experiment, RunSpec, run_experiment
from engine.sim.runner import Arm

USERS, SESSIONS, SEED = 24, 2, 11


@pytest.fixture(scope="module")
def world_copy(world_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sim") / "world.db"
    shutil.copy(world_template, path)
    return path


@pytest.fixture(scope="module")
def spec(world_copy: Path) -> RunSpec:
    return RunSpec(db_path=world_copy, users=USERS, sessions=SESSIONS, seed=SEED)


@pytest.fixture(scope="module")
def experiment(spec: RunSpec) -> Experiment:
    arms = with_references([builtin_arm("engine"), builtin_arm("popular")])
    return run_experiment(spec, arms)


@pytest.mark.slow
def test_the_engine_sits_between_random_and_the_oracle_on_watch_time(
    experiment: Experiment,
) -> None:
    comparison = compare(experiment, bootstrap=False)
    watch = {arm: s["watch_per_session"] for arm, s in comparison.summary().items()}
    assert watch["oracle"] > watch["engine"] > watch["random"]
    assert 0.0 < comparison.placement()["engine"] < 1.0
    assert list(experiment.runs) == ["random", "engine", "popular", "oracle"]


@pytest.mark.slow
def test_every_persona_watched_and_left_on_its_own(experiment: Experiment) -> None:
    run = experiment.runs["engine"]
    assert set(np.unique(run.trace["unit"])) == set(range(USERS))
    assert (run.population.sessions == SESSIONS).all()
    depth = comparison_depths(run.trace)
    # Session depth is an outcome of the leave model: it varies and stays far from the cap.
    assert depth.min() >= 1 and depth.max() < 400 and depth.std() > 0


def comparison_depths(trace: np.ndarray) -> np.ndarray:
    keys = trace["unit"].astype(np.int64) * 100 + trace["session"]
    return np.unique(keys, return_counts=True)[1]


@pytest.mark.slow
def test_the_same_seed_gives_the_same_metrics(spec: RunSpec, experiment: Experiment) -> None:
    again = run_experiment(spec, [builtin_arm("engine")])
    assert np.array_equal(again.runs["engine"].trace, experiment.runs["engine"].trace)
    # The arms' own measures: a comparison's restricted mean time to personalise runs up to a
    # horizon shared by the arms compared, and `again` has one arm, `experiment` four.
    first = compare(experiment, bootstrap=False).measures["engine"].summary()
    second = compare(again, bootstrap=False).measures["engine"].summary()
    assert first == pytest.approx(second, nan_ok=True)
    other = run_experiment(replace(spec, seed=SEED + 1, users=8), [builtin_arm("engine")])
    assert not np.array_equal(other.runs["engine"].trace[:50], experiment.runs["engine"].trace[:50])


@pytest.mark.slow
def test_one_job_and_two_jobs_agree(spec: RunSpec, experiment: Experiment) -> None:
    """...and two arms run on one set of workers, started once (not once per arm)."""
    with mock.patch.object(
        backends, "ProcessPoolExecutor", wraps=backends.ProcessPoolExecutor
    ) as pools:
        two = run_experiment(replace(spec, jobs=2), [builtin_arm("engine"), builtin_arm("popular")])
    assert pools.call_count == 1
    for arm in ("engine", "popular"):
        assert np.array_equal(two.runs[arm].trace, experiment.runs[arm].trace)
    assert np.array_equal(
        two.runs["engine"].population.accuracy,
        experiment.runs["engine"].population.accuracy,
        equal_nan=True,
    )


def test_logged_personas_leave_the_same_rows_as_people(world_path: Path) -> None:
    spec = RunSpec(db_path=world_path, users=6, sessions=2, seed=3, log=True, shard_size=3)
    arms = with_references([builtin_arm("engine")])
    arms[-1] = replace(arms[-1], log=True)  # let the oracle write too, to check its rows
    experiment = run_experiment(spec, arms)
    db = Database(world_path)
    users = list(db.query("SELECT simulated FROM users WHERE name LIKE 'sim-%'"))
    assert len(users) == 12 and all(u["simulated"] == 1 for u in users)
    sessions = {
        r["condition"]: r["n"]
        for r in db.query("SELECT condition, count(*) AS n FROM sessions GROUP BY condition")
    }
    assert sessions == {"sim:engine": 12, "sim:oracle": 12}  # random stayed in memory
    engine_run, oracle_run = experiment.runs["engine"], experiment.runs["oracle"]
    impressions = db.execute("SELECT count(*) FROM impressions").fetchone()[0]
    assert impressions == engine_run.impressions + oracle_run.impressions
    open_ = db.execute("SELECT count(*) FROM impressions WHERE seen_end IS NULL").fetchone()[0]
    assert open_ == 0
    events = db.execute("SELECT count(*) FROM events").fetchone()[0]
    assert events == engine_run.events + oracle_run.events
    oracle_id = db.execute(
        "SELECT id FROM impressions WHERE source = 'oracle' ORDER BY id LIMIT 1"
    ).fetchone()[0]
    with Engine.open(world_path, log=False) as engine:
        receipt = engine.explain(oracle_id)
    assert receipt.policy == "oracle"
    assert receipt.reasons()  # the x-ray can tell an oracle pick like any other


def test_logging_gives_the_same_result_for_any_number_of_jobs(
    world_template: Path, tmp_path: Path
) -> None:
    traces = []
    for jobs in (1, 2):
        path = tmp_path / f"w{jobs}.db"
        shutil.copy(world_template, path)
        spec = RunSpec(db_path=path, users=6, sessions=1, seed=4, log=True, shard_size=3, jobs=jobs)
        traces.append(run_experiment(spec, [builtin_arm("engine")]).runs["engine"].trace)
    assert np.array_equal(traces[0], traces[1])


def test_a_seed_gives_the_same_run_whatever_viewers_the_file_holds_and_with_or_without_logs(
    world_template: Path, tmp_path: Path
) -> None:
    """Picks are keyed by each persona's number in the run, never by the ids a file hands out:
    a world with a viewer already in it, or a run kept in memory, changes nothing."""
    crowded = tmp_path / "crowded.db"
    shutil.copy(world_template, crowded)
    with Engine.open(crowded) as engine:
        engine.new_user(["cooking"], name="someone-already-here")
    traces = []
    for path, log in ((world_template, False), (crowded, True), (crowded, False)):
        copy = tmp_path / f"run-{len(traces)}.db"
        shutil.copy(path, copy)
        spec = RunSpec(db_path=copy, users=6, sessions=1, seed=4, log=log, shard_size=3)
        traces.append(run_experiment(spec, [builtin_arm("engine")]).runs["engine"].trace)
    assert np.array_equal(traces[0], traces[1])
    assert np.array_equal(traces[0], traces[2])
    pick_seeds = Database(tmp_path / "run-1.db").execute(
        "SELECT pick_seed FROM users WHERE simulated = 1 ORDER BY id"
    )
    assert [seed for (seed,) in pick_seeds.fetchall()] == list(range(6))


def test_memory_runs_count_every_view_like_logged_ones(world_template: Path) -> None:
    """With --no-log, every closed impression still reaches the live counts and test pools."""
    clock = VirtualClock(0.0)
    with Engine.open(world_template, clock=clock, log=False) as engine:
        views = engine.catalog.engagement.counts["views"]
        before = float(views.sum())
        user = engine.new_user()
        for _ in range(10):
            rec = engine.next(user)
            engine.record(user, rec.video.id, "skip", watched_s=3.0)
            clock.advance(5.0)
        assert float(views.sum()) - before == 10


def test_the_progress_bar_names_the_arm_that_is_running(world_path: Path) -> None:
    calls: list[tuple[str, float]] = []
    spec = RunSpec(db_path=world_path, users=2, sessions=1, seed=0, shard_size=1)
    arms = [Arm("first", Config(name="first")), Arm("second", Config(name="second"))]
    run_experiment(spec, arms, lambda what, done: calls.append((what, done)))
    second = calls.index(("second", 0.5))  # said as the second arm starts, before any shard
    assert all(what == "first" and done <= 0.5 for what, done in calls[:second])
    assert all(what == "second" for what, _ in calls[second:])
