"""`foryou study run` driven key by key: consent, questionnaires, onboarding, the feed in the
participant's condition, debrief and completion code, and the rows each step writes."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from textual.command import CommandPalette
from textual.widgets import Static

from engine import VirtualClock
from engine.study import open_bundle
from tests.studykit import STUDY, heatable_videos, make_bundle
from tests.test_tui_tmux import Terminal, foryou_command
from tests.tuikit import rows, screen_text
from tui.cli import main
from tui.screens.help import HelpScreen
from tui.screens.prompts import ChoicePrompt
from tui.screens.settings import SettingsScreen
from tui.screens.study_consent import ConsentScreen
from tui.screens.study_debrief import DebriefScreen
from tui.screens.study_end import CompletionScreen, DeclinedScreen
from tui.screens.study_feed import StudyFeedScreen
from tui.screens.study_questionnaire import QuestionnaireScreen
from tui.screens.why import WhyScreen
from tui.study_app import StudyApp, make_study_app
from tui.widgets.xray_panel import SLATE_ROWS, XRayPanel

SIZE = (80, 24)
# Condition names nobody would write on a screen by chance; the heated one keeps its config
# file (named "heated") and the study its name ("heating-pilot"): none of them may show.
NAMED = STUDY.replace('name = "control"', 'name = "arm-quiet"').replace(
    'name = "heated"\n', 'name = "arm-loud"\n'
)
NEVER_SHOWN = ("arm-quiet", "arm-loud", "heated", "heating-pilot")


@pytest.fixture
def bundle(world_path: Path, tmp_path: Path) -> Path:
    return make_bundle(world_path, tmp_path, NAMED)


def prose(app: StudyApp) -> str:
    """The screen's words as one line: wrapped sentences read whole, box borders left out."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", screen_text(app)).split())


class Run:
    """One participant's app under Pilot, remembering every screen it showed."""

    def __init__(self, app: StudyApp, pilot: Any, clock: VirtualClock) -> None:
        self.app, self.pilot, self.clock = app, pilot, clock
        self.seen: list[str] = []

    async def press(self, *keys: str) -> str:
        for key in keys:
            await self.pilot.press(key)
            await self.pilot.pause()
            self.seen.append(screen_text(self.app))
        return self.seen[-1] if self.seen else screen_text(self.app)

    async def type(self, text: str) -> None:
        await self.press(*(" " if ch == " " else ch for ch in text))

    def feed(self) -> StudyFeedScreen:
        assert isinstance(self.app.screen, StudyFeedScreen)
        return self.app.screen

    async def watch(self, seconds: float, *keys: str) -> None:
        """Let the video on screen play for `seconds` (world time too), press `keys`, move on."""
        self.feed().play(seconds)
        self.clock.advance(seconds)
        await self.press(*keys, "j")


def run_app(bundle: Path, participant: str, clock: VirtualClock) -> StudyApp:
    return make_study_app(bundle, participant, live=False, world_clock=clock)


async def consent_and_pre(run: Run) -> None:
    assert isinstance(run.app.screen, ConsentScreen)
    await run.press("y")
    assert isinstance(run.app.screen, QuestionnaireScreen)
    # Age band: the second option; hours: the third point.
    await run.press("down", "enter", "tab", "right", "right", "enter", "ctrl+s")


async def onboard(run: Run) -> None:
    text = await run.press("space")  # the interests list has the focus: tick ASMR
    assert "Name (optional)" not in text  # a participant is their code, never a name
    await run.press("ctrl+s")


async def to_the_feed(
    app: StudyApp, clock: VirtualClock, then: Callable[[Run], Awaitable[None]] | None = None
) -> None:
    """Run the app through consent, the pre-questionnaire and onboarding, then ``then``."""
    async with app.run_test(size=SIZE) as pilot:
        run = Run(app, pilot, clock)
        await consent_and_pre(run)
        await onboard(run)
        if then is not None:
            await then(run)


async def post_and_debrief(run: Run) -> str:
    assert isinstance(run.app.screen, QuestionnaireScreen)
    assert "The feed is over. Press enter" in run.seen[-1]
    await run.press("enter", *["right"] * 5, "enter", "tab")  # enjoy: 6 of 7
    await run.type("more cats")
    await run.press("ctrl+s")
    assert isinstance(run.app.screen, DebriefScreen)
    assert "WHAT THE FEED LEARNED ABOUT YOU" in run.seen[-1]
    await run.press("enter")
    assert isinstance(run.app.screen, CompletionScreen)
    return run.seen[-1]


