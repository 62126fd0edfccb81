"""Engine speed: next() and record() latency, and next() against one raw numpy scan.

Targets: next() p99 ≤ 3 ms on 100k videos; on 1M, next() p99 ≤ 1.2× one scan (matrix @ vector
+ top-k of the same embeddings, measured in the same run); record() p99 ≤ 1 ms with its commit.

Usage: python -m benchmarks.bench_engine VIDEOS [PICKS] [--kernels]
       python -m benchmarks.bench_engine --scaling [PICKS]   # 20k, 100k and 1M side by side

``next()`` picks on the numpy path (it never loads the optional compiled kernels, see
:mod:`engine.kernels`); ``--kernels`` loads them first (numba installed: ``.[fast]``), so the
two paths can be run in turn. The first line says which path ran.

The first pick of each round follows the round's scans (tens of milliseconds away): its
caches are cold, as every pick's is in the app, where a viewing comes between two picks. They
are about 1% of the picks, so they make the p99; their own figure is printed beside the warm
picks' (the ones that follow another pick at once).

``--scaling`` runs each size in a process of its own (its peak RSS is its own) and ends with
one table: next() p50/p99, the scan's p99 and their ratio, record() p99, per catalogue size.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import (
    Measurement,
    cores,
    load_now,
    machine,
    measured,
    ms,
    peak_rss_mb,
    ratio,
    world,
    worst_load_warning,
)
from engine import Engine, VirtualClock, kernels

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
        cpu_ms = np.array(cpu) * 1e3
        return (
            f"{ms(wall)} · cpu p50 {np.percentile(cpu_ms, 50):.2f} ms, "
            f"p99 {np.percentile(cpu_ms, 99):.2f} ms, {sum(cpu) / sum(wall):.2f} of wall"
        )

    def parted(self, chosen: set[int], skip: int = 0) -> tuple[Samples, Samples]:
        """The samples at the ``chosen`` indices, and the others (from ``skip`` on)."""
        inside, outside = Samples(), Samples()
        for i in range(skip, len(self.wall)):
            (inside if i in chosen else outside).add(self.wall[i], self.cpu[i])
        return inside, outside

    def p99_ms(self, skip: int = 0) -> float:
        return self.percentile_ms(99, skip)

    def percentile_ms(self, q: float, skip: int = 0) -> float:
        return float(np.percentile(self.wall[skip:], q)) * 1e3

    def cpu_percentile_ms(self, q: float, skip: int = 0) -> float:
        """On a loaded machine the CPU time of a call says more than its wall time."""
        return float(np.percentile(self.cpu[skip:], q)) * 1e3


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


def main(videos: int, n_picks: int) -> dict[str, Any]:
    source = world(videos)
    scan_s, next_s, record_s = Samples(), Samples(), Samples()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "world.db"
        shutil.copy(source, path)
        with measured("open", echo=False) as opening:
            eng = Engine.open(path, clock=VirtualClock(0.0))
        firsts: list[int] = []  # each round's first pick, after its scans
        with measured("scans and picks", echo=False) as session:
            uid = eng.new_user(interests=["cooking", "pets"])
            rng = np.random.default_rng(0)
            for round_ in range(ROUNDS):
                share = n_picks // ROUNDS + (round_ < n_picks % ROUNDS)
                # The write-ahead log copied into the file, untimed, as the feed copies it
                # while a video plays (Engine.checkpoint): left to SQLite, the copy lands in
                # one next() or record() in about 600 (35-80 ms on 100k videos, the max).
                # Once a round, before its scans: a copy before every pick cools the caches
                # of the pick after it (+30% on next()'s p99), as a scan does.
                eng.checkpoint()
                scans(eng.catalog.embedding, share, rng, scan_s)
                firsts.append(len(next_s.wall))
                picks(eng, uid, share, next_s, record_s)
        eng.close()
    rss = peak_rss_mb()
    print(f"engine {videos:>9,} videos: open {opening.wall_s:.2f} s · peak RSS {rss:,.0f} MiB")
    print(opening.report("  "))
    print(f"  next()   {next_s.text(WARMUP_PICKS)}")
    cold, warm = next_s.parted({i for i in firsts if i >= WARMUP_PICKS}, WARMUP_PICKS)
    away_ms = sum(scan_s.wall) / ROUNDS * 1e3
    print(f"    after a round's scans ({away_ms:.0f} ms away, caches cold) {cold.text()}")
    print(f"    right after another pick (warm)     {warm.text()}")
    commit = "SQLite commit included, WAL, synchronous=NORMAL"
    print(f"  record() {record_s.text(WARMUP_PICKS)}  ({commit})")
    print(f"  scan     {scan_s.text()}  (embedding @ query + top-200)")
    quotient = ratio("next() p99", next_s.p99_ms(WARMUP_PICKS), "scan p99", scan_s.p99_ms())
    print(f"  {quotient}  (same run, {ROUNDS} alternating rounds; target ≤ 1.2× on 1M)")
    print(session.report("  "))
    return {
        "videos": videos,
        "open_s": opening.wall_s,
        "next_p50_ms": next_s.percentile_ms(50, WARMUP_PICKS),
        "next_p99_ms": next_s.p99_ms(WARMUP_PICKS),
        "next_cpu_p50_ms": next_s.cpu_percentile_ms(50, WARMUP_PICKS),
        "next_cpu_p99_ms": next_s.cpu_percentile_ms(99, WARMUP_PICKS),
        "next_cold_p50_ms": cold.percentile_ms(50),
        "next_cold_cpu_p50_ms": cold.cpu_percentile_ms(50),
        "next_warm_p99_ms": warm.p99_ms(),
        "next_warm_cpu_p99_ms": warm.cpu_percentile_ms(99),
        "scan_p99_ms": scan_s.p99_ms(),
        "scan_cpu_p99_ms": scan_s.cpu_percentile_ms(99),
        "record_p99_ms": record_s.p99_ms(WARMUP_PICKS),
        "record_cpu_p99_ms": record_s.cpu_percentile_ms(99, WARMUP_PICKS),
        "rss_mb": rss,
        "wall_s": session.wall_s,
        "cpu_s": session.cpu_s,
        "load_before": session.load_before,
        "load_after": session.load_after,
    }


SCALING_SIZES = (20_000, 100_000, 1_000_000)


def scaling(n_picks: int) -> None:
    """Each size in its own process, then one table of the figures side by side."""
    rows = []
    for videos in SCALING_SIZES:
        done = subprocess.run(
            [sys.executable, "-m", "benchmarks.bench_engine", str(videos), str(n_picks), "--json"],
            capture_output=True,
            text=True,
            check=True,
        )
        lines = done.stdout.splitlines()
        print("\n".join(line for line in lines if not line.startswith("{")), flush=True)
        rows.append(json.loads(next(line for line in lines if line.startswith("{"))))
    print(f"\nnext() by catalogue size ({n_picks} picks each, scan = embedding @ query + top-200):")
    print(
        "| videos | next p50 | next p99 | scan p99 | next/scan p99 | "
        "next cpu p50 · p99 | next/scan cpu p99 | next cold p50 · warm p99 (cpu) | "
        "record p99 (cpu) | open | load |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for row in rows:
        print(
            f"| {row['videos']:,} | {row['next_p50_ms']:.2f} ms | {row['next_p99_ms']:.2f} ms | "
            f"{row['scan_p99_ms']:.2f} ms | {row['next_p99_ms'] / row['scan_p99_ms']:.2f}× | "
            f"{row['next_cpu_p50_ms']:.2f} · {row['next_cpu_p99_ms']:.2f} ms | "
            f"{row['next_cpu_p99_ms'] / row['scan_cpu_p99_ms']:.2f}× | "
            f"{row['next_cold_cpu_p50_ms']:.2f} · {row['next_warm_cpu_p99_ms']:.2f} ms | "
            f"{row['record_p99_ms']:.2f} ms ({row['record_cpu_p99_ms']:.2f}) | "
            f"{row['open_s']:.2f} s | "
            f"{row['load_before']:.2f} → {row['load_after']:.2f} |"
        )
    base = rows[0]
    for row in rows[1:]:
        growth = row["next_p50_ms"] / base["next_p50_ms"]
        size = row["videos"] / base["videos"]
        print(
            f"  next() p50 at {row['videos']:,} / at {base['videos']:,}: {growth:.2f}× "
            f"for {size:.0f}× the videos"
        )
    checks = []
    for row in rows:
        check = Measurement(f"{row['videos']:,} videos")
        check.load_before, check.load_after = row["load_before"], row["load_after"]
        check.cores = cores()
        checks.append(check)
    warning = worst_load_warning(checks)
    if warning:
        print(warning)
    print(f"at end: {load_now()}")


if __name__ == "__main__":
    print(machine())
    if "--kernels" in sys.argv and kernels.load() is None:
        sys.exit("Error: --kernels needs numba (pip install -e '.[fast]') and FORYOU_KERNELS unset")
    print(f"picks: {kernels.path()} path")
    arguments = [a for a in sys.argv[1:] if not a.startswith("--")]
    if "--scaling" in sys.argv:
        scaling(int(arguments[0]) if arguments else 1000)
    else:
        figures = main(
            int(arguments[0]) if arguments else 100_000,
            int(arguments[1]) if len(arguments) > 1 else 1000,
        )
        if "--json" in sys.argv:
            print(json.dumps(figures))
