"""`foryou study run`: one participant's way through a study, from consent to completion code.

consent → pre-questionnaire → onboarding → the feed in their condition → post-questionnaire →
debrief → completion code. Which step comes next is the bundle's answer
(:attr:`Enrolment.next_step`), so a second run with the same id continues where the first
stopped and never records a step twice; after a declined consent, or once the study is
completed, it is refused before the app starts (:func:`make_study_app`). The one thing the app
adds: a questionnaire is shown right after the step before it even when none of its items is
required (the bundle, counting required answers, would never find it due).

The app owns the study bundle (and, during the feed, the participant's feed run) and makes every
bundle call itself, on its own thread: screens show what they are given and return choices.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import Any, ClassVar

from textual import events
from textual.app import App
from textual.binding import Binding, BindingType
from textual.geometry import Size

from engine.clock import Clock
from engine.store import DatabaseError
from engine.study import Enrolment, StudyBundle, StudyError, open_bundle
from engine.text import printable
from tui.app import MIN_SIZE, after_pending_keys
from tui.screens.onboarding import NewViewer, OnboardingScreen
from tui.screens.prompts import ChoicePrompt
from tui.screens.study_consent import ConsentScreen
from tui.screens.study_debrief import DebriefScreen
from tui.screens.study_end import CompletionScreen, DeclinedScreen
from tui.screens.study_feed import StudyFeedScreen
from tui.screens.study_questionnaire import QuestionnaireScreen
from tui.screens.too_small import TooSmallScreen
from tui.study_session import StudyFeedSession
from tui.write_failure import as_exit_error

HEADINGS = {
    "pre": "A FEW QUESTIONS BEFORE YOU START",
    "post": "A FEW QUESTIONS ABOUT THE FEED YOU JUST WATCHED",
}


class StudyApp(App[None]):
    """One participant's run through a study bundle."""

    TITLE = "foryou"  # never the study's or the condition's name
    CSS_PATH = "app.tcss"
    # The palette offers screenshots to disk and theme changes: not a participant's business.
    ENABLE_COMMAND_PALETTE = False
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "request_quit", "leave"),
        # Textual's own ctrl+q would leave without asking, unlike q.
        Binding("ctrl+q", "request_quit", "leave", show=False, priority=True),
        Binding("ctrl+c", "shutdown", "quit now", show=False, priority=True),
    ]

    def __init__(
        self,
        bundle: StudyBundle,
        enrolment: Enrolment,
        *,
        live: bool = True,
        clock: Callable[[], float] = time.monotonic,
        world_clock: Clock | None = None,
    ) -> None:
        """Create the app (see :func:`make_study_app`).

        Args:
            bundle: The open study bundle; the app closes it when it exits.
            enrolment: Where the participant stands now.
            live: Play videos in real time; off for tests.
            clock: Monotonic seconds for playback.
            world_clock: The feed engine's world time (None: the wall clock); the feed's
                minutes are counted in it.
        """
        super().__init__()
        self.bundle = bundle
        self.enrolment = enrolment
        self.participant = enrolment.participant
        self.live = live
        self.clock = clock
        self.world_clock = world_clock
        self.session: StudyFeedSession | None = None
        self.outcome = "stopped"  # declined | completed | stopped: for the command's last line
        self.completion_code: str | None = None
        self._world_facts: tuple[dict[str, str], list[str], list[str]] | None = None
        self._leave_prompt: ChoicePrompt | None = None
        if not live:
            self.animation_level = "none"

    def on_mount(self) -> None:
        if self.enrolment.resumed:
            self.notify("Welcome back: you continue where you stopped.", timeout=4)
        self._step(self.enrolment.next_step)

    # -- the steps --------------------------------------------------------------------------

    def _continue(self) -> None:
        """Ask the bundle what comes next, and show it."""
        self.enrolment = self.bundle.enrol(self.participant)
        self._step(self.enrolment.next_step)

    def _step(self, step: str) -> None:
        steps: dict[str, Callable[[], None]] = {
            "consent": self._ask_consent,
            "pre": lambda: self._ask("pre"),
            "onboarding": self._onboard,
            "feed": self._open_feed,
            "post": lambda: self._ask("post"),
            "debrief": self._debrief,
            "finish": self._finish,
        }
        steps[step]()
        self._check_size(self.size)  # a new step's screen goes under the too-small notice

    def _ask_consent(self) -> None:
        self.push_screen(ConsentScreen(self.bundle.study.consent), self._consented)

    def _consented(self, agreed: bool | None) -> None:
        if agreed is None:
            return  # the screen closed without a decision: nothing to record
        self.bundle.record_consent(self.participant, agreed=agreed)
        if agreed:
            self._continue()
            return
        self.outcome = "declined"
        self.push_screen(DeclinedScreen())

    def _ask(self, phase: str) -> None:
        items = self.bundle.study.items(phase)
        # Keys pressed for the feed as it ends by itself must not answer the questions.
        screen = QuestionnaireScreen(HEADINGS[phase], items, wait_for_start=phase == "post")
        self.push_screen(screen, lambda answers: self._answered(phase, answers))

    def _answered(self, phase: str, answers: dict[str, Any] | None) -> None:
        try:
            self.bundle.record_answers(self.participant, phase, answers or {})
        except ValueError as exc:  # the screen checks first; the bundle has the last word
            self.notify(str(exc), severity="error", markup=False)
            self._ask(phase)
            return
        self._continue()

    def _onboard(self) -> None:
        labels, languages, countries = self.world_facts()
        screen = OnboardingScreen(labels, languages, countries, ask_name=False)
        self.push_screen(screen, self._onboarded)

    def _onboarded(self, choice: NewViewer | None) -> None:
        choice = choice or NewViewer(name=None, interests=(), language="en", country="US")
        self._open_feed(choice)

    def _open_feed(self, onboarding: NewViewer | None = None) -> None:
        """Open the participant's feed run (onboarding applies the first time only)."""
        try:
            feed = self.bundle.open_feed(
                self.participant,
                interests=onboarding.interests if onboarding else (),
                language=onboarding.language if onboarding else "en",
                country=onboarding.country if onboarding else "US",
                clock=self.world_clock,
            )
        except ValueError as exc:
            self.notify(str(exc), severity="error", markup=False)
            self._onboard()
            return
        session = StudyFeedSession(feed, clock=self.clock)
        if session.videos_left() == 0 or session.out_of_time():
            # An earlier run reached the end but stopped before it could say so.
            session.close(ended=True)
            self._continue()
            return
        self.session = session
        screen = StudyFeedScreen(session, live=self.live, clock=self.clock)
        self.push_screen(screen, self._feed_over)

    def _feed_over(self, _: None = None) -> None:
        if self.session is not None:
            self.session.close(ended=True)
            self.session = None
        self._continue()

    def _debrief(self) -> None:
        labels, _, _ = self.world_facts()
        debrief = self.bundle.debrief(self.participant)
        disclosed = self.enrolment.boost_disclosed
        screen = DebriefScreen(debrief, labels, boost_disclosed=disclosed)
        self.push_screen(screen, lambda _: self._finish())

    def _finish(self) -> None:
        self.completion_code = self.bundle.finish(self.participant)
        self.outcome = "completed"
        self.push_screen(CompletionScreen(self.completion_code))

    def world_facts(self) -> tuple[dict[str, str], list[str], list[str]]:
        """Topic labels, languages and countries of the study's world (read once)."""
        if self._world_facts is None:
            world = self.bundle.store.load_world()
            labels = {
                s: printable(n) for s, n in zip(world.topics.slug, world.topics.name, strict=True)
            }
            self._world_facts = (labels, list(world.languages), list(world.countries))
        return self._world_facts

    # -- leaving ----------------------------------------------------------------------------

    def action_request_quit(self) -> None:
        """q: leave for now (a later run continues), after a confirmation."""
        if self._leave_prompt is not None and self.screen is self._leave_prompt:
            return  # already asking
        prompt = self._leave_prompt = ChoicePrompt(
            "Leave the study for now?",
            [
                ("stay", "No, carry on"),
                ("leave", "Yes: run again with the same id later to continue"),
            ],
        )
        self.push_screen(prompt, self._leave)

    def _leave(self, choice: str | None) -> None:
        if choice == "leave":
            self.exit()

    def action_shutdown(self) -> None:
        """Ctrl+C: leave at once, after the keys typed before it (what is recorded stays; a later
        run continues)."""
        after_pending_keys(self, self.exit)

    def on_unmount(self) -> None:
        if self.session is not None:
            # After a refused write the file may refuse this one too: what came before is saved.
            with suppress(DatabaseError):
                self.session.close()
        self.bundle.close()

    def _handle_exception(self, error: Exception) -> None:
        # A refused write (a full disk) ends the run with one line, not a traceback.
        super()._handle_exception(as_exit_error(error, self.bundle.path))

    # -- terminal size ----------------------------------------------------------------------

    def on_resize(self, event: events.Resize) -> None:
        self._check_size(event.size)

    def _check_size(self, size: Size) -> None:
        too_small = size.width < MIN_SIZE[0] or size.height < MIN_SIZE[1]
        showing = isinstance(self.screen, TooSmallScreen)
        if too_small and not showing:
            self.push_screen(TooSmallScreen(MIN_SIZE))
        elif showing and not too_small:
            self.pop_screen()


