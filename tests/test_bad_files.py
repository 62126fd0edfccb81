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
import tempfile
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine import Engine, VirtualClock
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
    with Engine.open(path, clock=VirtualClock(0.0)) as eng:
        uid = eng.new_user(name="ann")
        for _ in range(3):
            rec = eng.next(uid)
            eng.record(uid, rec.video.id, "complete", watched_s=rec.video.duration_s)
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
    """Every file's bytes, but an empty ``<world>.lock``: the file claims are held on
    (engine.claims), which an engine that may write makes as it opens (its writer's share)
    before a background integrity check has finished; it never holds data."""
    return {
        p.name: p.read_bytes()
        for p in sorted(folder.iterdir())
        if not (p.suffix == ".lock" and p.stat().st_size == 0)
    }


def truncate(path: Path) -> None:
    """Keep the first half of the file, like a copy or download that stopped midway."""
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


DAMAGES = {
    "flipped videos page": lambda path: flip_bytes(path, "videos"),
    "flipped users page": lambda path: flip_bytes(path, "users"),
    "flipped index page": lambda path: flip_bytes(path, "idx_events_world_t"),
    "truncated": truncate,
}


@pytest.mark.parametrize("damage", list(DAMAGES))
@pytest.mark.parametrize("args", EVERY_COMMAND, ids=[" ".join(a[:2]) for a in EVERY_COMMAND])
def test_a_damaged_world_is_refused_by_every_command(
    used_world: Path, tmp_path: Path, damage: str, args: list[str]
) -> None:
    folder = tmp_path / "worlds"
    folder.mkdir()
    db = folder / "damaged.db"
    shutil.copy(used_world, db)
    DAMAGES[damage](db)
    before = snapshot(folder)
    code, out = run_everywhere(db, folder, args)
    assert code != 0, out
    assert out.startswith(f"Error: {db} is damaged"), out
    assert len(out.strip().splitlines()) == 1, out
    assert snapshot(folder) == before  # files written: 0


# A real read-only file needs a user without root's override; the tests run as root, so they
# take away write permission where foryou asks for it (os.access) and SQLite then really opens
# the file read-only (mode=ro): a write would fail inside SQLite, not in the test.
READ_ONLY_COMMANDS = [
    ["info"],
    ["metadata"],
    ["recommend", "--user", "ann", "--dry-run", "-n", "2"],
    ["explain", "1"],
    ["export", "--out", "{elsewhere}"],
    ["replay", "1"],
    ["evaluate", "--config", "{config}"],
]
WRITING_COMMANDS = [
    ["recommend", "--user", "ann", "-n", "1"],
    ["recommend", "--user", "bob", "--create", "-n", "1"],
    ["boost", "1", "--weight", "2", "--until", "1h", "--reason", "test"],
    ["seed", "--videos", "100", "--force"],
    ["simulate", "--users", "1", "--sessions", "1", "--no-baselines", "--out", "{elsewhere}"],
]


