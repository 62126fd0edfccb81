"""Exporting a file's tables for analysis: CSV, JSON Lines or Parquet, with a codebook.

One file per table (``participants``, ``conditions``, ``sessions``, ``impressions`` with served
and seen times, ``events``, ``answers``, the world's tables, ...), plus ``receipts``
(impression id and the receipt JSON, kept out of ``impressions`` so it stays light) and a
codebook describing every exported column, in the same format and as ``codebook.md``. The
world's array cache is not exported: its rows are. Parquet needs pyarrow, an optional extra.
Files are written into a scratch folder beside the destination and moved there only once all
are written (:mod:`engine.folders`), so a failed or interrupted export leaves none behind and
an earlier export it replaces (``force``) stays whole until then; they are readable by their
owner only (0600, and 0700 for a folder the export creates).

CSV files get opened in spreadsheets, which run a cell starting with ``=``, ``+``, ``-`` or ``@``
as a formula (OWASP's "CSV injection"): a participant's comment or answer could then compute,
fetch a URL or run a command on the researcher's machine. Such text cells, and those starting
with a tab or carriage return, are written with a leading ``'`` (OWASP's advice); numbers are
never changed, and JSON Lines and Parquet keep every value as stored.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

from engine.codebook import TABLES
from engine.folders import move_files, scratch_folder
from engine.store import Store
from engine.store.permissions import create_private
from engine.store.study_log import StudyLog
from engine.store.tables import batches, column_types, exportable_tables
from engine.study.definition import Item, Study
from engine.study.questionnaire import describe_item, questionnaire_items

__all__ = ["FORMATS", "ExportError", "export_tables"]

FORMATS = ("csv", "jsonl", "parquet")
EXTENSION = {"csv": "csv", "jsonl": "jsonl", "parquet": "parquet"}
PARQUET_HINT = (
    "parquet export needs pyarrow: pip install 'foryou[parquet]' (or: pip install pyarrow)"
)
RECEIPTS = (
    "The receipt of every impression: why the engine picked it (see impressions).",
    {
        "impression_id": "Impression (impressions.id)",
        "receipt": "JSON explanation: sources, every score term, filters, boosts, the slate",
    },
)
CODEBOOK = (
    "What every exported column means.",
    {
        "table": (
            "Exported table (file name without extension), or questionnaire: the study's "
            "items, whose answers are the answers table's rows"
        ),
        "column": "Column name; for questionnaire rows the item as phase.item",
        "type": "SQLite type: INTEGER, FLOAT, TEXT or BLOB",
        "description": "What the column holds",
    },
)
QUESTIONNAIRE = (
    "The study's items in the order asked. Each answer is a row of answers (phase, item, value)."
)

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # what a spreadsheet may run as a formula
CSV_NOTE = (
    "In the CSV files, a text cell that started with =, +, -, @, a tab or a carriage return "
    "has a ' put in front of it, so that spreadsheets show it instead of running it as a "
    "formula; strip one leading ' from such cells to get the stored text (JSON Lines and "
    "Parquet exports keep it unchanged)."
)
_NOT_TEXT = frozenset({"INTEGER", "FLOAT", "REAL", "NUMERIC", "BLOB"})

Rows = Iterator[list[tuple[Any, ...]]]
Columns = list[tuple[str, str]]


class ExportError(ValueError):
    """An export that cannot be made as asked; the message is one line."""


def export_tables(
    path: str | Path, out_dir: str | Path, fmt: str, *, force: bool = False
) -> dict[str, int]:
    """Write every table of a foryou file into ``out_dir`` (created if missing).

    The files are written into a scratch folder beside ``out_dir`` and moved in only once all
    are written: an export that fails or is interrupted leaves no folder that looks like an
    export, and with ``force`` an earlier export stays whole until the new one replaces it.

    Returns:
        Rows written per exported table.

    Raises:
        ExportError: an unknown format, pyarrow missing for Parquet, or files of an earlier
            export in the way (without ``force``).
        StoreError: the file cannot be opened.
    """
    writer = _writer(fmt)
    out = Path(out_dir)
    with Store.open(path) as store:
        plan = _plan(store)
        items = _questionnaire(store)
        if not force:
            _refuse_earlier(out, [name for name, _, _ in plan], fmt)
        with scratch_folder(out.parent) as scratch:
            counts = _write_all(writer, scratch, fmt, plan, items)
            move_files(scratch, out)
        if force:
            _remove_other_formats(out, [name for name, _, _ in plan], fmt)
    return counts


def _file_names(tables: list[str], fmt: str) -> list[str]:
    return [f"{name}.{EXTENSION[fmt]}" for name in [*tables, "codebook"]] + ["codebook.md"]


def _remove_other_formats(out: Path, tables: list[str], fmt: str) -> None:
    """An earlier export in another format, replaced with ``force``: its tables go too, so the
    folder never holds yesterday's events.csv beside today's events.jsonl."""
    for other in EXTENSION:
        if EXTENSION[other] == EXTENSION[fmt]:
            continue
        for name in [*tables, "codebook"]:
            (out / f"{name}.{EXTENSION[other]}").unlink(missing_ok=True)


def _refuse_earlier(out: Path, tables: list[str], fmt: str) -> None:
    """An earlier export's file in ``out`` is never overwritten without ``force``."""
    existing = [out / name for name in _file_names(tables, fmt) if (out / name).exists()]
    if existing:
        raise ExportError(f"{existing[0]} exists; choose a new directory or pass --force")


