"""Ctrl+C during a parallel simulation: one line, exit code 1, and no worker left behind.

Each test starts the real command in its own session, so that "Ctrl+C in a terminal" (SIGINT to
the whole process group) and "kill -INT" (the parent only, as `timeout` does) can be sent, and
everything the run started can be found through ``/proc`` and killed afterwards.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")


def _stat(pid: str) -> list[str]:
    """Fields of /proc/<pid>/stat after the command name: state, ppid, pgrp, session, ..."""
    text = Path(f"/proc/{pid}/stat").read_text()
    return text.rsplit(")", 1)[1].split()


def _processes() -> dict[str, list[str]]:
    found = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        with suppress(OSError):
            found[pid] = _stat(pid)
    return found


def _in_session(session: int) -> list[str]:
    """Live processes of a session (zombies are already gone, only not yet reaped)."""
    return [pid for pid, f in _processes().items() if int(f[3]) == session and f[0] != "Z"]


def _workers(parent: int) -> list[str]:
    return [
        pid
        for pid, f in _processes().items()
        if int(f[1]) == parent and b"spawn_main" in _cmdline(pid)
    ]


def _cmdline(pid: str) -> bytes:
    with suppress(OSError):
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    return b""


def _wait_for(condition: Callable[[], bool], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)


@pytest.mark.slow
@pytest.mark.parametrize("after_s", [0.0, 1.5], ids=["workers-starting", "shards-running"])
@pytest.mark.parametrize("whole_group", [True, False], ids=["terminal", "kill-parent"])
def test_ctrl_c_stops_a_parallel_run_at_once(
    world_path: Path, tmp_path: Path, whole_group: bool, after_s: float
) -> None:
    out = tmp_path / "report"
    command = [sys.executable, "-m", "tui", "compare", "engine", "popular"]
    options = ["--db", str(world_path), "--users", "60", "--seeds", "1", "--jobs", "2"]
    run = subprocess.Popen(
        [*command, *options, "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        _wait_for(lambda: len(_workers(run.pid)) == 2 or run.poll() is not None, 60)
        assert len(_workers(run.pid)) == 2, "the run never started its two workers"
        time.sleep(after_s)
        (os.killpg if whole_group else os.kill)(run.pid, signal.SIGINT)
        try:
            _, err = run.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            pytest.fail("the run still had not stopped 20 s after Ctrl+C")
        assert run.returncode == 1, err
        assert "Traceback" not in err and err.strip() == "Aborted!", err
        # The resource tracker leaves when it sees its parent gone; the workers are gone already.
        _wait_for(lambda: not _in_session(run.pid), 5)
        assert _in_session(run.pid) == []
        assert not out.exists()
    finally:
        with suppress(ProcessLookupError):
            os.killpg(run.pid, signal.SIGKILL)
        run.communicate()


@pytest.mark.slow
def test_workers_die_with_a_killed_parent_and_let_go_of_the_file(
    world_path: Path, tmp_path: Path
) -> None:
    # kill -9 gives the parent no chance to end its workers: they must notice on their own.
    options = ["--db", str(world_path), "--users", "200", "--sessions", "3", "--seed", "1"]
    run = subprocess.Popen(
        [sys.executable, "-m", "tui", "simulate", *options, "--jobs", "2", "--out", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        _wait_for(lambda: len(_workers(run.pid)) == 2 or run.poll() is not None, 60)
        workers = _workers(run.pid)
        assert len(workers) == 2, "the run never started its two workers"
        time.sleep(1.5)  # shards running, writing their sessions into the file
        os.kill(run.pid, signal.SIGKILL)
        run.wait()
        _wait_for(lambda: not _in_session(run.pid), 5)
        assert _in_session(run.pid) == []
        conn = sqlite3.connect(world_path, timeout=2)
        try:  # nobody writes or holds an old snapshot any more: the WAL can be emptied
            assert conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0] == 0
            conn.execute("BEGIN IMMEDIATE")
            conn.rollback()
        finally:
            conn.close()
    finally:
        with suppress(ProcessLookupError):
            os.killpg(run.pid, signal.SIGKILL)
        run.wait()
