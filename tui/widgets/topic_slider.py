"""A keyboard- and mouse-driven slider for one topic's "more or less of this" multiplier."""

from __future__ import annotations

from typing import ClassVar

from textual import events
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

LOW, HIGH, STEP = 0.0, 3.0, 0.25
TRACK = 13  # cells between "less" and "more"


class TopicSlider(Widget, can_focus=True):
    """`Cooking   less ────●──── more ×1.25`; ←/→ step by 0.25, a click jumps there."""

    DEFAULT_CSS = """
    TopicSlider {
        height: 1;
        width: 1fr;
        &:focus { background: $boost; text-style: bold; }
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left", "step(-1)", "less", show=False),
        Binding("right", "step(1)", "more", show=False),
    ]

    value: reactive[float] = reactive(1.0)

    class Changed(Message):
        """The viewer moved a slider."""

        def __init__(self, slider: TopicSlider, value: float) -> None:
            super().__init__()
            self.slider = slider
            self.value = value

    def __init__(self, topic: str, label: str, value: float = 1.0) -> None:
        """Create a slider.

        Args:
            topic: The topic slug it controls.
            label: The topic's display name.
            value: The multiplier, 0 (none) .. 1 (neutral) .. 3 (lots).
        """
        super().__init__()
        self.topic = topic
        self.label = label
        self.set_reactive(TopicSlider.value, value)

    def action_step(self, direction: int) -> None:
        self.value = min(max(self.value + direction * STEP, LOW), HIGH)

    def on_click(self, event: events.Click) -> None:
        start = self._track_start()
        if start <= event.x < start + TRACK:
            fraction = (event.x - start) / (TRACK - 1)
            self.value = round(fraction * (HIGH - LOW) / STEP) * STEP + LOW

    def watch_value(self, value: float) -> None:
        self.post_message(self.Changed(self, value))

    def _track_start(self) -> int:
        return len(self._prefix())

    def _prefix(self) -> str:
        return f"{self.label[:16]:<16} less "

    def render(self) -> Content:
        knob = round((self.value - LOW) / (HIGH - LOW) * (TRACK - 1))
        neutral = round((1.0 - LOW) / (HIGH - LOW) * (TRACK - 1))
        track = ["┼" if i == neutral else "─" for i in range(TRACK)]
        return Content.assemble(
            self._prefix(),
            ("".join(track[:knob]), "$text-muted"),
            ("●", "$accent"),
            ("".join(track[knob + 1 :]), "$text-muted"),
            f" more ×{self.value:g}",
        )
