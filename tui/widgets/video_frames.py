"""Procedural frames for the synthetic videos: one vectorised numpy picture per motif.

A video in the catalog is only a motif name, a palette, a speed and a seed; this module turns
those into RGB pixels so the feed has something recognisable to show. It is kept apart from the
widget so it stays pure numpy (benchmarks and tests call it without an app) and so each motif
reads as a short function.

Every motif returns two weight maps in [0, 1]: how much of the primary colour to lay over the
background, then how much accent to lay over that. Weights are quantised to `LEVELS` steps and
looked up in a per-palette table, so a video uses at most `LEVELS**2` colours; that keeps the
widget's style cache small and lets neighbouring cells merge into one segment.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt

from engine.visuals import MOTIFS, PALETTES

Pixels = npt.NDArray[np.uint8]
Field = npt.NDArray[np.float32]

LEVELS = 16  # weight steps per colour layer; 16 reads as smooth at half-block resolution
TAU = np.float32(2 * np.pi)


@dataclass(frozen=True)
class Visual:
    """What a video looks like: everything `render_frame` needs, nothing else.

    Attributes:
        motif: One of `engine.visuals.MOTIFS`.
        palette: Background, primary and accent colours as ``#rrggbb`` strings (one row of
            `engine.visuals.PALETTES`; use `from_catalog` to build from a palette index).
        motion: Speed multiplier, 0.5..2.0 in the catalog; 0 freezes the picture.
        visual_seed: Per-video variation (phase, direction, counts and positions of things).
    """

    motif: str
    palette: tuple[str, str, str]
    motion: float
    visual_seed: int

    @classmethod
    def from_catalog(
        cls, motif: str, palette_index: int, motion: float, visual_seed: int
    ) -> Visual:
        """Build a Visual from the catalog's columns (numpy scalars are accepted).

        Args:
            motif: Motif name, one of `engine.visuals.MOTIFS`.
            palette_index: Index into `engine.visuals.PALETTES`.
            motion: Speed multiplier.
            visual_seed: Per-video variation.

        Returns:
            The Visual, with plain Python field values so it hashes and compares stably.
        """
        return cls(str(motif), PALETTES[int(palette_index)], float(motion), int(visual_seed))


@dataclass(frozen=True)
class _Knobs:
    """The per-video choices a seed makes; each motif reads the few it needs."""

    phase: float  # radians
    angle: float  # radians, a direction or a tilt
    spin: float  # +1 or -1: which way things turn or scroll
    scale: float  # 0.8..1.4, frequency / density multiplier
    count: float  # 0..1, mapped by each motif onto its own range of object counts
    salt: int  # mixed into the pixel hash so textures differ between videos
    objects: npt.NDArray[np.float32]  # [12, 4] uniforms per object: x, y, speed, size


@dataclass(frozen=True)
class _Canvas:
    """Pixel coordinates in square units: the shorter side spans -0.5..0.5, y grows downward."""

    x: Field  # [H, W]
    y: Field  # [H, W]
    col: npt.NDArray[np.int64]  # [1, W] pixel column
    row: npt.NDArray[np.int64]  # [H, 1] pixel row
    half_w: float
    half_h: float
    pixel: float  # the size of one pixel in these units


@lru_cache(maxsize=512)
def _knobs(visual_seed: int) -> _Knobs:
    rng = np.random.default_rng(visual_seed & 0xFFFF_FFFF_FFFF_FFFF)
    return _Knobs(
        phase=float(rng.uniform(0, 2 * np.pi)),
        angle=float(rng.uniform(0, 2 * np.pi)),
        spin=float(rng.choice([-1.0, 1.0])),
        scale=float(rng.uniform(0.8, 1.4)),
        count=float(rng.uniform()),
        salt=int(rng.integers(1, 2**31)),
        objects=rng.uniform(size=(12, 4)).astype(np.float32),
    )


@lru_cache(maxsize=8)
def _canvas(width: int, height: int) -> _Canvas:
    short = min(width, height)
    col = np.arange(width, dtype=np.int64)[None, :]
    row = np.arange(height, dtype=np.int64)[:, None]
    x = ((col + 0.5 - width / 2) / short).astype(np.float32)
    y = ((row + 0.5 - height / 2) / short).astype(np.float32)
    x, y = (np.ascontiguousarray(a) for a in np.broadcast_arrays(x, y))
    for cached in (x, y, col, row):
        cached.flags.writeable = False  # shared by every frame of this size
    return _Canvas(
        x=x,
        y=y,
        col=col,
        row=row,
        half_w=width / short / 2,
        half_h=height / short / 2,
        pixel=1 / short,
    )


def _mix(h: npt.NDArray[np.uint32]) -> npt.NDArray[np.uint32]:
    h = h * np.uint32(0x9E3779B1)
    h = (h ^ (h >> np.uint32(15))) * np.uint32(0x85EBCA6B)
    return h ^ (h >> np.uint32(13))


def _hash01(salt: int, first: npt.NDArray[np.int64], *keys: npt.NDArray[np.int64] | int) -> Field:
    """Uniform 0..1 noise per integer key tuple (an integer mixer, so it is platform-stable).

    `first` must be an array: uint32 arithmetic on arrays wraps silently, on scalars it warns.
    """
    h = _mix(first.astype(np.uint32) ^ np.uint32(salt & 0xFFFFFFFF))
    for key in keys:
        h = _mix(h ^ np.asarray(key).astype(np.uint32))
    noise: Field = (h >> np.uint32(8)).astype(np.float32) / np.float32(1 << 24)
    return noise


def _soft_step(value: Field, edge: float, width: float) -> Field:
    """0 below `edge`, 1 above, with a linear ramp `width` wide so edges anti-alias."""
    ramp: Field = np.clip((value - edge) / width + 0.5, 0.0, 1.0)
    return ramp


def _near(value: Field, target: npt.NDArray[np.floating[Any]] | float, half_width: float) -> Field:
    """1 where `value` is within `half_width` of `target`, fading to 0 one width further."""
    closeness: Field = np.clip(2.0 - np.abs(value - target) / half_width, 0.0, 1.0)
    return closeness


Layers = tuple[Field, Field]
Motif = Callable[[_Canvas, float, _Knobs], Layers]


def _waves(c: _Canvas, t: float, k: _Knobs) -> Layers:
    """Three rolling sea swells stacked to the horizon, with foam on each crest."""
    primary = np.zeros_like(c.x)
    accent = np.zeros_like(c.x)
    for layer in range(3):
        level = c.half_h * (-0.35 + 0.4 * layer)
        wavelength = 5.0 * k.scale * (1 + 0.3 * layer)
        surface = level + 0.06 * np.sin(
            c.x * wavelength + k.spin * t * (1.3 + 0.5 * layer) + k.phase + layer
        )
        primary += 0.34 * _soft_step(c.y, surface, c.pixel)
        accent = np.maximum(accent, (1.0 - 0.25 * layer) * _near(c.y, surface, c.pixel * 0.6))
    return primary, accent


def _bars(c: _Canvas, t: float, k: _Knobs) -> Layers:
    """An equaliser: vertical bars bouncing to a beat, each with an accent cap."""
    n_bars = 5 + int(k.count * 5)
    objects = k.objects[:n_bars]
    across = (c.x + c.half_w) / (2 * c.half_w) * n_bars
    index = np.clip(across.astype(np.int64), 0, n_bars - 1)
    in_bar = (across - index) < 0.75
    beat = 0.5 + 0.5 * np.sin(t * (2.5 + 3 * objects[:, 2]) + TAU * objects[:, 0])
    heights = (0.15 + 0.75 * beat * (0.6 + 0.4 * objects[:, 3])) * 2 * c.half_h
    from_floor = c.half_h - c.y
    top = heights[index]
    primary = (from_floor < top) * in_bar * (0.5 + 0.5 * from_floor / top)
    accent = _near(from_floor, top + 3 * c.pixel, c.pixel) * in_bar
    return primary.astype(np.float32), accent.astype(np.float32)


def _spiral(c: _Canvas, t: float, k: _Knobs) -> Layers:
    """Hypnotic spiral arms turning around a glowing eye."""
    arms = 2 + int(k.count * 3)
    radius = np.hypot(c.x, c.y)
    theta = np.arctan2(c.y, c.x)
    sweep = np.sin(arms * theta + radius * 16 * k.scale - k.spin * 3 * t + k.phase)
    primary = _soft_step(sweep, 0.0, 0.5)
    eye = 0.09 + 0.02 * np.sin(4 * t)
    return primary, _soft_step(-radius, -eye, c.pixel)


def _rain(c: _Canvas, t: float, k: _Knobs) -> Layers:
    """Slanted rain streaks falling at per-column speeds, splashing at the bottom."""
    height = c.row.size
    lane = c.col + (c.row * np.tan(0.5 * np.sin(k.angle))).astype(np.int64)
    speed = 0.6 + 0.8 * _hash01(k.salt, lane, 1)
    offset = _hash01(k.salt, lane, 2)
    falling = _hash01(k.salt, lane, 3) < 0.5
    along = np.mod(c.row / (height * 0.45) - t * speed + offset, 1.0)
    primary = falling * _soft_step(along, 0.82, 0.3) ** 2
    accent = falling * (along > 0.97)
    splash_tick = int(t * 10)
    splash = (c.row >= height - 2) & (_hash01(k.salt, c.col, splash_tick) > 0.8)
    return primary.astype(np.float32), (accent | splash).astype(np.float32)


def _stars(c: _Canvas, t: float, k: _Knobs) -> Layers:
    """A drifting two-layer starfield over a soft nebula; a few stars twinkle in the accent."""
    primary = 0.35 * np.exp(
        -((c.x - 0.25 * np.cos(k.angle)) ** 2 + (c.y - 0.4 * np.sin(k.angle)) ** 2) / 0.05
    ).astype(np.float32)
    accent = np.zeros_like(c.x)
    for layer in range(2):
        shift = int(k.spin * t * (3 + 5 * layer))
        star = _hash01(k.salt + layer, c.col + shift, c.row)
        twinkle = 0.6 + 0.4 * np.sin(t * 3 + TAU * _hash01(k.salt, c.row, c.col + shift))
        primary = np.maximum(primary, (star > 0.975 - 0.01 * layer) * twinkle)
        accent = np.maximum(accent, (star > 0.997) * twinkle)
    return primary.astype(np.float32), accent.astype(np.float32)


def _checker(c: _Canvas, t: float, k: _Knobs) -> Layers:
    """A scrolling checkerboard (square or diamond) where random tiles flash like a retro game."""
    cells = 3 + 2 * k.scale
    # Only 0° and 45° stay crisp at half-block resolution; other angles alias into noise.
    turn = np.pi / 4 if k.count > 0.5 else 0.0
    u = (c.x * np.cos(turn) - c.y * np.sin(turn)) * cells + 0.5 * t * np.cos(k.angle)
    v = (c.x * np.sin(turn) + c.y * np.cos(turn)) * cells + 0.5 * t * np.sin(k.angle)
    tile_u, tile_v = np.floor(u).astype(np.int64), np.floor(v).astype(np.int64)
    parity = ((tile_u + tile_v) & 1).astype(np.float32)
    flash = _hash01(k.salt, tile_u, tile_v, int(t * 2)) > 0.8
    return parity, (flash & (parity > 0)).astype(np.float32)


def _pulse(c: _Canvas, t: float, k: _Knobs) -> Layers:
    """A beating heart sending rings outwards on every double thump."""
    beat = np.mod(t * 1.1 + k.phase, 1.0)
    thump = np.exp(-(((beat - 0.1) / 0.06) ** 2)) + 0.7 * np.exp(-(((beat - 0.32) / 0.06) ** 2))
    radius = np.hypot(c.x, c.y)
    ring = np.mod(radius * 3 * k.scale - t * 1.1, 1.0)
    fade = np.clip(1.2 - 0.5 * radius / c.half_w, 0, 1)
    primary = _near(ring, 0.5, 0.06) * fade
    size = 0.17 + 0.04 * thump
    hx, hy = c.x / size, -c.y / size + 0.25
    heart = (hx**2 + hy**2 - 1) ** 3 - hx**2 * hy**3
    return primary.astype(np.float32), (heart <= 0).astype(np.float32)


def _blobs(c: _Canvas, t: float, k: _Knobs) -> Layers:
    """A lava lamp: metaballs drifting on slow Lissajous paths, merging and splitting."""
    n_blobs = 4 + int(k.count * 3)
    objects = k.objects[:n_blobs, :, None, None]
    centre_x = 0.7 * c.half_w * np.sin(t * (0.4 + 0.5 * objects[:, 2]) + TAU * objects[:, 0])
    centre_y = 0.75 * c.half_h * np.sin(t * (0.3 + 0.4 * objects[:, 3]) + TAU * objects[:, 1])
    radius = 0.11 + 0.08 * objects[:, 3]
    distance2 = (c.x - centre_x) ** 2 + (c.y - centre_y) ** 2 + 1e-4
    field = (radius**2 / distance2).sum(axis=0)
    return _soft_step(field, 1.0, 0.25), _soft_step(field, 2.5, 0.6)


def _stripes(c: _Canvas, t: float, k: _Knobs) -> Layers:
    """Bold diagonal racing stripes with a thin accent pinstripe, scrolling sideways."""
    angle = np.pi / 4 + 0.35 * np.sin(k.angle)
    across = (c.x * np.cos(angle) + c.y * np.sin(angle)) * (3 + 3 * k.scale) - k.spin * 0.7 * t
    phase = np.mod(across, 1.0)
    primary = _soft_step(-phase, -0.45, 0.05)
    return primary, _near(phase, 0.62, 0.03)


def _plasma(c: _Canvas, t: float, k: _Knobs) -> Layers:
    """The demoscene plasma: interfering sine fields flowing through the whole palette."""
    f = 6 * k.scale
    value = (
        np.sin(c.x * f + t + k.phase)
        + np.sin(c.y * f * 0.8 - 1.3 * t)
        + np.sin((c.x + c.y) * f * 0.7 + 0.7 * t)
        + np.sin(np.hypot(c.x - 0.2 * np.sin(t), c.y) * f * 1.5 - t)
    )
    primary = 0.5 + 0.5 * np.sin(value * np.pi * 0.5)
    accent = np.clip(np.cos(value * np.pi * 0.35 + t) * 1.6 - 0.6, 0, 1)
    return primary.astype(np.float32), accent.astype(np.float32)


def _fire(c: _Canvas, t: float, k: _Knobs) -> Layers:
    """Flames licking upwards from the bottom edge, hottest (accent) at the base."""
    from_floor = (c.half_h - c.y) / (2 * c.half_h)
    f = 9 * k.scale
    flicker = 0.5 * np.sin(c.x * f + 3 * t + 1.5 * np.sin(c.y * 7 + 4 * t) + k.phase) + 0.25 * (
        np.sin(c.x * f * 1.9 - 5 * t + c.y * 11)
    )
    heat = 1.2 - 1.9 * from_floor + 0.4 * flicker
    primary = np.clip(heat * 1.6, 0, 1)
    accent = np.clip(heat * 1.6 - 1.2, 0, 1)
    return primary.astype(np.float32), accent.astype(np.float32)


def _grid(c: _Canvas, t: float, k: _Knobs) -> Layers:
    """A perspective grid rushing towards the viewer under a scrolling stock-ticker line."""
    horizon = 0.1 * c.half_h
    below = np.maximum(c.y - horizon, c.pixel)
    depth = 0.3 / below
    lane = c.x * depth * 2 * k.scale
    lane_px = np.abs(np.mod(lane + 0.5, 1.0) - 0.5) / (2 * k.scale * depth)
    ahead = depth + 1.5 * t
    ahead_px = np.abs(np.mod(ahead + 0.5, 1.0) - 0.5) * below**2 / 0.3
    lines = np.maximum(_near(lane_px, 0.0, c.pixel * 0.5), _near(ahead_px, 0.0, c.pixel * 0.5))
    ground = (c.y > horizon) * lines * np.clip(1.3 - 0.1 * depth, 0.2, 1)
    drift = c.x * 7 + k.spin * 2 * t + k.phase
    price = horizon - c.half_h * (0.45 + 0.25 * (0.6 * np.sin(drift) + 0.4 * np.sin(2.3 * drift)))
    area = (c.y > price) * (c.y < horizon) * 0.25
    accent = _near(c.y, price, c.pixel * 0.6)
    return np.maximum(ground, area).astype(np.float32), accent.astype(np.float32)


def _bubbles(c: _Canvas, t: float, k: _Knobs) -> Layers:
    """Soap bubbles wobbling upwards, each a thin ring with an accent glint."""
    n_bubbles = 7 + int(k.count * 5)
    objects = k.objects[:n_bubbles, :, None, None]
    radius = 0.05 + 0.07 * objects[:, 3]
    travel = 2 * c.half_h + 2 * radius
    centre_y = (
        c.half_h + radius - np.mod(objects[:, 1] + t * 0.15 * (0.6 + objects[:, 2]), 1.0) * travel
    )
    centre_x = (objects[:, 0] * 2 - 1) * c.half_w * 0.85 + 0.04 * np.sin(
        2 * t + TAU * objects[:, 2]
    )
    distance = np.hypot(c.x - centre_x, c.y - centre_y)
    ring = _near(distance, radius, c.pixel * 0.6) + 0.15 * (distance < radius)
    glint_d = np.hypot(c.x - centre_x + 0.4 * radius, c.y - centre_y + 0.4 * radius)
    glint = glint_d < 0.3 * radius
    return ring.max(axis=0).astype(np.float32), glint.max(axis=0).astype(np.float32)


def _leaves(c: _Canvas, t: float, k: _Knobs) -> Layers:
    """Pointed leaves tumbling down on a breeze, some in the accent colour."""
    n_leaves = 7 + int(k.count * 5)
    objects = k.objects[:n_leaves, :, None, None]
    sway = np.sin(t * (1.0 + objects[:, 2]) + TAU * objects[:, 3])
    travel = 2 * c.half_h + 0.3
    centre_y = (
        -c.half_h - 0.15 + np.mod(objects[:, 1] + t * 0.1 * (0.6 + objects[:, 2]), 1.0) * travel
    )
    centre_x = (objects[:, 0] * 2 - 1) * c.half_w * 0.8 + 0.12 * sway
    turn = TAU * objects[:, 3] + 0.8 * sway
    dx, dy = c.x - centre_x, c.y - centre_y
    size = 0.7 + 0.5 * objects[:, 1]
    along = (dx * np.cos(turn) + dy * np.sin(turn)) / (0.13 * size)
    side = np.abs(-dx * np.sin(turn) + dy * np.cos(turn)) / (0.07 * size)
    blade = (np.abs(along) < 1) & (side < 1 - along**2)
    shade = np.where(side < 0.25, 0.6, 1.0)
    is_accent = (np.arange(n_leaves) % 3 == 0)[:, None, None]
    primary = (blade & ~is_accent) * shade
    accent = (blade & is_accent) * shade
    return primary.max(axis=0).astype(np.float32), accent.max(axis=0).astype(np.float32)


def _orbit(c: _Canvas, t: float, k: _Knobs) -> Layers:
    """A sun with a turning corona and planets circling on tilted, faintly drawn orbits."""
    n_planets = 2 + int(k.count * 2)
    tilt = 0.6 + 0.25 * np.sin(k.angle)
    # Orbits are circles in a tilted plane: squash y to measure the in-plane radius.
    plane_r = np.hypot(c.x, c.y / tilt)
    primary = np.zeros_like(c.x)
    for planet in range(n_planets):
        orbit_r = 0.2 + 0.12 * planet
        primary = np.maximum(primary, 0.4 * _near(plane_r, orbit_r, c.pixel * 0.5))
        angle = k.spin * t * (1.4 / (planet + 1)) + TAU * float(k.objects[planet, 0])
        px, py = orbit_r * np.cos(angle), orbit_r * np.sin(angle) * tilt
        size = 0.035 + 0.025 * float(k.objects[planet, 3])
        primary = np.maximum(primary, _soft_step(-np.hypot(c.x - px, c.y - py), -size, c.pixel))
    radius = np.hypot(c.x, c.y)
    rays = np.sin(7 * np.arctan2(c.y, c.x) - k.spin * 2 * t) > 0.3
    corona = rays * (radius < 0.13 + 0.02 * np.sin(3 * t)) * 0.5
    sun = np.maximum(_soft_step(-radius, -0.085, c.pixel), corona)
    return primary, sun.astype(np.float32)


def _zigzag(c: _Canvas, t: float, k: _Knobs) -> Layers:
    """Chevron bands marching down the screen, torn by glitching rows in the accent colour."""
    band_row = c.row // 3
    glitch = _hash01(k.salt, band_row, int(t * 6)) > 0.85
    x = c.x + glitch * 0.15 * k.spin
    teeth = np.abs(np.mod(x * 3 * k.scale + 0.3 * k.spin * t, 1.0) - 0.5) * 2
    value = np.mod(c.y * 4 * k.scale + 0.6 * teeth - 0.8 * t, 1.0)
    stripe = value < 0.5
    return (stripe & ~glitch).astype(np.float32), (stripe & glitch).astype(np.float32)


_MOTIFS: dict[str, Motif] = {
    "waves": _waves,
    "bars": _bars,
    "spiral": _spiral,
    "rain": _rain,
    "stars": _stars,
    "checker": _checker,
    "pulse": _pulse,
    "blobs": _blobs,
    "stripes": _stripes,
    "plasma": _plasma,
    "fire": _fire,
    "grid": _grid,
    "bubbles": _bubbles,
    "leaves": _leaves,
    "orbit": _orbit,
    "zigzag": _zigzag,
}


@lru_cache(maxsize=64)
def _colour_table(palette: tuple[str, str, str]) -> Pixels:
    """[LEVELS, LEVELS, 3] colours: background → primary along axis 0, → accent along axis 1."""
    background, primary, accent = (
        np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)], dtype=np.float32)
        for colour in palette
    )
    steps = np.linspace(0, 1, LEVELS, dtype=np.float32)[:, None]
    base = background + (primary - background) * steps  # [LEVELS, 3]
    table = base[:, None, :] + (accent - base[:, None, :]) * steps[None, :, :]
    result: Pixels = np.rint(table).astype(np.uint8)
    result.flags.writeable = False
    return result


def render_frame(visual: Visual, width_cells: int, height_cells: int, t_seconds: float) -> Pixels:
    """Draw one frame of a video as RGB pixels, two pixel rows per terminal cell.

    Args:
        visual: What to draw.
        width_cells: Canvas width in terminal cells (one pixel per cell across).
        height_cells: Canvas height in terminal cells (two pixels per cell down).
        t_seconds: Playback position; the picture moves at `visual.motion` times this.

    Returns:
        uint8 array [height_cells * 2, width_cells, 3], deterministic in its arguments. Empty
        (zero-sized) when either dimension is 0 or negative.

    Raises:
        ValueError: If `visual.motif` is not one of `engine.visuals.MOTIFS`.
    """
    draw = _MOTIFS.get(visual.motif)
    if draw is None:
        raise ValueError(f"unknown motif {visual.motif!r}; expected one of {', '.join(MOTIFS)}")
    width, height = max(width_cells, 0), max(height_cells, 0) * 2
    if width == 0 or height == 0:
        return np.zeros((height, width, 3), dtype=np.uint8)
    primary, accent = draw(
        _canvas(width, height), t_seconds * visual.motion, _knobs(visual.visual_seed)
    )
    top = LEVELS - 1
    primary_level = np.rint(np.clip(primary, 0, 1) * top).astype(np.intp)
    accent_level = np.rint(np.clip(accent, 0, 1) * top).astype(np.intp)
    pixels: Pixels = _colour_table(visual.palette)[primary_level, accent_level]
    return pixels
