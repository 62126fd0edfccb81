"""benchmarks/bench_validity.py: orderings and their rank correlations as printed (no data)."""

from __future__ import annotations

import pytest

from benchmarks import bench_validity


def test_orderings_and_rank_correlations(capsys: pytest.CaptureFixture[str]) -> None:
    """One real figure orders the five policies as the simulator does, one the other way."""
    sim = {"sim watch/session": [5.0, 1.0, 2.0, 4.0, 3.0]}
    real = {"same": [0.9, 0.1, 0.2, 0.8, 0.5], "reversed": [0.1, 0.9, 0.8, 0.2, 0.5]}
    bench_validity.print_validity(sim, real)
    out = capsys.readouterr().out
    assert "engine > bandit > itemknn > popular > random" in out
    rows = {line.split()[0]: line for line in out.splitlines() if line.strip()}
    assert "+1.00 · +1.00" in rows["same"]
    assert "-1.00 · -1.00" in rows["reversed"]
