"""Every benchmark figure comes with its CPU time and the load around it, and a warning when
the machine was busy: the formatting of `benchmarks.common.measured` (no timing is asserted)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest

from benchmarks import common


def fake_load(monkeypatch: pytest.MonkeyPatch, *one_minute: float, cores: int = 2) -> None:
    """os.getloadavg answers these 1-minute loads in turn (before, after) on `cores` cores."""
    answers: Iterator[float] = iter(one_minute)
    monkeypatch.setattr(common.os, "getloadavg", lambda: (next(answers), 0.5, 0.5))
    monkeypatch.setattr(common.os, "cpu_count", lambda: cores)


def test_a_measurement_prints_wall_cpu_and_load_before_and_after(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_load(monkeypatch, 0.52, 1.10)
    with common.measured("next()", indent=""):
        sum(range(10_000))
    out = capsys.readouterr().out
    line = out.splitlines()[0]
    assert line.startswith("next(): wall ")
    assert " s · cpu " in line and " of wall) · " in line
    assert line.endswith("load 0.52 → 1.10 (2 cores)")
    assert "WARNING" not in out


@pytest.mark.parametrize(("before", "after"), [(2.5, 1.0), (1.0, 2.01)])
def test_load_above_one_per_core_before_or_after_prints_a_warning(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], before: float, after: float
) -> None:
    fake_load(monkeypatch, before, after, cores=2)
    with common.measured("scan"):
        pass
    first, warning = capsys.readouterr().out.splitlines()
    assert first.startswith("  scan: wall ")
    assert warning.startswith("  WARNING: load above 1 per core")
    assert f"({max(before, after):.2f} on 2 cores)" in warning
    assert "figures are noisy" in warning


def test_load_of_exactly_one_per_core_is_not_noisy(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_load(monkeypatch, 4.0, 4.0, cores=4)
    with common.measured("render"):
        pass
    assert "WARNING" not in capsys.readouterr().out


def test_child_processes_cpu_is_counted_and_shown_apart(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake_load(monkeypatch, 0.1, 0.1)
    busy = "import time\nend = time.process_time() + 0.2\nwhile time.process_time() < end: pass"
    with common.measured("worker", children=True, echo=False) as measurement:
        subprocess.run([sys.executable, "-c", busy], check=True)
    assert measurement.children_cpu_s >= 0.2
    assert measurement.cpu_s >= measurement.children_cpu_s
    assert " s in child processes" in measurement.summary()


def test_cpu_learnt_elsewhere_is_added_under_its_name(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_load(monkeypatch, 0.1, 0.1)
    with common.measured("keypresses", echo=False) as measurement:
        measurement.extra_cpu["the app"] = 3.0
    assert measurement.cpu_s >= 3.0
    assert "3.00 s in the app" in measurement.summary()


def test_a_ratio_prints_both_figures_and_their_quotient() -> None:
    assert common.ratio("next() p99", 11.7, "scan p99", 13.0) == (
        "next() p99 11.70 ms / scan p99 13.00 ms = 0.90×"
    )


def test_percentiles_still_read_in_milliseconds() -> None:
    assert common.ms([0.001, 0.002, 0.003]).startswith("p50 2.00 ms · p95 ")
