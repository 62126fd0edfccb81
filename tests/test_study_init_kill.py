"""A `study init` killed mid-build leaves files behind; the next `study init` of the same bundle
clears them. The bundle is built in the world build's own locked temporary file, so a build
still running beside it keeps its file (tests/test_bad_files.py), and a bundle appears whole
or not at all."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from engine.store.world_io import remove_stale_builds
from engine.study import create_bundle, load_study
from seed.build import build_world
from tests.studykit import write_study


def _leftovers(folder: Path, name: str) -> list[str]:
    return sorted(
        p.name
        for p in folder.iterdir()
        if p.name.startswith(f".{name}") or p.name.startswith(f"..{name}")
    )


def test_a_killed_study_init_leaves_nothing_once_init_runs_again(
    tmp_path: Path, world_path: Path
) -> None:
    definition = write_study(tmp_path, world_path)
    target = tmp_path / "bundle.db"
    command = [sys.executable, "-m", "tui", "--db", str(target), "study", "init", str(definition)]
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not _leftovers(tmp_path, target.name) and time.monotonic() < deadline:
        time.sleep(0.005)
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert _leftovers(tmp_path, target.name), "the kill came too late to leave anything"
    assert not target.exists()

    done = subprocess.run(command, capture_output=True, text=True, check=False)

    assert done.returncode == 0, done.stderr
    assert target.exists()
    assert _leftovers(tmp_path, target.name) == []


def test_a_failing_study_init_leaves_no_bundle_and_no_temporary_file(
    tmp_path: Path, world_path: Path
) -> None:
    """Interrupted after the study's rows were written, before the rename: nothing stays."""
    definition = write_study(tmp_path, world_path)
    text = definition.read_text(encoding="utf-8")
    target = tmp_path / "bundle.db"
    spec = load_study(definition)

    def fail(tmp: Path) -> None:
        create_bundle(tmp, spec, text)
        raise KeyboardInterrupt  # Ctrl+C after the study rows, before the rename

    with pytest.raises(KeyboardInterrupt):
        build_world(target, videos=spec.world.videos, seed=spec.world.seed, finish=fail)
    assert not target.exists()
    assert _leftovers(tmp_path, target.name) == []


def test_a_builder_killed_the_instant_after_creating_its_file_leaves_nothing(
    tmp_path: Path,
) -> None:
    """Killed between creating its temporary file and locking it: an empty, unlocked file of
    this very second. The next build waits until no live builder could still be about to
    lock it, then removes it."""
    target = tmp_path / "bundle.db"
    fd, _ = tempfile.mkstemp(prefix=f".{target.name}.tmp-", dir=tmp_path)
    os.close(fd)
    removed = remove_stale_builds(target)
    assert len(removed) == 1
    assert _leftovers(tmp_path, target.name) == []
