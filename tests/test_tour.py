"""`foryou tour`: every chapter's evidence appears on the live feed, and the tour's keys work.

The app runs with ``live=False`` and a fixed world clock; the tests move time themselves with
``Tour.advance`` (the video plays, the pilot presses, the crowd watches, the evidence is looked
for), so a chapter that takes half a minute on a projector takes a second or two here. Each
chapter is started directly (``Tour.begin``) on the 3,000-video test world.
"""

from __future__ import annotations

import re
import shutil
import sqlite3
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from textual.pilot import Pilot
from textual.widgets import Digits, SelectionList

from engine import VirtualClock
from seed.build import build_world
from tests.test_tui_tmux import Terminal, foryou_command
from tests.tuikit import rows, screen_text
from tui.cli import main
from tui.screens.discover import DiscoverScreen
from tui.screens.onboarding import OnboardingScreen
from tui.screens.summary import SummaryScreen
from tui.screens.tour import TourDebriefScreen, TourScreen
from tui.screens.why import WhyScreen
from tui.tour import Tour
from tui.tour_app import TourApp, make_tour_app
from tui.widgets.xray_panel import XRayPanel

WIDE = (170, 50)  # the presenter layout
NARROW = (100, 32)
PACE_S = 1.0
STEP_S = 0.1
TOUR_TIMEOUT_S = 240.0


def tour_app(world: Path, *, autopilot: bool = True) -> TourApp:
    return make_tour_app(
        world, autopilot=autopilot, pace_s=PACE_S, live=False, world_clock=VirtualClock(0.0)
    )


def tour_of(app: TourApp) -> Tour:
    assert app.tour is not None
    return app.tour


async def until_shown(app: TourApp, pilot: Pilot[None], *, limit_s: float = 120.0) -> str:
    """Let the tour run until the current chapter's evidence is on screen; returns it."""
    await pilot.pause()
    tour = tour_of(app)
    assert tour.started
    chapter = tour.index
    for step in range(int(limit_s / STEP_S)):
        tour.advance(STEP_S)
        if step % 5 == 0:
            await pilot.pause()
        shown = tour.log[chapter].shown
        if shown is not None:
            await pilot.pause()
            return shown
    raise AssertionError(f"chapter {chapter + 1}'s evidence did not come in {limit_s:.0f} s")


async def start_at(app: TourApp, pilot: Pilot[None], chapter: int) -> Tour:
    await pilot.pause()
    tour = tour_of(app)
    tour.begin(chapter)
    await pilot.pause()
    return tour


def on_screen(app: TourApp) -> str:
    return screen_text(app)


async def test_1_onboarding_interests_pick_the_first_videos(world_path: Path) -> None:
    app = tour_app(world_path)
    async with app.run_test(size=WIDE) as pilot:
        shown = await until_shown(app, pilot)
        assert "picks from your interests" in shown
        first = tour_of(app).session.history[:3]
        assert any("interest" in rec.receipt.sources for rec in first)
        text = on_screen(app)
        assert "from your interests" in text  # the video's own source line
        assert "✓ The interests chosen at sign-up pick the first videos" in text


async def test_2_finishing_and_liking_turns_the_feed(world_path: Path) -> None:
    app = tour_app(world_path)
    async with app.run_test(size=WIDE) as pilot:
        tour = await start_at(app, pilot, 1)
        shown = await until_shown(app, pilot)
        assert "Cooking and Pets" in shown
        recent = tour.session.history[: tour.session.index + 1][-10:]
        assert sum(rec.video.topic in ("cooking", "pets") for rec in recent) >= 6
        assert int(str(app.screen.query_one(Digits).value)) >= 6  # the large numerals
        text = on_screen(app)
        assert "of the last 10: Cooking and Pets" in text
        assert "YOUR PROFILE" in text and "X-RAY" in text  # side by side, no toggling


async def test_3_not_interested_keeps_the_topic_out_of_the_next_20(world_path: Path) -> None:
    app = tour_app(world_path)
    async with app.run_test(size=WIDE) as pilot:
        tour = await start_at(app, pilot, 2)
        shown = await until_shown(app, pilot)
        muted = tour.notes.muted
        assert muted is not None and "0 of the next 20" in shown
        assert "0 of the next 20 videos after 'not interested'" in on_screen(app)
        # The database agrees: the topic was marked, and nothing of it was served after.
        (mark,) = rows(
            world_path,
            "SELECT e.user_id, e.impression_id, t.slug FROM events e "
            "JOIN videos v ON v.id = e.video_id JOIN topics t ON t.id = v.topic_id "
            "WHERE e.kind = 'not_interested' AND e.scope = 'topic'",
        )
        assert mark["slug"] == muted
        served_after = rows(
            world_path,
            "SELECT t.slug FROM impressions i JOIN videos v ON v.id = i.video_id "
            "JOIN topics t ON t.id = v.topic_id WHERE i.user_id = ? AND i.id > ? ORDER BY i.id",
            (mark["user_id"], mark["impression_id"]),
        )
        assert len(served_after) >= 20
        assert muted not in [row["slug"] for row in served_after[:20]]


