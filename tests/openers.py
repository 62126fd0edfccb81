"""Other processes that keep a world file open until told to let go: a feed, a Datasette."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[1]

# What a feed does to the file: an engine serving one viewer, recording as it goes.
WATCH = """\
import sys
from engine import Engine
engine = Engine.open(sys.argv[1])
viewer = engine.new_user(name="bob")
def watch():
    rec = engine.next(viewer)
    engine.record(viewer, rec.video.id, "skip", watched_s=2.0)
watch()
print("open", flush=True)
sys.stdin.readline()
watch()  # recorded after whatever the test did meanwhile
engine.close()
"""

# What Datasette or the sqlite3 shell does: a read-only connection that has read the file.
READ = """\
import sqlite3, sys
conn = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
conn.execute("SELECT count(*) FROM videos").fetchone()
print("open", flush=True)
sys.stdin.readline()
conn.close()
"""


def open_elsewhere(path: Path, script: str = WATCH) -> subprocess.Popen[str]:
    """Another process with ``path`` open (``script``: :data:`WATCH` or :data:`READ`) until
    :func:`let_go`."""
    other = subprocess.Popen(
        [sys.executable, "-c", script, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(CHECKOUT)},
    )
    assert other.stdout is not None and other.stdout.readline() == "open\n"
    return other


def let_go(other: subprocess.Popen[str]) -> None:
    """Let the process finish what it does and close the file; it must exit cleanly."""
    other.communicate("\n", timeout=60)
    assert other.returncode == 0


def query(path: Path, sql: str) -> object:
    """One value, read the way a researcher would, on a connection closed at once."""
    with contextlib.closing(sqlite3.connect(path)) as conn:
        return conn.execute(sql).fetchone()[0]


def sidecars(path: Path) -> list[str]:
    """SQLite's files beside ``path``: a ``-wal`` here would be applied to whatever file has
    the name next."""
    return [s for s in ("-wal", "-shm", "-journal") if Path(f"{path}{s}").exists()]
