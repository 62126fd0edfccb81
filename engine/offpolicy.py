"""Off-policy estimators: what a target policy would have scored, from another policy's logs.

Each logged impression ``i`` had its video picked by the logging policy with probability
``logging[i]`` (the stored propensity), got an outcome ``reward[i]``, and would have been picked
by the target policy with probability ``target[i]`` (0 if the target never shows it there).
With importance weights ``w = target / logging``:

- IPS: mean of ``w · r``; unbiased whenever the logging policy could pick everything the
  target picks, but noisy when weights are large;
- self-normalised IPS: ``Σ w r / Σ w``; slightly biased, far steadier;
- doubly robust: a reward model's prediction under the target, corrected by the weighted
  error of the model on the logged pick; unbiased if either the propensities or the model
  are right, and tighter than IPS when the model is decent.

Impressions of one session are not independent (one viewer, one evolving profile), so the
confidence intervals are cluster-robust by session: the variance comes from per-session sums,
in closed form (a linearisation for SNIPS), which needs no resampling loop and gives the same
answer every run. The effective sample size ``(Σw)² / Σw²`` says how many on-policy
impressions the estimate is worth.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["Bandit", "Estimate", "Estimates", "effective_sample_size", "estimate"]

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
Z95 = 1.959963984540054  # two-sided 95% normal quantile


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
    n: int
    sessions: int
    effective_sample_size: float
    unsupported: float  # share of logged picks the target would never make (weight 0)
    max_weight: float
    logged: Estimate  # the logging policy's own (on-policy) mean
    ips: Estimate
    snips: Estimate
    dr: Estimate | None  # None without a reward model


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


def estimate(data: Bandit, *, z: float = Z95) -> Estimates:
    """IPS, self-normalised IPS and (with a reward model) doubly robust estimates.

    Raises:
        ValueError: no data, mismatched lengths or a logged probability that is not positive.
    """
    n = len(data.reward)
    if n == 0:
        raise ValueError("no logged impressions to evaluate")
    lengths = {len(data.logging), len(data.target), len(data.cluster)}
    if lengths != {n}:
        raise ValueError("reward, logging, target and cluster must have one value per impression")
    if (data.logging <= 0).any():
        raise ValueError("every logged probability must be positive")
    w, r, cluster = data.weights, data.reward, data.cluster
    total = float(w.sum())
    snips_value = float((w * r).sum() / total) if total > 0 else math.nan
    snips_se = _cluster_se(w * (r - snips_value), cluster, total) if total > 0 else math.nan
    dr = None
    if data.model_logged is not None and data.model_target is not None:
        dr = _mean("DR", data.model_target + w * (r - data.model_logged), cluster, z)
    return Estimates(
        n=n,
        sessions=len(np.unique(cluster)),
        effective_sample_size=effective_sample_size(w),
        unsupported=float((w == 0).mean()),
        max_weight=float(w.max()),
        logged=_mean("logged", r, cluster, z),
        ips=_mean("IPS", w * r, cluster, z),
        snips=_estimate("SNIPS", snips_value, snips_se, z),
        dr=dr,
    )
