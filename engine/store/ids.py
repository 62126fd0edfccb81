"""Looking a row up by its id, where an id no SQLite INTEGER can hold names no row.

SQLite's INTEGER is 64-bit signed, and binding a bigger Python int raises OverflowError: a
caller asking for row 10**30 (a typo on the command line, a bad value in a notebook) would
get a traceback instead of the "unknown ..." every other missing id gets. Every lookup of a
row by an id from outside goes through :func:`row_by_id`, so such ids are simply unknown.
"""

from __future__ import annotations

import operator
from typing import Any

from sqlite_utils import Database

__all__ = ["SQLITE_INTEGER", "as_id", "row_by_id"]

SQLITE_INTEGER = range(-(2**63), 2**63)  # what an INTEGER column (and a rowid) can hold


def as_id(value: object, what: str) -> int:
    """An id given from outside as Python's int.

    numpy's integers are ids too (ids read from an array or a DataFrame column); a bool, a
    float or a string is a mistake, named here rather than as a TypeError from deep inside
    numpy or SQLite, or (a float or True) silently taken for another id.

    Args:
        value: the id as given.
        what: what it names, for the message ("user id").

    Raises:
        ValueError: the value is not a whole number.
    """
    if not isinstance(value, bool):
        try:
            return operator.index(value)  # type: ignore[arg-type]
        except TypeError:
            pass
    raise ValueError(f"{what} must be a whole number, got {type(value).__name__} {value!r}")


def row_by_id(db: Database, sql: str, row_id: int) -> dict[str, Any] | None:
    """The first row of ``sql`` with its one ``?`` bound to ``row_id``; None when there is
    none, or when no row can have that id."""
    if row_id not in SQLITE_INTEGER:
        return None
    rows = list(db.query(sql, [row_id]))
    return rows[0] if rows else None