@pytest.fixture(params=["file", "folder"])
def read_only_world(
    request: pytest.FixtureRequest,
    used_world: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Path:
    """A copy of a used world that may not be written: the file itself, or its whole folder."""
    folder = tmp_path / "worlds"
    folder.mkdir()
    db = folder / "locked.db"
    shutil.copy(used_world, db)
    locked = {db} if request.param == "file" else {db, folder}
    real_access = os.access

    def access(path: object, mode: int, **kwargs: object) -> bool:
        if mode & os.W_OK and Path(str(path)) in locked:
            return False
        return real_access(path, mode, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "access", access)
    return db


def run_read_only(db: Path, args: list[str]) -> tuple[int, str]:
    config = db.parent.parent / "cfg.toml"
    config.write_text('name = "other"\n')
    elsewhere = db.parent.parent / "out"
    filled = [a.format(elsewhere=elsewhere, config=config) for a in args]
    result = CliRunner().invoke(main, ["--db", str(db), *filled], catch_exceptions=False)
    return result.exit_code, result.output


@pytest.mark.parametrize("args", READ_ONLY_COMMANDS, ids=[a[0] for a in READ_ONLY_COMMANDS])
def test_commands_that_only_read_work_on_a_read_only_world(
    read_only_world: Path, args: list[str]
) -> None:
    before = snapshot(read_only_world.parent)
    code, out = run_read_only(read_only_world, args)
    assert code == 0, out
    assert "Error" not in out
    assert snapshot(read_only_world.parent) == before


@pytest.mark.parametrize("args", WRITING_COMMANDS, ids=[" ".join(a[:3]) for a in WRITING_COMMANDS])
def test_commands_that_write_say_the_world_is_read_only(
    read_only_world: Path, args: list[str]
) -> None:
    before = snapshot(read_only_world.parent)
    code, out = run_read_only(read_only_world, args)
    assert code != 0, out
    assert out.startswith("Error: ") and ("read-only" in out or "not writable" in out), out
    assert str(read_only_world.parent) in out
    assert len(out.strip().splitlines()) == 1, out
    assert snapshot(read_only_world.parent) == before


def as_ordinary_user() -> list[str]:
    """The command prefix that runs a subprocess without root's power to write anything."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: cannot drop the right to write")
    prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    # A checkout in a folder private to root (`mktemp -d` makes them so) cannot be imported by
    # the ordinary user at all: that says nothing about foryou.
    probe = subprocess.run([*prefix, sys.executable, "-c", "import tui"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("the ordinary user cannot import this checkout (a folder private to root)")
    return prefix


def test_a_world_in_a_read_only_folder_really_opens(used_world: Path) -> None:
    """The same, with real permissions, as a user that is not root: the read-only folder once
    made foryou call the world "not a foryou world". pytest's tmp_path is private to root (and
    every pytest session resets it so), hence a temporary folder of its own, removed at the end.
    """
    prefix = as_ordinary_user()
    with tempfile.TemporaryDirectory(prefix="foryou-ro-") as scratch:
        Path(scratch).chmod(0o755)
        folder = Path(scratch) / "shared"
        folder.mkdir()
        db = folder / "w.db"
        shutil.copy(used_world, db)
        db.chmod(0o444)
        folder.chmod(0o555)
        before = snapshot(folder)

        def cli(*args: str) -> subprocess.CompletedProcess[str]:
            command = [*prefix, sys.executable, "-m", "tui", "--db", str(db), *args]
            return subprocess.run(command, capture_output=True, text=True, cwd="/", timeout=120)

        try:
            for args in (["info"], ["recommend", "--user", "ann", "--dry-run"], ["replay", "1"]):
                done = cli(*args)
                assert done.returncode == 0, done.stdout + done.stderr
            done = cli("recommend", "--user", "ann", "-n", "1")
            assert done.returncode == 1
            assert done.stdout + done.stderr == (
                f"Error: {db} is read-only and this command writes to it\n"
            )
            assert snapshot(folder) == before
        finally:
            folder.chmod(0o755)


def test_a_damage_report_names_the_problem_not_sqlites_heading() -> None:
    """quick_check heads its report with "*** in database main ***"; the line after it is what
    a person can act on (QA met "is damaged (*** in database main ***)")."""
    from engine.store.files import _quick_check_problem

    class Reported:
        def execute(self, sql: str) -> Reported:
            return self

        def fetchall(self) -> list[tuple[str]]:
            return [("*** in database main ***\nPage 79 is never used",)]

    assert _quick_check_problem(Reported()) == "Page 79 is never used"  # type: ignore[arg-type]


def test_a_damaged_array_chunk_names_the_file(used_world: Path, tmp_path: Path) -> None:
    """Bytes flipped inside the stored arrays pass SQLite's own check; their checksums catch
    them before an engine reads or writes anything."""
    db = tmp_path / "arrays.db"
    shutil.copy(used_world, db)
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("UPDATE world_arrays SET crc32 = crc32 + 1 WHERE name = 'videos.embedding'")
    conn.close()
    before = snapshot(tmp_path)
    code, out = run("--db", str(db), "recommend", "--user", "bob", "--create")
    assert (code, out) == (
        1,
        f"Error: {db} is damaged (world array 'videos.embedding' failed its checksum); foryou "
        "neither reads nor writes it: restore a copy or build a new world\n",
    )
    assert snapshot(tmp_path) == before