async def test_4_a_new_creators_upload_climbs_a_test_pool(world_path: Path) -> None:
    app = tour_app(world_path)
    async with app.run_test(size=WIDE) as pilot:
        tour = await start_at(app, pilot, 3)
        shown = await until_shown(app, pilot)
        followed = tour.notes.followed
        assert followed is not None and "climbed to pool 1" in shown
        status = app.engine.pool_status(followed)
        assert status.stage >= 1
        creator = app.engine.video(followed).creator_id
        assert app.engine.catalog.world.creators.is_new[creator]
        text = on_screen(app)
        assert "new creator" in text and "✓ climbed" in text  # reach per stage
        assert tour.crowd is not None and tour.crowd.picks > 0


async def test_5_an_exploration_pick_is_marked_and_the_xray_says_so(world_path: Path) -> None:
    app = tour_app(world_path)
    async with app.run_test(size=WIDE) as pilot:
        tour = await start_at(app, pilot, 4)
        shown = await until_shown(app, pilot)
        current = tour.session.current
        assert current is not None and "explore" in current.receipt.sources
        assert "something new for you" in shown
        xray = str(app.screen.query_one(XRayPanel).query_one("#funnel").render())
        explore_row = next(line for line in xray.splitlines() if line.strip().startswith("explore"))
        assert explore_row.endswith("◀")


async def test_6_trends_rise_in_discover(world_path: Path) -> None:
    app = tour_app(world_path)
    async with app.run_test(size=WIDE) as pilot:
        await start_at(app, pilot, 5)
        shown = await until_shown(app, pilot)
        assert shown.startswith("rising in Discover")
        assert isinstance(app.screen, DiscoverScreen)  # opened where the claim says
        assert "DISCOVER" in on_screen(app)


async def test_7_an_operator_boost_arrives_and_is_disclosed(world_path: Path) -> None:
    app = tour_app(world_path)
    async with app.run_test(size=WIDE) as pilot:
        tour = await start_at(app, pilot, 6)
        shown = await until_shown(app, pilot)
        assert re.search(r"BOOSTED ×\d+ by foryou tour", shown)
        assert isinstance(app.screen, WhyScreen)
        assert re.search(r"BOOSTED ×\d+ by foryou tour", on_screen(app))
        boosts = rows(world_path, "SELECT video_id, created_by FROM boosts")
        assert {"video_id": tour.notes.boosted, "created_by": "foryou tour"} in boosts
        caption = tour.chapter.caption
        assert "TikTok's own boosts ('heating') are not disclosed" in caption


async def test_8_the_end_shows_the_trajectory_then_the_summary(world_path: Path) -> None:
    app = tour_app(world_path)
    async with app.run_test(size=WIDE) as pilot:
        tour = await start_at(app, pilot, 1)
        await until_shown(app, pilot)  # some learning first
        tour.begin(7)
        shown = await until_shown(app, pilot)
        assert "trajectories" in shown
        assert isinstance(app.screen, TourDebriefScreen)
        text = on_screen(app)
        assert "Your interest trajectory" in text and "Where your videos came from" in text
        await until_finished(app, pilot)
        assert isinstance(app.screen, SummaryScreen)  # hands off, the tour ends on the summary


async def until_finished(app: TourApp, pilot: Pilot[None]) -> None:
    tour = tour_of(app)
    for _ in range(200):
        tour.advance(STEP_S)
        await pilot.pause()
        if tour.finished:
            return
    raise AssertionError("the tour did not end")


async def test_arrows_move_between_chapters_and_q_ends_with_the_summary(
    world_path: Path,
) -> None:
    app = tour_app(world_path)
    async with app.run_test(size=NARROW) as pilot:
        await pilot.pause()
        tour = tour_of(app)
        await pilot.press("right", "right")
        assert tour.index == 2
        assert "Chapter 3 · 'Not interested'" in on_screen(app)
        await pilot.press("left")
        assert tour.index == 1
        await pilot.press("q")
        assert isinstance(app.screen, SummaryScreen)
        assert tour.finished


