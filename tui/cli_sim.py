"""Simulation commands: `simulate` (one config among its references) and `compare` (paired).

Both only parse arguments, show progress and print tables; the simulation, the statistics and
the report live in ``engine.sim``. The statistics (scipy.stats, ~0.5 s to import) and the
charts load inside the commands, so other `foryou` commands do not pay for them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from engine.sim.backends import BackendError
from engine.sim.baselines import resolve_arm, resolve_arms, with_references
from engine.sim.experiment import DEFAULT_SHARD_SIZE, Experiment, RunSpec, run_experiment
from engine.sim.runner import Arm
from tui.cli_options import (
    bounded,
    db_option,
    output_folder,
    policy_option,
    policy_params_option,
    refuse_study_bundle,
    user_errors,
)

if TYPE_CHECKING:  # scipy.stats, matplotlib and rich load only when a command runs
    from engine.policy import PolicySpec
    from engine.sim.comparison import Comparison
    from tui.fold_table import FoldingTable


REPORTS = Path("reports")  # where a run's files go without --out, one folder per run
# Ceilings that keep a run in memory: a persona-session serves ~20 impressions, each a 45-byte
# trace row per config, plus the persona itself; 1M persona-sessions is ~1 GB of trace per
# config and, at a few hundred events/s per worker, already a day of work.
MAX_USERS = 100_000
MAX_SESSIONS = 1_000
MAX_SEEDS = 100
MAX_PERSONA_SESSIONS = 1_000_000


def _check_size(users: int, sessions: int, seeds: int = 1) -> None:
    """Refuse a run whose trace would not fit in memory, before anything is read or written:
    a usage error (exit status 2), like each of the three values out of its own range."""
    total = users * sessions * seeds
    if total > MAX_PERSONA_SESSIONS:
        raise click.UsageError(
            f"--users × --sessions{' × --seeds' if seeds > 1 else ''} = {total:,} "
            f"persona-sessions; at most {MAX_PERSONA_SESSIONS:,} fit in memory"
        )


def _common(command: Callable[..., Any]) -> Callable[..., Any]:
    """Options every simulation command takes."""
    options = [
        db_option,
        click.option(
            "--users",
            default=50,
            show_default=True,
            callback=bounded(1, MAX_USERS),
            help="Personas per seed.",
        ),
        click.option(
            "--sessions",
            default=3,
            show_default=True,
            callback=bounded(1, MAX_SESSIONS),
            help="Sessions per persona.",
        ),
        click.option(
            "--seed",
            default=0,
            show_default=True,
            callback=bounded(0),
            help="Root seed of the personas.",
        ),
        click.option(
            "--jobs", default=1, show_default=True, callback=bounded(1), help="Worker processes."
        ),
        click.option(
            "--backend",
            type=click.Choice(["process", "ray"]),
            default="process",
            show_default=True,
            help="Where shards run (ray: pip install 'foryou[ray]').",
        ),
        click.option(
            "--shard-size",
            default=DEFAULT_SHARD_SIZE,
            show_default=True,
            callback=bounded(1),
            help="Personas sharing one engine (changes results; --jobs does not).",
        ),
        click.option(
            "--out",
            type=click.Path(file_okay=False, path_type=Path),
            default=None,
            callback=output_folder,
            help="Output folder [./reports/<timestamp>].",
        ),
        click.option(
            "--force", is_flag=True, help="Replace the report already in --out (as export does)."
        ),
    ]

    @functools.wraps(command)
    def keeping_reports(*args: Any, out: Path | None, force: bool, **kwargs: Any) -> Any:
        # Checked before the run: a finished run's report is research output, never replaced
        # without asking (the run that would replace it may take an hour).
        earlier = None if out is None else out / "metrics.json"
        if earlier is not None and earlier.exists() and not force:
            raise click.ClickException(f"{earlier} exists; choose a new folder or pass --force")
        return command(*args, out=out, **kwargs)

    wrapped: Callable[..., Any] = keeping_reports
    for option in reversed(options):
        wrapped = option(wrapped)
    return wrapped


def _baselines(default: bool, why: str = "") -> Callable[[Callable[..., Any]], Any]:
    """--baselines/--no-baselines, on by default where a run is placed between the references."""
    return click.option(
        "--baselines/--no-baselines",
        default=default,
        show_default=True,
        help=f"Also run the random and oracle references.{why}",
    )


# The oracle filters the whole catalogue at every pick: on a 100k world it takes longer than
# every config compared, and configs compared with each other need no reference.
_OFF_FOR_COMPARISONS = " Off by default: the oracle filters the whole catalogue at every pick."


@contextmanager
def _sim_errors() -> Iterator[None]:
    with user_errors():
        try:
            yield
        except BackendError as exc:
            raise click.ClickException(str(exc)) from None
        except Exception as exc:
            if _after_ctrl_c(exc):  # e.g. a file that could not be closed cleanly mid-read
                raise KeyboardInterrupt from None  # click's one line, "Aborted!"
            raise


def _after_ctrl_c(error: BaseException | None) -> bool:
    """The error was raised while cleaning up after a Ctrl+C: the Ctrl+C is what to report."""
    while error is not None:
        if isinstance(error, KeyboardInterrupt):
            return True
        error = error.__context__
    return False


def refuse_logging_into_a_bundle(db_path: Path, instead: str) -> None:
    """Simulated viewers logged into a study bundle would sit beside its participants in every
    export and estimate: a logged run is refused there."""
    refuse_study_bundle(
        db_path, "a logged simulation would write simulated viewers into it", instead
    )


def _run(spec: RunSpec, arms: list[Arm]) -> Experiment:
    from engine import writers
    from engine.sim.snapshot import shared_world
    from engine.store.files import require_writable
    from tui.progress import stage_progress

    spec.check()
    shared_world(spec.db_path)  # a missing or foreign file is refused before any progress bar
    logs = spec.log and any(arm.log for arm in arms)
    if logs:
        require_writable(Path(spec.db_path))
    # So is a file another process writes (the run takes the same claim again, in this process).
    personas = spec.users * spec.replicates
    with (
        writers.alone(Path(spec.db_path)) if logs else nullcontext(),
        stage_progress(f"Simulating {personas} personas") as progress,
    ):
        return run_experiment(spec, arms, progress)


@click.command()
@_common
@_baselines(True)
@click.option(
    "--config",
    "config_spec",
    default="engine",
    show_default=True,
    help="Ranking TOML, or a built-in: engine, random, popular, oracle, bandit, itemknn, ceiling.",
)
@click.option("--no-log", is_flag=True, help="Keep the activity in memory (much faster).")
@policy_option
def simulate(
    db_path: Path,
    users: int,
    sessions: int,
    seed: int,
    jobs: int,
    backend: str,
    shard_size: int,
    baselines: bool,
    out: Path | None,
    config_spec: str,
    no_log: bool,
    policy: PolicySpec | None,
) -> None:
    """Let simulated viewers watch a world under one ranking config.

    Prints a metrics table (with the random and oracle references) and writes metrics.json.
    """
    from rich.console import Console

    from engine.sim.comparison import compare as compare_runs

    _check_size(users, sessions)
    if not no_log:
        refuse_logging_into_a_bundle(db_path, "add --no-log")
    with _sim_errors():
        arm = resolve_arm(config_spec)
        if policy is not None:  # the policy picks, with the config's numbers
            arm = Arm(policy.label, arm.config, policy)
        arms = with_references([arm]) if baselines else [arm]
        spec = RunSpec(
            db_path=db_path,
            users=users,
            sessions=sessions,
            seed=seed,
            jobs=jobs,
            log=not no_log,
            backend=backend,  # type: ignore[arg-type]
            shard_size=shard_size,
        )
        experiment = _run(spec, arms)
        comparison = compare_runs(experiment, bootstrap=False)
    console = Console()
    console.print(metrics_table(comparison))
    console.print(groups_table(comparison))
    console.print(predictions_table(comparison))
    _print_pools(console, comparison)
    _print_throughput(console, experiment)
    path = _save(out, lambda folder: _write_metrics(comparison, experiment, folder))
    console.print(f"Metrics written to {_shown(path)}")


@click.command()
@click.argument("configs", nargs=-1, required=True)
@_common
@_baselines(False, _OFF_FOR_COMPARISONS)
@click.option(
    "--seeds",
    default=3,
    show_default=True,
    callback=bounded(1, MAX_SEEDS),
    help="Independent persona populations.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["md", "html"]),
    default="md",
    show_default=True,
    help="Report format.",
)
@click.option(
    "--resamples",
    default=1999,
    show_default=True,
    callback=bounded(1),
    help="Shard-bootstrap resamples behind each standard error.",
)
@click.option("--log", is_flag=True, help="Write the simulated activity into the world file.")
@click.option(
    "--primary",
    default="watch_per_session",
    show_default=True,
    help="The metric the experiment is about (half the 5% error budget; its detectable effect).",
)
@policy_params_option
def compare(
    configs: tuple[str, ...],
    db_path: Path,
    users: int,
    sessions: int,
    seed: int,
    jobs: int,
    backend: str,
    shard_size: int,
    baselines: bool,
    out: Path | None,
    seeds: int,
    fmt: str,
    resamples: int,
    log: bool,
    primary: str,
    policy_params: Path | None,
) -> None:
    """Compare ranking configs on the same personas and seeds (paired).

    CONFIGS are ranking TOML files, built-ins (engine, random, popular, oracle, bandit,
    itemknn, ceiling) or policy classes (FILE.py:Class, package.module:Class, with
    --policy-params); differences are taken from the first one, with 95% t intervals on a
    shard-bootstrap standard error (shards − 1 degrees of freedom), clipped to the range a
    metric can take.
    """
    from rich.console import Console

    from engine.sim.comparison import compare as compare_runs
    from engine.sim.metrics import METRICS
    from engine.sim.report import write_report

    _check_size(users, sessions, seeds)
    if log:
        refuse_logging_into_a_bundle(db_path, "leave out --log")
    if primary not in METRICS:
        raise click.ClickException(
            f"--primary must be one of {', '.join(METRICS)}; got {primary!r}"
        )
    with _sim_errors():
        if len(configs) < 2:
            raise click.ClickException("compare needs at least two configs")
        tested = resolve_arms(configs, policy_params)
        arms = with_references(tested) if baselines else tested
        spec = RunSpec(
            db_path=db_path,
            users=users,
            sessions=sessions,
            seed=seed,
            replicates=seeds,
            jobs=jobs,
            log=log,
            backend=backend,  # type: ignore[arg-type]
            shard_size=shard_size,
        )
        experiment = _run(spec, arms)
        comparison = compare_runs(
            experiment, baseline=tested[0].name, n_resamples=resamples, primary=primary
        )
    console = Console()
    console.print(metrics_table(comparison))
    console.print(groups_table(comparison))
    console.print(predictions_table(comparison))
    console.print(differences_table(comparison))
    _print_power(console, comparison)

    def write(folder: Path) -> Path:
        _write_metrics(comparison, experiment, folder)
        return write_report(comparison, folder, fmt)  # type: ignore[arg-type]

    console.print(f"Report written to {_shown(_save(out, write))}")


def _parsed_grids(
    ctx: click.Context, param: click.Parameter, grids: tuple[str, ...]
) -> list[tuple[str, list[Any]]]:
    """Each --grid as (key, values), refused as a usage error while the command line is read:
    before --out is looked at, and before any world is opened."""
    from engine.sim.sweep import check_grids, parse_grid

    try:
        parsed = [parse_grid(g) for g in grids]
        check_grids(parsed)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    return parsed


@click.command()
@click.argument("base")
@click.option(
    "--grid",
    "grids",
    multiple=True,
    required=True,
    callback=_parsed_grids,
    help="KEY=V1,V2,... a config key and the values to try; several make their product.",
)
@click.option(
    "--random",
    "random_points",
    type=int,
    default=None,
    callback=bounded(1),
    help="Keep N random points.",
)
@_common
@_baselines(True)
@click.option(
    "--seeds", default=1, show_default=True, callback=bounded(1, MAX_SEEDS),
    help="Independent persona populations.",
)  # fmt: skip
@click.option(
    "--primary", default="watch_per_session", show_default=True,
    help="The metric on the chart's vertical axis (and the verdict's primary).",
)  # fmt: skip
@click.option(
    "--guardrail",
    type=click.Choice(["intra_list_diversity", "strong_negative", "new_creator_share"]),
    default="intra_list_diversity",
    show_default=True,
    help="The metric on the chart's horizontal axis.",
)
@click.option(
    "--resamples", default=999, show_default=True, callback=bounded(1),
    help="Bootstrap resamples.",
)  # fmt: skip
def sweep(
    base: str,
    grids: list[tuple[str, list[Any]]],
    random_points: int | None,
    db_path: Path,
    users: int,
    sessions: int,
    seed: int,
    jobs: int,
    backend: str,
    shard_size: int,
    baselines: bool,
    out: Path | None,
    seeds: int,
    primary: str,
    guardrail: str,
    resamples: int,
) -> None:
    """Run a grid of changes to a BASE config on the same personas (paired).

    BASE is a ranking TOML or a built-in; each --grid 'section.key=v1,v2' adds a dimension.
    Prints each point's primary metric and guardrail against the base, and writes sweep.md,
    metrics.json and pareto.png (primary against guardrail, the Pareto front marked).
    """
    import numpy as np
    from rich.console import Console

    from engine.sim.comparison import compare as compare_runs
    from engine.sim.metrics import METRICS
    from engine.sim.sweep import Sweep, grid_points, repeats_of_base, sweep_arms

    _check_size(users, sessions, seeds)
    if primary not in METRICS:
        raise click.ClickException(
            f"--primary must be one of {', '.join(METRICS)}; got {primary!r}"
        )
    with _sim_errors():
        try:
            points = grid_points(grids, random_points, np.random.default_rng(seed))
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
        base_arm = resolve_arm(base)
        tested = sweep_arms(base_arm, points)
        for name in repeats_of_base(base_arm.config, points):
            click.echo(f"Note: {name} is the base config's own setting: that arm repeats base.")
        arms = with_references(tested) if baselines else tested
        spec = RunSpec(
            db_path=db_path, users=users, sessions=sessions, seed=seed, replicates=seeds,
            jobs=jobs, log=False, backend=backend,  # type: ignore[arg-type]
            shard_size=shard_size,
        )  # fmt: skip
        experiment = _run(spec, arms)
        comparison = compare_runs(
            experiment, baseline="base", n_resamples=resamples, primary=primary
        )
    result = Sweep(
        comparison, {a.name: p for a, p in zip(tested, [{}, *points], strict=True)}, guardrail
    )
    console = Console()
    console.print(sweep_table(result))

    def write(folder: Path) -> Path:
        _write_metrics(comparison, experiment, folder)
        result.write_chart(folder / "pareto.png")
        path = folder / "sweep.md"
        path.write_text(sweep_markdown(result), encoding="utf-8")
        return path

    console.print(f"Sweep written to {_shown(_save(out, write))}")


def _sweep_cells(result: Any) -> tuple[list[str], list[list[str]]]:
    """Header and rows of a sweep's table, shared by the terminal and sweep.md."""
    import numpy as np

    from engine.sim.metrics import METRICS
    from engine.sim.report import format_p, format_value

    rows = result.rows()
    primary, guardrail = result.comparison.primary, result.guardrail
    header = [
        "arm",
        METRICS[primary].label,
        "Δ [95% CI]",
        "p (Holm)",
        METRICS[guardrail].label,
        "Δ [95% CI]",
        "p (Holm)",
        "Pareto",
    ]
    body = []
    for i, arm in enumerate(rows["arm"]):
        cells = [arm]
        for name, metric in (("primary", primary), ("guardrail", guardrail)):
            cells.append(format_value(metric, rows[name][i]))
            low, high = rows[f"{name}_low"][i], rows[f"{name}_high"][i]
            diff = rows[f"{name}_diff"][i]
            interval = f" [{_delta(metric, low)}, {_delta(metric, high)}]"
            no_interval = not (np.isfinite(low) and np.isfinite(high))  # one shard
            cells.append(
                "" if arm == "base" else _delta(metric, diff) + ("" if no_interval else interval)
            )
            cells.append(format_p(rows[f"{name}_p_holm"][i]))
        cells.append("◆" if rows["pareto"][i] else "")
        body.append(cells)
    return header, body


