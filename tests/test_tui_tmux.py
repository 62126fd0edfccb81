"""End to end in a real terminal: tmux runs `foryou feed`, keys go in, the pane and the database
are read back. Every step waits for what it expects on screen (with a timeout), never a fixed sleep.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from engine import Engine
from engine.store import write_world
from seed.generate import generate_world
from seed.spec import WorldSpec

pytestmark = [
    pytest.mark.tmux,
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux"),
]

STEP_TIMEOUT_S = 20.0
SHORT_VIDEO_S = 20.0


class Terminal:
    """One tmux server of our own (its own socket), with one pane running a command."""

    def __init__(self, command: str, *, width: int = 100, height: int = 32) -> None:
        self.socket = f"foryou-test-{uuid.uuid4().hex[:8]}"
        self._tmux(
            "new-session", "-d", "-s", "main", "-x", str(width), "-y", str(height),
            "-e", "COLORTERM=truecolor",
            f"{command}; echo EXIT=$?; sleep 30",
        )  # fmt: skip
        self.socket_path = self._tmux("display-message", "-p", "#{socket_path}").strip()

    def _tmux(self, *args: str) -> str:
        # The server copies this environment into the pane; a COLUMNS/LINES set by the test
        # runner would override the pane's real size.
        environment = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
        result = subprocess.run(
            ["tmux", "-L", self.socket, *args],
            capture_output=True,
            text=True,
            check=True,
            env=environment,
        )
        return result.stdout

    def text(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", "main")

    def keys(self, *keys: str) -> None:
        for key in keys:
            self._tmux("send-keys", "-t", "main", key)

    def literal(self, text: str) -> None:
        self._tmux("send-keys", "-t", "main", "-l", text)

    def wait_for(self, what: str | Callable[[str], bool]) -> str:
        """Poll the pane until `what` shows (a substring or a predicate); fail with the pane."""
        check = what if callable(what) else (lambda text: what in text)
        deadline = time.monotonic() + STEP_TIMEOUT_S
        while time.monotonic() < deadline:
            text = self.text()
            if check(text):
                return text
            time.sleep(0.05)
        pytest.fail(f"waited {STEP_TIMEOUT_S:.0f} s for {what!r}; the pane shows:\n{self.text()}")

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)
        Path(self.socket_path).unlink(missing_ok=True)  # tmux leaves the socket file behind


def foryou_command() -> str:
    script = Path(sys.executable).parent / "foryou"
    return str(script) if script.exists() else f"{sys.executable} -m tui"


@pytest.fixture
def world(world_path: Path) -> Path:
    with Engine.open(world_path) as eng:
        eng.new_user(["cooking", "pets"], name="tess")
    return world_path


@pytest.fixture
def terminal(world: Path) -> Iterator[Terminal]:
    command = f"cd {Path(__file__).parents[1]} && {foryou_command()} feed --db {world} --user tess"
    term = Terminal(command)
    try:
        yield term
    finally:
        term.close()


def events(world: Path) -> list[tuple[str, int, float | None]]:
    with sqlite3.connect(world) as conn:
        return conn.execute("SELECT kind, video_id, watched_s FROM events ORDER BY id").fetchall()


def wait_for_event(world: Path, kind: str, count: int = 1) -> None:
    deadline = time.monotonic() + STEP_TIMEOUT_S
    while time.monotonic() < deadline:
        if sum(1 for row in events(world) if row[0] == kind) >= count:
            return
        time.sleep(0.05)
    pytest.fail(f"no {kind!r} event in {STEP_TIMEOUT_S:.0f} s: {events(world)}")


def test_a_viewer_session_in_a_real_terminal(terminal: Terminal, world: Path) -> None:
    term = terminal
    term.wait_for("#1 in your feed")
    assert "▀" in term.text()  # the video is drawn in half blocks

    term.keys("l")
    wait_for_event(world, "like")
    term.keys("s", "f", "F")
    term.wait_for("✓ following")
    term.keys("c")
    term.wait_for("Add a comment")
    term.literal("lovely")
    term.keys("Enter")
    wait_for_event(world, "comment")

    term.keys("i")
    term.wait_for("YOUR PROFILE")
    term.keys("i", "x")
    term.wait_for("Candidates per source")
    term.keys("x", "w")
    term.wait_for("WHY THIS VIDEO")
    term.keys("Escape")
    term.wait_for(lambda text: "WHY THIS VIDEO" not in text)
    term.keys("d")
    term.wait_for("DISCOVER")
    term.keys("Escape")
    term.wait_for(lambda text: "DISCOVER" not in text)
    term.keys(",")
    term.wait_for("SETTINGS")
    term.keys("Escape")
    term.wait_for(lambda text: "SETTINGS" not in text)
    term.keys("?")
    term.wait_for("KEYS OF THE FEED")
    term.keys("?", "p")
    term.wait_for("⏸")
    term.keys("p")
    # Panels pause the video; give it a moment of play so its skip has seconds to record.
    time.sleep(1.0)

    term.keys("j")
    term.wait_for("#2 in your feed")
    term.keys("k")
    term.wait_for("#1 in your feed")
    term.keys("j")
    term.wait_for("#2 in your feed")
    term.keys("n")
    term.wait_for("Not interested in")
    term.keys("3")  # the sound
    term.wait_for("#3 in your feed")
    term.keys("r")
    term.wait_for("Report: why?")
    term.keys("1")
    term.wait_for("#4 in your feed")
    term.keys("h")
    term.wait_for("#5 in your feed")

    term.keys("q")
    term.wait_for("SESSION SUMMARY")
    term.keys("q")
    term.wait_for("EXIT=0")

    kinds = [kind for kind, _, _ in events(world)]
    assert kinds[:5] == ["like", "share", "save", "follow", "comment"]
    assert kinds[5:] == [
        "skip",  # j
        "skip",  # k, back to the first
        "skip",  # j
        "not_interested",
        "skip",
        "report",
        "skip",
        "hide_creator",
        "skip",
        "skip",  # q closes the fifth video's viewing
    ]
    first_video = events(world)[0][1]
    assert {video for _, video, _ in events(world)[:6]} == {first_video}
    skips = [watched for kind, _, watched in events(world) if kind == "skip"]
    assert all(watched is not None and watched >= 0 for watched in skips)
    assert skips[0] > 0.5  # the first video played while the keys went in


def test_keys_pressed_just_before_ctrl_c_are_all_in_the_file(
    terminal: Terminal, world: Path
) -> None:
    # Whatever a key records is committed before the next key is read: quitting at once,
    # before the next video is even painted, loses nothing.
    term = terminal
    term.wait_for("#1 in your feed")
    term.keys("j", "l", "C-c")
    term.wait_for("EXIT=0")
    kinds = [kind for kind, _, _ in events(world)]
    assert kinds == ["skip", "like", "skip"]  # the first video, the second liked and closed
    first, second = events(world)[0][1], events(world)[1][1]
    assert first != second and events(world)[2][1] == second


def closings_by(world: Path, viewer: str) -> list[str]:
    """The kinds of the closing events (skip, complete) a viewer has, oldest first."""
    with sqlite3.connect(world) as conn:
        found = conn.execute(
            "SELECT e.kind FROM events e JOIN users u ON u.id = e.user_id "
            "WHERE u.name = ? AND e.kind IN ('skip', 'complete') ORDER BY e.id",
            (viewer,),
        ).fetchall()
    return [kind for (kind,) in found]


def _rows(world: Path) -> dict[str, int]:
    """What the file holds, for a failure's message: the screen and the file should agree."""
    with sqlite3.connect(world) as conn:
        return {
            table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("impressions", "events", "sessions")
        }


