"""Rich progress bars for long command-line jobs, driven by the engine's ``progress(stage, done)``.

Rich prints one clean line per update when output is redirected, so logs stay readable.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn


@contextmanager
def stage_progress(title: str) -> Iterator[Callable[[str, float], None]]:
    """Yield a ``progress(stage, fraction_done)`` callback that moves one bar."""
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TextColumn("{task.fields[stage]}"),
        TimeElapsedColumn(),
        transient=False,
    ) as bar:
        task = bar.add_task(title, total=1.0, stage="")

        def update(stage: str, done: float) -> None:
            bar.update(task, completed=min(max(done, 0.0), 1.0), stage=stage)

        yield update
