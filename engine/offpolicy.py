"""Off-policy estimators: what a target policy would have scored, from another policy's logs.

Each logged impression ``i`` had its video picked by the logging policy with probability
``logging[i]`` (the stored propensity), got an outcome ``reward[i]``, and would have been picked
by the target policy with probability ``target[i]`` (0 if the target never shows it there).
With importance weights ``w = target / logging`` (optionally clipped at ``clip``) and a reward
model ``q`` (its prediction for the logged pick, and its expectation under the target):

- DM (direct method): the mean of ``q`` under the target; as right as the model, no more;
- IPS: mean of ``w · r``; unbiased whenever the logging policy could pick everything the
  target picks, but noisy when weights are large;
- SNIPS (self-normalised IPS): ``Σ w r / Σ w``; slightly biased, far steadier;
- DR (doubly robust): the model under the target, corrected by the weighted error of the
  model on the logged pick; unbiased if either the propensities or the model are right;
- SWITCH-DR (Wang et al. 2017): DR where ``w ≤ tau``, the model alone where the weight is
  larger, trading a little bias for much less variance;
- DRos (DR with optimistic shrinkage, Su et al. 2020): DR with every weight shrunk to
  ``λ w / (w² + λ)``; ``λ`` is picked from a grid to minimise the estimated squared bias (the
  shrunk terms' mean gap to DR's) plus variance.

Impressions of one session are not independent (one viewer, one evolving profile), so the
confidence intervals are cluster-robust by session: the variance comes from per-session sums,
in closed form (a linearisation for SNIPS), which needs no resampling loop and gives the same
answer every run. The effective sample size ``(Σw)² / Σw²`` says how many on-policy
impressions the estimate is worth, and the mean unclipped weight estimates how much of the
target's probability lies where the logging policy could pick at all (1 under full support).

All of these are *per decision*: the target's probability of each logged pick is taken in the
state the logging policy led the viewer into. What the target would have done to that state
(another profile, a longer or shorter session) is invisible to them.
:func:`session_estimates` treats each session as a slate of positions instead, which can see
it at a price in variance (its docstring gives each form's assumption).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

__all__ = [
    "METHODS",
    "SESSION_METHODS",
    "Bandit",
    "Estimate",
    "Estimates",
    "effective_sample_size",
    "estimate",
    "session_estimates",
]

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
Z95 = 1.959963984540054  # two-sided 95% normal quantile
METHODS = ("DM", "IPS", "SNIPS", "DR", "SWITCH-DR", "DRos")
MODEL_METHODS = frozenset({"DM", "DR", "SWITCH-DR", "DRos"})
SESSION_METHODS = ("independent", "cascade", "pseudo-inverse", "session-IPS")
POOR_ESS = 0.10  # an effective sample under 10% of the impressions gets a warning
POOR_SUPPORT = 0.90  # a mean weight under 0.9: a tenth of the target lies outside the logs


@dataclass(frozen=True)
class Bandit:
    """Logged decisions as contextual-bandit data (arrays of equal length)."""

    reward: F64
    logging: F64  # logging policy's probability of the logged action (> 0)
    target: F64  # target policy's probability of the same action
    cluster: I64  # session of each impression (confidence intervals are clustered by it)
    model_logged: F64 | None = None  # reward model's prediction for the logged action
    model_target: F64 | None = None  # reward model's expected value under the target policy

    @property
    def weights(self) -> F64:
        weights: F64 = self.target / self.logging
        return weights


@dataclass(frozen=True)
class Estimate:
    method: str
    value: float
    std_error: float
    low: float  # 95% confidence interval
    high: float


@dataclass(frozen=True)
class Estimates:
    """One outcome's estimates, with the diagnostics that say how far to trust them.

    Attributes:
        methods: estimator name (:data:`METHODS`) -> its estimate, in the order asked.
        mean_weight: mean unclipped weight: the share of the target's probability on picks
            the logging policy could make (about 1 under full support).
        warnings: plain-language reasons to distrust the weighted estimates (empty: none).
    """

    n: int
    sessions: int
    effective_sample_size: float
    unsupported: float  # share of logged picks the target would never make (weight 0)
    max_weight: float
    logged: Estimate  # the logging policy's own (on-policy) mean
    methods: dict[str, Estimate] = field(default_factory=dict)
    mean_weight: float = 1.0
    clip: float | None = None
    warnings: tuple[str, ...] = ()

    @property
    def ips(self) -> Estimate:
        return self.methods["IPS"]

    @property
    def snips(self) -> Estimate:
        return self.methods["SNIPS"]

    @property
    def dr(self) -> Estimate | None:
        return self.methods.get("DR")


def effective_sample_size(weights: F64) -> float:
    total = float(weights.sum())
    squares = float((weights**2).sum())
    return total * total / squares if squares > 0 else 0.0


def _cluster_se(deviations: F64, cluster: I64, scale: float) -> float:
    """Cluster-robust standard error of a sum of deviations divided by ``scale``."""
    _, index = np.unique(cluster, return_inverse=True)
    sums = np.bincount(index, weights=deviations)
    groups = len(sums)
    if groups < 2 or scale <= 0:
        return math.nan
    variance = float((sums**2).sum()) * groups / (groups - 1)
    return math.sqrt(variance) / scale


def _estimate(method: str, value: float, std_error: float, z: float) -> Estimate:
    return Estimate(method, value, std_error, value - z * std_error, value + z * std_error)


def _mean(method: str, terms: F64, cluster: I64, z: float) -> Estimate:
    value = float(terms.mean())
    return _estimate(method, value, _cluster_se(terms - value, cluster, len(terms)), z)


def _check(data: Bandit, methods: Sequence[str], clip: float | None) -> None:
    n = len(data.reward)
    if n == 0:
        raise ValueError("no logged impressions to evaluate")
    lengths = {len(data.logging), len(data.target), len(data.cluster)}
    if lengths != {n}:
        raise ValueError("reward, logging, target and cluster must have one value per impression")
    if (data.logging <= 0).any():
        raise ValueError("every logged probability must be positive")
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise ValueError(f"unknown estimator {unknown[0]!r} (known: {', '.join(METHODS)})")
    if clip is not None and not clip > 0:
        raise ValueError(f"clip must be a positive weight, got {clip}")
    if any(m in MODEL_METHODS for m in methods) and (
        data.model_logged is None or data.model_target is None
    ):
        raise ValueError("DM, DR, SWITCH-DR and DRos need a reward model")


def estimate(
    data: Bandit,
    methods: Sequence[str] | None = None,
    *,
    clip: float | None = None,
    tau: float | None = None,
    shrinkage: float | None = None,
    z: float = Z95,
) -> Estimates:
    """Off-policy estimates of the target's mean reward per decision.

    Args:
        methods: estimators to run (names of :data:`METHODS`); default IPS and SNIPS, and
            DR when the data carries a reward model.
        clip: cap on every importance weight (less variance, some bias); default none.
        tau: SWITCH-DR's weight threshold (default: the 95th percentile of the weights, at
            least 1).
        shrinkage: DRos's ``λ`` (default: tuned, see the module docstring).

    Raises:
        ValueError: no data, mismatched lengths, a logged probability that is not positive,
            an unknown estimator, a clip that is not positive, or a model-based estimator
            without a reward model.
    """
    has_model = data.model_logged is not None and data.model_target is not None
    wanted = list(methods or (["IPS", "SNIPS", "DR"] if has_model else ["IPS", "SNIPS"]))
    _check(data, wanted, clip)
    raw, r, cluster = data.weights, data.reward, data.cluster
    w = raw if clip is None else np.minimum(raw, clip)
    results = {m: _method(m, data, w, z, tau, shrinkage) for m in wanted}
    ess, n = effective_sample_size(w), len(r)
    mean_weight = float(raw.mean())
    return Estimates(
        n=n,
        sessions=len(np.unique(cluster)),
        effective_sample_size=ess,
        unsupported=float((raw == 0).mean()),
        max_weight=float(raw.max()),
        logged=_mean("logged", r, cluster, z),
        methods=results,
        mean_weight=mean_weight,
        clip=clip,
        warnings=_warnings(ess, n, mean_weight, clip),
    )


def _warnings(ess: float, n: int, mean_weight: float, clip: float | None) -> tuple[str, ...]:
    found = []
    if ess < POOR_ESS * n:
        found.append(
            f"effective sample size {ess:,.0f} is under {POOR_ESS:.0%} of {n:,} impressions: "
            "the weighted estimates rest on a few picks"
        )
    if mean_weight < POOR_SUPPORT and clip is None:
        found.append(
            f"mean weight {mean_weight:.2f}: about {1 - mean_weight:.0%} of the target's picks "
            "are ones the logging policy could not make (poor support; IPS is biased low)"
        )
    return tuple(found)


def _method(
    method: str, data: Bandit, w: F64, z: float, tau: float | None, shrinkage: float | None
) -> Estimate:
    r, cluster = data.reward, data.cluster
    if method == "IPS":
        return _mean(method, w * r, cluster, z)
    if method == "SNIPS":
        total = float(w.sum())
        if total <= 0:
            return Estimate(method, math.nan, math.nan, math.nan, math.nan)
        value = float((w * r).sum() / total)
        return _estimate(method, value, _cluster_se(w * (r - value), cluster, total), z)
    assert data.model_logged is not None and data.model_target is not None  # by _check
    q_logged, q_target = data.model_logged, data.model_target
    if method == "DM":
        return _mean(method, q_target, cluster, z)
    if method == "DR":
        return _mean(method, q_target + w * (r - q_logged), cluster, z)
    if method == "SWITCH-DR":
        threshold = tau if tau is not None else max(1.0, float(np.quantile(w, 0.95)))
        return _mean(method, q_target + w * (w <= threshold) * (r - q_logged), cluster, z)
    lam = shrinkage if shrinkage is not None else _tuned_shrinkage(w, r - q_logged)
    shrunk = w if math.isinf(lam) else lam * w / (w**2 + lam)
    return _mean(method, q_target + shrunk * (r - q_logged), cluster, z)


def _tuned_shrinkage(w: F64, residual: F64) -> float:
    """DRos's ``λ`` minimising squared bias (against unbiased DR) plus variance of the mean.

    The grid spans the squared weights' range, plus no shrinkage at all (plain DR)."""
    n = len(w)
    squares = w[w > 0] ** 2
    if len(squares) == 0:
        return math.inf
    grid = [*np.quantile(squares, np.linspace(0.0, 1.0, 21)), math.inf]
    best, best_mse = math.inf, math.inf
    for lam in grid:
        if lam <= 0:
            continue
        shrunk = w if math.isinf(lam) else lam * w / (w**2 + lam)
        terms = shrunk * residual
        bias = float(((shrunk - w) * residual).mean())
        mse = bias * bias + float(terms.var()) / n
        if mse < best_mse:
            best, best_mse = float(lam), mse
    return best


