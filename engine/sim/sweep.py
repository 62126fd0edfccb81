"""Sweeps: one base config, a grid of changes to it, every point run on the same personas.

``--grid 'pick.temperature=0.3,0.6,1.0'`` names a config key and the values to try; several
grids make their full product, and ``random`` keeps that many points of it, drawn with the
run's seed. Every point is one arm of a single experiment, so all of them meet the same
personas, seeds and start state (paired), and each is compared with the base by the same
verdict as ``compare`` (primary metric, guardrails, weighted Holm). The chart puts the primary
metric against one guardrail and marks the points no other point beats on both (the Pareto
front), which is where a ranking developer picks a trade-off.
"""

from __future__ import annotations

import itertools
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import tomli_w

from engine import frames
from engine.config import Config, ConfigError, as_dict, parse_config
from engine.sim.comparison import Comparison
from engine.sim.runner import Arm

Value = bool | int | float | str
# Which way each guardrail is better, for the Pareto front (metrics.py leaves diversity and
# new creators' share without a "better": more is not always better for a viewer, but it is
# what a guardrail on them protects).
GUARDRAIL_BETTER = {
    "intra_list_diversity": "higher",
    "topic_entropy": "higher",
    "new_creator_share": "higher",
    "strong_negative": "lower",
    "not_interested": "lower",
    "top_topic_share": "lower",
    "creator_gini": "lower",
}
MAX_POINTS = 100


def parse_grid(text: str) -> tuple[str, list[Value]]:
    """``"pick.temperature=0.3,0.6"`` → ``("pick.temperature", [0.3, 0.6])``; each value is read
    as a TOML value (numbers, true/false, quoted strings), a bare word as a string.

    Raises:
        ValueError: no ``=``, no key or no value, or a value given twice.
    """
    key, sep, values = text.partition("=")
    key = key.strip()
    if not sep or not key or not values.strip():
        raise ValueError(f"--grid must look like 'section.key=v1,v2', got {text!r}")
    parsed = [_value(v.strip()) for v in values.split(",")]
    for i, value in enumerate(parsed):
        if value in parsed[:i]:  # two arms of one config: refused before anything runs
            raise ValueError(f"--grid {key} gives the value {value!r} twice")
    return key, parsed


def _value(text: str) -> Value:
    try:
        value: Value = tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text
    return value


def grid_points(
    grids: list[tuple[str, list[Value]]], random: int | None, rng: np.random.Generator
) -> list[dict[str, Value]]:
    """The product of the grids (every combination), or ``random`` points drawn from it.

    Raises:
        ValueError: a key given twice, or more than MAX_POINTS points.
    """
    keys = [k for k, _ in grids]
    if len(set(keys)) != len(keys):
        raise ValueError(f"--grid names a key twice: {', '.join(keys)}")
    points = [
        dict(zip(keys, combo, strict=True)) for combo in itertools.product(*(v for _, v in grids))
    ]
    if random is not None and random < len(points):
        chosen = np.sort(rng.choice(len(points), size=random, replace=False))
        points = [points[i] for i in chosen]
    if len(points) > MAX_POINTS:
        raise ValueError(
            f"the grid has {len(points):,} points; at most {MAX_POINTS} (use --random)"
        )
    return points


def check_grids(grids: list[tuple[str, list[Value]]]) -> None:
    """Refuse a grid no base config can run, before anything else is checked or run: a key
    named twice, an unknown key, a value the config refuses on its own.

    Raises:
        ValueError: a key given twice; ConfigError (a ValueError) for the rest.
    """
    keys = [k for k, _ in grids]
    if len(set(keys)) != len(keys):
        raise ValueError(f"--grid names a key twice: {', '.join(keys)}")
    for key, values in grids:
        for value in values:
            with_changes(Config(), {key: value})