def make_study_app(
    db_path: str | Path,
    participant: str,
    *,
    live: bool = True,
    clock: Callable[[], float] = time.monotonic,
    world_clock: Clock | None = None,
) -> StudyApp:
    """Open a study bundle and build the app for one participant.

    Args:
        db_path: The study bundle (`foryou study init`).
        participant: The participant's pseudonymous id (e.g. P017).
        live: Play videos in real time (off: playback moves only through `FeedScreen.play`).
        clock: Monotonic seconds for playback.
        world_clock: The feed engine's world time (a virtual clock makes tests exact).

    Raises:
        StudyError: a malformed id, a participant who declined earlier, has completed the
            study or is running in another terminal, or a world without a study (each a
            ValueError with a one-line message).
        StoreError: the file is missing or is not a foryou file.
    """
    bundle = open_bundle(db_path)
    try:
        enrolment = bundle.enrol(participant)
        bundle.claim(participant)  # before consent: a second terminal must not answer it too
        if enrolment.next_step == "done":
            raise StudyError(
                f"participant {participant} has already completed the study; this id cannot "
                "take part again (`foryou study status` counts them)"
            )
    except BaseException:
        bundle.close()
        raise
    return StudyApp(bundle, enrolment, live=live, clock=clock, world_clock=world_clock)