# -- sessions as slates ------------------------------------------------------------------------


def session_estimates(
    data: Bandit,
    position: I64,
    methods: Sequence[str] = SESSION_METHODS,
    *,
    clip: float | None = None,
    z: float = Z95,
) -> dict[str, Estimate]:
    """The target's mean *session total* of the reward, each session read as a slate.

    A session's picks at positions 0, 1, ... are the slate; ``w_k`` is the weight of its
    pick at position ``k`` (each taken in the logged state, as the replay gives it) and the
    session total ``R = Σ r_k``. Sessions are the units (the interval is over sessions).

    - ``independent`` (IIPS): ``Σ_k w_k r_k``. Assumes a position's reward depends on its
      own pick only, so it cannot see the target changing what comes later; it is the
      per-decision IPS times the logged session length.
    - ``cascade`` (reward-interaction IPS; per-decision importance sampling in RL terms):
      ``Σ_k (Π_{j≤k} w_j) r_k``. Assumes the reward at ``k`` depends on the picks up to
      ``k`` (the viewer's state, whether they are still watching), which is how a feed
      works: unbiased for the session total under full support, and noisier as ``k`` grows.
    - ``pseudo-inverse`` (Swaminathan et al. 2017, for a logging policy that picks each
      position independently): ``R (Σ_k w_k − K + 1)``. Assumes the session total is
      additive over (position, video) pairs; a session's positions are not independent
      picks here, so it is shown as a reference only. It is unbiased but not bounded: where
      the weights sum to under ``K − 1`` (the target seldom makes the logged picks) it is
      negative for a positive reward, as in the reference.
    - ``session-IPS``: ``R Π_k w_k``, the whole trajectory's weight: no assumption but
      full support, and a variance that grows exponentially with session length.

    Args:
        position: each impression's position in its session (order within a session).
        clip: cap on each per-position weight (not on the products).

    Raises:
        ValueError: mismatched lengths, or an unknown form.
    """
    unknown = [m for m in methods if m not in SESSION_METHODS]
    if unknown:
        raise ValueError(f"unknown session estimator {unknown[0]!r}")
    if len(position) != len(data.reward):
        raise ValueError("position must have one value per impression")
    w = data.weights if clip is None else np.minimum(data.weights, clip)
    order = np.lexsort((position, data.cluster))
    sessions, starts = np.unique(data.cluster[order], return_index=True)
    terms: dict[str, list[float]] = {m: [] for m in methods}
    for chunk in np.split(order, starts[1:]):
        wk, rk = w[chunk], data.reward[chunk]
        total = float(rk.sum())
        values = {
            "independent": float((wk * rk).sum()),
            "cascade": float((np.cumprod(wk) * rk).sum()),
            "pseudo-inverse": total * (float(wk.sum()) - len(wk) + 1),
            "session-IPS": total * float(np.prod(wk)),
        }
        for m in methods:
            terms[m].append(values[m])
    units = np.arange(len(sessions), dtype=np.int64)
    return {m: _mean(m, np.array(terms[m]), units, z) for m in methods}
