"""Learned P(action): one online logistic regression per action, shared by every viewer.

The hand-set formula of :mod:`engine.scoring` shifts a video's global rate by a weighted sum of
features; its numbers are not probabilities (on logged impressions it predicted completion 0.77
against 0.27 observed). Here the same features, plus session dynamics (how many of the viewer's
last :data:`SATIATION_WINDOW` videos shared the candidate's topic, creator or sound, and how many
of their recent skips were of its topic) and the video's length, feed one logistic model per
action in :data:`LEARNED`, whose weights learn from every viewer's outcomes as they arrive.

- **Inputs** (:data:`INPUTS`, then ``"global rate"``): the logit of the video's smoothed global
  rate for that action is an input like any other (its weight starts at 1), so the model
  starts exactly where the formula is and learns how far to trust each part.
- **Prior**: the initial weights reproduce the formula (the config's ``[scoring]`` weights; "not
  interested" mirrors them around ``logit(base_not_interested)``), so a fresh world starts as
  before and drifts only as evidence arrives.
- **Learning**: per-coordinate adaptive gradient steps (AdaGrad on the log loss), deterministic
  and in order; a diagonal precision Σ p(1-p)x² kept beside each weight gives its uncertainty.
- **Label window**: an impression is learned from when it closes (``complete`` or ``skip``): the
  ``complete`` label, and for each reaction whether it arrived before the close. A reaction on the
  same viewing after the close (a like once the video looped) and while the pick is among the
  viewer's last :data:`PENDING_PER_VIEWER` adds one positive step for that action; an undo
  (unlike, unsave, unfollow) before the close takes its label back. The feature row is the one
  the pick's receipt holds (``Receipt.inputs`` and ``Receipt.rates``): the features at pick
  time, not recomputed.
- **Warm start and persistence**: the state is stored in the file (``learned_models`` table) at
  every session end, at close and every :data:`SAVE_EVERY` updates; a file without one is fitted
  at open on its most recent :data:`WARM_START_LIMIT` logged impressions.
- **Determinism**: the state is a function of the events in order (same events, same weights,
  same picks). Replay re-learns every logged viewing from its stored receipt and, like an
  engine that closes, forgets open viewings at each opening, so recorded sessions rebuild
  exactly. Simulation shards all start from the run's start-state model.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import msgspec
import numpy as np
import numpy.typing as npt

from engine.batch import Batch
from engine.config import Config
from engine.profile import UserState
from engine.scoring import (
    RATE_OF,
    REPORT_PER_NOT_INTERESTED,
    WEIGHT_OF,
    Scores,
    ScoringContext,
    ScoringRows,
    combine_of,
    followed_of,
    raw_features_of,
    values,
)

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

LEARNED: tuple[str, ...] = (
    "complete",
    "like",
    "share",
    "save",
    "comment",
    "follow",
    "not_interested",
)
INPUTS: tuple[str, ...] = (
    "bias",
    "similarity",
    "topic",
    "hashtags",
    "sound",
    "creator",
    "followed",
    "new from followed",
    "language",
    "country",
    "freshness",
    "recent same topic",
    "recent same creator",
    "recent same sound",
    "recent skips of topic",
    "duration (log)",
)
GLOBAL_RATE = "global rate"
TERMS: tuple[str, ...] = (*INPUTS, GLOBAL_RATE)
REACTIONS = frozenset(LEARNED) - {"complete"}
UNDONE = {"unlike": "like", "unsave": "save", "unfollow": "follow"}
SATIATION_WINDOW = 10  # last videos seen that the "recent same ..." inputs count
DURATION_CENTRE_S = 30.0  # "duration (log)" is log(duration / this): 0 for a typical video
# Duration buckets (seconds) of the mean watch before a skip: short clips, the body, the long tail.
SKIP_BUCKETS_S = np.array([10.0, 20.0, 40.0, 90.0])
LEARNING_RATE = 0.2  # tuned on a logged 20k-world run: calibrated within ~1k impressions
PRIOR_PRECISION = 1.0  # of each weight around the formula's, for the warm-start fit
PENDING_PER_VIEWER = 4  # picks per viewer whose viewing may still bring labels
SAVE_EVERY = 500  # updates between writes of the learned state to the file
WARM_START_LIMIT = 5000  # most recent logged impressions a file without a model is fitted on
MODEL_NAME = "engine"
_EVERY_ACTION = np.ones(len(LEARNED), dtype=bool)
_DURATION = INPUTS.index("duration (log)")


def sigmoid(x: F64) -> F64:
    result: F64 = 1.0 / (1.0 + np.exp(-np.clip(x, -40.0, 40.0)))
    return result


def prior_weights(config: Config) -> F64:
    """Weights (one row per action of :data:`LEARNED`, one column per term of :data:`TERMS`)
    that reproduce the formula of :mod:`engine.scoring`: logit P = logit(rate) + z."""
    s = config.scoring
    weights = np.zeros((len(LEARNED), len(TERMS)))
    for j, name in enumerate(TERMS):
        if name in WEIGHT_OF:
            weights[:, j] = float(getattr(s, WEIGHT_OF[name]))
    weights[:, TERMS.index(GLOBAL_RATE)] = 1.0
    ni = LEARNED.index("not_interested")
    # The formula's P(not interested) = base × exp(-z): the logit mirrors z around the base.
    weights[ni] *= -1.0
    weights[ni, TERMS.index(GLOBAL_RATE)] = 0.0
    base = min(max(s.base_not_interested, 1e-6), 1 - 1e-6)  # the config allows 0 and 1
    weights[ni, TERMS.index("bias")] = math.log(base / (1 - base))
    return weights


@dataclass
class OnlineLogit:
    """Per-action logistic regressions over one shared input row, learned one example at a time.

    Attributes:
        weights: (actions, terms); column ``-1`` multiplies the action's global-rate logit.
        grad_sq: AdaGrad's running sum of squared gradients, per weight.
        precision: Σ p(1-p)x² per weight (plus the prior's): its inverse is the weight's variance.
        updates: impressions learned from.
        skip_seconds: mean seconds watched of a skipped video, per duration bucket
            (:data:`SKIP_BUCKETS_S`): a swipe takes seconds whatever the length, a viewer who
            was hooked leaves a long video later; a share of the length would make every long
            video look watched for long.
        skips: skips learned from, per bucket.
    """

    weights: F64
    grad_sq: F64
    precision: F64
    updates: int = 0
    skip_seconds: F64 = field(default_factory=lambda: np.full(len(SKIP_BUCKETS_S) + 1, 3.0))
    skips: I64 = field(default_factory=lambda: np.zeros(len(SKIP_BUCKETS_S) + 1, np.int64))

    @classmethod
    def prior(cls, config: Config) -> OnlineLogit:
        """The formula's weights, not yet moved by any evidence."""
        weights = prior_weights(config)
        shape = weights.shape
        return cls(weights, np.zeros(shape), np.full(shape, PRIOR_PRECISION))

    def logits(self, inputs: F64, rates: F64) -> F64:
        """logit P(action) for each row: one matmul for every action.

        Args:
            inputs: (n, len(INPUTS)) input rows.
            rates: (n, len(LEARNED)) logits of each video's global rate per action.

        Returns:
            (n, len(LEARNED)) logits.
        """
        result: F64 = inputs @ self.weights[:, :-1].T + rates * self.weights[:, -1]
        return result

    def update(self, inputs: F64, rates: F64, labels: F64, mask: npt.NDArray[np.bool_]) -> None:
        """One step on one impression for the actions in ``mask``.

        Args:
            inputs: (len(INPUTS),) the impression's input row at pick time.
            rates: (len(LEARNED),) its global-rate logits at pick time.
            labels: (len(LEARNED),) 1 where the action happened.
            mask: which actions this example teaches.
        """
        rows = slice(None) if mask.all() else np.flatnonzero(mask)
        x = np.empty((len(LEARNED), len(TERMS)))[rows]
        x[:, :-1] = inputs
        x[:, -1] = rates[rows]
        w = self.weights[rows]
        p = sigmoid((x * w).sum(axis=1))
        gradient = (p - labels[rows])[:, None] * x
        grad_sq = self.grad_sq[rows] + gradient * gradient
        self.grad_sq[rows] = grad_sq
        self.weights[rows] = w - LEARNING_RATE * gradient / np.sqrt(grad_sq + 1e-12)
        self.precision[rows] += (p * (1 - p))[:, None] * (x * x)

    def note_watch(self, watched_s: float, duration_s: float) -> None:
        """A skip: move the mean seconds watched before skipping."""
        bucket = int(np.searchsorted(SKIP_BUCKETS_S, duration_s, side="right"))
        self.skips[bucket] += 1
        seconds = min(max(watched_s, 0.0), max(duration_s, 0.0))
        step = (seconds - self.skip_seconds[bucket]) / min(int(self.skips[bucket]), 10_000)
        self.skip_seconds[bucket] += step

    def fit(self, inputs: F64, rates: F64, labels: F64) -> None:
        """Warm start: the most probable weights given these impressions and the current
        weights as a Gaussian prior (Newton's method, per action); AdaGrad's sums and the
        precisions are set as if the examples had been learned one by one.

        Args:
            inputs: (n, len(INPUTS)); rates and labels: (n, len(LEARNED)).
        """
        n = len(inputs)
        if n == 0:
            return
        for a in range(len(LEARNED)):
            x = np.concatenate([inputs, rates[:, a : a + 1]], axis=1)
            centre = self.weights[a].copy()
            w = centre.copy()
            for _ in range(8):
                p = sigmoid(x @ w)
                gradient = x.T @ (p - labels[:, a]) + PRIOR_PRECISION * (w - centre)
                hessian = (x.T * (p * (1 - p))) @ x + PRIOR_PRECISION * np.eye(len(w))
                w = w - np.linalg.solve(hessian, gradient)
            p = sigmoid(x @ w)
            self.weights[a] = w
            self.grad_sq[a] += (((p - labels[:, a])[:, None] * x) ** 2).sum(axis=0)
            self.precision[a] += ((p * (1 - p))[:, None] * x**2).sum(axis=0)
        self.updates += n

    def uncertainty(self) -> F64:
        """Standard deviation of each weight (diagonal Laplace approximation)."""
        result: F64 = 1.0 / np.sqrt(self.precision)
        return result

    def to_json(self) -> str:
        return json.dumps(
            {
                "actions": list(LEARNED),
                "terms": list(TERMS),
                "weights": self.weights.tolist(),
                "grad_sq": self.grad_sq.tolist(),
                "precision": self.precision.tolist(),
                "updates": self.updates,
                "skip_seconds": self.skip_seconds.tolist(),
                "skips": self.skips.tolist(),
            }
        )

    @classmethod
    def from_json(cls, text: str, config: Config) -> OnlineLogit:
        """A stored state; actions or terms this code does not know start from the prior."""
        stored = json.loads(text)
        model = cls.prior(config)
        actions, terms = stored["actions"], stored["terms"]
        for name in ("weights", "grad_sq", "precision"):
            target = getattr(model, name)
            values = np.asarray(stored[name], dtype=np.float64)
            for i, action in enumerate(actions):
                if action not in LEARNED:
                    continue
                for j, term in enumerate(terms):
                    if term in TERMS:
                        target[LEARNED.index(action), TERMS.index(term)] = values[i, j]
        model.updates = int(stored["updates"])
        if len(stored.get("skip_seconds", ())) == len(model.skip_seconds):  # else: afresh
            model.skip_seconds = np.asarray(stored["skip_seconds"], dtype=np.float64)
            model.skips = np.asarray(stored["skips"], dtype=np.int64)
        return model


class ModelSource(Protocol):
    """Where a learned state is resumed from (:class:`engine.start.Start`)."""

    def learned_model(self, name: str) -> str | None: ...

    def learning_history(self, limit: int) -> list[dict[str, Any]]: ...


class ModelSink(Protocol):
    """Where it is saved (:class:`engine.store.Store`)."""

    def save_learned_model(self, name: str, state: str, updates: int) -> None: ...


@dataclass
class _Viewing:
    inputs: F64
    rates: F64
    happened: set[str] = field(default_factory=set)
    closed: bool = False


class Learner:
    """The model and what ties it to events: the open viewings' rows, the labels, the file."""

    def __init__(self) -> None:
        self.model: OnlineLogit | None = None
        self._pending: dict[int, dict[int, _Viewing]] = {}
        self._sink: ModelSink | None = None
        self._since_save = 0
        self.warm_started = 0  # impressions fitted at open

    def ready(self, config: Config) -> OnlineLogit:
        """The model, at the formula's prior if nothing was loaded."""
        if self.model is None:
            self.model = OnlineLogit.prior(config)
        return self.model

    def resume(self, source: ModelSource, config: Config, *, sink: ModelSink | None) -> None:
        """Load the stored learned state, or fit one on the recent logged impressions.

        Args:
            sink: where :meth:`save` writes the state (also every SAVE_EVERY updates); None
                keeps it in memory.
        """
        stored = source.learned_model(MODEL_NAME)
        if stored is not None:
            self.model = OnlineLogit.from_json(stored, config)
        else:
            self.model = OnlineLogit.prior(config)
            history = source.learning_history(WARM_START_LIMIT)
            inputs, rates, labels = history_examples(history, config)
            self.model.fit(inputs, rates, labels)
            self.warm_started = len(inputs)
        self._sink = sink

    def save(self) -> None:
        """Write the state to the file (if it was resumed from a writable one and learned
        since: an engine that only looked leaves the file untouched)."""
        if self._sink is not None and self.model is not None and self._since_save:
            self._sink.save_learned_model(MODEL_NAME, self.model.to_json(), self.model.updates)
            self._since_save = 0

    def forget_pending(self) -> None:
        """Drop open viewings (what an engine that closes loses)."""
        self._pending.clear()

    def served(
        self,
        user_id: int,
        video_id: int,
        receipt_inputs: Mapping[str, float],
        receipt_rates: Mapping[str, float],
    ) -> None:
        """A pick was served: keep its receipt's row until its viewing's labels are in."""
        if not receipt_inputs:
            return  # a receipt of another scorer: nothing to learn from
        viewer = self._pending.setdefault(user_id, {})
        viewer.pop(video_id, None)
        viewer[video_id] = _Viewing(
            np.array([receipt_inputs.get(k, 0.0) for k in INPUTS]),
            np.array([receipt_rates.get(a, 0.0) for a in LEARNED]),
        )
        while len(viewer) > PENDING_PER_VIEWER:
            del viewer[next(iter(viewer))]

    def observe(
        self, user_id: int, video_id: int | None, kind: str, watched_s: float | None
    ) -> None:
        """Learn from one event on a served viewing (others teach nothing)."""
        if self.model is None or video_id is None:
            return
        viewing = self._pending.get(user_id, {}).get(video_id)
        if viewing is None:
            return
        if kind in ("complete", "skip") and not viewing.closed:
            viewing.closed = True
            labels = np.zeros(len(LEARNED))
            labels[0] = kind == "complete"
            for action in viewing.happened:
                labels[LEARNED.index(action)] = 1.0
            self.model.update(viewing.inputs, viewing.rates, labels, _EVERY_ACTION)
            if kind == "skip" and watched_s is not None:
                duration_s = DURATION_CENTRE_S * math.exp(viewing.inputs[_DURATION])
                self.model.note_watch(watched_s, duration_s)
            self._counted()
        elif kind in UNDONE and not viewing.closed:
            viewing.happened.discard(UNDONE[kind])  # taken back before the close: not a label
        elif kind in REACTIONS and kind not in viewing.happened:
            viewing.happened.add(kind)
            if viewing.closed:  # after the close, before the next pick: one positive step
                mask = np.array([a == kind for a in LEARNED])
                self.model.update(viewing.inputs, viewing.rates, mask.astype(np.float64), mask)
                self._since_save += 1

    def _counted(self) -> None:
        assert self.model is not None
        self.model.updates += 1
        self._since_save += 1
        if self._since_save >= SAVE_EVERY:
            self.save()


def history_examples(rows: Iterable[Mapping[str, Any]], config: Config) -> tuple[F64, F64, F64]:
    """Examples from logged impressions: the receipt's row at pick time and the outcomes of
    the impression's events (receipts written before the model existed give their row back
    through the formula: see :func:`_receipt_row`).

    Args:
        rows: ``{"receipt": json, "events": [kind, ...]}`` per impression, oldest first.
        config: whose ``[scoring]`` weights older receipts' contributions are divided by.

    Returns:
        inputs (n, len(INPUTS)), rates (n, len(LEARNED)), labels (n, len(LEARNED)) of the
        impressions that closed.
    """
    inputs, rates, labels = [], [], []
    for row in rows:
        kinds = set(row["events"])
        if not kinds & {"complete", "skip"}:
            continue
        row_inputs, row_rates = _receipt_row(_LOGGED.decode(row["receipt"]), config)
        if row_inputs is None:
            continue
        inputs.append(row_inputs)
        rates.append(row_rates)
        labels.append([1.0 if a in kinds else 0.0 for a in LEARNED])
    if not inputs:
        empty = np.zeros((0, len(LEARNED)))
        return np.zeros((0, len(INPUTS))), empty, empty.copy()
    return np.array(inputs), np.array(rates), np.array(labels)


class _Logged(msgspec.Struct):
    """The parts of a stored receipt a warm start reads (decoding skips the rest: fast)."""

    inputs: dict[str, float] = {}
    rates: dict[str, float] = {}
    terms: dict[str, dict[str, float]] = {}
    features: dict[str, float] = {}
    affinity: float = 0.0


_LOGGED = msgspec.json.Decoder(_Logged)


def _receipt_row(receipt: _Logged, config: Config) -> tuple[list[float] | None, list[float]]:
    """A receipt's input row and global-rate logits. A receipt from before the model has
    neither: its rates come back from logit p = logit(rate) + affinity, its inputs from each
    feature's contribution divided by the formula's weight (the session's own config may have
    had other weights; the fit corrects what that skews). None: nothing to learn from."""
    if receipt.inputs:
        return [receipt.inputs.get(k, 0.0) for k in INPUTS], [
            receipt.rates.get(a, 0.0) for a in LEARNED
        ]
    terms, features = receipt.terms, receipt.features
    if "complete" not in terms or not features:
        return None, []
    affinity = receipt.affinity
    row_rates = []
    for a in LEARNED:
        p = min(max(float(terms.get(a, {}).get("p", 0.0)), 1e-6), 1 - 1e-6)
        row_rates.append(math.log(p / (1 - p)) - affinity if a != "not_interested" else 0.0)
    row = [0.0] * len(INPUTS)
    row[0] = 1.0
    for name, contribution in features.items():
        weight = float(getattr(config.scoring, WEIGHT_OF.get(name, "-"), 0.0))
        if name in INPUTS and weight:
            row[INPUTS.index(name)] = float(contribution) / weight
    return row, row_rates


# -- scoring with the learned model ----------------------------------------------------------


def input_matrix(ids: I64, similarity: F64 | None, state: UserState, ctx: ScoringContext) -> F64:
    """The (n, len(INPUTS)) input rows of the candidates for this viewer now."""
    return input_matrix_of(ScoringRows.of([ids], [similarity], [state], [ctx]))


def input_matrix_of(rows: ScoringRows) -> F64:
    """:func:`input_matrix` of every row of a batch of viewers."""
    v = rows.ctx.catalog.world.videos
    ids, batch = rows.ids, rows.batch
    raw = raw_features_of(rows)
    matrix = np.empty((len(ids), len(INPUTS)))
    matrix[:, 0] = 1.0
    for name, values_of in raw.items():
        matrix[:, INPUTS.index(name)] = values_of
    recent = batch.padded(
        [list(s.shown)[-SATIATION_WINDOW:] for s in rows.states], SATIATION_WINDOW
    )
    columns: tuple[tuple[str, npt.NDArray[np.integer]], ...] = (
        ("recent same topic", v.topic_id),
        ("recent same creator", v.creator_id),
        ("recent same sound", v.sound_id),
    )
    for name, column in columns:
        matrix[:, INPUTS.index(name)] = _share_of(batch, column[ids], _column_of(column, recent))
    skipped = batch.padded(
        [
            [video for kind, video in s.reactions if kind == "skip"][-SATIATION_WINDOW:]
            for s in rows.states
        ],
        SATIATION_WINDOW,
    )
    matrix[:, INPUTS.index("recent skips of topic")] = _share_of(
        batch, v.topic_id[ids], _column_of(v.topic_id, skipped)
    )
    duration = np.maximum(v.duration_s[ids].astype(np.float64), 1.0)
    matrix[:, INPUTS.index("duration (log)")] = np.log(duration / DURATION_CENTRE_S)
    return matrix


def _column_of(column: npt.NDArray[np.integer], videos: I64) -> I64:
    """A per-video column of padded video ids (padding stays -1, which no value equals)."""
    found: I64 = np.where(videos >= 0, column[np.maximum(videos, 0)], -1)
    return found


def _share_of(batch: Batch, values_: npt.NDArray[np.integer], recent: I64) -> F64:
    """How many of each row's viewer's ``recent`` (padded with -1) equal its value, out of
    SATIATION_WINDOW."""
    counts: F64 = (values_[:, None] == recent[batch.viewer]).sum(axis=1) / SATIATION_WINDOW
    return counts


def rate_logits(ids: I64, ctx: ScoringContext) -> F64:
    """(n, len(LEARNED)) logit of each candidate's smoothed global rate per action ("not
    interested" has no counter: 0, its bias carries the base rate)."""
    engagement = ctx.catalog.engagement
    rates = engagement.rates(tuple(RATE_OF.values()), ids, ctx.config.scoring.prior_views)
    rates = np.clip(rates, 1e-6, 1 - 1e-6)
    logits = np.zeros((len(ids), len(LEARNED)))
    logits[:, : len(RATE_OF)] = np.log(rates / (1 - rates)).T
    return logits


def learned_scores(
    ids: I64,
    similarity: F64 | None,
    state: UserState,
    ctx: ScoringContext,
    model: OnlineLogit,
) -> Scores:
    """The engine's score with P(action) from the learned model.

    Value per pick is Σ value(a)·P(a) as before, with watching valued per second: with
    ``v = complete / 30 + complete_per_minute / 60`` (``[reactions]``; ``complete`` is now what
    finishing a typical 30 s video is worth), completing is worth ``v × duration`` and a skip
    ``early_skip × σ(-z) + v × E[partial]``, E[partial] being the learned mean seconds
    watched before a skip of a video of that length (at most the duration). So the expected
    value holds ``v × (P(complete)·duration + (1 - P(complete))·E[partial])``, the expected
    seconds watched: a long video is worth more only as far as it is likely to be finished.
    """
    return learned_scores_of(ScoringRows.of([ids], [similarity], [state], [ctx]), model)


def learned_scores_of(rows: ScoringRows, model: OnlineLogit) -> Scores:
    """:func:`learned_scores` of every row of a batch of viewers (one matmul for all)."""
    ids, ctx = rows.ids, rows.ctx
    inputs = input_matrix_of(rows)
    rates = rate_logits(ids, ctx)
    prob = sigmoid(model.logits(inputs, rates))
    p = {a: prob[:, k] for k, a in enumerate(LEARNED)}
    followed = followed_of(rows)
    p["follow"] = np.where(followed, 0.0, p["follow"])
    p["skip"] = 1.0 - p["complete"]
    p["report"] = p["not_interested"] * REPORT_PER_NOT_INTERESTED
    # The receipt's "features" are the completion model's terms of the profile's features
    # (what reasons() and "why it matched you" tell; the session's and the video's own terms
    # are in the receipt's learned terms).
    weights = model.weights.copy()
    contributions = inputs * weights[0, :-1]
    feats = {name: contributions[:, INPUTS.index(name)] for name in WEIGHT_OF}
    z = np.sum(list(feats.values()), axis=0) if len(ids) else np.zeros(0)
    vals = values(ids, z, ctx)
    duration = ctx.catalog.world.videos.duration_s[ids].astype(np.float64)
    r = ctx.config.reactions
    per_second = r.complete / DURATION_CENTRE_S + r.complete_per_minute / 60.0
    vals["complete"] = per_second * duration
    bucket = np.searchsorted(SKIP_BUCKETS_S, duration, side="right")
    partial = np.minimum(model.skip_seconds[bucket], duration)
    vals["skip"] = vals["skip"] + per_second * partial
    return combine_of(rows, feats, z, p, vals, inputs=inputs, rates=rates, weights=weights)


def receipt_terms(scores: Scores, i: int) -> dict[str, dict[str, float]]:
    """Each learned action's weight × input for candidate ``i``: they sum to logit P."""
    if scores.inputs is None or scores.rates is None or scores.weights is None:
        return {}
    products = (scores.weights[:, :-1] * scores.inputs[i]).tolist()
    rated = (scores.weights[:, -1] * scores.rates[i]).tolist()
    terms: dict[str, dict[str, float]] = {}
    for k, action in enumerate(LEARNED):
        row = dict(zip(INPUTS, products[k], strict=True))
        row[GLOBAL_RATE] = rated[k]
        terms[action] = row
    return terms