def _write_all(
    writer: Writer,
    folder: Path,
    fmt: str,
    plan: list[tuple[str, Columns, Callable[[], Rows]]],
    items: list[tuple[str, Item]],
) -> dict[str, int]:
    """Every table, then the codebook, into ``folder``; returns rows written per table."""
    counts = {
        name: _write(writer, folder / f"{name}.{EXTENSION[fmt]}", columns, rows())
        for name, columns, rows in plan
    }
    book = _codebook(plan, items)
    _write(writer, folder / f"codebook.{EXTENSION[fmt]}", _BOOK_COLUMNS, iter([book]))
    book_md = _markdown(plan, items) + (f"\n{CSV_NOTE}\n" if fmt == "csv" else "")
    create_private(folder / "codebook.md")
    (folder / "codebook.md").write_text(book_md, encoding="utf-8")
    return counts


_BOOK_COLUMNS: Columns = [
    ("table", "TEXT"),
    ("column", "TEXT"),
    ("type", "TEXT"),
    ("description", "TEXT"),
]


def _plan(store: Store) -> list[tuple[str, Columns, Callable[[], Rows]]]:
    """(name, columns, rows) of every table to export, receipts split from impressions."""
    db = store.db
    plan: list[tuple[str, Columns, Callable[[], Rows]]] = []
    for table in exportable_tables(db):
        columns = column_types(db, table)
        if table == "impressions":
            columns = [c for c in columns if c[0] != "receipt"]
        names = [c[0] for c in columns]
        plan.append((table, columns, partial(batches, db, table, names)))
        if table == "impressions":
            receipts = [("impression_id", "INTEGER"), ("receipt", "TEXT")]
            plan.append(
                ("receipts", receipts, partial(batches, db, "impressions", ["id", "receipt"]))
            )
    return plan


def _described(table: str) -> tuple[str, dict[str, str]]:
    return RECEIPTS if table == "receipts" else TABLES.get(table, ("", {}))


def _questionnaire(store: Store) -> list[tuple[str, Item]]:
    """The study's questionnaire items as (phase, item); none in a world without a study."""
    row = StudyLog(store.db).study()
    return questionnaire_items(Study.from_json(row["resolved"])) if row else []


def _item_description(item: Item) -> str:
    kind, answers, stored = describe_item(item)
    needed = "required" if item.required else "optional"
    return f"\u201c{item.text}\u201d ({kind}: {answers}; {needed}); answers.value holds {stored}"


