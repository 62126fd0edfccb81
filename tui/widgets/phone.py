"""The 9:16 phone frame: the playing video, a heart that pops on a like, and the playback line.

Terminal cells are about twice as tall as wide and each cell holds two pixels stacked, so a
pixel is square and a 9:16 picture of `h` cell rows is `h * 2 * 9 / 16` cells wide. The frame
sets its own width from the height its parent gives it.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Container, Vertical
from textual.events import Resize

from tui.widgets.heart_burst import HeartBurst
from tui.widgets.playback_bar import PlaybackBar
from tui.widgets.video_canvas import VideoCanvas

ASPECT = 9 / 16
CHROME_ROWS = 3  # border top and bottom, playback line
CHROME_COLUMNS = 2  # border left and right


def canvas_width(canvas_rows: int) -> int:
    """Cells across for a 9:16 picture `canvas_rows` cells high (two square pixels per cell)."""
    return max(round(canvas_rows * 2 * ASPECT), 1)


class Phone(Vertical):
    """Holds the canvas, the heart and the playback bar; keeps the 9:16 shape on resize."""

    DEFAULT_CSS = """
    Phone {
        height: 1fr;
        width: 23;
        border: round $panel-lighten-2;
        #picture { height: 1fr; }
        /* A percentage height, not 1fr: the absolutely placed heart must not take its rows. */
        VideoCanvas { height: 100%; width: 1fr; }
        HeartBurst { position: absolute; }
    }
    """

    def compose(self) -> ComposeResult:
        with Container(id="picture"):
            yield VideoCanvas(playing=False)
            yield HeartBurst()
        yield PlaybackBar()

    def on_resize(self, event: Resize) -> None:
        rows = self.outer_size.height - CHROME_ROWS
        width = canvas_width(rows) + CHROME_COLUMNS
        if self.styles.width is None or self.styles.width.value != width:
            self.styles.width = width
        heart = self.query_one(HeartBurst)
        heart.styles.offset = (
            max((width - CHROME_COLUMNS - 8) // 2, 0),
            max((rows - 4) // 2, 0),
        )
