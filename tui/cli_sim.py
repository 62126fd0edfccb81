"""Simulation commands: `simulate` (one config among its references) and `compare` (paired).

Both only parse arguments, show progress and print tables; the simulation, the statistics and
the report live in ``engine.sim``. The statistics (scipy.stats, ~0.5 s to import) and the
charts load inside the commands, so other `foryou` commands do not pay for them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from engine.sim.backends import BackendError
from engine.sim.baselines import resolve_arm, resolve_arms, with_references
from engine.sim.experiment import DEFAULT_SHARD_SIZE, Experiment, RunSpec, run_experiment
from engine.sim.runner import Arm
from tui.cli import db_option, policy_option, policy_params_option, user_errors

if TYPE_CHECKING:  # scipy.stats, matplotlib and rich load only when a command runs
    from rich.table import Table

    from engine.policy import PolicySpec
    from engine.sim.comparison import Comparison


REPORTS = Path("reports")  # where a run's files go without --out, one folder per run


def _at_least(minimum: int) -> Callable[[click.Context, click.Parameter, int], int]:
    """An option callback that refuses a value below ``minimum`` while the arguments are parsed
    (before anything runs), with a one-line error naming the flag."""

    def check(ctx: click.Context, param: click.Parameter, value: int) -> int:
        if value < minimum:
            raise click.ClickException(f"{param.opts[0]} must be at least {minimum}, got {value}")
        return value

    return check


def _common(command: Callable[..., Any]) -> Callable[..., Any]:
    """Options every simulation command takes."""
    options = [
        db_option,
        click.option(
            "--users",
            default=50,
            show_default=True,
            callback=_at_least(1),
            help="Personas per seed.",
        ),
        click.option(
            "--sessions",
            default=3,
            show_default=True,
            callback=_at_least(1),
            help="Sessions per persona.",
        ),
        click.option(
            "--seed",
            default=0,
            show_default=True,
            callback=_at_least(0),
            help="Root seed of the personas.",
        ),
        click.option(
            "--jobs", default=1, show_default=True, callback=_at_least(1), help="Worker processes."
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
            callback=_at_least(1),
            help="Personas sharing one engine (changes results; --jobs does not).",
        ),
        click.option(
            "--baselines/--no-baselines",
            default=True,
            show_default=True,
            help="Also run the random and oracle references.",
        ),
        click.option(
            "--out",
            type=click.Path(file_okay=False, path_type=Path),
            default=None,
            help="Output folder [./reports/<timestamp>].",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


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


def _run(spec: RunSpec, arms: list[Arm]) -> Experiment:
    from engine.sim.snapshot import shared_world
    from tui.progress import stage_progress

    spec.check()
    shared_world(spec.db_path)  # a missing or foreign file is refused before any progress bar
    with stage_progress(f"Simulating {spec.users * spec.replicates} personas") as progress:
        return run_experiment(spec, arms, progress)


@click.command()
@_common
@click.option(
    "--config",
    "config_spec",
    default="engine",
    show_default=True,
    help="Ranking TOML, or a built-in: engine, random, popular, oracle, bandit.",
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
    console.print(f"Metrics written to {path}")


@click.command()
@click.argument("configs", nargs=-1, required=True)
@_common
@click.option(
    "--seeds",
    default=3,
    show_default=True,
    callback=_at_least(1),
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
    callback=_at_least(1),
    help="Bootstrap resamples.",
)
@click.option("--log", is_flag=True, help="Write the simulated activity into the world file.")
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
    policy_params: Path | None,
) -> None:
    """Compare ranking configs on the same personas and seeds (paired).

    CONFIGS are ranking TOML files, built-ins (engine, random, popular, oracle, bandit) or policy
    classes (FILE.py:Class, package.module:Class, with --policy-params); differences are taken
    from the first one, with bootstrap 95% confidence intervals.
    """
    from rich.console import Console

    from engine.sim.comparison import compare as compare_runs
    from engine.sim.report import write_report

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
        comparison = compare_runs(experiment, baseline=tested[0].name, n_resamples=resamples)
    console = Console()
    console.print(metrics_table(comparison))
    console.print(groups_table(comparison))
    console.print(predictions_table(comparison))
    console.print(differences_table(comparison))

    def write(folder: Path) -> Path:
        _write_metrics(comparison, experiment, folder)
        return write_report(comparison, folder, fmt)  # type: ignore[arg-type]

    console.print(f"Report written to {_save(out, write)}")


def _save(out: Path | None, write: Callable[[Path], Path]) -> Path:
    """Let ``write`` fill a scratch folder, then move its files into ``out`` (or a new
    ./reports/<timestamp> folder); returns where the file ``write`` returned ended up.

    A failure or Ctrl+C while writing leaves no folder and no half-written report behind.
    """
    from engine.sim.report import move_files, new_folder, scratch_folder

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


def metrics_table(comparison: Comparison) -> Table:
    """Every metric per arm, with placement and calibration targets."""
    from rich.table import Table

    from engine.sim.metrics import CALIBRATION, METRICS
    from engine.sim.report import format_value

    summary = comparison.summary()
    arms = list(summary)
    table = Table(
        title="Simulated viewers",
        title_justify="left",
        caption=_oracle_caption(arms),
        caption_justify="left",
    )
    table.add_column("metric")
    for arm in arms:
        table.add_column(_arm_heading(arm), justify="right")
    table.add_column("KuaiRand", justify="right", style="dim")
    placement = comparison.placement()
    if placement:
        cells = [f"{placement[a]:.2f}" for a in arms]
        table.add_row("placement (random 0, oracle 1)", *cells, "", style="bold")
    for key, metric in METRICS.items():
        target = format_value(key, CALIBRATION[key]) if key in CALIBRATION else ""
        cells = [_cell(comparison, a, key, format_value(key, summary[a][key])) for a in arms]
        table.add_row(metric.label, *cells, target)
    return table


def groups_table(comparison: Comparison) -> Table:
    """Every metric per arm, split into onboarded and cold-start personas ("onboarded · cold")."""
    from rich.table import Table

    from engine.sim.metrics import GROUPS, METRICS
    from engine.sim.report import format_value

    by_group = {g: comparison.summary(g) for g in GROUPS}
    arms = list(comparison.measures)
    sizes = next(iter(comparison.measures.values())).group_sizes()
    table = Table(
        title="By persona group: onboarded · cold start",
        title_justify="left",
        caption=f"{sizes['onboarded']} personas named topics at sign-up, "
        f"{sizes['cold']} named none (cold start).",
        caption_justify="left",
    )
    table.add_column("metric")
    for arm in arms:
        table.add_column(_arm_heading(arm), justify="right")
    placements = {g: comparison.placement(g) for g in GROUPS}
    if all(placements.values()):
        cells = [" · ".join(f"{placements[g][a]:.2f}" for g in GROUPS) for a in arms]
        table.add_row("placement (random 0, oracle 1)", *cells, style="bold")
    for key, metric in METRICS.items():
        cells = [
            _cell(
                comparison,
                a,
                key,
                " · ".join(format_value(key, by_group[g][a][key]) for g in GROUPS),
            )
            for a in arms
        ]
        table.add_row(metric.label, *cells)
    return table


def predictions_table(comparison: Comparison) -> Table:
    """Per action and persona group: mean predicted / observed, ECE and AUC of each arm."""
    from rich.table import Table

    from engine.sim.calibration import N_BINS

    table = Table(
        title="Predictions: mean P / observed · ECE · AUC",
        title_justify="left",
        caption=f"ECE over {N_BINS} equal-width bins of P; AUC ranks P against what happened "
        "(0.5 = chance). n/a: the arm predicts nothing.",
        caption_justify="left",
    )
    table.add_column("action")
    table.add_column("personas")
    arms = list(comparison.measures)
    for arm in arms:
        table.add_column(arm, justify="right")
    first = next(iter(comparison.measures.values()))
    for action in next(iter(first.predictions.values())):
        for group in first.predictions:
            cells = [
                _prediction_cell(comparison.measures[a].predictions[group][action]) for a in arms
            ]
            table.add_row(action if group == "all" else "", group, *cells)
    return table


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


def differences_table(comparison: Comparison) -> Table:
    """Each arm's paired difference from the baseline, marked when the interval excludes 0."""
    from rich.table import Table

    from engine.sim.metrics import METRICS
    from engine.sim.report import format_difference, verdict

    table = Table(
        title=f"Paired differences from {comparison.baseline} (95% CI)",
        title_justify="left",
        caption=_oracle_caption(list(comparison.differences)),
        caption_justify="left",
    )
    table.add_column("metric")
    for arm in comparison.differences:
        table.add_column(_arm_heading(arm), justify="right")
    by_arm = {arm: {d.metric: d for d in ds} for arm, ds in comparison.differences.items()}
    for key, metric in METRICS.items():
        if any(key not in by_arm[arm] for arm in comparison.differences):
            continue  # a derived metric: no interval
        cells = []
        for arm in comparison.differences:
            d = by_arm[arm][key]
            mark = {"better": "[green]▲[/]", "worse": "[red]▼[/]"}.get(verdict(d), "")
            mark = mark or ("•" if d.excludes_zero else "")
            cells.append(_cell(comparison, arm, key, f"{format_difference(d)} {mark}".rstrip()))
        table.add_row(metric.label, *cells)
    return table


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
    cells = ", ".join(f"{arm} " + " → ".join(f"{x:.0f}" for x in r) for arm, r in reach.items())
    console.print(
        f"Fresh videos reaching test pools 1 → {len(next(iter(reach.values())))}: {cells}"
    )


def _print_throughput(console: Any, experiment: Experiment) -> None:
    for name, t in _throughput(experiment).items():
        console.print(
            f"[dim]{name}: {t['impressions']:,.0f} impressions, {t['events']:,.0f} events in "
            f"{t['wall_s']:.1f} s ({t['events_per_s']:,.0f} events/s)[/]"
        )
