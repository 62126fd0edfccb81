"""Panels and screens over the feed: profile, x-ray, why this video, discover, settings, help."""

from __future__ import annotations

import dataclasses
import json
import math
import re
import sqlite3
from pathlib import Path
from typing import Any

import msgspec
import pytest
from textual.color import Color
from textual.widgets import (
    Button,
    Checkbox,
    HelpPanel,
    Input,
    RadioButton,
    RadioSet,
    SelectionList,
)

from engine import Engine, Receipt, VirtualClock
from engine.receipt import Funnel
from tests.tuikit import screen_text
from tui.app import FeedApp, make_app
from tui.screens.discover import DiscoverScreen
from tui.screens.feed import FeedScreen
from tui.screens.help import HelpScreen
from tui.screens.onboarding import OnboardingScreen
from tui.screens.settings import SettingsScreen
from tui.screens.summary import SummaryScreen, trail_text, value_text
from tui.screens.why import WhyScreen, adjustment_steps
from tui.session import interest_trails
from tui.widgets.profile_panel import LANGUAGE_NAMES, ProfilePanel, affinity_rows
from tui.widgets.topic_slider import TopicSlider
from tui.widgets.xray_panel import XRayPanel, funnel_content

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
        assert "Watch similarity, long-term" in screen_text(app)
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


async def test_profile_panel_shows_the_languages_you_follow_and_how_they_move(
    world: Path,
) -> None:
    """ana's account is in English; a video in another language watched to the end raises the
    chance she follows that language, and its bar shows it."""
    app = app_for(world)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("i")
        bars = app.screen.query_one(ProfilePanel).query_one("#languages")
        assert "Languages you follow" in screen_text(app)
        assert dict(bars.rows)["English"] == pytest.approx(1.0)  # type: ignore[attr-defined]
        for _ in range(40):
            video = feed(app).session.video
            assert video is not None
            if video.language != "en":
                break
            await pilot.press("j")
        assert video.language != "en"
        name = LANGUAGE_NAMES.get(video.language, video.language)
        feed(app).play(video.duration_s)
        await pilot.press("j")
        await pilot.pause()
        assert dict(bars.rows)[name] > 0.1  # type: ignore[attr-defined]


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
            held = sum(receipt.funnel.diversity_blocked.values())
            assert re.search(rf"in the running +{receipt.funnel.kept - held}\b", text)
            assert f"Picked #{receipt.rank + 1}: score {receipt.score:.2f}" in text
            await pilot.press("j")


async def test_xray_names_what_each_finalist_is(world: Path) -> None:
    """Each of the top-scored rows says its topic, creator and the start of its caption."""
    app = app_for(world)
    async with app.run_test(size=(150, 64)) as pilot:  # tall enough for all 8
        await pilot.press("x")
        receipt = feed(app).session.current.receipt  # type: ignore[union-attr]
        text = screen_text(app).split("Top scored", 1)[1]
        with Engine.open(world, clock=VirtualClock(0.0)) as eng:
            finalists = [eng.video(row["video_id"]) for row in receipt.slate]
        assert len(finalists) == 8
        for video in finalists:
            assert f"{video.topic_name} · @{video.creator_handle}"[:20] in text
            assert " ".join(video.caption.split())[:20] in text


def section(text: str, start: str, end: str) -> str:
    """The lines of the screen from the one holding `start` to the one holding `end`."""
    lines = text.splitlines()
    first = next(i for i, line in enumerate(lines) if start in line)
    last = next(i for i, line in enumerate(lines) if i > first and end in line)
    return "\n".join(lines[first : last + 1])


def counts_in(text: str) -> list[int]:
    """The counts at the ends of the x-ray's rows (the panel is the rightmost column)."""
    return [int(n) for n in re.findall(r" (-?\d+) *$", text, flags=re.M)]


