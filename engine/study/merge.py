"""Merging lab stations: several bundles of one study into one dataset.

Refused before anything is written: bundles of different studies (name or definition) or
worlds, a participant id or viewer name present at two stations, an existing output, and a
bundle another process has open (a participant mid-feed: their run would be cut in the middle,
and what it writes after the merge would be missing from it). The
result is built in a hidden temporary file and renamed at the end. Each station is named after
its file (``participants.station``), so replay keeps their histories apart.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from engine.store import Store
from engine.store.files import refuse_if_open
from engine.store.merge import merge_files
from engine.store.permissions import create_private
from engine.store.study_log import StudyLog
from engine.study.definition import StudyError

__all__ = ["merge_bundles"]


def merge_bundles(inputs: Sequence[str | Path], out: str | Path) -> dict[str, int]:
    """Merge study bundles into a new file.

    Returns:
        Rows per participant-level table in the merged file.

    Raises:
        StudyError: fewer than two inputs, an existing output, different studies or worlds,
            or a participant id or viewer name at two stations.
        WorldInUseError: a bundle is open in another process (a study run, a shell).
        StoreError: an input is missing, foreign or from a newer foryou.
    """
    paths = [Path(p) for p in inputs]
    target = Path(out)
    if len(paths) < 2:
        raise StudyError("merge needs at least two bundles")
    if len({p.resolve() for p in paths}) < len(paths):
        raise StudyError("the same bundle is named twice")
    if target.exists():
        raise StudyError(f"{target} exists; merge writes a new file")
    _check(paths)
    tmp = target.parent / f".{target.name}.tmp-{os.getpid()}"
    try:
        create_private(tmp)  # every participant's data goes in: owner-only from the start
        counts = merge_files(paths, tmp, _station_names(paths))
        os.replace(tmp, target)
    finally:
        for leftover in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm"), Path(f"{tmp}-journal")):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()
    return counts


def _check(paths: list[Path]) -> None:
    """Same study and world everywhere; no participant or viewer at two stations."""
    first: dict[str, Any] = {}
    seen: dict[str, Path] = {}
    for path in paths:
        with Store.open(path) as store:
            log = StudyLog(store.db)
            row = log.study()
            participants, users = log.names()
        refuse_if_open(path, "merging")  # once ours is closed, which would count as open
        if row is None:
            raise StudyError(f"{path} holds no study; refusing to merge")
        first = first or {**row, "path": path}
        if row["name"] != first["name"]:
            raise StudyError(
                f"{first['path']} and {path} hold different studies "
                f"({first['name']!r} and {row['name']!r}); refusing to merge"
            )
        if row["world_hash"] != first["world_hash"]:
            raise StudyError(
                f"{first['path']} and {path} run on different worlds; refusing to merge"
            )
        if row["sha256"] != first["sha256"]:
            raise StudyError(
                f"{first['path']} and {path} hold different definitions of study "
                f"{row['name']!r}; refusing to merge"
            )
        for name in sorted(participants):
            if name in seen:
                raise StudyError(
                    f"participant {name} is in both {seen[name]} and {path}; refusing to merge"
                )
        for name in sorted(users):
            if f"viewer:{name}" in seen:
                raise StudyError(
                    f"viewer {name!r} is in both {seen[f'viewer:{name}']} and {path}; "
                    "refusing to merge"
                )
        seen |= dict.fromkeys(participants, path)
        seen |= {f"viewer:{name}": path for name in users}


def _station_names(paths: list[Path]) -> list[str]:
    names = [p.stem for p in paths]
    if len(set(names)) < len(names):
        names = [f"{p.stem}-{i + 1}" for i, p in enumerate(paths)]
    return names
