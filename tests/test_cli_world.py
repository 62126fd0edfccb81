"""`foryou seed`, `foryou info`, `foryou metadata` as a user runs them."""

from __future__ import annotations

import json
import os
import signal
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


def test_seed_then_info(tmp_path: Path) -> None:
    db = tmp_path / "w.db"
    code, out = run("seed", "--db", str(db), "--videos", "400", "--seed", "3")
    assert code == 0, out
    code, out = run("info", "--db", str(db))
    assert code == 0, out
    assert "400 videos" in out
    assert "Videos per topic" in out
    assert "Durations" in out
    assert "near-duplicate" in out


def test_a_world_is_built_with_the_model_its_background_viewers_taught(tmp_path: Path) -> None:
    """The learned P(action) starts at the [scoring] formula, whose numbers are no chances: on
    a new world an onboarded viewer's receipts said "watch it to the end 72%" where simulated
    viewers finish about one video in five. `foryou seed --background-viewers` lets background
    personas teach the model as it builds the world, and keeps nothing else of theirs."""
    import sqlite3

    from engine import Engine, VirtualClock

    def first_chances(path: Path) -> float:
        with Engine.open(path, clock=VirtualClock(0.0), log=False) as eng:
            viewer = eng.new_user([eng.topics()[0]])
            chances = []
            for _ in range(10):
                pick = eng.next(viewer)
                chances.append(pick.predicted["complete"])
                eng.record(viewer, pick.video.id, "complete", watched_s=pick.video.duration_s)
        return sum(chances) / len(chances)

    taught, formula = tmp_path / "taught.db", tmp_path / "formula.db"
    flags = ("--videos", "400", "--seed", "3")
    assert run("seed", "--db", str(taught), *flags, "--background-viewers")[0] == 0
    assert run("seed", "--db", str(formula), *flags)[0] == 0
    conn = sqlite3.connect(taught)
    models = dict(conn.execute("SELECT name, updates FROM learned_models"))
    kept = [conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("users", "events")]
    conn.close()
    assert models["engine"] == models["engine (as built)"] > 100 and kept == [0, 0]
    assert first_chances(taught) < 0.35 < first_chances(formula)


def test_info_in_a_narrow_terminal_breaks_lines_between_counts_only(tmp_path: Path) -> None:
    db = tmp_path / "a-rather-long-folder-name-for-a-world" / "w.db"
    db.parent.mkdir()
    assert run("seed", "--db", str(db), "--videos", "400", "--seed", "3")[0] == 0
    result = CliRunner(env={"COLUMNS": "40"}).invoke(main, ["info", "--db", str(db)])
    assert result.exit_code == 0, result.output
    header = result.output.split("Videos per topic")[0]
    for count in ("400 videos", "20 creators", " topics", " hashtags", " sounds"):
        assert count in header
    assert all(len(line) <= 40 for line in header.splitlines()[1:])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--videos", "0"], "videos"),
        (["--videos", "-5"], "videos"),
        (["--videos", "100", "--creators", "500"], "creators"),
        (["--seed", "-1"], "seed"),
    ],
)
def test_nonsense_counts_are_refused(tmp_path: Path, args: list[str], message: str) -> None:
    db = tmp_path / "w.db"
    code, out = run("seed", "--db", str(db), *args)
    assert code != 0
    assert out.startswith("Error:")
    assert message in out
    assert len(out.strip().splitlines()) == 1
    assert not db.exists()


def test_unwritable_and_foreign_targets(tmp_path: Path) -> None:
    code, out = run("seed", "--db", str(tmp_path / "nope" / "w.db"), "--videos", "100")
    assert code != 0
    assert "does not exist" in out
    foreign = tmp_path / "notes.sqlite"
    foreign.write_bytes(b"SQLite format 3\x00" + b"\x00" * 100)
    before = foreign.read_bytes()
    code, out = run("seed", "--db", str(foreign), "--videos", "100", "--force")
    assert code != 0
    assert "not a foryou world" in out
    assert foreign.read_bytes() == before
    code, out = run("info", "--db", str(foreign))
    assert code != 0
    assert out.strip().count("\n") == 0


def test_existing_world_refused_without_force(world_path: Path) -> None:
    code, out = run("seed", "--db", str(world_path), "--videos", "100")
    assert code != 0
    assert "--force" in out


def test_metadata_describes_columns(world_template: Path, tmp_path: Path) -> None:
    out_file = tmp_path / "metadata.json"
    code, out = run("metadata", "--db", str(world_template), "--out", str(out_file))
    assert code == 0, out
    doc = json.loads(out_file.read_text())
    videos = doc["databases"]["template"]["tables"]["videos"]
    assert "duration_s" in videos["columns"]


def test_ctrl_c_during_seeding_leaves_no_world(tmp_path: Path) -> None:
    db = tmp_path / "big.db"
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui", "seed", "--db", str(db), "--videos", "400000"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "COLUMNS": "100"},
    )
    time.sleep(2.0)
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode != 0, out
    assert not db.exists()
    assert [p.name for p in tmp_path.iterdir()] == []
