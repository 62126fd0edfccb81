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

from benchmarks.common import machine, ms, peak_rss_mb, world
from engine import Engine, VirtualClock


def scan_times(eng: Engine, n: int) -> list[float]:
    """One numpy scan as a baseline: the same matrix-vector product and top-k, nothing else."""
    embedding = eng.catalog.embedding
    rng = np.random.default_rng(0)
    samples = []
    for _ in range(n):
        query = rng.standard_normal(embedding.shape[1]).astype(np.float32)
        t0 = time.perf_counter()
        sims = embedding @ query
        np.argpartition(sims, sims.shape[0] - 200)[-200:]
        samples.append(time.perf_counter() - t0)
    return samples


def viewer_session(eng: Engine, picks: int) -> tuple[list[float], list[float]]:
    """A viewer who completes two topics and skips the rest: time each next() and record()."""
    uid = eng.new_user(interests=["cooking", "pets"])
    next_s, record_s = [], []
    for i in range(picks):
        t0 = time.perf_counter()
        rec = eng.next(uid)
        t1 = time.perf_counter()
        if rec.video.topic in ("cooking", "pets"):
            eng.record(uid, rec.video.id, "complete", watched_s=rec.video.duration_s)
        else:
            eng.record(uid, rec.video.id, "skip", watched_s=1.0 + i % 4)
        t2 = time.perf_counter()
        next_s.append(t1 - t0)
        record_s.append(t2 - t1)
    return next_s[10:], record_s[10:]


def main(videos: int, picks: int) -> None:
    source = world(videos)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "world.db"
        shutil.copy(source, path)
        t0 = time.perf_counter()
        eng = Engine.open(path, clock=VirtualClock(0.0))
        opened = time.perf_counter() - t0
        scans = scan_times(eng, picks)
        next_s, record_s = viewer_session(eng, picks)
        eng.close()
    ratio = np.percentile(next_s, 99) / np.percentile(scans, 99)
    print(f"engine {videos:>9,} videos: open {opened:.2f} s · peak RSS {peak_rss_mb():,.0f} MiB")
    print(f"  next()   {ms(next_s)}")
    print(f"  record() {ms(record_s)}  (SQLite commit included, WAL, synchronous=NORMAL)")
    print(f"  scan     {ms(scans)}  (embedding @ query + top-200)")
    print(f"  next() p99 / scan p99 = {ratio:.2f}×")


if __name__ == "__main__":
    print(machine())
    main(
        int(sys.argv[1]) if len(sys.argv) > 1 else 100_000,
        int(sys.argv[2]) if len(sys.argv) > 2 else 1000,
    )
