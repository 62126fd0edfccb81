"""Panels and screens over the feed: profile, x-ray, why this video, discover, settings, help."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path
from typing import Any

import msgspec
import pytest
from textual.widgets import Checkbox, HelpPanel, Input, RadioSet

from engine import Engine, VirtualClock
from tests.tuikit import screen_text
from tui.app import FeedApp, make_app
from tui.screens.discover import DiscoverScreen
from tui.screens.feed import FeedScreen
from tui.screens.settings import SettingsScreen
from tui.screens.summary import SummaryScreen, trail_text
from tui.screens.why import WhyScreen
from tui.widgets.profile_panel import ProfilePanel
from tui.widgets.topic_slider import TopicSlider
from tui.widgets.xray_panel import XRayPanel

SIZE = (120, 40)


@pytest.fixture
def world(world_path: Path) -> Path:
    with Engine.open(world_path, clock=VirtualClock(0.0)) as eng:
        eng.new_user(["cooking"], name="ana")
    return world_path


def app_for(world: Path) -> FeedApp:
    return make_app(world, "ana", live=False, world_clock=VirtualClock(0.0))


def feed(app: FeedApp) -> FeedScreen:
    screens = [s for s in app.screen_stack if isinstance(s, FeedScreen)]
    assert screens
    return screens[0]


def query(world: Path, sql: str) -> list[dict[str, Any]]:
    with sqlite3.connect(world) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(row) for row in conn.execute(sql)]


async def test_profile_panel_bars_move_as_you_react(world: Path) -> None:
    app = app_for(world)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("i")
        panel = app.screen.query_one(ProfilePanel)
        assert panel.display
        assert "Long-term interests" in screen_text(app)
        assert "Cooking" in screen_text(app)
        bars = panel.query_one("#short-term")
        assert "nothing yet" in screen_text(app)  # no short-term state before any reaction
        video = feed(app).session.video
        assert video is not None
        feed(app).play(video.duration_s)
        await pilot.press("l", "F")
        await pilot.pause()
        assert bars.rows  # type: ignore[attr-defined]
        text = screen_text(app)
        assert "▲" in text  # a bar that moved says so
        assert f"following 1: @{video.creator_handle}" in text
        assert "follow" in text.split("Last reactions", 1)[1]
        await pilot.press("i")
        assert not panel.display


async def test_xray_shows_the_funnel_of_each_pick(world: Path) -> None:
    app = app_for(world)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("x")
        assert app.screen.query_one(XRayPanel).display
        for _ in range(2):
            receipt = feed(app).session.current.receipt  # type: ignore[union-attr]
            text = screen_text(app)
            assert "Candidates per source" in text
            assert re.search(rf"distinct +{receipt.funnel.merged}\b", text)
            assert re.search(rf"kept +{receipt.funnel.kept}\b", text)
            assert f"Picked #{receipt.rank + 1}: score {receipt.score:.2f}" in text
            await pilot.press("j")


async def test_why_this_video_tells_the_receipt_in_words(world: Path) -> None:
    app = app_for(world)
    async with app.run_test(size=SIZE) as pilot:
        receipt = feed(app).session.current.receipt  # type: ignore[union-attr]
        await pilot.press("w")
        assert isinstance(app.screen, WhyScreen)
        text = screen_text(app)
        assert receipt.reasons()[0][:40] in text
        assert "How it was scored" in text
        assert "watch it to the end" in text
        assert f"{receipt.terms['complete']['p']:.1%} chance" in text
        assert "BOOSTED" not in text
        await pilot.press("escape")
        assert isinstance(app.screen, FeedScreen)


async def test_a_boosted_pick_says_so(world: Path) -> None:
    app = app_for(world)
    async with app.run_test(size=SIZE) as pilot:
        session = feed(app).session
        receipt = session.current.receipt  # type: ignore[union-attr]
        boosted = msgspec.structs.replace(
            receipt,
            boost={"weight": 3.0, "reason": "launch week", "by": "ops", "until": 9e9},
            multipliers={**receipt.multipliers, "boost": 3.0},
        )
        assert session.video is not None
        await app.push_screen(WhyScreen(boosted, session.video))
        await pilot.pause()
        text = screen_text(app)
        assert "BOOSTED ×3 by ops: launch week" in text
        await pilot.press("end")  # the adjustments are further down
        assert "× 3 for boost" in screen_text(app)


async def test_discover_lists_trends_with_sparklines(world: Path) -> None:
    app = app_for(world)
    async with app.run_test(size=SIZE) as pilot:
        trends = feed(app).session.discover()
        await pilot.press("d")
        assert isinstance(app.screen, DiscoverScreen)
        text = screen_text(app)
        assert trends.hashtags[0].name in text
        assert trends.sounds[0].name[:8] in text
        assert len(app.screen.query("Sparkline")) == len(trends.hashtags) + len(trends.sounds)
        await pilot.press("d")
        assert isinstance(app.screen, FeedScreen)


async def test_settings_save_filters_sliders_and_speed(world: Path) -> None:
    app = app_for(world)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("comma")
        assert isinstance(app.screen, SettingsScreen)
        app.screen.query_one(Checkbox).value = True
        app.screen.query_one("#keywords", Input).value = "Cooking, recipe"
        slider = app.screen.query(TopicSlider).first()
        slider.focus()
        await pilot.press("right", "right", "right", "right")
        app.screen.query_one(RadioSet).query("RadioButton")[2].value = True  # 4×
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, FeedScreen)
        settings = json.loads(query(world, "SELECT settings FROM users")[0]["settings"])
        assert settings == {
            "allow_sensitive": True,
            "keyword_filters": ["cooking", "recipe"],
            "topic_sliders": {slider.topic: 2.0},
        }
        assert feed(app).session.speed == 4.0
        for _ in range(8):  # the filters shape the next picks
            await pilot.press("j")
            video = feed(app).session.video
            assert video is not None
            assert "cooking" not in video.caption.lower()


async def test_settings_cancel_writes_nothing_and_refresh_forgets(world: Path) -> None:
    app = app_for(world)
    async with app.run_test(size=SIZE) as pilot:
        before = query(world, "SELECT settings FROM users")
        await pilot.press("comma", "escape")
        assert query(world, "SELECT settings FROM users") == before
        await pilot.press("comma")
        await pilot.click("#refresh")
        assert isinstance(app.screen, FeedScreen)
        assert [e["kind"] for e in query(world, "SELECT kind FROM events")] == ["refresh"]


async def test_settings_unhide_a_creator_hidden_just_now(world: Path) -> None:
    app = app_for(world)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        hidden = feed(app).session.video
        assert hidden is not None
        await pilot.press("h", "i")  # hides and moves on; the profile panel lists the hide
        assert f"@{hidden.creator_handle}" in screen_text(app)
        assert "unhide them in settings (,)" in screen_text(app)
        await pilot.press("comma")
        box = app.screen.query_one("#hidden Checkbox", Checkbox)
        assert str(box.label) == f"Unhide @{hidden.creator_handle}"
        box.value = True
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, FeedScreen)
        kinds = query(world, "SELECT kind, video_id FROM events ORDER BY id")
        assert kinds[-1] == {"kind": "unhide_creator", "video_id": hidden.id}
        assert feed(app).session.profile().hidden_creators == []
        toasts = " ".join(n.message for n in app._notifications)
        assert f"@{hidden.creator_handle} can appear in your feed again" in toasts
        await pilot.press("comma")
        assert "Hidden creators: none" in screen_text(app)


@pytest.mark.parametrize("videos_since", [0, 30])
async def test_settings_unhide_a_creator_hidden_in_an_earlier_session(
    world: Path, videos_since: int
) -> None:
    """Also once the hide has left the recent reactions the engine keeps (20)."""
    with Engine.open(world, clock=VirtualClock(0.0)) as eng:
        ana = eng.user_id("ana")
        hidden = eng.next(ana).video
        eng.record(ana, hidden.id, "hide_creator")
        for _ in range(videos_since):
            eng.record(ana, eng.next(ana).video.id, "skip", watched_s=1.0)
    app = app_for(world)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("comma")
        app.screen.query_one("#hidden Checkbox", Checkbox).value = True
        await pilot.press("ctrl+s")
        assert feed(app).session.profile().hidden_creators == []
    unhide = query(world, "SELECT video_id FROM events WHERE kind = 'unhide_creator'")
    assert len(unhide) == 1
    with Engine.open(world, clock=VirtualClock(0.0)) as eng:
        assert eng.video(unhide[0]["video_id"]).creator_id == hidden.creator_id
        assert eng.profile(ana).hidden_creators == []


async def test_help_shows_every_key(world: Path) -> None:
    app = app_for(world)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        assert app.screen.query(HelpPanel)
        text = screen_text(app)
        for description in ("not interested", "hide creator", "report", "speed 1×/2×/4×"):
            assert description in text
        await pilot.press("question_mark")
        assert not app.screen.query(HelpPanel)


async def test_summary_shows_how_interests_moved(world: Path) -> None:
    app = app_for(world)
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(3):
            video = feed(app).session.video
            assert video is not None
            feed(app).play(video.duration_s)
            await pilot.press("l", "j")
        await pilot.press("q")
        assert isinstance(app.screen, SummaryScreen)
        summary = app.screen.summary
        assert summary.videos_watched == 4  # three completed, the fourth closed by quitting
        assert summary.completions == 3
        assert summary.reactions == 3
        for long_term, short_term in summary.interest_trail.values():
            assert len(long_term) == len(short_term) == 5  # at the start, after each viewing
        text = screen_text(app)
        assert "How your interests moved" in text
        long_term, short_term = next(iter(summary.interest_trail.values()))
        assert f"{long_term[0]:.2f} → {long_term[-1]:.2f}" in text
        assert trail_text(long_term) in text
        assert trail_text(short_term) in text
        assert short_term[0] == 0.0 < short_term[-1]  # "right now" starts empty and fills in


def test_trail_text_has_a_fixed_scale() -> None:
    assert trail_text([0.0, 0.5, 1.0]) == "▁▅█"
    assert trail_text([0.80, 0.81]) == "▇▇"  # a wobble stays a wobble
    assert trail_text([-1.0, 2.0]) == "▁█"
