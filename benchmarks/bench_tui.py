"""The feed app in a real terminal: cold start, keypress → next video painted, animation cost.

Targets (issue 4): cold start to the first video painted ≤ 1.0 s on an already-built 100k-video
world; keypress → next video painted p95 ≤ 50 ms; animation ≥ 15 fps at < 30% of one core.

The app runs in tmux exactly as `foryou feed` would, in a child process of this script that
wraps three private Textual/app methods to log, with CLOCK_MONOTONIC stamps (system-wide, so
comparable across processes), when a new video reaches the terminal and how many frames were
drawn. This script stamps the moment before it launches the child or sends a key, so every
figure includes process start-up or tmux's input path. The app runs as installed: with its
bytecode cached (one uncounted launch writes it) and the world file in the OS cache. Run:

    python -m benchmarks.bench_tui [VIDEOS] [--quick]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import numpy as np

from benchmarks.common import Measurement, machine, measured, ms, world

ROOT = Path(__file__).resolve().parents[1]
SIZE = (100, 32)
VIEWER = "bench"
PAINT_TIMEOUT_S = 20.0


# -- the child: the real app, instrumented -------------------------------------------------------


def child(world_path: str, viewer: str, log_path: str) -> None:
    """Run `foryou feed` with probes that append to `log_path`: ``painted <video_id> <t> <cpu_s>``
    when a new video's first frame is written to the terminal, and
    ``stats <t> <cpu_s> <frames> <writes>`` once a second.
    """
    import tui  # noqa: F401  # first, as `foryou` does: it sets TEXTUAL_FPS before Textual loads

    # isort: split
    from textual.app import App

    from tui.cli import main
    from tui.screens.feed import FeedScreen

    log = open(log_path, "a", buffering=1)  # noqa: SIM115 - lives as long as the process
    counts = {"frames": 0, "writes": 0}
    pending: list[int] = []

    show_current, play, display = FeedScreen._show_current, FeedScreen.play, App._display

    def probed_show_current(screen: FeedScreen) -> None:
        show_current(screen)
        if screen.session.video is not None:
            pending.append(screen.session.video.id)

    def probed_play(screen: FeedScreen, wall_s: float) -> None:
        play(screen, wall_s)
        counts["frames"] += 1

    def probed_display(app: App[None], screen: object, renderable: object) -> None:
        display(app, screen, renderable)  # type: ignore[arg-type]
        counts["writes"] += 1
        if pending:
            log.write(f"painted {pending[-1]} {time.monotonic():.6f} {time.process_time():.6f}\n")
            pending.clear()

    def report() -> None:
        while True:
            log.write(
                f"stats {time.monotonic():.6f} {time.process_time():.6f} "
                f"{counts['frames']} {counts['writes']}\n"
            )
            time.sleep(1.0)

    FeedScreen._show_current = probed_show_current  # type: ignore[method-assign]
    FeedScreen.play = probed_play  # type: ignore[method-assign]
    App._display = probed_display  # type: ignore[method-assign]
    threading.Thread(target=report, daemon=True).start()
    main(["feed", "--db", world_path, "--user", viewer])


# -- the parent: drive tmux, read the probes -----------------------------------------------------


class Pane:
    """The instrumented app in a tmux server of its own."""

    def __init__(self, world_path: Path, log_path: Path) -> None:
        self.socket = f"foryou-bench-{uuid.uuid4().hex[:8]}"
        self.log_path = log_path
        command = (
            f"cd {ROOT} && {sys.executable} -m benchmarks.bench_tui "
            f"--child {world_path} {VIEWER} {log_path}"
        )
        self.started = time.monotonic()
        # An installed foryou has its bytecode compiled (pip does it); a PYTHONDONTWRITEBYTECODE
        # inherited from a sandbox would make every launch compile ~90 modules (~0.2 s).
        self.tmux(
            "new-session", "-d", "-s", "bench", "-x", str(SIZE[0]), "-y", str(SIZE[1]),
            "-e", "COLORTERM=truecolor", "-e", "PYTHONDONTWRITEBYTECODE=", command,
        )  # fmt: skip
        self.socket_path = subprocess.run(
            ["tmux", "-L", self.socket, "display-message", "-p", "#{socket_path}"],
            capture_output=True,
            text=True,
        ).stdout.strip()

    def tmux(self, *args: str) -> None:
        environment = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
        subprocess.run(["tmux", "-L", self.socket, *args], check=True, env=environment)

    def lines(self, kind: str) -> list[list[str]]:
        text = self.log_path.read_text() if self.log_path.exists() else ""
        return [line.split()[1:] for line in text.splitlines() if line.startswith(kind + " ")]

    def wait_painted(self, count: int) -> tuple[float, float]:
        """Seconds-stamp of the `count`-th painted video (1-based), and the app's CPU seconds."""
        deadline = time.monotonic() + PAINT_TIMEOUT_S
        seen_size = -1
        while time.monotonic() < deadline:
            # Re-read only when the log grew: the poll shares the machine with what it measures.
            size = self.log_path.stat().st_size if self.log_path.exists() else 0
            if size != seen_size:
                seen_size = size
                painted = self.lines("painted")
                if len(painted) >= count:
                    return float(painted[count - 1][1]), float(painted[count - 1][2])
            time.sleep(0.001)
        raise TimeoutError(f"no video #{count} painted within {PAINT_TIMEOUT_S:.0f} s")

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)
        if self.socket_path:
            Path(self.socket_path).unlink(missing_ok=True)  # tmux leaves the socket file behind