@pytest.mark.slow
async def test_two_participants_run_a_two_condition_study(bundle: Path) -> None:
    clock = VirtualClock(0.0)
    shown: list[str] = []
    conditions: dict[str, str] = {}
    for participant in ("P001", "P002"):
        app = run_app(bundle, participant, clock)
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            run = Run(app, pilot, clock)
            await pilot.pause()
            run.seen.append(screen_text(app))
            assert "synthetic short videos" in run.seen[-1]  # the consent text
            await run.press("y")
            await run.press("ctrl+s")  # nothing answered yet: refused, nothing written
            assert isinstance(app.screen, QuestionnaireScreen)
            assert "Please answer question 1, 2." in run.seen[-1]
            assert rows(bundle, "SELECT count(*) AS n FROM answers") == [{"n": 4 * len(conditions)}]
            await run.press("down", "enter", "tab", "right", "right", "enter", "ctrl+s")
            await onboard(run)
            conditions[participant] = str(app.enrolment.condition)
            assert "video 1 of 8" in run.seen[-1]
            for n in range(8):
                await run.watch(2.0 + n, *(["l"] if n % 3 == 0 else []))
                if n < 7:
                    assert f"video {n + 2} of 8" in run.seen[-1]
            text = await post_and_debrief(run)
            assert "FYP-7Q2" in text
            await run.press("q")
        assert app.outcome == "completed" and app.completion_code == "FYP-7Q2"
        shown += run.seen
    assert set(conditions.values()) == {"arm-quiet", "arm-loud"}  # one block of two
    for text in shown:
        assert not any(name in text for name in NEVER_SHOWN), text

    participants = rows(
        bundle,
        "SELECT p.participant, p.status, p.completion_code, c.name AS condition, u.name AS user, "
        "p.user_id FROM participants p JOIN conditions c ON c.id = p.condition_id "
        "JOIN users u ON u.id = p.user_id ORDER BY p.id",
    )
    assert [(p["participant"], p["status"], p["completion_code"]) for p in participants] == [
        ("P001", "completed", "FYP-7Q2"),
        ("P002", "completed", "FYP-7Q2"),
    ]
    for p in participants:
        assert p["user"] == p["participant"] and p["condition"] == conditions[p["participant"]]
        answers = rows(
            bundle,
            "SELECT phase, item, value FROM answers a JOIN participants p "
            "ON p.id = a.participant_id WHERE p.participant = ? ORDER BY phase, item",
            (p["participant"],),
        )
        assert [(a["phase"], a["item"], a["value"]) for a in answers] == [
            ("post", "enjoy", "6"),
            ("post", "notes", "more cats"),
            ("pre", "age", "25-34"),
            ("pre", "hours", "3"),
        ]
        sessions = rows(
            bundle, "SELECT DISTINCT condition FROM sessions WHERE user_id = ?", (p["user_id"],)
        )
        assert sessions == [{"condition": p["condition"]}]
        served = rows(
            bundle,
            "SELECT count(*) AS served, count(seen_end) AS watched FROM impressions "
            "WHERE user_id = ?",
            (p["user_id"],),
        )
        assert served == [{"served": 8, "watched": 8}]  # the 8-video limit ended the feed
        events = rows(bundle, "SELECT kind FROM events WHERE user_id = ?", (p["user_id"],))
        kinds = [e["kind"] for e in events]
        assert kinds.count("skip") + kinds.count("complete") == 8 and kinds.count("like") == 3
        interests = rows(bundle, "SELECT interests FROM users WHERE id = ?", (p["user_id"],))
        assert json.loads(interests[0]["interests"]) == ["asmr"]


