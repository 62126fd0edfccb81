"""`foryou recommend`, `explain`, `config`, `boost` as a user runs them."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine import Engine
from tui.cli import main


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def test_recommend_prints_receipts_and_explain_reads_them_back(world_path: Path) -> None:
    code, out = run("recommend", "--db", str(world_path), "--user", "ann", "--create", "-n", "3")
    assert code == 0, out
    assert out.count("funnel: proposed") == 3
    assert "expected value" in out
    assert "propensity" in out
    conn = sqlite3.connect(world_path)
    (impression,) = conn.execute("SELECT max(id) FROM impressions").fetchone()
    code, out = run("explain", "--db", str(world_path), str(impression))
    assert code == 0, out
    assert f"impression {impression}" in out
    assert "score terms" in out


def test_explain_says_a_revisit_is_one_and_names_the_pick_it_went_back_to(
    world_path: Path,
) -> None:
    """A revisit carries its pick's receipt; explain showed it as if the policy had picked the
    video a second time."""
    with Engine.open(world_path) as eng:
        uid = eng.new_user(name="ann")
        first = eng.next(uid)
        eng.seen(uid, first.video.id)
        eng.record(uid, first.video.id, "skip", watched_s=2.0)
        eng.seen(uid, eng.next(uid).video.id)
        back = eng.revisit(uid, first.video.id)
        again = eng.revisit(uid, first.video.id)  # a revisit of a revisit: the same pick
        assert eng.revisited_pick(first.impression_id) is None
        assert eng.revisited_pick(10**30) is None
    code, pick = run("explain", "--db", str(world_path), str(first.impression_id))
    assert code == 0, pick
    assert "revisit" not in pick
    for revisit in (back, again):
        code, out = run("explain", "--db", str(world_path), str(revisit))
        assert code == 0, out
        assert " ".join(out.split()).startswith(
            f"impression {revisit} is a revisit of impression {first.impression_id} (the viewer "
            "went back to it); the receipt below is the original pick's "
            f"impression {first.impression_id} (revisited as {revisit}): video {first.video.id} · "
        )
        reasons = out.index("\n  • ")  # the receipt, after the heading (its caption may wrap)
        assert out[reasons:] == pick[pick.index("\n  • ") :]


def test_recommend_unknown_viewer_and_explain_unknown_impression(world_path: Path) -> None:
    code, out = run("recommend", "--db", str(world_path), "--user", "nobody")
    assert code != 0
    assert out.strip() == "Error: unknown viewer 'nobody'"
    code, out = run("explain", "--db", str(world_path), "999999")
    assert code != 0
    assert out.strip() == "Error: unknown impression id 999999"


@pytest.mark.parametrize("dry_run", [[], ["--dry-run"]])
def test_recommend_to_a_viewer_whose_filters_leave_nothing_is_one_line(
    world_path: Path, dry_run: list[str]
) -> None:
    with Engine.open(world_path) as eng:
        uid = eng.new_user(name="tiny")
        eng.set_controls(uid, keyword_filters=[*"eaoiu", "#"])  # every caption has one
    code, out = run("recommend", "--db", str(world_path), "--user", "tiny", "-n", "1", *dry_run)
    assert (code, out) == (
        1,
        "Error: nothing left to recommend to tiny. Loosen your filters in the feed's "
        "settings (,).\n",
    )


def test_recommend_past_the_end_of_a_tiny_imported_world_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "items.csv").write_text("id,topic\n1,x\n2,x\n3,y\n", encoding="utf-8")
    (tmp_path / "log.csv").write_text("user,item,timestamp\nu1,1,1700000000\n", encoding="utf-8")
    db = str(tmp_path / "mine.db")
    code, out = run("import", "csv", "items.csv", "--log", "log.csv", "--db", db)
    assert code == 0, out
    code, out = run("recommend", "--db", db, "--user", "csv-u1", "-n", "3")
    assert code == 1
    assert out.count("funnel: proposed") == 2  # the two videos csv-u1 has not seen
    assert out.endswith(
        "Error: nothing left to recommend to csv-u1. Loosen your filters in "
        "the feed's settings (,).\n"
    )


def test_dry_run_records_nothing(world_path: Path) -> None:
    run("recommend", "--db", str(world_path), "--user", "bo", "--create", "-n", "1")
    code, out = run("recommend", "--db", str(world_path), "--user", "bo", "-n", "2", "--dry-run")
    assert code == 0
    conn = sqlite3.connect(world_path)
    assert conn.execute("SELECT count(*) FROM impressions").fetchone()[0] == 1
    # No impression id to pass to `explain`, which would call it unknown.
    assert "impression " not in out and out.count("· not stored") == 2


def test_config_show_and_validate(tmp_path: Path) -> None:
    good = tmp_path / "good.toml"
    good.write_text('name = "likes-matter"\n[reactions]\nlike = 3.0\n')
    code, out = run("config", "show", str(good))
    assert code == 0
    assert "like = 3.0" in out
    assert "report = -234.0" in out  # defaults filled in
    assert run("config", "validate", str(good)) == (0, f"{good}: ok\n")
    bad = tmp_path / "bad.toml"
    bad.write_text("[reactions]\nlikes = 3.0\n")
    code, out = run("config", "validate", str(bad))
    assert code != 0
    assert "likes" in out
    assert "reactions" in out
    assert len(out.strip().splitlines()) == 1


def test_boost_is_stored_and_disclosed(world_path: Path) -> None:
    code, out = run(
        "boost",
        "--db",
        str(world_path),
        "42",
        "--weight",
        "3",
        "--until",
        "24h",
        "--reason",
        "creator spotlight",
    )
    assert code == 0, out
    conn = sqlite3.connect(world_path)
    row = conn.execute("SELECT video_id, weight, reason, created_by FROM boosts").fetchone()
    assert row == (42, 3.0, "creator spotlight", "operator")
    # The end as a person reads it: a local date and time, and how far away it is.
    tomorrow = datetime.now() + timedelta(hours=24)
    ends = {(tomorrow + timedelta(minutes=m)).strftime("%Y-%m-%d %H:%M") for m in (-1, 0, 1)}
    assert any(f"until {end} (in 1 d)" in out for end in ends), out
    assert "world time" not in out
    code, out = run(
        "boost", "--db", str(world_path), "42", "--weight", "3", "--until", "soon", "--reason", "x"
    )
    assert code != 0
    assert "--until" in out
    code, out = run(
        "boost",
        "--db",
        str(world_path),
        "10000000",
        "--weight",
        "3",
        "--until",
        "1h",
        "--reason",
        "x",
    )
    assert code != 0
    assert "unknown video" in out


@pytest.mark.parametrize("until", ["99999999999h", "0001-01-01T00:00", "0h", "9" * 400 + "d"])
def test_a_boost_end_out_of_range_is_refused_before_anything_is_written(
    world_path: Path, until: str
) -> None:
    args = ["boost", "--db", str(world_path), "5", "--weight", "2", "--reason", "x"]
    code, out = run(*args, "--until", until)
    assert code == 1
    assert out == (
        f"Error: --until {until!r} is out of range: the boost must end after now and by "
        "9999-12-31 23:59\n"
    )
    assert sqlite3.connect(world_path).execute("SELECT count(*) FROM boosts").fetchone() == (0,)


def test_captions_are_printed_as_written_not_as_emoji_or_markup(world_path: Path) -> None:
    """A caption is file text: ":fire:" stays ":fire:" and "[red]" stays "[red]"."""
    run("recommend", "--db", str(world_path), "--user", "cy", "--create", "-n", "1")
    conn = sqlite3.connect(world_path)
    impression, video = conn.execute(
        "SELECT id, video_id FROM impressions ORDER BY id DESC LIMIT 1"
    ).fetchone()
    with conn:
        conn.execute(
            "UPDATE videos SET caption = ? WHERE id = ?", [":fire: [red]hot[/red] :smile:", video]
        )
    conn.close()
    code, out = run("explain", "--db", str(world_path), str(impression))
    assert code == 0, out
    assert ":fire: [red]hot[/red] :smile:" in out
    assert "🔥" not in out
