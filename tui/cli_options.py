"""What every `foryou` command shares: the options they take and how their errors read.

The group (:mod:`tui.cli`) imports the command modules (``cli_engine``, ``cli_sim``,
``cli_study``) to register their commands; they import only this module, so nothing imports the
group back. It loads no Textual (~0.3 s): the commands that open an app import it themselves.
"""

from __future__ import annotations

import functools
import json
import math
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from click.core import ParameterSource
from click.decorators import FC

from engine.store import DatabaseError, RecordingRefusedError, StoreError
from engine.store.files import damage_message, is_damage

if TYPE_CHECKING:
    from engine.policy import PolicySpec

DEFAULT_DB = "foryou.db"


def _group_db(ctx: click.Context, param: click.Parameter, values: tuple[Path, ...]) -> Path:
    """Let `foryou --db X command` reach the command: the group's --db is the default of every
    command under it, and giving both with different files is refused rather than guessed (so
    is giving two on one side: click would keep the last one silently)."""
    value = _one_db(values)
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


def _one_db(values: tuple[Path, ...]) -> Path:
    """The one file of a --db given once (or several times with the same file)."""
    files = list(dict.fromkeys(os.path.abspath(v) for v in values))
    if len(files) > 1:
        listed = ", ".join(str(v) for v in dict.fromkeys(values))
        raise click.ClickException(f"--db given twice with different files: {listed}; give it once")
    return values[-1]


# The --db option the group and every command take (the group's value reaches them). It takes
# several values only to refuse them: a single option would keep the last without a word.
db_option = click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    multiple=True,
    default=lambda: (os.environ.get("FORYOU_DB", DEFAULT_DB),),
    show_default=f"$FORYOU_DB or {DEFAULT_DB}",
    callback=_group_db,
    help="The world's SQLite file (before or after the command).",
)


class IntegerRange(click.IntRange):
    """click's IntRange, naming a value that is no whole number as such ("'1e3' is not a
    valid integer"): the type's name goes into that message, and "integer range" reads as if
    a range were wanted."""

    name = "integer"


class OneLineChoice(click.Choice[str]):
    """click's Choice, listing the choices on the error line when the value is missing
    (click puts each on a line of its own)."""

    def get_missing_message(self, param: click.Parameter, ctx: click.Context | None) -> str:
        return f"Choose from {', '.join(map(str, self.choices))}."


IntCheck = Callable[[click.Context, click.Parameter, int | None], int | None]


def bounded(minimum: int, at_most: int | None = None) -> IntCheck:
    """An option callback that refuses a value below ``minimum`` (or above ``at_most``) while
    the arguments are parsed (before anything runs): a usage error, so one line naming the
    flag and exit status 2, like any value out of its range. An unset option (None) passes."""

    def check(ctx: click.Context, param: click.Parameter, value: int | None) -> int | None:
        if value is not None and value < minimum:
            raise click.UsageError(f"{_name(param)} must be at least {minimum:,}, got {value:,}")
        if value is not None and at_most is not None and value > at_most:
            raise click.UsageError(f"{_name(param)} must be at most {at_most:,}, got {value:,}")
        return value

    return check


OptionCheck = Callable[[click.Context, click.Parameter, Path | None], Path | None]


