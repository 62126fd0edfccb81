"""Getting to the feed: the CLI, picking or onboarding a viewer, and terminal sizes."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from textual.widgets import Input, OptionList, SelectionList

from engine import Engine, VirtualClock
from tests.tuikit import screen_text
from tui.app import MIN_SIZE, FeedApp, make_app
from tui.cli import main
from tui.screens.feed import FeedScreen
from tui.screens.onboarding import OnboardingScreen
from tui.screens.too_small import TooSmallScreen
from tui.screens.viewers import ViewerScreen


@pytest.fixture
def world(world_path: Path) -> Path:
    with Engine.open(world_path, clock=VirtualClock(0.0)) as eng:
        eng.new_user(["pets"], name="ana", language="es", country="MX")
    return world_path


def app_for(world: Path, user: str | None = None) -> FeedApp:
    return make_app(world, user, live=False, world_clock=VirtualClock(0.0))


def users(world: Path) -> list[dict[str, Any]]:
    with sqlite3.connect(world) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(row) for row in conn.execute("SELECT * FROM users ORDER BY id")]


def test_feed_refuses_a_file_that_is_not_a_world(tmp_path: Path) -> None:
    notes = tmp_path / "notes.sqlite"
    with sqlite3.connect(notes) as conn:
        conn.execute("CREATE TABLE notes (body TEXT)")
    before = notes.read_bytes()
    for args in (["feed", "--db", str(notes)], ["--db", str(notes)]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code != 0
        assert result.output.startswith("Error:")
        assert "not a foryou world" in result.output
        assert len(result.output.strip().splitlines()) == 1
    assert notes.read_bytes() == before


def test_feed_without_a_terminal_says_so_instead_of_drawing_blind(world: Path) -> None:
    """Redirected input or output (a script, a pipe, nohup) would draw the interface into a
    file and wait for keys forever at full CPU."""
    result = CliRunner().invoke(main, ["feed", "--db", str(world), "--user", "ana"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: this command opens a full-screen interface")
    assert len(result.output.strip().splitlines()) == 1
    assert [u["name"] for u in users(world)] == ["ana"]
    with sqlite3.connect(world) as conn:
        assert conn.execute("SELECT COUNT(*) FROM impressions").fetchone() == (0,)


def test_feed_refuses_an_unknown_viewer(world: Path) -> None:
    result = CliRunner().invoke(main, ["feed", "--db", str(world), "--user", "zed"])
    assert result.exit_code != 0
    assert result.output.startswith("Error: unknown viewer 'zed'")
    assert "leave out --user" in result.output


def test_plain_foryou_builds_the_world_then_opens_the_app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[FeedApp] = []
    monkeypatch.setattr("tui.cli.DEFAULT_VIDEOS", 300)
    monkeypatch.setattr(FeedApp, "run", lambda app, *a, **k: opened.append(app))
    monkeypatch.setattr("tui.cli.require_terminal", lambda release: None)  # CliRunner has none
    db = tmp_path / "fresh.db"
    result = CliRunner().invoke(main, ["--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "building the default one" in result.output
    assert len(opened) == 1
    assert opened[0].user_id is None  # it asks who is watching
    opened[0].engine.close()
    assert Engine.open(db).catalog.world.videos.duration_s.shape == (300,)


async def test_pick_an_existing_viewer(world: Path) -> None:
    app = app_for(world)
    async with app.run_test(size=(100, 30)) as pilot:
        assert isinstance(app.screen, ViewerScreen)
        assert "ana  ·  es-MX" in screen_text(app)
        await pilot.press("down", "enter")
        assert isinstance(app.screen, FeedScreen)
        assert app.screen.session.viewer == "ana"
        assert "@ana" in screen_text(app)


@pytest.mark.slow
async def test_a_new_viewer_onboards_with_interests_and_locale(world: Path) -> None:
    app = app_for(world)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("enter")  # "New viewer" is first
        assert isinstance(app.screen, OnboardingScreen)
        picks = app.screen.query_one(SelectionList)
        picks.select("cooking")
        picks.select("booktok")
        app.screen.query_one("#name", Input).value = "bo"
        app.screen.query_one("#language").value = "fr"  # type: ignore[attr-defined]
        app.screen.query_one("#country").value = "FR"  # type: ignore[attr-defined]
        await pilot.click("#start")
        assert isinstance(app.screen, FeedScreen)
        bo = users(world)[-1]
        assert (bo["name"], bo["language"], bo["country"]) == ("bo", "fr", "FR")
        assert sorted(json.loads(bo["interests"])) == ["booktok", "cooking"]
        assert app.screen.session.video is not None


async def test_onboarding_can_be_skipped(world: Path) -> None:
    app = app_for(world)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("n", "escape")
        assert isinstance(app.screen, FeedScreen)
        new = users(world)[-1]
        assert new["name"] != "ana"
        assert (json.loads(new["interests"]), new["language"], new["country"]) == ([], "en", "US")


@pytest.mark.slow
async def test_a_taken_name_is_refused_without_leaving_onboarding(world: Path) -> None:
    app = app_for(world)
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await pilot.press("n")
        app.screen.query_one(SelectionList).select("cooking")
        app.screen.query_one("#name", Input).value = "ana"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, OnboardingScreen)
        assert "already exists" in screen_text(app)
        assert app.screen.query_one(SelectionList).selected == ["cooking"]  # picks are kept
        assert len(users(world)) == 1


async def test_works_at_80_by_24_and_a_side_panel_takes_the_caption_column(world: Path) -> None:
    app = app_for(world, "ana")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        video = app.screen.session.video  # type: ignore[attr-defined]
        text = screen_text(app)
        assert f"@{video.creator_handle}" in text
        assert "♥" in text
        assert "q quit" in text.splitlines()[-1]  # the footer's navigation part fits
        await pilot.press("i")
        assert "YOUR PROFILE" in screen_text(app)
        assert app.screen.has_class("-crowded")
        assert "in your feed" not in screen_text(app)  # the caption column gave way


async def test_resizing_never_crashes_and_too_small_says_so(world: Path) -> None:
    app = app_for(world, "ana")
    async with app.run_test(size=(100, 30)) as pilot:
        for size in [(80, 24), (200, 60), (72, 22), (120, 40)]:
            await pilot.resize_terminal(*size)
            assert isinstance(app.screen, FeedScreen), size
            phone = app.screen.query_one("#phone")
            canvas_rows = phone.outer_size.height - 3
            assert abs((phone.outer_size.width - 2) - canvas_rows * 2 * 9 / 16) <= 1  # 9:16
        await pilot.resize_terminal(MIN_SIZE[0] - 1, 30)
        assert isinstance(app.screen, TooSmallScreen)
        assert "at least 72×22" in screen_text(app)
        await pilot.press("j")  # the feed is not under the keys meanwhile
        await pilot.resize_terminal(40, 10)
        await pilot.resize_terminal(100, 30)
        assert isinstance(app.screen, FeedScreen)
        assert app.screen.session.index == 0


async def test_viewer_list_leaves_out_simulated_viewers(world: Path) -> None:
    with Engine.open(world, clock=VirtualClock(0.0)) as eng:
        eng.new_user([], name="sim-1", simulated=True)
    app = app_for(world)
    async with app.run_test(size=(100, 30)):
        options = app.screen.query_one(OptionList)
        assert options.option_count == 2  # "new viewer" and ana
