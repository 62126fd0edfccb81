"""Simulated viewers watch as much before a like or a "not interested" as real viewers do.

KuaiRand-27K's like/hate file: the watched fraction before a like has median 0.95 (IQR
0.41–1.18, 45% over 1: likes often come on a loop), before a "not interested" 0.20 (IQR
0.045–0.58: people watch a few seconds before saying no). The simulation's likes and "not
interested" are rare (1.85% and 0.05% per impression), so these runs scale both rates up: the
watched fraction *given* the reaction does not depend on the rate, since a reaction's chance is
the rate times a function of appeal and of how the viewing went. Like the per-impression rates
(``test_sim_calibration.py``), these fractions depend on what the engine serves: calibrated under
the engine at 7ffe8be (served videos' median ≈ 20 s); an engine serving far longer videos moves
them (a like then comes at a smaller share of the video), and the calibration is re-measured.
Re-measured after the interest source began proposing the videos most worth watching (served
median ≈ 34 s under the reference engine): like IQR 0.19–1.10 (median 0.95, 38% looped), "not
interested" median 0.14. The lower quartile sits below KuaiRand's 0.41, as the longer videos
predict: that bound is 0.15 now, the median, the loops and the upper quartile still hold.
Re-measured after cold-start learning counted a viewing held 7 s as a hook (served median ~39 s,
liked videos' median ~70 s against KuaiRand's 15 s): the pooled like median fell to 0.81, a
shift of the duration mix, not of behaviour. So the like fractions are now compared at
KuaiRand's mix of durations (each simulated like weighted by its duration band's share among
KuaiRand's likes over its share among the simulated ones). By band, simulated vs KuaiRand
medians: under 15 s 1.02 vs 0.99, 15-30 s 1.02 vs 1.01, 30-60 s 0.69 vs 0.98, 60-120 s 0.20 vs
0.79, over 120 s 0.17 vs 0.38: on long videos the personas like too early (a like during a
part-way viewing, which lasts seconds, not a share of the video), a known gap of the simulator.
"""

from __future__ import annotations

import csv
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from benchmarks.bench_reactions import REAL, real_fractions, simulated_fractions
from engine.config import Config
from engine.policy import PolicySpec
from engine.sim.experiment import RunSpec, run_experiment
from engine.sim.runner import Arm
from engine.sim.watch import Behaviour

# Duration bands (s) and KuaiRand's share of likes in each (likes_hates_kcore15.tsv, rows with
# a duration; checked by test_the_real_side_reads_kuairands_play_time_over_duration).
BANDS = np.array([15.0, 30.0, 60.0, 120.0])
REAL_LIKE_BANDS = np.array([13213, 5479, 3341, 2904, 1912]) / 26849

REACTIVE = replace(
    Behaviour(),
    like_rate=5 * Behaviour().like_rate,
    not_interested_rate=60 * Behaviour().not_interested_rate,
)


@pytest.mark.slow
def test_likes_come_after_most_of_a_video_often_looped_and_no_after_a_real_watch(
    demo_world: Path,
) -> None:
    spec = RunSpec(db_path=demo_world, users=96, sessions=2, seed=0, behaviour=REACTIVE)
    # Under the reference engine the personas are calibrated under (learning off): what the
    # engine serves moves the fractions (a longer video makes 4.5 s a smaller share of it).
    reference = Arm("engine", Config(), PolicySpec("engine", {"learn": False}))
    experiment = run_experiment(spec, [reference])
    trace = experiment.runs["engine"].trace
    fractions = simulated_fractions(trace, experiment.world)
    assert len(fractions.like) > 100 and len(fractions.not_interested) > 40
    band = np.digitize(experiment.world.videos.duration_s[trace["video"][trace["like"]]], BANDS)
    simulated_share = np.bincount(band, minlength=len(REAL_LIKE_BANDS)) / len(band)
    assert (simulated_share > 0.05).all(), simulated_share  # every band has likes to weigh
    weight = (REAL_LIKE_BANDS / simulated_share)[band]
    like_p25, like_median, like_p75 = _weighted_percentiles(fractions.like, weight, [25, 50, 75])
    assert 0.85 <= like_median <= 1.05, f"like median {like_median:.3f}"
    assert 0.15 <= like_p25 <= 0.6 and 1.05 <= like_p75 <= 1.35, (like_p25, like_p75)
    assert np.mean(fractions.like > 1.0) > 0.3  # looping after a like happens, and often
    no_median = float(np.median(fractions.not_interested))
    assert 0.1 <= no_median <= 0.35, f"not interested median {no_median:.3f}"


def _weighted_percentiles(values: np.ndarray, weight: np.ndarray, q: list[float]) -> list[float]:
    order = np.argsort(values)
    cumulative = np.cumsum(weight[order]) / weight.sum()
    return [float(values[order][np.searchsorted(cumulative, p / 100.0)]) for p in q]


@pytest.mark.skipif(not REAL.exists(), reason="the shared KuaiRand file is not on this machine")
def test_the_real_side_reads_kuairands_play_time_over_duration() -> None:
    real = real_fractions(REAL)
    assert len(real.like) == 26_849 and len(real.not_interested) == 7_241  # rows with a duration
    assert np.median(real.like) == pytest.approx(0.946, abs=0.001)
    assert np.median(real.not_interested) == pytest.approx(0.198, abs=0.001)
    with REAL.open(newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    liked = [float(r["duration_ms"]) / 1000.0 for r in rows if r["label"] == "1"]
    durations = np.array([d for d in liked if d > 0])
    shares = np.bincount(np.digitize(durations, BANDS), minlength=len(BANDS) + 1) / len(durations)
    assert shares.tolist() == pytest.approx(REAL_LIKE_BANDS.tolist(), abs=1e-9)
