"""Tables that fold to the terminal's width: several tables rather than broken numbers."""

from __future__ import annotations

import io

import numpy as np
import pytest
from rich.cells import cell_len
from rich.console import Console

from tui.fold_table import FoldColumn, FoldingTable, Note


def render(table: FoldingTable, width: int) -> list[str]:
    console = Console(width=width, file=io.StringIO(), record=True)
    console.print(table)
    return console.export_text().splitlines()


def sweep_like(rng: np.random.Generator) -> FoldingTable:
    """Arms as rows, like `foryou sweep`: names with spaces, values and intervals of any width."""
    rows = 6
    names = [f"temperature={rng.integers(1, 99) / 10} explore_share=0.{i}" for i in range(rows)]

    def values(width: int) -> list[str]:
        return [f"{rng.integers(10**8):0{width}d}"[:width] for _ in range(rows)]

    # As wide as a sweep's cells get: a value, "+0.0426 [+0.0405, +0.0446]", a p-value.
    widths = {"Watch time": (3, 10), "Δ [95% CI]": (10, 27), "p (Holm)": (5, 6)}
    blocks = [
        [FoldColumn(h, values(int(rng.integers(*w)))) for h, w in widths.items()]
        for _ in range(int(rng.integers(1, 4)))
    ]
    lead = [FoldColumn("arm", names, justify="left"), FoldColumn("Pareto", ["◆", ""] * 3)]
    return FoldingTable("Sweep", lead, blocks)


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("width", [80, 100, 120])
def test_every_part_fits_and_every_value_stays_whole(seed: int, width: int) -> None:
    table = sweep_like(np.random.default_rng(seed))
    lines = render(table, width)
    assert max(cell_len(line) for line in lines) <= width
    text = "\n".join(lines)
    assert "…" not in text  # a name too long for its column folds onto the next line
    for block in table.blocks:
        for column in block:
            for cell in column.cells:
                assert cell in text  # never broken across lines, never cut with "…"


def test_a_wide_table_becomes_several_with_the_labels_repeated() -> None:
    blocks = [[FoldColumn(f"arm {i}", ["123.4 s", "0.25"])] for i in range(12)]
    table = FoldingTable("Metrics", [FoldColumn("metric", ["Watch", "Share"])], blocks)
    lines = render(table, 80)
    assert "Metrics (1 of 2)" in lines[0] and any("Metrics (2 of 2)" in line for line in lines)
    assert sum("Watch" in line for line in lines) == 2
    assert len(render(table, 200)) < len(lines)  # wide enough: one table


def test_names_are_shown_as_typed_and_notes_may_wrap() -> None:
    blocks = [[FoldColumn("[bold]x\x1b[2J", [Note("n/a (only 4 personas reached it)"), "1.0"])]]
    table = FoldingTable("From [red]x", [FoldColumn("metric", ["a", "b"])], blocks)
    text = "\n".join(render(table, 80))
    assert "[bold]x␛[2J" in text and "From [red]x" in text
    assert "\x1b" not in text


def test_a_squeezed_name_folds_onto_the_next_line_rather_than_being_cut() -> None:
    names = ["temperature=0.3 explore_share=0.0", "temperature=0.3 explore_share=0.2"]
    blocks = [[FoldColumn("Δ [95% CI]", ["x" * 58, "y" * 58])]]
    lines = render(FoldingTable("Sweep", [FoldColumn("arm", names, justify="left")], blocks), 80)
    text = "\n".join(lines)
    assert "…" not in text and "explore_share=0" in text  # the rest on the next line
