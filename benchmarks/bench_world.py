"""World generation and loading: 100k videos ≤ 8 s and 1M ≤ 60 s to build; 1M arrays load ≤ 1 s.

Usage: python -m benchmarks.bench_world VIDEOS   (one size per process, so peak RSS is its own)
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import EPOCH, WORLDS, machine, measured, peak_rss_mb
from engine.store import Store, write_world
from seed.generate import generate_world
from seed.spec import WorldSpec


def main(videos: int) -> None:
    with tempfile.TemporaryDirectory(dir=WORLDS.parent) as tmp:
        path = Path(tmp) / "world.db"
        with measured("build", echo=False) as build:
            started = time.perf_counter()
            world = generate_world(WorldSpec(videos=videos, seed=42), epoch_unix=EPOCH)
            generated = time.perf_counter()
            write_world(path, world)
            written = time.perf_counter()
        del world
        size_mb = path.stat().st_size / 2**20
        loads = []
        with measured("load arrays ×3", echo=False) as loading:
            for _ in range(3):
                t0 = time.perf_counter()
                with Store.open(path) as store:
                    store.load_world()
                loads.append(time.perf_counter() - t0)
    print(
        f"world {videos:>9,} videos: build {written - started:6.2f} s "
        f"(generate {generated - started:.2f} s + write {written - generated:.2f} s) · "
        f"file {size_mb:,.0f} MiB · load arrays best {min(loads):.3f} s · "
        f"peak RSS {peak_rss_mb():,.0f} MiB"
    )
    print(build.report("  "))
    print(loading.report("  "))


if __name__ == "__main__":
    print(machine())
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