def _delta(metric: str, value: float) -> str:
    from engine.sim.report import format_difference
    from engine.sim.stats import Difference

    return format_difference(Difference(metric, 0, 0, value, 0, 0)).split(" [")[0]


def sweep_table(result: Any) -> FoldingTable:
    """The sweep's arms: primary and guardrail against the base, the Pareto front marked."""
    from engine.sim.report import few_shards
    from tui.fold_table import FoldColumn, FoldingTable, name_markup

    header, body = _sweep_cells(result)
    columns = [
        FoldColumn(name, [row[i] for row in body], justify="left" if i == 0 else "right")
        for i, name in enumerate(header)
    ]
    columns[0].cells = [name_markup(cell) for cell in columns[0].cells]
    columns[-1].justify = "left"
    return FoldingTable(
        "Sweep (paired with base; Holm-corrected p; ◆ Pareto front)",
        [columns[0], columns[-1]],  # the front's mark stays beside each arm's name
        [columns[1:4], columns[4:7]],
        caption=" ".join(few_shards(result.comparison.clusters)) or None,
    )


def sweep_markdown(result: Any) -> str:
    from engine.sim.report import few_shards

    header, body = _sweep_cells(result)
    spec = result.comparison.experiment.spec
    lines = [
        "# foryou sweep",
        "",
        f"World `{spec.db_path.name}`; {spec.users} personas × {spec.replicates} seed(s), up to "
        f"{spec.sessions} session(s); every arm differs from `base` only by its changes. "
        f"Resampled units: {result.comparison.clusters} shards.",
        *few_shards(result.comparison.clusters),
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *("| " + " | ".join(row) + " |" for row in body),
        "",
        "◆: on the Pareto front (no other arm is better on both the primary metric and the "
        "guardrail). p: weighted Holm over every metric of that arm's comparison with base.",
        "",
        "![Primary metric against the guardrail](pareto.png)",
        "",
    ]
    return "\n".join(lines)