QA_FUNNEL = Funnel(
    proposed={"interest": 200, "trending": 40, "fresh": 18},
    merged=258,
    removed={"not yet published": 16, "already seen": 0, "spam": 2, "sensitive": 5},
    kept=235,
    diversity_blocked={"same creator or sound as the last video": 7, "topic cap": 3},
    slate=21,
)


async def test_xray_sections_each_add_up(world: Path) -> None:
    """The re-rank's holds come after "kept", in their own section, with readable labels."""
    app = app_for(world)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("x")
        receipt = feed(app).session.current.receipt  # type: ignore[union-attr]
        app.screen.query_one(XRayPanel).show(msgspec.structs.replace(receipt, funnel=QA_FUNNEL))
        await pilot.pause()
        panel = "\n".join(line.split("▏")[-1] for line in screen_text(app).splitlines())
        filters = section(panel, "distinct", "kept")
        assert counts_in(filters) == [258, -16, -2, -5, 235]  # 258 - 23 = 235
        held = section(panel, "kept", "in the running")
        assert "Re-rank held back" in held
        assert "same creator/sound" in held and "as the last video" in held
        assert "topic seen too often" in held
        assert counts_in(held) == [235, -7, -3, 225]  # 235 - 10 = 225
        assert "Top scored (21 finalists)" in panel.split("in the running", 1)[1]


def test_xray_says_when_the_rerank_relaxed_its_rules() -> None:
    """With every kept candidate held back, the re-rank lets some through and says so."""
    bent = Funnel(
        proposed={"interest": 5},
        merged=5,
        removed={},
        kept=5,
        diversity_blocked={"same creator or sound as the last video": 2, "topic cap": 3},
        slate=3,
    )
    receipt = Receipt(
        video_id=1,
        position=0,
        policy="engine",
        source="interest",
        sources=["interest"],
        funnel=bent,
        features={},
        affinity=0.0,
        terms={},
        base_score=1.0,
        multipliers={},
        author_penalty=1.0,
        score=1.0,
        rank=0,
        propensity=0.5,
        slate=[],
        boost=None,
        context={},
    )
    text = funnel_content(receipt).plain
    assert "relaxed" in text
    assert re.search(r"in the running +3$", text, flags=re.M)  # the topic cap gave way


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


async def test_why_tells_a_negative_score_as_the_engine_scales_it(world: Path) -> None:
    """A negative score is divided by a multiplier, and a boost counts it as at least 0.10."""
    app = app_for(world)
    async with app.run_test(size=(120, 60)) as pilot:
        session = feed(app).session
        receipt = session.current.receipt  # type: ignore[union-attr]
        terms = {**receipt.terms, "report": {"p": 1e-5, "value": -43.2, "contribution": -4e-4}}
        negative = msgspec.structs.replace(
            receipt,
            terms=terms,
            base_score=-1.49,
            multipliers={"topic slider": 3.0, "not interested (fading)": 1.0, "boost": 50.0},
            author_penalty=1.0,
            score=5.0,  # max(-1.49 / 3, 0.10) × 50, as engine/scoring.py computes it
            boost={"weight": 50.0, "reason": "launch week", "by": "ops", "until": 9e9},
        )
        assert session.video is not None
        await app.push_screen(WhyScreen(negative, session.video))
        await pilot.pause()
        adjustments = section(screen_text(app), "Adjustments", "final score")
        told = [" ".join(line.split("│")[-2].split()) for line in adjustments.splitlines()[1:]]
        assert told == [
            "÷ 3 for topic slider (a negative score is divided)",
            "raised to 0.10 before the boost (a boost lifts any video)",
            "× 50 for boost",
            "final score 5.00",
        ]
        report = next(line for line in screen_text(app).splitlines() if "report it" in line)
        assert " ".join(report.split("│")[-2].split()).endswith("× -43.20 = 0.00")  # not -0.00