@pytest.fixture
def short_world(tmp_path: Path) -> Path:
    """A world like the template (seed 7) with every video cut to at most SHORT_VIDEO_S, and tess.

    The autopilot watches in real time: the first video it completes here lasts 180 s, 45 s
    even at 4×. Who drives, which keys take over and whose rows land do not depend on how long
    a video is."""
    world = generate_world(WorldSpec(videos=3000, seed=7), epoch_unix=time.time())
    short = np.minimum(world.videos.duration_s, SHORT_VIDEO_S).astype(world.videos.duration_s.dtype)
    path = write_world(
        tmp_path / "short.db", replace(world, videos=replace(world.videos, duration_s=short))
    )
    with Engine.open(path) as eng:
        eng.new_user(["cooking", "pets"], name="tess")
    return path


def test_the_autopilot_drives_until_a_key_takes_over(short_world: Path) -> None:
    world = short_world
    command = (
        f"cd {Path(__file__).parents[1]} && {foryou_command()} feed --db {world} "
        "--autopilot cooking --autopilot-pace 0.2"
    )
    term = Terminal(command)
    try:
        term.wait_for("autopilot (any key takes over)")
        term.keys("v", "v")  # 4×: a key that only changes the view leaves the autopilot driving
        term.wait_for("4×")
        deadline = time.monotonic() + 4 * STEP_TIMEOUT_S
        while len(closings_by(world, "autopilot-cooking")) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(closings_by(world, "autopilot-cooking")) >= 2, (_rows(world), term.text())
        assert "autopilot (any key takes over)" in term.text()

        term.keys("j")  # a person's key: it takes over, and asks who is watching
        term.wait_for("Who is watching")
        taken = len(closings_by(world, "autopilot-cooking"))
        assert "autopilot-cooking" not in term.text()  # only people to choose from
        term.keys("Down", "Enter")  # tess
        # Her first video painted: her viewing has begun, so q has one to close.
        term.wait_for(lambda text: "@tess" in text and "in your feed" in text)
        term.keys("q")
        term.wait_for("SESSION SUMMARY")
        term.keys("q")
        term.wait_for("EXIT=0")
    finally:
        term.close()

    with sqlite3.connect(world) as conn:
        viewers = dict(conn.execute("SELECT name, simulated FROM users").fetchall())
    assert viewers == {"tess": 0, "autopilot-cooking": 1}  # the persona writes as a simulation
    # After the takeover the persona wrote nothing more; tess's q closed her own viewing.
    assert len(closings_by(world, "autopilot-cooking")) == taken
    assert closings_by(world, "tess") == ["skip"]


def test_not_a_world_is_refused_in_one_line(tmp_path: Path) -> None:
    notes = tmp_path / "notes.db"
    notes.write_bytes(b"not a database at all")
    result = subprocess.run(
        [*foryou_command().split(), "feed", "--db", str(notes)],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
        cwd=Path(__file__).parents[1],
    )
    assert result.returncode != 0
    assert result.stderr.startswith("Error:")
    assert len(result.stderr.strip().splitlines()) == 1
    assert notes.read_bytes() == b"not a database at all"