def _save(out: Path | None, write: Callable[[Path], Path]) -> Path:
    """Let ``write`` fill a scratch folder, then move its files into ``out`` (or a new
    ./reports/<timestamp> folder); returns where the file ``write`` returned ended up.

    A failure or Ctrl+C while writing leaves no folder and no half-written report behind.
    """
    from engine.folders import move_files, new_folder, scratch_folder

    with scratch_folder(out.parent if out else REPORTS) as scratch:
        name = write(scratch).name
        folder = out or new_folder(REPORTS / datetime.now().strftime("%Y%m%d-%H%M%S"))
        move_files(scratch, folder)
    return folder / name


def _write_metrics(comparison: Comparison, experiment: Experiment, folder: Path) -> Path:
    from engine.sim.report import write_metrics_json

    path = folder / "metrics.json"
    write_metrics_json(comparison, path, {"throughput": _throughput(experiment)})
    return path


def metrics_table(comparison: Comparison) -> FoldingTable:
    """Every metric per arm, with placement and calibration targets."""
    from engine.sim.metrics import CALIBRATION, METRICS
    from engine.sim.report import format_value
    from tui.fold_table import FoldColumn, FoldingTable

    summary = comparison.summary()
    arms = list(summary)
    placement = comparison.placement()
    keys = list(METRICS)
    labels = (["placement (random 0, oracle 1)"] if placement else []) + [
        METRICS[k].label for k in keys
    ]
    blocks = []
    for arm in arms:
        cells = [f"{placement[arm]:.2f}"] if placement else []
        cells += [_cell(comparison, arm, k, format_value(k, summary[arm][k])) for k in keys]
        blocks.append([FoldColumn(_arm_heading(arm), cells)])
    targets = [format_value(k, CALIBRATION[k]) if k in CALIBRATION else "" for k in keys]
    blocks.append([FoldColumn("KuaiRand", ([""] if placement else []) + targets, style="dim")])
    return FoldingTable(
        "Simulated viewers",
        [FoldColumn("metric", labels, justify="left")],
        blocks,
        caption=_oracle_caption(arms),
        row_styles=(["bold"] if placement else []) + [""] * len(keys),
    )