def _codebook(
    plan: list[tuple[str, Columns, Callable[[], Rows]]], items: list[tuple[str, Item]]
) -> list[tuple[Any, ...]]:
    rows = [
        (name, column, kind, _described(name)[1].get(column, ""))
        for name, columns, _ in plan
        for column, kind in columns
    ]
    rows += [
        ("questionnaire", f"{phase}.{item.id}", "TEXT", _item_description(item))
        for phase, item in items
    ]
    rows += [("codebook", column, kind, CODEBOOK[1][column]) for column, kind in _BOOK_COLUMNS]
    return rows


def _markdown(
    plan: list[tuple[str, Columns, Callable[[], Rows]]], items: list[tuple[str, Item]]
) -> str:
    lines = ["# Codebook", ""]
    for name, columns, _ in plan:
        description, described = _described(name)
        lines += [f"## {name}", "", description, "", "| column | type | description |"]
        lines += ["|---|---|---|"]
        lines += [f"| {c} | {t} | {described.get(c, '')} |" for c, t in columns]
        lines.append("")
    if items:
        lines += ["## questionnaire", "", QUESTIONNAIRE, ""]
        lines += ["| phase | item | kind | wording | answers | required | answers.value holds |"]
        lines += ["|---|---|---|---|---|---|---|"]
        for phase, item in items:
            kind, answers, stored = describe_item(item)
            cells = [phase, item.id, kind, item.text, answers, _yes(item.required), stored]
            lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
        lines.append("")
    return "\n".join(lines)


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _cell(text: str) -> str:
    """Text that stays inside one Markdown table cell."""
    return " ".join(text.split()).replace("|", "\\|")


# -- writers ------------------------------------------------------------------------------

Writer = Callable[[Path, Columns, Rows], int]


def _writer(fmt: str) -> Writer:
    if fmt == "csv":
        return _write_csv
    if fmt == "jsonl":
        return _write_jsonl
    if fmt == "parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise ExportError(PARQUET_HINT) from None
        return _write_parquet
    raise ExportError(f"unknown export format {fmt!r}; expected one of {', '.join(FORMATS)}")


def _write(writer: Writer, target: Path, columns: Columns, rows: Rows) -> int:
    create_private(target)  # participants' data: owner-only before the first byte
    return writer(target, columns, rows)


def csv_cell(value: Any) -> Any:
    """A value as a CSV cell: text a spreadsheet would run as a formula gets a leading ``'``."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _write_csv(path: Path, columns: Columns, rows: Rows) -> int:
    text = [i for i, (_, kind) in enumerate(columns) if kind.upper() not in _NOT_TEXT]
    count = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow([c for c, _ in columns])
        for batch in rows:
            if text:
                batch = [_guarded(row, text) for row in batch]
            out.writerows(batch)
            count += len(batch)
    return count


def _guarded(row: tuple[Any, ...], text: list[int]) -> tuple[Any, ...]:
    cells = list(row)
    for i in text:
        cells[i] = csv_cell(cells[i])
    return tuple(cells)


def _write_jsonl(path: Path, columns: Columns, rows: Rows) -> int:
    names = [c for c, _ in columns]
    count = 0
    with path.open("w", encoding="utf-8") as handle:
        for batch in rows:
            handle.writelines(
                json.dumps(dict(zip(names, row, strict=True)), ensure_ascii=False) + "\n"
                for row in batch
            )
            count += len(batch)
    return count


def _write_parquet(path: Path, columns: Columns, rows: Rows) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    types = {
        "INTEGER": pa.int64(),
        "FLOAT": pa.float64(),
        "REAL": pa.float64(),
        "BLOB": pa.binary(),
    }
    schema = pa.schema([(name, types.get(kind, pa.string())) for name, kind in columns])
    count = 0
    with pq.ParquetWriter(str(path), schema) as out:
        for batch in rows:
            arrays = [list(column) for column in zip(*batch, strict=True)]
            out.write_table(pa.Table.from_arrays(arrays, schema=schema))
            count += len(batch)
        if count == 0:
            out.write_table(schema.empty_table())
    return count
