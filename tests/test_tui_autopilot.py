"""The autopilot: a persona drives the feed through the keys' own actions until a key is pressed.

The app runs with ``live=False`` and the tests move time themselves: each step plays the video
and the autopilot exactly up to its next press (``Autopilot.due_in``), so a dozen videos take a
fraction of a second and nothing depends on the machine's speed.
"""

from __future__ import annotations

from dataclasses import replace
from itertools import groupby
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from textual.events import MouseDown, MouseUp
from textual.pilot import Pilot

from engine import Engine, VirtualClock
from engine.sim import Reaction
from tests.tuikit import rows, screen_text
from tui.app import FeedApp, make_app
from tui.autopilot import Autopilot, AutopilotError, AutopilotSettings, Press, plan
from tui.cli import main
from tui.screens.feed import FeedScreen
from tui.screens.prompts import ChoicePrompt
from tui.screens.summary import SummaryScreen
from tui.screens.viewers import ViewerScreen
from tui.widgets.action_rail import ActionRail
from tui.widgets.key_cap import KeyCap
from tui.widgets.xray_panel import XRayPanel

SIZE = (100, 32)
PACE_S = 0.5


@pytest.fixture
def world(world_path: Path) -> Path:
    """The test world with one person, "ana"."""
    with Engine.open(world_path, clock=VirtualClock(0.0)) as eng:
        eng.new_user(["cooking"], name="ana")
    return world_path


def app_for(world: Path, persona: str = "cooking") -> FeedApp:
    settings = AutopilotSettings(persona=persona, pace_s=PACE_S)
    return make_app(world, None, live=False, world_clock=VirtualClock(0.0), autopilot=settings)


def driver(app: FeedApp) -> Autopilot:
    assert app.autopilot is not None
    return app.autopilot


async def drive(app: FeedApp, pilot: Pilot[None], *, videos: int) -> None:
    """Let the autopilot run until it has watched `videos` videos to their end."""
    autopilot = driver(app)
    feed = autopilot.screen
    for _ in range(videos * 8):
        if len(autopilot.reactions) > videos or not autopilot.running:
            return
        wait_s = autopilot.due_in()
        if app.screen is feed:  # a prompt on top stops the video, as for a person
            feed.play(wait_s)
        autopilot.step(wait_s)
        await pilot.pause()
    raise AssertionError("the autopilot stalled")


async def terminal_click(app: FeedApp, pilot: Pilot[None], x: int, y: int) -> None:
    """A click as a terminal delivers it, through ``App.on_event`` (``Pilot.click`` skips it
    and hands the events straight to the screen)."""
    for kind in (MouseDown, MouseUp):
        app.post_message(kind(None, x, y, 0, 0, 1, False, False, False, screen_x=x, screen_y=y))
        await pilot.pause()


class ScriptedPersona:
    """A persona whose reactions are written in advance."""

    def __init__(self, *actions: list[tuple[str, dict[str, Any]]]) -> None:
        self.actions = list(actions)
        self.depth = 0

    def react(self, video: Any) -> Reaction:
        actions = self.actions.pop(0) if self.actions else [("skip", {"watched_s": 1.0})]
        return Reaction(video.id, 1.0, actions, True, False, 0.0, False)

    def end_session(self) -> None:
        pass


# -- turning a persona's reaction into key presses ---------------------------------------------


def reaction(*actions: tuple[str, dict[str, Any]]) -> Reaction:
    return Reaction(1, 0.0, list(actions), True, False, 0.0, False)


def test_plan_spreads_reactions_over_what_was_watched_then_leaves() -> None:
    presses = plan(
        reaction(("like", {}), ("comment", {"text": "so good"}), ("skip", {"watched_s": 6.0})),
        20.0,
        liked=False,
        saved=False,
        following=False,
    )
    assert [(p.key, p.at_s, p.loops, p.answer) for p in presses] == [
        ("l", 2.0, 0, None),
        ("c", 4.0, 0, "so good"),
        ("j", 6.0, 0, None),
    ]