def groups_table(comparison: Comparison) -> FoldingTable:
    """Every metric per arm, split into onboarded and cold-start personas ("onboarded · cold")."""
    from engine.sim.metrics import GROUPS, METRICS
    from engine.sim.report import format_value
    from tui.fold_table import FoldColumn, FoldingTable

    by_group = {g: comparison.summary(g) for g in GROUPS}
    arms = list(comparison.measures)
    sizes = next(iter(comparison.measures.values())).group_sizes()
    placements = {g: comparison.placement(g) for g in GROUPS}
    placed = all(placements.values())
    keys = list(METRICS)
    labels = (["placement (random 0, oracle 1)"] if placed else []) + [
        METRICS[k].label for k in keys
    ]
    blocks = []
    for arm in arms:
        cells = [" · ".join(f"{placements[g][arm]:.2f}" for g in GROUPS)] if placed else []
        cells += [
            _cell(
                comparison, arm, k, " · ".join(format_value(k, by_group[g][arm][k]) for g in GROUPS)
            )
            for k in keys
        ]
        blocks.append([FoldColumn(_arm_heading(arm), cells)])
    return FoldingTable(
        "By persona group: onboarded · cold start",
        [FoldColumn("metric", labels, justify="left")],
        blocks,
        caption=f"{sizes['onboarded']} personas named topics at sign-up, "
        f"{sizes['cold']} named none (cold start).",
        row_styles=(["bold"] if placed else []) + [""] * len(keys),
    )


