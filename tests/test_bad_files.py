"""Files in a bad state: killed builds, damaged, truncated or read-only worlds. Every command
says what is wrong with the file in one line, exits non-zero and writes nothing."""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
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


# -- damaged, truncated and read-only worlds ------------------------------------------------------

EVERY_COMMAND = [
    ["info"],
    ["metadata"],
    ["feed", "--user", "ann"],
    ["recommend", "--user", "ann", "-n", "1"],
    ["recommend", "--user", "bob", "--create", "-n", "1"],
    ["recommend", "--user", "ann", "--dry-run", "-n", "1"],
    ["explain", "1"],
    ["boost", "1", "--weight", "2", "--until", "1h", "--reason", "test"],
    ["simulate", "--users", "1", "--sessions", "1", "--no-baselines", "--out", "{out}"],
    ["compare", "engine", "random", "--users", "1", "--sessions", "1", "--seeds", "1",
     "--no-baselines", "--out", "{out}"],
    ["seed", "--videos", "100", "--force"],
    ["export", "--out", "{out}"],
    ["replay", "1"],
    ["evaluate", "--config", "{config}"],
    ["study", "status"],
    ["study", "forget", "P1", "--yes"],
    ["study", "run", "--participant", "P1"],
]  # fmt: skip


@pytest.fixture(scope="module")
def used_world(world_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A world with a viewer, a session and impressions, so every command has something to do."""
    path = tmp_path_factory.mktemp("used") / "used.db"
    shutil.copy(world_template, path)
    code, out = run("recommend", "--db", str(path), "--user", "ann", "--create", "-n", "3")
    assert code == 0, out
    return path


def page_of(path: Path, table: str) -> tuple[int, int]:
    """(first page number, page size) of a table's b-tree."""
    conn = sqlite3.connect(path)
    try:
        page = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", [table]).fetchone()
        size = conn.execute("PRAGMA page_size").fetchone()
        return int(page[0]), int(size[0])
    finally:
        conn.close()


def flip_bytes(path: Path, table: str) -> None:
    """Invert 64 bytes at the start of a table's page, the way a failing disk would."""
    page, size = page_of(path, table)
    data = bytearray(path.read_bytes())
    start = (page - 1) * size + (100 if page == 1 else 0)
    data[start : start + 64] = bytes(b ^ 0xFF for b in data[start : start + 64])
    path.write_bytes(bytes(data))


def run_everywhere(db: Path, folder: Path, args: list[str]) -> tuple[int, str]:
    config = folder.parent / "cfg.toml"
    config.write_text('name = "other"\n')
    filled = [a.format(out=folder / "out", config=config) for a in args]
    result = CliRunner().invoke(main, ["--db", str(db), *filled], catch_exceptions=False)
    return result.exit_code, result.output


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.mark.parametrize("table", ["videos", "users", "idx_events_world_t"])
@pytest.mark.parametrize("args", EVERY_COMMAND, ids=[" ".join(a[:2]) for a in EVERY_COMMAND])
def test_a_damaged_world_is_refused_by_every_command(
    used_world: Path, tmp_path: Path, table: str, args: list[str]
) -> None:
    folder = tmp_path / "worlds"
    folder.mkdir()
    db = folder / "flipped.db"
    shutil.copy(used_world, db)
    flip_bytes(db, table)
    before = snapshot(folder)
    code, out = run_everywhere(db, folder, args)
    assert code != 0, out
    assert out.startswith(f"Error: {db} is damaged"), out
    assert len(out.strip().splitlines()) == 1, out
    assert snapshot(folder) == before  # files written: 0
