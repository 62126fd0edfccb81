"""The tour's hands-off viewer: loves two topics, gives every video the same few seconds.

The feed's autopilot (:mod:`tui.autopilot`) watches at the pace of the videos, which makes a
persona convincing in about 2.5 minutes; a tour of eight claims has to make its points faster
and on cue. The tour pilot is the scripted viewer of :mod:`engine.sim.scripted` (the check
issue 14's learning target is measured with): it finishes and likes every video of its two
topics and skips the rest. Each video stays ``seconds_per_video`` on screen: one of its topics
plays fast enough to reach its end in that time (the playback bar shows the speed, and the
completion is recorded with the video's whole length, as the simulator's virtual time would),
anything else is skipped after half of it. Like the autopilot it presses the feed screen's own
``action_*`` methods and shows each key on the key cap, so every row is written as a person's
keys would write it. A chapter can ask it for one more press (:meth:`queue`): "not interested"
in a topic, "why this video", Discover.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from tui.screens.feed import FeedScreen
from tui.screens.prompts import ChoicePrompt

LOVED_PLAY = 0.8  # of the pace: a loved video reaches its end here, then the pilot moves on
LIKE_AT = 0.4  # of the pace: when it likes a loved video
SKIP_AT = 0.5  # of the pace: when it leaves anything else


@dataclass(frozen=True)
class Request:
    """One press a chapter asks for, on the next video that suits it.

    Attributes:
        action: The feed screen's action ("not_interested", "why", "discover").
        key: The key a person would press.
        label: What the key cap says.
        answer: The choice to make in the prompt it opens ("topic").
        suits: Whether the video on screen is the one to do it on (None: any).
    """

    action: str
    key: str
    label: str
    answer: str | None = None
    suits: Callable[[str], bool] | None = None  # given the video's topic slug


class TourPilot:
    """Drives one feed screen for the tour (the tour calls :meth:`step`)."""

    def __init__(self, screen: FeedScreen, loved: tuple[str, ...], seconds_per_video: float):
        """Create the pilot.

        Args:
            screen: The mounted feed screen it drives.
            loved: The topic slugs it finishes and likes.
            seconds_per_video: Wall seconds each video stays on screen.
        """
        self.screen = screen
        self.loved = loved
        self.pace_s = seconds_per_video
        self.running = True
        self.held = False  # the tour holds the feed still while a takeaway is read
        self.requests: list[Request] = []
        self._on_screen_s = 0.0
        self._viewing: object = None  # the Playback of the video it is watching
        self._liked = False
        self._prompt_since: float | None = None
        self._answer: str | None = None

    def queue(self, request: Request) -> None:
        """Press `request` on the next video that suits it."""
        self.requests.append(request)

    def step(self, wall_s: float) -> None:
        """Let `wall_s` seconds pass and press what is due.

        Args:
            wall_s: Wall seconds since the last step.
        """
        if not self.running:
            return
        screen, app = self.screen, self.screen.app
        if isinstance(app.screen, ChoicePrompt):
            self._answer_prompt(app.screen, wall_s)
            return
        if app.screen is not screen or self.held:
            return
        session = screen.session
        if session.playback is not self._viewing:
            self._begin()
        video = session.video
        if video is None:
            return
        self._on_screen_s += wall_s
        loved = video.topic in self.loved
        request = self._due_request(video.topic)
        if request is not None and self._on_screen_s >= SKIP_AT * self.pace_s:
            self._press(request)
        elif loved and not self._liked and self._on_screen_s >= LIKE_AT * self.pace_s:
            self._liked = True
            if video.id not in session.liked:
                screen.show_key("l", "like", lit_s=self.pace_s / 2)
                screen.action_like()
        elif self._on_screen_s >= (1.0 if loved else SKIP_AT) * self.pace_s:
            screen.show_key("j", "next", lit_s=self.pace_s / 2)
            screen.action_next()

    def _begin(self) -> None:
        """A new video is on screen: one of its topics plays to its end within the pace."""
        session = self.screen.session
        self._viewing, self._on_screen_s, self._liked = session.playback, 0.0, False
        video = session.video
        if video is None:
            return
        if video.topic in self.loved:
            needed = video.duration_s / (LOVED_PLAY * self.pace_s)
            session.playback.speed = float(max(1, math.ceil(needed)))  # "9×", not "8.6875×"
            self.screen.annotate_keys("to the end")
        else:
            self.screen.annotate_keys(f"for {SKIP_AT * self.pace_s:.1f} s")

    def _due_request(self, topic: str) -> Request | None:
        for request in self.requests:
            if request.suits is None or request.suits(topic):
                return request
        return None

    def _press(self, request: Request) -> None:
        self.requests.remove(request)
        self.screen.show_key(request.key, request.label, lit_s=self.pace_s / 2)
        self._answer, self._prompt_since = request.answer, 0.0
        getattr(self.screen, f"action_{request.action}")()

    def _answer_prompt(self, prompt: ChoicePrompt, wall_s: float) -> None:
        """Answer the prompt it opened once it has been up for half the pace."""
        if self._prompt_since is None:
            return  # not ours
        self._prompt_since += wall_s
        if self._prompt_since < SKIP_AT * self.pace_s:
            return
        values = [value for value, _ in prompt.options]
        index = values.index(self._answer) if self._answer in values else len(values) - 1
        self._prompt_since = None
        self.screen.show_key(str(index + 1), self._answer or "", lit_s=self.pace_s / 2)
        prompt.action_choose(index)

    def stop(self) -> None:
        """Stop pressing keys (the tour is over or the presenter took the keys)."""
        self.running = False
