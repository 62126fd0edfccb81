"""A logged simulation that does not finish (a ranker that breaks, Ctrl+C) leaves nothing of
itself in the world file: every table holds what it held before the run, so a later evaluate or
replay never reads half a run as a real one (engine.store.undo)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.test_policy_readme import foryou
from tests.test_sim_interrupt import _wait_for

LATE_NAN = '''
import numpy as np

class LateNaN:
    """Scores fine for five calls, then NaN: the run breaks after it logged some sessions."""

    def __init__(self):
        self.calls = 0

    def score(self, request, candidates):
        self.calls += 1
        return np.full(len(candidates), np.nan if self.calls > 5 else 0.0)
'''


def contents(path: Path) -> list[str]:
    """Every row of every table, in order (the file's content, whatever its page layout)."""
    conn = sqlite3.connect(path)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def count(path: Path, table: str) -> int:
    conn = sqlite3.connect(path, timeout=5)
    try:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    finally:
        conn.close()


@pytest.fixture
def lived_in(world_path: Path, tmp_path: Path) -> Path:
    """A world with a finished logged run in it: counters, pools and a learned model to keep."""
    done = foryou("simulate", "--db", str(world_path), *_small(4), "--no-baselines", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert count(world_path, "sessions") == 4
    return world_path


def _small(users: int) -> list[str]:
    return ["--users", str(users), "--sessions", "1", "--seed", "1"]


@pytest.mark.slow
@pytest.mark.parametrize("jobs", [1, 2])
def test_a_ranker_failing_mid_run_leaves_the_file_as_it_was(
    lived_in: Path, tmp_path: Path, jobs: int
) -> None:
    ranker = tmp_path / "bad.py"
    ranker.write_text(LATE_NAN)
    before = contents(lived_in)
    parallel = ["--jobs", str(jobs), "--shard-size", "5"]
    failed = foryou(
        "simulate", "--db", str(lived_in), *_small(20), *parallel,
        "--policy", f"{ranker}:LateNaN", cwd=tmp_path,
    )  # fmt: skip
    assert failed.returncode == 1
    assert failed.stderr.startswith("Error: policy LateNaN") and "Traceback" not in failed.stderr
    assert contents(lived_in) == before


def _interrupted(
    world: Path, tmp_path: Path, command: list[str]
) -> subprocess.CompletedProcess[str]:
    """Run ``command`` on ``world`` and press Ctrl+C once it has logged sessions of its own."""
    logged = count(world, "sessions")
    run = subprocess.Popen(
        [sys.executable, "-m", "tui", *command, "--db", str(world), "--out", str(tmp_path / "r")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        cwd=tmp_path,
    )
    try:
        _wait_for(lambda: count(world, "sessions") > logged + 1 or run.poll() is not None, 120)
        assert run.poll() is None, "the run ended before it could be interrupted"
        os.killpg(run.pid, signal.SIGINT)
        out, err = run.communicate(timeout=30)
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
            run.communicate()
    return subprocess.CompletedProcess(run.args, run.returncode, out, err)


@pytest.mark.slow
@pytest.mark.parametrize(
    "command",
    [
        ["simulate", "--users", "40", "--sessions", "4", "--seed", "2", "--no-baselines"],
        ["simulate", "--users", "40", "--sessions", "4", "--seed", "2", "--jobs", "2",
         "--shard-size", "10", "--no-baselines"],
        ["compare", "engine", "popular", "--log", "--users", "40", "--seeds", "1", "--jobs", "2"],
    ],
    ids=["simulate", "simulate-parallel", "compare-log"],
)  # fmt: skip
def test_ctrl_c_in_a_logged_run_leaves_the_file_as_it_was(
    lived_in: Path, tmp_path: Path, command: list[str]
) -> None:
    before = contents(lived_in)
    started = time.monotonic()
    stopped = _interrupted(lived_in, tmp_path, command)
    assert stopped.returncode == 1, stopped.stderr
    assert stopped.stderr.strip().endswith("Aborted!"), stopped.stderr
    assert "Traceback" not in stopped.stderr
    assert time.monotonic() - started < 120
    assert contents(lived_in) == before


def test_a_run_that_cannot_be_taken_back_says_so_in_one_line(lived_in: Path) -> None:
    from sqlite_utils import Database

    from engine.store import StoreError
    from engine.store.undo import RunMark

    mark = RunMark(Database(sqlite3.connect(lived_in, timeout=0.1)))
    writer = sqlite3.connect(lived_in)
    writer.execute("BEGIN IMMEDIATE")  # another process writing: the file stays locked
    try:
        with pytest.raises(
            StoreError, match=r"^its 1 simulated viewers .* \(database is locked\)$"
        ):
            mark.undo([1])
    finally:
        writer.rollback()
        writer.close()
    assert count(lived_in, "users") == 4  # nothing was deleted