async def test_why_adjustments_come_to_the_engines_final_score(world: Path) -> None:
    """Told step by step, the adjustments give the score the engine ranked by."""
    with Engine.open(world, clock=VirtualClock(0.0)) as eng:
        eng.set_controls(eng.user_id("ana"), topic_sliders={"cooking": 2.0})
        for video_id in range(0, 3000, 10):
            eng.boost(video_id, weight=3.0, until=9e9, reason="launch week")
    app = app_for(world)
    told: set[str] = set()
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(12):
            receipt = feed(app).session.current.receipt  # type: ignore[union-attr]
            lines, score = adjustment_steps(receipt)
            assert score == pytest.approx(receipt.score, rel=1e-9, abs=1e-12)
            told.update(line.split(" for ")[1] for line in lines if " for " in line)
            await pilot.press("j")
    assert {"topic slider", "boost"} <= told  # both kinds of step were checked


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
            "playback_speed": 4.0,  # kept for the next launch
        }
        assert feed(app).session.speed == 4.0
        for _ in range(8):  # the filters shape the next picks
            await pilot.press("j")
            video = feed(app).session.video
            assert video is not None
            assert "cooking" not in video.caption.lower()


def color_distance(a: Color | None, b: Color | None) -> float:
    """How far apart two cell backgrounds are, in RGB (0 when equal or unset)."""
    if a is None or b is None:
        return 0.0
    return math.dist(a.get_truecolor(), b.get_truecolor())


async def test_settings_tab_stops_are_fields_with_a_clear_focus(world: Path) -> None:
    """Tab goes from field to field (no invisible stop on a scrolling list), and the field
    with the focus looks clearly different from how it looks without it."""
    app = app_for(world)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("comma")
        screen = app.screen
        assert isinstance(screen, SettingsScreen)
        first, stops = app.focused, 0
        while True:
            field = app.focused
            assert isinstance(field, (Checkbox, Input, RadioSet, TopicSlider, Button)), field
            x, y = field.region.right - 1, field.region.y
            focused = screen.get_style_at(x, y).bgcolor
            await pilot.press("tab")
            stops += 1
            if field.region.y == y:  # still where it was (the slider list may have scrolled)
                unfocused = screen.get_style_at(x, y).bgcolor
                assert color_distance(focused, unfocused) > 60, (field, focused, unfocused)
            if app.focused is first:
                break
            assert stops < 100
        assert stops == len(screen.query(TopicSlider)) + 6  # sensitive, keywords, speed, 3 buttons


async def test_settings_list_topics_in_onboardings_order(world: Path) -> None:
    app = app_for(world)
    async with app.run_test(size=SIZE) as pilot:
        labels = feed(app).session.labels
        await app.push_screen(OnboardingScreen(labels, ["en"], ["US"]))
        options = app.screen.query_one(SelectionList)
        onboarding = [str(options.get_option_at_index(i).prompt) for i in range(len(labels))]
        app.pop_screen()
        await pilot.press("comma")
        sliders = [slider.label for slider in app.screen.query(TopicSlider)]
        assert sliders == onboarding
        assert sliders != list(labels.values())  # the engine's own order is another one


async def test_playback_speed_is_kept_for_the_next_launch(world: Path) -> None:
    app = app_for(world)
    async with app.run_test(size=SIZE) as pilot:
        assert feed(app).session.speed == 1.0
        await pilot.press("v")  # 2×
        await pilot.press("q", "q")
    app = app_for(world)
    async with app.run_test(size=SIZE) as pilot:
        assert feed(app).session.speed == 2.0
        assert feed(app).session.playback.speed == 2.0
        assert "2×" in screen_text(app)  # on the playback line
        await pilot.press("comma")
        assert app.screen.query_one("#speed-2", RadioButton).value  # settings agree
        app.screen.query_one("#speed-4", RadioButton).value = True
        await pilot.press("ctrl+s")
    app = app_for(world)
    async with app.run_test(size=SIZE):
        assert feed(app).session.speed == 4.0


