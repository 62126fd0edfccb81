"""What every benchmark prints: the machine, timings as percentiles, and beside every wall-clock
figure the CPU time behind it and the load average around it.

Benchmarks run on shared machines, where a wall-clock figure alone cannot tell a slow engine from
a busy neighbour. CPU time well under wall time means the process waited (for a core, a disk or a
child); a 1-minute load average above one per core means other work competed for the cores, and
every figure of that run is noisy. So each measurement prints all three, warns when the load was
too high, and comparisons are printed as ratios of figures measured in the same run.
"""

from __future__ import annotations

import os
import platform
import resource
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

WORLDS = Path(os.environ.get("FORYOU_BENCH_WORLDS", Path(__file__).parent / ".worlds"))
EPOCH = 1_790_000_000.0
LOAD_PER_CORE_LIMIT = 1.0  # above this, other work shares the cores with the benchmark


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
        f"{cpu} · {cores()} cores · Python {sys.version.split()[0]} · "
        f"numpy {np.__version__} · {platform.system()} {platform.release()}"
    )


def cores() -> int:
    return os.cpu_count() or 1


def load_now() -> str:
    """The 1-, 5- and 15-minute load averages, with the core count to read them against."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} · {five:.2f} · {fifteen:.2f} (1 · 5 · 15 min, {cores()} cores)"


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def ms(samples: list[float]) -> str:
    arr = np.array(samples) * 1e3
    return (
        f"p50 {np.percentile(arr, 50):.2f} ms · p95 {np.percentile(arr, 95):.2f} ms · "
        f"p99 {np.percentile(arr, 99):.2f} ms · max {arr.max():.2f} ms · n={len(arr)}"
    )


def ratio(name: str, measured: float, baseline: str, base: float, unit: str = "ms") -> str:
    """Two figures of the same run and their quotient: `a 1.20 ms / b 1.00 ms = 1.20×`."""
    return f"{name} {measured:.2f} {unit} / {baseline} {base:.2f} {unit} = {measured / base:.2f}×"


def _children_cpu_s() -> float:
    """CPU of finished, waited-for child processes (a pool's workers once it has shut down)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Measurement:
    """Wall time, CPU time and load average around one piece of benchmark work.

    ``extra_cpu`` holds CPU seconds the caller learnt elsewhere, such as an app under tmux,
    which is not this process's child.
    """

    label: str
    children: bool = False
    wall_s: float = 0.0
    own_cpu_s: float = 0.0
    children_cpu_s: float = 0.0
    extra_cpu: dict[str, float] = field(default_factory=dict)
    load_before: float = 0.0
    load_after: float = 0.0
    cores: int = 1
    _marks: tuple[float, float, float] = field(default=(0.0, 0.0, 0.0), init=False, repr=False)

    def start(self) -> None:
        self.cores = cores()
        self.load_before = os.getloadavg()[0]
        self._marks = (time.perf_counter(), time.process_time(), _children_cpu_s())

    def stop(self) -> None:
        wall, cpu, children = self._marks
        self.wall_s = time.perf_counter() - wall
        self.own_cpu_s = time.process_time() - cpu
        self.children_cpu_s = _children_cpu_s() - children if self.children else 0.0
        self.load_after = os.getloadavg()[0]

    @property
    def cpu_s(self) -> float:
        return self.own_cpu_s + self.children_cpu_s + sum(self.extra_cpu.values())

    @property
    def cpu_share(self) -> float:
        """CPU seconds per wall second: under 1 means waiting, above 1 means several cores."""
        return self.cpu_s / self.wall_s if self.wall_s > 0 else 0.0

    @property
    def peak_load(self) -> float:
        return max(self.load_before, self.load_after)

    @property
    def noisy(self) -> bool:
        return self.peak_load > LOAD_PER_CORE_LIMIT * self.cores

    def load(self) -> str:
        """`0.52 → 1.10`: the 1-minute load average before and after."""
        return f"{self.load_before:.2f} → {self.load_after:.2f}"

    def summary(self) -> str:
        """`wall 1.23 s · cpu 1.20 s (0.98 of wall) · load 0.52 → 1.10 (2 cores)`."""
        parts = [f"{self.cpu_share:.2f} of wall"]
        if self.children or self.extra_cpu:
            split = [f"{self.own_cpu_s:.2f} s here"]
            if self.children:
                split.append(f"{self.children_cpu_s:.2f} s in child processes")
            split += [f"{seconds:.2f} s in {name}" for name, seconds in self.extra_cpu.items()]
            parts.append(" + ".join(split))
        return (
            f"wall {self.wall_s:.2f} s · cpu {self.cpu_s:.2f} s ({'; '.join(parts)}) · "
            f"load {self.load()} ({self.cores} cores)"
        )

    def warning(self) -> str:
        """The noise warning, or "" when the load stayed at or below one per core."""
        if not self.noisy:
            return ""
        return (
            f"WARNING: load above 1 per core ({self.peak_load:.2f} on {self.cores} cores); "
            "figures are noisy"
        )

    def report(self, indent: str = "") -> str:
        """The summary line after the label, and the warning line below it when noisy."""
        lines = [f"{indent}{self.label}: {self.summary()}"]
        if self.noisy:
            lines.append(f"{indent}{self.warning()}")
        return "\n".join(lines)


def worst_load_warning(measurements: list[Measurement]) -> str:
    """One warning for a table of measurements: the noisiest row's, or "" when none was."""
    noisy = [m for m in measurements if m.noisy]
    return max(noisy, key=lambda m: m.peak_load).warning() if noisy else ""


@contextmanager
def measured(
    label: str, *, children: bool = False, echo: bool = True, indent: str = "  "
) -> Iterator[Measurement]:
    """Measure the block; on leaving it, print the report (unless ``echo`` is False).

    Args:
        label: What was measured, printed before the figures.
        children: Also count the CPU of child processes that finished and were waited for
            inside the block (a process pool's workers, ``subprocess.run``).
        echo: Print the report on leaving; False when the caller prints it beside its own
            figures (``measurement.report()`` or ``.summary()``).
        indent: Put before each printed line, so the report reads as a note to the figure above.

    Yields:
        The measurement, filled in when the block ends.
    """
    measurement = Measurement(label, children=children)
    measurement.start()
    yield measurement
    measurement.stop()
    if echo:
        print(measurement.report(indent), flush=True)


def world(videos: int) -> Path:
    """A cached benchmark world of this size (seed 42), built on first use."""
    from seed.build import build_world

    path = WORLDS / f"world-{videos}.db"
    if not path.exists():
        WORLDS.mkdir(parents=True, exist_ok=True)
        build_world(path, videos=videos, seed=42, epoch_unix=EPOCH)
    return path