def predictions_table(comparison: Comparison) -> FoldingTable:
    """Per action and persona group: mean predicted / observed, ECE and AUC of each arm."""
    from engine.sim.calibration import N_BINS
    from tui.fold_table import FoldColumn, FoldingTable

    arms = list(comparison.measures)
    first = next(iter(comparison.measures.values()))
    rows = [
        (action, group)
        for action in next(iter(first.predictions.values()))
        for group in first.predictions
    ]
    lead = [
        FoldColumn("action", [a if g == "all" else "" for a, g in rows], justify="left"),
        FoldColumn("personas", [g for _, g in rows], justify="left"),
    ]
    blocks = [
        [
            FoldColumn(
                arm,
                [_prediction_cell(comparison.measures[arm].predictions[g][a]) for a, g in rows],
            )
        ]
        for arm in arms
    ]
    return FoldingTable(
        "Predictions: mean P / observed · ECE · AUC",
        lead,
        blocks,
        caption=f"ECE over {N_BINS} equal-width bins of P; AUC ranks P against what happened "
        "(0.5 = chance). n/a: the arm predicts nothing.",
    )


def _prediction_cell(figures: Any) -> str:
    if figures is None:
        return "n/a"
    auc = "n/a" if figures.auc != figures.auc else f"{figures.auc:.2f}"
    return f"{figures.predicted:.3f}/{figures.observed:.3f} · {figures.ece:.3f} · {auc}"


