"""`foryou --db X command`: the file given before the command is the one the command uses."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from tui.cli import main


def commands_with_db(
    group: click.Group = main, prefix: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    """Every command under ``group`` that takes --db, found by walking the CLI (so a command
    added later is covered without editing this test)."""
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None
        if isinstance(command, click.Group):
            yield from commands_with_db(command, (*prefix, name))
        elif any(p.name == "db_path" for p in command.params):
            yield (*prefix, name), command


def required_args(command: click.Command) -> list[str]:
    """Placeholder values for the command's required arguments and options (parsing only)."""
    args: list[str] = []
    for param in command.params:
        if not param.required:
            continue
        value = "1"
        if param.name == "grids":  # checked while parsing: a grid that parses
            value = "pick.temperature=0.1,0.2"
        if isinstance(param.type, click.Choice):
            value = str(param.type.choices[0])
        if isinstance(param, click.Option):
            args.append(param.opts[0])
        args.append(value)
    return args


def parsed_db(args: list[str], command: click.Command, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The db_path ``command`` receives when the CLI runs with these arguments."""
    seen: list[Path] = []
    monkeypatch.setattr(command, "callback", lambda **params: seen.append(params["db_path"]))
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return Path(seen[0])


COMMANDS = sorted(commands_with_db())


def test_every_world_command_is_covered() -> None:
    names = {" ".join(path) for path, _ in COMMANDS}
    assert {"seed", "info", "recommend", "boost", "simulate", "study init", "study run"} <= names


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_group_db_reaches_every_command(
    path: tuple[str, ...], command: click.Command, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FORYOU_DB", raising=False)
    rest = [*path, *required_args(command)]

    def db(*args: str) -> Path:
        return parsed_db(list(args), command, monkeypatch)

    assert db("--db", "other.db", *rest) == Path("other.db")
    assert db("--db", "other.db", *rest, "--db", "other.db") == Path("other.db")
    assert db("--db", "other.db", "--db", "other.db", *rest) == Path("other.db")
    assert db(*rest, "--db", "other.db") == Path("other.db")
    assert db(*rest) == Path("foryou.db")
    monkeypatch.setenv("FORYOU_DB", "env.db")
    assert db(*rest) == Path("env.db")
    assert db("--db", "other.db", *rest) == Path("other.db")


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_two_different_db_are_refused(path: tuple[str, ...], command: click.Command) -> None:
    args = ["--db", "a.db", *path, *required_args(command), "--db", "b.db"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code != 0
    assert result.output.startswith("Error: --db given twice"), result.output
    assert "a.db" in result.output and "b.db" in result.output
    assert len(result.output.strip().splitlines()) == 1


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_two_db_on_one_side_are_refused(path: tuple[str, ...], command: click.Command) -> None:
    """Click keeps the last of an option given twice: `foryou --db a.db --db b.db info` ran on
    b.db without a word."""
    rest = [*path, *required_args(command)]
    for args in (["--db", "a.db", "--db", "b.db", *rest], [*rest, "--db", "a.db", "--db", "b.db"]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code != 0
        assert result.output.strip() == (
            "Error: --db given twice with different files: a.db, b.db; give it once"
        ), result.output


def test_seed_force_rebuilds_the_file_given_before_the_command(
    world_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reported case: `foryou --db other.db seed --force` rebuilt ./foryou.db instead."""
    here = tmp_path / "cwd"
    here.mkdir()
    default = here / "foryou.db"
    default.write_bytes(world_path.read_bytes())
    before = hashlib.sha1(default.read_bytes()).hexdigest()
    monkeypatch.chdir(here)
    monkeypatch.delenv("FORYOU_DB", raising=False)
    other = tmp_path / "other.db"
    result = CliRunner().invoke(
        main, ["--db", str(other), "seed", "--videos", "200", "--force"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert other.exists()
    assert hashlib.sha1(default.read_bytes()).hexdigest() == before
    assert sorted(os.listdir(here)) == ["foryou.db"]
