"""`foryou study forget`: every row about a participant goes, from every table and the file."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
from click.testing import CliRunner

from engine import VirtualClock
from engine.store.activity import LIVE_STAT_FIELDS
from engine.study import open_bundle
from engine.study.forget import live_stat_share
from tests.studykit import complete, make_bundle, watch
from tui.cli import main

FORGOTTEN = "QX7K2"  # an id that cannot appear by chance in the world's text


def scan(path: Path, needle: str, user_id: int) -> list[str]:
    """Every place in the file's tables that still mentions the participant or their viewer."""
    conn = sqlite3.connect(path)
    found = []
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            columns = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
            for row in conn.execute(f"SELECT * FROM {table}"):
                for column, value in zip(columns, row, strict=True):
                    if isinstance(value, str) and needle in value:
                        found.append(f"{table}.{column}")
                    if column == "user_id" and value == user_id:
                        found.append(f"{table}.user_id")
            if (
                table == "users"
                and conn.execute("SELECT count(*) FROM users WHERE id = ?", [user_id]).fetchone()[0]
            ):
                found.append("users.id")
    finally:
        conn.close()
    return found


def live_stats(path: Path) -> dict[int, dict[str, float]]:
    conn = sqlite3.connect(path)
    try:
        fields = ", ".join(LIVE_STAT_FIELDS)
        cursor = conn.execute(f"SELECT video_id, {fields} FROM video_stats_live")
        stats = {
            int(row[0]): {f: round(v, 6) for f, v in zip(LIVE_STAT_FIELDS, row[1:], strict=True)}
            for row in cursor
        }
    finally:
        conn.close()
    assert all(nonzero(counts) for counts in stats.values())  # no rows of zeros left behind
    return {video: nonzero(counts) for video, counts in stats.items()}


def nonzero(counts: dict[str, float]) -> dict[str, float]:
    return {field: value for field, value in counts.items() if value}


def test_forget_removes_every_row_and_byte_about_the_participant(
    world_path: Path, tmp_path: Path
) -> None:
    path = make_bundle(world_path, tmp_path)
    clock = VirtualClock(0.0)
    with open_bundle(path) as bundle:
        complete(bundle, FORGOTTEN, clock, seed=1)
        complete(bundle, "P002", clock, seed=2)
        user_id = bundle.enrol(FORGOTTEN).user_id
        kept_before = bundle.store.history(bundle.enrol("P002").user_id or 0)
        assert user_id is not None and scan(path, FORGOTTEN, user_id)
        served, reactions = bundle.store.history(user_id)
        deleted = bundle.forget(FORGOTTEN)
    assert deleted["impressions"] == len(served) >= 8
    assert deleted["events"] == len(reactions)
    assert deleted["users"] == deleted["participants"] == deleted["sessions"] == 1
    assert deleted["answers"] == 4
    assert scan(path, FORGOTTEN, user_id) == []
    assert FORGOTTEN.encode() not in path.read_bytes()  # not even in freed pages
    wal = Path(f"{path}-wal")
    assert not wal.exists() or FORGOTTEN.encode() not in wal.read_bytes()
    # The other participant is untouched, and the shared counters now hold only their share.
    with open_bundle(path) as bundle:
        remaining = bundle.store.history(bundle.enrol("P002").user_id or 0)
        assert bundle.enrol("P002").status == "completed"
    assert remaining == kept_before
    expected = {
        video: nonzero({field: round(value, 6) for field, value in share.items()})
        for video, share in live_stat_share(remaining[1]).items()
    }
    assert live_stats(path) == {video: counts for video, counts in expected.items() if counts}


