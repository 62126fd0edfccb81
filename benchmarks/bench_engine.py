"""Engine speed: next() and record() latency, and next() against one raw numpy scan.

Targets: next() p99 ≤ 3 ms on 100k videos; on 1M, next() p99 ≤ 1.2× one scan (matrix @ vector
+ top-k of the same embeddings, measured in the same run); record() p99 ≤ 1 ms with its commit.

Usage: python -m benchmarks.bench_engine VIDEOS [PICKS]
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.common import machine, measured, ms, peak_rss_mb, ratio, world
from engine import Engine, VirtualClock

ROUNDS = 10  # scans and picks alternate in rounds: load from elsewhere lands on both sides
WARMUP_PICKS = 10


class Samples:
    """Wall and CPU seconds of each timed call: CPU well under wall means the call waited."""

    def __init__(self) -> None:
        self.wall: list[float] = []
        self.cpu: list[float] = []

    def add(self, wall_s: float, cpu_s: float) -> None:
        self.wall.append(wall_s)
        self.cpu.append(cpu_s)

    def text(self, skip: int = 0) -> str:
        """Wall percentiles, then the share of that wall time this process spent on a CPU."""
        wall, cpu = self.wall[skip:], self.cpu[skip:]
        return f"{ms(wall)} · cpu {sum(cpu) / sum(wall):.2f} of wall"

    def p99_ms(self, skip: int = 0) -> float:
        return float(np.percentile(self.wall[skip:], 99)) * 1e3


def scans(embedding: np.ndarray, n: int, rng: np.random.Generator, into: Samples) -> None:
    """One numpy scan as a baseline: the same matrix-vector product and top-k, nothing else."""
    for _ in range(n):
        query = rng.standard_normal(embedding.shape[1]).astype(np.float32)
        t0, c0 = time.perf_counter(), time.process_time()
        sims = embedding @ query
        np.argpartition(sims, sims.shape[0] - 200)[-200:]
        into.add(time.perf_counter() - t0, time.process_time() - c0)


def picks(eng: Engine, uid: int, n: int, next_s: Samples, record_s: Samples) -> None:
    """A viewer who completes two topics and skips the rest: time each next() and record()."""
    for _ in range(n):
        t0, c0 = time.perf_counter(), time.process_time()
        rec = eng.next(uid)
        t1, c1 = time.perf_counter(), time.process_time()
        if rec.video.topic in ("cooking", "pets"):
            eng.record(uid, rec.video.id, "complete", watched_s=rec.video.duration_s)
        else:
            eng.record(uid, rec.video.id, "skip", watched_s=1.0 + len(next_s.wall) % 4)
        t2, c2 = time.perf_counter(), time.process_time()
        next_s.add(t1 - t0, c1 - c0)
        record_s.add(t2 - t1, c2 - c1)


def main(videos: int, n_picks: int) -> None:
    source = world(videos)
    scan_s, next_s, record_s = Samples(), Samples(), Samples()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "world.db"
        shutil.copy(source, path)
        with measured("open", echo=False) as opening:
            eng = Engine.open(path, clock=VirtualClock(0.0))
        with measured("scans and picks", echo=False) as session:
            uid = eng.new_user(interests=["cooking", "pets"])
            rng = np.random.default_rng(0)
            for round_ in range(ROUNDS):
                share = n_picks // ROUNDS + (round_ < n_picks % ROUNDS)
                scans(eng.catalog.embedding, share, rng, scan_s)
                picks(eng, uid, share, next_s, record_s)
        eng.close()
    rss = peak_rss_mb()
    print(f"engine {videos:>9,} videos: open {opening.wall_s:.2f} s · peak RSS {rss:,.0f} MiB")
    print(opening.report("  "))
    print(f"  next()   {next_s.text(WARMUP_PICKS)}")
    commit = "SQLite commit included, WAL, synchronous=NORMAL"
    print(f"  record() {record_s.text(WARMUP_PICKS)}  ({commit})")
    print(f"  scan     {scan_s.text()}  (embedding @ query + top-200)")
    quotient = ratio("next() p99", next_s.p99_ms(WARMUP_PICKS), "scan p99", scan_s.p99_ms())
    print(f"  {quotient}  (same run, {ROUNDS} alternating rounds; target ≤ 1.2× on 1M)")
    print(session.report("  "))


if __name__ == "__main__":
    print(machine())
    main(
        int(sys.argv[1]) if len(sys.argv) > 1 else 100_000,
        int(sys.argv[2]) if len(sys.argv) > 2 else 1000,
    )
