"""Shared fixtures: small fixed-seed worlds built once per test session."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest

from seed.build import build_world

EPOCH = 1_790_000_000.0  # fixed wall time for the world's epoch, so files compare across runs
# Files that each took a worker 15 s or more in a full run (pytest --durations=0, 2 workers, a
# shared machine at load 2.6-4.0, 2026-12-07): `make test` hands whole files to workers
# (--dist loadfile), and xdist would otherwise queue files by their number of tests, so the
# few-test ones started last and one worker finished minutes after the other. Longest first.
LONG_FILES = (
    "test_tour.py",  # the whole tour in tmux at its fastest pace: mostly waiting, little CPU
    "test_import.py",  # the whole MovieLens import learns its model from 80k viewings
    "test_sim_compare.py",  # the A/A run: 40 replicates in shards of 2
    "test_offpolicy_validation.py",  # 800 personas under two configs, B estimated once
    "test_tui_study.py",
    "test_sim_ceiling_watch.py",
    "test_tui_panels.py",
    "test_tui_feed.py",
    "test_sim_all_or_nothing.py",
    "test_offline_replay.py",
    "test_engine_learning.py",
    "test_sim_ceiling.py",
    "test_sim_ray.py",
    "test_pool_audience.py",
    "test_offpolicy.py",
    "test_replay.py",
    "test_tui_tmux.py",
)


def pytest_configure(config: pytest.Config) -> None:
    """Keep the file order set below: xdist re-sorts files by test count unless told not to."""
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Long files first, then the rest by test count as xdist orders them (most first)."""
    counts = Counter(item.path.name for item in items)

    def rank(item: pytest.Item) -> tuple[int, int, str]:
        name = item.path.name
        long = LONG_FILES.index(name) if name in LONG_FILES else len(LONG_FILES)
        return long, -counts[name], str(item.path)

    items.sort(key=rank)


@pytest.fixture(autouse=True)
def _run_in_a_temporary_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test runs from its own temporary folder, so a command's default output (./reports,
    ./foryou.db) never lands in the checkout."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="session")
def world_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 3,000-video world (seed 7), built once; copy it before writing to it."""
    path = tmp_path_factory.mktemp("worlds") / "template.db"
    build_world(path, videos=3000, seed=7, epoch_unix=EPOCH)
    return path


@pytest.fixture
def world_path(world_template: Path, tmp_path: Path) -> Path:
    """A private copy of the template world that a test may write to."""
    path = tmp_path / "world.db"
    shutil.copy(world_template, path)
    return path


@pytest.fixture(scope="session")
def demo_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default demo world (20,000 videos, seed 42): read-only, open with log=False."""
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    build_world(path, videos=20_000, seed=42, epoch_unix=EPOCH)
    return path