def test_forget_command(world_path: Path, tmp_path: Path) -> None:
    path = make_bundle(world_path, tmp_path)
    with open_bundle(path) as bundle:
        complete(bundle, "P001", VirtualClock(0.0))
        bundle.record_consent("P002", agreed=False)
    runner = CliRunner()
    result = runner.invoke(main, ["study", "forget", "P001", "--db", str(path), "--yes"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Forgot P001: removed")
    assert "4 answers" in result.output and "1 users" in result.output
    declined = runner.invoke(main, ["study", "forget", "P002", "--db", str(path), "--yes"])
    assert declined.exit_code == 0 and "1 participants" in declined.output
    unknown = runner.invoke(main, ["study", "forget", "P001", "--db", str(path), "--yes"])
    assert unknown.exit_code != 0
    assert unknown.output == "Error: unknown participant P001\n"
    refused = runner.invoke(main, ["study", "forget", "P003", "--db", str(path)], input="n\n")
    assert refused.exit_code != 0


READER = """\
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN")
conn.execute("SELECT count(*) FROM participants").fetchone()
print("reading", flush=True)
sys.stdin.readline()
"""


def test_forget_with_another_reader_open_refuses_then_a_rerun_scrubs(
    world_path: Path, tmp_path: Path
) -> None:
    path = make_bundle(world_path, tmp_path)
    email = "qx7k2.mail@example.org"
    with open_bundle(path) as bundle:
        bundle.record_consent(FORGOTTEN, agreed=True)
        bundle.record_answers(FORGOTTEN, "pre", {"age": "25-34", "hours": 3})
        watch(bundle, FORGOTTEN, VirtualClock(0.0), np.random.default_rng(1))
        bundle.record_answers(FORGOTTEN, "post", {"enjoy": 6, "notes": f"write me: {email}"})
    secrets = [FORGOTTEN.encode(), email.encode()]

    def leftovers() -> list[bytes]:
        files = [path, Path(f"{path}-wal")]
        raw = b"".join(f.read_bytes() for f in files if f.exists())
        return [s for s in secrets if s in raw]

    # A reader that began its read before the file held anything new (as a `sqlite3` shell, an
    # export or a stray worker would) and keeps it open.
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert reader.stdout is not None and reader.stdout.readline() == "reading\n"
        runner = CliRunner()
        args = ["study", "forget", FORGOTTEN, "--db", str(path), "--yes"]
        busy = runner.invoke(main, args)
        assert busy.exit_code == 1
        assert busy.output.count("\n") == 1 and busy.output.startswith("Error: ")
        assert "another process" in busy.output and f"pid {reader.pid}" in busy.output
        assert "run again" in busy.output
        assert leftovers() == secrets  # told the truth: it is all still there
    finally:
        reader.communicate("\n", timeout=10)
    done = runner.invoke(main, args)
    assert done.exit_code == 0, done.output
    assert done.output.startswith(f"Forgot {FORGOTTEN}: removed")
    assert "exports made before" in done.output
    assert leftovers() == []
    assert scan(path, FORGOTTEN, -1) == []


def test_forget_drops_the_learned_model_fitted_on_their_events(
    world_path: Path, tmp_path: Path
) -> None:
    """The shared P(action) model learned from the participant too; after forget, the file
    holds no model state fitted on their events (the next engine refits on what remains)."""
    path = make_bundle(world_path, tmp_path)
    clock = VirtualClock(0.0)
    with open_bundle(path) as bundle:
        complete(bundle, FORGOTTEN, clock, seed=1)
        complete(bundle, "P002", clock, seed=2)
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT count(*) FROM learned_models").fetchone()[0] == 1
    conn.close()
    with open_bundle(path) as bundle:
        deleted = bundle.forget(FORGOTTEN)
    assert deleted["learned_models"] == 1
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT count(*) FROM learned_models").fetchone()[0] == 0
    conn.close()


FEEDING = """\
import sys
from engine import VirtualClock
from engine.study import open_bundle

bundle = open_bundle(sys.argv[1])
feed = bundle.open_feed("P050", interests=["cooking"], clock=VirtualClock(0.0))
rec = feed.next()
feed.seen(rec.video.id)
print("feeding", flush=True)
sys.stdin.readline()
feed.record(rec.video.id, "complete", watched_s=rec.video.duration_s)
feed.close()
bundle.close()
"""


def feeding(path: Path) -> subprocess.Popen[str]:
    """Another participant mid-feed in another process, as a second lab terminal would be."""
    root = str(Path(__file__).resolve().parents[1])
    return subprocess.Popen(
        [sys.executable, "-c", FEEDING, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": root},
    )


def learned_rows(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute("SELECT count(*) FROM learned_models").fetchone()[0])
    finally:
        conn.close()


def test_forget_refuses_while_a_feed_is_open_elsewhere_so_nothing_learned_comes_back(
    world_path: Path, tmp_path: Path
) -> None:
    """An open engine writes its learned model again when its feed ends, fitted on the
    forgotten participant's events too: forget must wait until no feed is open."""
    path = make_bundle(world_path, tmp_path)
    with open_bundle(path) as bundle:
        complete(bundle, FORGOTTEN, VirtualClock(0.0), seed=1)
        bundle.record_consent("P050", agreed=True)
        bundle.record_answers("P050", "pre", {"age": "25-34", "hours": 3})
    args = ["study", "forget", FORGOTTEN, "--db", str(path), "--yes"]
    other = feeding(path)
    try:
        assert other.stdout is not None and other.stdout.readline() == "feeding\n"
        refused = CliRunner().invoke(main, args)
        assert refused.exit_code == 1
        assert refused.output.count("\n") == 1 and refused.output.startswith("Error: ")
        assert f"is open in another process (pid {other.pid}, `" in refused.output
        assert "nothing was deleted" in refused.output
    finally:
        other.communicate("\n", timeout=60)
    assert other.returncode == 0
    with open_bundle(path) as bundle:
        assert bundle.enrol(FORGOTTEN).status == "completed"  # untouched
    assert learned_rows(path) == 1  # the feed that ended saved its model
    done = CliRunner().invoke(main, args)
    assert done.exit_code == 0, done.output
    assert learned_rows(path) == 0
    # The lock is let go: the file opens again at once, in this process and others.
    with open_bundle(path) as bundle:
        assert bundle.enrol("P050").status == "in_feed"
