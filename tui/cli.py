"""The `foryou` command group: parses arguments and hands off; the work lives in engine/ and seed/.

The world's own commands (seed, feed, info, metadata) live here; the others live in
``cli_engine``, ``cli_sim`` and ``cli_study`` and are registered below. Options and error
handling they all share live in :mod:`tui.cli_options`, so no command module imports this one.
Textual costs ~0.3 s to import, so only the commands that open the app import it.
Errors surface as click's one-line ``Error: ...`` with a non-zero exit.
"""

from __future__ import annotations

import errno
import importlib
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from tui.cli_options import (
    STUDY_RUN,
    FiniteFloat,
    bounded,
    db_option,
    output_file,
    policy_option,
    refuse_study_bundle,
    require_terminal,
    user_errors,
)

if TYPE_CHECKING:
    from engine.policy import PolicySpec

DEFAULT_VIDEOS = 20_000

# The commands of the other modules, by name (click lists every command alphabetically in
# --help). Each module loads when its command runs or help lists them: `foryou feed` does not
# pay for the simulator (~35 ms of its start) or the evaluation commands.
LAZY_COMMANDS = {
    "recommend": "tui.cli_engine:recommend",
    "explain": "tui.cli_engine:explain",
    "config": "tui.cli_engine:config",
    "boost": "tui.cli_engine:boost",
    "simulate": "tui.cli_sim:simulate",
    "compare": "tui.cli_sim:compare",
    "sweep": "tui.cli_sim:sweep",
    "study": "tui.cli_study:study",
    "export": "tui.cli_study:export",
    "replay": "tui.cli_study:replay",
    "evaluate": "tui.cli_eval:evaluate",
    "offline-eval": "tui.cli_eval:offline_eval",
    "import": "tui.cli_import:import_command",
    "tour": "tui.cli_tour:tour",
}


class LazyGroup(click.Group):
    """A command group whose commands in other modules are imported when first asked for, and
    whose usage errors (a bad value, an unknown option, a missing argument) are one line.

    Click prints a usage error after the command's usage line and a `--help` hint: three lines
    where every other refusal of foryou is one. The group sees every error of the command line
    (its own options', its commands' and their subcommands'), so the two lines go here, once.
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in LAZY_COMMANDS:
            module, name = LAZY_COMMANDS[cmd_name].split(":")
            self.add_command(getattr(importlib.import_module(module), name), cmd_name)
        return super().get_command(ctx, cmd_name)

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        with one_line_usage_errors():
            return super().make_context(info_name, args, parent, **extra)

    def invoke(self, ctx: click.Context) -> Any:
        with one_line_usage_errors(), one_line_os_errors():
            return super().invoke(ctx)


@contextmanager
def one_line_usage_errors() -> Iterator[None]:
    """Show a usage error as `Error: ...` alone: click prints the usage and the hint only when
    the error carries its context. A group run with no command still shows its help."""
    try:
        yield
    except click.exceptions.NoArgsIsHelpError:
        raise
    except click.UsageError as error:
        error.ctx = None
        raise


@contextmanager
def one_line_os_errors() -> Iterator[None]:
    """A file the system refuses (a full disk, a folder that cannot hold files) as one
    `Error: ...` line naming it, not a traceback. Each command keeps its own promise about what
    a failed write leaves (reports and exports appear whole or not at all, :mod:`engine.folders`);
    this only words the failure. A closed pipe stays click's to handle (`foryou info | head`)."""
    try:
        yield
    except OSError as exc:
        if exc.errno == errno.EPIPE:
            raise
        reason = exc.strerror or str(exc)
        named = f"{exc.filename}: {reason}" if exc.filename else reason
        raise click.ClickException(named) from None


@click.group(cls=LazyGroup, invoke_without_command=True)
@db_option
@click.pass_context
def main(ctx: click.Context, db_path: Path) -> None:
    """foryou: a terminal "For You" feed lab.

    Run without a command to open the feed on the default world (built on first run).
    """
    if ctx.invoked_subcommand is None:
        ensure_world(db_path)
        ctx.invoke(feed, db_path=db_path, user=None)


def ensure_world(db_path: Path) -> None:
    """Build the default demo world when the file does not exist yet."""
    if db_path.exists():
        return
    click.echo(f"No world at {db_path} yet: building the default one ({DEFAULT_VIDEOS:,} videos).")
    build_world(
        db_path, videos=DEFAULT_VIDEOS, creators=None, seed=42, force=False, background=False
    )


def build_world(
    db_path: Path,
    *,
    videos: int,
    creators: int | None,
    seed: int,
    force: bool,
    background: bool,
) -> None:
    from seed.build import build_world as build
    from seed.build import plan_world
    from tui.progress import stage_progress

    with user_errors():
        plan_world(db_path, videos=videos, creators=creators, seed=seed, force=force)
        with stage_progress(f"Seeding {db_path}") as progress:
            build(
                db_path,
                videos=videos,
                creators=creators,
                seed=seed,
                force=force,
                progress=progress,
                background=background,
            )


