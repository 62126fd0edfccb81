"""Study and data commands: `study init|run|status|forget|merge`, `export`, `replay`
(`evaluate` is in :mod:`tui.cli_eval`).

They parse arguments and print; the work lives in ``engine.study``, ``engine.export``,
``engine.replay``. The interactive `study run` (consent to
completion code) is the Textual app's (:mod:`tui.study_app`), built on
:class:`engine.study.StudyBundle`.
"""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from engine.config import load_config
from engine.policy import PolicySpec
from engine.text import printable
from engine.video import Video
from tui.cli_options import (
    config_path_option,
    db_option,
    output_file,
    output_folder,
    policy_option,
    require_terminal,
    user_errors,
)


@click.group()
def study() -> None:
    """Run user studies: one SQLite bundle per study (world, configs, definition, logs)."""


@study.command("init")
@click.argument("definition", type=click.Path(dir_okay=False, path_type=Path))
@db_option
@click.option("--force", is_flag=True, help="Replace an existing foryou file.")
def study_init(definition: Path, db_path: Path, force: bool) -> None:
    """Make a study bundle from a study TOML: world, configs and definition in one file."""
    from engine.store import check_target
    from engine.study import create_bundle, load_study
    from seed.build import build_world
    from tui.progress import stage_progress

    with user_errors():
        spec = load_study(definition)
        check_target(db_path, force=force)
        text = definition.read_text(encoding="utf-8")
        world = spec.world
        with stage_progress(f"Building the world of {spec.name!r}") as progress:
            # The study's rows go into the world's own temporary file before its rename, so
            # a bundle appears whole or not at all, and a killed init leaves only a locked
            # temporary file that the next build beside it removes.
            build_world(
                db_path,
                videos=world.videos,
                creators=world.creators,
                seed=world.seed,
                force=force,
                progress=progress,
                finish=lambda tmp: create_bundle(tmp, spec, text),
            )
    names = printable(", ".join(c.name for c in spec.conditions))
    click.echo(
        f"Made {db_path}: study {spec.name!r}, {len(spec.conditions)} conditions ({names}), "
        f"{spec.world.videos:,} videos (seed {spec.world.seed})."
    )


@study.command("status")
@db_option
def study_status(db_path: Path) -> None:
    """Participants per condition, completed, and median duration."""
    from engine.study import open_bundle

    with user_errors(), open_bundle(db_path) as bundle:
        status = bundle.status()
    table = Table(title=Text(printable(f"study {status.study!r}")), title_justify="left")
    headings = ("condition", "allocated", "in feed", "after feed", "completed", "median duration")
    # A condition's name is kept whole on its line (up to 30 characters); the headings wrap.
    longest = max((len(printable(c.name)) for c in status.conditions), default=9)
    table.add_column("condition", min_width=min(max(longest, 9), 30))
    for heading in headings[1:]:
        table.add_column(heading, justify="right")
    for c in status.conditions:
        median = "-" if c.median_duration_s is None else f"{c.median_duration_s / 60:.1f} min"
        name = Text(printable(c.name))  # from the study file: no escapes, no markup
        counts = (c.allocated, c.in_feed, c.after_feed, c.completed)
        table.add_row(name, *map(str, counts), median)
    console = Console()
    console.print(table)
    console.print(f"declined consent: {status.declined}; completed: {status.completed}")


@study.command("forget")
@click.argument("participant")
@db_option
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def study_forget(participant: str, db_path: Path, yes: bool) -> None:
    """Delete every row about one participant (their viewer, sessions, events, answers)."""
    from engine.study import open_bundle

    if not yes:
        click.confirm(f"Delete everything recorded about {participant}?", abort=True)
    with user_errors(), open_bundle(db_path) as bundle:
        deleted = bundle.forget(participant)
    rows = ", ".join(f"{n} {table}" for table, n in deleted.items() if n)
    click.echo(
        f"Forgot {participant}: removed {rows}; exports made before still hold {participant}."
    )


@study.command("run")
@db_option
@click.option(
    "--participant",
    required=True,
    help="The participant's pseudonymous code (e.g. P017, A3F9, p-017): letters, digits, '-' "
    "or '_', with a digit and never four letters in a row; never a name or an e-mail address.",
)
def study_run(db_path: Path, participant: str) -> None:
    """One participant's way through the study, from consent to completion code.

    A second run with the same id continues where the first stopped; after a declined consent
    or a completed study it is refused.
    """
    from tui.study_app import make_study_app

    with user_errors():
        app = make_study_app(db_path, participant)
    require_terminal(app.bundle.close)
    app.run()
    if app.return_code:
        raise SystemExit(app.return_code)
    if app.outcome == "completed":
        code = printable(app.completion_code or "")
        click.echo(f"{participant} completed the study: completion code {code}.")
    elif app.outcome == "declined":
        click.echo(f"{participant} declined consent; nothing else was recorded.")
    else:
        click.echo(f"{participant} stopped before the end; run the same command again to continue.")


