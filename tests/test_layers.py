"""What each floor loads, checked in a fresh interpreter (import-linter cannot see lazy imports).

The contracts in pyproject.toml say who may import whom; these tests say what a process that
imports the engine, or starts the command line, actually pays for.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

CHECKOUT = Path(__file__).resolve().parents[1]


def loaded_after(code: str, watched: tuple[str, ...]) -> list[str]:
    """The watched top-level modules in ``sys.modules`` after running ``code`` in a new Python."""
    probe = (
        f"{code}\nimport json, sys\nprint(json.dumps(sorted(set({watched!r}) & set(sys.modules))))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=CHECKOUT, timeout=120
    )
    assert result.returncode == 0, result.stderr
    loaded: list[str] = json.loads(result.stdout.strip().splitlines()[-1])
    return loaded


def test_the_engine_loads_no_ui_no_faker_and_no_other_floor() -> None:
    # click is not listed: sqlite-utils loads it for its plugin hooks (the engine never imports
    # it itself; import-linter checks that).
    watched = ("textual", "rich", "faker", "tui", "seed")
    assert loaded_after("import engine, engine.api, engine.store", watched) == []


def test_the_seed_generator_loads_no_ui() -> None:
    assert loaded_after("import seed.build", ("textual", "rich", "tui")) == []


def test_the_command_line_starts_without_textual() -> None:
    # Textual costs ~0.3 s to import: only the commands that open an app load it.
    code = "from tui.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass"
    assert loaded_after(code, ("textual",)) == []


@pytest.mark.parametrize("module", ["tui.cli_engine", "tui.cli_sim", "tui.cli_study"])
def test_each_command_module_imports_on_its_own(module: str) -> None:
    # The group imports the command modules, never the reverse: one imported first (a test, a
    # notebook, a plugin registering its commands) must not meet a half-built tui.cli.
    assert loaded_after(f"import {module}", ("textual",)) == []


def test_the_feed_loads_no_analysis_library() -> None:
    # pandas and pyarrow alone cost ~0.4 s of the feed's start (sqlite-utils would import
    # pandas when installed); the simulator's statistics and charts load only when asked for.
    watched = ("pandas", "pyarrow", "matplotlib", "scipy", "ray", "numba", "faker", "engine.sim")
    code = "import tui.cli, tui.app\nfrom tui.screens.feed import FeedScreen"
    assert loaded_after(code, watched) == []


def test_pandas_still_loads_after_the_store() -> None:
    pytest.importorskip("pandas")
    code = "import engine.store\nimport pandas\nassert pandas.DataFrame({'a': [1]}).size == 1"
    assert "pandas" in loaded_after(code, ("pandas",))


def test_every_command_loads_under_its_own_name() -> None:
    import click

    from tui.cli import LAZY_COMMANDS, main

    with click.Context(main) as ctx:
        for name in LAZY_COMMANDS:
            command = main.get_command(ctx, name)
            assert command is not None and command.name == name
        assert set(LAZY_COMMANDS) <= set(main.list_commands(ctx))
