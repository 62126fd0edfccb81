"""Settings: the viewer's feed controls and the playback speed.

Edits stay on this screen until Save; the feed applies the returned :class:`SettingsResult`
through the engine, so nothing here touches the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, RadioButton, RadioSet

from tui.playback import SPEEDS
from tui.session import Controls
from tui.widgets.topic_slider import TopicSlider


@dataclass(frozen=True)
class SettingsResult:
    """What the viewer saved."""

    controls: Controls
    speed: float
    refresh: bool  # forget learned interests too


def parse_keywords(text: str) -> tuple[str, ...]:
    """Comma-separated words → a sorted tuple without blanks or repeats."""
    return tuple(sorted({w.strip().lower() for w in text.split(",") if w.strip()}))


class SettingsScreen(ModalScreen[SettingsResult | None]):
    """Sensitive content, keyword filters, playback speed, topic sliders, refresh."""

    CSS_PATH = "settings.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "cancel"),
        Binding("ctrl+s", "save", "save"),
    ]

    def __init__(self, controls: Controls, labels: dict[str, str], speed: float) -> None:
        """Create the screen.

        Args:
            controls: The viewer's current feed controls.
            labels: Topic slug -> display name, in the order to list them.
            speed: The current playback speed.
        """
        super().__init__()
        self.controls = controls
        self.labels = labels
        self.speed = speed

    def compose(self) -> ComposeResult:
        c = self.controls
        with Vertical(id="settings"):
            yield Label("SETTINGS", classes="title")
            yield Checkbox(
                "Allow sensitive content", c.allow_sensitive, compact=True, id="sensitive"
            )
            with Horizontal(classes="row"):
                yield Label("Keyword filters", classes="field")
                yield Input(
                    ", ".join(c.keyword_filters),
                    placeholder="comma-separated words to keep out",
                    compact=True,
                    id="keywords",
                )
            with Horizontal(classes="row"):
                yield Label("Playback speed", classes="field")
                with RadioSet(compact=True, id="speed"):
                    for speed in SPEEDS:
                        yield RadioButton(f"{speed:g}×", speed == self.speed, id=f"speed-{speed:g}")
            yield Label("Topics: ←/→ for less/more (×1 is neutral, ×0 none)", classes="heading")
            with VerticalScroll(id="sliders"):
                for slug, label in self.labels.items():
                    yield TopicSlider(slug, label, c.topic_sliders.get(slug, 1.0))
            with Horizontal(id="buttons"):
                yield Button("Save", variant="primary", compact=True, id="save")
                yield Button("Refresh my feed", variant="warning", compact=True, id="refresh")
                yield Button("Cancel", compact=True, id="cancel")
            yield Label("tab: next field · ctrl+s: save · escape: cancel", classes="hint")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "cancel":
            self.dismiss(None)
        else:
            self.dismiss(self.result(refresh=event.button.id == "refresh"))

    def action_save(self) -> None:
        self.dismiss(self.result(refresh=False))

    def action_cancel(self) -> None:
        self.dismiss(None)

    def result(self, *, refresh: bool) -> SettingsResult:
        """The settings as edited so far."""
        sliders = {s.topic: s.value for s in self.query(TopicSlider) if abs(s.value - 1.0) > 1e-9}
        pressed = self.query_one("#speed", RadioSet).pressed_index
        speed = SPEEDS[pressed] if 0 <= pressed < len(SPEEDS) else self.speed
        controls = Controls(
            allow_sensitive=self.query_one("#sensitive", Checkbox).value,
            keyword_filters=parse_keywords(self.query_one("#keywords", Input).value),
            topic_sliders=sliders,
        )
        return SettingsResult(controls=controls, speed=speed, refresh=refresh)
