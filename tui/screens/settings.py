"""Settings: the viewer's feed controls, hidden creators and the playback speed.

Edits stay on this screen until Save; the feed applies the returned :class:`SettingsResult`
through the engine, so nothing here touches the database.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Button, Checkbox, Input, Label, RadioButton, RadioSet

from engine.text import printable
from tui.playback import SPEEDS
from tui.screens.onboarding import topics_by_name
from tui.screens.panel import Panel
from tui.screens.prompts import ChoicePrompt
from tui.session import Controls, HiddenCreator
from tui.widgets.topic_slider import TopicSlider


@dataclass(frozen=True)
class SettingsResult:
    """What the viewer saved."""

    controls: Controls
    speed: float
    refresh: bool  # forget learned interests too
    unhide: tuple[str, ...] = ()  # handles of hidden creators to let back in


def parse_keywords(text: str) -> tuple[str, ...]:
    """Comma-separated words → a sorted tuple without blanks or repeats."""
    return tuple(sorted({w.strip().lower() for w in text.split(",") if w.strip()}))


REFRESH = "refresh"


def refresh_prompt() -> ChoicePrompt:
    """ "Refresh your feed?": asked before learned interests are forgotten for good."""
    return ChoicePrompt(
        "Refresh your feed? It cannot be undone.",
        [("keep", "No, keep my feed"), (REFRESH, "Yes, forget what it learned about me")],
    )


# The feed controls this screen edits (playback speed is not one: it is always there).
FEED_CONTROLS = ("allow_sensitive", "keyword_filters", "topic_sliders", "refresh")


class SettingsScreen(Panel[SettingsResult | None]):
    """Sensitive content, keyword filters, playback speed, hidden creators, topic sliders,
    refresh."""

    CSS_PATH = "settings.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "cancel"),
        Binding("ctrl+s", "save", "save"),
    ]

    def __init__(
        self,
        controls: Controls,
        labels: dict[str, str],
        speed: float,
        *,
        offered: Collection[str] = FEED_CONTROLS,
        hidden: Sequence[HiddenCreator] | None = None,
    ) -> None:
        """Create the screen.

        Args:
            controls: The viewer's current feed controls.
            labels: Topic slug -> display name (listed by name, as onboarding lists them).
            speed: The current playback speed.
            offered: The feed controls to show (a study condition may grant only some); the
                others are returned as they came.
            hidden: The creators the viewer hid, one unhide box each; None leaves the section
                out (a study condition that does not offer hiding).
        """
        super().__init__()
        self.controls = controls
        self.labels = labels
        self.speed = speed
        self.offered = frozenset(offered)
        self.hidden = None if hidden is None else tuple(hidden)

    def compose(self) -> ComposeResult:
        c, offered = self.controls, self.offered
        with Vertical(id="settings"):
            yield Label("SETTINGS", classes="title")
            if "allow_sensitive" in offered:
                yield Checkbox(
                    "Allow sensitive content", c.allow_sensitive, compact=True, id="sensitive"
                )
            if "keyword_filters" in offered:
                with Horizontal(classes="row"):
                    yield Label("Keyword filters", classes="field")
                    yield Input(
                        printable(", ".join(c.keyword_filters)),  # stored in the file
                        placeholder="comma-separated words to keep out",
                        compact=True,
                        id="keywords",
                    )
            with Horizontal(classes="row"):
                yield Label("Playback speed", classes="field")
                with RadioSet(compact=True, id="speed"):
                    for speed in SPEEDS:
                        yield RadioButton(f"{speed:g}×", speed == self.speed, id=f"speed-{speed:g}")
            if self.hidden is not None:
                yield from self._hidden_creators(self.hidden)
            if "topic_sliders" in offered:
                yield Label("Topics: ←/→ for less/more (×1 is neutral, ×0 none)", classes="heading")
                # The lists scroll to whichever entry has the focus; as tab stops of their own
                # they were an invisible stop between the fields.
                with VerticalScroll(id="sliders", can_focus=False):
                    for slug, label in topics_by_name(self.labels):
                        yield TopicSlider(slug, label, c.topic_sliders.get(slug, 1.0))
            with Horizontal(id="buttons"):
                yield Button("Save", variant="primary", compact=True, id="save")
                if "refresh" in offered:
                    yield Button("Refresh my feed", variant="warning", compact=True, id="refresh")
                yield Button("Cancel", compact=True, id="cancel")
            yield Label("tab: next field · ctrl+s: save · escape: cancel", classes="hint")

    def _hidden_creators(self, hidden: tuple[HiddenCreator, ...]) -> ComposeResult:
        if not hidden:
            yield Label("Hidden creators: none", classes="heading")
            return
        yield Label("Hidden creators: tick to let them back in", classes="heading")
        with VerticalScroll(id="hidden", can_focus=False):
            for creator in hidden:
                label = Content(f"Unhide @{printable(creator.handle)}")  # not markup
                yield Checkbox(label, compact=True, name=creator.handle)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "cancel":
            self.dismiss(None)
        elif event.button.id == "refresh":
            self.app.push_screen(refresh_prompt(), self._refresh_answered)
        else:
            self.dismiss(self.result(refresh=False))

    def _refresh_answered(self, choice: str | None) -> None:
        """Forgetting everything learned cannot be undone: only a yes refreshes (and saves the
        rest); anything else leaves the settings open as they were edited."""
        if choice == REFRESH:
            self.dismiss(self.result(refresh=True))

    def action_save(self) -> None:
        self.dismiss(self.result(refresh=False))

    def action_cancel(self) -> None:
        self.dismiss(None)

    def result(self, *, refresh: bool) -> SettingsResult:
        """The settings as edited so far."""
        c, offered = self.controls, self.offered
        sliders = {s.topic: s.value for s in self.query(TopicSlider) if abs(s.value - 1.0) > 1e-9}
        pressed = self.query_one("#speed", RadioSet).pressed_index
        speed = SPEEDS[pressed] if 0 <= pressed < len(SPEEDS) else self.speed
        controls = Controls(
            allow_sensitive=(
                self.query_one("#sensitive", Checkbox).value
                if "allow_sensitive" in offered
                else c.allow_sensitive
            ),
            keyword_filters=(
                parse_keywords(self.query_one("#keywords", Input).value)
                if "keyword_filters" in offered
                else c.keyword_filters
            ),
            topic_sliders=sliders if "topic_sliders" in offered else dict(c.topic_sliders),
        )
        unhide = tuple(
            box.name for box in self.query("#hidden Checkbox").results(Checkbox) if box.value
        )
        return SettingsResult(
            controls=controls,
            speed=speed,
            refresh=refresh,
            unhide=tuple(name for name in unhide if name),
        )