async def test_declining_records_only_the_decline(bundle: Path) -> None:
    app = run_app(bundle, "P009", VirtualClock(0.0))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+p")  # no command palette: no screenshots, no theme changes
        await pilot.pause()
        assert not isinstance(app.screen, CommandPalette)
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, DeclinedScreen)
        assert "Only that decision was recorded: nothing else about you is stored." in prose(app)
        await pilot.press("q")
    assert app.outcome == "declined"
    assert rows(bundle, "SELECT participant, status, condition_id, user_id FROM participants") == [
        {"participant": "P009", "status": "declined", "condition_id": None, "user_id": None}
    ]
    for table in ("users", "sessions", "impressions", "events", "answers", "feed_runs"):
        assert rows(bundle, f"SELECT count(*) AS n FROM {table}") == [{"n": 0}], table
    again = CliRunner().invoke(main, ["study", "run", "--db", str(bundle), "--participant", "P009"])
    assert again.exit_code != 0
    assert again.output.startswith("Error:") and "declined consent earlier" in again.output
    assert len(again.output.strip().splitlines()) == 1


def count(bundle: Path, table: str, where: str = "") -> int:
    return int(rows(bundle, f"SELECT count(*) AS n FROM {table} {where}")[0]["n"])


@pytest.mark.slow
async def test_a_second_run_continues_where_the_first_stopped(bundle: Path) -> None:
    clock = VirtualClock(0.0)
    app = run_app(bundle, "P001", clock)
    async with app.run_test(size=SIZE) as pilot:
        run = Run(app, pilot, clock)
        await pilot.pause()
        await consent_and_pre(run)
        await onboard(run)
        for seconds in (3.0, 4.0, 5.0):
            await run.watch(seconds)
        run.feed().play(1.5)
        await run.press("ctrl+c")  # at once, mid-video
    assert app.outcome == "stopped"
    first = rows(bundle, "SELECT status, feed_ended_at FROM participants")
    assert first == [{"status": "in_feed", "feed_ended_at": None}]
    closed = rows(bundle, "SELECT kind, watched_s FROM events ORDER BY id")
    assert closed == [  # the fourth closed with the seconds it played when Ctrl+C came
        {"kind": "skip", "watched_s": seconds} for seconds in (3.0, 4.0, 5.0, 1.5)
    ]
    assert count(bundle, "impressions", "WHERE seen_end IS NOT NULL") == 4

    app = run_app(bundle, "P001", clock)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        run = Run(app, pilot, clock)
        await pilot.pause()
        assert isinstance(app.screen, StudyFeedScreen)  # no consent, no questions, no onboarding
        text = screen_text(app)
        assert "video 5 of 8" in text and "Welcome back" in text
        await run.watch(2.0)
        await run.press("q")
        assert isinstance(app.screen, ChoicePrompt)
        await run.press("q")  # q again while asked: still the one question, not a second
        assert isinstance(app.screen, ChoicePrompt)
        assert isinstance(app.screen_stack[-2], StudyFeedScreen)
        await run.press("2")  # leave for now
    assert app.outcome == "stopped"
    assert count(bundle, "impressions", "WHERE seen_end IS NOT NULL") == 6

    app = run_app(bundle, "P001", clock)
    async with app.run_test(size=SIZE) as pilot:
        run = Run(app, pilot, clock)
        await pilot.pause()
        assert "video 7 of 8" in screen_text(app)
        for _ in range(2):
            await run.watch(2.0)
        await post_and_debrief(run)
        await run.press("q")
    assert app.outcome == "completed"

    tables = ("participants", "users", "answers", "feed_runs", "impressions")
    assert {table: count(bundle, table) for table in tables} == {
        "participants": 1,
        "users": 1,
        "answers": 4,  # 2 pre (answered once), 2 post
        "feed_runs": 3,
        "impressions": 8,
    }
    again = CliRunner().invoke(main, ["study", "run", "--db", str(bundle), "--participant", "P001"])
    assert again.exit_code != 0 and "already completed the study" in again.output
    assert count(bundle, "feed_runs") == 3


ENJOY = """[[post]]
id = "enjoy"
kind = "likert"
text = "How much did you enjoy the feed?"
scale = 7

"""


