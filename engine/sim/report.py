"""Writing an experiment down: metrics JSON, a Markdown or HTML report, and PNG charts.

Charts use matplotlib's Agg backend, imported only when a report is written (a simulation that
only prints a table never pays for it), and are saved without a "Software" stamp so the same
run gives the same bytes. Numbers are formatted here once, for the report and the terminal.

A run's files are written into a scratch folder and moved into place only once all of them are
written (:mod:`engine.folders`), so a run that fails or is interrupted half-way leaves nothing
half-written behind.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from engine.sim.calibration import N_BINS, Calibration
from engine.sim.comparison import ONE_SHARD, ORACLE, ORACLE_NOTE, PLACEMENT_METRIC, Comparison
from engine.sim.metrics import CALIBRATION, GROUPS, METRICS, lorenz
from engine.sim.stats import CONFIDENCE, Difference

Format = Literal["md", "html"]
CAVEATS = (
    "Each persona meets the same truth and random numbers under every arm, so differences are "
    "paired. Personas in one shard share an engine (its trends, engagement counts and test "
    "pools), so whole shards are resampled (a clustered bootstrap); intervals are t intervals "
    "on the bootstrap standard error with (shards − 1) degrees of freedom, clipped to the "
    "differences a metric can have (a rate or share: ±100 pp).",
    "Coverage and Gini count distinct videos and creators, which resampling with replacement "
    "biases downward; they get a paired delete-one-shard jackknife instead.",
    "Intervals are 95% before correction. A verdict (better, worse, higher, lower) needs the "
    "p-value after a weighted Holm correction over every tested metric to be at most 5%: an "
    "experiment where nothing differs flags something at most 5% of the time. The primary "
    "metric carries half of that 5%, the guardrails a quarter, the other metrics a quarter.",
    "Not tested: a metric that repeats another (skip is 1 − completion; strong negative equals "
    "not interested when nobody reports), and one with no data or no event in either arm.",
    "Time to personalise is the Kaplan–Meier restricted mean up to the horizon stated: a "
    "persona who never got there counts as waiting the whole horizon, whatever its length.",
)


def format_value(metric: str, value: float) -> str:
    """A metric's value the way people read it (percent, seconds, items)."""
    if value is None or not np.isfinite(value):
        return "n/a"
    unit = METRICS[metric].unit if metric in METRICS else ""
    if unit == "%":
        return f"{100 * value:.2f}%" if abs(value) < 0.1 else f"{100 * value:.1f}%"
    if unit == "s":
        return f"{value:.1f} s"
    if unit == "items":
        return f"{value:.1f}"
    if unit == "bits":
        return f"{value:.2f} bits"
    return f"{value:.3f}"


def format_difference(d: Difference) -> str:
    """``+1.2% [+0.4%, +2.0%]``, with percent metrics in percentage points; an untested
    difference without its interval, and why (``n/a`` and why when an arm has no value)."""
    unit = METRICS[d.metric].unit
    if not np.isfinite(d.diff):
        return f"n/a ({d.note})" if d.note else "n/a"

    def signed(x: float) -> str:
        if not np.isfinite(x):
            return "n/a"
        if unit == "%":
            return f"{100 * x:+.2f} pp"
        return f"{x:+.3g}"

    if d.role == "untested":  # a point difference without an interval (one shard: the
        # table's note says so once, not in every cell)
        return signed(d.diff) if d.note in ("", ONE_SHARD) else f"{signed(d.diff)} ({d.note})"
    return f"{signed(d.diff)} [{signed(d.low)}, {signed(d.high)}]"


def verdict(d: Difference) -> str:
    """How a reader should take a difference: better, worse, or just different, after the
    multiplicity correction; why it was not tested when it was not."""
    if d.role == "untested":
        return f"not tested ({d.note})" if d.note else "not tested"
    if not d.flagged:
        return "no clear difference"
    better = METRICS[d.metric].better
    if better is None:
        return "higher" if d.diff > 0 else "lower"
    good = (d.diff > 0) == (better == "higher")
    return "better" if good else "worse"


def write_metrics_json(comparison: Comparison, path: Path, extra: dict[str, Any]) -> None:
    """The comparison's numbers (and ``extra``, e.g. throughput) as indented JSON."""
    data = comparison.as_dict() | extra
    path.write_text(json.dumps(data, indent=2, allow_nan=False) + "\n", encoding="utf-8")


# -- the document --------------------------------------------------------------------------


