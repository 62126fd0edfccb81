"""The procedural video: frames a viewer can tell apart, and a widget that plays and pauses them."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable

import numpy as np
import pytest
from rich.color import Color
from textual.app import App, ComposeResult
from textual.containers import Container
from textual.geometry import Region
from textual.pilot import Pilot
from textual.strip import Strip

from engine.visuals import MOTIFS, PALETTES
from tui.widgets.video_canvas import (
    HALF_BLOCK,
    StyleCache,
    VideoCanvas,
    Visual,
    render_frame,
    strips_from_frame,
)

PALETTE = PALETTES[0]
SPARSE_MOTIFS = ("rain", "stars", "pulse", "blobs", "bubbles", "leaves", "orbit")


def hex_rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def frame(motif: str, *, seed: int = 7, t: float = 1.0, palette: int = 0) -> np.ndarray:
    visual = Visual(motif, PALETTES[palette], 1.0, seed)
    return render_frame(visual, 36, 30, t).astype(np.int16)


def contains_colour(pixels: np.ndarray, colour: str) -> bool:
    return bool((pixels.reshape(-1, 3) == hex_rgb(colour)).all(axis=1).any())


@pytest.mark.parametrize(("width", "height"), [(36, 30), (80, 48), (1, 1), (3, 2)])
def test_frame_has_two_pixel_rows_per_cell(width: int, height: int) -> None:
    pixels = render_frame(Visual("waves", PALETTE, 1.0, 1), width, height, 0.5)
    assert pixels.shape == (height * 2, width, 3)
    assert pixels.dtype == np.uint8


@pytest.mark.parametrize(("width", "height"), [(0, 10), (10, 0), (0, 0), (-3, 5)])
def test_zero_sized_canvas_gives_an_empty_frame(width: int, height: int) -> None:
    assert render_frame(Visual("plasma", PALETTE, 1.0, 1), width, height, 0.5).size == 0


@pytest.mark.parametrize("motif", MOTIFS)
def test_frames_are_deterministic(motif: str) -> None:
    first = frame(motif, t=2.25)
    frame(motif, t=2.25, seed=99)  # other videos in between must not leak into this one
    render_frame(Visual(motif, PALETTE, 1.0, 7), 20, 11, 2.25)
    assert np.array_equal(first, frame(motif, t=2.25))


@pytest.mark.parametrize("motif", MOTIFS)
def test_pictures_move_while_time_passes(motif: str) -> None:
    changed = (frame(motif, t=0.0) != frame(motif, t=0.5)).any(axis=-1).mean()
    assert changed > 0.01, f"{motif}: only {changed:.1%} of pixels changed in half a second"


def test_motion_scales_the_speed() -> None:
    fast = render_frame(Visual("spiral", PALETTE, 2.0, 3), 36, 30, 1.0)
    slow = render_frame(Visual("spiral", PALETTE, 1.0, 3), 36, 30, 2.0)
    frozen = [render_frame(Visual("spiral", PALETTE, 0.0, 3), 36, 30, t) for t in (0.0, 5.0)]
    assert np.array_equal(fast, slow)
    assert np.array_equal(*frozen)


def test_every_pair_of_motifs_looks_different() -> None:
    frames = {motif: frame(motif) for motif in MOTIFS}
    differences = {
        (a, b): float(np.abs(frames[a] - frames[b]).mean())
        for a, b in itertools.combinations(MOTIFS, 2)
    }
    closest = min(differences, key=differences.__getitem__)
    assert differences[closest] > 10, f"{closest} differ by {differences[closest]:.1f}/255"


@pytest.mark.parametrize("motif", MOTIFS)
def test_seed_and_palette_vary_a_motif(motif: str) -> None:
    by_seed = np.abs(frame(motif, seed=1) - frame(motif, seed=2)).mean()
    by_palette = np.abs(frame(motif, palette=1) - frame(motif, palette=8)).mean()
    assert by_seed > 5
    assert by_palette > 20


@pytest.mark.parametrize("motif", MOTIFS)
def test_frames_are_painted_in_the_palette(motif: str) -> None:
    background, primary, accent = PALETTE
    playback = np.concatenate([frame(motif, t=t) for t in np.arange(0, 4, 0.25)])
    assert contains_colour(frame(motif), background)
    assert contains_colour(playback, primary)
    assert contains_colour(playback, accent)


@pytest.mark.parametrize("motif", SPARSE_MOTIFS)
def test_background_dominates_sparse_motifs(motif: str) -> None:
    colours, counts = np.unique(frame(motif).reshape(-1, 3), axis=0, return_counts=True)
    assert tuple(colours[counts.argmax()]) == hex_rgb(PALETTE[0])


def test_unknown_motif_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown motif 'sparkles'"):
        render_frame(Visual("sparkles", PALETTE, 1.0, 1), 10, 10, 0.0)


def test_strips_show_top_and_bottom_pixels_as_half_blocks() -> None:
    pixels = render_frame(Visual("plasma", PALETTE, 1.0, 5), 36, 30, 1.0)
    strips = strips_from_frame(pixels, StyleCache())
    assert len(strips) == 30
    for row, strip in enumerate(strips):
        assert strip.cell_length == 36
        column = 0
        for segment in strip:
            assert set(segment.text) == {HALF_BLOCK}
            assert segment.style is not None
            assert segment.style.color is not None
            assert segment.style.bgcolor is not None
            top, bottom = pixels[2 * row, column], pixels[2 * row + 1, column]
            assert segment.style.color.get_truecolor() == tuple(top)
            assert segment.style.bgcolor.get_truecolor() == tuple(bottom)
            column += len(segment.text)


def test_equal_neighbouring_cells_share_one_segment() -> None:
    flat = np.zeros((4, 10, 3), dtype=np.uint8)
    flat[:, 5:] = 200
    assert [len(list(strip)) for strip in strips_from_frame(flat)] == [2, 2]


def test_odd_and_empty_pixel_arrays_still_make_strips() -> None:
    assert len(strips_from_frame(np.zeros((3, 4, 3), dtype=np.uint8))) == 2
    assert strips_from_frame(np.zeros((0, 4, 3), dtype=np.uint8)) == []
    assert [s.cell_length for s in strips_from_frame(np.zeros((2, 0, 3), dtype=np.uint8))] == [0]


class CanvasApp(App[None]):
    """One canvas filling the screen, as a feed screen would place it."""

    def __init__(self, visual: Visual | None) -> None:
        super().__init__()
        self.visual = visual

    def compose(self) -> ComposeResult:
        yield VideoCanvas(self.visual)


async def test_canvas_shows_coloured_half_blocks() -> None:
    app = CanvasApp(Visual("bars", PALETTE, 1.0, 3))
    async with app.run_test(size=(40, 30)):
        canvas = app.query_one(VideoCanvas)
        segments = [segment for y in range(30) for segment in canvas.render_line(y)]
        assert sum(len(segment.text) for segment in segments) == 40 * 30
        assert all(set(segment.text) == {HALF_BLOCK} for segment in segments)
        colours = {segment.style.color for segment in segments if segment.style}
        assert len(colours) > 3
        first_cell = next(iter(canvas.render_line(0)))
        assert app.screen.get_style_at(0, 0).bgcolor == first_cell.style.bgcolor


async def test_animation_advances_and_pause_stops_it() -> None:
    app = CanvasApp(Visual("spiral", PALETTE, 1.0, 3))
    async with app.run_test(size=(40, 30)) as pilot:
        canvas = app.query_one(VideoCanvas)
        first_line = canvas.render_line(10)
        assert await within(pilot, lambda: canvas.position_s >= 0.1)
        assert canvas.render_line(10) != first_line

        canvas.pause()
        await pilot.pause(0.05)
        paused_at, paused_line = canvas.position_s, canvas.render_line(10)
        await pilot.pause(0.3)
        assert canvas.position_s == paused_at
        assert canvas.render_line(10) == paused_line

        canvas.resume()
        assert await within(pilot, lambda: canvas.position_s > paused_at)


async def within(pilot: Pilot[None], condition: Callable[[], bool], seconds: float = 5.0) -> bool:
    """Whether ``condition`` holds within ``seconds`` of app time: on a loaded machine the
    animation's timer fires late, so a fixed pause made the test fail while the app was fine."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        await pilot.pause(0.05)
    return True


