"""Reading whole tables out in batches, for exports: names, declared column types and rows."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlite_utils import Database

# Derived or internal: the world's arrays are a loading cache of the rows exported anyway.
NOT_EXPORTED = frozenset({"world_arrays"})


def exportable_tables(db: Database) -> list[str]:
    return [
        t for t in db.table_names() if not t.startswith(("_", "sqlite_")) and t not in NOT_EXPORTED
    ]


def column_types(db: Database, table: str) -> list[tuple[str, str]]:
    """(name, declared SQLite type) of every column, in table order."""
    return [(c.name, str(c.type).upper()) for c in db.table(table).columns]


def batches(
    db: Database, table: str, columns: list[str], *, size: int = 20_000
) -> Iterator[list[tuple[Any, ...]]]:
    """Rows in primary-key order, ``size`` at a time."""
    order = ", ".join(f'"{c}"' for c in db.table(table).pks)
    names = ", ".join(f'"{c}"' for c in columns)
    cursor = db.execute(f'SELECT {names} FROM "{table}" ORDER BY {order}')
    while rows := cursor.fetchmany(size):
        yield rows
