"""One viewer's pass through the feed: the only code in the app that talks to the engine per video.

It owns the order of calls the engine expects (serve with ``next``, ``seen`` once painted, close
each viewing with ``skip`` or ``complete``, ``rewatch`` per extra loop) and the back-scroll
history, so screens only show what it returns. Every method that records something returns after
the engine has committed the row, which is what lets the screen acknowledge a reaction honestly.

Threading: the engine and its SQLite connection live on the app's thread. Measured on a
100k-video world, next + seen + close take ~3 ms at p95 and a reaction under 1 ms, well inside a
frame, so calls are made inline: a worker would add a thread hop per key for nothing, and a
Textual thread worker runs each call on a fresh thread, which a sqlite3 connection refuses. The
one slow step, opening the world (~0.1 s), happens in `make_app` before the app starts. Known
hiccups: the first use of a new keyword filter scans captions (~50 ms, once), and a write waits
for another process's write transaction on a shared file.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from engine import Discover, Engine, NothingToRecommendError, Profile, Recommendation, Video
from engine.policy import BrokenPolicyError
from engine.text import printable
from tui.playback import Playback

INTEREST_TOPICS = 8  # topics tracked over the session for the summary chart
# The two numbers the screens show per topic, named the same on every screen:
# "topic affinity" (Profile.topic_affinity, -1..1: what the viewer's reactions to the topic's
# videos say) and "watch similarity", long-term and right now (Profile.long_term_topics and
# short_term_topics, 0..1: how close what they watch is to the topic).
TOPIC_AFFINITY = "topic affinity"
WATCH_SIMILARITY = "watch similarity"


def muted_topics(profile: Profile) -> list[str]:
    """Topics the viewer said "not interested" in that the feed still keeps out (slugs)."""
    return [
        mark["name"]
        for mark in profile.not_interested
        if mark["scope"] == "topic" and mark.get("active") and mark.get("name")
    ]


def into_topics(profile: Profile, n: int = 3) -> list[tuple[str, float]]:
    """What the viewer is into: the topics of highest positive topic affinity, leaving out any
    they said "not interested" in while that still holds.

    Args:
        profile: The engine's view of the viewer.
        n: How many.

    Returns:
        (topic slug, topic affinity) pairs, strongest first.
    """
    muted = set(muted_topics(profile))
    ranked = sorted(profile.topic_affinity.items(), key=lambda kv: -kv[1])
    return [(t, a) for t, a in ranked if a >= 0.005 and t not in muted][:n]


def topic_value(top_topics: list[tuple[str, float]], topic: str) -> float | None:
    """A topic's interest in one profile snapshot, clipped at 0.

    A snapshot keeps only its strongest topics (``Profile.long_term_topics`` holds the top 8),
    so a topic missing from a non-empty one is "not among the top", not 0: that is None. An
    empty snapshot is a vector with nothing learned yet, which is 0 for every topic.

    Args:
        top_topics: (topic slug, value) pairs of the snapshot, strongest first.
        topic: The topic's slug.

    Returns:
        Its value, 0.0 before anything is learned, or None where it is not known.
    """
    if not top_topics:
        return 0.0
    value = dict(top_topics).get(topic)
    return None if value is None else max(value, 0.0)


def interest_trails(
    steps: Sequence[Profile], labels: dict[str, str], topics: int = INTEREST_TOPICS
) -> dict[str, tuple[list[float | None], list[float | None]]]:
    """The strongest long-term topics of the last snapshot, each with its long-term and its
    short-term interest in every snapshot (see :func:`topic_value`).

    Args:
        steps: Profile snapshots, oldest first (at least one).
        labels: Display names by topic slug.
        topics: How many topics to follow.

    Returns:
        Topic label -> (long-term values, short-term values), one per snapshot.
    """
    final = dict(steps[-1].long_term_topics)
    strongest = sorted(final, key=lambda t: -final[t])[:topics]
    return {
        labels.get(topic, topic): (
            [topic_value(step.long_term_topics, topic) for step in steps],
            [topic_value(step.short_term_topics, topic) for step in steps],
        )
        for topic in strongest
    }


def nothing_left(error: NothingToRecommendError) -> str:
    """What a viewer with nothing left to watch is told, in the feed and by `recommend`."""
    return printable(f"{error}. Loosen your filters in the feed's settings (,).")


@dataclass(frozen=True)
class Controls:
    """A viewer's feed controls as the settings screen edits them."""

    allow_sensitive: bool
    keyword_filters: tuple[str, ...]
    topic_sliders: dict[str, float]


