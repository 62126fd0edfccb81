"""`foryou export`: every table of a study in CSV, JSON Lines or Parquet, with a codebook."""

from __future__ import annotations

import builtins
import csv
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from engine import VirtualClock
from engine.codebook import datasette_metadata
from engine.store import Store
from engine.study import open_bundle
from tests.studykit import complete, make_bundle
from tui.cli import main

STUDY_TABLES = {"participants", "conditions", "answers", "sessions", "impressions", "events"}


@pytest.fixture(scope="module")
def study_db(world_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A bundle two participants went through (one declined)."""
    directory = tmp_path_factory.mktemp("export")
    path = directory / "study.db"
    path.write_bytes(world_template.read_bytes())
    make_bundle(path, directory)
    clock = VirtualClock(0.0)
    with open_bundle(path) as bundle:
        complete(bundle, "P001", clock, seed=1)
        complete(bundle, "P002", clock, seed=2)
        bundle.record_consent("P003", agreed=False)
    return path


def export(db: Path, out: Path, fmt: str, *extra: str) -> str:
    args = ["export", "--db", str(db), "--out", str(out), "--format", fmt, *extra]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    return result.output


def count(db: Path, table: str) -> int:
    conn = sqlite3.connect(db)
    try:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    finally:
        conn.close()


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_csv_export_has_every_table_and_a_codebook_for_every_column(
    study_db: Path, tmp_path: Path
) -> None:
    out = tmp_path / "csv"
    assert "codebook.md" in export(study_db, out, "csv")
    participants = read_csv(out / "participants.csv")
    assert [(p["participant"], p["status"]) for p in participants] == [
        ("P001", "completed"),
        ("P002", "completed"),
        ("P003", "declined"),
    ]
    impressions = read_csv(out / "impressions.csv")
    assert len(impressions) == count(study_db, "impressions")
    assert "receipt" not in impressions[0]  # receipts travel in their own file
    watched = [i for i in impressions if i["seen_end"]]
    assert watched and all(float(i["seen_start"]) <= float(i["seen_end"]) for i in watched)
    receipts = read_csv(out / "receipts.csv")
    assert [r["impression_id"] for r in receipts] == [i["id"] for i in impressions]
    assert json.loads(receipts[0]["receipt"])["propensity"] > 0
    answers = read_csv(out / "answers.csv")
    assert {(a["phase"], a["item"]) for a in answers} >= {("pre", "age"), ("post", "enjoy")}
    assert not (out / "world_arrays.csv").exists()
    codebook = read_csv(out / "codebook.csv")
    described = {(row["table"], row["column"]): row["description"] for row in codebook}
    for exported in out.glob("*.csv"):
        if exported.stem == "codebook":
            continue
        with exported.open(newline="", encoding="utf-8") as handle:
            header = next(csv.reader(handle))
        for column in header:
            assert described.get((exported.stem, column)), f"{exported.stem}.{column}"
    book = (out / "codebook.md").read_text()
    assert "## participants" in book and "Pseudonymous participant id" in book


def test_codebook_describes_every_questionnaire_item_as_its_answers_are_stored(
    study_db: Path, tmp_path: Path
) -> None:
    out = tmp_path / "csv"
    export(study_db, out, "csv")
    items = {
        row["column"]: row["description"]
        for row in read_csv(out / "codebook.csv")
        if row["table"] == "questionnaire"
    }
    assert list(items) == ["pre.age", "pre.hours", "post.enjoy", "post.notes"]
    assert (
        "\u201cYour age band\u201d (choice: one of: 18-24 | 25-34 | 35+; required)"
        in items["pre.age"]
    )
    hours = "(likert: a point from 1 to 5 (1 = none, 5 = more than 3); required)"
    assert "How many hours a day do you watch short videos?" in items["pre.hours"]
    assert hours in items["pre.hours"]
    assert "(likert: a point from 1 to 7; required)" in items["post.enjoy"]
    assert "(text: text of at most 2000 characters; optional)" in items["post.notes"]
    # What the codebook says a single choice holds is what the answers table holds.
    assert items["pre.age"].endswith("answers.value holds the chosen option as plain text")
    stored = {(a["phase"], a["item"]): a["value"] for a in read_csv(out / "answers.csv")}
    assert stored[("pre", "age")] == "25-34" and stored[("post", "enjoy")] == "6"
    book = (out / "codebook.md").read_text()
    assert "## questionnaire" in book
    assert "| pre | age | choice | Your age band | one of: 18-24 \\| 25-34 \\| 35+ | yes |" in book
    assert "| post | notes | text | Anything else you noticed? |" in book


def test_jsonl_export_round_trips_values(study_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "jsonl"
    export(study_db, out, "jsonl")
    for table in STUDY_TABLES:
        lines = (out / f"{table}.jsonl").read_text().splitlines()
        assert len(lines) == count(study_db, table)
    events = [json.loads(line) for line in (out / "events.jsonl").read_text().splitlines()]
    conn = sqlite3.connect(study_db)
    first = conn.execute("SELECT id, kind, watched_s, world_t FROM events ORDER BY id").fetchone()
    conn.close()
    assert (events[0]["id"], events[0]["kind"], events[0]["watched_s"], events[0]["world_t"]) == (
        first
    )
    codebook = [json.loads(line) for line in (out / "codebook.jsonl").read_text().splitlines()]
    assert any(
        r["table"] == "events" and r["column"] == "kind" and r["description"] for r in codebook
    )


def test_parquet_export_writes_typed_tables(study_db: Path, tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    out = tmp_path / "parquet"
    export(study_db, out, "parquet")
    impressions = pq.read_table(out / "impressions.parquet")
    assert impressions.num_rows == count(study_db, "impressions")
    types = {f.name: str(f.type) for f in impressions.schema}
    assert types["id"] == "int64" and types["seen_start"] == "double"
    assert types["source"] == "string"
    assert pq.read_table(out / "participants.parquet").num_rows == 3
    assert pq.read_table(out / "boosts.parquet").num_rows == 0  # empty tables keep their columns
    assert "description" in pq.read_table(out / "codebook.parquet").column_names


def test_parquet_without_pyarrow_says_how_to_install_it(
    study_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_import = builtins.__import__

    def no_pyarrow(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "pyarrow" or name.startswith("pyarrow."):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pyarrow)
    out = tmp_path / "parquet"
    result = CliRunner().invoke(
        main, ["export", "--db", str(study_db), "--out", str(out), "--format", "parquet"]
    )
    assert result.exit_code != 0
    assert result.output == (
        "Error: parquet export needs pyarrow: pip install 'foryou[parquet]' "
        "(or: pip install pyarrow)\n"
    )
    assert not out.exists()


def test_export_never_overwrites_an_earlier_one_unless_forced(
    study_db: Path, tmp_path: Path
) -> None:
    out = tmp_path / "csv"
    export(study_db, out, "csv")
    result = CliRunner().invoke(main, ["export", "--db", str(study_db), "--out", str(out)])
    assert result.exit_code != 0
    assert "exists; choose a new directory or pass --force" in result.output
    export(study_db, out, "csv", "--force")
    assert list(out.glob(".*")) == []  # no temporary files left


def test_a_forced_export_in_another_format_leaves_none_of_the_old_tables(
    study_db: Path, tmp_path: Path
) -> None:
    """Yesterday's events.csv beside today's events.jsonl is two exports in one folder."""
    out = tmp_path / "export"
    export(study_db, out, "csv")
    stranger = out / "notes.txt"  # not the export's: left alone
    stranger.write_text("mine")
    export(study_db, out, "jsonl", "--force")
    assert list(out.glob("*.csv")) == []
    assert (out / "events.jsonl").exists() and (out / "codebook.md").exists()
    assert stranger.read_text() == "mine"


def test_datasette_metadata_describes_the_study_tables(study_db: Path) -> None:
    with Store.open(study_db) as store:
        metadata = json.loads(datasette_metadata(store.table_names(), "study"))
    tables = metadata["databases"]["study"]["tables"]
    for table in ("studies", "conditions", "participants", "answers", "feed_runs"):
        assert tables[table]["description"]
        assert tables[table]["columns"]


def interrupt_at(monkeypatch: pytest.MonkeyPatch, table: str) -> None:
    """Ctrl+C while the CSV writer writes ``table``: what a KeyboardInterrupt mid-export does."""
    import engine.export

    write_csv = engine.export._write_csv

    def write(path: Path, columns: Any, rows: Any) -> int:
        if path.stem == table:
            raise KeyboardInterrupt
        return write_csv(path, columns, rows)

    monkeypatch.setattr(engine.export, "_write_csv", write)


def test_an_interrupted_export_leaves_no_folder(
    study_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from engine.export import export_tables

    out = tmp_path / "csv"
    interrupt_at(monkeypatch, "events")
    with pytest.raises(KeyboardInterrupt):
        export_tables(study_db, out, "csv")
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []  # nor a scratch folder beside it


def test_an_interrupted_forced_export_keeps_the_earlier_one_whole(
    study_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from engine.export import export_tables

    out = tmp_path / "csv"
    export(study_db, out, "csv")
    before = {f.name: (f.stat().st_mtime_ns, f.read_bytes()) for f in out.iterdir()}
    interrupt_at(monkeypatch, "events")
    with pytest.raises(KeyboardInterrupt):
        export_tables(study_db, out, "csv", force=True)
    assert {f.name: (f.stat().st_mtime_ns, f.read_bytes()) for f in out.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["csv"]
