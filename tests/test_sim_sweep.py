"""Sweeps: a grid of changes to one config, run paired, with a table and a Pareto chart."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from rich.cells import cell_len

from engine.config import Config, ConfigError
from engine.sim.sweep import _undominated, grid_points, parse_grid, repeats_of_base, with_changes
from tui.cli import main


def test_a_grid_is_a_key_and_toml_values() -> None:
    assert parse_grid("pick.temperature=0.3,0.6, 1") == ("pick.temperature", [0.3, 0.6, 1])
    assert parse_grid("policy=engine,popular") == ("policy", ["engine", "popular"])
    with pytest.raises(ValueError, match=r"section\.key=v1,v2"):
        parse_grid("pick.temperature")


def test_grids_make_their_product_or_a_seeded_random_part_of_it() -> None:
    grids = [("pick.temperature", [0.3, 1.0]), ("rerank.explore_share", [0.0, 0.2, 0.4])]
    points = grid_points(grids, None, np.random.default_rng(0))
    assert len(points) == 6 and points[0] == {"pick.temperature": 0.3, "rerank.explore_share": 0.0}
    some = grid_points(grids, 2, np.random.default_rng(0))
    assert len(some) == 2 and all(p in points for p in some)
    assert some == grid_points(grids, 2, np.random.default_rng(0))


def test_a_change_is_checked_like_a_config_file() -> None:
    config = with_changes(Config(), {"pick.temperature": 0.3})
    assert config.pick.temperature == 0.3 and config.name == "temperature=0.3"
    with pytest.raises(ConfigError, match=r"unknown config key 'pick\.warmth'"):
        with_changes(Config(), {"pick.warmth": 1.0})
    with pytest.raises(ConfigError, match="rerank"):
        with_changes(Config(), {"rerank.explore_share": 2.0})  # a share is at most 1


def test_the_pareto_front_keeps_what_nothing_beats_on_both() -> None:
    watch = np.array([160.0, 143.0, 141.0, 118.0, 110.0])
    diversity = np.array([0.51, 0.52, 0.68, 0.49, 0.67])
    assert _undominated(watch, diversity) == [True, True, True, False, False]


def test_sweep_prints_a_table_and_writes_a_pareto_chart(world_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    result = CliRunner().invoke(
        main,
        ["sweep", "engine", "--db", str(world_path), "--grid", "pick.temperature=0.3,1.0",
         "--users", "8", "--sessions", "1", "--shard-size", "2", "--no-baselines",
         "--resamples", "50", "--out", str(out)],
        env={"COLUMNS": "80"},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert max(cell_len(line) for line in result.output.splitlines()[1:]) <= 80
    assert "…" not in result.output  # names fold, never cut
    assert "temperature=0.3" in result.output and "◆" in result.output
    text = (out / "sweep.md").read_text()
    assert "| temperature=1.0 |" in text and "](pareto.png)" in text
    assert (out / "pareto.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    data = json.loads((out / "metrics.json").read_text())
    assert list(data["arms"]) == ["base", "temperature=0.3", "temperature=1.0"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--grid", "pick.warmth=1"], "unknown config key 'pick.warmth'"),
        (["--grid", "pick.temperature"], "--grid must look like"),
        (["--grid", "pick.temperature=1", "--random", "0"], "--random must be at least 1"),
        (["--grid", "pick.temperature=0.3,0.3"], "gives the value 0.3 twice"),
    ],
)
def test_sweep_mistakes_are_one_line_errors(
    world_path: Path, args: list[str], message: str
) -> None:
    result = CliRunner().invoke(main, ["sweep", "engine", "--db", str(world_path), *args])
    assert result.exit_code != 0
    assert result.output.startswith("Error:") and message in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_a_one_shard_sweep_shows_point_differences(world_path: Path, tmp_path: Path) -> None:
    args = ["sweep", "engine", "--db", str(world_path), "--grid", "pick.temperature=0.3"]
    # Six personas: fewer than a metric needs for an interval, which used to blank every Δ.
    args += ["--users", "6", "--sessions", "1", "--no-baselines", "--resamples", "20"]
    result = CliRunner().invoke(
        main, [*args, "--out", str(tmp_path / "one")], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    row = next(line for line in result.output.splitlines() if line.startswith("│ temperature"))
    deltas = re.findall(r"│ +([+-][0-9.]+) +│", row)  # each Δ alone: no "[n/a, n/a]"
    assert len(deltas) == 2 and "n/a" not in row
    assert "Only one shard: no interval" in " ".join(result.output.split())


def test_the_grid_is_checked_before_the_out_folder(world_path: Path, tmp_path: Path) -> None:
    """A mistyped grid used to be hidden behind "--out exists": fixing that first only led to
    the next refusal."""
    out = tmp_path / "earlier"
    out.mkdir()
    (out / "metrics.json").write_text("{}")
    args = ["sweep", "engine", "--db", str(world_path), "--out", str(out)]
    twice = ["--grid", "pick.temperature=1", "--grid", "pick.temperature=2"]
    result = CliRunner().invoke(main, [*args, *twice])
    assert result.exit_code == 2
    assert result.output == (
        "Error: --grid names a key twice: pick.temperature, pick.temperature\n"
    )
    assert (out / "metrics.json").read_text() == "{}"


def test_an_arm_identical_to_the_base_is_named() -> None:
    default = Config().pick.temperature
    points = [{"pick.temperature": default}, {"pick.temperature": 0.3}]
    assert repeats_of_base(Config(), points) == [f"temperature={default}"]
    both = [{"pick.temperature": default, "rerank.explore_share": 0.0}]
    assert repeats_of_base(Config(), both) == []  # one change is a change