@pytest.mark.slow
async def test_the_minutes_of_a_timed_feed_end_it(world_path: Path, tmp_path: Path) -> None:
    # ...and a post-questionnaire of one optional item is still asked.
    assert ENJOY in NAMED
    timed = NAMED.replace("videos = 8\n", "minutes = 1.0\n").replace(ENJOY, "")
    bundle = make_bundle(world_path, tmp_path, timed)
    clock = VirtualClock(0.0)
    app = run_app(bundle, "P001", clock)
    async with app.run_test(size=SIZE) as pilot:
        run = Run(app, pilot, clock)
        await pilot.pause()
        await consent_and_pre(run)
        await onboard(run)
        assert "1:00 left" in run.seen[-1]
        await run.watch(20.0)
        await pilot.pause(0.6)  # the screen checks the time twice a second
        assert "0:40 left" in screen_text(app)
        run.feed().play(41.0)
        clock.advance(41.0)
        await pilot.pause(0.6)
        assert isinstance(app.screen, QuestionnaireScreen)  # on to the post-questionnaire
        assert "Anything else you noticed? (optional)" in screen_text(app)
        participant = rows(bundle, "SELECT status, feed_ended_at FROM participants")[0]
        assert participant["status"] == "after_feed" and participant["feed_ended_at"] is not None
        closing = rows(bundle, "SELECT kind FROM events WHERE kind IN ('skip', 'complete')")
        assert len(closing) == 2  # the first video and the one on screen when time ran out
        await run.press("ctrl+c")  # leaves on it, unsubmitted

    app = run_app(bundle, "P001", clock)
    async with app.run_test(size=SIZE) as pilot:
        run = Run(app, pilot, clock)
        await pilot.pause()
        assert isinstance(app.screen, QuestionnaireScreen)  # asked again, not skipped
        assert "Anything else you noticed? (optional)" in screen_text(app)
        await run.press("ctrl+s")  # nothing to say
        assert isinstance(app.screen, DebriefScreen)
    assert count(bundle, "answers", "WHERE phase = 'post'") == 0
    assert rows(bundle, "SELECT post_submitted_at IS NOT NULL AS done FROM participants") == [
        {"done": 1}
    ]


async def feed_of(bundle: Path, condition: str, clock: VirtualClock) -> str:
    """Consent and pre-questionnaire through the bundle until someone new is in `condition`."""
    with open_bundle(bundle) as study:
        for n in range(1, 9):
            participant = f"P{n:03d}"
            if study.enrol(participant).resumed:
                continue  # taken by an earlier call
            study.record_consent(participant, agreed=True)
            study.record_answers(participant, "pre", {"age": "35+", "hours": 2})
            if study.enrol(participant).condition == condition:
                return participant
    raise AssertionError(f"nobody allocated to {condition}")


def boosted_in_log(bundle: Path, impression_id: int) -> dict[str, Any] | None:
    receipt = rows(bundle, "SELECT receipt FROM impressions WHERE id = ?", (impression_id,))
    boost: dict[str, Any] | None = json.loads(receipt[0]["receipt"])["boost"]
    return boost


def finalist_scores(panel: XRayPanel) -> list[tuple[float, float]]:
    """The scores and chances the x-ray's "Top scored" rows show, in rank order (the whole
    panel, scrolled or not)."""
    text = "\n".join(str(w.content) for w in panel.query(Static))
    rows = re.finditer(r"^\s+#\d+\s+(-?[\d.]+) \S+\s+(\d+)%", text, re.M)
    return [(float(m.group(1)), float(m.group(2)) / 100) for m in rows]


async def to_a_heated_video(run: Run, bundle: Path) -> None:
    """Move on until the video on screen is one the study heats (by the log)."""
    for _ in range(7):
        current = run.feed().study.current
        assert current is not None
        if boosted_in_log(bundle, current.impression_id):
            return
        await run.watch(1.0)
    raise AssertionError("no heated video in the first seven")


