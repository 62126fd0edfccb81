"""The feed's "video": a widget that plays a procedural animation in half-block pixels.

Uses Textual's Line API: each tick renders the whole frame with numpy (`render_frame`), turns
it into one `Strip` per terminal row, and `render_line` only hands those strips out. Each cell
is an upper half block whose foreground is the top pixel and background the bottom pixel, so a
cell shows two pixels. Styles are cached per colour pair and runs of equal cells share one
segment, which keeps a ~36x30 canvas to a millisecond or two per frame.

A parent sets `visual` (and `playing`) and reads `position_s`; the widget owns its clock.
"""

from __future__ import annotations

from itertools import pairwise
from typing import ClassVar

import numpy as np
import numpy.typing as npt
from rich.color import Color
from rich.segment import Segment
from rich.style import Style
from textual.events import Resize
from textual.geometry import Region, Size
from textual.reactive import reactive
from textual.strip import Strip
from textual.timer import Timer
from textual.widget import Widget

from tui.widgets.video_frames import Pixels, Visual, render_frame

__all__ = ["StyleCache", "VideoCanvas", "Visual", "render_frame", "strips_from_frame"]

HALF_BLOCK = "▀"


class StyleCache(dict[int, Style]):
    """Styles keyed by a packed colour pair (top RGB << 24 | bottom RGB), built on first use."""

    MAX_ENTRIES: ClassVar[int] = 8192  # a palette yields ≤ 256 colours; this bounds odd frames

    def __missing__(self, pair: int) -> Style:
        if len(self) >= self.MAX_ENTRIES:
            self.clear()
        top, bottom = pair >> 24, pair & 0xFFFFFF
        style = Style.from_color(
            Color.from_rgb(top >> 16, (top >> 8) & 0xFF, top & 0xFF),
            Color.from_rgb(bottom >> 16, (bottom >> 8) & 0xFF, bottom & 0xFF),
        )
        self[pair] = style
        return style


def strips_from_frame(frame: Pixels, styles: StyleCache | None = None) -> list[Strip]:
    """Turn RGB pixels into one Strip of half-block cells per pair of pixel rows.

    Args:
        frame: uint8 array [rows, width, 3]; an odd last row is drawn over itself.
        styles: Style cache to reuse across frames (a fresh one is used when omitted).

    Returns:
        ceil(rows / 2) strips, each exactly `width` cells long, adjacent equal cells merged.
    """
    cache = StyleCache() if styles is None else styles
    if frame.shape[0] % 2:
        frame = np.concatenate([frame, frame[-1:]], axis=0)
    n_rows, width = frame.shape[0] // 2, frame.shape[1]
    if width == 0 or n_rows == 0:
        return [Strip([], width) for _ in range(n_rows)]
    rgb = frame.astype(np.int64)
    packed = (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]
    pairs = (packed[0::2] << 24) | packed[1::2]  # [n_rows, width]
    run_start = np.ones(pairs.shape, dtype=bool)
    run_start[:, 1:] = pairs[:, 1:] != pairs[:, :-1]
    start_row, start_col = np.nonzero(run_start)  # row-major, so runs come out in reading order
    run_end = np.append(start_col[1:], width)
    run_end[np.flatnonzero(start_row[1:] != start_row[:-1])] = width  # last run of each row
    segments = [
        Segment(HALF_BLOCK * length, cache[pair])
        for pair, length in zip(
            pairs[start_row, start_col].tolist(), (run_end - start_col).tolist(), strict=True
        )
    ]
    row_bounds = np.searchsorted(start_row, np.arange(n_rows + 1)).tolist()
    return [Strip(segments[first:last], width) for first, last in pairwise(row_bounds)]


def _row_spans(changed: npt.NDArray[np.bool_], width: int) -> list[Region]:
    """One full-width Region per run of consecutive changed rows."""
    padded = np.concatenate([[False], changed, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))  # alternating run starts and ends
    starts, ends = edges[0::2].tolist(), edges[1::2].tolist()
    return [Region(0, start, width, end - start) for start, end in zip(starts, ends, strict=True)]


