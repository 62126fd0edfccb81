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
    background: bool = False,
) -> Path:
    """Generate and write a world (see :func:`plan_world` for what is refused; ``finish``:
    see :func:`engine.store.write_world`).

    Args:
        background: let the world's background viewers teach its learned model as it is
            built (:mod:`engine.sim.background`; a few seconds for 20k videos).
    """
    spec = plan_world(path, videos=videos, creators=creators, seed=seed, force=force)
    report = progress or (lambda stage, done: None)

    def generation(stage: str, done: float) -> None:
        report(stage, 0.6 * done)

    def writing(stage: str, done: float) -> None:
        report(stage, 0.6 + 0.4 * done)

    epoch = time.time() if epoch_unix is None else epoch_unix
    world = generate_world(spec, epoch_unix=epoch, progress=generation)
    if background:
        finish = _with_background(seed, finish, report)
    return write_world(Path(path), world, force=force, progress=writing, finish=finish)


def _with_background(
    seed: int, finish: Callable[[Path], None] | None, report: Callable[[str, float], None]
) -> Callable[[Path], None]:
    """``finish`` after the background viewers' model is learned, in the build's own file: the
    world appears with its model, or not at all."""

    from engine.sim.background import learn_background  # the simulator: only when asked

    def learned(built: Path) -> None:
        report("learning", 0.95)
        learn_background(built, seed)
        if finish is not None:
            finish(built)

    return learned
