"""Writing an experiment down: metrics JSON, a Markdown or HTML report, and PNG charts.

Charts use matplotlib's Agg backend, imported only when a report is written (a simulation that
only prints a table never pays for it), and are saved without a "Software" stamp so the same
run gives the same bytes. Numbers are formatted here once, for the report and the terminal.

A run's files are written into a scratch folder and moved into place only once all of them are
written, so a run that fails or is interrupted half-way leaves nothing half-written behind.
"""

from __future__ import annotations

import html
import json
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from engine.sim.calibration import N_BINS, Calibration
from engine.sim.comparison import ORACLE, ORACLE_NOTE, PLACEMENT_METRIC, Comparison
from engine.sim.metrics import CALIBRATION, GROUPS, METRICS, lorenz
from engine.sim.stats import CONFIDENCE, Difference
from engine.store.permissions import PRIVATE_DIR, PRIVATE_FILE

Format = Literal["md", "html"]
CHART_METRICS = (
    "watch_per_session",
    "completion",
    "like",
    "session_depth",
    "loved_share",
    "intra_list_diversity",
    "topic_entropy",
    "catalog_coverage",
    "creator_gini",
)
CAVEATS = (
    "Ratio metrics get paired bootstrap (BCa) intervals over personas: each persona meets the "
    "same truth and random numbers under every arm.",
    "Coverage and Gini count distinct videos and creators, which resampling with replacement "
    "biases downward; they get a paired delete-one-persona jackknife interval instead.",
    "Personas in one shard share an engine (its trends, engagement counts and test pools), so "
    "pairs are not perfectly independent; intervals may be a little narrow.",
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
    """``+1.2% [+0.4%, +2.0%]``, with percent metrics in percentage points."""
    unit = METRICS[d.metric].unit

    def signed(x: float) -> str:
        if not np.isfinite(x):
            return "n/a"
        if unit == "%":
            return f"{100 * x:+.2f} pp"
        return f"{x:+.3g}"

    return f"{signed(d.diff)} [{signed(d.low)}, {signed(d.high)}]"


def verdict(d: Difference) -> str:
    """How a reader should take a difference: better, worse, or just different."""
    if not d.excludes_zero:
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


# -- where the files go ---------------------------------------------------------------------


@contextmanager
def scratch_folder(parent: Path) -> Iterator[Path]:
    """A new hidden folder in ``parent`` (the same disk as the files' destination, so moving
    them is a rename), removed with whatever is still in it when the block ends."""
    parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".foryou-", dir=parent))
    try:
        yield scratch
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def new_folder(base: Path) -> Path:
    """Create ``base``, or ``base-2``, ``base-3``... when it is taken; returns the one created.

    Creating (not checking) is what claims a name, so two runs never share a folder.
    """
    folder, n = base, 1
    while True:
        try:
            folder.mkdir(parents=True, mode=PRIVATE_DIR)
            return folder
        except FileExistsError:
            n += 1
            folder = base.with_name(f"{base.name}-{n}")