@dataclass
class _Section:
    title: str
    paragraphs: list[str] = field(default_factory=list)
    table: list[list[str]] = field(default_factory=list)  # first row is the header
    images: list[tuple[str, str]] = field(default_factory=list)  # (file, caption)


def write_report(comparison: Comparison, out: Path, fmt: Format = "md") -> Path:
    """Write charts and a report into ``out``; returns the report's path."""
    out.mkdir(parents=True, exist_ok=True)
    charts = write_charts(comparison, out)
    sections = _sections(comparison, charts)
    text = _markdown(sections) if fmt == "md" else _html(sections)
    path = out / f"report.{fmt}"
    path.write_text(text, encoding="utf-8")
    return path


def _sections(comparison: Comparison, charts: dict[str, str]) -> list[_Section]:
    spec = comparison.experiment.spec
    arms = list(comparison.measures)
    summary = comparison.summary()
    setup = _Section(
        "foryou simulation report",
        [
            f"World `{spec.db_path.name}`; {spec.users} personas × {spec.replicates} seed(s) "
            f"(root seed {spec.seed}), up to {spec.sessions} session(s) each; arms: "
            + ", ".join(f"`{a}`" for a in arms)
            + "."
        ],
    )
    sections = [setup, _placement(comparison), _metric_table(comparison)]
    sections += [_group_table(comparison), _predictions(comparison)]
    if comparison.differences:
        sections.append(_difference_table(comparison))
        if comparison.group_differences:
            sections.append(_group_difference_table(comparison))
        sections.append(_power(comparison))
        if comparison.per_seed:
            sections.append(_per_seed_table(comparison))
    sections.append(_calibration(arms, summary))
    sections.append(_pools(comparison))
    sections.append(
        _Section(
            "Charts",
            images=[(file, caption) for caption, file in charts.items()],
        )
    )
    sections.append(_Section("How to read the intervals", list(CAVEATS)))
    return sections


def _placement(comparison: Comparison) -> _Section:
    placement = comparison.placement()
    if not placement:
        return _Section("Placement", ["Run with the random and oracle references to place arms."])
    rows = [["arm", "watch time per session", "placement (random = 0, oracle = 1)"]]
    summary = comparison.summary()
    for arm, where in placement.items():
        rows.append(
            [arm, format_value(PLACEMENT_METRIC, summary[arm][PLACEMENT_METRIC]), f"{where:.2f}"]
        )
    note = (
        "Placement is watch time per session. The oracle picks greedily, one video at a time, "
        "so an arm that plans ahead could place above 1."
    )
    return _Section("Placement between random and oracle", [note], rows)


def _metric_table(comparison: Comparison) -> _Section:
    arms = list(comparison.measures)
    summary = comparison.summary()
    rows = [["metric", *(_arm_heading(a) for a in arms)]]
    for key, metric in METRICS.items():
        cells = [_marked(comparison, a, key, format_value(key, summary[a][key])) for a in arms]
        rows.append([metric.label, *cells])
    return _Section("Metrics", _oracle_note(arms), rows)


def _group_table(comparison: Comparison) -> _Section:
    arms = list(comparison.measures)
    by_group = {g: comparison.summary(g) for g in GROUPS}
    sizes = next(iter(comparison.measures.values())).group_sizes()
    rows = [["metric", *(_arm_heading(a) for a in arms)]]
    placements = {g: comparison.placement(g) for g in GROUPS}
    if all(placements.values()):
        rows.append(
            ["placement", *(" · ".join(f"{placements[g][a]:.2f}" for g in GROUPS) for a in arms)]
        )
    for key, metric in METRICS.items():
        cells = [
            _marked(
                comparison,
                a,
                key,
                " · ".join(format_value(key, by_group[g][a][key]) for g in GROUPS),
            )
            for a in arms
        ]
        rows.append([metric.label, *cells])
    note = (
        f"Each cell: onboarded · cold start. {sizes['onboarded']} personas named topics at "
        f"sign-up, {sizes['cold']} named none."
    )
    return _Section("By persona group: onboarded · cold start", [note], rows)


def _predictions(comparison: Comparison) -> _Section:
    arms = list(comparison.measures)
    first = next(iter(comparison.measures.values()))
    rows = [["action", "personas", *arms]]
    for action in first.predictions["all"]:
        for group in first.predictions:
            cells = [_prediction(comparison.measures[a].predictions[group][action]) for a in arms]
            rows.append([action if group == "all" else "", group, *cells])
    note = (
        "Each cell: mean predicted P / observed rate · expected calibration error over "
        f"{N_BINS} equal-width bins · AUC (0.5 = chance). n/a: the arm predicts nothing."
    )
    return _Section("Predictions: calibration and AUC of P(action)", [note], rows)


