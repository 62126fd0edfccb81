"""Are a policy's predictions right? Calibration and ranking quality of P(action) per impression.

The engine ranks by Σ P(action) × value and writes each P in the pick's receipt; those numbers
are only worth their weight if they match what viewers then do. A simulated run knows both:
the trace keeps the receipt's P for each predicted action (:data:`engine.sim.trace.PREDICTED`)
beside whether the persona did it. Per action:

- mean predicted vs observed rate (a biased model is off here first);
- expected calibration error (ECE) over :data:`N_BINS` **equal-width** bins of [0, 1]:
  Σ_b (n_b / n) · |mean P in b − observed rate in b| (the usual definition, Guo et al. 2017).
  Rare actions (likes ≈ 2%) put nearly every prediction in the first bin, so their ECE is close
  to |mean predicted − observed|: the scale the issue's 0.005 target for likes is written on;
- AUC: the chance that an impression where the action happened got a higher P than one where
  it did not, ties counting half (Mann-Whitney U from average ranks). 0.5 is no better than
  chance at ranking, whatever the calibration.

Policies that predict nothing (random, oracle, bandit) leave
:data:`~engine.sim.trace.NO_PREDICTION` in the trace and get no figures
("n/a"). ``popular`` runs the engine's stages, so its receipts carry the engine's P: its figures
measure the engine's model on the videos popular picked.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from engine.sim.trace import NO_NEGATIVE, PREDICTED, Trace

F64 = npt.NDArray[np.float64]
Bool = npt.NDArray[np.bool_]
N_BINS = 10


@dataclass(frozen=True)
class Calibration:
    """How one action's predictions compare with what happened, over ``n`` impressions."""

    n: int
    predicted: float  # mean P
    observed: float  # share of impressions where the action happened
    ece: float
    auc: float  # NaN when the action always or never happened


def expected_calibration_error(
    predicted: npt.ArrayLike, observed: npt.ArrayLike, bins: int = N_BINS
) -> float:
    """ECE over ``bins`` equal-width bins of [0, 1] (P = 1 falls in the last bin).

    Args:
        predicted: predicted probabilities.
        observed: what happened (booleans or 0/1).
        bins: how many equal-width bins.

    Returns:
        Σ_b (n_b / n) · |mean predicted in b − mean observed in b|; NaN for no predictions.
    """
    p = np.clip(np.asarray(predicted, dtype=np.float64), 0.0, 1.0)
    y = np.asarray(observed, dtype=np.float64)
    if len(p) == 0:
        return float("nan")
    which = np.minimum((p * bins).astype(np.int64), bins - 1)
    count = np.bincount(which, minlength=bins)
    gap = np.bincount(which, weights=p - y, minlength=bins)  # n_b · (mean p_b − mean y_b)
    return float(np.abs(gap).sum() / count.sum())


def average_ranks(values: npt.ArrayLike) -> F64:
    """1-based ranks of ``values``, tied values sharing the mean of their ranks."""
    v = np.asarray(values, dtype=np.float64)
    order = np.argsort(v, kind="stable")
    ordered = v[order]
    starts_group = np.r_[True, ordered[1:] != ordered[:-1]] if len(v) else np.zeros(0, bool)
    group = np.cumsum(starts_group) - 1
    starts = np.flatnonzero(starts_group)
    ends = np.r_[starts[1:], len(v)]
    ranks = np.empty(len(v))
    ranks[order] = ((starts + 1 + ends) / 2.0)[group]
    return ranks


def auc(predicted: npt.ArrayLike, observed: npt.ArrayLike) -> float:
    """Area under the ROC curve of ``predicted`` for ``observed``, ties counting half.

    Returns:
        NaN when every impression is positive or every one negative.
    """
    y = np.asarray(observed, dtype=bool)
    positives = int(y.sum())
    negatives = len(y) - positives
    if positives == 0 or negatives == 0:
        return float("nan")
    ranks = average_ranks(predicted)
    u = ranks[y].sum() - positives * (positives + 1) / 2.0
    return float(u / (positives * negatives))


def calibrate(predicted: npt.ArrayLike, observed: npt.ArrayLike) -> Calibration | None:
    """Every figure for one action; impressions without a prediction (a negative P, or NaN)
    are left out.

    Returns:
        None when no impression has a prediction.
    """
    p = np.asarray(predicted, dtype=np.float64)
    y = np.asarray(observed, dtype=bool)
    known = np.isfinite(p) & (p >= 0.0)
    if not known.any():
        return None
    p, y = p[known], y[known]
    return Calibration(
        n=len(p),
        predicted=float(p.mean()),
        observed=float(y.mean()),
        ece=expected_calibration_error(p, y),
        auc=auc(p, y),
    )


def observed_actions(trace: Trace) -> dict[str, Bool]:
    """Whether each predicted action happened, per impression."""
    happened = {a: trace[a] for a in PREDICTED if a in (trace.dtype.names or ())}
    happened["complete"] = trace["completed"]
    happened["not_interested"] = trace["negative"] != NO_NEGATIVE
    return {a: np.asarray(happened[a], dtype=bool) for a in PREDICTED}


def prediction_quality(trace: Trace) -> dict[str, Calibration | None]:
    """:func:`calibrate` of every predicted action over the trace's impressions."""
    happened = observed_actions(trace)
    return {a: calibrate(trace[f"p_{a}"], happened[a]) for a in PREDICTED}