@pytest.mark.slow
@pytest.mark.parametrize("disclosed", [False, True])
async def test_heating_is_shown_only_where_the_condition_discloses_it(
    world_path: Path, tmp_path: Path, disclosed: bool
) -> None:
    text = NAMED if not disclosed else NAMED.replace("disclosed = false", "disclosed = true")
    bundle = make_bundle(world_path, tmp_path, text)
    clock = VirtualClock(0.0)
    participant = await feed_of(bundle, "arm-loud", clock)
    app = run_app(bundle, participant, clock)
    async with app.run_test(size=(100, 32)) as pilot:
        run = Run(app, pilot, clock)
        await pilot.pause()
        await onboard(run)
        await to_a_heated_video(run, bundle)
        current = run.feed().study.current
        assert current is not None
        logged = json.loads(
            rows(bundle, "SELECT receipt FROM impressions WHERE id = ?", (current.impression_id,))[
                0
            ]["receipt"]
        )
        feed_text = screen_text(app)
        await run.press("w")
        assert isinstance(app.screen, WhyScreen)
        why_text = screen_text(app)
        why_whole = "\n".join(str(w.content) for w in app.screen.query(Static))  # scrolled too
        await run.press("escape", "x")
        xray_text = run.seen[-1]
        shown = finalist_scores(app.screen.query_one(XRayPanel))
    told = [feed_text, why_text, xray_text]
    heatable = heatable_videos(world_path)
    heated = [row["video_id"] in heatable for row in logged["slate"]]
    assert sum(heated) >= 2, "the pick and another heated finalist"  # else nothing is tested
    assert len(shown) == min(len(logged["slate"]), SLATE_ROWS)
    scores = [score for score, _ in shown]
    if disclosed:  # as logged, in the logged order, to two decimals
        for (score, chance), row in zip(shown, logged["slate"], strict=False):
            assert score == pytest.approx(row["score"], abs=0.006)
            assert chance == pytest.approx(row["probability"], abs=0.006)
    else:
        # Every heated finalist, not the pick only, is told without its ×40; the order and the
        # chances are the told scores': a higher score never shows a lower chance.
        assert sorted(scores, reverse=True) == scores
        chances = [chance for _, chance in shown]
        assert sorted(chances, reverse=True) == chances
        unheated = sorted(
            (row["score"] for row, hot in zip(logged["slate"], heated, strict=True) if not hot),
            reverse=True,
        )
        for truth in unheated[: len(shown)]:
            assert any(score == pytest.approx(truth, abs=0.006) for score in scores)
        assert max(scores) < max(row["score"] for row in logged["slate"]) / 10
    if disclosed:
        assert "BOOSTED" in why_text and "from a boost (heating)" in feed_text
        assert "boosted" in xray_text
    else:
        assert not any("BOOST" in t.upper() for t in told), told
        assert "heating" not in feed_text
        # The score told is the one its steps come to: not the boosted one, 40 times larger.
        final = re.search(r"final score\s+(-?[\d.]+)", why_whole)
        assert final is not None, why_whole
        assert float(final.group(1)) < logged["score"] / 10
    assert not any(name in t for t in told for name in NEVER_SHOWN)


@pytest.mark.slow
async def test_only_the_conditions_controls_are_offered(bundle: Path) -> None:
    clock = VirtualClock(0.0)
    loud = await feed_of(bundle, "arm-loud", clock)  # why, topic_sliders
    quiet = await feed_of(bundle, "arm-quiet", clock)  # not_interested, hide_creator, why
    app = run_app(bundle, loud, clock)
    async with app.run_test(size=(100, 32), notifications=True) as pilot:
        run = Run(app, pilot, clock)
        await pilot.pause()
        await onboard(run)
        text = await run.press("n", "h")  # not offered: nothing happens
        assert isinstance(app.screen, StudyFeedScreen)
        assert "nope" not in text and "hide" not in text  # not on the rail either
        await run.press("comma")
        settings = app.screen
        assert isinstance(settings, SettingsScreen)
        assert settings.query("TopicSlider") and not settings.query("#keywords, #sensitive")
        assert not settings.query("#refresh, #hidden")
        await run.press("escape")
        await run.press("question_mark")
        help_text = prose(app)
        assert isinstance(app.screen, HelpScreen)  # the feed's own help, granted keys only
        assert "why this video" in help_text and "report" in help_text
        assert "not interested" not in help_text and "hide the creator" not in help_text
        assert "leave for now (asks first" in help_text and "session summary" not in help_text
        await run.press("escape", "ctrl+q")  # like q: asks first
        assert isinstance(app.screen, ChoicePrompt)
        await run.press("1")  # stay
        user_id = run.feed().study.user_id
    events = rows(bundle, "SELECT kind FROM events WHERE user_id = ?", (user_id,))
    assert not {e["kind"] for e in events} & {"not_interested", "hide_creator"}

    app = run_app(bundle, quiet, clock)
    async with app.run_test(size=(100, 32), notifications=True) as pilot:
        run = Run(app, pilot, clock)
        await pilot.pause()
        await onboard(run)
        text = run.seen[-1]
        assert "nope" in text and "hide" in text
        await run.press("question_mark")
        assert "not interested" in prose(app) and "hide the creator" in prose(app)
        await run.press("escape", "n")
        assert isinstance(app.screen, ChoicePrompt)
        await run.press("1")  # not interested in this video
        await run.press("comma")
        settings = app.screen
        assert isinstance(settings, SettingsScreen)
        assert not settings.query("TopicSlider") and not settings.query("#keywords, #refresh")
        await run.press("escape")
        user_id = run.feed().study.user_id
    marks = rows(
        bundle, "SELECT scope FROM events WHERE user_id = ? AND kind = 'not_interested'", (user_id,)
    )
    assert marks == [{"scope": "video"}]