def _world_size(ctx: click.Context, param: click.Parameter, value: int | None) -> int | None:
    """Refuse a world size out of range as a usage error (exit status 2)."""
    from seed.spec import MAX_VIDEOS, MIN_CREATORS, MIN_VIDEOS  # seed is slow to import

    if param.name == "videos":
        return bounded(MIN_VIDEOS, MAX_VIDEOS)(ctx, param, value)
    return bounded(MIN_CREATORS)(ctx, param, value)


@main.command()
@db_option
@click.option(
    "--videos",
    default=DEFAULT_VIDEOS,
    show_default=True,
    callback=_world_size,
    help="Number of videos.",
)
@click.option(
    "--creators",
    type=int,
    default=None,
    callback=_world_size,
    help="Number of creators [videos / 20].",
)
@click.option("--seed", default=42, show_default=True, help="Root seed: same seed, same world.")
@click.option("--force", is_flag=True, help="Replace an existing foryou world.")
@click.option(
    "--background-viewers/--no-background-viewers",
    default=False,
    show_default=True,
    help="Let 64 simulated background viewers teach the world's learned model as it is built "
    "(receipts give real chances from the first pick; the feed narrows more slowly).",
)
def seed(
    db_path: Path,
    videos: int,
    creators: int | None,
    seed: int,
    force: bool,
    background_viewers: bool,
) -> None:
    """Generate a synthetic world into a new SQLite file."""
    started = time.perf_counter()
    build_world(
        db_path,
        videos=videos,
        creators=creators,
        seed=seed,
        force=force,
        background=background_viewers,
    )
    click.echo(f"Built {db_path} in {time.perf_counter() - started:.1f} s.")


@main.command()
@db_option
@click.option(
    "--user", default=None, help="Open this viewer's feed directly [ask who is watching]."
)
@click.option(
    "--autopilot",
    "persona",
    is_flag=False,
    flag_value="0",
    default=None,
    metavar="[PERSONA]",
    help="A simulated persona watches and reacts on its own: PERSONA is a seed (default 0) or "
    "a topic it loves (cooking, BookTok, ...). It watches as the simulated viewer "
    "autopilot-PERSONA; any key but p v w i x d , ? q takes over and asks who is watching.",
)
@click.option(
    "--autopilot-pace",
    "pace_s",
    type=FiniteFloat(min=0.1, max=10.0),
    default=1.0,
    show_default=True,
    metavar="SECONDS",
    help="Seconds each autopilot key cap stays lit and each of its prompts stays up (at 1×).",
)
@policy_option
def feed(
    db_path: Path, user: str | None, persona: str | None, pace_s: float, policy: PolicySpec | None
) -> None:
    """Watch the feed: one video at a time, reacting with single keys."""
    from engine.claims import ViewerClaimedError
    from engine.policy import BrokenPolicyError
    from tui.app import make_app

    refuse_study_bundle(
        db_path,
        "the plain feed would show its participants and record outside the study",
        STUDY_RUN,
    )
    autopilot = None
    if persona is not None:
        from tui.autopilot import AutopilotSettings  # loads the simulator: only when asked

        autopilot = AutopilotSettings(persona=persona, pace_s=pace_s)
    with user_errors():
        try:
            app = make_app(db_path, user, autopilot=autopilot, policy=policy)
        except ValueError as exc:
            if autopilot is not None or isinstance(exc, ViewerClaimedError | BrokenPolicyError):
                raise  # its messages say what to do instead
            raise ValueError(f"{exc}; leave out --user to pick or create a viewer") from None
    require_terminal(app.engine.close)
    app.run()
    if app.return_code:
        raise SystemExit(app.return_code)


@main.command()
@db_option
def info(db_path: Path) -> None:
    """Describe a world: counts per topic, durations, languages, countries, flags."""
    from engine.store import Store
    from tui.world_info import print_summary

    with user_errors(), Store.open(db_path) as store:
        print_summary(db_path, store.summary())


@main.command()
@db_option
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    callback=output_file(),
    help="Write here instead of standard output.",
)
def metadata(db_path: Path, out: Path | None) -> None:
    """Print Datasette metadata (table and column descriptions) for a world.

    Use it as: foryou metadata --out metadata.json && datasette foryou.db -m metadata.json
    """
    from engine.codebook import datasette_metadata
    from engine.folders import whole_file
    from engine.store import Store

    with user_errors(), Store.open(db_path) as store:
        text = datasette_metadata(store.table_names(), db_path.stem)
    if out is None:
        click.echo(text)
    else:
        with whole_file(out) as scratch:
            scratch.write_text(text + "\n", encoding="utf-8")
