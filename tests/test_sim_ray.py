"""The Ray backend gives the same results as the process pool (run where Ray is installed)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from engine.sim.baselines import builtin_arm
from engine.sim.experiment import RunSpec, run_experiment

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    """One local Ray for the file, started by the first run on it (2 CPUs: both runs ask
    for jobs=2) and shut down after the last: starting and stopping one takes 5-8 s."""
    yield
    ray.shutdown()


@pytest.mark.slow
def test_ray_and_processes_agree(world_template: Path, local_ray: None) -> None:
    spec = RunSpec(db_path=world_template, users=8, sessions=1, seed=4, shard_size=4)
    arms = [builtin_arm("engine"), builtin_arm("oracle")]
    here = run_experiment(spec, arms)
    on_ray = run_experiment(replace(spec, backend="ray", jobs=2), arms)
    for arm in ("engine", "oracle"):
        assert np.array_equal(here.runs[arm].trace, on_ray.runs[arm].trace)


@pytest.mark.slow
def test_a_rankers_file_runs_on_ray_as_in_processes(
    world_template: Path, tmp_path: Path, local_ray: None
) -> None:
    """Ray workers import a developer's ranker by its path, as process workers do."""
    from engine.sim.baselines import resolve_arm
    from tests.test_policy_contract import readme_class, readme_ranker

    path = readme_ranker(tmp_path)
    arm = resolve_arm(f"{path}:{readme_class(path)}")
    spec = RunSpec(db_path=world_template, users=6, sessions=1, seed=2, shard_size=3)
    here = run_experiment(replace(spec, jobs=2), [arm])
    on_ray = run_experiment(replace(spec, backend="ray", jobs=2), [arm])
    assert np.array_equal(here.runs[arm.name].trace, on_ray.runs[arm.name].trace)
    assert len(on_ray.runs[arm.name].trace) > 0
