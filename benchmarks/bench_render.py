"""How long one video frame costs: `render_frame` plus building the Strips the widget hands out.

The feed plays at 20 fps and the whole app should stay under 30% of one core, so a frame of the
phone-sized canvas (~36x30 cells) needs to cost a few milliseconds at most. Run:

    python benchmarks/bench_render.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import machine, measured
from engine.visuals import MOTIFS, PALETTES
from tui.widgets.video_canvas import StyleCache, Visual, render_frame, strips_from_frame

SIZES = ((36, 30), (80, 48))  # (width, height) in cells: the feed's phone frame, a full screen
FRAMES_PER_MOTIF = 60  # three seconds of playback at 20 fps
WARMUP_FRAMES = 5


def time_frames(visual: Visual, width: int, height: int) -> np.ndarray:
    """[frames, 2] milliseconds (render_frame, strips_from_frame) for one video played from 0 s."""
    styles = StyleCache()
    timings: list[tuple[float, float]] = []
    for frame_index in range(WARMUP_FRAMES + FRAMES_PER_MOTIF):
        started = time.perf_counter()
        frame = render_frame(visual, width, height, frame_index / 20)
        rendered = time.perf_counter()
        strips_from_frame(frame, styles)
        if frame_index >= WARMUP_FRAMES:
            timings.append((rendered - started, time.perf_counter() - rendered))
    return np.array(timings) * 1000


def main() -> None:
    """Print the machine, then mean / p95 ms per frame and the implied fps per canvas size."""
    print(machine())
    print(f"{FRAMES_PER_MOTIF} frames x {len(MOTIFS)} motifs per size (render_frame + Strips)")
    for width, height in SIZES:
        with measured(f"{width}x{height} frames", echo=False) as frames:
            per_motif = {
                motif: time_frames(
                    Visual.from_catalog(motif, index % len(PALETTES), 1.0, 1000 + index),
                    width,
                    height,
                )
                for index, motif in enumerate(MOTIFS)
            }
        parts = np.concatenate(list(per_motif.values()))
        totals = parts.sum(axis=1)
        mean, p95 = totals.mean(), np.percentile(totals, 95)
        render_ms, strips_ms = parts.mean(axis=0)
        slowest = max(per_motif, key=lambda motif: per_motif[motif].sum(axis=1).mean())
        print(
            f"{width:>3}x{height:<3} cells: mean {mean:5.2f} ms (numpy {render_ms:.2f} + strips "
            f"{strips_ms:.2f}), p95 {p95:5.2f} ms, ~{1000 / mean:.0f} fps on one core"
        )
        print(
            f"           slowest motif: {slowest} ({per_motif[slowest].sum(axis=1).mean():.2f} ms)"
        )
        print(frames.report(" " * 11))


if __name__ == "__main__":
    main()
