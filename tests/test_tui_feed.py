"""The feed screen driven key by key: what each key writes to the database and what it shows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual import events as events_module
from textual.color import Color

from engine import Engine, VirtualClock
from tests.tuikit import events_in_the_file_alone, rows, screen_text, style_of
from tui.app import FeedApp, make_app
from tui.screens.feed import CHECKPOINT_AFTER_S, FeedScreen
from tui.screens.prompts import ChoicePrompt, TextPrompt
from tui.screens.summary import SummaryScreen
from tui.widgets.action_rail import ActionRail, short_count
from tui.widgets.heart_burst import HeartBurst
from tui.widgets.video_canvas import VideoCanvas

SIZE = (100, 32)


@pytest.fixture
def world(world_path: Path) -> Path:
    """The test world with one viewer, "ana", who chose cooking and pets."""
    with Engine.open(world_path, clock=VirtualClock(0.0)) as eng:
        eng.new_user(["cooking", "pets"], name="ana")
    return world_path


def app_for(world: Path) -> FeedApp:
    return make_app(world, "ana", live=False, world_clock=VirtualClock(0.0))


def events(world: Path) -> list[dict[str, Any]]:
    return rows(
        world, "SELECT kind, video_id, watched_s, scope, reason, text FROM events ORDER BY id"
    )


def feed(app: FeedApp) -> FeedScreen:
    assert isinstance(app.screen, FeedScreen)
    return app.screen


def on_screen(app: FeedApp) -> int:
    video = feed(app).session.video
    assert video is not None
    return video.id


async def test_first_video_is_served_painted_and_seen(world: Path) -> None:
    app = app_for(world)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause()
        video = feed(app).session.video
        assert video is not None
        assert video.caption.split()[0] in screen_text(app)
        assert f"@{video.creator_handle}" in screen_text(app)
        assert app.screen.query_one(VideoCanvas).visual is not None
        impressions = rows(world, "SELECT video_id, seen_start FROM impressions")
        assert impressions == [{"video_id": video.id, "seen_start": impressions[0]["seen_start"]}]
        assert impressions[0]["seen_start"] is not None


@pytest.mark.parametrize("key", ["j", "down", "space"])
async def test_next_skips_with_the_watched_seconds(world: Path, key: str) -> None:
    app = app_for(world)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        first = on_screen(app)
        feed(app).play(2.5)
        await pilot.press(key)
        second = on_screen(app)
        assert second != first
        assert events(world)[-1] | {"scope": None} == {
            "kind": "skip",
            "video_id": first,
            "watched_s": 2.5,
            "scope": None,
            "reason": None,
            "text": None,
        }
        assert "#2 in your feed" in screen_text(app)


async def test_reaching_the_end_completes_and_staying_rewatches(world: Path) -> None:
    app = app_for(world)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        video = feed(app).session.video
        assert video is not None
        feed(app).play(video.duration_s + 0.5)
        assert [(e["kind"], e["watched_s"]) for e in events(world)] == [
            ("complete", video.duration_s)
        ]
        feed(app).play(video.duration_s)  # a full second loop while staying
        assert [e["kind"] for e in events(world)] == ["complete", "rewatch"]
        await pilot.press("j")  # leaving after a completion adds no skip
        assert [e["kind"] for e in events(world)] == ["complete", "rewatch"]
        assert on_screen(app) != video.id


async def test_previous_goes_back_and_the_revisit_is_its_own_viewing(world: Path) -> None:
    app = app_for(world)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        first = on_screen(app)
        await pilot.press("k")
        assert on_screen(app) == first  # nothing before the first video
        await pilot.press("j")
        second = on_screen(app)
        feed(app).play(1.0)
        await pilot.press("up")
        assert on_screen(app) == first
        feed(app).play(3.0)
        await pilot.press("j")
        assert on_screen(app) == second  # forward again returns to the same video
        assert [(e["kind"], e["video_id"], e["watched_s"]) for e in events(world)] == [
            ("skip", first, 0.0),
            ("skip", second, 1.0),
            ("skip", first, 3.0),
        ]
        viewings = rows(world, "SELECT video_id, source, watched_s FROM impressions ORDER BY id")
        assert [(v["video_id"], v["watched_s"]) for v in viewings] == [
            (first, 0.0),
            (second, 1.0),
            (first, 3.0),  # going back and forward again: each a viewing of its own
            (second, None),  # on screen now
        ]
        assert [v["source"] for v in viewings][2:] == ["revisit", "revisit"]


async def test_going_back_keeps_the_first_viewing_as_it_was(world: Path) -> None:
    app = app_for(world)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        first = on_screen(app)
        feed(app).play(2.0)
        await pilot.press("l", "j")
        feed(app).play(1.5)
        await pilot.press("k")
        feed(app).play(4.0)
        await pilot.press("l")  # unlike, on the revisit
        await pilot.press("q")
        imps = rows(
            world,
            "SELECT id, video_id, watched_s, seen_start, seen_end, source, propensity "
            "FROM impressions WHERE video_id = ? ORDER BY id",
            (first,),
        )
        assert len(imps) == 2
        original, revisit = imps
        assert original["watched_s"] == 2.0 and original["propensity"] > 0
        assert revisit["watched_s"] == 4.0 and revisit["propensity"] is None
        assert revisit["source"] == "revisit" and revisit["seen_start"] is not None
        assert original["seen_end"] <= revisit["seen_start"] <= revisit["seen_end"]
        by_impression = rows(
            world, "SELECT kind, impression_id FROM events WHERE video_id = ? ORDER BY id", (first,)
        )
        assert by_impression == [
            {"kind": "like", "impression_id": original["id"]},
            {"kind": "skip", "impression_id": original["id"]},
            {"kind": "unlike", "impression_id": revisit["id"]},
            {"kind": "skip", "impression_id": revisit["id"]},
        ]


async def test_pause_stops_the_clock(world: Path) -> None:
    app = app_for(world)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        feed(app).play(1.0)
        await pilot.press("p")
        feed(app).play(5.0)
        assert feed(app).session.playback.position_s == pytest.approx(1.0)
        assert "⏸ 0:01" in screen_text(app)
        await pilot.press("p")
        feed(app).play(1.0)
        assert feed(app).session.playback.position_s == pytest.approx(2.0)


async def test_speed_plays_faster_and_completes_sooner(world: Path) -> None:
    app = app_for(world)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        video = feed(app).session.video
        assert video is not None
        await pilot.press("v", "v")  # 1× → 2× → 4×
        assert "4×" in screen_text(app)
        feed(app).play(video.duration_s / 4 + 0.1)
        assert [e["kind"] for e in events(world)] == ["complete"]


async def test_like_toggles_shows_a_heart_and_counts(
    world: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("tui.widgets.heart_burst.SHOW_S", 60.0)  # no race with a slow machine
    app = app_for(world)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        video = feed(app).session.video
        assert video is not None
        await pilot.press("l")
        assert app.screen.query_one(HeartBurst).has_class("-shown")
        rail = app.screen.query_one(ActionRail).state
        assert rail is not None
        assert rail.liked
        assert rail.video.likes == video.likes + 1
        await pilot.press("l")
        assert [e["kind"] for e in events(world)] == ["like", "unlike"]
        assert all(e["video_id"] == video.id for e in events(world))


async def test_likes_and_saves_from_an_earlier_session_show_and_toggle_off(
    world: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = app_for(world)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        earlier = feed(app).session.current
        assert earlier is not None
        await pilot.press("l", "f", "q", "q")
    # A later session meets the video again (the engine may resurface a video; forced here).
    app = app_for(world)
    serve = app.engine.next
    again = iter([earlier])
    monkeypatch.setattr(app.engine, "next", lambda user_id: next(again, None) or serve(user_id))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        assert on_screen(app) == earlier.video.id
        rail = app.screen.query_one(ActionRail).state
        assert rail is not None
        assert (rail.liked, rail.saved) == (True, True)
        await pilot.press("l", "f")
        rail = app.screen.query_one(ActionRail).state
        assert rail is not None
        assert (rail.liked, rail.saved) == (False, False)
        assert not [n for n in app._notifications if n.severity == "warning"]
    assert [(e["kind"], e["video_id"]) for e in events(world)] == [
        ("like", earlier.video.id),
        ("save", earlier.video.id),
        ("skip", earlier.video.id),
        ("unlike", earlier.video.id),
        ("unsave", earlier.video.id),
        ("skip", earlier.video.id),
    ]


async def test_share_save_and_follow(world: Path) -> None:
    app = app_for(world)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        video = feed(app).session.video
        assert video is not None
        await pilot.press("s", "f", "F")
        await pilot.pause()
        assert "✓ following" in screen_text(app)
        assert f"Following @{video.creator_handle}" in screen_text(app)  # the toast
        await pilot.press("f", "F")
        assert "+ follow (F)" in screen_text(app)
        assert [e["kind"] for e in events(world)] == [
            "share",
            "save",
            "follow",
            "unsave",
            "unfollow",
        ]
        rail = app.screen.query_one(ActionRail).state
        assert rail is not None
        assert rail.video.shares == video.shares + 1


async def test_comment_is_a_one_line_input(world: Path) -> None:
    app = app_for(world)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        video = feed(app).session.video
        assert video is not None
        await pilot.press("c")
        assert isinstance(app.screen, TextPrompt)
        await pilot.press(*"so good", "enter")
        assert isinstance(app.screen, FeedScreen)
        assert events(world) == [
            {
                "kind": "comment",
                "video_id": video.id,
                "watched_s": None,
                "scope": None,
                "reason": None,
                "text": "so good",
            }
        ]
        await pilot.press("c", "escape")  # cancelled: nothing written
        assert len(events(world)) == 1


@pytest.mark.parametrize(("choice", "scope"), [("1", "video"), ("2", "creator"), ("4", "topic")])
async def test_not_interested_asks_the_scope_then_moves_on(
    world: Path, choice: str, scope: str
) -> None:
    app = app_for(world)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        first = on_screen(app)
        video = feed(app).session.video
        assert video is not None
        feed(app).play(1.5)
        await pilot.press("n")
        assert isinstance(app.screen, ChoicePrompt)
        await pilot.press(choice)
        what = {"video": "this video", "creator": f"@{video.creator_handle}"}
        toasts = " ".join(n.message for n in app._notifications)
        assert f"you will see less of {what.get(scope, video.topic_name)}" in toasts
        assert [(e["kind"], e["video_id"], e["scope"]) for e in events(world)] == [
            ("not_interested", first, scope),
            ("skip", first, None),
        ]
        assert events(world)[-1]["watched_s"] == 1.5
        assert on_screen(app) != first


async def test_not_interested_in_the_sound_with_arrows_and_enter(world: Path) -> None:
    app = app_for(world)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("n", "down", "down", "enter")
        assert events(world)[0]["scope"] == "sound"


async def test_hide_creator_moves_on_and_the_creator_never_returns(world: Path) -> None:
    app = app_for(world)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        hidden = feed(app).session.video
        assert hidden is not None
        await pilot.press("h")
        assert [e["kind"] for e in events(world)] == ["hide_creator", "skip"]
        for _ in range(15):
            video = feed(app).session.video
            assert video is not None
            assert video.creator_id != hidden.creator_id
            await pilot.press("j")


async def test_report_asks_a_reason(world: Path) -> None:
    app = app_for(world)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        first = on_screen(app)
        await pilot.press("r", "1")
        assert [(e["kind"], e["reason"]) for e in events(world)] == [
            ("report", "spam"),
            ("skip", None),
        ]
        await pilot.press("r", "escape")
        assert len(events(world)) == 2
        assert on_screen(app) != first


async def test_a_refused_reaction_is_a_toast_not_a_crash(world: Path) -> None:
    app = app_for(world)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        session = feed(app).session
        session.liked.clear()
        await pilot.press("l")
        session.liked.clear()  # the screen believes it is not liked: the engine says otherwise
        await pilot.press("l")
        assert [e["kind"] for e in events(world)] == ["like"]
        await pilot.pause()
        assert "already done" in screen_text(app)
        assert isinstance(app.screen, FeedScreen)


async def test_mouse_clicks_on_the_rail_react_like_keys(world: Path) -> None:
    app = app_for(world)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        rail = app.screen.query_one(ActionRail)
        await pilot.click(rail, offset=(2, 0))  # ♥
        await pilot.click(rail, offset=(2, 3))  # ★
        assert [e["kind"] for e in events(world)] == ["like", "save"]
        await pilot.click(VideoCanvas)
        assert feed(app).session.playback.paused


async def test_liked_saved_and_followed_show_their_colour_and_stay_clickable(
    world: Path,
) -> None:
    app = app_for(world)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        rail = app.screen.query_one(ActionRail)

        def entry_colour(text: str) -> Color | None:
            colour = style_of(app, text).color
            return Color.from_rich_color(colour) if colour else None

        def counts() -> tuple[str, str]:
            assert rail.state is not None
            video = rail.state.video
            return f"♥ {short_count(video.likes)}", f"★ {short_count(video.saves)}"

        theme = app.theme_variables
        plain = entry_colour(counts()[0])
        await pilot.click(rail, offset=(2, 0))  # ♥
        await pilot.click(rail, offset=(2, 3))  # ★
        await pilot.click(rail, offset=(2, 5))  # + follow
        await pilot.pause()
        heart, star = counts()
        assert entry_colour(heart) == Color.parse(theme["error"]) != plain
        assert entry_colour(star) == Color.parse(theme["warning"])
        assert entry_colour("✓ follow") == Color.parse(theme["success"])
        assert style_of(app, heart).underline  # still drawn as a link
        assert [e["kind"] for e in events(world)] == ["like", "save", "follow"]
        await pilot.click(rail, offset=(2, 0))  # unlike: back to the plain colour
        await pilot.pause()
        assert entry_colour(counts()[0]) == plain


@pytest.mark.parametrize("width", [120, 100])
async def test_the_footer_shows_every_key_but_v(world: Path, width: int) -> None:
    app = app_for(world)
    async with app.run_test(size=(width, 32)) as pilot:
        await pilot.pause()
        footer = screen_text(app).splitlines()[-1]
        assert footer.rstrip().endswith(" l c s f F n h r react"), footer  # words on the rail
        for entry in ("j next", "k prev", "p pause", "w why", "i profile", "x xray"):
            assert entry in footer
        for entry in ("d trends", ", settings", "? help", "q quit"):
            assert entry in footer


async def test_the_mouse_wheel_over_the_video_scrolls_the_feed(world: Path) -> None:
    app = app_for(world)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        first = on_screen(app)
        canvas = app.screen.query_one(VideoCanvas)
        x, y = canvas.region.center
        for event in (events_module.MouseScrollDown, events_module.MouseScrollUp):
            canvas.post_message(event(canvas, 1, 1, 0, 1, 0, False, False, False, x, y))
            await pilot.pause()
            assert (on_screen(app) != first) == (event is events_module.MouseScrollDown)


async def test_quit_closes_the_impression_and_shows_the_summary(world: Path) -> None:
    app = app_for(world)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        first = on_screen(app)
        feed(app).play(4.0)
        await pilot.press("l", "q")
        assert isinstance(app.screen, SummaryScreen)
        assert [(e["kind"], e["video_id"], e["watched_s"]) for e in events(world)] == [
            ("like", first, None),
            ("skip", first, 4.0),
        ]
        text = screen_text(app)
        assert "1 video watched" in text
        into = next(line for line in text.splitlines() if "You are into" in line)
        assert "(topic affinity): " in into  # her two sign-up topics first, in either order
        firsts = into.split("(topic affinity): ")[1].split(", ")[:2]
        assert sorted(name.split(" ")[0] for name in firsts) == ["Cooking", "Pets"]
        snapshots = rows(world, "SELECT user_id FROM profile_snapshots")
        assert len(snapshots) >= 1
        await pilot.press("q")
    assert app.return_code == 0


@pytest.mark.parametrize("panel", [None, "w", "question_mark"])
async def test_ctrl_q_quits_like_q_with_the_summary(world: Path, panel: str | None) -> None:
    """Textual's own ctrl+q left at once; in the feed it closes the video and shows the summary
    (from a screen over the feed too), and from the summary it leaves."""
    app = app_for(world)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        first = on_screen(app)
        feed(app).play(2.5)
        if panel:
            await pilot.press(panel)
        await pilot.press("ctrl+q")
        assert isinstance(app.screen, SummaryScreen)
        assert [(e["kind"], e["video_id"], e["watched_s"]) for e in events(world)] == [
            ("skip", first, 2.5)
        ]
        await pilot.press("ctrl+q")
    assert app.return_code == 0
    assert len(rows(world, "SELECT id FROM profile_snapshots")) == 1  # the session closed once


async def test_ctrl_c_exits_at_once_closing_the_impression(world: Path) -> None:
    app = app_for(world)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        first = on_screen(app)
        feed(app).play(3.25)
        await pilot.press("c")  # even from inside the comment box
        await pilot.press("ctrl+c")
    assert events(world) == [
        {
            "kind": "skip",
            "video_id": first,
            "watched_s": 3.25,
            "scope": None,
            "reason": None,
            "text": None,
        }
    ]
    ended = rows(world, "SELECT ended_at FROM sessions")
    assert ended[0]["ended_at"] is not None


async def test_the_feed_learns_from_what_is_watched(world: Path) -> None:
    """Completing one topic and skipping the rest early moves the profile panel's bars."""
    app = app_for(world)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("i")
        session = feed(app).session
        before = dict(session.profile().short_term_topics)
        target = None
        for _ in range(12):
            video = session.video
            assert video is not None
            target = target or video.topic
            if video.topic == target:
                feed(app).play(video.duration_s)
                await pilot.press("l")
            await pilot.press("j")
        after = dict(session.profile().short_term_topics)
        assert after.get(target, 0.0) > before.get(target, 0.0)
        assert session.labels[target] in screen_text(app)


