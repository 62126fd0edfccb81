"""`foryou import`: a real dataset (MovieLens, KuaiRand, a generic CSV) as a new world file.

Only parses arguments; the readers and the assembly live in :mod:`seed.importers`.
"""

from __future__ import annotations

import time
from pathlib import Path

import click

from tui.cli_options import FiniteFloat, OneLineChoice, db_option, user_errors


@click.command("import")
@db_option
@click.argument("format_name", metavar="FORMAT", type=OneLineChoice(
    ["movielens", "kuairand-features", "kuairand-log", "csv"]
))  # fmt: skip
@click.argument("path", type=click.Path(path_type=Path))
@click.option(
    "--log",
    "log_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="csv only: an interaction log (user, item, timestamp[, watched_s, rating, label]).",
)
@click.option(
    "--history-until",
    type=FiniteFloat(min=0.0, max=1.0, min_open=True),
    default=0.8,
    show_default=True,
    help="Share of each viewer's log (earliest first) kept as history; the rest is held out.",
)
@click.option("--seed", default=42, show_default=True, help="Seed of the synthetic fields.")
@click.option("--force", is_flag=True, help="Replace an existing foryou world.")
def import_command(
    db_path: Path,
    format_name: str,
    path: Path,
    log_path: Path | None,
    history_until: float,
    seed: int,
    force: bool,
) -> None:
    """Build a world from real data: FORMAT PATH is one of

    movielens DIR, kuairand-features DIR_OR_CSV, kuairand-log TSV, csv ITEMS.csv [--log LOG].
    The log's viewers come with their history (marked imported); the later part of each
    viewer's log is held out in the heldout table, which the engine never reads.
    """
    from engine.store import check_target
    from seed.importers import build_imported, read_dataset
    from tui.progress import stage_progress

    started = time.perf_counter()
    with user_errors():
        # Refusals first, before any progress bar: the target, then every file of the dataset.
        check_target(db_path, force=force)
        catalogue, events = read_dataset(format_name, path, log=log_path)
        with stage_progress(f"Importing {path.name}") as progress:
            imported = build_imported(
                format_name,
                catalogue,
                events,
                db_path,
                history_until=history_until,
                seed=seed,
                force=force,
                progress=progress,
            )
    history = imported.history
    click.echo(
        f"Built {db_path} from {path} in {time.perf_counter() - started:.1f} s: "
        f"{len(imported.world.videos):,} videos in {len(imported.world.topics)} topics, "
        f"{len(history.users):,} imported viewers ({len(history.impressions):,} viewings, "
        f"{len(history.events):,} events; {len(history.heldout):,} held out)."
    )
