"""Learned P(action): one online logistic regression per action, shared by every viewer.

The hand-set formula of :mod:`engine.scoring` shifts a video's global rate by a weighted sum of
features; its numbers are not probabilities (on logged impressions it predicted completion 0.77
against 0.27 observed). Here the same features, plus session dynamics (how many of the viewer's
last :data:`SATIATION_WINDOW` videos shared the candidate's topic, creator or sound, how many
of their recent skips were of its topic, and their short-term "topic mood", an exponentially
decayed sum of their last reactions on the topic), the video's length, the viewer's taste
for it (:mod:`engine.taste`: its embedding · the viewer's posterior mean), its co-engagement
with the viewer's recent positives (:mod:`engine.coengagement`: learning from everyone as a
feature, beside the source of that name) and item-kNN's cosine with all of them
(:mod:`engine.similar_viewers`) feed one logistic
model per action in :data:`LEARNED`, whose weights learn from every viewer's outcomes as they
arrive, then a calibration layer (below).

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
- **Calibration layer**: the picks are the candidates the model rated highest, so its errors
  lean one way on what is served (a winner's curse: on a 20k-world run, served videos at 40-70%
  predicted completion were finished 25-40% of the time). Per action, P = σ(c + a·(ℓ - c) + b)
  over the model's logit ℓ (c: the action's typical logit, b: a shift per duration bucket),
  a and b fitted online on the served impressions by Newton steps, a starting at
  :data:`INITIAL_SLOPE`; the receipt shows what it moved the logit by as its ``calibration``
  term.
- **Warm start and persistence**: the state is stored in the file (``learned_models`` table) at
  every session end, at close and every :data:`SAVE_EVERY` updates; a file without one is fitted
  at open on its most recent :data:`WARM_START_LIMIT` logged impressions.
- **Determinism**: the state is a function of the events in order (same events, same weights,
  same picks). Replay re-learns every logged viewing from its stored receipt and, like an
  engine that closes, forgets open viewings at each opening, so recorded sessions rebuild
  exactly. Simulation shards all start from the run's start-state model; a logged run of
  several shards leaves no model in the file (each learned from its own personas only), so the
  next engine refits on every shard's logged impressions. Each viewer's name records its shard,
  so a replay re-lives each shard apart and re-learns exactly what its engine learned, unless
  the session's engine started from such a refit, a later run's or any viewer's after the run
  (a replay learns online; it does not redo the fit).
"""

from __future__ import annotations

import json
import math
from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol

import msgspec
import numpy as np
import numpy.typing as npt

