"""`foryou info`: a world's make-up as Rich tables."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.columns import Columns
from rich.console import Console
from rich.table import Table
from rich.text import Text

from engine.text import printable


def _table(title: str, headers: list[str], rows: list[list[Any]]) -> Table:
    table = Table(title=title, title_justify="left", box=None, pad_edge=False)
    for i, header in enumerate(headers):
        table.add_column(header, justify="left" if i == 0 else "right")
    for row in rows:
        table.add_row(*(Text(printable(str(cell))) for cell in row))  # topic names: file text
    return table


def _share(count: int, total: int) -> str:
    return f"{100 * count / total:.1f}%" if total else "-"


def _packed(parts: list[str], width: int, sep: str = "  ·  ") -> list[str]:
    """Join ``parts`` into lines of at most ``width`` that break only between parts: a narrow
    terminal would otherwise split "400 videos" from its number."""
    lines = [parts[0]]
    for part in parts[1:]:
        if len(lines[-1]) + len(sep) + len(part) <= width:
            lines[-1] += sep + part
        else:
            lines.append(part)
    return lines


def print_summary(path: Path, summary: dict[str, Any], console: Console | None = None) -> None:
    console = console or Console()
    counts, meta = summary["counts"], summary["meta"]
    total = counts["videos"]
    console.print(Text(str(path), style="bold"))  # a path is file text, not markup
    for line in _packed(
        [
            f"seed {meta.get('world_seed')}",
            f"{total:,} videos",
            f"{counts['creators']:,} creators",
            f"{counts['topics']} topics",
            f"{counts['hashtags']:,} hashtags",
            f"{counts['sounds']:,} sounds",
        ],
        console.width,
    ):
        console.print(line, highlight=False)
    topics = _table(
        "Videos per topic",
        ["topic", "videos", "share"],
        [[t["topic"], f"{t['videos']:,}", _share(t["videos"], total)] for t in summary["topics"]],
    )
    durations = _table(
        "Durations",
        ["length", "videos", "share"],
        [
            [d["bucket"], f"{d['videos']:,}", _share(d["videos"], total)]
            for d in summary["durations"]
        ]
        + [["median", f"{summary['median_duration_s']:.1f} s", ""]],
    )
    languages = _table(
        "Languages",
        ["language", "share"],
        [[row["language"], _share(row["videos"], total)] for row in summary["languages"]],
    )
    countries = _table(
        "Countries",
        ["country", "share"],
        [[row["country"], _share(row["videos"], total)] for row in summary["countries"]],
    )
    spam, sensitive, duplicates, scheduled, _ = summary["flags"]
    new = summary["new_creators"]
    flags = _table(
        "Flags",
        ["flag", "videos", "share"],
        [
            ["spam", spam, _share(spam, total)],
            ["sensitive", sensitive, _share(sensitive, total)],
            ["near-duplicate", duplicates, _share(duplicates, total)],
            ["scheduled (future)", scheduled, _share(scheduled, total)],
            ["new creators", new, _share(new, counts["creators"])],
        ],
    )
    console.print(topics)
    console.print(Columns([durations, languages, countries, flags], padding=(0, 4)))
    if "imported_from" in meta:
        synthetic = json.loads(meta.get("synthetic_fields", "[]"))
        console.print(
            Text(
                f"Imported from {meta['imported_from']} data (history until "
                f"{float(meta['imported_history_until']):.0%} of each viewer's log); synthetic: "
                + "; ".join(synthetic)
            )
        )
