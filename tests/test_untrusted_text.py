"""Text from a file reaches the terminal neutralised: names, captions, comments, answers, reasons.

A file is data anyone may have edited; an escape sequence stored in it must never act on the
terminal of whoever opens it, and markup in it must show as the characters it is.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from engine import Engine, VirtualClock
from engine.study import StudyError, open_bundle
from engine.text import check_free_text, printable
from tests.studykit import make_bundle, watch
from tests.tuikit import screen_text
from tui.app import make_app
from tui.cli import main
from tui.screens.feed import FeedScreen
from tui.screens.viewers import ViewerScreen

RETITLE = "\x1b]0;pwned\x07"  # OSC 0: sets the terminal window's title
EVIL_NAME = f"ana{RETITLE}[bold red]boss[/]"


def test_printable_shows_controls_as_pictures_and_keeps_every_script() -> None:
    assert printable(RETITLE) == "␛]0;pwned␇"
    assert printable("a\x9b31mb\x7f") == "a\\x9b31mb␡"  # C1 CSI and DEL
    assert printable("line\u2028two\u202eevil") == "line\\u2028two\\u202eevil"
    assert printable("two\nlines\r", keep_newlines=True) == "two\nlines␍"
    for fine in ("José · 東京 · 서울 · नमस्ते", "👩‍👩‍👧 family", "[bold]x[/]", "tab-free"):
        assert printable(fine) == fine


def test_free_text_with_controls_or_nul_is_refused_naming_the_field() -> None:
    with pytest.raises(ValueError, match="comment contains a NUL"):
        check_free_text("a\x00b", "comment")
    with pytest.raises(ValueError, match="name contains the control character '␛'"):
        check_free_text(RETITLE, "name", multiline=False)
    with pytest.raises(ValueError, match="comment has 2,001 characters; at most 2,000"):
        check_free_text("x" * 2001, "comment")
    assert check_free_text("two\nlines", "comment") == "two\nlines"


@pytest.fixture
def evil_world(world_path: Path) -> Path:
    """A world whose viewer's name was edited in the file to carry an escape and markup."""
    with Engine.open(world_path, clock=VirtualClock(0.0)) as eng:
        eng.new_user(["pets"], name="ana", language="es", country="MX")
    with sqlite3.connect(world_path) as conn:
        conn.execute("UPDATE users SET name = ? WHERE name = 'ana'", (EVIL_NAME,))
    return world_path


async def test_who_is_watching_shows_an_escape_in_a_name_neutralised(evil_world: Path) -> None:
    app = make_app(evil_world, None, live=False, world_clock=VirtualClock(0.0))
    async with app.run_test(size=(100, 30)) as pilot:
        assert isinstance(app.screen, ViewerScreen)
        shown = screen_text(app)
        assert "\x1b" not in shown and "\x07" not in shown
        assert "ana␛]0;pwned␇[bold red]boss[/]" in shown  # markup shown as typed, too
        await pilot.press("down", "enter")
        assert isinstance(app.screen, FeedScreen)
        shown = screen_text(app)
        assert "\x1b" not in shown
        assert "@ana␛]0;pwned␇" in shown


def test_new_viewer_names_with_control_characters_are_refused(world_path: Path) -> None:
    with Engine.open(world_path, clock=VirtualClock(0.0)) as eng:
        with pytest.raises(ValueError, match="name contains the control character"):
            eng.new_user([], name=EVIL_NAME)
        assert eng.users() == []


def test_comments_are_capped_and_refuse_nul_writing_nothing(world_path: Path) -> None:
    """A 1 MB comment once broke Python's csv reader on the export; NUL truncates text in C."""
    with Engine.open(world_path, clock=VirtualClock(0.0)) as eng:
        uid = eng.new_user(["pets"], name="ana")
        video = eng.next(uid).video.id
        for text, message in [
            ("x" * 1_000_000, "comment has 1,000,000 characters; at most 2,000"),
            ("nice\x00hidden", "comment contains a NUL"),
            (f"nice{RETITLE}", "comment contains the control character '␛'"),
        ]:
            with pytest.raises(ValueError, match=message):
                eng.record(uid, video, "comment", text=text)
        eng.record(uid, video, "comment", text="y" * 2000)
    with sqlite3.connect(world_path) as conn:
        stored = conn.execute("SELECT text FROM events WHERE kind = 'comment'").fetchall()
    assert stored == [("y" * 2000,)]