def _prediction(figures: Calibration | None) -> str:
    if figures is None:
        return "n/a"
    auc = "n/a" if not np.isfinite(figures.auc) else f"{figures.auc:.2f}"
    return f"{figures.predicted:.3f}/{figures.observed:.3f} · {figures.ece:.3f} · {auc}"


def _difference_table(comparison: Comparison) -> _Section:
    level = f"{100 * CONFIDENCE:.0f}%"
    rows = [
        [
            "metric",
            "role",
            "arm",
            f"difference from {comparison.baseline} [{level} CI]",
            "p",
            "p (Holm)",
            "verdict",
        ]
    ]
    for arm, diffs in comparison.differences.items():
        for d in ordered(diffs):
            difference = _marked(comparison, arm, d.metric, format_difference(d))
            role = "" if d.role in ("secondary", "untested") else d.role
            label = METRICS[d.metric].label
            rows.append(
                [
                    label,
                    role,
                    _arm_heading(arm),
                    difference,
                    format_p(d.p_value),
                    format_p(d.adjusted),
                    verdict(d),
                ]
            )
    notes = [
        f"Primary metric: {METRICS[comparison.primary].label.lower()}; guardrails: "
        + ", ".join(METRICS[g].label.lower() for g in comparison.guardrails)
        + f". Resampled units: {comparison.clusters} shards. Time to personalise: restricted "
        f"mean up to {comparison.horizon:.0f} impressions.",
        *few_shards(comparison.clusters),
        *_oracle_note(list(comparison.differences)),
    ]
    return _Section(f"Paired differences from `{comparison.baseline}`", notes, rows)


def _group_difference_table(comparison: Comparison) -> _Section:
    """Each difference within the onboarded and the cold-start personas, side by side."""
    groups = list(comparison.group_differences)
    rows = [["metric", "arm", *(f"{g}: difference [95% CI], p (Holm)" for g in groups)]]
    for arm, diffs in comparison.differences.items():
        by_group = {
            g: {d.metric: d for d in comparison.group_differences[g].get(arm, [])} for g in groups
        }
        for d in ordered(diffs):
            cells = []
            for g in groups:
                found = by_group[g].get(d.metric)
                if found is None or found.role == "untested":
                    cells.append(format_difference(found) if found else "n/a")
                    continue
                mark = {"better": " ▲", "worse": " ▼"}.get(verdict(found), "")
                mark = mark or (" •" if found.flagged else "")
                cells.append(f"{format_difference(found)}, {p_equals(found.adjusted)}{mark}")
            rows.append([METRICS[d.metric].label, _arm_heading(arm), *cells])
    note = (
        "The same paired differences within each persona group (onboarded: named topics at "
        "sign-up; cold start: named none), shards resampled as above and each group corrected "
        "as its own family: a change can help one group and hurt the other. ▲ better, ▼ worse, "
        "• different after the correction."
    )
    return _Section("Paired differences by persona group", [note], rows)


def few_shards(clusters: int) -> list[str]:
    """A warning when too few shards make every interval wide (t on clusters − 1 df)."""
    if clusters >= 10:
        return []
    if clusters < 2:
        return [
            "Only one shard: no interval and no p-value, only point differences. Run more "
            "personas or seeds, or a smaller --shard-size, for intervals."
        ]
    return [
        f"Only {clusters} shards: a t interval on {clusters - 1} degree"
        f"{'s' if clusters > 2 else ''} of freedom is very wide (clipped to the range a "
        "metric can take) and means little; little can be flagged. Run more personas or seeds, "
        "or a smaller --shard-size (10 shards or more)."
    ]


def ordered(diffs: list[Difference]) -> list[Difference]:
    """Primary first, then guardrails, then the rest, untested last (each in metric order)."""
    rank = {"primary": 0, "guardrail": 1, "secondary": 2, "untested": 3}
    return sorted(diffs, key=lambda d: rank.get(d.role, 2))


def format_p(p: float) -> str:
    if not np.isfinite(p):
        return ""
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def p_equals(p: float) -> str:
    """``p=0.012`` or ``p<0.001`` beside a difference ("" without a p-value)."""
    text = format_p(p)
    return "" if not text else f"p{text}" if text.startswith("<") else f"p={text}"


