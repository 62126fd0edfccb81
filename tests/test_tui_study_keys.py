"""Keys meant for the feed never answer the questionnaire that follows it."""

from __future__ import annotations

from pathlib import Path

from engine import VirtualClock
from tests.studykit import STUDY, make_bundle
from tests.test_tui_study import SIZE, Run, consent_and_pre, onboard, run_app
from tests.tuikit import rows, screen_text
from tui.screens.study_debrief import DebriefScreen
from tui.screens.study_questionnaire import QuestionnaireScreen

NOTES_FIRST = (
    STUDY.replace(  # a text answer is the first thing the post-questionnaire asks
        '[[post]]\nid = "enjoy"\nkind = "likert"\ntext = "How much did you enjoy the feed?"\n'
        "scale = 7\n\n",
        "",
    )
    + '\n[[post]]\nid = "enjoy"\nkind = "likert"\ntext = "How much did you enjoy it?"\nscale = 7\n'
)


async def test_feed_keys_pressed_as_the_feed_ends_do_not_answer(
    world_path: Path, tmp_path: Path
) -> None:
    bundle = make_bundle(world_path, tmp_path, NOTES_FIRST.replace("videos = 8\n", "videos = 2\n"))
    clock = VirtualClock(0.0)
    app = run_app(bundle, "P001", clock)
    async with app.run_test(size=SIZE) as pilot:
        run = Run(app, pilot, clock)
        await pilot.pause()
        await consent_and_pre(run)
        await onboard(run)
        # The participant keeps skipping: the feed ends under their fingers, and they go on.
        await run.press("j", "j", "j", "j", "space", "j", "down", "l", "j")
        assert isinstance(app.screen, QuestionnaireScreen)
        assert "The feed is over. Press enter to answer a few last questions." in run.seen[-1]
        assert app.screen.focused is None
        await run.press("enter")  # now the first answer has the focus
        await run.type("fine")
        await run.press("tab", "right", "right", "enter", "ctrl+s")
        assert isinstance(app.screen, DebriefScreen), screen_text(app)
    answers = rows(bundle, "SELECT item, value FROM answers WHERE phase = 'post' ORDER BY item")
    assert answers == [{"item": "enjoy", "value": "3"}, {"item": "notes", "value": "fine"}]