from engine import kernels
from engine.batch import Batch
from engine.catalog import TYPICAL_DURATION_S
from engine.config import Config
from engine.idset import counts_in
from engine.profile import UserState
from engine.scoring import (
    RATE_OF,
    REPORT_PER_NOT_INTERESTED,
    WEIGHT_OF,
    Scores,
    ScoringContext,
    ScoringRows,
    combine_of,
    raw_features_of,
    values,
)
from engine.store import Store
from engine.store.activity import BUILT_MODEL
from engine.taste import taste_rows_of
from engine.world import Videos

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
    "topic mood",
    "duration (log)",
    "liked by everyone",
    "taste",
    "co-engagement",
    "similar viewers",
)
GLOBAL_RATE = "global rate"
CALIBRATION = "calibration"  # the receipt's term of the calibration layer
TERMS: tuple[str, ...] = (*INPUTS, GLOBAL_RATE)
REACTIONS = frozenset(LEARNED) - {"complete"}
UNDONE = {"unlike": "like", "unsave": "save", "unfollow": "follow"}
SATIATION_WINDOW = 10  # last videos seen that the "recent same ..." inputs count
# "topic mood": each recent reaction on the topic counts ±1, times this per newer reaction
# since: what the viewer enjoyed three videos ago weighs a third, ten videos ago nearly nothing.
MOOD_DECAY = 0.7
PLEASED = frozenset({"complete", "like", "share", "save", "rewatch", "comment", "follow"})
DISPLEASED = frozenset({"skip", "not_interested", "report"})
DURATION_CENTRE_S = TYPICAL_DURATION_S  # "duration (log)": log(duration / this), 0 when typical
# Duration buckets (seconds) of the mean watch before a skip: short clips, the body, the long tail.
SKIP_BUCKETS_S = np.array([10.0, 20.0, 40.0, 90.0])
LEARNING_RATE = 0.2  # tuned on a logged 20k-world run: calibrated within ~1k impressions
# The calibration slope before evidence: served picks are over-rated from the start (a Platt
# fit on a 20k-world run's served impressions gave 0.51 for completion, 0.27 for likes), and a
# slope learned from scratch on a lone viewer's first skips moved the feed by luck.
INITIAL_SLOPE = 0.6
CALIBRATION_MEMORY = 0.9995  # evidence kept per update by the calibration layer (it tracks
# a model that keeps learning: about the last 2,000 impressions count)
PRIOR_PRECISION = 1.0  # of each weight around the formula's, for the warm-start fit
PENDING_PER_VIEWER = 4  # picks per viewer whose viewing may still bring labels
SAVE_EVERY = 500  # updates between writes of the learned state to the file
WARM_START_LIMIT = 5000  # most recent logged impressions a file without a model is fitted on
MODEL_NAME = "engine"
_EVERY_ACTION = np.ones(len(LEARNED), dtype=bool)
_DURATION = INPUTS.index("duration (log)")
_LIKED = INPUTS.index("liked by everyone")
# "taste" starts at weight 0 like "liked by everyone": at 1, a lone cold viewer's first swipes
# (all of them misses) steered the feed before any model had learned what the input is worth
# (scripted viewer, science + cars, picks 21-50 from the two: 0.90 -> 0.17; at 0: 0.87).
_TASTE = INPUTS.index("taste")
# "co-engagement" (log(1 + how often viewers engaged with the video alongside this viewer's
# recent positives), engine.coengagement) starts at 0 too: what it is worth is learned. In the
# lab it neither gains nor loses (bench_learning's personas, 200 x 3 sessions x 3 replicates,
# engine arm: watch per session 535.2 -> 526.2 s at persona seed 0, 540.6 -> 538.3 s at seed 5;
# cold loved share 0.247 -> 0.241, 0.253 -> 0.260): a shard's sixteen personas co-engage
# sparsely over 20k videos. It is there for studies and worlds with larger audiences.
_COENGAGED = INPUTS.index("co-engagement")
# "similar viewers" (log(1 + item-item cosine with all the viewer's positives, their shrunk
# mean), engine.similar_viewers) starts at 0 as well: on MovieLens it lifts NDCG@10 0.558 ->
# 0.608; in the lab it neither gains nor loses (README, Real data).
_SIMILAR = INPUTS.index("similar viewers")
_MOOD = INPUTS.index("topic mood")
_FOLLOWED = INPUTS.index("followed")
_FEATURES = slice(INPUTS.index("similarity"), INPUTS.index("freshness") + 1)
assert INPUTS[_FEATURES] == tuple(WEIGHT_OF)
_LIKES = tuple(RATE_OF.values()).index("likes")  # its row of global_rates
_RECENT = INPUTS.index("recent same topic")  # then creator, sound and skips of topic, in a row
assert INPUTS[_RECENT : _RECENT + 4] == (
    "recent same topic",
    "recent same creator",
    "recent same sound",
    "recent skips of topic",
)
_LOG_BUCKETS = np.log(SKIP_BUCKETS_S / DURATION_CENTRE_S)
# The same bounds as Python floats: one example's bucket by bisect (searchsorted's answer
# without its call on a scalar).
_LOG_BUCKET_LIST = _LOG_BUCKETS.tolist()
_SKIP_BUCKET_LIST = SKIP_BUCKETS_S.tolist()
_ALL_ROWS = np.arange(len(LEARNED), dtype=np.int64)  # every action's row, for the kernels
# The calibration slope turns around a typical logit of each action (about KuaiRand's rates:
# completion 16%, like 1.5%, the rarer reactions 0.3%, "not interested" 0.05%), so that
# slope and shift stay apart: turning around 0 would move a like's P by a slope step × 4.5.
_CALIBRATION_CENTRE = (
    np.log(1 / np.array([0.16, 0.015, 0.003, 0.003, 0.003, 0.003, 0.0005]) - 1) * -1
)
# Prior precision of the calibration layer's slope and shifts: the slope moves only on the
# evidence of many impressions, the shifts (the mean) quickly.
_CALIBRATION_PRIOR = np.array([100.0, *([1.0] * (len(SKIP_BUCKETS_S) + 1))])


