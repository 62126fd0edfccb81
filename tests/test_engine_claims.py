"""One viewer, one serving process: a second process is refused in one line, not served twice.

Two feeds of one viewer repeated videos the other had shown and counted likes twice. The claim
is an operating-system lock, so it goes with its process however that process ends.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine import Engine
from tui.cli import main

SERVE = """\
import sys
from engine import Engine
eng = Engine.open(sys.argv[1])
rec = eng.next(eng.user_id(sys.argv[2]))
print("serving", flush=True)
sys.stdin.readline()
eng.close()
"""


def serve_elsewhere(path: Path, viewer: str) -> subprocess.Popen[str]:
    """Another process serving the viewer, until a line arrives on its stdin."""
    other = subprocess.Popen(
        [sys.executable, "-c", SERVE, str(path), viewer],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])},
    )
    assert other.stdout is not None and other.stdout.readline() == "serving\n"
    return other


@pytest.fixture
def viewers(world_path: Path) -> dict[str, int]:
    with Engine.open(world_path) as eng:
        return {name: eng.new_user(["cooking"], name=name) for name in ("ana", "ben")}


def test_a_second_process_is_refused_until_the_first_ends(
    world_path: Path, viewers: dict[str, int]
) -> None:
    other = serve_elsewhere(world_path, "ana")
    try:
        with Engine.open(world_path) as eng:
            refusal = f"viewer ana is being watched in another process (pid {other.pid})"
            with pytest.raises(ValueError, match=refusal.replace("(", r"\(").replace(")", r"\)")):
                eng.next(viewers["ana"])
            with pytest.raises(ValueError, match="being watched in another process"):
                eng.profile(viewers["ana"])
            eng.next(viewers["ben"])  # another viewer is free
        with Engine.open(world_path, log=False) as memory:  # writes nothing: needs no claim
            memory.next(viewers["ana"])
        result = CliRunner().invoke(main, ["recommend", "--db", str(world_path), "--user", "ana"])
        assert result.exit_code == 1
        assert result.output == f"Error: {refusal}; close it there first\n"
    finally:
        other.send_signal(signal.SIGKILL)  # however it ends, the claim goes with it
        other.communicate()
    with Engine.open(world_path) as eng:
        eng.next(viewers["ana"])


def test_closing_one_engine_keeps_the_claims_of_another_in_the_same_process(
    world_path: Path, viewers: dict[str, int]
) -> None:
    with Engine.open(world_path) as kept:
        kept.next(viewers["ana"])
        with Engine.open(world_path) as closed:
            closed.next(viewers["ben"])
            with pytest.raises(ValueError, match="through another Engine on this file"):
                closed.next(viewers["ana"])
        probe = subprocess.run(
            [sys.executable, "-c", SERVE, str(world_path), "ana"],
            input="\n",
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])},
        )
        assert probe.returncode == 1 and "being watched in another process" in probe.stderr
    serve_elsewhere(world_path, "ana").communicate("\n")
