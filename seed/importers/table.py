"""Reading one delimited file of a real dataset, refusing a bad one in a line naming file and line.

Every importer reads through :func:`read_table`, so a wrong column, a broken encoding, a
duplicate id or an empty file gets the same kind of message: ``ratings.csv:17: rating 'x' is
not a number``. The file is read whole (the datasets this is for are a few megabytes).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from engine.world import F64, I64

if TYPE_CHECKING:
    from _csv import Reader


class ImportFileError(ValueError):
    """A file of the dataset cannot be imported; the message names the file and the line."""


@dataclass(frozen=True)
class Table:
    """A delimited file's rows as text, with the line each row came from."""

    path: Path
    header: list[str]
    rows: list[list[str]]
    lines: list[int]  # [R] 1-based line of each row in the file

    def __len__(self) -> int:
        return len(self.rows)

    def fail(self, row: int | None, message: str) -> ImportFileError:
        """The error for a problem on a row (None: the file as a whole)."""
        where = self.path.name if row is None else f"{self.path.name}:{self.lines[row]}"
        return ImportFileError(f"{where}: {message}")

    def text(self, column: str) -> list[str]:
        index = self.header.index(column)
        return [row[index] for row in self.rows]

    def has(self, column: str) -> bool:
        return column in self.header

    def numbers(
        self,
        column: str,
        *,
        kind: str = "number",
        blank: float | None = None,
        within: tuple[float, float] | None = None,
        positive: bool = False,
    ) -> F64:
        """A column as floats; ``blank`` (if given) stands for an empty cell; ``within``: the
        range (inclusive) every value must lie in; ``positive``: every value must be above 0.

        Raises:
            ImportFileError: a cell is not a number, lies outside ``within`` or is not positive
                (naming its line).
        """
        values = np.empty(len(self.rows), dtype=np.float64)
        for i, cell in enumerate(self.text(column)):
            if cell.strip() == "" and blank is not None:
                values[i] = blank
                continue
            try:
                values[i] = float(cell)
            except ValueError:
                raise self.fail(i, f"{column} {cell!r} is not a {kind}") from None
            if not np.isfinite(values[i]):
                raise self.fail(i, f"{column} {cell!r} is not a finite {kind}")
            if within is not None and not within[0] <= values[i] <= within[1]:
                low, high = (f"{bound:g}" for bound in within)
                raise self.fail(i, f"{column} {cell!r} is outside {low}-{high}")
            if positive and values[i] <= 0:
                raise self.fail(i, f"{column} {cell!r} is not a positive {kind}")
        return values

    def integers(self, column: str) -> I64:
        """A column of integer ids (``"12"`` or ``"12.0"``).

        Raises:
            ImportFileError: a cell is not a whole number.
        """
        values = self.numbers(column, kind="whole number")
        bad = np.flatnonzero(values != np.round(values))
        if bad.size:
            raise self.fail(int(bad[0]), f"{column} {self.text(column)[bad[0]]!r} is not whole")
        return values.astype(np.int64)

    def unique_ids(self, column: str) -> I64:
        """A column of ids that must not repeat.

        Raises:
            ImportFileError: an id repeats (naming the line of its second appearance).
        """
        ids = self.integers(column)
        _, counts = np.unique(ids, return_counts=True)
        if (counts > 1).any():
            seen: dict[int, int] = {}
            for i, value in enumerate(ids.tolist()):
                if value in seen:
                    raise self.fail(
                        i, f"duplicate {column} {value} (first on line {self.lines[seen[value]]})"
                    )
                seen[value] = i
        return ids


def read_table(
    path: Path,
    required: Sequence[str],
    *,
    delimiter: str = ",",
    allow_empty: bool = False,
) -> Table:
    """Read a delimited UTF-8 file with a header row.

    Args:
        path: the file.
        required: columns that must be in the header (others are kept and may be ignored).
        delimiter: "," for CSV, "\\t" for TSV.
        allow_empty: accept a header with no rows.

    Raises:
        ImportFileError: the file is missing, not UTF-8, empty, lacks a column or has a row
            with the wrong number of fields.
    """
    if not path.is_file():
        what = "a folder, not a file" if path.is_dir() else "no such file"
        raise ImportFileError(f"{path}: {what}")
    raw = path.read_bytes()
    try:
        content = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise ImportFileError(f"{path.name}:{line}: not UTF-8 text (byte {error.start})") from None
    if "\x00" in content:
        line = content[: content.index("\x00")].count("\n") + 1
        raise ImportFileError(f"{path.name}:{line}: contains a NUL byte (a binary file?)")
    # Strict: an unclosed quote would otherwise swallow the rest of the file into one cell
    # and surface as a puzzling "2 fields" or "not a number" many lines away.
    reader = csv.reader(io.StringIO(content, newline=""), delimiter=delimiter, strict=True)
    try:
        header = [name.strip() for name in next(reader)]
    except StopIteration:
        raise ImportFileError(f"{path.name}: empty file (expected a header row)") from None
    except csv.Error as error:
        raise _parse_error(path, 1, error) from None
    missing = [column for column in required if column not in header]
    if missing:
        raise ImportFileError(
            f"{path.name}:1: missing column {', '.join(missing)} "
            f"(the header has: {', '.join(header)[:200]})"
        )
    rows, lines = _rows(path, reader, len(header))
    if not rows and not allow_empty:
        raise ImportFileError(f"{path.name}: no rows after the header")
    return Table(path=path, header=header, rows=rows, lines=lines)


def _rows(path: Path, reader: Reader, width: int) -> tuple[list[list[str]], list[int]]:
    """Every non-blank row after the header and the line each starts on."""
    rows: list[list[str]] = []
    lines: list[int] = []
    while True:
        start = reader.line_num + 1  # a quoted cell may span lines: name the row's first
        try:
            row = next(reader)
        except StopIteration:
            return rows, lines
        except csv.Error as error:
            raise _parse_error(path, start, error) from None
        if not row:
            continue
        if len(row) != width:
            raise ImportFileError(f"{path.name}:{start}: {len(row)} fields, the header has {width}")
        rows.append(row)
        lines.append(start)


def _parse_error(path: Path, line: int, error: csv.Error) -> ImportFileError:
    """The csv module's complaint in words a person editing the file can act on."""
    message = str(error)
    if message.startswith("unexpected end of data"):
        message = 'a quote (") opened in the row starting here is never closed'
    elif "expected after '\"'" in message:
        message = 'text after a closing quote (inside a quoted cell, write a " as "")'
    return ImportFileError(f"{path.name}:{line}: {message}")