@pytest.mark.slow
async def test_settings_cancel_writes_nothing_and_refresh_forgets(world: Path) -> None:
    app = app_for(world)
    async with app.run_test(size=SIZE) as pilot:
        before = query(world, "SELECT settings FROM users")
        await pilot.press("comma", "escape")
        assert query(world, "SELECT settings FROM users") == before
        await pilot.press("comma")
        await pilot.click("#refresh")
        assert "forget what it learned about me" in screen_text(app)
        await pilot.press("2")  # yes, start over
        assert isinstance(app.screen, FeedScreen)
        assert [e["kind"] for e in query(world, "SELECT kind FROM events")] == ["refresh"]


async def test_settings_refresh_asks_first_and_no_keeps_the_feed(world: Path) -> None:
    app = app_for(world)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("comma")
        await pilot.click("#refresh")
        assert "Refresh your feed?" in screen_text(app)
        await pilot.press("1")  # no, keep it
        assert isinstance(app.screen, SettingsScreen)
        await pilot.click("#refresh")
        await pilot.press("escape")  # escape is a no too
        assert isinstance(app.screen, SettingsScreen)
        assert query(world, "SELECT kind FROM events") == []
        await pilot.press("escape")
        assert isinstance(app.screen, FeedScreen)
        assert query(world, "SELECT kind FROM events") == []


@pytest.mark.slow
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


async def test_help_is_the_feeds_own_and_explains_n_and_r(world: Path) -> None:
    """? lists every key of the feed in its words, with what n 1-4 and r 1-6 choose; not
    Textual's generic panel of `^p`, `^q` and `super+c`."""
    app = app_for(world)
    async with app.run_test(size=(100, 50)) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        text = screen_text(app)
        for key, words in [
            ("j ↓ space", "next video"),
            ("v", "playback speed 1× → 2× → 4×"),
            ("F", "follow the creator"),
            ("h", "hide the creator"),
            ("q ctrl+q", "quit: closes the video, then your session summary"),
            ("ctrl+c", "leave at once"),
        ]:
            assert re.search(rf"{re.escape(key)} +{re.escape(words)}", text), key
        scopes = ["this video", "by its creator", "with its sound", "about its topic"]
        reasons = ["Spam or scam", "Misleading", "Dangerous", "Sensitive", "Hateful", "else"]
        for n, choice in [*enumerate(scopes, 1), *enumerate(reasons, 1)]:
            assert re.search(rf"\b{n}  .*{choice}", text), choice
        assert "^p" not in text and "super+c" not in text and "^q" not in text
        assert not app.screen.query(HelpPanel)
        await pilot.press("question_mark")
        assert isinstance(app.screen, FeedScreen)
        await pilot.press("question_mark", "escape")
        assert isinstance(app.screen, FeedScreen)


async def test_profile_why_and_summary_give_one_topic_affinity(world: Path) -> None:
    """A topic's number is its topic affinity, named so in the profile panel, "why this
    video" and the summary, and the same there (the panel once said Gaming 0.88 where "why"
    said "your taste for Gaming -0.33")."""
    app = app_for(world)
    async with app.run_test(size=(120, 50)) as pilot:
        session = feed(app).session
        await pilot.press("i")
        for step in range(40):  # completes and likes, early skips
            video = session.video
            assert video is not None
            shown = dict(affinity_rows(session.profile().topic_affinity, session.labels))
            if step >= 12 and video.topic_name in shown:  # the panel has a number for it
                break
            if step % 3 == 0:
                feed(app).play(video.duration_s)
                await pilot.press("l")
            await pilot.press("j")
        label, affinity = video.topic_name, session.profile().topic_affinity[video.topic]
        assert abs(affinity) >= 0.005  # a topic the profile has an opinion on
        # The panel's left edge is the first "▏" of a line (a bar may end in one too).
        panel = "\n".join(line.split("▏", 1)[-1] for line in screen_text(app).splitlines())
        told = section(panel, "Topic affinity", "Watch similarity, long-term")
        assert re.search(rf"{re.escape(label)} +\S* +{affinity:.2f}", told), told
        await pilot.press("w")  # nothing happened since the pick: the same number
        assert f"topic affinity {affinity:.2f} ({label})" in screen_text(app)
        await pilot.press("escape", "q")
        after = session.profile().topic_affinity
        into = next(line for line in screen_text(app).splitlines() if "You are into" in line)
        strongest = sorted(after, key=lambda t: -after[t])[0]
        assert f"{session.labels[strongest]} {after[strongest]:.2f}" in into


