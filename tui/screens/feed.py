"""The feed: one video at a time, reacted to with single keys, with the engine's view beside it.

Every action is a plain ``action_*`` method bound to a key, so the footer, mouse clicks on the
action rail and an autopilot all drive the feed the same way. The screen keeps only view state;
what is recorded and what comes next is :class:`~tui.session.FeedSession`'s business.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from typing import ClassVar

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.reactive import reactive
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Header, Static

from engine import NothingToRecommendError
from engine.policy import BrokenPolicyError
from engine.text import printable
from tui.playback import next_speed
from tui.screens.discover import DiscoverScreen
from tui.screens.help import FEED_KEYS, HelpEntry, HelpScreen
from tui.screens.prompts import TextPrompt, report_prompt, scope_prompt
from tui.screens.settings import SettingsResult, SettingsScreen
from tui.screens.why import WhyScreen
from tui.session import FeedSession, nothing_left
from tui.widgets.action_rail import ActionRail, RailState
from tui.widgets.heart_burst import HeartBurst
from tui.widgets.key_cap import KeyCap
from tui.widgets.phone import Phone
from tui.widgets.playback_bar import PlaybackBar
from tui.widgets.profile_panel import ProfilePanel
from tui.widgets.video_canvas import VideoCanvas, Visual
from tui.widgets.video_details import VideoDetails
from tui.widgets.xray_panel import XRayPanel

CROWDED_WIDTH = 110  # below this, an open side panel takes the caption column's place
MAX_TICK_S = 0.5  # a stalled loop must not fast-forward the video
# A video has been on screen this long: the viewer is watching, not pressing keys, so the file's
# write-ahead log is copied into it now (a millisecond or two) rather than inside a pick.
CHECKPOINT_AFTER_S = 1.0
REACTIONS = Binding.Group("react")


class FeedScreen(Screen[None]):
    """The For You feed of one viewer."""

    CSS_PATH = "feed.tcss"

    # From 100 columns the footer shows every key but v: moving and panels first, each with its
    # word, then the reactions as one group of bare keys (with their words the footer would need
    # 145 columns); the rail beside the video shows each reaction with its word, so at 80
    # columns, where the footer ends after "q quit", nothing is out of sight.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j,down,space", "next", "next", key_display="j"),
        Binding("k,up", "previous", "prev", key_display="k"),
        Binding("p", "pause", "pause"),
        Binding("w", "why", "why"),
        Binding("i", "profile", "profile"),
        Binding("x", "xray", "xray"),
        Binding("d", "discover", "trends"),
        Binding("comma", "settings", "settings", key_display=","),
        Binding("question_mark", "help", "help", key_display="?"),
        Binding("q", "app.request_quit", "quit"),
        Binding("l", "like", "like", group=REACTIONS),
        Binding("c", "comment", "comment", group=REACTIONS),
        Binding("s", "share", "share", group=REACTIONS),
        Binding("f", "save", "save", group=REACTIONS),
        Binding("F", "follow", "follow", group=REACTIONS),
        Binding("n", "not_interested", "not interested", group=REACTIONS),
        Binding("h", "hide", "hide creator", group=REACTIONS),
        Binding("r", "report", "report", group=REACTIONS),
        Binding("v", "speed", "speed 1×/2×/4×", show=False),
    ]

    panel: reactive[str] = reactive("", init=False)  # "", "profile" or "xray"

    def __init__(
        self,
        session: FeedSession,
        *,
        live: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Create the feed.

        Args:
            session: The viewer's session (serves the first video on mount if none yet).
            live: Run the playback clock; off for tests and snapshots, which call `play`.
            clock: Monotonic seconds for playback.
        """
        super().__init__()
        self.session = session
        self.live = live
        self.clock = clock
        self.sub_title = f"@{printable(session.viewer)}"
        self._timer: Timer | None = None
        self._checkpoint: Timer | None = None
        self._last_tick = clock()
        self._painting = False  # a video was served and is not on screen yet

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="body"):
            yield Phone(id="phone")
            with Vertical(id="rail-column"):
                yield ActionRail(id="rail")
                yield KeyCap(id="key-cap")
            with Vertical(id="info"):
                yield VideoDetails(scrolling=self.live, id="details")
                yield Static(id="notice")
            yield ProfilePanel(self.session.labels, id="profile-panel", classes="side-panel")
            yield XRayPanel(id="xray-panel", classes="side-panel")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self._timer = self.set_interval(1 / VideoCanvas.FPS, self._tick, pause=True)
        if self.session.current is None:
            self._move(self.session.forward)
        else:
            self._show_current()

    def on_screen_resume(self) -> None:
        self._last_tick = self.clock()
        if self._timer is not None and self.live:
            self._timer.resume()

    def on_screen_suspend(self) -> None:
        # Another screen on top (a prompt, "why", settings): the viewer is not watching.
        if self._timer is not None:
            self._timer.pause()

    def on_resize(self, event: events.Resize) -> None:
        self._sync_crowding()

    # -- playback ---------------------------------------------------------------------------

    def _tick(self) -> None:
        now = self.clock()
        elapsed, self._last_tick = min(now - self._last_tick, MAX_TICK_S), now
        if not self._painting:
            self.play(elapsed)

    def play(self, wall_s: float) -> None:
        """Let playback run for `wall_s` seconds and show where it is (the timer calls this).

        Args:
            wall_s: Wall-clock seconds that passed.
        """
        crossed = self.session.play(wall_s)
        self.query_one(VideoCanvas).seek(self.session.playback.position_s)
        self.query_one(PlaybackBar).show(self.session.playback)
        if crossed:
            self._update_panels()

    # -- moving -----------------------------------------------------------------------------

    def action_next(self) -> None:
        """Next video (the current one closes as a skip or stays a completion)."""
        self._move(self.session.forward)

    def action_previous(self) -> None:
        """Scroll back to the previous video."""
        self._move(self.session.back)

    def action_pause(self) -> None:
        """Pause or resume playback."""
        playback = self.session.playback
        playback.paused = not playback.paused
        self.query_one(PlaybackBar).show(playback)

    def action_speed(self) -> None:
        """Cycle the playback speed 1× → 2× → 4×."""
        self.set_speed(next_speed(self.session.speed))

    def set_speed(self, speed: float) -> None:
        """Play this and later videos at `speed`."""
        self.session.set_speed(speed)
        self.query_one(PlaybackBar).show(self.session.playback)
        self.notify(f"Playback speed {speed:g}×", timeout=1.5)

    def _move(self, move: Callable[[], object]) -> None:
        try:
            moved = move()
        except NothingToRecommendError as exc:
            self.notify(nothing_left(exc), severity="error", markup=False)
            self._show_current()
            return
        except BrokenPolicyError as exc:
            self._policy_broke(str(exc))
            return
        finally:
            self._tell_policy_errors()  # closing the viewing records an event the ranker sees
        if moved is None:
            self.notify("This is the first video.", timeout=1.5)
            return
        self._show_current()
        self._painting = True
        self.call_after_refresh(self._on_screen)

    def _on_screen(self) -> None:
        """The served video is painted: its viewing starts now, for playback as for the log
        (``seen_start``). The pick and the paint before it are no watching: ``watched_s``
        counted them once (an 8.07 s viewing recorded as 8.21 s)."""
        self._painting = False
        self._last_tick = self.clock()
        self.session.mark_seen()
        if self._checkpoint is not None:
            self._checkpoint.stop()
        self._checkpoint = self.set_timer(CHECKPOINT_AFTER_S, self.session.checkpoint)

    def _policy_broke(self, message: str) -> None:
        """The ranker could not pick: say what it did, in its own words, and keep what is on
        screen (nothing was served)."""
        self.notify(printable(message), severity="error", timeout=10, markup=False)
        self._show_current()
        if self.session.video is None:
            notice = self.query_one("#notice", Static)
            text = f"{printable(message)}\nFix the ranker, then open the feed again."
            notice.update(Content(text))  # plain text: the ranker's message is not markup

    def _tell_policy_errors(self) -> None:
        for message in self.session.take_policy_errors():
            self.notify(printable(message), severity="error", timeout=10, markup=False)

    def _show_current(self) -> None:
        video = self.session.video
        notice = self.query_one("#notice", Static)
        if video is None:
            notice.update("Nothing to recommend right now: loosen your filters in settings (,).")
        else:
            notice.update("")
            canvas = self.query_one(VideoCanvas)
            visual = Visual(video.motif, video.palette, video.motion, video.visual_seed)
            if canvas.visual == visual:
                canvas.seek(0.0)
            canvas.visual = visual
        self.query_one(PlaybackBar).show(self.session.playback)
        self._show_texts()
        # The panels can wait a frame: the new video comes first.
        self.call_after_refresh(self._update_panels)

    def _show_texts(self) -> None:
        session, video, current = self.session, self.session.video, self.session.current
        if video is None or current is None:
            self.query_one(ActionRail).show(None)
            return
        following = video.creator_handle in session.follows
        self.query_one(ActionRail).show(
            RailState(
                video=video,
                liked=video.id in session.liked,
                saved=video.id in session.saved,
                following=following,
            )
        )
        self.query_one(VideoDetails).show(
            video, following=following, position=current.position, source=current.source
        )

    # -- reactions --------------------------------------------------------------------------

    def _react(self, record: Callable[[], object], toast: str | None = None) -> bool:
        """Record through the session; acknowledge only once it is committed."""
        try:
            record()
        except ValueError as exc:
            self.notify(printable(str(exc)), severity="warning", timeout=3, markup=False)
            return False
        self._tell_policy_errors()
        self._show_texts()
        self._update_panels()
        if toast:  # toasts name creators, sounds and topics from the file
            self.notify(printable(toast), timeout=2, markup=False)
        return True

    def action_like(self) -> None:
        """Like, or unlike if already liked."""
        if self._react(self.session.toggle_like):
            if self.session.video and self.session.video.id in self.session.liked:
                self.query_one(HeartBurst).burst()
            else:
                self.notify("Like removed.", timeout=1.5)

    def action_share(self) -> None:
        """Share the video."""
        self._react(lambda: self.session.react("share"), "↗ Shared.")

    def action_save(self) -> None:
        """Save to favourites, or unsave."""
        if self._react(self.session.toggle_save):
            saved = self.session.video is not None and self.session.video.id in self.session.saved
            self.notify(
                "★ Saved to favourites." if saved else "Removed from favourites.", timeout=2
            )

    def action_follow(self) -> None:
        """Follow the creator, or unfollow."""
        video = self.session.video
        if video is not None and self._react(self.session.toggle_follow):
            followed = video.creator_handle in self.session.follows
            verb = "Following" if followed else "Unfollowed"
            self.notify(printable(f"{verb} @{video.creator_handle}."), timeout=2, markup=False)

    def action_comment(self) -> None:
        """Write a one-line comment."""
        self.app.push_screen(TextPrompt("Add a comment", "say something nice"), self._comment)

    def _comment(self, text: str | None) -> None:
        if text and text.strip():
            self._react(
                lambda: self.session.react("comment", text=text.strip()), "✎ Comment posted."
            )

    def action_not_interested(self) -> None:
        """Not interested: ask in what (this video, creator, sound, topic), then move on."""
        if self.session.video is not None:
            self.app.push_screen(scope_prompt(self.session.video), self._not_interested)

    def _not_interested(self, scope: str | None) -> None:
        video = self.session.video
        if scope is None or video is None:
            return
        what = {
            "video": "this video",
            "creator": f"@{video.creator_handle}",
            "sound": f"♫ {video.sound_title}",
            "topic": video.topic_name,
        }[scope]
        if self._react(
            lambda: self.session.react("not_interested", scope=scope),
            f"✕ Got it: you will see less of {what}.",
        ):
            self.action_next()

    def action_hide(self) -> None:
        """Hide the creator (they never come back), then move on."""
        video = self.session.video
        if video is not None and self._react(
            lambda: self.session.react("hide_creator"), f"⊘ Hid @{video.creator_handle}."
        ):
            self.action_next()

    def action_report(self) -> None:
        """Report the video with a reason, then move on."""
        if self.session.video is not None:
            self.app.push_screen(report_prompt(), self._report)

    def _report(self, reason: str | None) -> None:
        if reason and self._react(
            lambda: self.session.react("report", reason=reason), "⚑ Reported. Thank you."
        ):
            self.action_next()

    # -- panels and screens -----------------------------------------------------------------

    def action_profile(self) -> None:
        """Show or hide the profile panel."""
        self.panel = "" if self.panel == "profile" else "profile"

    def action_xray(self) -> None:
        """Show or hide the x-ray of each pick."""
        self.panel = "" if self.panel == "xray" else "xray"

    def shown_panels(self) -> set[str]:
        """The side panels on screen: the one ``panel`` names (a wider layout may show more)."""
        return {self.panel} if self.panel else set()

    def watch_panel(self, panel: str) -> None:
        shown = self.shown_panels()
        self.query_one("#profile-panel").display = "profile" in shown
        self.query_one("#xray-panel").display = "xray" in shown
        self._sync_crowding()
        self._update_panels()

    def _sync_crowding(self) -> None:
        self.set_class(bool(self.panel) and self.size.width < CROWDED_WIDTH, "-crowded")

    def _update_panels(self) -> None:
        shown = self.shown_panels()
        if "profile" in shown:
            self.query_one(ProfilePanel).show(self.session.profile())
        if "xray" in shown:
            current = self.session.current
            receipt = current.receipt if current else None
            self.query_one(XRayPanel).show(receipt, self.session.finalists())

    def action_why(self) -> None:
        """Why this video: the receipt in words."""
        current, video = self.session.current, self.session.video
        if current is not None and video is not None:
            self.app.push_screen(WhyScreen(current.receipt, video))

    def action_discover(self) -> None:
        """Trending hashtags and sounds."""
        self.app.push_screen(DiscoverScreen(self.session.discover()))

    def action_settings(self) -> None:
        """Feed controls and playback speed."""
        session = self.session
        screen = SettingsScreen(
            session.controls(), session.labels, session.speed, hidden=session.hidden_creators()
        )
        self.app.push_screen(screen, self._apply_settings)

    def _apply_settings(self, result: SettingsResult | None) -> None:
        if result is None:
            return
        if not self._react(lambda: self.session.set_controls(result.controls)):
            return
        if result.speed != self.session.speed:
            self.set_speed(result.speed)
        for handle in result.unhide:
            self._react(
                partial(self.session.unhide_creator, handle),
                f"@{handle} can appear in your feed again.",
            )
        if result.refresh:
            self._react(self.session.refresh, "Feed refreshed: learned interests forgotten.")
        else:
            self.notify("Settings saved: they shape your next videos.", timeout=2)

    def action_help(self) -> None:
        """Every key of the feed, in its own words."""
        self.app.push_screen(HelpScreen(self.help_entries()))

    def help_entries(self) -> list[HelpEntry]:
        """The keys this feed answers to (a study's feed leaves out what it does not grant)."""
        return [entry for entry in FEED_KEYS if self.check_action(entry.action, ()) is not False]

    # -- keys pressed on the viewer's behalf ----------------------------------------------------

    def show_key(self, key: str, label: str, *, lit_s: float = 0.8) -> None:
        """Show a key pressed for the viewer (by the autopilot) as a key cap under the rail.

        Args:
            key: The key ("l", "j", ...).
            label: What it does.
            lit_s: Seconds the cap stays lit.
        """
        self.query_one(KeyCap).press(key, label, lit_s=lit_s)

    def annotate_keys(self, note: str) -> None:
        """A short line under the key cap (what the autopilot plans for this video)."""
        self.query_one(KeyCap).annotate(note)

    def hide_keys(self) -> None:
        """Hide the key cap: the viewer has the keys again."""
        self.query_one(KeyCap).clear()

    # -- mouse ------------------------------------------------------------------------------

    def on_click(self, event: events.Click) -> None:
        if isinstance(event.widget, VideoCanvas):
            self.action_pause()

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        if self._over_phone(event):
            self.action_next()

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        if self._over_phone(event):
            self.action_previous()

    def _over_phone(self, event: events.MouseEvent) -> bool:
        return self.query_one(Phone).region.contains(event.screen_x, event.screen_y)