def sigmoid(x: F64) -> F64:
    # np.clip's own steps (max, then min) without its Python wrappers, which cost more here;
    # then each step in place in the one new array (the same numbers, no temporaries).
    result: F64 = np.maximum(x, -40.0)
    if not isinstance(result, np.ndarray):  # a scalar: no array to work in
        return 1.0 / (1.0 + np.exp(-np.minimum(result, 40.0)))
    np.minimum(result, 40.0, out=result)
    np.negative(result, out=result)
    np.exp(result, out=result)
    np.add(1.0, result, out=result)
    return np.divide(1.0, result, out=result)


def _initial_calibration() -> F64:
    """The calibration layer before evidence: slope :data:`INITIAL_SLOPE`, every shift 0."""
    calibration = np.zeros((len(LEARNED), len(_CALIBRATION_PRIOR)))
    calibration[:, 0] = INITIAL_SLOPE
    return calibration


def _bucket_of(log_duration: F64 | float) -> I64:
    """The duration bucket (:data:`SKIP_BUCKETS_S`) of a "duration (log)" input."""
    result: I64 = _LOG_BUCKETS.searchsorted(log_duration, side="right")
    return result


def calibrated(raw: F64, inputs: F64, calibration: F64) -> F64:
    """The calibration layer, per action: ``c + a·(ℓ - c) + b[bucket]`` (``c``: the action's
    typical logit; ``bucket``: the video's duration bucket, :data:`SKIP_BUCKETS_S`; rows of
    ``raw`` and ``inputs`` align; ``calibration`` is :attr:`OnlineLogit.calibration`)."""
    # Each row's shifts, rows gathered from the (buckets, actions) table: contiguous rows.
    shift = calibration[:, 1:].T[_bucket_of(inputs[:, _DURATION])]
    result: F64 = (raw - _CALIBRATION_CENTRE) * calibration[:, 0] + _CALIBRATION_CENTRE + shift
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
        calibration: (actions, 1 + buckets): per action the slope ``a`` and one shift ``b`` per
            duration bucket of the calibration layer, P = σ(a·ℓ + b) over the model's logit ℓ.
        calibration_evidence: the calibration layer's Σ p(1-p)zzᵀ per action (fading): the
            slope's own entry, then its cross entry with each bucket's shift, then each
            shift's own entry (shifts of different buckets never meet in one impression).
    """

    weights: F64
    grad_sq: F64
    precision: F64
    updates: int = 0
    skip_seconds: F64 = field(default_factory=lambda: np.full(len(SKIP_BUCKETS_S) + 1, 3.0))
    skips: I64 = field(default_factory=lambda: np.zeros(len(SKIP_BUCKETS_S) + 1, np.int64))
    calibration: F64 = field(default_factory=lambda: _initial_calibration())
    calibration_evidence: F64 = field(
        default_factory=lambda: np.zeros((len(LEARNED), 1 + 2 * (len(SKIP_BUCKETS_S) + 1)))
    )

    @classmethod
    def prior(cls, config: Config) -> OnlineLogit:
        """The formula's weights, not yet moved by any evidence."""
        weights = prior_weights(config)
        shape = weights.shape
        return cls(weights, np.zeros(shape), np.full(shape, PRIOR_PRECISION))

    def raw_logits(self, inputs: F64, rates: F64) -> F64:
        """The model's logit ℓ per action, before the calibration layer: one matmul.

        Args:
            inputs: (n, len(INPUTS)) input rows.
            rates: (n, len(LEARNED)) logits of each video's global rate per action.

        Returns:
            (n, len(LEARNED)) logits.
        """
        result: F64 = inputs @ self.weights[:, :-1].T + rates * self.weights[:, -1]
        return result

    def logits(self, inputs: F64, rates: F64) -> F64:
        """logit P(action) for each row: the calibration layer over :meth:`raw_logits`."""
        return calibrated(self.raw_logits(inputs, rates), inputs, self.calibration)

    def probabilities(self, inputs: F64, rates: F64) -> F64:
        """P(action) for each row: the sigmoid of :meth:`logits`; with the kernels
        (:mod:`engine.kernels`), everything after the matmul but numpy's exp in one pass."""
        compiled = kernels.loaded()
        if compiled is None:
            return sigmoid(self.logits(inputs, rates))
        weights = self.weights
        found: F64 = compiled.calibrated_exponents(
            inputs @ weights[:, :-1].T,
            rates,
            np.ascontiguousarray(weights[:, -1]),
            _bucket_of(inputs[:, _DURATION]),
            self.calibration,
            _CALIBRATION_CENTRE,
        )
        np.exp(found, out=found)
        np.add(1.0, found, out=found)
        return np.divide(1.0, found, out=found)

    def update(self, inputs: F64, rates: F64, labels: F64, mask: npt.NDArray[np.bool_]) -> None:
        """One step on one impression for the actions in ``mask``: the model on its own logit,
        the calibration layer on what the model said before this step.

        Args:
            inputs: (len(INPUTS),) the impression's input row at pick time.
            rates: (len(LEARNED),) its global-rate logits at pick time.
            labels: (len(LEARNED),) 1 where the action happened.
            mask: which actions this example teaches.
        """
        compiled = kernels.loaded()
        if compiled is not None:  # the same steps in two kernels around numpy's exp
            self._update_compiled(compiled, inputs, rates, labels, mask)
            return
        rows = slice(None) if mask.all() else np.flatnonzero(mask)
        x = np.empty((len(LEARNED), len(TERMS)))[rows]
        x[:, :-1] = inputs
        x[:, -1] = rates[rows]
        w = self.weights[rows]
        raw = (x * w).sum(axis=1)
        self._update_calibration(rows, raw, inputs[_DURATION], labels[rows])
        p = sigmoid(raw)
        gradient = (p - labels[rows])[:, None] * x
        grad_sq = self.grad_sq[rows] + gradient * gradient
        self.grad_sq[rows] = grad_sq
        self.weights[rows] = w - LEARNING_RATE * gradient / np.sqrt(grad_sq + 1e-12)
        self.precision[rows] += (p * (1 - p))[:, None] * (x * x)

    def _update_compiled(
        self,
        compiled: ModuleType,
        inputs: F64,
        rates: F64,
        labels: F64,
        mask: npt.NDArray[np.bool_],
    ) -> None:
        """:meth:`update` through the kernels (:mod:`engine.kernels`): the same numbers."""
        rows = _ALL_ROWS if mask is _EVERY_ACTION else np.flatnonzero(mask)
        bucket = bisect_right(_LOG_BUCKET_LIST, inputs[_DURATION])
        x, raw, exponents = compiled.logit_update_arguments(
            rows, inputs, rates, self.weights, self.calibration, _CALIBRATION_CENTRE, bucket
        )
        compiled.logit_update_step(
            rows,
            x,
            raw,
            np.exp(exponents),
            labels,
            bucket,
            self.weights,
            self.grad_sq,
            self.precision,
            self.calibration,
            self.calibration_evidence,
            _CALIBRATION_CENTRE,
            _CALIBRATION_PRIOR,
            CALIBRATION_MEMORY,
            LEARNING_RATE,
        )

    def _update_calibration(
        self, rows: slice | I64, raw: F64, log_duration: float, labels: F64
    ) -> None:
        """Platt scaling learned online: one Newton step on the slope and the bucket's shift.

        The model learns from every impression served, but the picks are the candidates it
        rated highest, so its errors lean one way on them (a winner's curse: served videos
        were over-rated). A slope (fitted at about 0.5 for completion on a 20k-world run) and a
        shift per duration bucket, fitted on the same served impressions, take that lean out.
        A few parameters, so each step is a Newton step (the precision of a Laplace filter,
        its evidence fading by :data:`CALIBRATION_MEMORY`): calibrated within a few hundred
        impressions, where a gradient step would need thousands.
        """
        buckets = len(SKIP_BUCKETS_S) + 1
        bucket = bisect_right(_LOG_BUCKET_LIST, log_duration)  # _bucket_of's, for one
        slope, shift = self.calibration[rows, 0], self.calibration[rows, 1 + bucket]
        centred = raw - _CALIBRATION_CENTRE[rows]
        p = sigmoid(slope * centred + shift + _CALIBRATION_CENTRE[rows])
        weight = p * (1 - p)
        evidence = self.calibration_evidence[rows] * CALIBRATION_MEMORY
        evidence[:, 0] += weight * centred * centred  # slope, slope
        evidence[:, 1 + bucket] += weight * centred  # slope, this bucket's shift
        evidence[:, 1 + buckets + bucket] += weight  # this bucket's shift, itself
        self.calibration_evidence[rows] = evidence
        # Newton step in the plane of the two parameters this impression moves (the other
        # buckets' shifts do not enter its prediction): a 2x2 solve, written out.
        s_aa = evidence[:, 0] + _CALIBRATION_PRIOR[0]
        s_ab = evidence[:, 1 + bucket]
        s_bb = evidence[:, 1 + buckets + bucket] + _CALIBRATION_PRIOR[1 + bucket]
        g_a, g_b = (p - labels) * centred, p - labels
        det = s_aa * s_bb - s_ab * s_ab
        self.calibration[rows, 0] = slope - (s_bb * g_a - s_ab * g_b) / det
        self.calibration[rows, 1 + bucket] = shift - (s_aa * g_b - s_ab * g_a) / det

    def note_watch(self, watched_s: float, duration_s: float) -> None:
        """A skip: move the mean seconds watched before skipping."""
        bucket = bisect_right(_SKIP_BUCKET_LIST, duration_s)  # searchsorted's, for one
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
            w = _newton_fit(x, labels[:, a], self.weights[a].copy())
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
                "calibration": self.calibration.tolist(),
                "calibration_evidence": self.calibration_evidence.tolist(),
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
        same = np.shape(stored.get("calibration_evidence", ())) == model.calibration_evidence.shape
        if same and np.shape(stored["calibration"]) == model.calibration.shape:  # else: initial
            model.calibration = np.asarray(stored["calibration"], dtype=np.float64)
            evidence = stored["calibration_evidence"]
            model.calibration_evidence = np.asarray(evidence, dtype=np.float64)
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
            built = source.learned_model(BUILT_MODEL)
            self.model, self.warm_started = fitted_on(
                source.learning_history(WARM_START_LIMIT),
                config,
                start=None if built is None else OnlineLogit.from_json(built, config),
            )
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