@pytest.mark.parametrize(
    ("participant", "message"),
    [
        ("jane.doe@example.org", "not a pseudonymous code"),
        ("Jane Doe", "not a pseudonymous code"),
        ("Anna", "at least one digit"),
        ("Maria.Garcia", "at least one digit"),
        ("maria.garcia1", "never four letters in a row"),
        ("John1", "never four letters in a row"),
        ("Smith2024", "never four letters in a row"),
        ("P" * 41, "not a pseudonymous code"),
    ],
)
def test_run_refuses_what_is_not_a_pseudonymous_id(
    bundle: Path, participant: str, message: str
) -> None:
    result = CliRunner().invoke(
        main, ["study", "run", "--db", str(bundle), "--participant", participant]
    )
    assert result.exit_code != 0
    assert result.output.startswith("Error:") and message in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert rows(bundle, "SELECT count(*) AS n FROM participants") == [{"n": 0}]


def notes(tmp_path: Path) -> Path:
    path = tmp_path / "notes.db"
    path.write_bytes(b"not a database at all")
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda world, tmp: world, "holds no study"),
        (lambda world, tmp: tmp / "missing.db", "no such world"),
        (lambda world, tmp: notes(tmp), "not a foryou world"),
    ],
    ids=["a world without a study", "missing", "not sqlite"],
)
def test_run_refuses_what_is_not_a_study_bundle(
    world_path: Path, tmp_path: Path, make: Callable[[Path, Path], Path], message: str
) -> None:
    path = make(world_path, tmp_path)
    result = CliRunner().invoke(main, ["study", "run", "--db", str(path), "--participant", "P1"])
    assert result.exit_code != 0
    assert result.output.startswith("Error:") and message in result.output
    assert len(result.output.strip().splitlines()) == 1


@pytest.mark.tmux
@pytest.mark.slow
@pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")
def test_a_participant_in_a_real_terminal(world_path: Path, tmp_path: Path) -> None:
    """Consent to code in tmux, with Ctrl+C in the middle of the feed and a second run."""
    bundle = make_bundle(world_path, tmp_path, NAMED.replace("videos = 8\n", "videos = 2\n"))
    command = f"cd {Path(__file__).parents[1]} && {foryou_command()} study run --db {bundle} "
    panes: list[str] = []

    term = Terminal(command + "--participant P042")
    try:
        panes.append(term.wait_for("synthetic short videos"))
        term.keys("y")
        panes.append(term.wait_for("▌ 1. Your age band"))  # the question being answered
        # A key typed before a focus change has landed goes to the old focus: wait for it.
        term.keys("Down", "Enter", "Tab")
        term.wait_for("▌ 2. How many hours")
        term.keys("Right", "Right", "Enter", "C-s")
        panes.append(term.wait_for("What are you into?"))
        term.keys("Space", "C-s")
        panes.append(term.wait_for("video 1 of 2"))
        panes.append(term.wait_for("▶ 0:01"))  # it plays in real time
        term.keys("C-c")
        panes.append(term.wait_for("EXIT=0"))
        assert "run the same command again to continue" in panes[-1]
    finally:
        term.close()
    first = rows(bundle, "SELECT kind, watched_s FROM events")
    assert [e["kind"] for e in first] == ["skip"] and first[0]["watched_s"] >= 1.0

    term = Terminal(command + "--participant P042")
    try:
        panes.append(term.wait_for("video 2 of 2"))  # straight back into the feed
        term.keys("j")  # past the last video: the feed is over
        panes.append(term.wait_for("A FEW QUESTIONS ABOUT THE FEED"))
        term.keys("Enter")  # the feed is over: enter starts the questions
        term.wait_for("▌ 1. How much did you enjoy")
        term.keys(*["Right"] * 5, "Enter", "Tab")
        term.wait_for("▌ 2. Anything else")
        term.literal("fun")
        term.keys("C-s")
        panes.append(term.wait_for("WHAT THE FEED LEARNED ABOUT YOU"))
        term.keys("Enter")
        panes.append(term.wait_for("FYP-7Q2"))
        term.keys("q")
        panes.append(term.wait_for("EXIT=0"))
        assert "P042 completed the study: completion code FYP-7Q2." in panes[-1]
    finally:
        term.close()
    assert not any(name in pane for pane in panes for name in NEVER_SHOWN)

    participant = rows(bundle, "SELECT status, completion_code, user_id FROM participants")
    assert participant == [
        {"status": "completed", "completion_code": "FYP-7Q2", "user_id": participant[0]["user_id"]}
    ]
    answers = rows(bundle, "SELECT phase, item, value FROM answers ORDER BY phase, item")
    assert [tuple(a.values()) for a in answers] == [
        ("post", "enjoy", "6"),
        ("post", "notes", "fun"),
        ("pre", "age", "25-34"),
        ("pre", "hours", "3"),
    ]
    assert count(bundle, "impressions", "WHERE seen_end IS NOT NULL") == 2
    assert count(bundle, "feed_runs") == 2


