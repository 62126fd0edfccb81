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
  liked) ranked among ``negatives`` videos the viewer never met in the logs (sampled, seeded);
- replay: Li et al.'s rejection replay over the held-out rows in time order
  (:func:`rejection_replay`), after the metrics above since matched rows move the engine;
- learning curve: hit@k of each viewer's next positive after 0, 5, ... 100+ of their viewings,
  taken while the history is re-lived (:class:`LearningCurve`).

:func:`offline_metrics` takes the held-out rows alone (:class:`HeldOut`: viewer, video, labels,
time) and any ``rank(viewer, video_ids)`` function, so held-out outcomes from elsewhere (an
imported dataset's test split) feed it the same way.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from engine.config import Config
from engine.counterfactual import outcomes_of
from engine.folders import whole_file
from engine.history import Step, timeline_steps
from engine.ranking import Ranking
from engine.replay import Replay, is_revisit
from engine.store import Store
from engine.store.imported import IMPORTED, read_heldout
from engine.store.timeline import Timeline

__all__ = [
    "CHECKPOINTS",
    "CurvePoint",
    "HeldOut",
    "LearningCurve",
    "OfflineReport",
    "Rate",
    "ReplayEstimate",
    "auc",
    "expected_calibration_error",
    "log_loss",
    "offline_eval",
    "offline_metrics",
    "plot_curves",
    "rejection_replay",
]

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
LABELS = ("complete", "like")
REWARDS = ("like", "complete", "not_interested")
BINS = 10
DEFAULT_SPLIT = 0.8  # of a logged world: the share of each viewer's impressions re-lived
Z95 = 1.959964
# Viewings of a viewer the engine has applied before a learning-curve point is taken; the last
# point takes every viewer with at least that many.
CHECKPOINTS = (0, 5, 10, 20, 50, 100)


@dataclass(frozen=True)
class HeldOut:
    """One held-out viewing: who watched what, when, and what they did."""

    user_id: int
    video_id: int
    complete: bool
    like: bool
    world_t: float
    not_interested: bool = False


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
class Rate:
    """A share of trials, with its 95% Wilson score interval."""

    hits: int
    n: int
    value: float  # nan when n is 0
    low: float
    high: float

    @classmethod
    def of(cls, hits: int, n: int, z: float = Z95) -> Rate:
        if n == 0:
            return cls(hits, n, math.nan, math.nan, math.nan)
        p = hits / n
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
        return cls(hits, n, p, max(0.0, centre - half), min(1.0, centre + half))


@dataclass(frozen=True)
class ReplayEstimate:
    """Li et al.'s rejection replay over the held-out rows (see :func:`rejection_replay`).

    Attributes:
        trials: held-out rows offered to the policy, in time order.
        candidates: videos per trial (the logged one and ``candidates - 1`` never met).
        matched: trials whose logged video was the policy's top pick, as a share of trials.
        rewards: among matched trials, the share liked, finished and marked not interested:
            the replay estimate of what the policy's picks would have got.
    """

    trials: int
    candidates: int
    matched: Rate
    rewards: dict[str, Rate]


@dataclass(frozen=True)
class CurvePoint:
    """Hit rate of the next positive after a viewer's first ``seen`` viewings (see
    :data:`CHECKPOINTS`)."""

    seen: int
    label: str  # "0", "5", ... and "100+" for the last
    hit: Rate


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
    replay: ReplayEstimate | None = None
    curve: tuple[CurvePoint, ...] = ()
    # The share of each viewer's log the engine learned from: ``split``, or on an imported
    # world the import's ``--history-until`` (``held_out_at_import``; NaN if not recorded).
    history_share: float = math.nan
    held_out_at_import: bool = False


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


# -- replay and the learning curve -----------------------------------------------------------


def rejection_replay(
    rank: Callable[[int, I64], Ranking],
    trials: Sequence[HeldOut],
    *,
    n_videos: int,
    met: Mapping[int, Collection[int]],
    on_match: Callable[[int], None] | None = None,
    negatives: int = 100,
    seed: int = 0,
) -> ReplayEstimate:
    """Li et al.'s rejection replay (WSDM 2011) of ``rank`` on logged rows in time order.

    Each trial offers the policy the logged video and ``negatives`` videos its viewer never met
    (sampled, seeded; ties broken at random); when the policy's top pick is the logged video
    the trial counts, with the logged outcome as its reward, and ``on_match(index)`` lets the
    policy see that event before the next trial (the algorithm's history holds matched events
    only). Unbiased for the policy's reward when the logger chose uniformly among the offered
    videos; real logs were not chosen so (see the README's caveat).

    Args:
        rank: scores of given videos for a viewer (:meth:`Engine.rank`, or anything alike).
        trials: the logged rows, in the order they happened.
        n_videos: catalog size (the other candidates are drawn from ``range(n_videos)``).
        met: per viewer, every video they met anywhere in the data (never a candidate).
        on_match: called with a trial's index when it counts.
    """
    rng = np.random.default_rng(seed)
    matched = 0
    hits = dict.fromkeys(REWARDS, 0)
    for index, trial in enumerate(trials):
        exclude = set(met.get(trial.user_id, ())) | {trial.video_id}
        ids = np.concatenate([[trial.video_id], _negatives(rng, n_videos, exclude, negatives)])
        if _place(rank(trial.user_id, ids).scores, rng) != 0:
            continue
        matched += 1
        for reward in REWARDS:
            hits[reward] += bool(getattr(trial, reward))
        if on_match is not None:
            on_match(index)
    return ReplayEstimate(
        trials=len(trials),
        candidates=negatives + 1,
        matched=Rate.of(matched, len(trials)),
        rewards={reward: Rate.of(hits[reward], matched) for reward in REWARDS},
    )


def _place(scores: F64, rng: np.random.Generator) -> int:
    """Where the first item lands in a best-first order with ties broken at random."""
    order = np.lexsort((rng.random(len(scores)), -scores))
    return int(np.flatnonzero(order == 0)[0])


class LearningCurve:
    """Prequential hit rate: before each viewing the engine re-lives, if the viewing was a
    positive (finished or liked) and the viewer has just passed a checkpoint of
    :data:`CHECKPOINTS` viewings, is that video in the policy's top ``k`` among ``negatives``
    videos the viewer never met? Each viewer counts at most once per checkpoint (at their first
    positive past it), so heavy viewers do not fill the later points alone.

    Args:
        rank: the policy's scores now (the engine as the replay has left it).
    """

    def __init__(
        self,
        rank: Callable[[int, I64], Ranking],
        *,
        n_videos: int,
        met: Mapping[int, Collection[int]],
        k: int,
        negatives: int,
        seed: int,
    ) -> None:
        self.rank, self.n_videos, self.met = rank, n_videos, met
        self.k, self.negatives = k, negatives
        self.rng = np.random.default_rng(seed)
        self._seen: dict[int, int] = {}
        self._next: dict[int, int] = {}  # viewer -> index of the next checkpoint to take
        self._hits = [0] * len(CHECKPOINTS)
        self._n = [0] * len(CHECKPOINTS)

    def before_viewing(self, user_id: int, video_id: int, *, positive: bool) -> None:
        """The engine is about to apply this viewing of ``video_id``."""
        seen = self._seen.get(user_id, 0)
        self._seen[user_id] = seen + 1
        point = self._next.get(user_id, 0)
        if not positive or point >= len(CHECKPOINTS) or seen < CHECKPOINTS[point]:
            return
        reached = max(i for i, c in enumerate(CHECKPOINTS) if c <= seen)
        self._next[user_id] = reached + 1
        exclude = set(self.met.get(user_id, ())) | {video_id}
        pool = _negatives(self.rng, self.n_videos, exclude, self.negatives)
        ids = np.concatenate([[video_id], pool])
        self._n[reached] += 1
        self._hits[reached] += _place(self.rank(user_id, ids).scores, self.rng) < self.k

    def points(self) -> tuple[CurvePoint, ...]:
        last = len(CHECKPOINTS) - 1
        return tuple(
            CurvePoint(c, f"{c}+" if i == last else str(c), Rate.of(self._hits[i], self._n[i]))
            for i, c in enumerate(CHECKPOINTS)
        )


def plot_curves(curves: Mapping[str, Sequence[CurvePoint]], path: str | Path, *, k: int) -> None:
    """Draw learning curves (one line per policy, 95% intervals as bars) to a PNG.

    Raises:
        OSError: the file cannot be written.
    """
    import matplotlib

    matplotlib.use("Agg")  # no display: a file, from any thread or worker
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for name, points in curves.items():
        shown = [p for p in points if p.hit.n]
        x = np.arange(len(shown))
        value = np.array([p.hit.value for p in shown])
        below = value - np.array([p.hit.low for p in shown])
        above = np.array([p.hit.high for p in shown]) - value
        ax.errorbar(x, value, yerr=[below, above], marker="o", capsize=3, label=name)
        ax.set_xticks(x, [p.label for p in shown])
    ax.set_xlabel("the viewer's viewings the engine had seen")
    ax.set_ylabel(f"hit@{k} of the next positive")
    ax.set_ylim(0, 1)
    ax.legend()
    fig.tight_layout()
    try:
        with whole_file(Path(path)) as scratch:
            fig.savefig(scratch, dpi=110, metadata={"Software": None})
    finally:
        plt.close(fig)


# -- from a file's logs ------------------------------------------------------------------------

HELDOUT_IMPRESSIONS = 10**12  # ids of the viewings a matched held-out row is replayed as


@dataclass(frozen=True)
class _Trial:
    held: HeldOut
    at: float
    key: int  # the impression id (logged split) or the heldout row id (imported)


def offline_eval(
    path: str | Path,
    config: Config,
    *,
    policy: object = None,
    split: float | None = None,
    k: int = 10,
    negatives: int = 100,
    seed: int = 0,
    replay: bool = True,
    curve: bool = True,
) -> OfflineReport:
    """Offline metrics of ``config`` (and ``policy``) on the logged impressions in ``path``.

    The engine re-lives the first ``split`` (default 0.8) of each viewer's impressions (and
    their events, every viewer in recorded order) and is then scored on the rest (see the module
    docstring). A world made by ``foryou import`` is scored on its stored held-out viewings
    instead: the engine re-lives the whole imported history, and a ``split`` is refused (the
    import's ``--history-until`` fixed it; the report's ``history_share`` gives that share).

    Args:
        replay: also run :func:`rejection_replay` over the held-out rows in time order (after
            the ranking metrics, which it must not leak into: matched rows move the engine).
        curve: also take the :class:`LearningCurve` while the history is re-lived.

    Raises:
        ValueError: a split outside (0, 1), a split for an imported world, or nothing held
            out to evaluate.
        StoreError: the file cannot be opened.
    """
    if split is not None and not 0 < split < 1:
        raise ValueError(f"split must be between 0 and 1 (exclusive), got {split}")
    with Store.open(path) as store:
        imported = read_heldout(store.db)
        imported_history = store.meta().get("imported_history_until")
        if imported:
            _refuse_split(split, imported_history)
        world = store.load_world()
        timeline = Timeline(store.db)
        users = timeline.users()
        impressions = [i for i in timeline.impressions() if not is_revisit(i)]
        events = timeline.events()
        observed = outcomes_of(impressions, events, world.videos.duration_s)
        steps = timeline_steps(timeline, {int(u["id"]) for u in users})
    if imported:
        # An imported world keeps its later viewings apart (`foryou import --history-until`):
        # the engine learns from the whole history it holds and is scored on those.
        share = math.nan if imported_history is None else float(imported_history)
        cutoff: dict[int, float] = {}
        trials = [_Trial(_held_out_of(row), float(row["at"]), int(row["id"])) for row in imported]
        rows_by_id = {int(row["id"]): row for row in imported}
    else:
        dismissed = {
            int(e["impression_id"])
            for e in events
            if e["kind"] == "not_interested" and e["impression_id"] is not None
        }
        share = DEFAULT_SPLIT if split is None else split
        cutoff, trials = _split(impressions, observed, dismissed, share)
        rows_by_id = {}
    held_out = [t.held for t in trials]
    if not held_out:
        raise ValueError(
            "nothing held out to evaluate: no viewer has watched impressions to hold out"
        )
    met: dict[int, set[int]] = {}
    for imp in impressions:
        met.setdefault(int(imp["user_id"]), set()).add(int(imp["video_id"]))
    for held in held_out:  # never sample a viewer's own held-out video as a negative
        met.setdefault(held.user_id, set()).add(held.video_id)
    n_videos = len(world.videos.duration_s)
    relived = Replay.over(path, config, steps[0].world_t if steps else 0.0, policy)
    try:
        engine = relived.engine
        learning = (
            LearningCurve(
                engine.rank, n_videos=n_videos, met=met, k=k, negatives=negatives, seed=seed
            )
            if curve
            else None
        )
        involved = {s.user_id for s in steps}
        for user in users:
            if user["id"] in involved:
                relived.adopt(user)  # as they signed up: the steps bring their history
        positions = _relive(relived, steps, cutoff, observed, learning)
        name = getattr(engine.policy, "name", "") or config.name
        report = offline_metrics(
            engine.rank,
            held_out,
            n_videos=n_videos,
            met=met,
            policy=str(name),
            k=k,
            negatives=negatives,
            seed=seed,
        )
        estimate = None
        if replay:
            matches = _Matches(relived, trials, rows_by_id, _later_steps(steps, cutoff), positions)
            estimate = rejection_replay(
                engine.rank,
                [t.held for t in matches.trials],
                n_videos=n_videos,
                met=met,
                on_match=matches.play,
                negatives=negatives,
                seed=seed + 2,
            )
        curve_points = () if learning is None else learning.points()
        return replace(
            report,
            replay=estimate,
            curve=curve_points,
            history_share=share,
            held_out_at_import=bool(imported),
        )
    finally:
        relived.close()


def _refuse_split(split: float | None, history_until: str | None) -> None:
    # The held-out rows of an imported world were fixed when it was built: a split given here
    # would change nothing, and printing it as what was held out misstated the evaluation.
    if split is None:
        return
    made = "" if history_until is None else f" (here {float(history_until):g})"
    raise ValueError(
        f"--split does not apply to an imported world: its held-out rows were set by "
        f"`foryou import --history-until`{made}; re-import to change them"
    )


class _Matches:
    """The held-out trials in time order, and what a matched one plays to the engine: an
    imported row as the viewing its history would have held, a logged split's own steps."""

    def __init__(
        self,
        relived: Replay,
        trials: Sequence[_Trial],
        imported: Mapping[int, Mapping[str, Any]],
        later: Mapping[int, list[Step]],
        positions: dict[int, int],
    ) -> None:
        self.relived, self.imported, self.later, self.positions = (
            relived,
            imported,
            later,
            positions,
        )
        self.trials = sorted(trials, key=lambda t: (t.at, t.key))

    def play(self, index: int) -> None:
        trial = self.trials[index]
        user = trial.held.user_id
        if trial.key in self.imported:
            position = self.positions.get(user, -1) + 1
            steps = _imported_steps(self.imported[trial.key], position)
        else:
            steps = self.later.get(trial.key, [])
        for step in steps:
            if step.kind == "serve":
                self.positions[user] = int(step.row["position"])
            self.relived.play(step)


def _relive(
    relived: Replay,
    steps: Sequence[Step],
    cutoff: Mapping[int, float],
    observed: Mapping[int, Mapping[str, float]],
    learning: LearningCurve | None,
) -> dict[int, int]:
    """Play every step before each viewer's cutoff (the curve's points taken on the way);
    returns each viewer's last position served."""
    positions: dict[int, int] = {}
    for step in steps:
        if step.kind != "open" and step.at >= cutoff.get(step.user_id, math.inf):
            continue
        if step.kind == "serve":
            positions[step.user_id] = int(step.row["position"])
            if learning is not None and not is_revisit(step.row):
                outcome = observed.get(int(step.row["id"]))
                positive = outcome is not None and (outcome["completion"] + outcome["like"]) > 0
                learning.before_viewing(step.user_id, int(step.row["video_id"]), positive=positive)
        relived.play(step)
    return positions


def _later_steps(steps: Sequence[Step], cutoff: Mapping[int, float]) -> dict[int, list[Step]]:
    """The held-out steps of a logged split, by impression: what a matched trial replays."""
    later: dict[int, list[Step]] = {}
    for step in steps:
        if step.kind == "open" or step.at < cutoff.get(step.user_id, math.inf):
            continue
        key = (
            step.row.get("id") if step.kind in ("serve", "seen") else step.row.get("impression_id")
        )
        if key is not None:
            later.setdefault(int(key), []).append(step)
    return later


def _imported_steps(row: Mapping[str, Any], position: int) -> list[Step]:
    """A matched held-out row of an imported world as the viewing its history would have
    held: served, on screen, then its events (the import's rule, stored in ``kinds``)."""
    user, video = int(row["user_id"]), int(row["video_id"])
    at, world_t = float(row["at"]), float(row["world_t"])
    impression = {
        "id": HELDOUT_IMPRESSIONS + int(row["id"]),
        "user_id": user,
        "video_id": video,
        "position": position,
        "source": IMPORTED,
    }
    steps = [
        Step("serve", at, user, world_t, impression),
        Step("seen", at, user, world_t, impression),
    ]
    for kind in str(row["kinds"] or "").split(","):
        if not kind:
            continue
        closing = kind in ("complete", "skip")
        event = {
            "user_id": user,
            "video_id": video,
            "impression_id": impression["id"],
            "kind": kind,
            "at": at,
            "world_t": world_t,
            "watched_s": float(row["watched_s"] or 0.0) if closing else None,
            "scope": "video" if kind == "not_interested" else None,
            "imported": 1,
        }
        steps.append(Step("event", at, user, world_t, event))
    return steps


def _held_out_of(row: Mapping[str, Any]) -> HeldOut:
    return HeldOut(
        user_id=int(row["user_id"]),
        video_id=int(row["video_id"]),
        complete=bool(row["complete"]),
        like=bool(row["like"]),
        world_t=float(row["world_t"]),
        not_interested="not_interested" in str(row["kinds"] or "").split(","),
    )


def _split(
    impressions: list[dict[str, object]],
    observed: Mapping[int, Mapping[str, float]],
    dismissed: Collection[int],
    split: float,
) -> tuple[dict[int, float], list[_Trial]]:
    """Per viewer, the wall time their held-out impressions start at, and those rows."""
    by_user: dict[int, list[dict[str, object]]] = {}
    for imp in impressions:
        by_user.setdefault(int(str(imp["user_id"])), []).append(imp)
    cutoff: dict[int, float] = {}
    held: list[_Trial] = []
    for user, rows in by_user.items():
        rows.sort(key=lambda r: (float(str(r["served_at"])), int(str(r["id"]))))
        first = math.floor(len(rows) * split)
        if first >= len(rows) or first == 0:
            continue
        cutoff[user] = float(str(rows[first]["served_at"]))
        for r in rows[first:]:
            impression = int(str(r["id"]))
            outcome = observed.get(impression)
            if outcome is None:
                continue  # served, never watched: no label
            row = HeldOut(
                user_id=user,
                video_id=int(str(r["video_id"])),
                complete=outcome["completion"] > 0,
                like=outcome["like"] > 0,
                world_t=float(str(r["world_t"])),
                not_interested=impression in dismissed,
            )
            held.append(_Trial(row, float(str(r["served_at"])), impression))
    return cutoff, held