def repeats_of_base(base: Config, points: list[dict[str, Value]]) -> list[str]:
    """Names of the points whose changes leave the base config as it is: arms identical to it.

    Raises:
        ConfigError: a change the base config refuses.
    """
    settings = as_dict(base) | {"name": ""}
    return [
        point_name(changes)
        for changes in points
        if as_dict(with_changes(base, changes)) | {"name": ""} == settings
    ]


def with_changes(base: Config, changes: dict[str, Value]) -> Config:
    """``base`` with each dotted key set, checked like a config file.

    Raises:
        ConfigError: an unknown key, or a value the config refuses (named like a file's error).
    """
    data = as_dict(base)
    for key, value in changes.items():
        *sections, leaf = key.split(".")
        table = data
        for section in sections:
            if not isinstance(table.get(section), dict):
                raise ConfigError(f"--grid: unknown config section {section!r} in {key!r}")
            table = table[section]
        if leaf not in table:
            raise ConfigError(f"--grid: unknown config key {key!r}")
        table[leaf] = value
    data["name"] = point_name(changes)
    return parse_config(tomli_w.dumps(data), "--grid")


def point_name(changes: dict[str, Value]) -> str:
    """A short arm name: ``temperature=0.3 slate=20`` (the last part of each key)."""
    return " ".join(f"{k.rsplit('.', 1)[-1]}={v}" for k, v in changes.items())


def sweep_arms(base: Arm, points: list[dict[str, Value]]) -> list[Arm]:
    """The base arm first (named ``base``), then one arm per point of the grid."""
    arms = [Arm("base", base.config, base.policy)]
    for changes in points:
        config = with_changes(base.config, changes)
        arms.append(Arm(config.name, config, base.policy))
    return arms