async def test_a_write_the_bundle_refuses_ends_the_run_with_one_line(bundle: Path) -> None:
    """A full disk during the feed: exit code 1 and one line naming the bundle, no traceback;
    the answers given before it stay in the bundle."""
    import sqlite3

    from tui.write_failure import WriteRefusedError

    clock = VirtualClock(0.0)
    app = run_app(bundle, "P001", clock)

    async def like_on_a_full_disk(run: Run) -> None:
        def full_disk(*args: object, **kwargs: object) -> int:
            raise sqlite3.OperationalError("database or disk is full")

        run.feed().session.engine.store.add_event = full_disk  # type: ignore[method-assign]
        await run.press("l")

    with pytest.raises(WriteRefusedError, match=rf"{bundle.name} refused a write"):
        await to_the_feed(app, clock, then=like_on_a_full_disk)
    assert app.return_code == 1
    assert count(bundle, "answers") > 0  # the questionnaire before the feed
    assert count(bundle, "events", "WHERE kind = 'like'") == 0


async def test_a_feed_a_logged_simulation_keeps_out_ends_the_run_with_one_line(
    bundle: Path,
) -> None:
    """Another process runs a logged simulation on the bundle (it has the file alone) as the
    participant reaches the feed: exit code 1 and the engine's one line naming the file, not a
    traceback; the answers given before it stay in the bundle."""
    import subprocess
    import sys

    from tui.write_failure import ExitError

    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from engine.writers import alone\n"
            "with alone(Path(sys.argv[1])):\n    print('held', flush=True); time.sleep(60)",
            str(bundle),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        clock = VirtualClock(0.0)
        app = run_app(bundle, "P001", clock)
        with pytest.raises(
            ExitError, match=rf"a logged simulation \(pid {holder.pid}\) is writing"
        ):
            await to_the_feed(app, clock)
    finally:
        holder.kill()
        holder.wait()
    assert app.return_code == 1
    assert count(bundle, "answers") > 0  # the questionnaire before the feed
    assert count(bundle, "impressions") == 0


async def test_the_feed_screen_notes_that_its_run_is_still_going(bundle: Path) -> None:
    """Should the process die (a closed terminal, kill -9), the next run counts the time up to
    the screen's last note: it must be written while the participant only watches."""
    clock = VirtualClock(0.0)
    app = run_app(bundle, "P001", clock)
    async with app.run_test(size=SIZE) as pilot:
        run = Run(app, pilot, clock)
        await pilot.pause()
        await consent_and_pre(run)
        await onboard(run)
        run.feed().play(6.0)
        clock.advance(6.0)  # watching, no key pressed, nothing else recorded
        # The screen checks twice a second and notes at most once a second.
        for _ in range(30):
            await pilot.pause(0.1)
            noted = rows(bundle, "SELECT alive_world_t, closed_at FROM feed_runs")
            if noted[0]["alive_world_t"] == pytest.approx(6.0, abs=0.01):
                break
        assert noted == [{"alive_world_t": pytest.approx(6.0, abs=0.01), "closed_at": None}]
        await run.press("ctrl+c")
    assert rows(bundle, "SELECT crashed FROM feed_runs") == [{"crashed": 0}]