@pytest.mark.slow
@pytest.mark.parametrize("panel", ["w", "d", ",", "n", "r"])
async def test_quit_works_from_every_panel(world: Path, panel: str) -> None:
    """q anywhere: a screen over the feed (why, discover, settings, a prompt) does not
    swallow it; the panel closes as if cancelled and nothing but the skip is recorded."""
    app = app_for(world)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        first = on_screen(app)
        feed(app).play(2.0)
        await pilot.press(panel)
        assert not isinstance(app.screen, FeedScreen)
        await pilot.press("q")
        assert isinstance(app.screen, SummaryScreen)
        assert [(e["kind"], e["video_id"]) for e in events(world)] == [("skip", first)]


async def test_a_write_the_file_refuses_ends_the_feed_with_one_line_and_keeps_the_rest(
    world: Path,
) -> None:
    """A full disk at a like: exit code 1 and one line naming the file (no traceback), and
    the events before it stay in the file while the refused like is not there."""
    import sqlite3

    from tui.write_failure import WriteRefusedError

    app = app_for(world)
    shown: list[int] = []

    async def skip_then_like_on_a_full_disk() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            shown.append(on_screen(app))
            await pilot.press("j")  # a skip of the first video, then the second one
            await pilot.pause()

            def full_disk(*args: object, **kwargs: object) -> int:
                raise sqlite3.OperationalError("database or disk is full")

            app.engine.store.add_event = full_disk  # type: ignore[method-assign]
            await pilot.press("l")
            await pilot.pause()

    with pytest.raises(WriteRefusedError, match=r"world\.db refused a write .*disk is full"):
        await skip_then_like_on_a_full_disk()
    assert app.return_code == 1
    assert [(e["kind"], e["video_id"]) for e in events(world)] == [("skip", shown[0])]
    rendered = WriteRefusedError(world, sqlite3.OperationalError("disk is full")).__rich__()
    assert "\n" not in rendered.plain and rendered.plain.startswith("Error: world.db")