def _newton_fit(x: F64, y: F64, centre: F64, steps: int = 8) -> F64:
    """The weights of most posterior probability for the examples ``x`` with labels ``y``,
    under a Gaussian prior at ``centre`` of precision PRIOR_PRECISION: Newton's method, each
    step halved until the penalised loss falls.

    A full step can overshoot: on 5,000 impressions logged by a simulation, P(complete)'s
    loss went 4,354 -> 3,070 -> 4,689 -> ... -> 1.4 million in eight full steps, weights up
    to 369, and a new viewer's first pick read P(complete) 100% (observed: 17%).
    """

    def loss(w: F64) -> float:
        z = x @ w
        spread = w - centre
        return float(np.logaddexp(0.0, z).sum() - y @ z + 0.5 * PRIOR_PRECISION * spread @ spread)

    w, current = centre.copy(), loss(centre)
    for _ in range(steps):
        p = sigmoid(x @ w)
        gradient = x.T @ (p - y) + PRIOR_PRECISION * (w - centre)
        hessian = (x.T * (p * (1 - p))) @ x + PRIOR_PRECISION * np.eye(len(w))
        step = np.linalg.solve(hessian, gradient)
        for _halving in range(30):
            tried = w - step
            value = loss(tried)
            if value <= current:
                break
            step = step / 2
        else:
            break  # no step lowers the loss any more: the optimum, as far as floats tell
        w, current = tried, value
    return w


