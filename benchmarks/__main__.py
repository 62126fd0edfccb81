"""Run every benchmark, each in its own process, and print the figures with the machine.

python -m benchmarks            # everything, including 1M-video worlds (several minutes)
python -m benchmarks --quick    # 100k-video worlds only, and the quick form of each script

It prints the machine and the load average at the start and at the end; every figure below comes
with its CPU time and load (`benchmarks.common.measured`).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from benchmarks.common import load_now, machine, measured

ROOT = Path(__file__).resolve().parents[1]


def run(module: str, *args: str) -> None:
    subprocess.run([sys.executable, "-m", module, *args], cwd=ROOT, check=True)


def main() -> None:
    quick = "--quick" in sys.argv
    print(machine())
    print(f"at start: {load_now()}", flush=True)
    with measured("all benchmarks", children=True, indent=""):
        sizes = ["100000"] if quick else ["100000", "1000000"]
        for size in sizes:
            run("benchmarks.bench_world", size)
        run("benchmarks.bench_engine", "100000", "1000")
        if not quick:
            run("benchmarks.bench_engine", "1000000", "300")
        run("benchmarks.bench_retrieval", *(["20000", "100000"] if quick else []))
        run("benchmarks.bench_render")
        run("benchmarks.bench_tui", *(["--quick"] if quick else []))
        run("benchmarks.bench_sim", *(["--quick"] if quick else ["--million"]))
        run("benchmarks.bench_reactions", *(["--users", "60", "--seeds", "0"] if quick else []))
        run("benchmarks.bench_learning", "--quick")  # the full scoreboard takes ~40 min: by hand
    print(f"at end: {load_now()}")


if __name__ == "__main__":
    main()
