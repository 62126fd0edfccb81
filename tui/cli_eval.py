"""Evaluation commands: `evaluate` (off-policy, on a file's logs) and `offline-eval`
(offline ranking metrics on a file's logged impressions).

They parse arguments and print; the work lives in ``engine.counterfactual``,
``engine.offpolicy`` and ``engine.offline``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from engine.config import load_config
from engine.offpolicy import METHODS, Estimate
from engine.policy import PolicySpec
from engine.text import printable
from tui.cli_options import (
    FiniteFloat,
    IntegerRange,
    config_path_option,
    db_option,
    output_file,
    policy_option,
    user_errors,
)

DEFAULT_METHODS = ("IPS", "SNIPS", "DR", "DRos")
SESSION_NOTE = (
    "Per session: each session read as a slate of positions (logged = the logging policy's "
    "own mean; independent = per-impression IPS × the logged length; cascade = per-position "
    "weight products; session-IPS = the whole session's weight product). Products of weights "
    "are high-variance and collapse to 0 where the target leaves the logged support. "
    "pseudo-inverse = the session total × (Σ weights − positions + 1), Swaminathan et al.'s "
    "form for independently picked positions: it goes below 0 by design whenever the "
    "target's weights sum to under positions − 1, so a negative value means the target "
    "rarely makes the logged picks, not a negative total (a reference only)."
)


@click.command()
@db_option
@config_path_option(
    "The ranking config to evaluate on the logged impressions [defaults with --policy]."
)
@click.option("--session", "sessions", type=int, multiple=True, help="Only these sessions.")
@policy_option
@click.option(
    "--estimator",
    "estimators",
    multiple=True,
    type=click.Choice([*METHODS, "all"], case_sensitive=False),
    help=f"Estimator, repeatable [{', '.join(DEFAULT_METHODS)}].",
)
@click.option(
    "--clip",
    type=FiniteFloat(min=0.0, min_open=True),
    default=None,
    help="Cap on every importance weight [no cap].",
)
@click.option("--json", "as_json", is_flag=True, help="Print every estimate as JSON.")
@click.option(
    "--validate",
    is_flag=True,
    help="Check against simulation: personas watch a copy of the --db world under "
    "--logging-config (logged), the target is estimated from those logs, then simulated on "
    "the same personas; the truth is printed beside every estimate. The file is not written.",
)
@click.option(
    "--logging-config",
    "logging_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="With --validate: the config that logs [built-in defaults].",
)
@click.option(
    "--users",
    type=IntegerRange(1, 100_000),
    default=400,
    show_default=True,
    help="With --validate: personas (one session each).",
)
@click.option(
    "--seed",
    type=IntegerRange(min=0),
    default=0,
    show_default=True,
    help="With --validate: the personas' seed.",
)
def evaluate(
    db_path: Path,
    config_path: Path | None,
    sessions: tuple[int, ...],
    policy: PolicySpec | None,
    estimators: tuple[str, ...],
    clip: float | None,
    as_json: bool,
    validate: bool,
    logging_path: Path | None,
    users: int,
    seed: int,
) -> None:
    """Off-policy estimates of a config's (or a policy's) completion, watch fraction and like
    rate per impression, and of its totals per session."""
    from engine.counterfactual import REFITTED_NOTE, UNSHARDED_NOTE, estimate_from_logs
    from engine.counterfactual import validate as validate_by_simulation

    if config_path is None and policy is None:
        raise click.ClickException("evaluate needs --config, --policy or both")
    if not validate and (logging_path is not None):
        raise click.ClickException("--logging-config needs --validate")
    if validate and sessions:
        raise click.ClickException("--session cannot be used with --validate")
    methods = _methods(estimators)
    truth: dict[str, float] | None = None
    meta: dict[str, Any] = {}
    with user_errors():
        config = load_config(config_path)
        if validate:
            check = validate_by_simulation(
                db_path,
                load_config(logging_path),
                config,
                policy=policy,
                users=users,
                seed=seed,
                methods=methods,
                clip=clip,
            )
            result, truth = check.evaluation, check.truth
            meta = {
                "users": users,
                "seed": seed,
                "seconds": round(check.seconds, 1),
                "logging_config": str(logging_path) if logging_path else "defaults",
                "logging_simulated": check.logged,
            }
        else:
            result = estimate_from_logs(
                db_path,
                config,
                sessions=sessions or None,
                policy=policy,
                methods=methods,
                clip=clip,
            )
    what = f"config {result.config_name!r}" if policy is None else f"policy {policy.label!r}"
    if as_json:
        click.echo(json.dumps(_as_json(result, what, db_path, clip, truth, meta), indent=2))
        return
    _print(result, what, db_path, methods, truth, meta)
    if result.unsharded:
        Console().print(f"Warning: {UNSHARDED_NOTE.format(n=result.unsharded)}")
    if result.refitted:
        Console().print(f"Warning: {REFITTED_NOTE.format(n=result.refitted)}")


def _methods(chosen: tuple[str, ...]) -> list[str]:
    by_lower = {m.lower(): m for m in METHODS}
    if any(c.lower() == "all" for c in chosen):
        return list(METHODS)
    picked = [by_lower[c.lower()] for c in chosen] or list(DEFAULT_METHODS)
    return list(dict.fromkeys(picked))


def _half(e: Estimate) -> str:
    return f"{e.value:.3f} ±{(e.high - e.low) / 2:.3f}"


def _print(
    result: Any,
    what: str,
    db_path: Path,
    methods: list[str],
    truth: dict[str, float] | None,
    meta: dict[str, Any],
) -> None:
    console = Console()
    where = (
        f"simulated logs of {meta['users']} personas (seed {meta['seed']})"
        if meta
        else (f"the logs of {db_path}")
    )
    warnings: list[str] = []
    for est in result.outcomes.values():
        warnings += [w for w in est.warnings if w not in warnings]
    console.print(_impression_table(result, f"{what} on {where}", truth))
    first = next(iter(result.outcomes.values()))
    console.print(
        f"{result.impressions:,} watched impressions in {first.sessions} sessions "
        f"({result.left_out} served but not watched or without a propensity left out); "
        "± = half-width of the 95% interval, clustered by session."
    )
    console.print(_session_table(result, truth))
    console.print(SESSION_NOTE)
    for warning in warnings:
        console.print(f"Warning: {warning}")
    if meta:
        console.print(
            f"Truth: the target simulated on the same {meta['users']} personas "
            f"({meta['seconds']} s in all)."
        )


def _impression_table(result: Any, title: str, truth: dict[str, float] | None) -> Any:
    """Estimates per impression; folded into several tables rather than cutting a number at
    80 columns (every column repeats the outcome)."""
    from tui.fold_table import FoldColumn, FoldingTable

    outcomes = list(result.outcomes)
    found = list(result.outcomes.values())
    first = found[0]
    columns = [FoldColumn("logged", [_half(est.logged) for est in found])]
    columns += [FoldColumn(m, [_half(est.methods[m]) for est in found]) for m in first.methods]
    if truth:
        columns.append(FoldColumn("truth", [f"{truth[o]:.3f}" for o in outcomes]))
    columns.append(FoldColumn("ESS", [f"{est.effective_sample_size:,.0f}" for est in found]))
    columns.append(FoldColumn("never picked", [f"{est.unsupported:.0%}" for est in found]))
    return FoldingTable(
        title,
        [FoldColumn("outcome", [escape(o) for o in outcomes], justify="left")],
        [[column] for column in columns],
    )


def _session_table(result: Any, truth: dict[str, float] | None) -> Any:
    """Totals per session by slate form, folded like :func:`_impression_table`."""
    from tui.fold_table import FoldColumn, FoldingTable

    outcomes = list(result.sessions)
    forms = list(next(iter(result.sessions.values())))
    columns = [
        FoldColumn(form, [_session_half(result.sessions[o][form]) for o in outcomes])
        for form in forms
    ]
    if truth:
        columns.append(FoldColumn("truth", [f"{truth[o]:,.2f}" for o in outcomes]))
    return FoldingTable(
        "per session",
        [FoldColumn("outcome", [escape(o) for o in outcomes], justify="left")],
        [[column] for column in columns],
    )


def _session_half(e: Estimate) -> str:
    return f"{e.value:,.2f} ±{(e.high - e.low) / 2:,.2f}"


def _estimate_json(e: Estimate) -> dict[str, float]:
    return {"value": e.value, "std_error": e.std_error, "low": e.low, "high": e.high}


def _as_json(
    result: Any,
    what: str,
    db_path: Path,
    clip: float | None,
    truth: dict[str, float] | None,
    meta: dict[str, Any],
) -> dict[str, Any]:
    outcomes = {}
    for outcome, est in result.outcomes.items():
        outcomes[outcome] = {
            "n": est.n,
            "sessions": est.sessions,
            "effective_sample_size": est.effective_sample_size,
            "mean_weight": est.mean_weight,
            "unsupported": est.unsupported,
            "max_weight": est.max_weight,
            "warnings": list(est.warnings),
            "logged": _estimate_json(est.logged),
            "estimates": {m: _estimate_json(e) for m, e in est.methods.items()},
            **({"truth": truth[outcome]} if truth else {}),
        }
    sessions = {
        outcome: {
            "estimates": {m: _estimate_json(e) for m, e in by_form.items()},
            **({"truth": truth[outcome]} if truth else {}),
        }
        for outcome, by_form in result.sessions.items()
    }
    return {
        "target": what,
        "db": str(db_path),
        "impressions": result.impressions,
        "left_out": result.left_out,
        "clip": clip,
        "outcomes": outcomes,
        "sessions": sessions,
        **({"validation": meta} if meta else {}),
    }


@click.command("offline-eval")
@db_option
@config_path_option("Ranking config whose numbers the policy uses [built-in defaults].")
@policy_option
@click.option(
    "--split",
    type=FiniteFloat(0.0, 1.0, min_open=True, max_open=True),
    default=None,
    help="Share of each viewer's impressions (in time order) the engine learns from [0.8]. "
    "Refused for an imported world: `foryou import --history-until` set its held-out rows.",
)
@click.option(
    "--k",
    type=IntegerRange(min=1),
    default=10,
    show_default=True,
    help="Cut-off of NDCG@k and recall@k.",
)
@click.option(
    "--negatives",
    type=IntegerRange(min=1),
    default=100,
    show_default=True,
    help="Unseen videos sampled per viewer to rank the held-out positives among.",
)
@click.option(
    "--seed",
    type=IntegerRange(min=0),
    default=0,
    show_default=True,
    help="Seed of the negative sampling.",
)
@click.option(
    "--replay/--no-replay",
    default=True,
    show_default=True,
    help="Li et al.'s rejection replay over the held-out rows in time order.",
)
@click.option(
    "--curve/--no-curve",
    default=True,
    show_default=True,
    help="The learning curve: hit@k of each viewer's next positive after 0, 5, 10, 20, 50 "
    "and 100+ of their viewings.",
)
@click.option(
    "--plot",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    default=None,
    callback=output_file(".png"),
    help="Also draw the learning curve to this PNG.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the metrics as JSON.")
def offline_eval(
    db_path: Path,
    config_path: Path | None,
    policy: PolicySpec | None,
    split: float | None,
    k: int,
    negatives: int,
    seed: int,
    replay: bool,
    curve: bool,
    plot: Path | None,
    as_json: bool,
) -> None:
    """Offline metrics on the file's logs: AUC, log loss and calibration of P(complete) and
    P(like), NDCG@k / recall@k of held-out finished or liked videos after a time split, a
    rejection-replay estimate of the policy's like / finish / not-interested rates, and its
    learning curve."""
    import dataclasses

    from engine.offline import offline_eval as run

    if plot is not None and not curve:
        raise click.ClickException("--plot draws the learning curve: it cannot go with --no-curve")
    with user_errors():
        report = run(
            db_path,
            load_config(config_path),
            policy=policy,
            split=split,
            k=k,
            negatives=negatives,
            seed=seed,
            replay=replay,
            curve=curve,
        )
        if plot is not None:
            from engine.offline import plot_curves

            plot_curves({report.policy: report.curve}, plot, k=report.k)
    if as_json:
        click.echo(json.dumps(dataclasses.asdict(report), indent=2))
        return
    console = Console()
    table = Table(
        title=Text(printable(f"policy {report.policy!r}: offline metrics on {db_path}")), box=None
    )
    for heading in ("label", "held out", "positives", "AUC", "log loss", "ECE"):
        table.add_column(heading, justify="right")
    for p in report.predictions.values():
        table.add_row(
            p.label,
            f"{p.n:,}",
            f"{p.positives:,}",
            f"{p.auc:.3f}",
            f"{p.log_loss:.3f}",
            f"{p.ece:.3f}",
        )
    console.print(table)
    console.print(
        f"NDCG@{report.k} {report.ndcg:.3f}, recall@{report.k} {report.recall:.3f}: each of "
        f"{report.ranked_viewers} viewers' held-out finished or liked videos ranked among "
        f"{report.negatives} videos they never met. {report.viewers} viewers, "
        f"{_held_out_part(report)}. Log loss and ECE: nan for a policy without P(action) (its "
        "AUC is on its scores)."
    )
    if report.replay is not None:
        _print_replay(console, report.replay)
    if report.curve:
        _print_curve(console, report.curve, report.k, report.negatives)
    if plot is not None:
        console.print(f"Learning curve drawn to {printable(str(plot))}.")


def _held_out_part(report: Any) -> str:
    """What was held out, as the evaluation actually split it."""
    if not report.held_out_at_import:
        return f"last {1 - report.history_share:.0%} of each one's impressions held out"
    rows = f"{report.held_out:,} rows held out when the world was imported"
    if math.isnan(report.history_share):
        return rows
    return (
        f"{rows}: the last {1 - report.history_share:.0%} of each one's log "
        f"(--history-until {report.history_share:g})"
    )


def _rate(rate: Any) -> str:
    if rate.n == 0:
        return "-"
    return f"{rate.value:.3f} [{rate.low:.3f}, {rate.high:.3f}]"


def _print_replay(console: Console, estimate: Any) -> None:
    table = Table(title="rejection replay (Li et al.) over the held-out rows", box=None)
    for heading in ("trials", "matched", "like", "complete", "not interested"):
        table.add_column(heading, justify="right")
    rewards = estimate.rewards
    table.add_row(
        f"{estimate.trials:,}",
        f"{estimate.matched.hits:,} ({estimate.matched.value:.1%})",
        _rate(rewards["like"]),
        _rate(rewards["complete"]),
        _rate(rewards["not_interested"]),
    )
    console.print(table)
    console.print(
        f"A trial counts when the policy's top pick among the logged video and "
        f"{estimate.candidates - 1} it never met is the logged one (chance: "
        f"{1 / estimate.candidates:.1%}); rates among matched trials, [95% Wilson interval]. "
        "The logs were not chosen uniformly at random: the estimate favours policies that pick "
        "what the logger picked (README: Real data)."
    )


def _print_curve(console: Console, curve: Any, k: int, negatives: int) -> None:
    table = Table(title=f"learning curve: hit@{k} of the next positive", box=None)
    for heading in ("viewings seen", "viewers", f"hit@{k}", "95% interval"):
        table.add_column(heading, justify="right")
    for point in curve:
        hit = point.hit
        interval = "-" if hit.n == 0 else f"[{hit.low:.3f}, {hit.high:.3f}]"
        value = "-" if hit.n == 0 else f"{hit.value:.3f}"
        table.add_row(point.label, f"{hit.n:,}", value, interval)
    console.print(table)
    console.print(
        f"Before each re-lived viewing that was finished or liked, for each viewer's first such "
        f"viewing past each point: is it in the policy's top {k} among {negatives} videos the "
        "viewer never met?"
    )