def fitted_on(
    rows: Iterable[Mapping[str, Any]], config: Config, *, start: OnlineLogit | None = None
) -> tuple[OnlineLogit, int]:
    """The warm start of a file without a stored model: the formula's weights (or ``start``,
    the world's model as built) fitted on its logged impressions
    (:meth:`ModelSource.learning_history`'s rows), and how many closed.
    """
    model = OnlineLogit.prior(config) if start is None else start
    inputs, rates, labels = history_examples(rows, config)
    model.fit(inputs, rates, labels)
    return model, len(inputs)


def store_as_built(path: Path, model: OnlineLogit) -> int:
    """Store ``model`` as a new world's: the engine's (the first feed resumes it) and the
    world's own as built (:data:`BUILT_MODEL`, which replays and evaluations start from).
    Returns how many viewings it learned from."""
    state, updates = model.to_json(), int(model.updates)
    with Store.open(path, check=False) as store:  # a build's own file, written just now
        store.save_learned_model(MODEL_NAME, state, updates)
        store.save_learned_model(BUILT_MODEL, state, updates)
    return updates


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


def input_matrix_of(rows: ScoringRows, rates: F64 | None = None) -> F64:
    """The (n, len(INPUTS)) input rows of every row of a batch of viewers now.

    Args:
        rates: the rows' :func:`global_rates`, if already gathered (the likes' feed "liked by
            everyone").
    """
    v = rows.ctx.catalog.world.videos
    ids, batch = rows.ids, rows.batch
    raw = raw_features_of(rows)
    matrix = np.empty((len(ids), len(INPUTS)))
    matrix[:, 0] = 1.0
    for name, values_of in raw.items():
        matrix[:, INPUTS.index(name)] = values_of
    if batch.viewers == 1:  # one viewer: its own windows and mood, without the batch's keys
        matrix[:, _RECENT : _RECENT + 4] = _recent_shares_alone(rows.states[0], v, ids)
        matrix[:, _MOOD] = topic_mood(rows.states[0], v.topic_id).take(v.topic_id[ids])
    else:
        _recent_shares(matrix, rows)
        moods = np.stack([topic_mood(s, v.topic_id) for s in rows.states])
        matrix[:, _MOOD] = moods[batch.viewer, v.topic_id[ids]]
    duration = np.maximum(v.duration_s[ids].astype(np.float64), 1.0)
    matrix[:, _DURATION] = np.log(duration / DURATION_CENTRE_S)
    like_rate = None if rates is None else rates[_LIKES]
    matrix[:, _LIKED] = liked_by_everyone(ids, rows.ctx, like_rate)
    matrix[:, _TASTE] = taste_rows_of(rows.states, batch.viewer, v.embedding, ids)
    matrix[:, _COENGAGED] = rows.coengagement
    matrix[:, _SIMILAR] = rows.similar_viewers
    return matrix


