"""Tables of many arms that fit the terminal they are printed on.

A comparison's tables have one column per arm (or per statistic), and Rich squeezes a table
that is too wide: numbers break across lines ("480.2" over "s") and long names end in "…",
so two arms whose names share a beginning look alike. A :class:`FoldingTable` instead cuts
itself, at print time, into as many tables as the width needs, each repeating the label
columns; every value keeps its line and every name is shown whole (folded onto several lines
when long). Names come from files and flags, so they are shown as typed: Rich markup in a
config's file name (``[bold]x.toml``) is text, and control characters are made visible.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rich.table import Table
from rich.text import Text

from engine.text import printable

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, JustifyMethod, RenderResult

HEADING_WIDTH = 12  # a long name folds at this width unless its values need more
LABEL_WIDTHS = (22, 18, 14)  # label columns wrap at words down to one of these widths
CELL_COST = 3  # padding on both sides and one rule per column


class Note(str):
    """A cell that may wrap (an explanation such as "n/a (no data)"), unlike a value."""

    __slots__ = ()


@dataclass
class FoldColumn:
    """One column: a heading shown as typed and cells in Rich markup (built by foryou)."""

    heading: str
    cells: list[str]
    justify: JustifyMethod = "right"
    style: str = ""

    def width(self) -> int:
        """Room for the widest value (notes wrap) and at least a short heading."""
        values = [Text.from_markup(c).cell_len for c in self.cells if not isinstance(c, Note)]
        notes = [min(Text.from_markup(c).cell_len, HEADING_WIDTH) for c in self.cells]
        words = printable(self.heading).split() or [""]
        heading = min(max(Text(w).cell_len for w in words), HEADING_WIDTH)  # wraps at spaces
        return max([heading, *values, *notes, 1])


@dataclass
class FoldingTable:
    """A table whose ``blocks`` of columns are spread over as many tables as the console's
    width needs, each repeating the ``lead`` columns (the row labels).

    Attributes:
        title: plain text (it may hold a name); parts after the first say which part they are.
        lead: the label columns, left-aligned and wrapping at words.
        blocks: groups of columns kept side by side (one arm, or a statistic with its interval).
        caption: Rich markup under the last part.
        row_styles: a style per row ("" for none).
    """

    title: str
    lead: list[FoldColumn]
    blocks: list[list[FoldColumn]]
    caption: str | None = None
    row_styles: list[str] = field(default_factory=list)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        label_width, parts = self.layout(options.max_width)
        for i, part in enumerate(parts):
            yield self._table(part, label_width, i, len(parts))

    def layout(self, width: int) -> tuple[int, list[list[list[FoldColumn]]]]:
        """How wide the label columns may wrap and which blocks go in each table: as few
        tables as fit ``width``, with the widest labels that keep that few."""
        options = []
        for w in LABEL_WIDTHS:
            parts = self._parts(width, w)
            too_wide = any(self._width(part, w) > width for part in parts)
            options.append((too_wide, len(parts), -w))
        label_width = -min(options)[2]
        return label_width, self._parts(width, label_width)

    def _width(self, blocks: list[list[FoldColumn]], label_width: int) -> int:
        lead = 1 + sum(min(c.width(), label_width) + CELL_COST for c in self.lead)
        return lead + sum(c.width() + CELL_COST for block in blocks for c in block)

    def _parts(self, width: int, label_width: int) -> list[list[list[FoldColumn]]]:
        """Blocks filled into tables left to right (a block wider than the terminal still
        gets a table of its own)."""
        parts: list[list[list[FoldColumn]]] = [[]]
        for block in self.blocks:
            if parts[-1] and self._width([*parts[-1], block], label_width) > width:
                parts.append([])
            parts[-1].append(block)
        return parts

    def _table(
        self, blocks: list[list[FoldColumn]], label_width: int, index: int, count: int
    ) -> Table:
        suffix = f" ({index + 1} of {count})" if count > 1 else ""
        last = index == count - 1
        table = Table(
            title=Text(printable(self.title) + suffix),
            title_justify="left",
            caption=self.caption if last else None,
            caption_justify="left",
        )
        for column in self.lead:
            longest = max(column.width(), max((len(c) for c in column.cells), default=0))
            table.add_column(
                _heading(column.heading),
                min_width=min(column.width(), label_width),
                max_width=longest,
                style=column.style,
                overflow="fold",  # a name too long for the column goes on, never "…"
            )
        columns = [c for block in blocks for c in block]
        for column in columns:
            table.add_column(
                _heading(column.heading),
                justify=column.justify,
                width=column.width(),
                style=column.style,
            )
        for row, style in enumerate(self.row_styles or [""] * len(self.lead[0].cells)):
            cells = [c.cells[row] for c in (*self.lead, *columns)]
            table.add_row(*cells, style=style or None)
        return table


def _heading(name: str) -> Text:
    """A name as typed, wrapping at spaces and folding a long word rather than cutting it."""
    return Text(printable(name), overflow="fold", no_wrap=False)


def name_markup(name: str) -> str:
    """A name for a Rich markup string (a sentence): shown as typed, never as markup."""
    from rich.markup import escape

    return escape(printable(name))
