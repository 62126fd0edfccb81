"""The learned model of an imported world, learned from its log when the world is built.

The learned P(action) (:mod:`engine.learned`) learns a viewing from the row its receipt
logged when the engine served it. No engine served an imported log's viewings, so no receipt
holds theirs: the model of an imported world stayed the formula's prior whatever the log said
(on KuaiRand's held-out rows its P(complete) and P(like) ranked exactly as the formula's,
Spearman 1.0). So ``foryou import`` re-lives the imported history once through an engine, as
``foryou offline-eval`` re-lives it, and each viewing teaches the model from the row the engine
would have logged serving it then (:meth:`engine.api.Engine.serve_recorded`). The model is
stored twice: as the engine's, which the first feed resumes, and as the world's own as built
(:data:`engine.learned.BUILT_MODEL`), which every replay, evaluation and offline evaluation
starts from: they re-live the imported history without learning it a second time, so they
meet the model the feed met.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from engine.config import Config
from engine.events import Event
from engine.history import Step, timeline_steps
from engine.learned import Learner, store_as_built
from engine.replay import Replay
from engine.store import Store
from engine.store.imported import IMPORTED
from engine.store.timeline import Timeline

__all__ = ["learn_imported_history"]

Row = tuple[dict[str, float], dict[str, float]]


def learn_imported_history(path: Path, progress: Callable[[float], None] | None = None) -> int:
    """Learn the model from the imported history in the world at ``path`` and store it;
    returns how many closed viewings it learned from.

    Args:
        progress: told the share of the viewings whose rows are computed, now and then.
    """
    with Store.open(path, check=False) as store:  # a build's own file, written just now
        timeline = Timeline(store.db)
        users = timeline.users()
        steps = timeline_steps(timeline, {int(u["id"]) for u in users})
    config = Config()
    relived = Replay.over(path, config, steps[0].world_t if steps else 0.0)
    try:
        for user in users:
            relived.adopt(user)
        rows = _rows_of_viewings(relived, steps, progress or (lambda done: None))
        learner = relived.engine.learner
        assert learner is not None  # the default policy learns
        _learn_in_order(learner, steps, rows)
        model = learner.ready(config)
    finally:
        relived.close()
    return store_as_built(path, model)


def _imported_serve(step: Step) -> bool:
    return step.kind == "serve" and step.row.get("source") == IMPORTED


def _rows_of_viewings(
    relived: Replay, steps: Sequence[Step], progress: Callable[[float], None]
) -> dict[int, Row]:
    """Each imported viewing's row (by impression id), as its viewer stood just before it.

    Viewers are re-lived side by side, one viewing each per round, so that each round's rows
    are one batch: an imported event moves only its viewer (never the world's counters), so
    a viewer's state at a viewing does not depend on when the others' events are applied.
    """
    by_viewer: dict[int, list[Step]] = {}
    for step in steps:
        if step.kind != "open":  # openings move the shared pools and trends only
            by_viewer.setdefault(step.user_id, []).append(step)
    cursor = dict.fromkeys(by_viewer, 0)
    total = sum(1 for s in steps if _imported_serve(s)) or 1
    rows: dict[int, Row] = {}
    while cursor:
        due: list[tuple[int, Step]] = []
        for viewer, k in list(cursor.items()):
            mine = by_viewer[viewer]
            while k < len(mine) and not _imported_serve(mine[k]):
                relived.play(mine[k])
                k += 1
            if k == len(mine):
                del cursor[viewer]
                continue
            due.append((viewer, mine[k]))
            cursor[viewer] = k + 1
        learned = relived.engine.learning_rows(
            [(viewer, int(step.row["video_id"]), step.world_t) for viewer, step in due]
        )
        for (_, step), row in zip(due, learned, strict=True):
            rows[int(step.row["id"])] = row
            relived.play(step)
        progress(len(rows) / total)
    return rows


def _learn_in_order(learner: Learner, steps: Sequence[Step], rows: Mapping[int, Row]) -> None:
    """Teach the model every viewing and event in the order they happened, as an engine
    serving them would have learned them."""
    for step in steps:
        if step.kind == "open":
            learner.forget_pending()  # what an engine that closed lost
        elif _imported_serve(step):
            inputs, rates = rows[int(step.row["id"])]
            learner.served(step.user_id, int(step.row["video_id"]), inputs, rates)
        elif step.kind == "event":
            event = Event.of(step.row, step.user_id)
            learner.observe(event.user_id, event.video_id, event.kind, event.watched_s)
