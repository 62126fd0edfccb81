"""Offline metrics on logs: how well a policy's predictions and rankings match what viewers
went on to do, with a time-based split (``foryou offline-eval``).

Each viewer's logged impressions are split in time: the first ``split`` share is history the
engine learns from (re-lived through :class:`engine.replay.Replay`, every viewer in recorded
order), the rest is held out. Then, for each viewer, from the state the history left them in
(:meth:`Engine.rank`, which moves nothing):

- prediction: AUC, log loss and calibration (ECE over 10 equal-width bins) of the policy's
  P(complete) and P(like) on the held-out watched impressions (AUC only, on the policy's
  scores, for a policy without the engine's P(action));
- ranking: NDCG@k and recall@k of the viewer's held-out *positives* (videos finished or
  liked) ranked among ``negatives`` videos the viewer never met in the logs (sampled, seeded).

:func:`offline_metrics` takes the held-out rows alone (:class:`HeldOut`: viewer, video, labels,
time) and any ``rank(viewer, video_ids)`` function, so held-out outcomes from elsewhere (an
imported dataset's test split) feed it the same way.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from engine.config import Config
from engine.counterfactual import outcomes_of
from engine.history import timeline_steps
from engine.ranking import Ranking
from engine.replay import Replay, is_revisit
from engine.store import Store
from engine.store.imported import read_heldout
from engine.store.timeline import Timeline

__all__ = [
    "HeldOut",
    "OfflineReport",
    "auc",
    "expected_calibration_error",
    "log_loss",
    "offline_eval",
    "offline_metrics",
]

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
LABELS = ("complete", "like")
BINS = 10


@dataclass(frozen=True)
class HeldOut:
    """One held-out viewing: who watched what, when, and what they did."""

    user_id: int
    video_id: int
    complete: bool
    like: bool
    world_t: float


@dataclass(frozen=True)
class Prediction:
    """How one label's predicted probability (or score) matches the held-out outcomes."""

    label: str
    n: int
    positives: int
    auc: float
    log_loss: float  # nan without probabilities
    ece: float  # nan without probabilities


@dataclass(frozen=True)
class OfflineReport:
    policy: str
    viewers: int  # viewers with held-out rows
    held_out: int
    predictions: dict[str, Prediction]
    k: int
    negatives: int
    ranked_viewers: int  # viewers with at least one held-out positive
    ndcg: float
    recall: float


