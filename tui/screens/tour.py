"""The tour's screens: the feed with a caption bar, and the debrief that closes the tour.

:class:`TourScreen` is the feed screen every viewer gets, with the chapter's caption bar on top.
From :data:`PRESENTER_WIDTH` columns it is the presenter layout: the profile and the x-ray stay
open beside the video (no toggling with ``i`` and ``x``) and the caption's counters are large
numerals; narrower, it is the normal feed layout with the caption bar.
"""

from __future__ import annotations

from typing import ClassVar

from textual import events
from textual.app import ComposeResult
from textual.widgets import Label

from tui.screens.feed import FeedScreen
from tui.screens.study_debrief import DebriefScreen
from tui.widgets.caption_bar import CaptionBar, CaptionView

PRESENTER_WIDTH = 160


class TourScreen(FeedScreen):
    """The feed under a chapter's caption; the tour (:mod:`tui.tour`) sets what it says."""

    # The feed's own styles, then the caption bar's and the presenter layout's (the bases
    # name one file, so mypy sees a str there).
    CSS_PATH: ClassVar[list[str]] = ["feed.tcss", "tour.tcss"]  # type: ignore[assignment]
    caption_view: CaptionView | None = None

    def compose(self) -> ComposeResult:
        yield from super().compose()
        yield CaptionBar(id="caption-bar")

    def on_mount(self) -> None:
        if self.caption_view is not None:  # the tour began before the screen was up
            self.query_one(CaptionBar).show(self.caption_view)

    def on_resize(self, event: events.Resize) -> None:
        presenter = self.size.width >= PRESENTER_WIDTH
        self.set_class(presenter, "-presenter")
        self.set_class(not presenter, "-narrow")
        self.query_one(CaptionBar).narrow = not presenter
        self.watch_panel(self.panel)

    @property
    def presenter(self) -> bool:
        """Wide enough for the presenter layout."""
        return self.has_class("-presenter")

    def show_caption(self, view: CaptionView) -> None:
        """Show a chapter's caption bar."""
        self.caption_view = view
        if self.is_mounted:
            self.query_one(CaptionBar).show(view)

    def shown_panels(self) -> set[str]:
        """The presenter layout shows the profile and the x-ray at once, without toggling."""
        return {"profile", "xray"} if self.presenter else super().shown_panels()


class TourDebriefScreen(DebriefScreen):
    """The study's debrief of the tour's session, under the last chapter's caption."""

    CSS_PATH: ClassVar[list[str]] = ["study_debrief.tcss", "tour.tcss"]  # type: ignore[assignment]

    def compose(self) -> ComposeResult:
        yield from super().compose()
        yield CaptionBar(id="caption-bar")

    caption_view: CaptionView | None = None

    def on_mount(self) -> None:
        self.query_one(".hint", Label).update("← back to the feed · q: the session summary")
        if self.caption_view is not None:
            self.query_one(CaptionBar).show(self.caption_view)

    def show_caption(self, view: CaptionView) -> None:
        """Show the last chapter's caption bar (once mounted, if not yet)."""
        self.caption_view = view
        if self.is_mounted:
            self.query_one(CaptionBar).show(view)