async def test_not_interested_in_a_topic_is_not_called_an_interest(world: Path) -> None:
    app = app_for(world)
    async with app.run_test(size=(120, 50)) as pilot:
        session = feed(app).session
        for _ in range(20):  # ana signed up for Cooking: find one
            if session.video is not None and session.video.topic == "cooking":
                break
            await pilot.press("j")
        assert session.video is not None and session.video.topic == "cooking"
        assert session.profile().topic_affinity["cooking"] > 0
        await pilot.press("n", "4", "i")  # not interested in the topic, Cooking
        panel = "\n".join(line.split("▏")[-1] for line in screen_text(app).splitlines())
        assert re.search(r"not interested marks: 1 *\n *topics: Cooking", panel), panel
        await pilot.press("q")
        text = screen_text(app)
        into = next(line for line in text.splitlines() if "into" in line)
        assert "Cooking" not in into
        assert "'Not interested' marks: 1 (topics: Cooking)" in text


@pytest.mark.slow
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
        assert "Watch similarity per topic" in text
        long_term, short_term = next(iter(summary.interest_trail.values()))
        assert f"{value_text(long_term[0])} → {value_text(long_term[-1])}" in text
        assert trail_text(long_term) in text
        assert trail_text(short_term) in text
        assert short_term[0] == 0.0 < short_term[-1]  # "right now" starts empty and fills in


async def test_summary_leaves_a_topic_outside_the_top_8_blank_not_zero(world: Path) -> None:
    """A profile snapshot keeps its top 8 topics: a topic missing from one is not known there,
    so it neither starts at 0.00 nor dips to ▁."""
    app = app_for(world)
    async with app.run_test(size=(100, 30)) as pilot:
        session = feed(app).session
        before = session.profile_before
        eight = [(f"topic-{i}", 0.9 - i / 20) for i in range(8)]  # 0.90 down to 0.55
        start = dataclasses.replace(before, long_term_topics=eight, short_term_topics=[])
        dropped = dataclasses.replace(
            before, long_term_topics=[*eight[:7], ("comedy", 0.56)], short_term_topics=eight
        )
        end = dataclasses.replace(
            before,
            long_term_topics=[("comedy", 0.57), *eight[:6], ("topic-7", 0.55)],
            short_term_topics=eight,
        )
        labels = {"comedy": "Comedy", "topic-7": "Seventh"}
        trails = interest_trails([start, dropped, end], labels)
        assert trails["Comedy"] == ([None, 0.56, 0.57], [0.0, None, None])
        assert trails["Seventh"][0] == [0.55, None, 0.55]  # out of the top 8 once: no dip
        summary = dataclasses.replace(
            session.summary(), interest_trail={"Comedy": trails["Comedy"]}
        )
        await app.push_screen(SummaryScreen(summary))
        await pilot.pause()
        row = next(line for line in screen_text(app).splitlines() if "Comedy" in line)
        assert f"{value_text(None)} → 0.57" in row and "0.00 →" not in row
        assert f" {trail_text([None, 0.56, 0.57])} " in row  # a blank, then the known values
        assert trail_text([None, 0.56]) == " ▅"
        assert "not among your top topics then" in screen_text(app)


def test_trail_text_has_a_fixed_scale() -> None:
    assert trail_text([0.0, 0.5, 1.0]) == "▁▅█"
    assert trail_text([0.80, 0.81]) == "▇▇"  # a wobble stays a wobble
    assert trail_text([-1.0, 2.0]) == "▁█"