def _arm_heading(arm: str) -> str:
    from engine.sim.comparison import ORACLE

    return f"{arm} †" if arm == ORACLE else arm


def _oracle_caption(arms: list[str]) -> str | None:
    """The dagger's meaning, under a table with an oracle column."""
    from engine.sim.comparison import ORACLE, ORACLE_NOTE

    return f"† {ORACLE_NOTE} Dimmed: its reference-only values." if ORACLE in arms else None


def _cell(comparison: Comparison, arm: str, metric: str, text: str) -> str:
    """A value, dimmed where it is the oracle's on a metric the oracle does not aim at."""
    return f"[dim]{text}[/]" if comparison.reference_only(arm, metric) else text


def differences_table(comparison: Comparison) -> FoldingTable:
    """Each arm's paired difference from the baseline: primary first, then guardrails, marked
    where the Holm-corrected p-value is at most 5%; untested metrics say why."""
    from engine.sim.metrics import METRICS
    from engine.sim.report import few_shards, format_difference, ordered, p_equals, verdict
    from tui.fold_table import FoldColumn, FoldingTable, Note

    caption = "▲ better, ▼ worse, • different (Holm-corrected p ≤ 0.05); p: Holm-corrected."
    caption = " ".join([caption, *few_shards(comparison.clusters)])
    oracle = _oracle_caption(list(comparison.differences))
    by_arm = {arm: {d.metric: d for d in ds} for arm, ds in comparison.differences.items()}
    first = next(iter(comparison.differences.values()))
    # A derived metric (the learning lift) has no interval in some arm: no row.
    rows = [d for d in ordered(first) if all(d.metric in by_arm[a] for a in by_arm)]
    labels = [
        METRICS[d.metric].label
        + (f" [bold]({d.role})[/]" if d.role in ("primary", "guardrail") else "")
        for d in rows
    ]
    blocks = []
    for arm in comparison.differences:
        cells: list[str] = []
        for row in rows:
            d = by_arm[arm][row.metric]
            if d.role == "untested":
                cells.append(Note(f"[dim]{format_difference(d)}[/]"))
                continue
            mark = {"better": "[green]▲[/]", "worse": "[red]▼[/]"}.get(verdict(d), "")
            mark = mark or ("•" if d.flagged else "")
            text = f"{format_difference(d)} {p_equals(d.adjusted)} {mark}".rstrip()
            cells.append(_cell(comparison, arm, row.metric, text))
        blocks.append([FoldColumn(_arm_heading(arm), cells)])
    return FoldingTable(
        f"Paired differences from {comparison.baseline} (95% CI before correction)",
        [FoldColumn("metric", labels, justify="left")],
        blocks,
        caption=f"{caption}\n{oracle}" if oracle else caption,
    )


