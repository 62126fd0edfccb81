"""`foryou study merge`: lab stations' bundles of one study become one dataset."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine import VirtualClock
from engine.replay import replay_session
from engine.study import StudyError, merge_bundles, open_bundle
from seed.build import build_world
from tests.conftest import EPOCH
from tests.studykit import STUDY, complete, make_bundle
from tui.cli import main


def rows(path: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def station(
    world_template: Path, directory: Path, participants: list[str], text: str = STUDY
) -> Path:
    """A lab station: its own copy of the bundle, and the participants it ran."""
    directory.mkdir()
    path = directory / f"{directory.name}.db"
    shutil.copy(world_template, path)
    make_bundle(path, directory, text)
    clock = VirtualClock(0.0)
    with open_bundle(path) as bundle:
        for i, participant in enumerate(participants):
            complete(bundle, participant, clock, seed=i)
    return path


def feeds(path: Path) -> dict[str, list[int]]:
    """Each participant's watched videos, in order."""
    result: dict[str, list[int]] = {}
    for participant, video in rows(
        path,
        "SELECT p.participant, i.video_id FROM participants p JOIN impressions i "
        "ON i.user_id = p.user_id ORDER BY i.id",
    ):
        result.setdefault(participant, []).append(video)
    return result


def test_two_stations_merge_without_id_clashes(world_template: Path, tmp_path: Path) -> None:
    a = station(world_template, tmp_path / "lab-a", ["P001", "P002"])
    b = station(world_template, tmp_path / "lab-b", ["P101", "P102"])
    merged = tmp_path / "all.db"
    result = CliRunner().invoke(
        main, ["study", "merge", str(a), str(b), "--out", str(merged)], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert "4 participants" in result.output
    assert rows(merged, "PRAGMA foreign_key_check") == []
    assert rows(merged, "PRAGMA integrity_check") == [("ok",)]
    assert rows(merged, "SELECT participant, station FROM participants ORDER BY id") == [
        ("P001", "lab-a"),
        ("P002", "lab-a"),
        ("P101", "lab-b"),
        ("P102", "lab-b"),
    ]
    assert feeds(merged) == feeds(a) | feeds(b)  # every feed intact, ids remapped
    for table in ("users", "sessions", "impressions", "events", "answers", "feed_runs"):
        total = sum(rows(p, f"SELECT count(*) FROM {table}")[0][0] for p in (a, b))
        assert rows(merged, f"SELECT count(*) FROM {table}") == [(total,)]
    assert rows(merged, "SELECT count(*) FROM configs") == rows(a, "SELECT count(*) FROM configs")
    views = [rows(p, "SELECT coalesce(sum(views), 0) FROM video_stats_live")[0][0] for p in (a, b)]
    assert rows(merged, "SELECT sum(views) FROM video_stats_live") == [(sum(views),)]
    # Each station's sessions replay exactly: their histories are kept apart.
    (last_session,) = rows(merged, "SELECT max(id) FROM sessions")[0]
    replayed = replay_session(merged, last_session)
    assert replayed.matches == len(replayed.picks) > 0
    with open_bundle(merged) as bundle:
        assert sum(c.completed for c in bundle.status().conditions) == 4


def test_merge_refuses_what_does_not_belong_together(world_template: Path, tmp_path: Path) -> None:
    a = station(world_template, tmp_path / "a", ["P001"])
    twin = station(world_template, tmp_path / "twin", ["P001"])
    renamed = station(
        world_template, tmp_path / "other", [], STUDY.replace("heating-pilot", "another-study")
    )
    (tmp_path / "elsewhere").mkdir()
    world = build_world(tmp_path / "elsewhere" / "e.db", videos=3000, seed=8, epoch_unix=EPOCH)
    make_bundle(world, tmp_path / "elsewhere")
    out = tmp_path / "all.db"
    cases = [
        ([a, twin], "participant P001 is in both"),
        ([a, renamed], "hold different studies"),
        ([a, world], "run on different worlds"),
        ([a], "at least two bundles"),
        ([a, a], "named twice"),
    ]
    for inputs, message in cases:
        with pytest.raises(StudyError, match=message):
            merge_bundles(inputs, out)
        assert not out.exists()
    out.write_text("")
    with pytest.raises(StudyError, match="exists"):
        merge_bundles([a, world], out)
    assert list(tmp_path.glob(".all.db*")) == []


@pytest.mark.parametrize(
    ("out", "message"),
    [
        ("missing/all.db", "--out {tmp}/missing/all.db: {tmp}/missing does not exist"),
        (
            "lab-a/lab-a.db/all.db",
            "--out {tmp}/lab-a/lab-a.db/all.db: {tmp}/lab-a/lab-a.db is not a folder",
        ),
        ("lab-a", "Invalid value for '--out': File '{tmp}/lab-a' is a directory."),
    ],
)
def test_an_out_path_merge_cannot_write_is_refused_before_reading_the_bundles(
    world_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, out: str, message: str
) -> None:
    """The merge read every station's bundle before it found its --out unwritable, and then
    failed with a traceback; checked while parsing, as every command's output path is."""
    from engine.store import Store

    a = station(world_template, tmp_path / "lab-a", ["P001"])
    b = station(world_template, tmp_path / "lab-b", ["P101"])
    before = {p: p.read_bytes() for p in (a, b)}

    def never(*_: object, **__: object) -> None:
        raise AssertionError("merge opened a bundle before checking --out")

    monkeypatch.setattr(Store, "open", never)
    result = CliRunner().invoke(
        main, ["study", "merge", str(a), str(b), "--out", str(tmp_path / out)]
    )
    assert result.exit_code != 0
    assert result.stderr == f"Error: {message.format(tmp=tmp_path)}\n"
    assert {p: p.read_bytes() for p in (a, b)} == before
    assert list(tmp_path.rglob("*all.db*")) == []


def test_a_copy_of_a_live_file_holds_what_its_writer_has_not_checkpointed(
    world_template: Path, tmp_path: Path
) -> None:
    """`evaluate --validate` and `study merge` copy a world another process may be writing:
    the rows still in its WAL must be in the copy (a byte copy of the main file loses them)."""
    from engine.store.merge import copy_file

    live = tmp_path / "live.db"
    shutil.copy(world_template, live)
    writer = sqlite3.connect(live)
    try:
        writer.execute("PRAGMA journal_mode = WAL")
        writer.execute("PRAGMA wal_autocheckpoint = 0")  # the rows stay in the WAL
        before = writer.execute("SELECT count(*) FROM users").fetchone()[0]
        writer.execute("INSERT INTO users (name) VALUES ('still in the wal')")
        writer.commit()
        copy_file(live, tmp_path / "copy.db")
        byte_copy = tmp_path / "bytes.db"
        shutil.copy(live, byte_copy)
    finally:
        writer.close()
    with sqlite3.connect(tmp_path / "copy.db") as conn:
        assert conn.execute("SELECT count(*) FROM users").fetchone()[0] == before + 1
    with sqlite3.connect(byte_copy) as conn:  # what the validation's copy held before
        assert conn.execute("SELECT count(*) FROM users").fetchone()[0] == before


def test_merge_refuses_a_bundle_open_in_another_process(
    world_template: Path, tmp_path: Path
) -> None:
    """A participant mid-feed at a station: merging would cut their run in the middle."""
    a = station(world_template, tmp_path / "lab-a", ["P001"])
    b = station(world_template, tmp_path / "lab-b", ["P101"])
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDING, str(b)], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == b"open\n"
        merged = tmp_path / "all.db"
        result = CliRunner().invoke(main, ["study", "merge", str(a), str(b), "--out", str(merged)])
        assert result.exit_code == 1
        assert result.output.startswith(
            f"Error: {b} is open in another process (pid {holder.pid}, `python -c import"
        )
        assert result.output.endswith("`): close it before merging\n")
        assert result.output.count("\n") == 1
        assert not merged.exists()
    finally:
        holder.communicate(b"\n", timeout=10)


HOLDING = """\
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1])
conn.execute("SELECT count(*) FROM participants").fetchone()
print("open", flush=True)
sys.stdin.readline()
"""
