"""`foryou tour`: a guided demo that shows each claim about the For You feed on the live feed.

The tour is a thin layer over the feed app: the presenter's viewer watches the ordinary feed
(:class:`~tui.screens.tour.TourScreen` is the feed screen with a caption bar), and
:class:`Tour` (driven by the app of :mod:`tui.tour_app`) runs the chapters of
:mod:`tui.chapters` over it: it begins a chapter, checks its evidence on the live session a few
times a second, shows the takeaway once the evidence is on screen, and (on autopilot) moves on
after the audience had time to read it. Hands off, the
tour's pilot (:mod:`tui.tour_pilot`) watches; with ``--me`` the presenter's own keys do and the
caption waits for the evidence. ``←``/``→`` move between chapters; ``q`` ends with the summary.

Everything the tour shows is recorded like any feed: the presenter's viewer (``tour-N``, a
simulated viewer on autopilot, a person with ``--me``), the crowd's simulated viewers
(:mod:`tui.tour_crowd`) and chapter 7's boost, written to the boosts table for
:data:`~tui.chapters.BOOST_S` world seconds, disclosed in every receipt like any operator's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from textual.timer import Timer

from engine import Engine
from engine.study import Debrief
from engine.study.debrief import build_debrief
from tui.chapters import (
    BOOST_BY,
    BOOST_REASON,
    BOOST_S,
    BOOST_WEIGHT,
    TRENDING_BOOSTABLE,
    Chapter,
    Notes,
    Shown,
    chapters,
    loved_by_reactions,
    note_fresh,
)
from tui.screens.discover import DiscoverScreen
from tui.screens.panel import Panel
from tui.screens.tour import TourDebriefScreen, TourScreen
from tui.screens.why import WhyScreen
from tui.session import FeedSession, muted_topics
from tui.tour_crowd import Crowd
from tui.tour_pilot import TourPilot
from tui.widgets.caption_bar import CaptionView

if TYPE_CHECKING:
    from tui.tour_app import TourApp

DEFAULT_PACE_S = 2.0
TICK_S = 0.1
MAX_TICK_S = 1.0  # a stalled loop (a suspended laptop) must not count as a chapter's time
CHECK_S = 0.25  # how often a chapter's evidence is looked for
HOLD_PACES = 2.5  # on autopilot, a takeaway stays this many paces before the next chapter
CHAPTER_LIMIT_S = 90.0  # on autopilot, a chapter whose evidence has not come by then moves on


@dataclass
class ChapterLog:
    """How one chapter went: how long it took and what its evidence showed."""

    title: str
    seconds: float = 0.0
    shown: str | None = None  # None: moved on before the evidence came


@dataclass
class Tour:
    """The chapters over one tour screen (the app builds it; tests drive :meth:`advance`)."""

    app: TourApp
    screen: TourScreen
    pilot: TourPilot | None
    pace_s: float
    chapter_list: list[Chapter] = field(default_factory=chapters)
    index: int = 0
    notes: Notes = field(default_factory=Notes)
    log: list[ChapterLog] = field(default_factory=list)
    crowd: Crowd | None = None
    _shown: Shown | None = None
    _began_at: float = 0.0
    _since_check: float = 0.0
    _held_s: float = 0.0
    _last_tick: float = 0.0
    _timer: Timer | None = None
    _debrief: Debrief | None = None
    started: bool = False
    finished: bool = False

    def __post_init__(self) -> None:
        self.log = [ChapterLog(c.title) for c in self.chapter_list]

    # -- what chapters read ---------------------------------------------------------------------

    @property
    def session(self) -> FeedSession:
        return self.screen.session

    @property
    def engine(self) -> Engine:
        return self.app.engine

    def loved(self) -> tuple[str, ...]:
        """The two topics chapter 2 counts: the pilot's, or the presenter's strongest."""
        return self.pilot.loved if self.pilot is not None else loved_by_reactions(self.session)

    def loved_names(self) -> str:
        return " and ".join(self.label(t) for t in self.loved()) or "your two topics"

    def label(self, topic: str) -> str:
        return self.session.labels.get(topic, topic)

    def by_new_creator(self, creator_id: int) -> bool:
        """The creator joined recently and had no views before (the world says so)."""
        return bool(self.engine.catalog.world.creators.is_new[creator_id])

    def chapter_seconds(self) -> float:
        """Seconds the current chapter has run."""
        return self.log[self.index].seconds

    def crowd_picks(self) -> int:
        return 0 if self.crowd is None else self.crowd.picks

    def current_boosted(self) -> bool:
        """The pick on screen was boosted (its receipt says so)."""
        current = self.session.current
        return current is not None and current.receipt.boost is not None

    def why_on_screen(self) -> bool:
        return isinstance(self.app.screen, WhyScreen)

    def debrief_on_screen(self) -> Debrief | None:
        return self._debrief if isinstance(self.app.screen, TourDebriefScreen) else None

    # -- what chapters set going ------------------------------------------------------------------

    def _crowd(self) -> Crowd:
        """The crowd of simulated viewers, signed up the first time a chapter needs it."""
        if self.crowd is None:
            self.crowd = Crowd(self.engine, on_pick=lambda rec: note_fresh(self, rec))
        return self.crowd

    def show_xray(self) -> None:
        """Open the x-ray where the layout does not already show it."""
        if not self.screen.presenter:
            self.screen.panel = "xray"

    def boost_a_video(self, weight: float = BOOST_WEIGHT) -> int:
        """Boost, as an operator would, a trending video the viewer has not seen, outside the
        topics they love and any they muted, and not the one boosted last (it did not arrive:
        a filter of theirs may keep it out); returns its id.

        Args:
            weight: The boost's weight (a learned profile scores its own topics far above a
                stranger's, and a boost multiplies the score).
        """
        seen = {rec.video.id for rec in self.session.history} | {self.notes.boosted}
        avoid = set(self.loved()) | set(muted_topics(self.session.profile()))
        trending = self.engine.discover(n=TRENDING_BOOSTABLE).videos
        candidates = [v for v in trending if v not in seen and self._boostable(v, avoid)]
        chosen = (candidates or trending)[0]
        self.engine.boost(
            chosen, weight=weight, until=self.engine.now + BOOST_S, reason=BOOST_REASON, by=BOOST_BY
        )
        return chosen

    def _boostable(self, video_id: int, avoid: set[str]) -> bool:
        video = self.engine.video(video_id)
        return video.topic not in avoid and not video.sensitive

    def show_discover(self) -> None:
        """Open Discover over the feed."""
        if self.app.screen is self.screen:
            self.app.push_screen(DiscoverScreen(self.engine.discover()))

    def show_debrief(self) -> None:
        """Close the session's current viewing record so far and show the study debrief."""
        labels = self.session.labels
        self._debrief = build_debrief(
            self.app.db_path, self.session.viewer, self.session.user_id, self.engine.config
        )
        self.app.push_screen(TourDebriefScreen(self._debrief, labels, boost_disclosed=True))
        self.app.call_after_refresh(self._show)

    # -- running ----------------------------------------------------------------------------------

    @property
    def chapter(self) -> Chapter:
        return self.chapter_list[self.index]

    def start(self, *, live: bool = True) -> None:
        """Begin the first chapter; `live` runs the tour on a timer (tests call advance)."""
        self.started = True
        self.begin(0)
        if live:
            self._last_tick = self.app.clock()
            self._timer = self.screen.set_interval(TICK_S, self._tick)

    def _tick(self) -> None:
        # The time that really passed: a busy machine stretches the ticks, and the chapters'
        # durations must be what the audience waited.
        now = self.app.clock()
        elapsed, self._last_tick = now - self._last_tick, now
        self.advance(min(elapsed, MAX_TICK_S), playing=False)

    def advance(self, wall_s: float, *, playing: bool = True) -> None:
        """Let `wall_s` seconds pass: the video plays (`playing`: off where the feed's own
        timer plays it), the pilot and the crowd act, and the evidence is looked for.

        Args:
            wall_s: Wall seconds.
            playing: Play the video on screen for them too.
        """
        if self.finished or not self.started:
            return
        if playing and self.app.screen is self.screen:
            self.screen.play(wall_s)
        if self.pilot is not None:
            self.pilot.step(wall_s)
        if self.chapter.crowd and self._shown is None:
            self._crowd().step()
        self.log[self.index].seconds += wall_s
        self._since_check += wall_s
        if self._since_check >= CHECK_S:
            self._since_check = 0.0
            self.check()
        if self._shown is not None and self.pilot is not None:
            self._held_s += wall_s
            if self._held_s >= HOLD_PACES * self.pace_s:
                self.move(+1)
        elif self.pilot is not None and self.log[self.index].seconds >= CHAPTER_LIMIT_S:
            self.move(+1)

    def check(self) -> None:
        """Look for the chapter's evidence and update the caption bar."""
        if self._shown is None:
            self._shown = self.chapter.evidence(self)
            if self._shown is not None:
                self.log[self.index].shown = self._shown.detail
                if self.pilot is not None:
                    self.pilot.held = True
                    if self.chapter.reveal is not None:
                        self.chapter.reveal(self)
        self._show()

    def _show(self) -> None:
        chapter, tour = self.chapter, self
        counter = chapter.counter(tour)
        shown = self._shown
        view = CaptionView(
            title=f"Chapter {chapter.title}",
            caption=chapter.caption
            if self.pilot is not None
            else f"{chapter.caption} You: {chapter.me}.",
            status=chapter.status(tour),
            takeaway=None if shown is None else chapter.takeaway,
            evidence="" if shown is None else shown.detail,
            counter=None if counter is None else counter.value,
            counter_label="" if counter is None else counter.label,
            keys="← → chapters · q summary",
        )
        screen = self.app.screen
        if isinstance(screen, (TourScreen, TourDebriefScreen)):
            screen.show_caption(view)

    def begin(self, index: int) -> None:
        """Begin chapter `index` afresh."""
        self.index = index
        self.notes = Notes(start=max(self.session.index, 0))
        self._shown, self._held_s, self._since_check = None, 0.0, 0.0
        if self.pilot is not None:
            self.pilot.requests.clear()
            self.pilot.held = False
        self.chapter.begin(self)
        self.check()

    def move(self, step: int) -> None:
        """Go to the next (+1) or previous (-1) chapter; past the last, the tour ends."""
        target = self.index + step
        self._close_covers()
        if target >= len(self.chapter_list):
            self.finish()
            return
        self.begin(max(target, 0))

    def _close_covers(self) -> None:
        """Close what a chapter opened over the feed (why, Discover, the debrief, a prompt)."""
        while self.app.screen is not self.screen and isinstance(
            self.app.screen, (Panel, TourDebriefScreen, DiscoverScreen)
        ):
            self.app.pop_screen()

    def finish(self) -> None:
        """The tour is over: stop its timer, the pilot and the crowd, then the summary."""
        self.stop()
        self.app.action_request_quit()

    def stop(self) -> None:
        """Stop the tour without leaving the feed (the app is quitting)."""
        if self.finished:
            return
        self.finished = True
        if self._timer is not None:
            self._timer.stop()
        if self.pilot is not None:
            self.pilot.stop()
        if self.crowd is not None:
            self.crowd.close()