def cell_colours(strip: Strip) -> list[tuple[Color | None, Color | None]]:
    return [
        (segment.style.color, segment.style.bgcolor) if segment.style else (None, None)
        for segment in strip
        for _ in segment.text
    ]


@pytest.mark.parametrize("motif", ["orbit", "waves", "grid"])
async def test_screen_shows_the_latest_frame_on_every_row(motif: str) -> None:
    # Only rows that changed are repainted; no row may be left showing an older frame.
    app = CanvasApp(Visual(motif, PALETTE, 1.0, 3))
    async with app.run_test(size=(40, 30)) as pilot:
        canvas = app.query_one(VideoCanvas)
        await pilot.pause(0.4)
        for y in range(30):
            (painted,) = canvas.render_lines(Region(0, y, 40, 1))
            assert cell_colours(painted) == cell_colours(canvas.render_line(y)), f"row {y}"


async def test_new_visual_restarts_playback() -> None:
    app = CanvasApp(Visual("fire", PALETTE, 1.0, 3))
    async with app.run_test(size=(40, 30)) as pilot:
        canvas = app.query_one(VideoCanvas)
        await pilot.pause(0.2)
        rain = Visual("rain", PALETTES[4], 1.0, 8)
        canvas.visual = rain
        assert canvas.position_s == 0.0
        expected = strips_from_frame(render_frame(rain, 40, 30, 0.0))
        assert [canvas.render_line(y) for y in range(30)] == expected


async def test_canvas_follows_terminal_resizes() -> None:
    app = CanvasApp(Visual("checker", PALETTE, 1.0, 3))
    async with app.run_test(size=(40, 30)) as pilot:
        canvas = app.query_one(VideoCanvas)
        await pilot.resize_terminal(24, 12)
        await pilot.pause()
        assert canvas.render_line(0).cell_length == 24


class TinyCanvasApp(App[None]):
    CSS = "Container { width: 1; height: 1; } #empty { width: 0; height: 0; }"

    def compose(self) -> ComposeResult:
        with Container():
            yield VideoCanvas(Visual("orbit", PALETTE, 1.0, 1))
        yield VideoCanvas(Visual("orbit", PALETTE, 1.0, 1), id="empty")
        yield VideoCanvas(None)


async def test_tiny_empty_and_blank_canvases_do_not_crash() -> None:
    app = TinyCanvasApp()
    async with app.run_test(size=(20, 10)) as pilot:
        await pilot.pause(0.15)
        tiny, empty, blank = app.query(VideoCanvas)
        assert tiny.render_line(0).cell_length == 1
        assert empty.render_line(0).cell_length == 0
        assert blank.render_line(0).text.strip() == ""
