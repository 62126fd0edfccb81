"""A viewer's events stay visible to every other process, whatever else this process reads.

Closing any descriptor of a database file drops the locks SQLite holds on it in this process
(engine/store/held.py). Then another process's last close deletes the write-ahead log under
the engine, and each event recorded after that is invisible to everyone else (a study's
monitor, a second lab station) and can be lost.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from engine import Engine, VirtualClock
from engine.store import Store
from engine.store.files import connect, inspect_file

# Another process opens the file, reads it and closes: what a monitor or a second station does.
COUNT_EVENTS = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1])
print(conn.execute("SELECT count(*) FROM events").fetchone()[0])
conn.close()
"""


def events_seen_elsewhere(world: Path) -> int:
    out = subprocess.run(
        [sys.executable, "-c", COUNT_EVENTS, str(world)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return int(out.stdout)


def read_summary(world: Path) -> None:
    with Store.open(world) as store:
        store.summary()


def read_only_connection(world: Path) -> None:
    db = connect(world, read_only=True)
    db.execute("SELECT count(*) FROM videos").fetchone()
    db.close()


IN_PROCESS_READS: dict[str, Callable[[Path], object]] = {
    "nothing": lambda world: None,
    "a store for a summary": read_summary,
    "a read-only connection": read_only_connection,
    "the file's kind": inspect_file,
}


@pytest.mark.parametrize("read", IN_PROCESS_READS.values(), ids=IN_PROCESS_READS.keys())
def test_events_recorded_after_another_process_closed_are_visible_to_it(
    world_path: Path, read: Callable[[Path], object]
) -> None:
    engine = Engine.open(world_path, clock=VirtualClock(0.0))
    try:
        viewer = engine.new_user(name="station-a")

        def watch_one() -> None:
            rec = engine.next(viewer)
            engine.record(viewer, rec.video.id, "skip", watched_s=2.0)

        watch_one()
        read(world_path)
        assert events_seen_elsewhere(world_path) == 1
        assert Path(f"{world_path}-wal").exists(), "another process's close removed our log"
        for _ in range(5):
            watch_one()
        assert events_seen_elsewhere(world_path) == 6
    finally:
        engine.close()
    assert events_seen_elsewhere(world_path) == 6


def test_a_file_in_use_here_is_still_recognised(world_path: Path) -> None:
    with Store.open(world_path) as store:
        store.summary()
        assert inspect_file(world_path) == "foryou"
        assert events_seen_elsewhere(world_path) == 0
