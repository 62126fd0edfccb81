"""Paired differences between arms: the :class:`Difference` a comparison reports, and per-persona
bootstrap intervals for a benchmark's quick look.

``compare`` itself (:mod:`engine.sim.comparison`) does not use the persona intervals below: its
intervals are t intervals on a bootstrap over whole shards (:mod:`engine.sim.inference`), plus
:func:`population_jackknife` here, since personas of a shard are not independent.

Arms see the same personas (same truths, same random streams, same start), so persona *i*
under A and persona *i* under B form a pair and the bootstrap resamples pairs: a ratio metric's
difference ``Σ num_B / Σ den_B − Σ num_A / Σ den_A`` is recomputed on each resample of personas
(``scipy.stats.bootstrap`` with ``paired=True``, BCa intervals). Population metrics (coverage,
Gini) count distinct videos and creators, which resampling with replacement biases downward, so
they get a paired delete-one-persona jackknife interval instead.

Caveat, stated in every report: personas sharing a shard share an engine (trends, engagement,
test pools), so pairs are not perfectly independent and intervals may be a little narrow.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import stats

from engine.sim.inference import Estimate
from engine.sim.metrics import Exposure, Parts

F64 = npt.NDArray[np.float64]
CONFIDENCE = 0.95
N_RESAMPLES = 1999
BATCH = 64  # resamples per statistic call: bounds memory on large catalogs


@dataclass(frozen=True)
class Difference:
    """B − A for one metric, with its confidence interval (before correction) and, in a
    comparison, its p-value before and after the multiplicity correction."""

    metric: str
    a: float
    b: float
    diff: float
    low: float
    high: float
    p_value: float = float("nan")
    adjusted: float = float("nan")  # weighted Holm over the metrics tested together
    role: str = "secondary"  # "primary", "guardrail", "secondary", or "untested"
    note: str = ""  # why a metric is untested ("= 1 − completion", "no data")

    @property
    def excludes_zero(self) -> bool:
        """The interval lies wholly on one side of zero (NaN intervals never do)."""
        return bool(self.low > 0 or self.high < 0)

    @property
    def flagged(self) -> bool:
        """Different beyond chance after the correction (at the 5% family-wise level); an
        uncorrected difference (no adjusted p-value) falls back on its interval."""
        if np.isfinite(self.adjusted):
            return bool(self.adjusted <= 1 - CONFIDENCE)
        return self.role != "untested" and np.isnan(self.p_value) and self.excludes_zero


def ratio_difference(
    metric: str, a: Parts, b: Parts, rng: np.random.Generator, n_resamples: int = N_RESAMPLES
) -> Difference:
    """Paired bootstrap of a ratio metric's difference (B − A)."""
    point = b.value - a.value

    def statistic(na: F64, da: F64, nb: F64, db: F64, axis: int = -1) -> F64:
        with np.errstate(invalid="ignore", divide="ignore"):
            result: F64 = nb.sum(axis) / db.sum(axis) - na.sum(axis) / da.sum(axis)
        return result

    data = (a.num, a.den, b.num, b.den)
    low, high = _interval(data, statistic, rng, n_resamples, point)
    return Difference(metric, a.value, b.value, point, low, high)


def population_difference(
    metric: str, a: Exposure, b: Exposure, rng: np.random.Generator, n_resamples: int = N_RESAMPLES
) -> Difference:
    """Delete-one jackknife interval of a population metric's difference (B − A).

    Resampling personas *with replacement* repeats some and drops others, which lowers the
    number of distinct videos and creators reached in every resample: the bootstrap
    distribution of coverage sits wholly below the estimate and BCa breaks down. Leaving one
    persona out at a time does not have that bias, so these metrics get a jackknife standard
    error and a normal interval instead. (``rng`` and ``n_resamples`` are unused: the
    jackknife is deterministic.)
    """
    del rng, n_resamples
    units = a.videos.shape[0]
    everyone = np.ones((1, units))
    value_a = float(a.values(everyone)[metric][0])
    value_b = float(b.values(everyone)[metric][0])
    point = value_b - value_a
    if units < 2:
        return Difference(metric, value_a, value_b, point, float("nan"), float("nan"))
    leave_one_out = np.concatenate(
        [b.values(rows)[metric] - a.values(rows)[metric] for rows in _leave_one_out(units)]
    )
    spread = float(
        np.sqrt((units - 1) / units * ((leave_one_out - leave_one_out.mean()) ** 2).sum())
    )
    z = float(stats.norm.ppf(0.5 + CONFIDENCE / 2))
    return Difference(metric, value_a, value_b, point, point - z * spread, point + z * spread)


def population_jackknife(
    metric: str, a: Exposure, b: Exposure, cluster_of: npt.NDArray[np.int64]
) -> Estimate:
    """A population metric's B − A with a delete-one-shard jackknife standard error.

    Shards, not personas, are left out: personas of a shard share an engine, so the shard is
    the unit that varies independently (see ``engine.sim.inference``).
    """
    units = a.videos.shape[0]
    everyone = np.ones((1, units))
    point = float(b.values(everyone)[metric][0] - a.values(everyone)[metric][0])
    clusters = int(cluster_of.max()) + 1 if units else 0
    if clusters < 2:
        return Estimate(point, float("nan"), clusters)
    leave_out = np.ones((clusters, units))
    leave_out[cluster_of, np.arange(units)] = 0.0
    dropped = np.concatenate(
        [
            b.values(rows)[metric] - a.values(rows)[metric]
            for rows in np.array_split(leave_out, -(-clusters // BATCH))
        ]
    )
    spread = np.sqrt((clusters - 1) / clusters * ((dropped - dropped.mean()) ** 2).sum())
    return Estimate(point, float(spread), clusters)


def _leave_one_out(units: int) -> Iterator[F64]:
    """Persona weights with one persona left out per row, BATCH rows at a time."""
    for start in range(0, units, BATCH):
        rows = np.ones((min(BATCH, units - start), units))
        rows[np.arange(len(rows)), start + np.arange(len(rows))] = 0.0
        yield rows


def _interval(
    data: tuple[F64, ...],
    statistic: Any,
    rng: np.random.Generator,
    n_resamples: int,
    point: float,
) -> tuple[float, float]:
    """BCa interval; NaN when undefined (fewer than two personas, a metric nobody reached)."""
    if not np.isfinite(point) or len(data[0]) < 2:
        return float("nan"), float("nan")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # degenerate resamples are reported as NaN below
        result = stats.bootstrap(
            data,
            statistic,
            paired=True,
            vectorized=True,
            n_resamples=n_resamples,
            batch=BATCH,
            confidence_level=CONFIDENCE,
            method="BCa",
            rng=rng,
        )
    low, high = float(result.confidence_interval.low), float(result.confidence_interval.high)
    if not (np.isfinite(low) and np.isfinite(high)) and np.ptp(result.bootstrap_distribution) == 0:
        return point, point  # every resample agrees: the difference cannot vary
    return low, high
