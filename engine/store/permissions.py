"""Files that hold people's data are readable by their owner only.

Study bundles, merged bundles, exports and reports hold participants' reactions, comments and
answers. A default umask makes new files world-readable (0644), so every such file is created
0600 and every such folder 0700 before anything private is written into it, never chmod-ed
afterwards: data written first would be readable in between.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["PRIVATE_DIR", "PRIVATE_FILE", "create_private", "make_private", "private_dir"]

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700
SQLITE_SIDECARS = ("-wal", "-shm", "-journal")


def create_private(path: Path) -> None:
    """Create an empty file readable by its owner only; writers then open it and keep its mode.

    SQLite treats an empty file as a new database and gives its ``-wal`` and ``-shm`` files
    the database file's permissions, so a database started this way stays private.

    Raises:
        FileExistsError: ``path`` exists (it is never taken over).
    """
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))


def make_private(path: Path) -> None:
    """Make an existing SQLite file and its sidecar files readable by their owner only.

    For a file about to receive private data (a world turning into a study bundle); the
    sidecars SQLite creates later copy the database file's mode.
    """
    os.chmod(path, PRIVATE_FILE)
    for suffix in SQLITE_SIDECARS:
        sidecar = Path(f"{path}{suffix}")
        if sidecar.exists():
            os.chmod(sidecar, PRIVATE_FILE)


def private_dir(path: Path) -> None:
    """Create a folder (and missing parents) when missing; a folder created here is 0700."""
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
