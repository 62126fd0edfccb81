"""Files in a bad state: killed builds, damaged, truncated or read-only worlds. Every command
says what is wrong with the file in one line, exits non-zero and writes nothing."""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from click.testing import CliRunner

from tui.cli import main


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


# -- killed builds ---------------------------------------------------------------------------------


def temp_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_a_seed_killed_outright_leaves_nothing_after_the_next_seed(tmp_path: Path) -> None:
    db = tmp_path / "big.db"
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui", "seed", "--db", str(db), "--videos", "400000"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 180
        while not any(p.stat().st_size for p in tmp_path.glob(".big.db.tmp*")):
            assert proc.poll() is None and time.monotonic() < deadline, "no build file appeared"
            time.sleep(0.1)
        time.sleep(1.0)  # let it write a while
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert not db.exists()
    assert temp_files(tmp_path), "the kill left no build file: the test proves nothing"
    code, out = run("seed", "--db", str(db), "--videos", "300")
    assert code == 0, out
    assert db.exists()
    assert temp_files(tmp_path) == []
    code, out = run("info", "--db", str(db))
    assert code == 0 and "300 videos" in out, out


def test_a_build_still_running_beside_keeps_its_file(tmp_path: Path) -> None:
    """Two seeds of one path at once: the second must not delete the first one's build file,
    and names never collide (a reused process id once crashed the later build)."""
    running = tmp_path / f".w.db.tmp-{os.getpid()}"
    running.write_bytes(b"half a world")
    os.utime(running, (time.time() - 60, time.time() - 60))
    with running.open("rb") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        code, out = run("seed", "--db", str(tmp_path / "w.db"), "--videos", "300")
        assert code == 0, out
        assert running.read_bytes() == b"half a world"
    code, out = run("seed", "--db", str(tmp_path / "w.db"), "--videos", "300", "--force")
    assert code == 0, out
    assert temp_files(tmp_path) == []


def test_a_built_world_has_ordinary_permissions(tmp_path: Path) -> None:
    code, out = run("seed", "--db", str(tmp_path / "w.db"), "--videos", "300")
    assert code == 0, out
    mask = os.umask(0)
    os.umask(mask)
    assert (tmp_path / "w.db").stat().st_mode & 0o777 == 0o666 & ~mask