def test_plan_stays_for_a_rewatch_and_answers_not_interested_with_its_scope() -> None:
    twice = plan(
        reaction(("complete", {"watched_s": 30.0}), ("rewatch", {})),
        20.0,
        liked=False,
        saved=False,
        following=False,
    )
    assert [(p.key, p.at_s, p.loops) for p in twice] == [("j", 40.0, 2)]
    thrice = plan(
        reaction(("complete", {"watched_s": 30.0}), ("rewatch", {}), ("rewatch", {})),
        20.0,
        liked=False,
        saved=False,
        following=False,
    )
    assert [(p.key, p.at_s, p.loops) for p in thrice] == [("j", 60.0, 3)]  # stays for both
    nope = plan(
        reaction(("not_interested", {"scope": "topic"}), ("skip", {"watched_s": 1.2})),
        20.0,
        liked=False,
        saved=False,
        following=False,
    )
    assert nope == [Press(1.2, 0, "n", "not_interested", "nope", answer="topic")]


def test_plan_leaves_out_what_the_viewer_already_did() -> None:
    # A persona drawn again does not know its viewer's likes: pressing l would unlike.
    presses = plan(
        reaction(("like", {}), ("save", {}), ("follow", {}), ("complete", {"watched_s": 9.0})),
        9.0,
        liked=True,
        saved=False,
        following=True,
    )
    assert [p.key for p in presses] == ["f", "j"]


# -- choosing the persona ----------------------------------------------------------------------


def test_a_persona_is_a_seed_or_a_topic_it_loves(world: Path) -> None:
    with Engine.open(world, clock=VirtualClock(0.0)) as eng:
        cooking = eng.catalog.topic_id("cooking")
        cast = AutopilotSettings(persona="Cooking").cast(eng)
        # The audience is told the feed will find Cooking: it is the persona's strongest love
        # and one of the topics it names at sign-up, so the feed has it from the start.
        assert int(cast.persona.taste.topic.argmax()) == cooking
        assert "cooking" in cast.persona.sign_up()["interests"]
        assert cast.viewer == "autopilot-cooking"
        assert "loves Cooking" in cast.label
        assert AutopilotSettings(persona="3").cast(eng).viewer == "autopilot-3"
        with pytest.raises(AutopilotError, match=r"a seed .* or a topic, got 'knitting'"):
            AutopilotSettings(persona="knitting").cast(eng)
        with pytest.raises(AutopilotError, match="'ana' is a person"):
            cast.viewer_id(eng, "ana")