def cold_start(world_path: Path, tmp: Path, runs: int) -> tuple[list[float], Measurement]:
    """Seconds from launching the process to its first video on the terminal, per run.

    The measurement adds the app's own CPU up to each first paint (interpreter start included):
    the app runs under tmux's server, not as a child of this process.
    """
    warm_up = Pane(world_path, tmp / "cold-warm-up.log")  # writes any missing bytecode: not counted
    try:
        warm_up.wait_painted(1)
    finally:
        warm_up.close()
    seconds = []
    with measured(f"{runs} launches", echo=False) as launches:
        app_cpu = 0.0
        for run in range(runs):
            pane = Pane(world_path, tmp / f"cold-{run}.log")
            try:
                painted, cpu = pane.wait_painted(1)
                seconds.append(painted - pane.started)
                app_cpu += cpu
            finally:
                pane.close()
        launches.extra_cpu["the app until its first paint"] = app_cpu
    return seconds, launches


def keypress_and_playback(
    world_path: Path, tmp: Path, presses: int, playback_s: float
) -> tuple[list[float], dict[str, float], Measurement, Measurement]:
    """Press j `presses` times (each after a short watch), then let one video play."""
    pane = Pane(world_path, tmp / "keys.log")
    rng = np.random.default_rng(4)
    latencies = []
    try:
        _, cpu_before = pane.wait_painted(1)
        # This process's CPU here is the polling for paints, which shares the cores with the app.
        with measured(
            f"{presses} keypresses, the watches between them included", echo=False
        ) as keys:
            for press in range(presses):
                time.sleep(float(rng.uniform(0.15, 0.35)))
                sent = time.monotonic()
                pane.tmux("send-keys", "-t", "bench", "j")
                painted, cpu_after = pane.wait_painted(press + 2)
                latencies.append(painted - sent)
            keys.extra_cpu["the app"] = cpu_after - cpu_before
        time.sleep(2.0)
        with measured("playback", echo=False) as playing:
            first = pane.lines("stats")[-1]
            time.sleep(playback_s)
            last = pane.lines("stats")[-1]
        pane.tmux("send-keys", "-t", "bench", "q")
        time.sleep(0.5)
        pane.tmux("send-keys", "-t", "bench", "q")
    finally:
        pane.close()
    (t0, cpu0, frames0, writes0), (t1, cpu1, frames1, writes1) = (
        [float(x) for x in first],
        [float(x) for x in last],
    )
    wall = t1 - t0
    playback = {
        "seconds": wall,
        "fps": (frames1 - frames0) / wall,
        "writes_per_s": (writes1 - writes0) / wall,
        "cpu_share": (cpu1 - cpu0) / wall,
    }
    playing.extra_cpu["the app"] = cpu1 - cpu0
    return latencies, playback, keys, playing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("videos", nargs="?", type=int, default=100_000)
    parser.add_argument("--quick", action="store_true", help="10 s of playback, fewer runs")
    parser.add_argument("--child", nargs=3, metavar=("WORLD", "VIEWER", "LOG"), help="internal")
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    if shutil.which("tmux") is None:
        sys.exit("bench_tui needs tmux")
    from engine import Engine

    print(machine())
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        world_path = tmp / "world.db"
        shutil.copy(world(args.videos), world_path)
        with Engine.open(world_path) as eng:
            eng.new_user(["cooking", "pets"], name=VIEWER)
        runs, presses, playback_s = (3, 30, 10.0) if args.quick else (7, 60, 60.0)
        print(f"world: {args.videos:,} videos · terminal: tmux {SIZE[0]}×{SIZE[1]} (truecolor)")
        starts, launches = cold_start(world_path, tmp, runs)
        print(
            f"cold start → first video painted: median {np.median(starts):.2f} s, "
            f"max {max(starts):.2f} s over {runs} launches after one uncounted warm-up "
            "(target ≤ 1.0 s)"
        )
        print(launches.report("  "))
        latencies, playback, keys, playing = keypress_and_playback(
            world_path, tmp, presses, playback_s
        )
        print(f"keypress → next video painted: {ms(latencies)} (target p95 ≤ 50 ms)")
        print(keys.report("  "))
        print(
            f"playback over {playback['seconds']:.0f} s: {playback['fps']:.1f} frames/s drawn, "
            f"{playback['writes_per_s']:.1f} screen updates/s, "
            f"CPU {100 * playback['cpu_share']:.1f}% of one core "
            "(target ≥ 15 fps at < 30%)"
        )
        print(playing.report("  "))


if __name__ == "__main__":
    main()
