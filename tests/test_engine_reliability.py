"""Durability and sharing with real processes: kill -9 loses nothing, two writers both land."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

# A viewer that reacts as fast as it can and prints each event id once record() has returned.
VIEWER = """
import sys
from engine import Engine, VirtualClock
eng = Engine.open(sys.argv[1], clock=VirtualClock(0.0))
uid = eng.new_user(name=sys.argv[2])
for i in range(int(sys.argv[3])):
    rec = eng.next(uid)
    event_id = eng.record(uid, rec.video.id, "skip", watched_s=1.0 + i % 5)
    print(event_id, rec.video.id, flush=True)
eng.close()
print("done", flush=True)
"""


def viewer(world: Path, name: str, n: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", VIEWER, str(world), name, str(n)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
    )


def test_kill_9_loses_no_recorded_event(world_path: Path) -> None:
    proc = viewer(world_path, "doomed", 100_000)
    acknowledged: list[int] = []
    assert proc.stdout is not None
    deadline = time.monotonic() + 60
    while len(acknowledged) < 150 and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line and line.split()[0].isdigit():
            acknowledged.append(int(line.split()[0]))
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    assert len(acknowledged) >= 150, proc.stderr.read() if proc.stderr else ""
    conn = sqlite3.connect(world_path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    stored = {row[0] for row in conn.execute("SELECT id FROM events")}
    assert set(acknowledged) <= stored
    # Every stored skip closed its impression in the same transaction.
    unclosed = conn.execute(
        "SELECT count(*) FROM events e JOIN impressions i ON i.id = e.impression_id "
        "WHERE i.seen_end IS NULL"
    ).fetchone()[0]
    assert unclosed == 0


def test_two_processes_share_one_world(world_path: Path) -> None:
    procs = [viewer(world_path, name, 300) for name in ("station-a", "station-b")]
    outputs = [p.communicate(timeout=120) for p in procs]
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
        assert "locked" not in err
        assert out.strip().endswith("done")
    conn = sqlite3.connect(world_path)
    per_user = dict(
        conn.execute(
            "SELECT u.name, count(e.id) FROM users u JOIN events e ON e.user_id = u.id "
            "GROUP BY u.name"
        ).fetchall()
    )
    assert per_user == {"station-a": 300, "station-b": 300}
    live_views = conn.execute("SELECT sum(views) FROM video_stats_live").fetchone()[0]
    assert live_views == 600