class VideoCanvas(Widget):
    """Plays a `Visual` at `FPS` frames per second, filling whatever size its parent gives it.

    Set `visual` to change video (playback restarts at 0 s; assigning an equal Visual changes
    nothing, use `seek(0)` to replay), `playing` (or call `pause()` / `resume()`) to stop and
    start the clock, `seek()` to jump. `position_s` is how far the current video has played,
    e.g. for watch-time events. The clock only runs while playing with a visual set.
    """

    DEFAULT_CSS = """
    VideoCanvas {
        width: 1fr;
        height: 1fr;
    }
    """

    FPS: ClassVar[int] = 20

    visual: reactive[Visual | None] = reactive(None, init=False)
    playing: reactive[bool] = reactive(True, init=False)

    def __init__(
        self,
        visual: Visual | None = None,
        *,
        playing: bool = True,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        """Create the canvas.

        Args:
            visual: The video to show first, or None for a blank canvas.
            playing: Whether the clock runs once mounted.
            name: The widget's name.
            id: The widget's DOM id.
            classes: Space-separated CSS classes.
        """
        super().__init__(name=name, id=id, classes=classes)
        self.set_reactive(VideoCanvas.visual, visual)
        self.set_reactive(VideoCanvas.playing, playing)
        self._position_s = 0.0
        self._styles = StyleCache()
        self._strips: list[Strip] = []
        self._strips_size = Size(0, 0)
        self._frame: Pixels | None = None
        self._timer: Timer | None = None

    @property
    def position_s(self) -> float:
        """Seconds of the current video played so far."""
        return self._position_s

    def pause(self) -> None:
        """Stop the clock; the current frame stays on screen."""
        self.playing = False

    def resume(self) -> None:
        """Start the clock again from where it stopped."""
        self.playing = True

    def seek(self, position_s: float) -> None:
        """Jump to a playback position and show that frame.

        Args:
            position_s: Seconds from the start of the video (negative is clamped to 0).
        """
        self._position_s = max(position_s, 0.0)
        self._draw()

    def on_mount(self) -> None:
        self._timer = self.set_interval(1 / self.FPS, self._tick, pause=not self._clock_runs())

    def on_resize(self, event: Resize) -> None:
        self._draw()

    def watch_visual(self, visual: Visual | None) -> None:
        self._position_s = 0.0
        self._styles.clear()
        self._sync_timer()
        self._draw()

    def watch_playing(self, playing: bool) -> None:
        self._sync_timer()

    def render_line(self, y: int) -> Strip:
        """Hand out the strip for row `y` of the current frame (Textual's Line API).

        Args:
            y: Row within the widget's content area.

        Returns:
            The row's half-block cells, rendered first if the size changed since the last tick.
        """
        if self._strips_size != self.size:
            self._render_strips()
        if 0 <= y < len(self._strips):
            return self._strips[y]
        return Strip.blank(self.size.width, self.visual_style.rich_style)

    def _clock_runs(self) -> bool:
        return self.playing and self.visual is not None

    def _sync_timer(self) -> None:
        if self._timer is None:
            return
        if self._clock_runs():
            self._timer.resume()
        else:
            self._timer.pause()

    def _tick(self) -> None:
        # A fixed step per tick (not wall time) keeps playback deterministic; Textual skips
        # late ticks, so under load the video slows down rather than jumping.
        self._position_s += 1 / self.FPS
        self._draw()

    def _draw(self) -> None:
        previous = self._frame
        self._render_strips()
        if previous is None or self._frame is None or previous.shape != self._frame.shape:
            self.refresh()
            return
        # Repaint only the cell rows whose pixels changed: sparse motifs (stars, orbit) move a
        # few rows per tick, and every line Textual skips is compositing and output saved.
        changed = (self._frame != previous).reshape(len(self._strips), -1).any(axis=1)
        if changed.all():
            self.refresh()
        elif changed.any():
            self.refresh(*_row_spans(changed, self.size.width))

    def _render_strips(self) -> None:
        width, height = self.size
        self._strips_size = self.size
        if self.visual is None or width == 0 or height == 0:
            self._frame, self._strips = None, []
            return
        self._frame = render_frame(self.visual, width, height, self._position_s)
        self._strips = strips_from_frame(self._frame, self._styles)
