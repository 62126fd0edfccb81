"""`bench_learning --engine-only --save / --against`: a code change measured on the same
personas, paired (this run minus the saved one per persona group)."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import msgspec
import numpy as np
import numpy.typing as npt
import pytest

from benchmarks.bench_learning import print_against, save_run
from engine.config import Config
from engine.sim.comparison import compare, shard_of_units
from engine.sim.experiment import RunSpec, run_experiment
from engine.sim.metrics import Measures
from engine.sim.runner import Arm


def engine_run(spec: RunSpec, config: Config) -> tuple[Measures, npt.NDArray[np.int64]]:
    """The engine arm's measures under ``config``, and each persona's shard."""
    experiment = run_experiment(spec, [Arm("engine", config)])
    return compare(experiment, bootstrap=False).measures["engine"], shard_of_units(experiment)


def lines_of(out: str) -> dict[str, str]:
    """The printed difference per group ('all', 'onboarded', 'cold')."""
    found = {}
    for line in out.splitlines():
        if line.startswith("  "):
            group, rest = line.split(maxsplit=1)
            found[group] = rest
    return found


@pytest.fixture
def spec(world_path: Path) -> RunSpec:
    return RunSpec(db_path=world_path, users=6, sessions=1, replicates=1, shard_size=2)


def test_the_same_code_against_itself_differs_by_nothing_and_a_change_shows(
    spec: RunSpec, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    saved = tmp_path / "before.npz"
    measures, shard = engine_run(spec, Config())
    save_run(saved, spec, measures, shard)
    again, shard = engine_run(spec, Config())
    print_against(saved, spec, again, shard)
    same = lines_of(capsys.readouterr().out)
    assert set(same) == {"all", "onboarded", "cold"}
    assert "watch_per_session +0.000" in same["all"]
    assert "loved_share_21_40 +0.000" in same["all"]

    explorer = msgspec.convert({"rerank": {"explore_share": 0.9}}, Config)
    changed, shard = engine_run(spec, explorer)
    print_against(saved, spec, changed, shard)
    moved = lines_of(capsys.readouterr().out)
    assert "watch_per_session +0.000" not in moved["all"]
    assert "[" in moved["all"] and "]" in moved["all"]  # with its interval


def test_a_run_of_other_personas_is_refused_in_one_line(spec: RunSpec, tmp_path: Path) -> None:
    saved = tmp_path / "before.npz"
    measures, shard = engine_run(spec, Config())
    save_run(saved, spec, measures, shard)
    other = RunSpec(db_path=spec.db_path, users=4, sessions=1, replicates=1, shard_size=2)
    fewer, shard = engine_run(other, Config())
    with pytest.raises(SystemExit, match="saved for other personas"):
        print_against(saved, other, fewer, shard)


def test_the_same_personas_on_another_world_of_the_same_size_are_refused(
    spec: RunSpec, tmp_path: Path
) -> None:
    saved = tmp_path / "before.npz"
    measures, shard = engine_run(spec, Config())
    save_run(saved, spec, measures, shard)
    other_world = tmp_path / "other.db"
    shutil.copy(spec.db_path, other_world)
    with sqlite3.connect(other_world) as conn:  # one video a second longer: the same size
        conn.execute("UPDATE videos SET duration_s = duration_s + 1 WHERE id = 0")
    assert other_world.stat().st_size == spec.db_path.stat().st_size
    elsewhere = RunSpec(db_path=other_world, users=6, sessions=1, replicates=1, shard_size=2)
    with pytest.raises(SystemExit, match="saved for other personas"):
        print_against(saved, elsewhere, measures, shard)
