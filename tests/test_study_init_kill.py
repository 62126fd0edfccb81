"""A `study init` killed mid-build leaves files behind; the next `study init` of the same bundle
clears them, and never touches the files of a build that is still running."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.studykit import write_study
from tui.cli_study import remove_dead_study_builds


def _leftovers(folder: Path, name: str) -> list[str]:
    return sorted(
        p.name
        for p in folder.iterdir()
        if p.name.startswith(f".{name}") or p.name.startswith(f"..{name}")
    )


def test_a_killed_study_init_leaves_nothing_once_init_runs_again(
    tmp_path: Path, world_path: Path
) -> None:
    definition = write_study(tmp_path, world_path)
    target = tmp_path / "bundle.db"
    command = [sys.executable, "-m", "tui", "--db", str(target), "study", "init", str(definition)]
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not _leftovers(tmp_path, target.name) and time.monotonic() < deadline:
        time.sleep(0.005)
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert _leftovers(tmp_path, target.name), "the kill came too late to leave anything"
    assert not target.exists()

    done = subprocess.run(command, capture_output=True, text=True, check=False)

    assert done.returncode == 0, done.stderr
    assert target.exists()
    assert _leftovers(tmp_path, target.name) == []


def test_a_running_builds_files_are_left_alone(tmp_path: Path) -> None:
    target = tmp_path / "bundle.db"
    mine = tmp_path / f".bundle.db.study-{os.getpid()}"
    dead_pid = _a_dead_pid()
    dead = tmp_path / f".bundle.db.study-{dead_pid}"
    dead_wal = tmp_path / f".bundle.db.study-{dead_pid}-wal"
    dead_inner = tmp_path / f"..bundle.db.study-{dead_pid}.tmp-abc123"
    other = tmp_path / ".bundle.db.study-notes"
    for path in (mine, dead, dead_wal, dead_inner, other):
        path.write_bytes(b"x")

    removed = remove_dead_study_builds(target)

    assert sorted(removed) == sorted([dead, dead_wal, dead_inner])
    assert mine.exists() and other.exists()


def _a_dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid
