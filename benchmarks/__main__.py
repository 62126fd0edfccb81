"""Run every benchmark, each in its own process, and print the figures with the machine.

python -m benchmarks            # everything, including 1M-video worlds (~3 minutes)
python -m benchmarks --quick    # 100k-video worlds only
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from benchmarks.common import machine

ROOT = Path(__file__).resolve().parents[1]


def run(module: str, *args: str) -> None:
    subprocess.run([sys.executable, "-m", module, *args], cwd=ROOT, check=True)


def main() -> None:
    quick = "--quick" in sys.argv
    print(machine())
    sizes = ["100000"] if quick else ["100000", "1000000"]
    for size in sizes:
        run("benchmarks.bench_world", size)
    run("benchmarks.bench_engine", "100000", "1000")
    if not quick:
        run("benchmarks.bench_engine", "1000000", "300")
    for extra in ("bench_render", "bench_tui", "bench_sim"):
        if (ROOT / "benchmarks" / f"{extra}.py").exists():
            run(f"benchmarks.{extra}")


if __name__ == "__main__":
    main()
