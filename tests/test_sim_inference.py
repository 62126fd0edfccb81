"""The statistics behind `compare` and `sweep`, on hand-made inputs with known answers."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from engine.sim.inference import (
    Estimate,
    cluster_resamples,
    curve_band,
    holm,
    kaplan_meier,
    minimum_detectable_effect,
    ratio_difference,
    restricted_mean,
    restricted_mean_difference,
    weighted_holm,
)


def test_holm_adjusts_a_known_p_vector() -> None:
    # Sorted: 0.005·4 = 0.02, 0.01·3 = 0.03, 0.03·2 = 0.06, 0.04·1 = 0.04 → max so far 0.06.
    adjusted = holm(np.array([0.01, 0.04, 0.03, 0.005]))
    np.testing.assert_allclose(adjusted, [0.03, 0.06, 0.06, 0.02])


def test_weighted_holm_gives_the_heavy_hypothesis_its_share_and_skips_nan() -> None:
    # Weights 0.5 / 0.25 / 0.25: 0.02/0.5 = 0.04 goes first, tested at α·0.5 (adjusted 0.04);
    # then 0.01/0.25 = 0.04 among the remaining 0.5 of weight: 0.01·0.5/0.25 = 0.02 → 0.04
    # (adjusted values never fall as the steps go on).
    p = np.array([0.02, 0.01, 0.5, np.nan])
    adjusted = weighted_holm(p, np.array([0.5, 0.25, 0.25, 0.25]))
    np.testing.assert_allclose(adjusted[:3], [0.04, 0.04, 0.5])  # last: 0.5/0.25 · 0.25
    assert np.isnan(adjusted[3])
    # Equal weights are plain Holm.
    np.testing.assert_allclose(weighted_holm(p[:3], np.ones(3)), holm(p[:3]))


def test_kaplan_meier_on_a_tiny_censored_sample() -> None:
    times = np.array([1.0, 2.0, 2.0, 3.0, 4.0])
    events = np.array([1.0, 1.0, 0.0, 1.0, 0.0])
    steps, survival = kaplan_meier(times, events)
    np.testing.assert_allclose(steps, [1, 2, 3])
    np.testing.assert_allclose(survival, [0.8, 0.6, 0.3])
    # Area under 1, 0.8, 0.6, 0.3 over unit steps up to 4.
    assert restricted_mean(times, events, 4.0) == pytest.approx(2.7)
    assert restricted_mean(times, events, 2.5) == pytest.approx(1 + 0.8 + 0.5 * 0.6)


def test_nobody_getting_there_is_a_tie_at_the_horizon_whatever_the_censoring() -> None:
    # Two feeds that never personalise anyone, censored at different lengths: the naive mean of
    # lower bounds says 48 "beats" 68; the restricted mean says both wait the whole horizon.
    short, long = np.full(8, 48.0), np.full(8, 68.0)
    none = np.zeros(8)
    assert restricted_mean(short, none, 40.0) == restricted_mean(long, none, 40.0) == 40.0


def test_mde_is_the_textbook_formula() -> None:
    # (1.95996 + 0.84162) · 10 at α = 5% two-sided and 80% power.
    assert minimum_detectable_effect(10.0) == pytest.approx(28.0158, abs=1e-3)
    assert minimum_detectable_effect(10.0, df=5) > minimum_detectable_effect(10.0)


def test_clustering_widens_the_interval_when_shard_mates_are_alike() -> None:
    rng = np.random.default_rng(0)
    values = rng.normal(100.0, 20.0, size=40)
    alike = np.repeat(values, 4)  # four copies of each persona: one shard of look-alikes
    ones = np.ones(len(alike))
    zero = (np.zeros(len(alike)), ones)
    by_shard = np.repeat(np.arange(40), 4)
    by_persona = np.arange(len(alike))
    shards = ratio_difference(zero, (alike, ones), by_shard, cluster_resamples(40, rng, 20_000))
    personas = ratio_difference(
        zero, (alike, ones), by_persona, cluster_resamples(160, rng, 20_000)
    )
    # The mean of 40 independent values: SE = sd / √40 (population sd, as the bootstrap sees it).
    expected = values.std() / np.sqrt(40)
    assert shards.se == pytest.approx(expected, rel=0.03)
    assert personas.se == pytest.approx(expected / 2, rel=0.03)  # 160 "independent": too narrow
    assert shards.clusters == 40 and shards.point == pytest.approx(values.mean())


def test_with_six_shards_a_difference_that_is_not_there_is_flagged_one_time_in_twenty() -> None:
    # 2,000 A/A runs of 6 shards of 2 personas, 1-3 sessions each, shard-mates alike and the
    # two arms exchangeable: the t interval on G − 1 = 5 df (SE scaled by √(G/(G − 1))) must
    # reject "no difference" at its nominal rate, at 5% and at the primary's first 2.5% step
    # (seen: 5.3% and 1.8%, ± 0.5 points). A normal interval on the same standard error
    # rejects twice as often (11.1%, 8.1%) and one without the √(G/(G − 1)) 7.0% and 3.1%:
    # either fails here.
    rng = np.random.default_rng(16)
    runs, shards, size = 2000, 6, 2
    cluster_of = np.repeat(np.arange(shards), size)
    p_t, p_normal = np.empty(runs), np.empty(runs)
    for k in range(runs):
        viewer = rng.lognormal(5.0, 0.8, shards * size) * rng.lognormal(0, 0.5, shards)[cluster_of]
        sessions = rng.integers(1, 4, shards * size).astype(float)
        a, b = ((sessions * (viewer + rng.normal(0, 60, len(viewer))), sessions) for _ in "ab")
        e = ratio_difference(a, b, cluster_of, cluster_resamples(shards, rng, 999))
        p_t[k] = e.p_value
        p_normal[k] = 2 * stats.norm.sf(abs(e.point) / e.se)
    assert 0.035 <= np.mean(p_t <= 0.05) <= 0.065
    assert 0.01 <= np.mean(p_t <= 0.025) <= 0.03
    assert np.mean(p_normal <= 0.05) >= 0.09  # the check can fail: a z interval would


def test_an_estimate_that_cannot_vary_has_p_one_at_zero() -> None:
    assert Estimate(0.0, 0.0, 10).p_value == 1.0
    assert np.isnan(Estimate(1.0, 0.5, 1).p_value)  # one cluster: nothing to resample
    low, high = Estimate(2.0, 1.0, 1_000_000).interval()
    assert low == pytest.approx(2 - 1.96, abs=1e-3) and high == pytest.approx(2 + 1.96, abs=1e-3)


def test_restricted_mean_difference_is_paired_and_clustered() -> None:
    rng = np.random.default_rng(1)
    times_a = rng.integers(10, 60, size=30).astype(float)
    events = np.ones(30)
    shard = np.arange(30) // 3
    counts = cluster_resamples(10, rng, 500)
    same = restricted_mean_difference((times_a, events), (times_a, events), 80.0, shard, counts)
    assert same.point == 0 and same.se == 0 and same.p_value == 1.0
    later = restricted_mean_difference(
        (times_a, events), (times_a + 5, events), 80.0, shard, counts
    )
    assert later.point == pytest.approx(5.0) and later.se == pytest.approx(0.0, abs=1e-9)


def test_a_curve_band_is_the_mean_plus_minus_t_times_its_clustered_error() -> None:
    # 20 clusters of 5 terms at each of 3 positions; each cluster shifts all its terms alike,
    # so the spread between clusters is what the band measures: ± t(19) · sd / √20.
    rng = np.random.default_rng(4)
    shift = rng.normal(0.0, 2.0, 20)
    cluster = np.repeat(np.arange(20), 15)
    position = np.tile(np.repeat(np.arange(3), 5), 20)
    values = 10.0 + position + shift[cluster] + rng.normal(0.0, 0.01, len(cluster))
    counts = cluster_resamples(20, np.random.default_rng(0), 2000)
    low, high = curve_band(position, cluster, values, 3, counts)
    centre = (low + high) / 2
    np.testing.assert_allclose(centre, 10.0 + np.arange(3) + shift.mean(), atol=1e-2)
    expected = 2.093 * shift.std(ddof=1) / np.sqrt(20)  # t(0.975, 19) = 2.093
    np.testing.assert_allclose((high - low) / 2, expected, rtol=0.1)
    # One cluster cannot vary: no band.
    low, high = curve_band(position[:15], cluster[:15], values[:15], 3, counts[:, :1])
    assert np.isnan(low).all() and np.isnan(high).all()