def _recent_shares(matrix: F64, rows: ScoringRows) -> None:
    """The "recent same ..." and "recent skips of topic" columns of a batch's input rows."""
    v = rows.ctx.catalog.world.videos
    ids, batch = rows.ids, rows.batch
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


def _recent_shares_alone(state: UserState, v: Videos, ids: I64) -> F64:
    """:func:`_recent_shares` of one viewer's rows, (rows, 4) in the inputs' order: each
    count a binary search in the sorted window, without the batch's padding and keys."""
    shown = np.array(list(state.shown)[-SATIATION_WINDOW:], dtype=np.int64)
    skipped = np.array(
        [video for kind, video in state.reactions if kind == "skip"][-SATIATION_WINDOW:],
        dtype=np.int64,
    )
    topics, sounds = v.topic_id[ids], v.sound_id[ids]
    recent_sounds = v.sound_id[shown]
    shares = np.empty((len(ids), 4))
    # A topic's count in a window is one bincount over the few topics, read per row; a
    # creator's and a sound's, a comparison with the short window: the same whole numbers.
    n_topics = len(state.topic_affinity)
    for k, window_ids in ((0, shown), (3, skipped)):
        counts = np.bincount(v.topic_id[window_ids], minlength=n_topics).take(topics)
        shares[:, k] = counts / SATIATION_WINDOW
    pairs: tuple[tuple[int, npt.NDArray[np.integer], npt.NDArray[np.integer]], ...] = (
        (1, v.creator_id[shown], v.creator_id[ids]),
        (2, recent_sounds[recent_sounds >= 0], sounds),  # a video without a sound repeats none
    )
    for k, recent, values_ in pairs:
        shares[:, k] = counts_in(values_, recent) / SATIATION_WINDOW
    return shares