@dataclass(frozen=True, eq=False)
class Sweep:
    """A sweep's comparison with the base, and which changes made each arm."""

    comparison: Comparison
    points: dict[str, dict[str, Value]]  # arm -> its changes to the base ({} for the base)
    guardrail: str

    def rows(self) -> dict[str, list[Any]]:
        """One row per arm: its changes, the primary and the guardrail (values and B − base
        with the interval and corrected p), and whether it is on the Pareto front."""
        comparison = self.comparison
        summary = comparison.summary()
        keys = sorted({k for p in self.points.values() for k in p})
        front = set(self.pareto_front())
        columns: dict[str, list[Any]] = {c: [] for c in ["arm", *keys, *_STAT_COLUMNS]}
        primary, guardrail = comparison.primary, self.guardrail
        for arm in comparison.measures:
            columns["arm"].append(arm)
            for k in keys:
                columns[k].append(self.points.get(arm, {}).get(k))
            diffs = {d.metric: d for d in comparison.differences.get(arm, [])}
            for name, metric in (("primary", primary), ("guardrail", guardrail)):
                d = diffs.get(metric)
                columns[name].append(summary[arm][metric])
                columns[f"{name}_diff"].append(d.diff if d else 0.0)
                columns[f"{name}_low"].append(d.low if d else float("nan"))
                columns[f"{name}_high"].append(d.high if d else float("nan"))
                columns[f"{name}_p_holm"].append(d.adjusted if d else float("nan"))
            columns["pareto"].append(arm in front)
        return columns

    def to_pandas(self) -> Any:
        """:meth:`rows` as a pandas DataFrame (``pip install 'foryou[pandas]'``); the
        per-persona measures are ``sweep.comparison.to_pandas()``."""
        return frames.to_pandas(self.rows())

    def to_parquet(self, path: str | Path) -> None:
        """Write :meth:`rows` to a Parquet file (``pip install 'foryou[parquet]'``)."""
        frames.to_parquet(self.rows(), path)

    def pareto_front(self) -> list[str]:
        """Arms (references left out) that no other arm beats on both the primary metric and
        the guardrail, in run order."""
        summary = self.comparison.summary()
        arms = [a for a in self.points if a in summary]
        primary = np.array([summary[a][self.comparison.primary] for a in arms])
        guard = np.array([summary[a][self.guardrail] for a in arms])
        if GUARDRAIL_BETTER.get(self.guardrail) == "lower":
            guard = -guard
        return [a for a, on in zip(arms, _undominated(primary, guard), strict=True) if on]

    def write_chart(self, path: Path) -> None:
        """The primary metric against the guardrail, one numbered point per arm with its 95%
        intervals (paired with the base, before correction), the front joined, and a key of
        the arms' names beside the axes (names next to points overlap)."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        from engine.sim.metrics import METRICS

        summary = self.comparison.summary()
        primary, guardrail = self.comparison.primary, self.guardrail
        front = self.pareto_front()
        fig, ax = plt.subplots(figsize=(10, 5))
        key = []
        for number, arm in enumerate(self.comparison.measures):
            x, y = summary[arm][guardrail], summary[arm][primary]
            colour = "#c8372d" if arm in front else ("#4c72b0" if arm in self.points else "#aaa")
            diffs = {d.metric: d for d in self.comparison.differences.get(arm, [])}
            ax.errorbar(
                [x], [y], xerr=_half_widths(diffs.get(guardrail)),
                yerr=_half_widths(diffs.get(primary)), fmt="o", color=colour,
                ecolor=colour, elinewidth=0.8, alpha=0.9, capsize=2,
            )  # fmt: skip
            ax.annotate(str(number), (x, y), fontsize=8, xytext=(4, 3), textcoords="offset points")
            key.append(f"{number}  {arm}" + ("  ◆" if arm in front else ""))
        ordered = sorted(front, key=lambda a: summary[a][guardrail])
        ax.plot(
            [summary[a][guardrail] for a in ordered],
            [summary[a][primary] for a in ordered],
            color="#c8372d", linewidth=1, label="Pareto front ◆ (no arm better on both)",
        )  # fmt: skip
        # The axes frame the points, not the bars: with few shards an interval can be many
        # times the spread of the arms, and then it runs off the chart, which says as much.
        points = np.array([[summary[a][guardrail], summary[a][primary]] for a in summary])
        for limits, values in ((ax.set_xlim, points[:, 0]), (ax.set_ylim, points[:, 1])):
            low, high = float(np.nanmin(values)), float(np.nanmax(values))
            pad = 0.35 * (high - low) or 0.05 * abs(high) or 1.0
            limits(low - pad, high + pad)
        better = GUARDRAIL_BETTER.get(guardrail, "higher")
        ax.set_xlabel(f"{METRICS[guardrail].label} ({better} is better)")
        unit = METRICS[primary].unit
        ax.set_ylabel(METRICS[primary].label + (f" ({unit})" if unit in ("s", "bits") else ""))
        ax.set_title("bars: 95% intervals of each arm's difference from base", fontsize=8)
        ax.legend(fontsize=8)
        fig.text(0.69, 0.92, "\n".join(key), fontsize=8, va="top", family="monospace")
        fig.tight_layout(rect=(0, 0, 0.68, 1))
        fig.savefig(path, dpi=110, metadata={"Software": None})
        plt.close(fig)


def _half_widths(d: Any) -> list[list[float]] | None:
    """Error-bar lengths below and above a point from a difference's interval (none for the
    base or an untested metric)."""
    if d is None or not (np.isfinite(d.low) and np.isfinite(d.high)):
        return None
    return [[max(d.diff - d.low, 0.0)], [max(d.high - d.diff, 0.0)]]


_STAT_COLUMNS = [
    f"{name}{suffix}"
    for name in ("primary", "guardrail")
    for suffix in ("", "_diff", "_low", "_high", "_p_holm")
] + ["pareto"]


def _undominated(a: npt.NDArray[np.float64], b: npt.NDArray[np.float64]) -> list[bool]:
    """Which points no other point matches or beats on both (higher is better) and beats on
    one."""
    result = []
    for i in range(len(a)):
        beaten = (a >= a[i]) & (b >= b[i]) & ((a > a[i]) | (b > b[i]))
        result.append(not beaten.any())
    return result
