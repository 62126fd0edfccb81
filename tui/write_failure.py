"""What the terminal apps say when the world file refuses a write: one line, not a traceback.

A full disk, a file made read-only under the app, or another program holding the file's lock
past SQLite's timeout make the engine's write raise SQLite's error. The engine wrote nothing
of that call and kept everything before it (README, "errors"), so there is nothing to repair:
the app ends with exit code 1 and says which file refused and that what came before is saved.
Textual renders an unhandled error that has ``__rich__`` as that renderable instead of a
traceback (``App._handle_exception``), which is what :func:`as_exit_error` hands it.

The same holds for a file the engine refuses to open once the app runs (a study participant's
feed opening while a logged simulation has the bundle alone): its one-line :class:`StoreError`.
"""

from __future__ import annotations

from pathlib import Path

from rich.text import Text

from engine.store import DatabaseError, StoreError


class ExitError(Exception):
    """An error the app ends with in one line."""

    def __rich__(self) -> Text:
        return Text(f"Error: {self}")


class WriteRefusedError(ExitError):
    """The world file refused a write; everything recorded before it is in the file."""

    def __init__(self, path: Path, error: DatabaseError) -> None:
        super().__init__(
            f"{path.name} refused a write ({error}); everything recorded before it is saved"
        )


def as_exit_error(error: Exception, path: Path) -> Exception:
    """The error the app should end with: a refused write or a refused file as one line,
    anything else as is."""
    if isinstance(error, DatabaseError):
        return WriteRefusedError(path, error)
    if isinstance(error, StoreError):
        return ExitError(str(error))
    return error