def liked_by_everyone(ids: I64, ctx: ScoringContext, like_rate: F64 | None = None) -> F64:
    """The logit of each video's smoothed global like rate minus that of the average video (0
    for a video nobody has seen yet): how well it holds everyone at any length, where its
    completion rate mostly measures its length. Every action's model may use it; its weights
    start at 0.

    Args:
        like_rate: the rows' like rates as :func:`global_rates` gives them, if already
            gathered (the same numbers :meth:`engine.catalog.Engagement.logit` reads).
    """
    engagement = ctx.catalog.engagement
    average = (engagement.totals["likes"] + 1.0) / (engagement.totals["views"] + 2.0)
    if like_rate is None:
        logit = engagement.logit("likes", ids, ctx.config.scoring.prior_views)
    else:
        logit = np.log(like_rate / (1.0 - like_rate))
    result: F64 = logit - math.log(average / (1.0 - average))
    return result


def topic_mood(state: UserState, topic_of: npt.NDArray[np.integer]) -> F64:
    """The viewer's short-term mood per topic: Σ ±MOOD_DECAY^age over their recent reactions
    (+ for finishing, looping or reacting, − for a skip or "not interested"; age counts the
    newer such reactions). It follows a change of mood within a session within a few videos,
    where the profile's affinities move slowly.

    Args:
        state: the viewer (``state.reactions``, newest last).
        topic_of: each video's topic id.

    Returns:
        (topics,) the mood of every topic, 0 for a topic without recent reactions.
    """
    mood = np.zeros(len(state.topic_affinity))
    told = [
        (1.0 if kind in PLEASED else -1.0, video)
        for kind, video in state.reactions
        if kind in PLEASED or kind in DISPLEASED
    ]
    if not told:
        return mood
    signs = np.array([sign for sign, _ in told])
    videos = np.array([video for _, video in told], dtype=np.int64)
    weights = MOOD_DECAY ** np.arange(len(told) - 1, -1, -1, dtype=np.float64)
    mood += np.bincount(topic_of[videos], signs * weights, minlength=len(mood))[: len(mood)]
    return mood


def _column_of(column: npt.NDArray[np.integer], videos: I64) -> I64:
    """A per-video column of padded video ids (padding stays -1, which no value equals)."""
    found: I64 = np.where(videos >= 0, column[np.maximum(videos, 0)], -1)
    return found


def _share_of(batch: Batch, values_: npt.NDArray[np.integer], recent: I64) -> F64:
    """How many of each row's viewer's ``recent`` (padded with -1) equal its value, out of
    SATIATION_WINDOW."""
    counts: F64 = batch.count_in(recent, values_) / SATIATION_WINDOW
    return counts


def global_rates(ids: I64, ctx: ScoringContext) -> F64:
    """(len(RATE_OF), n) each candidate's smoothed global rate per counter, kept within
    [1e-6, 1 - 1e-6]."""
    engagement = ctx.catalog.engagement
    scoring = ctx.config.scoring
    by_length = scoring.completion_prior == "length"
    rates = engagement.rates(tuple(RATE_OF.values()), ids, scoring.prior_views, by_length=by_length)
    clipped: F64 = np.minimum(np.maximum(rates, 1e-6), 1 - 1e-6)  # np.clip's steps
    return clipped


def rate_logits(ids: I64, ctx: ScoringContext, rates: F64 | None = None) -> F64:
    """(n, len(LEARNED)) logit of each candidate's smoothed global rate per action ("not
    interested" has no counter: 0, its bias carries the base rate); ``rates``: their
    :func:`global_rates`, if already gathered."""
    rates = global_rates(ids, ctx) if rates is None else rates
    logits = np.zeros((len(ids), len(LEARNED)))
    logits[:, : len(RATE_OF)] = np.log(rates / (1 - rates)).T
    return logits