@study.command("merge")
@click.argument("bundles", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    callback=output_file(),
    help="The merged bundle to write (must not exist; its folder must).",
)
def study_merge(bundles: tuple[Path, ...], out_path: Path) -> None:
    """Merge bundles of one study from several lab stations into one file."""
    from engine.study import merge_bundles

    with user_errors():
        counts = merge_bundles(bundles, out_path)
    click.echo(
        f"Merged {len(bundles)} bundles into {out_path}: {counts['participants']} participants, "
        f"{counts['sessions']} sessions, {counts['impressions']} impressions, "
        f"{counts['events']} events."
    )


@click.command()
@db_option
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    callback=output_folder,
    help="Directory to write (created if missing).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "jsonl", "parquet"]),
    default="csv",
    show_default=True,
    help="parquet needs pyarrow: pip install 'foryou[parquet]'.",
)
@click.option("--force", is_flag=True, help="Overwrite files of an earlier export.")
def export(db_path: Path, out_dir: Path, fmt: str, force: bool) -> None:
    """Export every table, receipts and a codebook describing every column."""
    from engine.export import export_tables

    with user_errors():
        counts = export_tables(db_path, out_dir, fmt, force=force)
    click.echo(
        f"Exported {len(counts)} tables ({sum(counts.values()):,} rows) to {out_dir} as {fmt}; "
        f"codebook: {out_dir / 'codebook.md'}"
    )


def _label(videos: dict[int, Video], video_id: int | None) -> str:
    if video_id is None:
        return "(nothing eligible)"
    video = videos[video_id]
    return escape(printable(f"{video_id} · {video.topic_name} · @{video.creator_handle}"))


@click.command()
@click.argument("session_id", type=int)
@db_option
@config_path_option("Also show what this ranking config would have picked at each step.")
@policy_option
def replay(
    session_id: int, db_path: Path, config_path: Path | None, policy: PolicySpec | None
) -> None:
    """Rebuild the exact feed a session saw, and check it against the log.

    Exits with status 1 when a replayed pick differs from the logged one (another world,
    another foryou version, or a history this file does not fully hold).
    """
    from engine.replay import replay_session

    with user_errors():
        other = None if config_path is None else load_config(config_path)
        result = replay_session(db_path, session_id, other, policy)
    picked_by = "" if result.picked_by is None else f" · picked by {result.picked_by}"
    title = Text(printable(f"session {session_id} · config {result.config_name!r}{picked_by}"))
    table = Table(title=title, box=None)
    table.add_column("#", justify="right")
    table.add_column("logged video")
    table.add_column("replay", justify="center")
    if result.compared is not None:
        table.add_column(f"{result.compare_name} would pick")
        table.add_column(f"P({result.compare_name} shows logged)", justify="right")
    for i, pick in enumerate(result.picks):
        same = "[green]✓[/]" if pick.picked_video == pick.logged_video else "[red]✗[/]"
        row = [str(pick.position), _label(result.videos, pick.logged_video), same]
        if result.compared is not None:
            other_pick = result.compared[i]
            row += [_label(result.videos, other_pick.picked_video), f"{other_pick.probability:.3f}"]
        table.add_row(*row)
    console = Console()
    console.print(table)
    mismatch = result.first_mismatch
    if mismatch is None:
        console.print(f"All {len(result.picks)} picks reproduced exactly.")
        return
    console.print(
        f"Mismatch at position {mismatch.position}: logged video {mismatch.logged_video}, "
        f"replay picked {mismatch.picked_video} ({result.matches} of {len(result.picks)} "
        "match): the world, the foryou version or the recorded history differs"
        + (
            ", and the policy's file changed since (another SHA-256)."
            if result.policy_changed
            else "."
        )
    )
    for note in _why_inexact(db_path, session_id):
        console.print(note)
    raise SystemExit(1)


def _why_inexact(db_path: Path, session_id: int) -> list[str]:
    """What the file's history cannot say about this session (a simulation's shards)."""
    from engine.replay import REFITTED_NOTE, UNSHARDED_NOTE, refitted_sessions, unsharded_sessions
    from engine.store import Store
    from engine.store.timeline import Timeline

    with user_errors(), Store.open(db_path, check=False) as store:
        timeline = Timeline(store.db)
        notes = [
            note.format(n=1).replace("1 sessions come", "This session comes")
            for note, found in (
                (UNSHARDED_NOTE, unsharded_sessions(timeline, [session_id])),
                (REFITTED_NOTE, refitted_sessions(timeline, [session_id])),
            )
            if found
        ]
    return notes
