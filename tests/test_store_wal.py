"""The write-ahead log is copied into the world file at a session's end, not inside record().

SQLite's default copies it every 1,000 pages, about every 67 logged viewings: that copy (~7 ms)
was record()'s p99. A viewer's long session now grows the log, and ending it copies the log in;
``Engine.checkpoint`` copies it at any moment nobody waits (the feed's, a second into a video).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from engine import Engine
from tests.tuikit import events_in_the_file_alone

VIEWINGS = 150  # about 2,000 pages of log: past SQLite's default copy point twice


def _skip(eng: Engine, viewer: int, times: int) -> None:
    for _ in range(times):
        rec = eng.next(viewer)
        eng.record(viewer, rec.video.id, "skip", watched_s=1.0)


def test_a_long_session_copies_its_log_into_the_file_when_it_ends(
    world_path: Path, tmp_path: Path
) -> None:
    with Engine.open(world_path) as eng:
        viewer = eng.new_user(["cooking"], name="wal")
        _skip(eng, viewer, VIEWINGS)
        with sqlite3.connect(world_path) as conn:
            page = int(conn.execute("PRAGMA page_size").fetchone()[0])
        log = Path(f"{world_path}-wal")
        assert log.stat().st_size > 1_000 * page  # no copy was made inside a record()
        assert events_in_the_file_alone(world_path, tmp_path) == 0
        eng.end_session(viewer)
        assert events_in_the_file_alone(world_path, tmp_path) == VIEWINGS


def test_checkpoint_copies_the_log_into_the_file_mid_session(
    world_path: Path, tmp_path: Path
) -> None:
    with Engine.open(world_path) as eng:
        viewer = eng.new_user(["cooking"], name="wal")
        _skip(eng, viewer, VIEWINGS)
        with eng.batch():  # its writes are not in the log yet: nothing to copy
            _skip(eng, viewer, 1)
            eng.checkpoint()
            assert events_in_the_file_alone(world_path, tmp_path) == 0
        eng.checkpoint()
        assert events_in_the_file_alone(world_path, tmp_path) == VIEWINGS + 1
