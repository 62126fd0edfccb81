"""A generic catalogue CSV and an optional interaction log, for any other dataset.

The catalogue (``foryou import csv ITEMS.csv [--log LOG.csv]``) needs an ``id`` column; every
other column is optional: ``topic`` (or ``genres``, ``|``-separated), ``tags`` (``|``-separated
free tags), ``creator``, ``duration`` (seconds), ``title``. The log needs ``user``, ``item`` (a
catalogue id) and ``timestamp`` (unix seconds) and may add ``watched_s``, ``rating`` (0-5) or
``label`` (1 like, 0 not interested); a row with both takes the label as its opinion and the
rating only for the play time when ``watched_s`` is missing (:mod:`seed.importers.history`).
What is missing is synthesised as for the other formats; a ``duration`` that is given must be a
positive number of seconds.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from engine.world import F64
from seed.importers.source import Catalogue, Log, empty_log
from seed.importers.table import Table, read_table


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split("|") if part.strip()]


def _durations(table: Table) -> F64 | None:
    # A blank cell is an unknown duration (drawn, and listed as synthetic); zero or negative is
    # a mistake in the file, which was silently replaced by a made-up duration.
    if not table.has("duration"):
        return None
    return table.numbers("duration", kind="number of seconds", blank=np.nan, positive=True)


def read_generic(items: Path, log_file: Path | None) -> tuple[Catalogue, Log]:
    """Read a generic catalogue and log.

    Raises:
        ImportFileError: a file is missing or bad.
    """
    table = read_table(items, ("id",))
    keys = table.unique_ids("id")
    topic_column = next((c for c in ("topic", "genres") if table.has(c)), None)
    catalogue = Catalogue(
        name="csv",
        key=keys,
        topics=[_split(t) for t in table.text(topic_column)]
        if topic_column
        else [[] for _ in keys],
        tags=[_split(t) for t in table.text("tags")] if table.has("tags") else [[] for _ in keys],
        title=table.text("title") if table.has("title") else None,
        creator=table.text("creator") if table.has("creator") else None,
        duration_s=_durations(table),
    )
    if log_file is None:
        return catalogue, empty_log()
    log = read_table(log_file, ("user", "item", "timestamp"))
    index = {key: i for i, key in enumerate(keys.tolist())}
    item = np.empty(len(log), dtype=np.int64)
    for row, key in enumerate(log.integers("item").tolist()):
        if key not in index:
            raise log.fail(row, f"item {key} is not in {items.name}")
        item[row] = index[key]
    user_keys, user = np.unique(np.array(log.text("user")), return_inverse=True)

    def optional(column: str, within: tuple[float, float]) -> np.ndarray | None:
        # Out of range is a mistake in the file, not a value to clamp: a rating of 9 on a
        # 0-5 scale would have become a like without a word.
        return log.numbers(column, blank=np.nan, within=within) if log.has(column) else None

    label = optional("label", (0.0, 1.0))
    if label is not None:
        halves = np.flatnonzero((label != 0) & (label != 1) & ~np.isnan(label))
        if halves.size:
            cell = log.text("label")[halves[0]]
            raise log.fail(int(halves[0]), f"label {cell!r} is not 1 (like) or 0 (not interested)")
    return catalogue, Log(
        user_key=[str(k) for k in user_keys.tolist()],
        user=user.astype(np.int64),
        item=item,
        unix=log.numbers("timestamp"),
        rating=optional("rating", (0.0, 5.0)),
        label=label,
        watched_s=optional("watched_s", (0.0, np.inf)),
    )
