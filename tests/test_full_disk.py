"""A disk that fills (or a place that cannot hold files) while a command writes its output: one
`Error: ...` line, exit 1, and no file or folder left half-written."""

from __future__ import annotations

import errno
import os
import stat
import threading
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from engine.folders import scratch_folder, whole_file
from tui.cli import main

FULL = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def one_line(output: str) -> str:
    lines = output.strip().splitlines()
    assert lines and lines[-1].startswith("Error: "), output
    assert "Traceback" not in output, output
    return lines[-1]


def test_an_export_that_fills_the_disk_leaves_no_folder(
    world_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import engine.export

    write_csv = engine.export._write_csv

    def write(path: Path, columns: Any, rows: Any) -> int:
        if path.stem == "events":
            raise FULL
        return write_csv(path, columns, rows)

    monkeypatch.setattr(engine.export, "_write_csv", write)
    out = tmp_path / "out"
    before = sorted(tmp_path.iterdir())
    code, output = run("--db", str(world_path), "export", "--out", str(out))
    assert code == 1
    assert one_line(output) == "Error: No space left on device"
    assert sorted(tmp_path.iterdir()) == before  # neither the export nor its scratch folder


def test_a_simulation_report_that_fills_the_disk_leaves_no_folder(
    world_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import engine.sim.report

    def full(*_: object, **__: object) -> None:
        raise FULL

    monkeypatch.setattr(engine.sim.report, "write_metrics_json", full)
    out = tmp_path / "run"
    args = ("simulate", "--users", "2", "--sessions", "1", "--no-baselines", "--no-log")
    code, output = run("--db", str(world_path), *args, "--out", str(out))
    assert code == 1
    assert one_line(output) == "Error: No space left on device"
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".foryou-")]


def test_metadata_that_fills_the_disk_keeps_the_earlier_file_whole(
    world_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "metadata.json"
    out.write_text("the earlier file\n")
    write_text = Path.write_text

    def full(self: Path, *args: Any, **kwargs: Any) -> int:
        if self.parent == tmp_path:
            write_text(self, '{"half": ', encoding="utf-8")  # what a full disk leaves
            raise FULL
        return write_text(self, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", full)
    code, output = run("--db", str(world_path), "metadata", "--out", str(out))
    assert code == 1
    assert one_line(output) == "Error: No space left on device"
    assert out.read_text() == "the earlier file\n"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".foryou-")]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_metadata_into_a_pipe_writes_to_it_and_never_replaces_it(
    world_path: Path, tmp_path: Path
) -> None:
    """`--out /dev/stdout` or a named pipe is written in place: renaming a finished file over it
    would have replaced the pipe (or the device: /dev/full, as root) with a regular file."""
    pipe = tmp_path / "metadata.json"
    os.mkfifo(pipe)
    read: list[str] = []
    reader = threading.Thread(target=lambda: read.append(pipe.read_text()), daemon=True)
    reader.start()
    code, output = run("--db", str(world_path), "metadata", "--out", str(pipe))
    reader.join(timeout=10)
    assert code == 0, output
    assert stat.S_ISFIFO(os.stat(pipe).st_mode)
    assert read and '"title": "foryou"' in read[0]


def test_a_folder_that_cannot_hold_files_is_named(
    world_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not the scratch folder's made-up name: the folder asked for."""
    import tempfile

    def refuse(*_: object, **__: object) -> str:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(tmp_path / ".foryou-x1y2"))

    monkeypatch.setattr(tempfile, "mkdtemp", refuse)
    code, output = run("--db", str(world_path), "export", "--out", str(tmp_path / "out"))
    assert code == 1
    assert one_line(output) == f"Error: {tmp_path}: Read-only file system"


def test_whole_file_replaces_only_at_the_end(tmp_path: Path) -> None:
    path = tmp_path / "chart.png"
    path.write_bytes(b"before")

    def interrupted(scratch: Path) -> None:
        assert scratch.parent == tmp_path and scratch.suffix == ".png"
        scratch.write_bytes(b"half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt), whole_file(path) as scratch:
        interrupted(scratch)
    assert path.read_bytes() == b"before"
    assert [p.name for p in tmp_path.iterdir()] == ["chart.png"]
    with whole_file(path) as scratch:
        scratch.write_bytes(b"after")
    assert path.read_bytes() == b"after"
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask


def test_a_scratch_folder_is_gone_after_a_failure(tmp_path: Path) -> None:

    def filled(scratch: Path) -> None:
        (scratch / "half.csv").write_text("a,b\n")
        raise FULL

    with pytest.raises(OSError, match="No space left"), scratch_folder(tmp_path) as scratch:
        filled(scratch)
    assert list(tmp_path.iterdir()) == []


def test_a_world_build_that_fills_the_disk_leaves_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite's word for a full disk, met while a world is written: one line, no world file."""
    import sqlite3

    import seed.build

    write = seed.build.write_world

    def full(*args: Any, progress: Any, **kwargs: Any) -> Any:
        def filling(*step: Any) -> None:  # the disk fills after the first table
            progress(*step)
            raise sqlite3.OperationalError("database or disk is full")

        return write(*args, progress=filling, **kwargs)

    monkeypatch.setattr(seed.build, "write_world", full)
    db = tmp_path / "new.db"
    code, output = run("--db", str(db), "seed", "--videos", "300")
    assert code == 1
    assert one_line(output) == f"Error: {db} refused a write (database or disk is full)"
    assert not db.exists()
