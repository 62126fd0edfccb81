"""A participant's feed: the engine in their condition, its length, and the controls it offers.

The interface drives it like an :class:`engine.Engine` (``next``, ``seen``, ``record``), through
:class:`Feed` so that a control the condition does not offer is refused rather than recorded,
and so that the study knows when the feed is over (by videos seen or minutes of world time,
counted across resumed runs). Each opening is a *feed run*: the moment the engine computed its
shared state is stored with it, which exact replay needs.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.api import Engine
from engine.clock import Clock
from engine.store.study_log import StudyLog
from engine.study.definition import SessionLength, StudyError
from engine.video import Recommendation

__all__ = ["CONTROL_OF_KIND", "KEEP_ALIVE_S", "Feed", "FirstReading", "Remaining"]

# How often a run notes that it is still running (at most): the most feed time a run whose
# process dies can lose, for one short write.
KEEP_ALIVE_S = 1.0

# Reactions that are feed controls: recorded only where the condition offers them.
CONTROL_OF_KIND = {
    "not_interested": "not_interested",
    "hide_creator": "hide_creator",
    "unhide_creator": "hide_creator",
}


class FirstReading:
    """A clock that remembers its first reading: when an engine opened and computed its shared
    state (trends, test pools) from the file."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.first: float | None = None

    def __call__(self) -> float:
        now = self.clock()
        if self.first is None:
            self.first = now
        return now


@dataclass(frozen=True)
class Remaining:
    """What is left of the feed: videos or seconds, whichever the study counts."""

    videos: int | None
    seconds: float | None

    @property
    def over(self) -> bool:
        return (self.videos is not None and self.videos <= 0) or (
            self.seconds is not None and self.seconds <= 0
        )


class Feed:
    """One run of a participant's feed. Close it (or use it as a context manager)."""

    def __init__(
        self,
        *,
        engine: Engine,
        user_id: int,
        participant_id: int,
        run_id: int,
        opened_world_t: float,
        length: SessionLength,
        controls: tuple[str, ...],
        boost_disclosed: bool | None,
        earlier_s: float,
        heated: Mapping[int, float] | None = None,
    ) -> None:
        self.engine = engine
        self.user_id = user_id
        self.controls = controls
        self.boost_disclosed = boost_disclosed
        # The condition's heated videos and their weights: what an interface that does not
        # disclose the heating must take out of every score it shows, not the pick's only.
        self.heated: Mapping[int, float] = dict(heated or {})
        self.length = length
        self._log = StudyLog(engine.store.db)  # the engine's connection: same thread
        self._participant_id = participant_id
        self._run_id = run_id
        self._opened_world_t = opened_world_t
        self._earlier_s = earlier_s
        self._closed = False
        self._alive_noted: float | None = None  # time.monotonic() of the last note

    # -- what the interface calls ------------------------------------------------------------

    def next(self) -> Recommendation:
        """The next video (see :meth:`engine.Engine.next`)."""
        return self.engine.next(self.user_id)

    def seen(self, video_id: int) -> None:
        self.engine.seen(self.user_id, video_id)

    def record(self, video_id: int, kind: str, **details: Any) -> int:
        """Record a reaction (see :meth:`engine.Engine.record`).

        Raises:
            StudyError: a feed control this condition does not offer.
            ValueError: whatever the engine refuses.
        """
        control = CONTROL_OF_KIND.get(kind)
        if control is not None:
            self._check_control(control)
        return self.engine.record(self.user_id, video_id, kind, **details)

    def set_controls(
        self,
        *,
        allow_sensitive: bool | None = None,
        keyword_filters: list[str] | None = None,
        topic_sliders: dict[str, float] | None = None,
    ) -> None:
        """Change feed controls the condition offers (see :meth:`engine.Engine.set_controls`).

        Raises:
            StudyError: a control this condition does not offer.
        """
        asked = {
            "allow_sensitive": allow_sensitive,
            "keyword_filters": keyword_filters,
            "topic_sliders": topic_sliders,
        }
        for control, value in asked.items():
            if value is not None:
                self._check_control(control)
        self.engine.set_controls(
            self.user_id,
            allow_sensitive=allow_sensitive,
            keyword_filters=keyword_filters,
            topic_sliders=topic_sliders,
        )

    def refresh(self) -> None:
        """Start the feed's learning over (only where the condition offers it)."""
        self._check_control("refresh")
        self.engine.refresh(self.user_id)

    def _check_control(self, control: str) -> None:
        if control not in self.controls:
            raise StudyError(f"this condition does not offer the {control!r} control")

    # -- how much is left --------------------------------------------------------------------

    def videos_seen(self) -> int:
        """Videos watched in this study so far (every run)."""
        return self._log.seen_count(self.user_id)

    def elapsed_s(self) -> float:
        """Seconds of feed time so far, every run included (world time)."""
        return self._earlier_s + max(0.0, self.engine.now - self._opened_world_t)

    def remaining(self) -> Remaining:
        videos = None if self.length.videos is None else self.length.videos - self.videos_seen()
        minutes = self.length.minutes
        seconds = None if minutes is None else minutes * 60.0 - self.elapsed_s()
        return Remaining(videos=videos, seconds=seconds)

    def over(self) -> bool:
        return self.remaining().over

    def keep_alive(self) -> None:
        """Note that this run is still running (at most every :data:`KEEP_ALIVE_S`; an
        interface calls it while the feed is on screen). A run whose process dies is counted up
        to its last note or recorded activity, whichever is later, by the next run."""
        now = time.monotonic()
        if self._closed or (
            self._alive_noted is not None and now - self._alive_noted < KEEP_ALIVE_S
        ):
            return
        self._alive_noted = now
        self._log.keep_alive(self._run_id, time.time(), self.engine.now)

    def close(self, *, ended: bool | None = None) -> None:
        """End this run: the session closes (with a profile snapshot) and the engine too.

        Args:
            ended: whether the participant's feed is over; None means "if its length is
                reached". A feed that is not over resumes at the next :meth:`open_feed`.
        """
        if self._closed:
            return
        self._closed = True
        try:
            over = self.over() if ended is None else ended
            self.engine.end_session(self.user_id)
            self._log.close_run(self._run_id, time.time(), self.engine.now)
            if over:
                self._log.end_feed(self._participant_id, time.time())
        finally:
            self.engine.close()

    def __enter__(self) -> Feed:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