async def test_narrow_terminals_keep_the_normal_layout_with_the_caption(world_path: Path) -> None:
    app = tour_app(world_path)
    async with app.run_test(size=NARROW) as pilot:
        tour = await start_at(app, pilot, 1)
        await until_shown(app, pilot)
        screen = app.screen
        assert isinstance(screen, TourScreen) and not screen.presenter
        assert not screen.query_one("#profile-panel").display  # toggled with i, as in the feed
        assert not screen.query_one("#caption-counter").display  # no large numerals
        assert f"of the last 10: {tour.loved_names()}" in on_screen(app)  # the count, in words


async def test_on_autopilot_a_persons_reaction_key_is_not_recorded(world_path: Path) -> None:
    app = tour_app(world_path)
    async with app.run_test(size=NARROW) as pilot:
        await pilot.pause()
        await pilot.press("s")  # share, as a person: never as the simulated viewer
        await pilot.pause()
    with sqlite3.connect(world_path) as conn:
        assert conn.execute("SELECT count(*) FROM events WHERE kind = 'share'").fetchone() == (0,)


async def test_me_signs_the_presenter_up_and_waits_for_their_keys(world_path: Path) -> None:
    app = tour_app(world_path, autopilot=False)
    async with app.run_test(size=NARROW) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, OnboardingScreen)
        assert app.tour is None  # the tour begins with the presenter's feed
        app.screen.query_one(SelectionList).select("cooking")
        await pilot.click("#start")
        await pilot.pause()
        tour = tour_of(app)
        assert tour.pilot is None and "You: just" in on_screen(app)
        for _ in range(3):  # the presenter's own keys move the feed
            await pilot.press("j")
            await pilot.pause()
        shown = await until_shown(app, pilot, limit_s=2.0)
        assert "picks from your interests (Cooking)" in shown
        await pilot.press("right")
        assert "You: finish and like two topics" in " ".join(on_screen(app).split())


def test_cli_refuses_a_bad_pace_and_a_missing_world(tmp_path: Path) -> None:
    runner = CliRunner()
    missing = runner.invoke(main, ["tour", "--db", str(tmp_path / "none.db")])
    assert missing.exit_code != 0 and missing.output.startswith("Error: ")
    fast = runner.invoke(main, ["tour", "--db", str(tmp_path / "none.db"), "--pace", "0"])
    assert fast.exit_code != 0 and "--pace" in fast.output
    assert not (tmp_path / "none.db").exists()


@pytest.mark.parametrize("flag", ["--autopilot", "--me"])
def test_cli_opens_the_tour(world_path: Path, monkeypatch: pytest.MonkeyPatch, flag: str) -> None:
    opened: list[TourApp] = []
    monkeypatch.setattr("tui.cli_tour.require_terminal", lambda release: None)
    monkeypatch.setattr(TourApp, "run", lambda self: opened.append(self))
    result = CliRunner().invoke(main, ["tour", "--db", str(world_path), "--pace", "3", flag])
    assert result.exit_code == 0, result.output
    (app,) = opened
    assert app.pace_s == 3.0
    assert (app.loved is not None) == (flag == "--autopilot")
    app.engine.close()


@pytest.mark.tmux
@pytest.mark.slow
@pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")
def test_the_whole_tour_hands_off_in_a_real_terminal(tmp_path: Path) -> None:
    """`foryou tour` on autopilot from the first chapter to the summary, in tmux, on the default
    world built now (its uploads fresh, its trends current, as `make run` builds it)."""
    world = tmp_path / "world.db"
    build_world(world, videos=20_000, seed=42)
    command = f"cd {Path(__file__).parents[1]} && {foryou_command()} tour --db {world} --pace 0.5"
    term = Terminal(command, width=170, height=50)
    try:
        deadline = time.monotonic() + TOUR_TIMEOUT_S
        while "SESSION SUMMARY" not in term.text():
            assert time.monotonic() < deadline, f"the tour did not end:\n{term.text()}"
            time.sleep(0.5)
        term.keys("q")
        report = term.wait_for("EXIT=0")
    finally:
        term.close()
    chapters = [line for line in report.splitlines() if line[:2] in {f"{n} " for n in range(1, 9)}]
    assert len(chapters) == 8, report
    assert not any("evidence not reached" in line for line in chapters), report
    assert "the whole tour" in report
    with sqlite3.connect(world) as conn:
        boosted = conn.execute("SELECT count(*) FROM boosts WHERE created_by = 'foryou tour'")
        assert boosted.fetchone()[0] >= 1
