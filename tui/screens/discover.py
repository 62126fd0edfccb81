"""Discover: what is trending now, hashtags and sounds, each with a sparkline of recent activity."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Label, Sparkline

from engine import Discover, Trend
from engine.text import printable
from tui.screens.panel import Panel


def velocity_text(per_hour: float) -> str:
    """Engagement per hour, short."""
    if per_hour >= 1000:
        return f"{per_hour / 1000:.1f}k/h"
    return f"{per_hour:.0f}/h"


class TrendRow(Horizontal):
    """One trend: name, velocity, sparkline of engagement per bucket (oldest first)."""

    def __init__(self, rank: int, trend: Trend) -> None:
        super().__init__(classes="trend")
        self.rank = rank
        self.trend = trend

    def compose(self) -> ComposeResult:
        yield Label(Content(f"{self.rank:>2}. {printable(self.trend.name)}"), classes="trend-name")
        yield Label(velocity_text(self.trend.velocity), classes="trend-velocity")
        yield Sparkline(self.trend.recent, summary_function=max, classes="trend-spark")


class DiscoverScreen(Panel[None]):
    """Trending hashtags and sounds; escape or d closes it."""

    CSS_PATH = "discover.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,d", "close", "close")]

    def __init__(self, discover: Discover) -> None:
        super().__init__()
        self.discover = discover

    def compose(self) -> ComposeResult:
        minutes = self.discover.bucket_s / 60
        with Vertical(id="discover"):
            yield Label("DISCOVER · trending now", classes="title")
            yield Label(
                f"velocity = engagement per hour; sparklines = engagement per {minutes:g} min",
                classes="hint",
            )
            with Horizontal():
                for heading, trends in (
                    ("Hashtags", self.discover.hashtags),
                    ("Sounds", self.discover.sounds),
                ):
                    with VerticalScroll(classes="column"):
                        yield Label(heading, classes="heading")
                        for rank, trend in enumerate(trends, 1):
                            yield TrendRow(rank, trend)
            yield Label("escape or d: back to the feed", classes="hint")

    def action_close(self) -> None:
        self.dismiss(None)
