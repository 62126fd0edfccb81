"""The tour's app: the feed app over a new viewer, with the tour's keys (see :mod:`tui.tour`).

`make_tour_app` is what `foryou tour` and the tests call. On autopilot a person's key other than
the tour's and the view keys is not taken as the simulated viewer's.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

from textual import events
from textual.binding import Binding, BindingType

from engine import Engine
from engine.clock import Clock
from tui.app import FeedApp
from tui.chapters import default_loved
from tui.screens.prompts import TextPrompt
from tui.screens.tour import TourDebriefScreen, TourScreen
from tui.session import FeedSession
from tui.tour import DEFAULT_PACE_S, Tour
from tui.tour_pilot import TourPilot

# Keys that leave the tour's pilot driving (it answers no other: a person's key must not act
# as the simulated viewer).
PILOT_KEYS = frozenset({"left", "right", "q", "ctrl+q", "ctrl+c", "p", "v", "i", "x"})


class TourApp(FeedApp):
    """The feed app running the tour over a new viewer's feed."""

    BINDINGS: ClassVar[list[BindingType]] = [
        # Priority: the chapters move from over why, Discover and the debrief too.
        Binding("right", "tour_move(1)", "next chapter", priority=True),
        Binding("left", "tour_move(-1)", "previous chapter", priority=True),
    ]

    def __init__(
        self,
        engine: Engine,
        db_path: Path,
        *,
        user_id: int | None,
        pace_s: float = DEFAULT_PACE_S,
        loved: tuple[str, ...] | None = None,
        live: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Create the tour (see :func:`make_tour_app`).

        Args:
            engine: An open engine; the app closes it when it exits.
            db_path: The world file (the debrief re-reads the session from it).
            user_id: The pilot's new viewer; None: the presenter signs up and drives.
            pace_s: Seconds per video on autopilot.
            loved: The pilot's two topics (None: the presenter drives).
            live: Play in real time and run the tour on its timer (off for tests).
            clock: Monotonic seconds.
        """
        super().__init__(engine, db_path.name, user_id=user_id, live=live, clock=clock)
        self.db_path = db_path
        self.pace_s = pace_s
        self.loved = loved
        self.tour: Tour | None = None

    def on_mount(self, event: events.Mount) -> None:  # type: ignore[override]  # to prevent it
        event.prevent_default()  # the feed app's own would ask who is watching
        if self.user_id is None:
            self._onboard()  # the presenter signs up: chapter 1 shows what they chose
        else:
            self.start_feed(self.user_id)
        self._check_size(self.size)

    def start_feed(self, user_id: int) -> None:
        """Open the viewer's feed under the tour's captions and begin the first chapter."""
        self.session = FeedSession(self.engine, user_id, clock=self.clock)
        screen = TourScreen(self.session, live=self.live, clock=self.clock)
        self.push_screen(screen)
        pilot = None
        if self.loved is not None:
            pilot = TourPilot(screen, self.loved, self.pace_s)
        self.tour = Tour(self, screen, pilot, self.pace_s)
        self.call_after_refresh(self.tour.start, live=self.live)
        self.call_after_refresh(gc.freeze)  # as the feed app does: no collector pauses

    async def on_event(self, event: events.Event) -> None:
        # On autopilot a person's key must not act as the simulated viewer: only the keys
        # that move the tour or change what is shown get through.
        if self._pilot_keeps_driving(event):
            assert isinstance(event, events.Key)
            self.notify(
                "The tour's autopilot is driving: ← → chapters, q summary "
                "(foryou tour --me to drive yourself).",
                timeout=3,
            )
            return
        await super().on_event(event)

    def _pilot_keeps_driving(self, event: events.Event) -> bool:
        tour = self.tour
        if tour is None or tour.pilot is None or tour.finished:
            return False
        if not isinstance(event, events.Key) or event.is_forwarded:
            return False
        return event.key not in PILOT_KEYS and isinstance(self.screen, TourScreen)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "tour_move":  # arrows edit a comment's text instead
            return self.tour is not None and not isinstance(self.screen, TextPrompt)
        return True

    def action_tour_move(self, step: int) -> None:
        """Next or previous chapter."""
        if self.tour is not None and not self.tour.finished:
            self.tour.move(step)

    def action_request_quit(self) -> None:
        """q: the tour stops, then the summary (from the summary, leave)."""
        if self.tour is not None:
            self.tour.stop()
        while isinstance(self.screen, TourDebriefScreen):
            self.pop_screen()
        super().action_request_quit()

    def on_unmount(self) -> None:
        # Before the feed app's own handler closes the session and the engine.
        if self.tour is not None:
            self.tour.stop()


def tour_viewer_name(engine: Engine) -> str:
    """A name no viewer has yet: tour-1, tour-2, ..."""
    names = {row["name"] for row in engine.users()}
    k = 1
    while f"tour-{k}" in names:
        k += 1
    return f"tour-{k}"


def make_tour_app(
    db_path: str | Path,
    *,
    autopilot: bool = True,
    pace_s: float = DEFAULT_PACE_S,
    live: bool = True,
    clock: Callable[[], float] = time.monotonic,
    world_clock: Clock | None = None,
) -> TourApp:
    """Open a world and build the tour over it.

    On autopilot a new simulated viewer (``tour-N``) signs up naming the pilot's two topics;
    with the presenter driving, they sign up themselves in the app.

    Args:
        db_path: The world's SQLite file.
        autopilot: The tour's pilot watches (hands off); off: the presenter's keys.
        pace_s: Seconds per video on autopilot.
        live: Play in real time (off for tests, which call ``app.tour.advance``).
        clock: Monotonic seconds for playback.
        world_clock: The engine's world time (a fixed clock makes picks reproducible).

    Raises:
        StoreError: the file is missing or is not a foryou world.
    """
    path = Path(db_path)
    engine = Engine.open(path, clock=world_clock)
    try:
        user_id, loved = None, None
        if autopilot:
            loved = default_loved(engine)
            user_id = engine.new_user(list(loved), name=tour_viewer_name(engine), simulated=True)
            engine.claim_viewer(user_id)
    except BaseException:
        engine.close()
        raise
    return TourApp(
        engine, path, user_id=user_id, pace_s=pace_s, loved=loved, live=live, clock=clock
    )
