"""`foryou import`: real datasets as foryou worlds, one reader per format.

A reader turns its files into a :class:`seed.importers.source.Catalogue` and a
:class:`seed.importers.source.Log`; :func:`seed.importers.assemble.assemble` makes the world
and its viewers' history; the engine's store writes both with the same atomic build and the
same refusals as ``foryou seed``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from engine.imported_model import learn_imported_history
from engine.store import check_target, write_world
from seed.importers.assemble import Imported, assemble
from seed.importers.generic import read_generic
from seed.importers.kuairand import read_features, read_like_hate
from seed.importers.movielens import read_movielens
from seed.importers.source import Catalogue, Log
from seed.importers.table import ImportFileError

__all__ = ["FORMATS", "ImportFileError", "build_imported", "import_world", "read_dataset"]

# Format -> (what PATH is, the viewers' name prefix).
FORMATS: dict[str, tuple[str, str]] = {
    "movielens": ("a MovieLens folder (movies.csv, ratings.csv, tags.csv)", "ml"),
    "kuairand-features": ("KuaiRand's video_features_basic_pure.csv or its folder", "kr"),
    "kuairand-log": ("KuaiRand's likes_hates_kcore15.tsv", "kr"),
    "csv": ("a catalogue CSV (id, topic or genres, tags, creator, duration, title)", "csv"),
}


def read_dataset(kind: str, path: Path, *, log: Path | None = None) -> tuple[Catalogue, Log]:
    """Read a dataset's files in one of the ``FORMATS``.

    Raises:
        ValueError: an unknown format, or ``log`` with a format that has its own.
        ImportFileError: a bad file (naming it and the line).
    """
    if kind not in FORMATS:
        raise ValueError(f"unknown format {kind!r}; one of: {', '.join(FORMATS)}")
    if log is not None and kind != "csv":
        raise ValueError("--log goes with the csv format only")
    if kind == "movielens":
        return read_movielens(path)
    if kind == "kuairand-features":
        return read_features(path)
    if kind == "kuairand-log":
        return read_like_hate(path)
    return read_generic(path, log)


def import_world(
    kind: str,
    path: Path,
    out: Path,
    *,
    log: Path | None = None,
    history_until: float = 0.8,
    seed: int = 42,
    force: bool = False,
    epoch_unix: float | None = None,
    progress: Callable[[str, float], None] | None = None,
) -> Imported:
    """Read a dataset and write it as a new world at ``out`` (:func:`read_dataset`, then
    :func:`build_imported`).

    Raises:
        StoreError: ``out`` must not be written (checked before reading anything).
        ImportFileError: a bad file.
        ValueError: a bad format or fraction.
    """
    check_target(out, force=force)
    catalogue, events = read_dataset(kind, path, log=log)
    return build_imported(
        kind,
        catalogue,
        events,
        out,
        history_until=history_until,
        seed=seed,
        force=force,
        epoch_unix=epoch_unix,
        progress=progress,
    )


def build_imported(
    kind: str,
    catalogue: Catalogue,
    events: Log,
    out: Path,
    *,
    history_until: float = 0.8,
    seed: int = 42,
    force: bool = False,
    epoch_unix: float | None = None,
    progress: Callable[[str, float], None] | None = None,
) -> Imported:
    """Assemble a read dataset and write it with ``foryou seed``'s atomic build and refusals.

    Raises:
        StoreError: ``out`` must not be written.
        ValueError: ``history_until`` is outside (0, 1].
    """
    report = progress or (lambda stage, done: None)
    report("assembling", 0.0)
    imported = assemble(
        catalogue,
        events,
        seed=seed,
        history_until=history_until,
        user_prefix=FORMATS[kind][1],
        epoch_unix=epoch_unix,
    )

    def writing(stage: str, done: float) -> None:
        report(stage, 0.5 + 0.3 * done)

    def learning(built: Path) -> None:
        # In the build: the world appears with the model learned from its log, or not at all.
        learn_imported_history(built, lambda done: report("learning", 0.8 + 0.2 * done))

    write_world(
        out,
        imported.world,
        force=force,
        progress=writing,
        history=imported.history,
        meta=imported.meta,
        finish=learning,
    )
    return imported