def detectable_effect(comparison: Comparison, arm: str) -> str:
    """One sentence: the smallest primary difference this run would find 80% of the time."""
    mde = comparison.mde.get(arm, float("nan"))
    if not np.isfinite(mde) or comparison.baseline is None:
        return f"{arm}: not enough shards to say what effect the run could detect."
    primary = comparison.primary
    base = comparison.summary()[comparison.baseline][primary]
    relative = f" ({100 * mde / abs(base):.0f}% of {format_value(primary, base)})" if base else ""
    spec = comparison.experiment.spec
    return (
        f"{arm}: with {spec.users * spec.replicates} personas in {comparison.clusters} shards, "
        f"a true difference of ±{format_value(primary, mde).replace('%', ' pp')}{relative} in "
        f"{METRICS[primary].label.lower()} is found 80% of the time; smaller ones mostly are not."
    )


def _power(comparison: Comparison) -> _Section:
    lines = [detectable_effect(comparison, arm) for arm in comparison.differences]
    return _Section("What this run could detect", lines)


def _per_seed_table(comparison: Comparison) -> _Section:
    primary = comparison.primary
    rows = [["arm", "seed", comparison.baseline or "", "arm's value", "difference"]]
    for arm, seeds in comparison.per_seed.items():
        for row in seeds:
            rows.append(
                [
                    arm,
                    f"{row['seed']:.0f}",
                    format_value(primary, row["a"]),
                    format_value(primary, row["b"]),
                    _signed(primary, row["diff"]),
                ]
            )
    note = (
        f"{METRICS[primary].label} seed by seed (seeds are independent populations): the "
        "pooled verdict deserves trust when the seeds agree on the sign."
    )
    return _Section("Primary metric per seed", [note], rows)


def _signed(metric: str, value: float) -> str:
    if not np.isfinite(value):
        return "n/a"
    if METRICS[metric].unit == "%":
        return f"{100 * value:+.2f} pp"
    return f"{value:+.3g}"


def _arm_heading(arm: str) -> str:
    return f"{arm} †" if arm == ORACLE else arm


def _marked(comparison: Comparison, arm: str, metric: str, text: str) -> str:
    """A value, marked "(ref.)" where it is the oracle's on a metric it does not aim at."""
    marked = comparison.reference_only(arm, metric) and text != "n/a"
    return f"{text} (ref.)" if marked else text


def _oracle_note(arms: list[str]) -> list[str]:
    return [f"† {ORACLE_NOTE} Marked (ref.): its reference-only values."] if ORACLE in arms else []


def _calibration(arms: list[str], summary: dict[str, dict[str, float]]) -> _Section:
    rows = [["rate per impression", "KuaiRand-Pure", *arms]]
    for key, target in CALIBRATION.items():
        rows.append(
            [
                METRICS[key].label,
                format_value(key, target),
                *(format_value(key, summary[a][key]) for a in arms),
            ]
        )
    note = "Simulated viewers are calibrated against the default engine (engine/sim/README.md)."
    return _Section("Calibration", [note], rows)


def _pools(comparison: Comparison) -> _Section:
    first = next(iter(comparison.measures.values()))
    pools = len(first.pool_reach)
    rows = [["arm", *(f"pool {k + 1}" for k in range(pools))]]
    for arm, m in comparison.measures.items():
        rows.append([arm, *(f"{x:.1f}" for x in m.pool_reach)])
    note = "Fresh videos reaching each staged test pool, mean per shard (pool 1 = admitted)."
    return _Section("Staged-pool reach", [note], rows)


def _markdown(sections: list[_Section]) -> str:
    lines: list[str] = []
    for i, s in enumerate(sections):
        lines += [("# " if i == 0 else "## ") + s.title, ""]
        for p in s.paragraphs:
            lines += [p, ""]
        if s.table:
            header, *body = s.table
            lines.append("| " + " | ".join(header) + " |")
            lines.append("|" + "---|" * len(header))
            lines += ["| " + " | ".join(row) + " |" for row in body]
            lines.append("")
        for file, caption in s.images:
            lines += [f"![{caption}]({file})", ""]
    return "\n".join(lines)


