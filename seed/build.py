"""`foryou seed`: generate a world from a spec and write it through the engine's store."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from engine.store import check_target, write_world
from seed.generate import generate_world
from seed.spec import WorldSpec


def plan_world(
    path: str | Path, *, videos: int, creators: int | None, seed: int, force: bool
) -> WorldSpec:
    """Validate the request before any work, so a refusal costs nothing and shows no progress.

    Raises:
        ValueError: the counts make no sense.
        StoreError: the target must not be written (see ``engine.store.check_target``).
    """
    spec = WorldSpec(videos=videos, creators=creators, seed=seed)
    check_target(Path(path), force=force)
    return spec


def build_world(
    path: str | Path,
    *,
    videos: int,
    creators: int | None = None,
    seed: int = 42,
    force: bool = False,
    epoch_unix: float | None = None,
    progress: Callable[[str, float], None] | None = None,
    finish: Callable[[Path], None] | None = None,
) -> Path:
    """Generate and write a world (see :func:`plan_world` for what is refused; ``finish``:
    see :func:`engine.store.write_world`)."""
    spec = plan_world(path, videos=videos, creators=creators, seed=seed, force=force)
    report = progress or (lambda stage, done: None)

    def generation(stage: str, done: float) -> None:
        report(stage, 0.6 * done)

    def writing(stage: str, done: float) -> None:
        report(stage, 0.6 + 0.4 * done)

    epoch = time.time() if epoch_unix is None else epoch_unix
    world = generate_world(spec, epoch_unix=epoch, progress=generation)
    return write_world(Path(path), world, force=force, progress=writing, finish=finish)
