"""Helpers the terminal tests share: what the screen shows, and what the database holds."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path
from typing import Any

from rich.style import Style
from textual.app import App


def screen_text(app: App[Any]) -> str:
    """The characters of the whole screen as shown, one line per row."""
    update = app.screen._compositor.render_update(full=True)
    return "\n".join("".join(strip.text for strip in line) for line in update.strips)


def rows(path: Path, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    """Query a database file directly, as a researcher would, rows as dicts."""
    with sqlite3.connect(path) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(row) for row in conn.execute(sql, params)]


def events_in_the_file_alone(path: Path, scratch: Path) -> int:
    """Events a reader finds in the world file without its write-ahead log (a copy of the
    ``.db`` alone, made in the ``scratch`` folder): what the log has been copied into it."""
    alone = scratch / "alone.db"
    shutil.copy(path, alone)
    with sqlite3.connect(alone) as conn:
        return int(conn.execute("SELECT count(*) FROM events").fetchone()[0])


def style_of(app: App[Any], text: str) -> Style:
    """The style of the first run of characters on screen that contains `text`."""
    update = app.screen._compositor.render_update(full=True)
    for line in update.strips:
        for strip in line:
            for segment in strip:
                if text in segment.text and segment.style is not None:
                    return segment.style
    raise AssertionError(f"{text!r} is not on screen")
