"""The `foryou` command line: parses arguments and hands off; the work lives in engine/ and seed/.

Textual costs ~0.3 s to import, so only the commands that open the app import it.
Errors surface as click's one-line ``Error: ...`` with a non-zero exit.
"""

from __future__ import annotations

import functools
import os
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click
from click.core import ParameterSource
from click.decorators import FC

from engine.store import StoreError
from engine.store.files import damage_message, is_damage

if TYPE_CHECKING:
    from engine.policy import PolicySpec

DEFAULT_DB = "foryou.db"
DEFAULT_VIDEOS = 20_000


def _group_db(ctx: click.Context, param: click.Parameter, value: Path) -> Path:
    """Let `foryou --db X command` reach the command: the group's --db is the default of every
    command under it, and giving both with different files is refused rather than guessed."""
    root = ctx.find_root()
    if root is ctx or root.get_parameter_source("db_path") is not ParameterSource.COMMANDLINE:
        return value
    group_db: Path = root.params["db_path"]
    given_here = ctx.get_parameter_source("db_path") is ParameterSource.COMMANDLINE
    if given_here and os.path.abspath(value) != os.path.abspath(group_db):
        raise click.ClickException(
            f"--db given twice with different files: {group_db} before the command, "
            f"{value} after it; give it once"
        )
    return group_db


_db_option = click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=lambda: os.environ.get("FORYOU_DB", DEFAULT_DB),
    show_default=f"$FORYOU_DB or {DEFAULT_DB}",
    callback=_group_db,
    help="The world's SQLite file (before or after the command).",
)


def db_option(command: FC) -> FC:
    """The ``--db`` option every command takes (a declared signature, so that the command
    modules this one imports at its end can be type-checked through the import cycle)."""
    return _db_option(command)


_policy_params_option = click.option(
    "--policy-params",
    "policy_params",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    metavar="TOML",
    help="Keyword parameters for a policy class (a TOML file).",
)
_policy_text_option = click.option(
    "--policy",
    "policy_text",
    default=None,
    metavar="SPEC",
    help="Who picks: a built-in (engine, random, popular), FILE.py:Class or "
    "package.module:Class, with the config's numbers [the config's policy].",
)


def policy_option(command: FC) -> FC:
    """``--policy SPEC`` and ``--policy-params TOML``, handed to the command as one ``policy``
    argument (a checked :class:`engine.policy.PolicySpec`, or None)."""

    @functools.wraps(command)
    def with_policy(
        *args: object, policy_text: str | None, policy_params: Path | None, **kwargs: object
    ) -> object:
        kwargs["policy"] = parse_policy(policy_text, policy_params)
        return command(*args, **kwargs)

    return _policy_text_option(_policy_params_option(with_policy))  # type: ignore[return-value]


def policy_params_option(command: FC) -> FC:
    """``--policy-params TOML`` alone (compare names its policies among its arms)."""
    return _policy_params_option(command)


def parse_policy(text: str | None, params: Path | None) -> PolicySpec | None:
    """The spec of ``--policy``, loaded once here so a bad one fails before any work.

    Raises:
        click.ClickException: a spec that cannot be loaded, or parameters without a policy.
    """
    if text is None:
        if params is not None:
            raise click.ClickException("--policy-params needs --policy")
        return None
    from engine.policy import PolicyError, PolicySpec

    try:
        spec = PolicySpec.parse(text, params)
        spec.build()
    except PolicyError as error:
        raise click.ClickException(str(error)) from None
    return spec


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn the engine's refusals into click's one-line errors, and SQLite's word that the
    command's file is damaged or read-only (met after it was opened) into one line naming it."""
    try:
        yield
    except (StoreError, ValueError, KeyError) as exc:
        message = exc.args[0] if exc.args else str(exc)
        raise click.ClickException(str(message)) from None
    except sqlite3.DatabaseError as exc:
        ctx = click.get_current_context(silent=True)
        db_path = ctx.params.get("db_path") if ctx else None
        name = db_path or "the world file"
        if is_damage(exc):
            raise click.ClickException(damage_message(name, str(exc))) from None
        if "readonly" in str(exc):
            raise click.ClickException(
                f"{name} is read-only and this command writes to it ({exc})"
            ) from None
        raise


def require_terminal(release: Callable[[], None]) -> None:
    """A full-screen app with no terminal would draw into a file and wait for keys forever."""
    if sys.stdin.isatty() and sys.stdout.isatty():
        return
    release()
    raise click.ClickException(
        "this command opens a full-screen interface and needs an interactive terminal "
        "(its input or output is redirected)"
    )


@click.group(invoke_without_command=True)
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
    build_world(db_path, videos=DEFAULT_VIDEOS, creators=None, seed=42, force=False)


def build_world(
    db_path: Path, *, videos: int, creators: int | None, seed: int, force: bool
) -> None:
    from seed.build import build_world as build
    from seed.build import plan_world
    from tui.progress import stage_progress

    with user_errors():
        plan_world(db_path, videos=videos, creators=creators, seed=seed, force=force)
        with stage_progress(f"Seeding {db_path}") as progress:
            build(
                db_path, videos=videos, creators=creators, seed=seed, force=force, progress=progress
            )


@main.command()
@db_option
@click.option("--videos", default=DEFAULT_VIDEOS, show_default=True, help="Number of videos.")
@click.option("--creators", type=int, default=None, help="Number of creators [videos / 20].")
@click.option("--seed", default=42, show_default=True, help="Root seed: same seed, same world.")
@click.option("--force", is_flag=True, help="Replace an existing foryou world.")
def seed(db_path: Path, videos: int, creators: int | None, seed: int, force: bool) -> None:
    """Generate a synthetic world into a new SQLite file."""
    started = time.perf_counter()
    build_world(db_path, videos=videos, creators=creators, seed=seed, force=force)
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
    "autopilot-PERSONA; any key but p v w i x d , ? takes over.",
)
@click.option(
    "--autopilot-pace",
    "pace_s",
    type=click.FloatRange(min=0.1, max=10.0),
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
    from tui.app import make_app

    autopilot = None
    if persona is not None:
        from tui.autopilot import AutopilotSettings  # loads the simulator: only when asked

        autopilot = AutopilotSettings(persona=persona, pace_s=pace_s)
    with user_errors():
        try:
            app = make_app(db_path, user, autopilot=autopilot, policy=policy)
        except ValueError as exc:
            if autopilot is not None or isinstance(exc, ViewerClaimedError):
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
    from engine.store import Store, world_summary
    from tui.world_info import print_summary

    with user_errors(), Store.open(db_path) as store:
        print_summary(db_path, world_summary(store.db))


@main.command()
@db_option
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write here instead of standard output.",
)
def metadata(db_path: Path, out: Path | None) -> None:
    """Print Datasette metadata (table and column descriptions) for a world.

    Use it as: foryou metadata --out metadata.json && datasette foryou.db -m metadata.json
    """
    from engine.codebook import datasette_metadata
    from engine.store import Store

    with user_errors(), Store.open(db_path) as store:
        text = datasette_metadata(store.db, db_path.stem)
    if out is None:
        click.echo(text)
    else:
        out.write_text(text + "\n", encoding="utf-8")


# Commands defined in their own modules register here (they import db_option from this one).
from tui.cli_engine import boost, config, explain, recommend  # noqa: E402

for command in (recommend, explain, config, boost):
    main.add_command(command)

from tui.cli_sim import compare, simulate  # noqa: E402

main.add_command(simulate)
main.add_command(compare)

from tui.cli_study import evaluate, export, replay, study  # noqa: E402

for command in (study, export, replay, evaluate):
    main.add_command(command)