def auc(scores: F64, labels: npt.NDArray[np.bool_]) -> float:
    """Area under the ROC curve (ties count half); nan unless both classes occur."""
    positives = int(labels.sum())
    negatives = len(labels) - positives
    if positives == 0 or negatives == 0:
        return math.nan
    order = np.argsort(scores, kind="stable")
    ranks = np.empty(len(scores))
    sorted_scores = scores[order]
    # Average ranks over ties (1-based).
    _, first, counts = np.unique(sorted_scores, return_index=True, return_counts=True)
    average = first + (counts + 1) / 2.0
    ranks[order] = np.repeat(average, counts)
    return float((ranks[labels].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def log_loss(p: F64, labels: npt.NDArray[np.bool_]) -> float:
    clipped = np.clip(p, 1e-7, 1 - 1e-7)
    return float(-np.mean(np.where(labels, np.log(clipped), np.log(1 - clipped))))


def expected_calibration_error(p: F64, labels: npt.NDArray[np.bool_], bins: int = BINS) -> float:
    """Σ over equal-width bins of (share of predictions in the bin) × |mean p − hit rate|."""
    which = np.minimum((p * bins).astype(np.int64), bins - 1)
    total = 0.0
    for b in range(bins):
        inside = which == b
        if inside.any():
            total += inside.mean() * abs(float(p[inside].mean()) - float(labels[inside].mean()))
    return total


def offline_metrics(
    rank: Callable[[int, I64], Ranking],
    held_out: Sequence[HeldOut],
    *,
    n_videos: int,
    met: Mapping[int, Collection[int]],
    policy: str = "",
    k: int = 10,
    negatives: int = 100,
    seed: int = 0,
) -> OfflineReport:
    """Prediction and ranking metrics of ``rank`` on held-out rows.

    Args:
        rank: scores of given videos for a viewer (:meth:`Engine.rank`, or anything alike).
        held_out: the held-out viewings (any source).
        n_videos: catalog size (negatives are drawn from ``range(n_videos)``).
        met: per viewer, every video they met anywhere in the data (never a negative).
        k: the cut-off of NDCG@k and recall@k.
        negatives: unseen videos sampled per viewer to rank the positives among.
        seed: the sampling seed (also breaks score ties at random).
    """
    rng = np.random.default_rng(seed)
    by_user: dict[int, list[HeldOut]] = {}
    for row in held_out:
        by_user.setdefault(row.user_id, []).append(row)
    scores: dict[str, list[float]] = {"complete": [], "like": []}
    probabilities: dict[str, list[float]] = {"complete": [], "like": []}
    labels: dict[str, list[bool]] = {"complete": [], "like": []}
    have_p = True
    ndcgs, recalls = [], []
    for user, rows in sorted(by_user.items()):
        ids = np.array([r.video_id for r in rows], dtype=np.int64)
        ranking = rank(user, ids)
        for label in LABELS:
            labels[label] += [bool(getattr(r, label)) for r in rows]
            scores[label] += ranking.scores.tolist()
            if ranking.p is None:
                have_p = False
            else:
                probabilities[label] += ranking.p[label].tolist()
        positives = np.unique([r.video_id for r in rows if r.complete or r.like])
        if len(positives):
            pool = _negatives(rng, n_videos, set(met.get(user, ())) | set(ids.tolist()), negatives)
            ndcg, recall = _ranked(rank, user, positives, pool, k, rng)
            ndcgs.append(ndcg)
            recalls.append(recall)
    predictions = {
        label: _prediction(
            label, scores[label], probabilities[label] if have_p else None, labels[label]
        )
        for label in LABELS
    }
    return OfflineReport(
        policy=policy,
        viewers=len(by_user),
        held_out=len(held_out),
        predictions=predictions,
        k=k,
        negatives=negatives,
        ranked_viewers=len(ndcgs),
        ndcg=float(np.mean(ndcgs)) if ndcgs else math.nan,
        recall=float(np.mean(recalls)) if recalls else math.nan,
    )


def _prediction(
    label: str, scores: list[float], probabilities: list[float] | None, labels: list[bool]
) -> Prediction:
    y = np.array(labels, dtype=np.bool_)
    p = None if probabilities is None else np.array(probabilities)
    return Prediction(
        label=label,
        n=len(y),
        positives=int(y.sum()),
        auc=auc(np.array(scores) if p is None else p, y),
        log_loss=math.nan if p is None else log_loss(p, y),
        ece=math.nan if p is None else expected_calibration_error(p, y),
    )


def _negatives(rng: np.random.Generator, n_videos: int, exclude: set[int], count: int) -> I64:
    allowed = np.setdiff1d(np.arange(n_videos), np.fromiter(exclude, np.int64, len(exclude)))
    chosen: I64 = rng.choice(allowed, size=min(count, len(allowed)), replace=False)
    return chosen


def _ranked(
    rank: Callable[[int, I64], Ranking],
    user: int,
    positives: I64,
    pool: I64,
    k: int,
    rng: np.random.Generator,
) -> tuple[float, float]:
    ids = np.concatenate([positives, pool])
    relevant = np.zeros(len(ids), dtype=np.bool_)
    relevant[: len(positives)] = True
    scores = rank(user, ids).scores
    # Random tie-breaking: a policy scoring everything alike ranks at random, not in our order.
    order = np.lexsort((rng.random(len(ids)), -scores))
    top = relevant[order[:k]]
    gains = 1.0 / np.log2(np.arange(2, k + 2))
    dcg = float(gains[: len(top)][top].sum())
    ideal = float(gains[: min(k, len(positives))].sum())
    return dcg / ideal, float(top.sum()) / len(positives)


# -- from a file's logs ------------------------------------------------------------------------


def offline_eval(
    path: str | Path,
    config: Config,
    *,
    policy: object = None,
    split: float = 0.8,
    k: int = 10,
    negatives: int = 100,
    seed: int = 0,
) -> OfflineReport:
    """Offline metrics of ``config`` (and ``policy``) on the logged impressions in ``path``.

    The engine re-lives the first ``split`` of each viewer's impressions (and their events,
    every viewer in recorded order) and is then scored on the rest (see the module docstring).
    A world made by ``foryou import`` is scored on its stored held-out viewings instead (the
    engine re-lives the whole imported history; ``split`` is not used).

    Raises:
        ValueError: a split outside (0, 1), or nothing held out to evaluate.
        StoreError: the file cannot be opened.
    """
    if not 0 < split < 1:
        raise ValueError(f"split must be between 0 and 1 (exclusive), got {split}")
    with Store.open(path) as store:
        world = store.load_world()
        timeline = Timeline(store.db)
        users = timeline.users()
        impressions = [i for i in timeline.impressions() if not is_revisit(i)]
        observed = outcomes_of(impressions, timeline.events(), world.videos.duration_s)
        steps = timeline_steps(timeline, {int(u["id"]) for u in users})
        imported = read_heldout(store.db)
    if imported:
        # An imported world keeps its later viewings apart (`foryou import --history-until`):
        # the engine learns from the whole history it holds and is scored on those.
        cutoff: dict[int, float] = {}
        held_out = [_held_out_of(row) for row in imported]
    else:
        cutoff, held_out = _split(impressions, observed, split)
    if not held_out:
        raise ValueError(
            "nothing held out to evaluate: no viewer has watched impressions to hold out"
        )
    met: dict[int, set[int]] = {}
    for imp in impressions:
        met.setdefault(int(imp["user_id"]), set()).add(int(imp["video_id"]))
    for held in held_out:  # never sample a viewer's own held-out video as a negative
        met.setdefault(held.user_id, set()).add(held.video_id)
    replay = Replay.over(path, config, steps[0].world_t if steps else 0.0, policy)
    try:
        involved = {s.user_id for s in steps}
        for user in users:
            if user["id"] in involved:
                replay.adopt(user)
        for step in steps:
            if step.kind == "open" or step.at < cutoff.get(step.user_id, math.inf):
                replay.play(step)
        name = getattr(replay.engine.policy, "name", "") or config.name
        return offline_metrics(
            replay.engine.rank,
            held_out,
            n_videos=len(world.videos.duration_s),
            met=met,
            policy=str(name),
            k=k,
            negatives=negatives,
            seed=seed,
        )
    finally:
        replay.close()


def _held_out_of(row: Mapping[str, Any]) -> HeldOut:
    return HeldOut(
        user_id=int(row["user_id"]),
        video_id=int(row["video_id"]),
        complete=bool(row["complete"]),
        like=bool(row["like"]),
        world_t=float(row["world_t"]),
    )


def _split(
    impressions: list[dict[str, object]],
    observed: Mapping[int, Mapping[str, float]],
    split: float,
) -> tuple[dict[int, float], list[HeldOut]]:
    """Per viewer, the wall time their held-out impressions start at, and those rows."""
    by_user: dict[int, list[dict[str, object]]] = {}
    for imp in impressions:
        by_user.setdefault(int(str(imp["user_id"])), []).append(imp)
    cutoff: dict[int, float] = {}
    held: list[HeldOut] = []
    for user, rows in by_user.items():
        rows.sort(key=lambda r: (float(str(r["served_at"])), int(str(r["id"]))))
        first = math.floor(len(rows) * split)
        if first >= len(rows) or first == 0:
            continue
        cutoff[user] = float(str(rows[first]["served_at"]))
        for r in rows[first:]:
            outcome = observed.get(int(str(r["id"])))
            if outcome is None:
                continue  # served, never watched: no label
            held.append(
                HeldOut(
                    user_id=user,
                    video_id=int(str(r["video_id"])),
                    complete=outcome["completion"] > 0,
                    like=outcome["like"] > 0,
                    world_t=float(str(r["world_t"])),
                )
            )
    return cutoff, held