class SteppedClock:
    """Monotonic seconds that move only when the test says."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_watched_seconds_start_when_the_video_is_on_screen(world: Path) -> None:
    """The time the pick and the paint take is not watching: a viewing on screen 2 s is
    recorded as 2 s, as its seen_start and seen_end say (it once counted from served_at)."""
    clock = SteppedClock()
    app = make_app(world, "ana", live=True, clock=clock, world_clock=VirtualClock(0.0))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause(0.2)
        screen = feed(app)
        serve = screen.session.forward

        def slow_pick() -> object:
            clock.now += 0.4  # the pick, before anything is painted
            return serve()

        screen.session.forward = slow_pick  # type: ignore[method-assign]
        await pilot.press("j")
        await pilot.pause(0.2)  # painted, and a few ticks with no time passing
        second = on_screen(app)
        for _ in range(20):  # 2 s on screen, in steps a late tick still sees whole
            clock.now += 0.1
            await pilot.pause(0.12)
        await pilot.press("j")
    skip = [e for e in events(world) if e["video_id"] == second and e["kind"] == "skip"]
    assert [e["watched_s"] for e in skip] == [2.0]


async def test_a_video_on_screen_copies_the_log_into_the_file(world: Path, tmp_path: Path) -> None:
    """While a video plays, the write-ahead log goes into the file, so no pick pays for it."""
    app = app_for(world)
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(3):
            await pilot.press("j")
        assert events_in_the_file_alone(world, tmp_path) == 0
        await pilot.pause(CHECKPOINT_AFTER_S + 0.5)
        assert events_in_the_file_alone(world, tmp_path) == 3
