"""The compiled kernels (``foryou[fast]``) against the numpy path, in one run, alternating.

Lockstep simulations on the 100k benchmark world, logging off, with 1 and 2 jobs: each
configuration runs ``--rounds`` times on each path in turn (numpy, kernels, numpy, ...), so
load from elsewhere lands on both; the table gives events per wall and per CPU second, the
trace's digest (the same on both paths: the kernels change no pick), and the ratio of the
medians. With 1 job it also times the batched pick alone (``Engine._pick_batch``, wall and
CPU): the kernels' gain without numba's one-off import (about half a second per process, paid
by each worker).

Usage: python -m benchmarks.bench_kernels [--users 64] [--sessions 2] [--rounds 2] [--jobs 1 2]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

from benchmarks.bench_sim import CPU_LOAD_HEADER, cpu_load, run, warn
from benchmarks.common import machine, measured, ratio, world
from engine import kernels
from engine.api import Engine

PATHS = ("numpy", "kernels")


def use(path: str) -> None:
    """Make this process (and the workers it spawns, through the environment) take ``path``."""
    os.environ[kernels.ENV] = "numpy" if path == "numpy" else ""
    kernels.unload()


@contextmanager
def timed_picks(seconds: dict[str, float]) -> Iterator[None]:
    """Add the wall and CPU seconds of every batched pick made in this process to ``seconds``."""
    pick = Engine._pick_batch

    def timed(*args: Any, **kwargs: Any) -> Any:
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            return pick(*args, **kwargs)
        finally:
            seconds["wall"] += time.perf_counter() - wall
            seconds["cpu"] += time.process_time() - cpu

    with mock.patch.object(Engine, "_pick_batch", timed):
        yield


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=64)
    parser.add_argument("--sessions", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    print(machine())
    use("kernels")
    if not kernels.available():
        raise SystemExit("Error: numba is not installed (pip install -e '.[fast]'): no kernels")
    with measured("kernels load", echo=False) as loading:
        kernels.load()
    print(
        f"kernels load (numba's import, each kernel's cached code), once per process: "
        f"{loading.wall_s:.2f} s wall, {loading.cpu_s:.2f} s CPU; a 2-job run's workers pay it too"
    )
    source = world(100_000)
    print(
        f"Lockstep, 100k videos, {args.users} personas x {args.sessions} sessions, logging off; "
        "paths alternate"
    )
    columns = f"{'jobs':>4} {'path':>8} {'events':>7} {'events/s':>9} {'ev/cpu-s':>9}"
    print(columns, f"{'pick ms/ev (cpu)':>17}", CPU_LOAD_HEADER, "trace digest")
    measurements = []
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "world.db"
        db.write_bytes(source.read_bytes())
        for path in PATHS:  # uncounted: the first run of a process pays for cold code and files
            use(path)
            run(db, users=8, sessions=1, jobs=1, log=False)
        for jobs in args.jobs:
            rates: dict[str, list[float]] = {path: [] for path in PATHS}
            picks: dict[str, list[float]] = {path: [] for path in PATHS}
            for _ in range(args.rounds):
                for path in PATHS:
                    use(path)
                    seconds = {"wall": 0.0, "cpu": 0.0}
                    with timed_picks(seconds):
                        r, m = run(
                            db, users=args.users, sessions=args.sessions, jobs=jobs, log=False
                        )
                    measurements.append(m)
                    digest = hashlib.sha256(r.trace.tobytes()).hexdigest()[:16]
                    pick_ms = {k: 1e3 * v / r.events for k, v in seconds.items()}
                    pick_text = (
                        f"{pick_ms['wall']:>8.3f} ({pick_ms['cpu']:.3f})"
                        if jobs == 1
                        else f"{'-':>17}"
                    )
                    rates[path].append(r.events / r.wall_s)
                    picks[path].append(pick_ms["cpu"])
                    print(
                        f"{jobs:>4} {path:>8} {r.events:>7,} {r.events / r.wall_s:>9,.0f} "
                        f"{r.events / m.cpu_s:>9,.0f} {pick_text} {cpu_load(m)} {digest}",
                        flush=True,
                    )
            fast, slow = statistics.median(rates["kernels"]), statistics.median(rates["numpy"])
            print(f"  {jobs} job(s): " + ratio("kernels", fast, "numpy", slow, "events/s"))
            if jobs == 1:
                mine, numpys = (
                    statistics.median(picks["kernels"]),
                    statistics.median(picks["numpy"]),
                )
                print("  " + ratio("kernels pick CPU", mine, "numpy", numpys, "ms/event"))
    warn(measurements)


if __name__ == "__main__":
    main()