def test_free_text_answers_refuse_nul_naming_the_item(world_path: Path, tmp_path: Path) -> None:
    with open_bundle(make_bundle(world_path, tmp_path)) as bundle:
        bundle.record_consent("P001", agreed=True)
        bundle.record_answers("P001", "pre", {"age": "25-34", "hours": 3})
        watch(bundle, "P001", VirtualClock(0.0), np.random.default_rng(0))
        for notes, message in [
            ("cats\x00dogs", "post: item 'notes' contains a NUL"),
            ("x" * 2001, "post: item 'notes' needs text of at most 2000 characters"),
        ]:
            with pytest.raises(StudyError, match=message):
                bundle.record_answers("P001", "post", {"enjoy": 5, "notes": notes})
        assert bundle.answers("P001", "post") == {}
        bundle.record_answers("P001", "post", {"enjoy": 5, "notes": "two\nlines"})
        assert bundle.answers("P001", "post")["notes"] == "two\nlines"


def test_recommend_and_explain_print_file_text_neutralised(evil_world: Path) -> None:
    """Captions, handles and boost reasons edited in the file reach the terminal as characters."""
    with Engine.open(evil_world, clock=VirtualClock(0.0)) as eng:
        video = eng.next(eng.user_id(EVIL_NAME)).video.id
        with pytest.raises(ValueError, match="reason contains the control character"):
            eng.boost(video, weight=3.0, until=1e9, reason=RETITLE)
    with sqlite3.connect(evil_world) as conn:
        conn.execute("UPDATE videos SET caption = ?", (f"cap{RETITLE}[red]x[/]",))
        conn.execute("UPDATE creators SET handle = handle || ?", ("\x1b[2J",))
        boost = {"weight": 3.0, "reason": f"paid{RETITLE}", "by": "ops", "until": 1e9}
        conn.execute(
            "UPDATE impressions SET receipt = json_set(receipt, '$.boost', json(?))",
            (json.dumps(boost),),
        )
    runner = CliRunner()
    shown = runner.invoke(
        main, ["recommend", "--db", str(evil_world), "--user", EVIL_NAME, "-n", "3"]
    )
    assert shown.exit_code == 0, shown.output
    assert "\x1b" not in shown.output and "\x07" not in shown.output
    assert "cap␛]0;pwned␇[red]x[/]" in shown.output  # markup printed as typed
    assert "␛[2J" in shown.output
    with sqlite3.connect(evil_world) as conn:
        impression = conn.execute(
            "SELECT id FROM impressions WHERE video_id = ? ORDER BY id LIMIT 1", (video,)
        ).fetchone()[0]
    explained = runner.invoke(main, ["explain", "--db", str(evil_world), str(impression)])
    assert explained.exit_code == 0, explained.output
    assert "\x1b" not in explained.output and "\x07" not in explained.output
    assert "cap␛]0;pwned␇[red]x[/]" in explained.output
    assert "paid␛]0;pwned␇" in explained.output


def test_info_and_study_status_print_file_text_neutralised(
    world_path: Path, tmp_path: Path
) -> None:
    bundle = make_bundle(world_path, tmp_path)
    with sqlite3.connect(bundle) as conn:
        conn.execute("UPDATE topics SET name = name || ?", (RETITLE,))
        resolved = json.loads(conn.execute("SELECT resolved FROM studies").fetchone()[0])
        resolved["conditions"][0]["name"] += "\x1b[31m[bold]"
        conn.execute("UPDATE studies SET resolved = ?", (json.dumps(resolved),))
    runner = CliRunner()
    for args in (["info"], ["study", "status"]):
        result = runner.invoke(main, [*args, "--db", str(bundle)])
        assert result.exit_code == 0, result.output
        assert "\x1b" not in result.output and "\x07" not in result.output
    assert "␛[31m[bold]" in result.output
