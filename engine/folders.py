"""Folders of files that appear whole or not at all: reports, exports.

A command that writes several files fills a scratch folder beside their destination and moves
them into place only once every one is written, so a failure or Ctrl+C half-way leaves no
folder that looks finished but is not, and an earlier folder's files are replaced only at the
end. Simulation reports (``foryou simulate``/``compare``/``sweep``) and ``foryou export`` share it;
a command that writes one file (``foryou metadata --out``, ``offline-eval --plot``) writes it
beside its place and renames it there (:func:`whole_file`).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from engine.store.permissions import PRIVATE_DIR, PRIVATE_FILE

__all__ = ["move_files", "new_folder", "scratch_folder", "whole_file"]


@contextmanager
def scratch_folder(parent: Path) -> Iterator[Path]:
    """A new hidden folder in ``parent`` (the same disk as the files' destination, so moving
    them is a rename), removed with whatever is still in it when the block ends."""
    try:
        parent.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=".foryou-", dir=parent))
    except OSError as exc:  # named by the folder asked for, not by a scratch name never made
        raise OSError(exc.errno, exc.strerror, str(parent)) from None
    try:
        yield scratch
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def new_folder(base: Path) -> Path:
    """Create ``base``, or ``base-2``, ``base-3``... when it is taken; returns the one created.

    Creating (not checking) is what claims a name, so two runs never share a folder.
    """
    folder, n = base, 1
    while True:
        try:
            folder.mkdir(parents=True, mode=PRIVATE_DIR)
            return folder
        except FileExistsError:
            n += 1
            folder = base.with_name(f"{base.name}-{n}")


def move_files(source: Path, folder: Path) -> None:
    """Move every file of ``source`` into ``folder`` (created if missing), replacing any file
    of the same name there; other files in ``folder`` stay. A folder created here and the
    files moved are readable by their owner only (made so while still in the scratch folder,
    which ``tempfile.mkdtemp`` makes 0700)."""
    folder.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
    for file in sorted(source.iterdir()):
        file.chmod(PRIVATE_FILE)
        file.replace(folder / file.name)


@contextmanager
def whole_file(path: Path) -> Iterator[Path]:
    """A new file's name beside ``path`` (same suffix, so a writer that reads the format from it
    still can) for the block to write; it replaces ``path`` once the block ends, or is removed
    if the block fails (a full disk, Ctrl+C): ``path`` is never left half-written. Something
    other than a file at ``path`` (``/dev/stdout``, a pipe) is written in place: renaming over
    it would replace the device, not write to it."""
    if path.exists() and not path.is_file():
        yield path
        return
    handle, name = tempfile.mkstemp(prefix=".foryou-", suffix=path.suffix, dir=path.parent)
    os.close(handle)
    scratch = Path(name)
    try:
        yield scratch
        scratch.chmod(_READABLE & ~_umask())  # what a plain open() would have made
        scratch.replace(path)
    finally:
        scratch.unlink(missing_ok=True)


_READABLE = 0o666


def _umask() -> int:
    """The process's umask (reading it means setting it: set back at once)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask
