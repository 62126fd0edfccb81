"""`seed --force` never replaces a world that another process has open.

QA's case: with a feed open, `seed --force` renamed a new world over the file. The feed went on
recording into the replaced file and exited 0 (its events silently lost), and the old file's
``-wal``, left beside the new one, was applied to it: `info` then found it damaged. Now the
command is refused in one line naming the process, and a replacement leaves no sidecar files.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine import Engine
from engine.store import WorldInUseError
from seed.build import build_world
from tests.openers import READ, let_go, open_elsewhere, query, sidecars
from tui.cli import main


def seed_force(path: Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["seed", "--db", str(path), "--videos", "100", "--force"])
    return result.exit_code, result.output


def refusal(path: Path, pid: int) -> str:
    """The one-line error naming the process, as a pattern."""
    return (
        rf"Error: {re.escape(str(path))} is open in another process \(pid {pid}, `[^`\n]+`\): "
        r"close it before --force\n"
    )


def test_seed_force_is_refused_while_a_feed_has_the_world_open(world_path: Path) -> None:
    feed = open_elsewhere(world_path)
    try:
        before = world_path.read_bytes()
        code, out = seed_force(world_path)
        assert code == 1
        assert re.fullmatch(refusal(world_path, feed.pid), out), out
        assert world_path.read_bytes() == before
        assert sidecars(world_path) == ["-wal", "-shm"]  # the feed's, left to the feed
        assert not list(world_path.parent.glob(f".{world_path.name}.tmp-*"))
    finally:
        let_go(feed)
    # The event the feed recorded after the refusal is in the file at the path, beside the first.
    assert query(world_path, "SELECT count(*) FROM events") == 2
    assert query(world_path, "SELECT count(*) FROM videos") == 3000
    code, out = seed_force(world_path)
    assert code == 0, out
    assert query(world_path, "PRAGMA integrity_check") == "ok"
    assert query(world_path, "SELECT count(*) FROM videos") == 100
    assert sidecars(world_path) == []


def test_a_reader_that_opens_the_world_during_the_build_is_refused_at_the_rename(
    world_path: Path,
) -> None:
    """The check before the build is not enough: a feed or Datasette may open the file while a
    large world is generated, and the rename must not go over it."""
    readers: list[subprocess.Popen[str]] = []

    def open_meanwhile(tmp: Path) -> None:
        readers.append(open_elsewhere(world_path, READ))

    try:
        with pytest.raises(WorldInUseError) as refused:
            build_world(world_path, videos=100, seed=1, force=True, finish=open_meanwhile)
        assert f"is open in another process (pid {readers[0].pid}, `" in str(refused.value)
        assert query(world_path, "SELECT count(*) FROM videos") == 3000
        assert not list(world_path.parent.glob(f".{world_path.name}.tmp-*"))
    finally:
        for reader in readers:
            let_go(reader)
    build_world(world_path, videos=100, seed=1, force=True)
    assert query(world_path, "PRAGMA integrity_check") == "ok"
    assert sidecars(world_path) == []


def test_a_feed_killed_during_the_build_leaves_no_log_for_the_new_world(
    world_path: Path,
) -> None:
    """A feed killed outright (kill -9) leaves its -wal, with the events not yet copied into the
    file, and its -shm. Renamed beside them, the new world would be read with the old log."""

    def feed_opens_and_dies(tmp: Path) -> None:
        feed = open_elsewhere(world_path)
        feed.kill()
        feed.communicate()
        assert sidecars(world_path) == ["-wal", "-shm"]

    build_world(world_path, videos=100, seed=1, force=True, finish=feed_opens_and_dies)
    assert sidecars(world_path) == []
    assert query(world_path, "PRAGMA integrity_check") == "ok"
    result = CliRunner().invoke(main, ["info", "--db", str(world_path)])
    assert result.exit_code == 0 and "100 videos" in result.output, result.output


def test_an_engine_open_in_this_process_is_refused_and_keeps_working(world_path: Path) -> None:
    with Engine.open(world_path) as engine:
        viewer = engine.new_user(name="ana")
        with pytest.raises(WorldInUseError, match="is open in this process"):
            build_world(world_path, videos=100, seed=1, force=True)
        rec = engine.next(viewer)
        engine.record(viewer, rec.video.id, "skip", watched_s=2.0)
        # Still visible to everyone: asking who held the file dropped none of SQLite's locks.
        assert query(world_path, "SELECT count(*) FROM events") == 1
        assert sidecars(world_path) == ["-wal", "-shm"]
