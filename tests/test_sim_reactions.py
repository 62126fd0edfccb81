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
shift of the duration mix, not of behaviour, and by duration band the personas liked long
videos too early (medians under 15 s 1.02 vs KuaiRand's 0.99, 15-30 s 1.02 vs 1.01, 30-60 s
0.69 vs 0.98, 60-120 s 0.20 vs 0.79, over 120 s 0.17 vs 0.38): a like during a part-way
viewing, which lasts seconds, not a share of the video. Since a part-way viewer likes only if it
got past the like's moment (uniform over the video), the fractions are compared band by band:
in each band KuaiRand's median must sit between the simulated likes' 35th and 65th percentiles
(a share of likes, robust where the simulated fractions leave a gap between part-way viewings
and loops, which a median is not). Measured (200 personas x 2 sessions, likes x 5): medians
1.01, 1.00, 0.95, 0.92, 0.51 under the reference engine, 1.00, 0.95, 0.95, 0.75, 0.39 under the
default one.
"""

from __future__ import annotations

import csv
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from benchmarks.bench_reactions import REAL, real_fractions, simulated_fractions
from engine.config import Config, Scoring, Sources
from engine.policy import PolicySpec
from engine.sim.experiment import RunSpec, run_experiment
from engine.sim.runner import Arm
from engine.sim.watch import Behaviour

# Duration bands (s) and KuaiRand's share of likes in each (likes_hates_kcore15.tsv, rows with
# a duration; checked by test_the_real_side_reads_kuairands_play_time_over_duration).
BANDS = np.array([15.0, 30.0, 60.0, 120.0])
REAL_LIKE_BANDS = np.array([13213, 5479, 3341, 2904, 1912]) / 26849
# ... and the median watched fraction of a liked video in each band (the same rows).
REAL_LIKE_MEDIANS = np.array([0.987, 1.008, 0.978, 0.785, 0.376])

REACTIVE = replace(
    Behaviour(),
    like_rate=5 * Behaviour().like_rate,
    not_interested_rate=60 * Behaviour().not_interested_rate,
)


@pytest.mark.slow
def test_likes_come_as_late_in_a_video_as_real_ones_in_every_duration_band(
    demo_world: Path,
) -> None:
    # 240 personas: since the re-fit to KuaiRand's valid play (2026-12-07) they are hooked,
    # and so like, less often, and 200 left 99 likes on videos over two minutes to weigh.
    spec = RunSpec(db_path=demo_world, users=240, sessions=2, seed=0, behaviour=REACTIVE)
    # Under the reference engine (learning off) with the overall completion prior, which serves
    # every duration band often enough to weigh each (the default length-aware prior serves
    # fewer videos past three minutes); the bands hold the length fixed, so what the engine
    # serves matters little. Its explore source probes with random recent videos, as when the
    # personas were fitted: probed with each topic's best (the default since 2026-12-07), the
    # dismissed videos are longer and the same 4.5 s median watch before a "not interested" is
    # a smaller share of them (median 0.09 against 0.14, seed 0).
    overall = Config(
        scoring=Scoring(completion_prior="overall"), sources=Sources(explore_pick="random")
    )
    reference = Arm("engine", overall, PolicySpec("engine", {"learn": False}))
    experiment = run_experiment(spec, [reference])
    trace = experiment.runs["engine"].trace
    fractions = simulated_fractions(trace, experiment.world)
    assert len(fractions.like) > 600 and len(fractions.not_interested) > 80
    band = np.digitize(experiment.world.videos.duration_s[trace["video"][trace["like"]]], BANDS)
    for k, real_median in enumerate(REAL_LIKE_MEDIANS):
        liked = fractions.like[band == k]
        assert len(liked) > 100, (k, len(liked))  # every band has likes to weigh
        below = float(np.mean(liked < real_median))
        assert 0.35 <= below <= 0.65, (
            f"band {k}: {below:.0%} of simulated likes come before KuaiRand's median "
            f"{real_median:.2f} of the video (simulated median {np.median(liked):.2f})"
        )
    assert np.mean(fractions.like > 1.0) > 0.3  # looping after a like happens, and often
    no_median = float(np.median(fractions.not_interested))
    assert 0.1 <= no_median <= 0.35, f"not interested median {no_median:.3f}"


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
    band = np.digitize(durations, BANDS)
    medians = [float(np.median(real.like[band == k])) for k in range(len(REAL_LIKE_MEDIANS))]
    assert medians == pytest.approx(REAL_LIKE_MEDIANS.tolist(), abs=0.001)
