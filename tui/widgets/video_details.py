"""Text around the video: creator and follow state, caption, sound, where it came from."""

from __future__ import annotations

import re

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Static

from engine import Video
from engine.sources import short_words
from engine.text import printable
from tui.widgets.marquee import Marquee

HASHTAG = re.compile(r"#\w+")


def caption_content(caption: str) -> Content:
    """The caption with its hashtags picked out."""
    caption = printable(caption)
    content = Content(caption)
    for match in HASHTAG.finditer(caption):
        content = content.stylize("bold $accent", match.start(), match.end())
    return content


class VideoDetails(Vertical):
    """Creator line, caption, scrolling sound name and a "#n · from ..." line."""

    DEFAULT_CSS = """
    VideoDetails {
        height: auto;
        #creator { text-style: bold; }
        #caption { margin: 1 0; }
        #sound { color: $text-muted; }
        #meta { color: $text-muted; margin-top: 1; }
    }
    """

    def __init__(self, *, scrolling: bool = True, id: str | None = None) -> None:
        super().__init__(id=id)
        self._scrolling = scrolling

    def compose(self) -> ComposeResult:
        yield Static(id="creator")
        yield Static(id="caption")
        yield Marquee(scrolling=self._scrolling, id="sound")
        yield Static(id="meta")

    def show(self, video: Video | None, *, following: bool, position: int, source: str) -> None:
        """Describe a video (None: clear).

        Args:
            video: The video on screen.
            following: Whether the viewer follows its creator.
            position: Its place in this viewer's feed, from 0.
            source: The candidate source that proposed it.
        """
        creator = self.query_one("#creator", Static)
        if video is None:
            creator.update("")
            self.query_one("#caption", Static).update("")
            self.query_one("#sound", Marquee).set_text("")
            self.query_one("#meta", Static).update("")
            return
        follow = ("✓ following", "$success") if following else ("+ follow (F)", "$accent")
        creator.update(
            Content.assemble(
                (f"@{printable(video.creator_handle)}", "@click=screen.follow"), "  ", follow
            )
        )
        self.query_one("#caption", Static).update(caption_content(video.caption))
        self.query_one("#sound", Marquee).set_text(
            printable(f"♫ {video.sound_title} · {video.sound_artist}")
        )
        origin = short_words(source)
        sensitive = " · sensitive" if video.sensitive else ""
        self.query_one("#meta", Static).update(
            Content(
                f"#{position + 1} in your feed · {printable(video.topic_name)} · "
                f"from {origin}{sensitive}"
            )
        )