def output_file(*suffixes: str) -> OptionCheck:
    """An option callback for a file a command writes at its end (``--plot PNG``): its folder
    must exist and be writable, and its name end in one of ``suffixes`` (any, when none).

    Checked while the arguments are parsed, so a bad path is one line before any work rather
    than a traceback after a long run.
    """

    def check(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path | None:
        if value is None:
            return None
        if suffixes and value.suffix.lower() not in suffixes:
            raise click.ClickException(
                f"{_name(param)} {value}: give a file name ending in {' or '.join(suffixes)}"
            )
        _require_writable_folder(param, value, value.parent)
        return value

    return check


def output_folder(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path | None:
    """An option callback for a folder a command fills at its end (``--out DIR``, created if
    missing): its files are written into a scratch folder beside it (:mod:`engine.folders`),
    so the nearest existing folder above it, and the folder itself when it exists, must be
    writable. Checked while parsing, before any work."""
    if value is None:
        return None
    above = next((p for p in value.parents if p.exists()), Path("."))
    _require_writable_folder(param, value, above)
    if value.exists():
        _require_writable_folder(param, value, value)
    return value


def _name(param: click.Parameter) -> str:
    return param.opts[0] if param.opts else str(param.name)


def _require_writable_folder(param: click.Parameter, value: Path, folder: Path) -> None:
    if not folder.is_dir():
        reason = "does not exist" if not folder.exists() else "is not a folder"
        raise click.ClickException(f"{_name(param)} {value}: {folder} {reason}")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise click.ClickException(f"{_name(param)} {value}: {folder} is not writable")


class FiniteFloat(click.FloatRange):
    """Every float option's type: click's FloatRange (no bounds by default) that also refuses
    nan and inf, with a one-line error naming the option.

    Every comparison with nan is false, so FloatRange lets it through its bounds, and an
    unbounded float takes inf: either would reach the run (a pace of nan seconds, a weight
    cap of inf) and fail there, or silently give nonsense.
    """

    name = "float"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        number = click.FLOAT.convert(value, param, ctx)
        if not math.isfinite(number):
            option = _name(param) if param is not None else "the value"
            raise click.ClickException(f"{option} {value}: give a finite number")
        converted: float = super().convert(number, param, ctx)
        return converted


def config_path_option(help: str) -> Callable[[FC], FC]:
    """``--config TOML`` as an optional path handed to the command as ``config_path``."""
    return click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help=help,
    )


config_option = config_path_option("Ranking config TOML [built-in defaults].")

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


# What to say instead, in the refusals below: a participant goes through the study's own flow.
STUDY_RUN = "run a participant with `foryou study run --participant ID`"


def refuse_study_bundle(db_path: Path, doing: str, instead: str) -> None:
    """Refuse, before anything is written or shown, a command meant for plain worlds on a study
    bundle: its participants are seen and recorded only through `foryou study run`, and its
    analysis (export, replay, evaluate) must find only what the study did.

    Args:
        db_path: The command's file.
        doing: What the command would do to the bundle, e.g. "`foryou boost` would heat every
            condition".
        instead: What to do instead; a world of one's own, built like the bundle's, is added.

    Raises:
        click.ClickException: the file is a study bundle (one line, exit status 1).
    """
    from engine.store.study_log import bundle_study

    study = bundle_study(db_path)
    if study is None:
        return
    raise click.ClickException(
        f"{db_path} is the bundle of study {study['name']!r}: {doing}; {instead}, or use a "
        f"world of your own ({own_world(study)})"
    )


def own_world(study: dict[str, object]) -> str:
    """The `foryou seed` command that builds a study's world into a file of its own."""
    world = json.loads(str(study["resolved"]))["world"]
    creators = f" --creators {world['creators']}" if world.get("creators") else ""
    return (
        f"`foryou seed --videos {world['videos']}{creators} --seed {world['seed']} --db world.db`"
    )


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn the engine's refusals into click's one-line errors, and SQLite's word that the
    command's file is damaged or read-only (met after it was opened) into one line naming it."""
    try:
        yield
    except RecordingRefusedError as exc:  # its own words speak to a notebook
        raise click.ClickException(
            f"{exc.path} is read-only and this command writes to it"
        ) from None
    except (StoreError, ValueError, KeyError) as exc:
        message = exc.args[0] if exc.args else str(exc)
        raise click.ClickException(str(message)) from None
    except DatabaseError as exc:
        ctx = click.get_current_context(silent=True)
        db_path = ctx.params.get("db_path") if ctx else None
        name = db_path or "the world file"
        if is_damage(exc):
            raise click.ClickException(damage_message(name, str(exc))) from None
        if "readonly" in str(exc):
            raise click.ClickException(
                f"{name} is read-only and this command writes to it ({exc})"
            ) from None
        if "disk is full" in str(exc):
            raise click.ClickException(f"{name} refused a write ({exc})") from None
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