def move_files(source: Path, folder: Path) -> None:
    """Move every file of ``source`` into ``folder`` (created if missing), replacing any file
    of the same name there; other files in ``folder`` stay. A folder created here and the
    files moved are readable by their owner only (made so while still in the scratch folder,
    which ``tempfile.mkdtemp`` makes 0700)."""
    folder.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
    for file in sorted(source.iterdir()):
        file.chmod(PRIVATE_FILE)
        file.replace(folder / file.name)


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
    rows = [["metric", "arm", f"difference from {comparison.baseline} [{level} CI]", "verdict"]]
    for arm, diffs in comparison.differences.items():
        for d in diffs:
            difference = _marked(comparison, arm, d.metric, format_difference(d))
            rows.append([METRICS[d.metric].label, _arm_heading(arm), difference, verdict(d)])
    notes = _oracle_note(list(comparison.differences))
    return _Section(f"Paired differences from `{comparison.baseline}`", notes, rows)


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
    """Draw the charts as PNG files in ``out``; returns caption -> file name."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    charts = {
        "Learning curve: watch time per impression by position": (
            "learning_curve.png",
            _learning_curve,
        ),
        "Topic share over time": ("topic_share.png", _topic_share),
        "Learning and loved-topic share by persona group": ("groups.png", _group_curves),
        "Creator exposure Lorenz curve": ("lorenz.png", _lorenz),
        f"Metrics with {100 * CONFIDENCE:.0f}% CIs of the paired difference": (
            "metric_cis.png",
            _metric_bars,
        ),
    }
    written: dict[str, str] = {}
    for caption, (file, draw) in charts.items():
        fig = draw(plt, comparison)
        fig.savefig(out / file, dpi=110, metadata={"Software": None})
        plt.close(fig)
        written[caption] = file
    return written


def _learning_curve(plt: Any, comparison: Comparison) -> Any:
    fig, ax = plt.subplots(figsize=(7, 4))
    for arm, m in comparison.measures.items():
        if "position" in m.curves:
            ax.plot(m.curves["position"], m.curves["watch_per_impression"], label=arm)
    ax.set_xlabel("position in the persona's feed (impressions)")
    ax.set_ylabel("watch time per impression (s)")
    ax.legend()
    fig.tight_layout()
    return fig


def _topic_share(plt: Any, comparison: Comparison) -> Any:
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    for arm, m in comparison.measures.items():
        if "position" in m.curves:
            left.plot(m.curves["position"], m.curves["loved_share"], label=arm)
            right.plot(m.curves["list_position"], m.curves["top_topic_share"], label=arm)
    left.set_title("share of the persona's true top topics")
    right.set_title("top-topic share per list of 10 (filter bubble)")
    for ax in (left, right):
        ax.set_xlabel("position in the persona's feed")
        ax.set_ylim(0, 1)
    left.legend()
    fig.tight_layout()
    return fig


def _group_curves(plt: Any, comparison: Comparison) -> Any:
    fig, axes = plt.subplots(2, len(GROUPS), figsize=(11, 7), sharex=True)
    for col, group in enumerate(GROUPS):
        for arm, m in comparison.measures.items():
            curves = m.group_curves[group]
            if "position" in curves:
                axes[0, col].plot(curves["position"], curves["watch_per_impression"], label=arm)
                axes[1, col].plot(curves["position"], curves["loved_share"], label=arm)
        axes[0, col].set_title(f"{group}: watch time per impression (s)")
        axes[1, col].set_title(f"{group}: share of the persona's true top topics")
        axes[1, col].set_ylim(0, 1)
        axes[1, col].set_xlabel("position in the persona's feed")
    drawn = [ax for ax in axes[0] if ax.lines]  # a group may have no personas
    if drawn:
        drawn[0].legend()
    fig.tight_layout()
    return fig


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


def _metric_bars(plt: Any, comparison: Comparison) -> Any:
    arms = list(comparison.measures)
    summary = comparison.summary()
    diffs = {arm: {d.metric: d for d in ds} for arm, ds in comparison.differences.items()}
    cols = 3
    rows = -(-len(CHART_METRICS) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(12, 3 * rows))
    for ax, key in zip(axes.ravel(), CHART_METRICS, strict=False):
        values = [summary[a][key] for a in arms]
        errors = np.zeros((2, len(arms)))
        for i, arm in enumerate(arms):
            d = diffs.get(arm, {}).get(key)
            if d is not None and np.isfinite(d.low) and np.isfinite(d.high):
                # A BCa bound can sit a hair past its estimate (float noise when every resample
                # agrees), and matplotlib refuses a negative error bar.
                errors[:, i] = np.maximum([d.diff - d.low, d.high - d.diff], 0.0)
        # The oracle's bar is grey where it is a reference, not a bound (ORACLE_NOTE).
        colours = ["#aaaaaa" if comparison.reference_only(a, key) else "#4c72b0" for a in arms]
        ax.bar(range(len(arms)), values, yerr=errors, capsize=4, color=colours)
        ax.set_xticks(range(len(arms)), arms, rotation=20, fontsize=8)
        ax.set_title(METRICS[key].label, fontsize=9)
    for ax in axes.ravel()[len(CHART_METRICS) :]:
        ax.axis("off")
    level = f"{100 * CONFIDENCE:.0f}%"
    title = f"error bars: {level} CI of the paired difference from {comparison.baseline}"
    if ORACLE in arms:
        title += "\ngrey: the oracle, a reference, not a bound (it aims at watch time only)"
    fig.suptitle(title)
    fig.tight_layout()
    return fig
