"""A logged simulation has the world file alone: it is refused while another process writes the
file, and an engine that would write is refused while it runs (engine.writers).

Undoing a run that did not finish restores the shared rows it touched (live counters, test
pools, the learned model) from a copy taken before it: a feed writing meanwhile lost its likes
and its saved model to that restore.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from engine import Engine
from engine.config import Config
from engine.sim.experiment import RunSpec, run_experiment
from engine.sim.runner import Arm
from engine.store import WorldInUseError
from tests.test_policy_readme import foryou
from tests.test_sim_all_or_nothing import contents, count
from tests.test_sim_interrupt import _wait_for

ROOT = Path(__file__).parents[1]

HOLD_OPEN = """\
import sys
from engine import Engine
eng = Engine.open(sys.argv[1])
print("open", flush=True)
sys.stdin.readline()
eng.close()
"""

# Scores slowly, so that the run is still going when the test looks at it.
SLOW = """
import time
import numpy as np

class Slow:
    def score(self, request, candidates):
        time.sleep(0.05)
        return np.zeros(len(candidates))
"""


def _python(script: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", script, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def _simulate(world: Path, tmp_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return foryou(
        "simulate", "--db", str(world), "--users", "4", "--sessions", "1", "--seed", "1",
        "--no-baselines", "--out", str(tmp_path / f"r{len(list(tmp_path.iterdir()))}"), *extra,
        cwd=tmp_path,
    )  # fmt: skip


def _in_use(pid: int) -> str:
    return re.escape(f"a logged simulation (pid {pid}) is writing")


@pytest.mark.slow
def test_a_logged_run_is_refused_while_a_feed_writes_the_file(
    world_path: Path, tmp_path: Path
) -> None:
    feed = _python(HOLD_OPEN, str(world_path))
    try:
        assert feed.stdout is not None and feed.stdout.readline() == "open\n"
        before = contents(world_path)
        refused = _simulate(world_path, tmp_path)
        assert refused.returncode == 1
        holder = f"Error: {world_path} is open for writing in another process (pid {feed.pid}, `"
        assert refused.stderr.startswith(holder) and refused.stderr.count("\n") == 1
        assert refused.stderr.endswith(
            "`); a logged simulation needs it alone: close it there, log to a copy, "
            "or run without logging\n"
        )
        assert contents(world_path) == before
        # An unlogged run writes nothing to the file: the feed does not stop it.
        unlogged = _simulate(world_path, tmp_path, "--no-log")
        assert unlogged.returncode == 0, unlogged.stderr
        assert contents(world_path) == before
    finally:
        feed.send_signal(signal.SIGKILL)  # however the feed ends, its claim goes with it
        feed.communicate()
    logged = _simulate(world_path, tmp_path)
    assert logged.returncode == 0, logged.stderr
    assert count(world_path, "sessions") == 4


@pytest.mark.slow
def test_an_engine_that_writes_is_refused_while_a_logged_run_goes_on(
    world_path: Path, tmp_path: Path
) -> None:
    ranker = tmp_path / "slow.py"
    ranker.write_text(SLOW)
    before = contents(world_path)
    command = [
        "-m", "tui", "simulate", "--db", str(world_path), "--users", "8", "--sessions", "3",
        "--seed", "1", "--no-baselines", "--jobs", "2", "--shard-size", "4",
        "--policy", f"{ranker}:Slow", "--out", str(tmp_path / "r"),
    ]  # fmt: skip
    run = subprocess.Popen(
        [sys.executable, *command], stderr=subprocess.PIPE, text=True, cwd=tmp_path
    )
    try:
        _wait_for(lambda: count(world_path, "sessions") > 0 or run.poll() is not None, 60)
        assert run.poll() is None, "the run ended before an engine could try to open"
        with pytest.raises(WorldInUseError, match=_in_use(run.pid) + ".*; wait for it to finish"):
            Engine.open(world_path)
        recommend = foryou("recommend", "--db", str(world_path), "--user", "x", cwd=tmp_path)
        assert recommend.returncode == 1
        assert recommend.stderr == (
            f"Error: a logged simulation (pid {run.pid}) is writing {world_path}; "
            "wait for it to finish\n"
        )
        with Engine.open(world_path, log=False) as reader:  # writes nothing: needs no claim
            assert reader.users()
        run.send_signal(signal.SIGINT)  # the run is taken back; its claim goes when it ends
        _, err = run.communicate(timeout=60)
    finally:
        if run.poll() is None:
            run.kill()
            run.communicate()
    assert run.returncode == 1 and err.strip().endswith("Aborted!"), err
    assert contents(world_path) == before
    with Engine.open(world_path) as eng:
        eng.new_user(["cooking"], name="after")


@pytest.mark.slow
def test_a_logged_run_with_two_jobs_is_not_refused_by_its_own_workers(
    world_path: Path, tmp_path: Path
) -> None:
    done = _simulate(world_path, tmp_path, "--jobs", "2", "--shard-size", "2")
    assert done.returncode == 0, done.stderr
    assert count(world_path, "sessions") == 4
    with Engine.open(world_path) as eng:  # the run's claim went with it
        eng.new_user(["cooking"], name="after")


def test_a_logged_run_is_refused_beside_a_writing_engine_of_its_own_process(
    world_path: Path,
) -> None:
    spec = RunSpec(db_path=world_path, users=2, sessions=1, log=True)
    with Engine.open(world_path):
        before = contents(world_path)
        with pytest.raises(WorldInUseError, match="is open for writing in this process"):
            run_experiment(spec, [Arm("engine", Config())])
        assert contents(world_path) == before
    run_experiment(spec, [Arm("engine", Config())])
    assert count(world_path, "sessions") == 2