def learned_scores_of(rows: ScoringRows, model: OnlineLogit) -> Scores:
    """The engine's score with P(action) from the learned model, for every row of a batch of
    viewers (one matmul for all).

    Value per pick is Σ value(a)·P(a) as before, with watching valued per second: with
    ``v = complete / 30 + complete_per_minute / 60`` (``[reactions]``; ``complete`` is now what
    finishing a typical 30 s video is worth), completing is worth ``v × duration`` and a skip
    ``early_skip × σ(-z) + v × E[partial]``, E[partial] being the learned mean seconds
    watched before a skip of a video of that length (at most the duration). So the expected
    value holds ``v × (P(complete)·duration + (1 - P(complete))·E[partial])``, the expected
    seconds watched: a long video is worth more only as far as it is likely to be finished.
    """
    ids, ctx = rows.ids, rows.ctx
    gathered = global_rates(ids, ctx)
    inputs = input_matrix_of(rows, gathered)
    rates = rate_logits(ids, ctx, gathered)
    prob = model.probabilities(inputs, rates)
    p = {a: prob[:, k] for k, a in enumerate(LEARNED)}
    followed = inputs[:, _FOLLOWED] == 1.0  # followed_of(rows), already in the inputs
    p["follow"] = np.where(followed, 0.0, p["follow"])
    p["skip"] = 1.0 - p["complete"]
    p["report"] = p["not_interested"] * REPORT_PER_NOT_INTERESTED
    # The receipt's "features" are the completion model's terms of the profile's features
    # (what reasons() and "why it matched you" tell; the session's and the video's own terms
    # are in the receipt's learned terms).
    # The receipt needs the calibration layer beside the weights: they travel together.
    weights = np.concatenate([model.weights, model.calibration], axis=1)
    # Only the profile's features' columns (INPUTS' slice of WEIGHT_OF's names).
    contributions = inputs[:, _FEATURES] * model.weights[0, _FEATURES]
    feats = {name: contributions[:, k] for k, name in enumerate(WEIGHT_OF)}
    z = np.sum(list(feats.values()), axis=0) if len(ids) else np.zeros(0)
    vals = values(ids, z, ctx)
    duration = ctx.catalog.valued_duration[ids]  # a made-up length is valued as typical
    r = ctx.config.reactions
    per_second = r.complete / DURATION_CENTRE_S + r.complete_per_minute / 60.0
    vals["complete"] = per_second * duration
    bucket = np.searchsorted(SKIP_BUCKETS_S, duration, side="right")
    partial = np.minimum(model.skip_seconds[bucket], duration)
    vals["skip"] = vals["skip"] + per_second * partial
    return combine_of(rows, feats, z, p, vals, inputs=inputs, rates=rates, weights=weights)


def receipt_terms(scores: Scores, i: int) -> dict[str, dict[str, float]]:
    """Each learned action's weight × input for candidate ``i``, and the calibration layer's
    term (what it moved the model's logit ℓ by): they sum to logit P."""
    if scores.inputs is None or scores.rates is None or scores.weights is None:
        return {}
    return receipt_terms_many(scores.weights, scores.inputs[i, None], scores.rates[i, None])[0]


def receipt_terms_many(weights: F64, inputs: F64, rates: F64) -> list[dict[str, dict[str, float]]]:
    """:func:`receipt_terms` of several candidates (rows of ``inputs`` and ``rates``) under
    one model's ``weights``, in one pass over the rows. Element by element the arithmetic is
    that of one row alone (each row's ``weights @ x`` is still its own product), so a
    receipt's numbers do not depend on how many were written together."""
    terms, calibration = weights[:, : len(TERMS)], weights[:, len(TERMS) :]
    raw = np.stack([terms[:, :-1] @ x for x in inputs]) + terms[:, -1] * rates
    moved = (calibrated(raw, inputs, calibration) - raw).tolist()
    products = (terms[None, :, :-1] * inputs[:, None, :]).tolist()
    rated = (terms[:, -1] * rates).tolist()
    written = []
    for row_products, row_rated, row_moved in zip(products, rated, moved, strict=True):
        by_action: dict[str, dict[str, float]] = {}
        for k, action in enumerate(LEARNED):
            row = dict(zip(INPUTS, row_products[k], strict=True))
            row[GLOBAL_RATE] = row_rated[k]
            row[CALIBRATION] = row_moved[k]
            by_action[action] = row
        written.append(by_action)
    return written
