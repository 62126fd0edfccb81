"""What every benchmark prints: the machine, and timings as percentiles."""

from __future__ import annotations

import os
import platform
import resource
import sys
from pathlib import Path

import numpy as np

WORLDS = Path(os.environ.get("FORYOU_BENCH_WORLDS", Path(__file__).parent / ".worlds"))
EPOCH = 1_790_000_000.0


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{cpu} · {os.cpu_count()} cores · Python {sys.version.split()[0]} · "
        f"numpy {np.__version__} · {platform.system()} {platform.release()}"
    )


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def ms(samples: list[float]) -> str:
    arr = np.array(samples) * 1e3
    return (
        f"p50 {np.percentile(arr, 50):.2f} ms · p95 {np.percentile(arr, 95):.2f} ms · "
        f"p99 {np.percentile(arr, 99):.2f} ms · n={len(arr)}"
    )


def world(videos: int) -> Path:
    """A cached benchmark world of this size (seed 42), built on first use."""
    from seed.build import build_world

    path = WORLDS / f"world-{videos}.db"
    if not path.exists():
        WORLDS.mkdir(parents=True, exist_ok=True)
        build_world(path, videos=videos, seed=42, epoch_unix=EPOCH)
    return path