def test_cli_autopilot_watches_as_its_own_simulated_viewer(
    world: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[FeedApp] = []
    monkeypatch.setattr(FeedApp, "run", lambda app, *a, **k: opened.append(app))
    monkeypatch.setattr("tui.cli.require_terminal", lambda release: None)  # CliRunner has none
    for args in (["--autopilot"], ["--autopilot", "pets", "--autopilot-pace", "2"]):
        result = CliRunner().invoke(main, ["feed", "--db", str(world), *args])
        assert result.exit_code == 0, result.output
    assert [app.autopilot_cast.viewer for app in opened if app.autopilot_cast] == [
        "autopilot-0",
        "autopilot-pets",
    ]
    assert [app.autopilot_cast.pace_s for app in opened if app.autopilot_cast] == [1.0, 2.0]
    for app in opened:
        app.engine.close()
    users = rows(world, "SELECT name, simulated FROM users ORDER BY id")
    assert users == [
        {"name": "ana", "simulated": 0},
        {"name": "autopilot-0", "simulated": 1},
        {"name": "autopilot-pets", "simulated": 1},
    ]
    refused = CliRunner().invoke(main, ["feed", "--db", str(world), "--autopilot", "--user", "ana"])
    assert refused.exit_code != 0
    assert refused.output.startswith("Error: 'ana' is a person")


# -- driving the feed --------------------------------------------------------------------------


async def test_the_persona_drives_the_feed_and_every_reaction_is_a_row(world: Path) -> None:
    app = app_for(world)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause()
        autopilot = driver(app)
        assert autopilot.running
        assert "any key takes over" in str(autopilot.screen.sub_title)
        await drive(app, pilot, videos=12)
        assert autopilot.running
        key_cap = app.screen.query_one(KeyCap)
        assert key_cap.has_class("-shown")
        assert key_cap.key == "j"
        done = autopilot.reactions[:12]  # the 13th video is still on screen
    (viewer,) = rows(world, "SELECT id, simulated FROM users WHERE name = 'autopilot-cooking'")
    assert viewer["simulated"] == 1
    assert {s["simulated"] for s in rows(world, "SELECT simulated FROM sessions")} == {1}
    recorded = rows(
        world,
        "SELECT e.impression_id, e.video_id, e.kind, e.watched_s, e.text FROM events e "
        "JOIN impressions i ON i.id = e.impression_id WHERE e.user_id = ? ORDER BY e.id",
        (viewer["id"],),
    )
    by_impression = [
        list(group) for _, group in groupby(recorded, key=lambda e: e["impression_id"])
    ]
    assert len(by_impression) >= len(done)
    for did, events in zip(done, by_impression, strict=False):
        assert {e["video_id"] for e in events} == {did.video_id}
        assert [e["kind"] for e in events] == [kind for kind, _ in did.actions]
        for event, (_, args) in zip(events, did.actions, strict=True):
            if event["kind"] == "skip":  # left at the second the persona did
                assert event["watched_s"] == pytest.approx(args["watched_s"], abs=0.02)
            assert event["text"] == args.get("text")
    kinds = {kind for did in done for kind, _ in did.actions}
    assert kinds > {"skip", "complete"}  # it reacted, not only watched


async def test_a_key_takes_over_and_the_person_watches_as_themselves(world: Path) -> None:
    app = app_for(world)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause()
        autopilot = driver(app)
        await drive(app, pilot, videos=2)
        video = autopilot.screen.session.video
        assert video is not None
        written = len(rows(world, "SELECT id FROM events"))
        await pilot.press("l")  # a person's like: it must not be the persona's
        assert not autopilot.running
        assert app.autopilot is None
        assert "You have control" in " ".join(n.message for n in app._notifications)
        assert isinstance(app.screen, ViewerScreen)
        assert "autopilot-cooking" not in screen_text(app)  # only people to choose from
        # The persona's viewing of the video on screen closed; nothing else was written.
        closing = rows(world, "SELECT kind, video_id FROM events")[written:]
        assert [e["kind"] for e in closing] == ["skip"]
        assert closing[0]["video_id"] == video.id
        await pilot.press("down", "enter")  # ana
        assert isinstance(app.screen, FeedScreen)
        assert app.screen.session.viewer == "ana"
        await pilot.press("l")
        autopilot.step(30.0)  # a stopped autopilot presses nothing, whatever the time
        await pilot.pause()
    likes = rows(
        world, "SELECT u.name FROM events e JOIN users u ON u.id = e.user_id WHERE kind = 'like'"
    )
    assert likes[-1:] == [{"name": "ana"}]
    by_persona = rows(
        world,
        "SELECT count(*) AS n FROM events e JOIN users u ON u.id = e.user_id "
        "WHERE u.name = 'autopilot-cooking' AND e.id > ?",
        (written + 1,),
    )
    assert by_persona == [{"n": 0}]


def test_a_person_cannot_open_the_feed_as_a_simulated_viewer(world: Path) -> None:
    with Engine.open(world, clock=VirtualClock(0.0)) as eng:
        eng.new_user(["cooking"], name="autopilot-0", simulated=True)
    result = CliRunner().invoke(main, ["feed", "--db", str(world), "--user", "autopilot-0"])
    assert result.exit_code != 0
    assert result.output.startswith("Error: 'autopilot-0' is a simulated viewer")
    assert len(result.output.strip().splitlines()) == 1


async def test_view_keys_leave_the_autopilot_driving(world: Path) -> None:
    app = app_for(world)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause()
        autopilot = driver(app)
        await pilot.press("x")
        assert app.screen.query_one(XRayPanel).display
        await pilot.press("v")
        assert autopilot.screen.session.speed == 2.0
        await drive(app, pilot, videos=3)
        assert autopilot.running
        assert len(autopilot.reactions) == 4


def scripted_app(world: Path, *actions: list[tuple[str, dict[str, Any]]]) -> FeedApp:
    app = app_for(world)
    assert app.autopilot_cast is not None
    app.autopilot_cast = replace(app.autopilot_cast, persona=ScriptedPersona(*actions))
    return app


async def test_it_answers_its_own_prompt_after_the_pace(world: Path) -> None:
    nope = [("not_interested", {"scope": "creator"}), ("skip", {"watched_s": 2.0})]
    app = scripted_app(world, nope)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause()
        autopilot = driver(app)
        first = autopilot.screen.session.video
        assert first is not None
        autopilot.screen.play(2.0)
        autopilot.step(2.0)
        await pilot.pause()
        assert isinstance(app.screen, ChoicePrompt)  # up for the audience to read
        assert autopilot.screen.query_one(KeyCap).key == "n"
        autopilot.step(PACE_S / 2)
        await pilot.pause()
        assert isinstance(app.screen, ChoicePrompt)
        autopilot.step(PACE_S / 2)
        await pilot.pause()
        assert isinstance(app.screen, FeedScreen)
        assert autopilot.screen.query_one(KeyCap).key == "2"  # "Videos by @..."
        assert autopilot.running
        events = rows(
            world, "SELECT kind, scope, watched_s FROM events WHERE video_id = ?", (first.id,)
        )
        assert events == [
            {"kind": "not_interested", "scope": "creator", "watched_s": None},
            {"kind": "skip", "scope": None, "watched_s": 2.0},
        ]


async def test_it_types_its_comment_then_sends_it(world: Path) -> None:
    comment = [("comment", {"text": "so good"}), ("skip", {"watched_s": 4.0})]
    app = scripted_app(world, comment)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause()
        autopilot = driver(app)
        await drive(app, pilot, videos=1)
        assert autopilot.running
        kinds = rows(world, "SELECT kind, text, watched_s FROM events ORDER BY id")
        assert kinds == [
            {"kind": "comment", "text": "so good", "watched_s": None},
            {"kind": "skip", "text": None, "watched_s": 4.0},
        ]


async def test_a_person_answering_its_prompt_takes_over(world: Path) -> None:
    app = scripted_app(world, [("report", {"reason": "spam"}), ("skip", {"watched_s": 0.0})])
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause()
        autopilot = driver(app)
        autopilot.step(0.0)
        await pilot.pause()
        assert isinstance(app.screen, ChoicePrompt)
        await pilot.press("1")  # a reason of the person's, not the persona's
        assert not autopilot.running
        assert isinstance(app.screen, ViewerScreen)
        assert [e["kind"] for e in rows(world, "SELECT kind FROM events")] == ["skip"]


async def test_a_click_takes_over_too_and_does_not_act(world: Path) -> None:
    app = app_for(world)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause()
        autopilot = driver(app)
        rail = app.screen.query_one(ActionRail).region
        await terminal_click(app, pilot, rail.x + 2, rail.y + 3)  # ★
        assert not autopilot.running
        assert isinstance(app.screen, ViewerScreen)
        assert [e["kind"] for e in rows(world, "SELECT kind FROM events")] == ["skip"]


async def test_quit_stops_it_and_shows_the_summary(world: Path) -> None:
    app = app_for(world)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause()
        autopilot = driver(app)
        await drive(app, pilot, videos=2)
        await pilot.press("q")
        assert isinstance(app.screen, SummaryScreen)
        assert not autopilot.running
        assert "3 videos watched" in screen_text(app)