def _html(sections: list[_Section]) -> str:
    parts = ["<!doctype html>", '<html><head><meta charset="utf-8">']
    parts.append(f"<title>{html.escape(sections[0].title)}</title>")
    parts.append(
        "<style>body{font-family:sans-serif;max-width:60em;margin:auto}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 8px}</style>"
    )
    parts.append("</head><body>")
    for i, s in enumerate(sections):
        tag = "h1" if i == 0 else "h2"
        parts.append(f"<{tag}>{html.escape(s.title.replace('`', ''))}</{tag}>")
        parts += [f"<p>{html.escape(p.replace('`', ''))}</p>" for p in s.paragraphs]
        if s.table:
            header, *body = s.table
            cells = "".join(f"<th>{html.escape(h)}</th>" for h in header)
            parts.append(f"<table><tr>{cells}</tr>")
            for row in body:
                parts.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>")
            parts.append("</table>")
        for file, caption in s.images:
            alt = html.escape(caption)
            image = f'<img src="{html.escape(file)}" alt="{alt}">'
            parts.append(f"<figure>{image}<figcaption>{alt}</figcaption></figure>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


# -- charts --------------------------------------------------------------------------------


def write_charts(comparison: Comparison, out: Path) -> dict[str, str]:
    """Draw the charts as PNG files in ``out``; returns caption -> file name (the forest plot
    only when there are differences)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    charts = {
        "Learning curve: watch time per impression by position": (
            "learning_curve.png",
            _learning_curve,
        ),
        "Topic share over time": ("topic_share.png", _topic_share),
        "Learning and topic-share curves by persona group": ("groups.png", _group_curves),
        "Creator exposure Lorenz curve": ("lorenz.png", _lorenz),
        "Forest plot: each paired difference with its interval": ("forest.png", _forest),
    }
    written: dict[str, str] = {}
    for caption, (file, draw) in charts.items():
        if draw is _forest and not comparison.differences:
            continue
        fig = draw(plt, comparison)
        fig.savefig(out / file, dpi=110, metadata={"Software": None})
        plt.close(fig)
        written[caption] = file
    return written


def _learning_curve(plt: Any, comparison: Comparison) -> Any:
    fig, ax = plt.subplots(figsize=(7, 4))
    for arm, m in comparison.measures.items():
        if "position" in m.curves:
            _curve(ax, comparison, arm, "all", "watch_per_impression")
    ax.set_xlabel("position in the persona's feed (impressions)")
    ax.set_ylabel("watch time per impression (s)")
    _band_note(ax, comparison)
    ax.legend()
    fig.tight_layout()
    return fig


def _topic_share(plt: Any, comparison: Comparison) -> Any:
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    for arm, m in comparison.measures.items():
        if "position" in m.curves:
            _curve(left, comparison, arm, "all", "loved_share")
            _curve(right, comparison, arm, "all", "top_topic_share")
    left.set_title("share of the persona's true top topics")
    right.set_title("top-topic share per list of 10 (filter bubble)")
    for ax in (left, right):
        ax.set_xlabel("position in the persona's feed")
        ax.set_ylim(0, 1)
    _band_note(left, comparison)
    left.legend()
    fig.tight_layout()
    return fig


GROUP_CURVES = {
    "watch_per_impression": "watch time per impression (s)",
    "loved_share": "share of the persona's true top topics",
    "top_topic_share": "top-topic share per list of 10",
}


def _group_curves(plt: Any, comparison: Comparison) -> Any:
    fig, axes = plt.subplots(len(GROUP_CURVES), len(GROUPS), figsize=(11, 10), sharex=True)
    for col, group in enumerate(GROUPS):
        for arm, m in comparison.measures.items():
            if "position" in m.group_curves[group]:
                for row, key in enumerate(GROUP_CURVES):
                    _curve(axes[row, col], comparison, arm, group, key)
        for row, (key, title) in enumerate(GROUP_CURVES.items()):
            axes[row, col].set_title(f"{group}: {title}", fontsize=10)
            if key != "watch_per_impression":
                axes[row, col].set_ylim(0, 1)
        axes[-1, col].set_xlabel("position in the persona's feed")
    drawn = [ax for ax in axes[0] if ax.lines]  # a group may have no personas
    if drawn:
        drawn[0].legend()
        _band_note(drawn[0], comparison)
    fig.tight_layout()
    return fig


def _curve(ax: Any, comparison: Comparison, arm: str, group: str, key: str) -> None:
    """One arm's curve, over all personas or a group's, with its 95% band when there is one."""
    from engine.sim.metrics import CURVE_AXIS

    m = comparison.measures[arm]
    curves = m.curves if group == "all" else m.group_curves[group]
    x = curves[CURVE_AXIS[key]]
    (line,) = ax.plot(x, curves[key], label=arm)
    band = comparison.bands.get(arm, {}).get(group, {}).get(key)
    if band is not None and np.isfinite(band[0]).any():
        # A normal interval can pass what the curve can reach: seconds ≥ 0, shares in [0, 1].
        low = np.maximum(band[0], 0.0)
        high = band[1] if key == "watch_per_impression" else np.minimum(band[1], 1.0)
        ax.fill_between(x, low, high, color=line.get_color(), alpha=0.18, linewidth=0)


def _band_note(ax: Any, comparison: Comparison) -> None:
    if comparison.bands:
        ax.text(
            0.01, 0.01, f"bands: 95% pointwise, {comparison.clusters} shards resampled",
            transform=ax.transAxes, fontsize=7, color="#555",
        )  # fmt: skip


def _lorenz(plt: Any, comparison: Comparison) -> Any:
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", label="equal exposure")
    for arm, m in comparison.measures.items():
        counts = np.asarray(m.exposure.creators.sum(axis=0)).ravel()
        x, y = lorenz(counts)
        ax.plot(x, y, label=arm)
    ax.set_xlabel("share of creators (least exposed first)")
    ax.set_ylabel("share of impressions")
    ax.legend()
    fig.tight_layout()
    return fig


def _forest(plt: Any, comparison: Comparison) -> Any:
    """Each tested metric's difference from the baseline with its 95% interval, in percent of
    the baseline's value (the one scale seconds, rates and bits share); one panel per arm."""
    arms = list(comparison.differences)
    rows = max((len(_forest_rows(ds)) for ds in comparison.differences.values()), default=1)
    fig, axes = plt.subplots(
        1,
        max(len(arms), 1),
        figsize=(4.2 * max(len(arms), 1) + 2.2, 0.3 * rows + 1.6),
        squeeze=False,
        sharey=True,
    )
    for ax, arm in zip(axes[0], arms, strict=False):
        drawn = _forest_rows(comparison.differences[arm])
        edge = _forest_edge(drawn)
        for y, (d, centre, low, high) in enumerate(drawn):
            colour = {"better": "#2a9d4a", "worse": "#c8372d"}.get(verdict(d), "#4c72b0")
            colour = colour if d.flagged else "#8c8c8c"
            ax.plot([max(low, -edge), min(high, edge)], [y, y], color=colour, linewidth=2)
            ax.plot([np.clip(centre, -edge, edge)], [y], "o", color=colour, markersize=4)
            for end, marker in ((low, "<"), (high, ">")):  # an interval past the axis
                if abs(end) > edge:
                    ax.plot([np.sign(end) * edge], [y], marker, color=colour, markersize=5)
        ax.set_xlim(-edge * 1.05, edge * 1.05)
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_yticks(range(len(drawn)), [_forest_label(d) for d, *_ in drawn], fontsize=8)
        ax.invert_yaxis()
        ax.set_title(_arm_heading(arm), fontsize=10)
        ax.set_xlabel(f"difference from {comparison.baseline}, % of its value")
    fig.suptitle(
        f"{100 * CONFIDENCE:.0f}% intervals before correction (arrows: they go on past the "
        "axis)\ncoloured where the Holm-corrected p ≤ 0.05: green better, red worse, blue just "
        "different",
        fontsize=8,
    )
    fig.tight_layout()
    return fig


def _forest_rows(diffs: list[Difference]) -> list[tuple[Difference, float, float, float]]:
    rows = []
    for d in ordered(diffs):
        if d.role == "untested" or not (np.isfinite(d.a) and d.a != 0 and np.isfinite(d.low)):
            continue
        scale = 100 / abs(d.a)
        rows.append((d, d.diff * scale, d.low * scale, d.high * scale))
    return rows


def _forest_edge(rows: list[tuple[Difference, float, float, float]]) -> float:
    """Half-width of the forest's axis: every estimate, and most intervals whole, so that one
    rare event's huge interval (a comment rate from a handful of comments) does not flatten
    the rest; the intervals it cuts end in an arrow."""
    if not rows:
        return 1.0
    centres = [abs(c) for _, c, _, _ in rows]
    ends = [max(abs(lo), abs(hi)) for _, _, lo, hi in rows]
    edge = max(max(centres), float(np.quantile(ends, 0.8)))
    return edge * 1.1 if edge > 0 else 1.0


def _forest_label(d: Difference) -> str:
    label = METRICS[d.metric].label
    return f"{label} ({d.role})" if d.role in ("primary", "guardrail") else label
