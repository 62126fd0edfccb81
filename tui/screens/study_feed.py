"""A participant's feed: the feed screen every viewer gets, within the study's limits.

Only the controls the participant's condition grants are offered (the others leave the footer,
the rail and the settings); "why" grants the explanations: the why-screen, the profile panel
and the x-ray. The header shows how much of the feed is left, never the condition. When the
feed's length is reached (its last video is left, or its minutes are up) the screen dismisses
itself and the app moves on.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.timer import Timer

from tui.screens.feed import FeedScreen
from tui.screens.help import HelpEntry
from tui.screens.settings import SettingsScreen
from tui.study_session import StudyFeedSession
from tui.widgets.action_rail import ActionRail
from tui.widgets.playback_bar import clock_text

# Feed-screen actions that are study controls, and the control that grants each.
ACTION_CONTROL = {
    "not_interested": "not_interested",
    "hide": "hide_creator",
    "why": "why",
    "profile": "why",
    "xray": "why",
}
CHECK_EVERY_S = 0.5  # how often the minutes left are checked and shown (and the run kept alive)
# Leaving a study asks first and keeps the participant's place (tui/study_app.py).
STUDY_QUIT = (
    HelpEntry("q ctrl+q", "leave for now (asks first; run again to continue)", "quit"),
    HelpEntry("ctrl+c", "leave at once (run again to continue)", "quit"),
)


def left_text(session: StudyFeedSession) -> str:
    """ "video 3 of 8" or "3:12 left": how far the feed has come, never the condition."""
    limit = session.feed.length.videos
    if limit is not None:
        return f"video {min(session.videos_shown(), limit)} of {limit}"
    return f"{clock_text(session.seconds_left() or 0.0)} left"


class StudyFeedScreen(FeedScreen):
    """The feed of one participant, in their condition; dismissed when the feed is over."""

    def __init__(
        self,
        session: StudyFeedSession,
        *,
        live: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Create the feed.

        Args:
            session: The participant's session over their study feed.
            live: Run the playback clock (off for tests).
            clock: Monotonic seconds for playback.
        """
        super().__init__(session, live=live, clock=clock)
        self.study = session
        self.participant = session.viewer
        self.sub_title = f"{self.participant} · {left_text(session)}"
        self._limits: Timer | None = None
        self._over = False

    def on_mount(self) -> None:
        # FeedScreen.on_mount runs after this one (Textual calls each class's handler).
        offered = self.study.offered
        self.query_one(ActionRail).unavailable = frozenset(
            action for action, control in ACTION_CONTROL.items() if control not in offered
        )
        self._limits = self.set_interval(CHECK_EVERY_S, self.check_limits)
        self.call_after_refresh(self.check_limits)  # once the first video is served

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        control = ACTION_CONTROL.get(action)
        return control is None or control in self.study.offered

    def help_entries(self) -> list[HelpEntry]:
        """The keys this condition grants, and how leaving a study works."""
        entries = [entry for entry in super().help_entries() if entry.action != "quit"]
        return [*entries, *STUDY_QUIT]

    # -- the feed's length ------------------------------------------------------------------

    def check_limits(self) -> None:
        """Show what is left, and end the feed once its minutes are up (the timer calls this)."""
        if self._over:
            return
        self.study.keep_alive()
        self.sub_title = f"{self.participant} · {left_text(self.study)}"
        if self.study.out_of_time():
            self.end_feed()

    def action_next(self) -> None:
        """Next video, or the end of the feed after its last one."""
        if self.study.at_last_video():
            self.end_feed()
            return
        super().action_next()
        self.check_limits()

    def end_feed(self) -> None:
        """Leave the feed for good: whatever is on top of it closes, and the app moves on."""
        if self._over:
            return
        self._over = True
        if self._limits is not None:
            self._limits.stop()
        while self.app.screen is not self:
            self.app.pop_screen()
        self.dismiss(None)

    # -- controls ---------------------------------------------------------------------------

    def action_settings(self) -> None:
        """Feed controls this condition offers (unhiding creators with hiding), and speed."""
        session = self.study
        offered = session.offered
        screen = SettingsScreen(
            session.controls(),
            session.labels,
            session.speed,
            offered=offered,
            hidden=session.hidden_creators() if "hide_creator" in offered else None,
        )
        self.app.push_screen(screen, self._apply_settings)
