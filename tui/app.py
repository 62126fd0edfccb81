"""The foryou app: who is watching, onboarding, the feed, and a summary on the way out.

`make_app` opens the world and is what the CLI and the tests call. The app owns the engine for
its lifetime and closes it on exit; screens receive data and return choices, and only the
app (viewers) and :class:`~tui.session.FeedSession` (everything per video) call the engine.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import events
from textual.app import App
from textual.binding import Binding, BindingType
from textual.geometry import Size

from engine import Engine
from engine.clock import Clock
from engine.store import DatabaseError
from engine.text import printable
from tui.screens.feed import FeedScreen
from tui.screens.onboarding import NewViewer, OnboardingScreen
from tui.screens.panel import Panel
from tui.screens.summary import SummaryScreen
from tui.screens.too_small import TooSmallScreen
from tui.screens.viewers import ViewerScreen
from tui.session import FeedSession
from tui.write_failure import as_exit_error

if TYPE_CHECKING:
    # The simulator loads only with --autopilot: ~40 ms of cold start otherwise.
    from tui.autopilot import Autopilot, AutopilotSettings, Cast

MIN_SIZE = (72, 22)


def after_pending_keys(app: App[None], callback: Callable[[], object]) -> None:
    """Run `callback` once the keys already typed have been handled.

    A priority binding (ctrl+c, ctrl+q) acts as soon as the app reads its key, while the keys
    typed just before it still travel from the focused widget up to the screen and back to the
    app, which runs their bindings. Passing the callback along the same path, one queue after
    the other, lets a "j" or an "l" typed just before ctrl+c be recorded instead of dropped.

    Args:
        app: The running app.
        callback: What the priority binding does.
    """
    path = [*(app.focused or app.screen).ancestors_with_self]

    def hop(index: int) -> None:
        if index == len(path) or not path[index].call_later(hop, index + 1):
            callback()

    hop(0)


class FeedApp(App[None]):
    """A terminal "For You" feed over one open engine."""

    TITLE = "foryou"
    CSS_PATH = "app.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "request_quit", "quit"),
        # Textual's own ctrl+q leaves without closing the video or showing the summary.
        Binding("ctrl+q", "request_quit", "quit", show=False, priority=True),
        Binding("ctrl+c", "shutdown", "quit now", show=False, priority=True),
    ]

    def __init__(
        self,
        engine: Engine,
        world_name: str,
        *,
        user_id: int | None = None,
        live: bool = True,
        clock: Callable[[], float] = time.monotonic,
        autopilot: Cast | None = None,
    ) -> None:
        """Create the app (see :func:`make_app`).

        Args:
            engine: An open engine; the app closes it when it exits.
            world_name: The world file's name, for headings.
            user_id: Go straight to this viewer's feed; None asks who is watching.
            live: Play videos in real time; off for tests and snapshots.
            clock: Monotonic seconds for playback and the session's length.
            autopilot: A persona to drive the feed until a key is pressed.
        """
        super().__init__()
        self.engine = engine
        self.world_name = world_name
        self.user_id = user_id
        self.live = live
        self.clock = clock
        self.session: FeedSession | None = None
        self.autopilot_cast = autopilot
        self.autopilot: Autopilot | None = None
        if not live:
            self.animation_level = "none"

    def on_mount(self) -> None:
        if self.user_id is None:
            viewers = ViewerScreen(self.engine.users(), self.world_name)
            self.push_screen(viewers, self._viewer_chosen)
        else:
            self.start_feed(self.user_id)
        self._check_size(self.size)

    def on_resize(self, event: events.Resize) -> None:
        self._check_size(event.size)

    def _check_size(self, size: Size) -> None:
        too_small = size.width < MIN_SIZE[0] or size.height < MIN_SIZE[1]
        showing = isinstance(self.screen, TooSmallScreen)
        if too_small and not showing:
            self.push_screen(TooSmallScreen(MIN_SIZE))
        elif showing and not too_small:
            self.pop_screen()

    def _viewer_chosen(self, user_id: int | None) -> None:
        if user_id is None:
            self._onboard()
            return
        try:
            self.engine.claim_viewer(user_id)  # refused: their feed is open in another terminal
            self.engine.profile(user_id)  # refused: the ranker cannot re-live their history
        except ValueError as exc:
            self.notify(printable(str(exc)), severity="error", timeout=10, markup=False)
            self.push_screen(
                ViewerScreen(self.engine.users(), self.world_name), self._viewer_chosen
            )
            return
        self.start_feed(user_id)

    def _onboard(self, again: NewViewer | None = None) -> None:
        """Ask a new viewer about themselves (`again`: their refused answers, to start from)."""
        languages, countries = self.engine.locales()
        previous = again or NewViewer(name=None, interests=(), language="en", country="US")
        onboarding = OnboardingScreen(
            {slug: printable(name) for slug, name in self.engine.topic_labels().items()},
            languages,
            countries,
            language=previous.language,
            country=previous.country,
            interests=previous.interests,
        )
        self.push_screen(onboarding, self._onboarded)

    def _onboarded(self, choice: NewViewer | None) -> None:
        if choice is None:
            return
        try:
            user_id = self.engine.new_user(
                list(choice.interests),
                choice.language,
                choice.country,
                name=choice.name,
            )
        except ValueError as exc:
            self.notify(str(exc), severity="error", markup=False)
            self._onboard(again=choice)
            return
        self.start_feed(user_id)

    def start_feed(self, user_id: int) -> None:
        """Open a viewer's feed.

        Args:
            user_id: The viewer.
        """
        self.session = FeedSession(self.engine, user_id, clock=self.clock)
        screen = FeedScreen(self.session, live=self.live, clock=self.clock)
        self.push_screen(screen)
        if self.autopilot_cast is not None:
            from tui.autopilot import Autopilot

            self.autopilot = Autopilot(screen, self.autopilot_cast, hand_over=self._hand_over)
            self.call_after_refresh(self.autopilot.start, live=self.live)
        # The catalog, the DOM and the styles live as long as the app: freezing them once the
        # feed is up keeps the cyclic collector from walking them again, a pause of up to
        # ~100 ms on a 100k world that would otherwise land on a keypress now and then.
        self.call_after_refresh(gc.freeze)

    async def on_event(self, event: events.Event) -> None:
        # Before any binding or widget sees it: a person's key or click must not act as the
        # autopilot's simulated viewer, so it only takes over (and asks who is watching).
        if self._person_takes_over(event):
            assert self.autopilot is not None
            self.autopilot.hand_back()
            return
        await super().on_event(event)

    def _person_takes_over(self, event: events.Event) -> bool:
        if self.autopilot is None or not isinstance(event, events.InputEvent):
            return False
        if event.is_forwarded:
            return False
        if isinstance(event, events.Key):
            return self.autopilot.takes_over(event.key)
        pointer = (events.MouseDown, events.MouseScrollDown, events.MouseScrollUp)
        return isinstance(event, pointer) and self.autopilot.takes_over(None)

    def _hand_over(self, why: str) -> None:
        """A person takes over from the autopilot: its session ends, and the person watches as
        themselves, chosen or created in "who is watching"."""
        self.autopilot = self.autopilot_cast = None
        if self.session is not None:
            self.session.close()  # the persona's viewing of the video on screen ends here
            self.session = None
        while len(self.screen_stack) > 1:  # the feed and any prompt the autopilot opened
            self.pop_screen()
        self.push_screen(ViewerScreen(self.engine.users(), self.world_name), self._viewer_chosen)
        self.notify(f"{why} Who is watching?", timeout=4, markup=False)
        self._check_size(self.size)

    def action_request_quit(self) -> None:
        """q, ctrl+q: close the current impression and the session, then show the summary
        (from the summary, or before any feed, leave)."""
        after_pending_keys(self, self._quit_to_summary)

    def _quit_to_summary(self) -> None:
        if self.session is None or isinstance(self.screen, SummaryScreen):
            self.exit()
            return
        if self.autopilot is not None:
            self.autopilot.stop()
        while isinstance(self.screen, Panel):  # q from a panel: it closes as if cancelled
            self.pop_screen()
        self.session.close()
        self.push_screen(SummaryScreen(self.session.summary()))

    def action_shutdown(self) -> None:
        """Ctrl+C: close the current impression and the session, and leave at once (after the
        keys typed before it)."""
        after_pending_keys(self, self._leave_now)

    def _leave_now(self) -> None:
        if self.session is not None:
            self.session.close()
        self.exit()

    def on_unmount(self) -> None:
        if self.session is not None:
            # After a refused write the file may refuse this one too: what came before is saved.
            with suppress(DatabaseError):
                self.session.close()
        self.engine.close()
        gc.unfreeze()  # let what the app leaves behind be collected (tests run many apps)

    def _handle_exception(self, error: Exception) -> None:
        # A refused write (a full disk) ends the app with one line, not a traceback.
        super()._handle_exception(as_exit_error(error, self.engine.store.path))


def make_app(
    db_path: str | Path,
    user: str | None = None,
    *,
    live: bool = True,
    clock: Callable[[], float] = time.monotonic,
    world_clock: Clock | None = None,
    autopilot: AutopilotSettings | None = None,
    policy: object = None,
) -> FeedApp:
    """Open a world and build the app over it.

    Args:
        db_path: The world's SQLite file.
        user: A viewer's name to open their feed directly; None asks who is watching.
        live: Play videos in real time (off: playback moves only through `FeedScreen.play`).
        clock: Monotonic seconds for playback.
        world_clock: The engine's world time (a fixed clock makes picks reproducible).
        autopilot: Let a persona drive the feed; without `user` it watches as its own
            simulated viewer (``autopilot-<seed or topic>``, created on first use), with `user`
            as that viewer, which must be a simulated one.
        policy: Who picks (see :mod:`engine.policy`); default the engine.

    Raises:
        StoreError: the file is missing or is not a foryou world (it is left untouched).
        ValueError: no viewer has that name, or without `autopilot` it is a simulated one (a
            person's reactions must never be recorded as a simulation's).
        ViewerClaimedError: that viewer's feed is open in another process.
        AutopilotError: the persona is neither a seed nor a topic, or `user` is a person.
    """
    engine = Engine.open(db_path, clock=world_clock, policy=policy)
    try:
        user_id = engine.user_id(user) if user is not None else None
        if user_id is not None and autopilot is None and _simulated(engine, user_id):
            raise ValueError(f"{user!r} is a simulated viewer, only the autopilot watches as it")
        cast = None
        if autopilot is not None:
            cast = autopilot.cast(engine)
            user_id = cast.viewer_id(engine, user)
        if user_id is not None:
            engine.claim_viewer(user_id)
            # Opening the viewer re-lives their history through the ranker: one that fails on
            # it is told in one line before the terminal turns full-screen.
            engine.profile(user_id)
    except BaseException:
        engine.close()
        raise
    return FeedApp(
        engine, Path(db_path).name, user_id=user_id, live=live, clock=clock, autopilot=cast
    )


def _simulated(engine: Engine, user_id: int) -> bool:
    return any(row["id"] == user_id and row["simulated"] for row in engine.users())