@dataclass(frozen=True)
class HiddenCreator:
    """A creator the viewer hid, and the video the hide was recorded on (an unhide goes there)."""

    handle: str
    video_id: int


@dataclass(frozen=True)
class SessionSummary:
    """What the summary screen shows when the viewer leaves."""

    viewer: str
    videos_watched: int
    completions: int
    reactions: int
    session_s: float
    watched_s: float
    # topic label -> its long-term and its short-term ("right now") interest at the start and
    # after each video; None where the topic was not among the snapshot's top topics
    interest_trail: dict[str, tuple[list[float | None], list[float | None]]]
    profile_before: Profile
    profile_after: Profile
    labels: dict[str, str] = field(default_factory=dict)


class FeedSession:
    """The viewer's feed: what is on screen now, what came before, and what each step records."""

    def __init__(
        self, engine: Engine, user_id: int, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        """Start a session; nothing is served until the first :meth:`forward`.

        Args:
            engine: The open engine (used from this thread only).
            user_id: The viewer.
            clock: Monotonic seconds, for the session's length.
        """
        self.engine = engine
        self.user_id = user_id
        self.clock = clock
        # Topic names come from the file: neutralised once here for every screen that shows them.
        self.labels = {slug: printable(name) for slug, name in engine.topic_labels().items()}
        self.history: list[Recommendation] = []
        self.index = -1
        self.video: Video | None = None
        self.playback = Playback(duration_s=0.0)
        self.started_at = clock()
        self.profile_before = engine.profile(user_id)
        self.speed = self.profile_before.playback_speed  # as the viewer left it last time
        # Likes and saves from earlier sessions too, so the toggles undo what the engine holds.
        self.liked = set(self.profile_before.liked)
        self.saved = set(self.profile_before.saved)
        self.follows = set(self.profile_before.follows)
        self.viewer = self.profile_before.name
        self._watched_ids: set[int] = set()
        # What the ranker's observe() raised after an event was saved: the event counts (it is
        # in the file), and the screen tells the viewer (see take_policy_errors).
        self.policy_errors: list[str] = []
        self.completions = 0
        self.reactions = 0
        self.watched_s = 0.0
        self._seen: set[int] = set()
        self._trail: list[Profile] = [self.profile_before]
        self._closed = False
        # The viewing on screen was closed and nothing replaced it (the next pick failed): it
        # records nothing more until the viewer moves.
        self.stopped = False

    # -- moving through the feed ------------------------------------------------------------

    @property
    def videos_watched(self) -> int:
        """Distinct videos whose viewing was closed (a revisit counts once)."""
        return len(self._watched_ids)

    @property
    def current(self) -> Recommendation | None:
        """The recommendation on screen, or None before the first one."""
        return self.history[self.index] if self.index >= 0 else None

    def forward(self) -> Recommendation:
        """Leave the current video (closing its viewing) and show the next one.

        Returns the next video in the back-scroll history if the viewer had scrolled back,
        otherwise a freshly served one.

        The current viewing is closed first, so the pick already knows how it ended.

        Raises:
            NothingToRecommendError: every candidate is filtered out. The current video stays
                on screen, its viewing closed and its playback stopped (see :attr:`stopped`).
            BrokenPolicyError: the ranker raised or returned what cannot be served (nothing
                was served; the current video stays as above).
        """
        self._close_viewing()
        if self.index + 1 < len(self.history):
            self.index += 1
            return self._begin_viewing()
        # On failure the closed viewing stays on screen, stopped: reopening it would store a
        # revisit impression (and its skip) on every further press while the pick keeps failing.
        recommendation = self.engine.next(self.user_id)
        self.history.append(recommendation)
        self.index += 1
        return self._begin_viewing(recommendation.video)

    def back(self) -> Recommendation | None:
        """Scroll back to the previous video (closing the current viewing); None at the top."""
        if self.index <= 0:
            return None
        self._close_viewing()
        self.index -= 1
        return self._begin_viewing()

    def mark_seen(self) -> None:
        """The current video has been painted: tell the engine once per impression."""
        current = self.current
        if current is not None and current.impression_id not in self._seen:
            self._seen.add(current.impression_id)
            self.engine.seen(self.user_id, current.video.id)

    def play(self, wall_s: float) -> list[str]:
        """Let playback run for `wall_s` seconds, recording a completion or rewatches it reaches.

        Returns:
            The kinds recorded ("complete", "rewatch"), in order.
        """
        current = self.current
        if current is None or self.stopped:
            return []
        crossed = self.playback.advance(wall_s)
        for kind in crossed:
            if kind == "complete":
                self._record(current.video.id, "complete", watched_s=current.video.duration_s)
                self.completions += 1
                self.watched_s += current.video.duration_s
            else:
                self._record(current.video.id, "rewatch")
        return crossed

    def set_speed(self, speed: float) -> None:
        """Playback speed for this and later videos, and the next session's (it is kept with
        the viewer's settings)."""
        self.engine.set_controls(self.user_id, playback_speed=speed)
        self.speed = speed
        self.playback.speed = speed

    def _begin_viewing(self, served: Video | None = None) -> Recommendation:
        """Start a viewing of history[index]; `served` is its Video if it was just served (its
        counts are current). Otherwise it is a revisit, a viewing of its own: the engine gives
        it a new impression, so the earlier viewing's record stays as it was, and its counts
        are fetched again."""
        current = self.history[self.index]
        if served is None:
            impression_id = self.engine.revisit(self.user_id, current.video.id)
            current = dataclasses.replace(current, impression_id=impression_id)
            self.history[self.index] = current
        self.video = served or self.engine.video(current.video.id)
        self.playback = Playback(duration_s=current.video.duration_s, speed=self.speed)
        self.stopped = False
        return current

    def _close_viewing(self) -> None:
        """Close the viewing on screen, once: a skip with its seconds unless it completed."""
        current = self.current
        if current is None or self.stopped:
            return
        self.stopped = True
        self.playback.paused = True
        self._watched_ids.add(current.video.id)
        if not self.playback.completed:
            watched = self.playback.watched_s
            self._record(current.video.id, "skip", watched_s=watched)
            self.watched_s += watched
        self._trail.append(self.profile())

    # -- reactions --------------------------------------------------------------------------

    def react(
        self,
        kind: str,
        *,
        scope: str | None = None,
        reason: str | None = None,
        text: str | None = None,
    ) -> None:
        """Record a reaction to the video on screen; returns once it is committed.

        Raises:
            ValueError: the engine refused it (nothing was written).
        """
        current = self.current
        if current is None:
            raise ValueError("no video on screen")
        self._record(current.video.id, kind, scope=scope, reason=reason, text=text)
        self.reactions += 1
        self.video = self.engine.video(current.video.id)

    def toggle_like(self) -> bool:
        """Like or unlike the video on screen; returns whether it is liked now."""
        return self._toggle(self.liked, "like", "unlike")

    def toggle_save(self) -> bool:
        """Save or unsave the video on screen; returns whether it is saved now."""
        return self._toggle(self.saved, "save", "unsave")

    def toggle_follow(self) -> bool:
        """Follow or unfollow the creator on screen; returns whether they are followed now."""
        handle = self._video().creator_handle
        following = handle in self.follows
        self.react("unfollow" if following else "follow")
        self.follows.symmetric_difference_update({handle})
        return not following

    def _toggle(self, done: set[int], kind: str, undo: str) -> bool:
        video_id = self._video().id
        if video_id in done:
            self.react(undo)
            done.discard(video_id)
            return False
        self.react(kind)
        done.add(video_id)
        return True

    def _video(self) -> Video:
        if self.video is None:
            raise ValueError("no video on screen")
        return self.video

    def _record(
        self,
        video_id: int,
        kind: str,
        *,
        watched_s: float | None = None,
        scope: str | None = None,
        reason: str | None = None,
        text: str | None = None,
    ) -> None:
        try:
            self.engine.record(
                self.user_id,
                video_id,
                kind,
                watched_s=watched_s,
                scope=scope,
                reason=reason,
                text=text,
            )
        except BrokenPolicyError as error:  # raised after the event was saved: it counts
            self.policy_errors.append(str(error))

    def take_policy_errors(self) -> list[str]:
        """What the ranker raised since last asked (each after its event was saved)."""
        taken, self.policy_errors = self.policy_errors, []
        return taken

    def hidden_creators(self) -> list[HiddenCreator]:
        """The creators the viewer hid, each with the video an unhide would be recorded on."""
        return [HiddenCreator(h, v) for h, v in self.profile().hidden_on.items()]

    def unhide_creator(self, handle: str) -> None:
        """Let a hidden creator's videos back into the feed; returns once it is committed.

        Raises:
            ValueError: the creator is not hidden.
        """
        video_id = self.profile().hidden_on.get(handle)
        if video_id is None:
            raise ValueError(f"@{handle} is not hidden")
        self._record(video_id, "unhide_creator")

    # -- reading and controls ---------------------------------------------------------------

    def profile(self) -> Profile:
        """What the engine believes about the viewer right now."""
        return self.engine.profile(self.user_id)

    def finalists(self) -> dict[int, Video]:
        """The videos at the top of the current pick's slate (its receipt keeps 8), by id:
        what the x-ray names. ~0.2 ms for all 8 on a 3k world."""
        current = self.current
        if current is None:
            return {}
        ids = [row["video_id"] for row in current.receipt.slate]
        return {video_id: self.engine.video(video_id) for video_id in ids}

    def discover(self) -> Discover:
        """Trending hashtags and sounds."""
        return self.engine.discover()

    def controls(self) -> Controls:
        """The viewer's current feed controls."""
        profile = self.profile()
        return Controls(
            allow_sensitive=profile.allow_sensitive,
            keyword_filters=tuple(profile.keyword_filters),
            topic_sliders=dict(profile.topic_sliders),
        )

    def set_controls(self, controls: Controls) -> None:
        """Apply feed controls (they shape the next pick on).

        Raises:
            ValueError: the engine refused a value.
        """
        self.engine.set_controls(
            self.user_id,
            allow_sensitive=controls.allow_sensitive,
            keyword_filters=list(controls.keyword_filters),
            topic_sliders=dict(controls.topic_sliders),
        )

    def refresh(self) -> None:
        """Forget learned interests, as if newly signed up (follows, hides, filters stay)."""
        self.engine.refresh(self.user_id)

    def checkpoint(self) -> None:
        """Copy the file's write-ahead log into it while the viewer watches
        (:meth:`engine.Engine.checkpoint`), so no pick pays for SQLite's own copy."""
        if not self._closed:
            self.engine.checkpoint()

    # -- leaving ----------------------------------------------------------------------------

    def close(self) -> None:
        """Close the current viewing and the engine session; safe to call more than once."""
        if self._closed:
            return
        self._closed = True
        self._close_viewing()
        self.engine.end_session(self.user_id)

    def summary(self) -> SessionSummary:
        """Figures for the summary screen."""
        after = self.profile()
        steps = self._trail if self._closed else [*self._trail, after]
        trail = interest_trails(steps, self.labels)
        return SessionSummary(
            viewer=self.viewer,
            videos_watched=self.videos_watched,
            completions=self.completions,
            reactions=self.reactions,
            session_s=self.clock() - self.started_at,
            watched_s=self.watched_s,
            interest_trail=trail,
            profile_before=self.profile_before,
            profile_after=after,
            labels=self.labels,
        )