def _print_power(console: Any, comparison: Comparison) -> None:
    from engine.sim.report import detectable_effect

    for arm in comparison.differences:
        console.print(_shown(detectable_effect(comparison, arm)))


def _throughput(experiment: Experiment) -> dict[str, dict[str, float]]:
    return {
        name: {
            "impressions": run.impressions,
            "events": run.events,
            "impressions_per_s": run.impressions / run.wall_s if run.wall_s else 0.0,
            "events_per_s": run.events / run.wall_s if run.wall_s else 0.0,
            "wall_s": run.wall_s,
        }
        for name, run in experiment.runs.items()
    }


def _print_pools(console: Any, comparison: Comparison) -> None:
    reach = {arm: m.pool_reach for arm, m in comparison.measures.items()}
    cells = ", ".join(
        f"{_shown(arm)} " + " → ".join(f"{x:.0f}" for x in r) for arm, r in reach.items()
    )
    console.print(
        f"Fresh videos reaching test pools 1 → {len(next(iter(reach.values())))}: {cells}"
    )


def _print_throughput(console: Any, experiment: Experiment) -> None:
    for name, t in _throughput(experiment).items():
        console.print(
            f"[dim]{_shown(name)}: {t['impressions']:,.0f} impressions, "
            f"{t['events']:,.0f} events in {t['wall_s']:.1f} s "
            f"({t['events_per_s']:,.0f} events/s)[/]"
        )


def _shown(text: object) -> str:
    """A name or path for a markup sentence: as typed, never read as markup."""
    from tui.fold_table import name_markup

    return name_markup(str(text))
