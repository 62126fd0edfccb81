"""Calibration and AUC of predicted P(action), the onboarded / cold-start split and issue 14's
window metrics, on hand-made inputs with known answers; and the tables `simulate` prints."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from engine.config import Config
from engine.sim.baselines import builtin_arm
from engine.sim.calibration import auc, average_ranks, calibrate, expected_calibration_error
from engine.sim.experiment import ArmRun, RunSpec, run_experiment
from engine.sim.metrics import measure
from engine.sim.runner import Arm
from engine.sim.trace import NO_NEGATIVE, NO_PREDICTION, SCOPE_CODE, TRACE_DTYPE, Population
from engine.store import Store
from engine.world import World
from tests.test_sim_compare import run


@pytest.fixture(scope="module")
def world(world_template: Path) -> World:
    with Store.open(world_template) as store:
        return store.load_world()


# -- calibration and AUC ---------------------------------------------------------------------


def test_ece_is_zero_when_each_bin_predicts_its_own_rate() -> None:
    p = [0.25] * 4 + [0.75] * 4
    y = [1, 0, 0, 0, 1, 1, 1, 0]  # 1 in 4, then 3 in 4
    assert expected_calibration_error(p, y) == pytest.approx(0.0)


def test_ece_weighs_each_bins_gap_by_its_share_of_impressions() -> None:
    # bin 0 (P 0.05): 3 impressions, none happened; bin 8 (P 0.8): 1 impression, it happened.
    assert expected_calibration_error([0.05, 0.05, 0.05, 0.8], [0, 0, 0, 1]) == pytest.approx(
        0.75 * 0.05 + 0.25 * 0.2
    )


def test_ece_sees_errors_that_cancel_in_the_mean() -> None:
    p, y = [0.2, 0.8], [1, 0]
    assert np.mean(p) == np.mean(y)  # right on average...
    assert expected_calibration_error(p, y) == pytest.approx(0.8)  # ...wrong in every bin


def test_a_certain_prediction_falls_in_the_last_bin() -> None:
    assert expected_calibration_error([1.0, 0.95], [1, 1]) == pytest.approx(0.025)


def test_average_ranks_share_ties() -> None:
    np.testing.assert_array_equal(average_ranks([3.0, 1.0, 3.0, 2.0]), [3.5, 1.0, 3.5, 2.0])


def test_auc_known_answers() -> None:
    assert auc([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1]) == 1.0
    assert auc([0.9, 0.8, 0.2, 0.1], [0, 0, 1, 1]) == 0.0
    assert auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]) == pytest.approx(0.75)
    assert auc([0.5] * 4, [0, 1, 0, 1]) == pytest.approx(0.5)  # ties count half
    assert np.isnan(auc([0.1, 0.2], [1, 1]))


def test_calibrate_leaves_out_impressions_without_a_prediction() -> None:
    figures = calibrate([0.5, np.nan, 0.5, NO_PREDICTION], [1, 1, 0, 1])
    assert figures is not None
    assert figures.n == 2 and figures.predicted == 0.5 and figures.observed == 0.5
    assert calibrate([NO_PREDICTION, NO_PREDICTION], [0, 1]) is None  # one that predicts nothing


def test_a_run_without_predictions_still_repeats_exactly(world_template: Path) -> None:
    """Runs are compared trace to trace (jobs, Ray, logging): "no prediction" must equal itself."""
    spec = RunSpec(db_path=world_template, users=2, sessions=1, seed=1)
    first, again = (run_experiment(spec, [builtin_arm("random")]) for _ in range(2))
    trace = first.runs["random"].trace
    assert (trace["p_complete"] == NO_PREDICTION).all()
    assert np.array_equal(trace, again.runs["random"].trace)


# -- split and windows on hand-made traces ---------------------------------------------------


def trace_for(feeds: list[list[dict[str, float]]]) -> np.ndarray:
    """A trace of one feed per persona (unit = index), positions in order."""
    rows = [(unit, k, row) for unit, feed in enumerate(feeds) for k, row in enumerate(feed)]
    trace = np.zeros(len(rows), dtype=TRACE_DTYPE)
    trace["negative"] = NO_NEGATIVE
    for i, (unit, k, row) in enumerate(rows):
        trace["unit"][i], trace["life"][i], trace["depth"][i] = unit, k, k
        for key, value in row.items():
            trace[key][i] = value
    return trace


def run_of(trace: np.ndarray, world: World, loved: list[int], onboarded: list[bool]) -> ArmRun:
    n = len(loved)
    mask = np.zeros((n, len(world.topics)), dtype=bool)
    mask[np.arange(n), loved] = True
    population = Population(
        mask.astype(float), mask, np.full(n, 0.5), np.ones(n, np.int64), np.array(onboarded)
    )
    return ArmRun(Arm("test", Config()), trace, population, np.zeros(4), len(trace), 0, 1.0, 1.0)


def topic_videos(world: World, topic: int) -> list[int]:
    return [int(v) for v in np.flatnonzero(world.videos.topic_id == topic)]


def test_every_metric_and_curve_splits_into_onboarded_and_cold(world: World) -> None:
    loved, other = topic_videos(world, 0), topic_videos(world, 1)
    onboarded_feed = [{"video": v, "watched_s": 10.0} for v in loved[:20]]
    cold_feed = [{"video": v, "watched_s": 2.0} for v in other[:20]]
    m = measure(run_of(trace_for([onboarded_feed, cold_feed]), world, [0, 0], [True, False]), world)
    assert m.group_sizes() == {"onboarded": 1, "cold": 1}
    assert m.summary("onboarded")["loved_share"] == 1.0
    assert m.summary("cold")["loved_share"] == 0.0
    assert m.summary()["loved_share"] == 0.5
    assert m.summary("cold")["watch_per_impression"] == pytest.approx(2.0)
    assert m.summary("cold")["catalog_coverage"] < m.summary()["catalog_coverage"]
    assert m.group_curves["onboarded"]["loved_share"][0] == 1.0
    assert m.group_curves["cold"]["loved_share"][0] == 0.0


def test_window_metrics_count_impressions_from_one(world: World) -> None:
    loved, other = topic_videos(world, 0), topic_videos(world, 1)
    feed = [{"video": v, "watched_s": 2.0} for v in other[:20]]  # impressions 1-20
    feed += [{"video": v, "watched_s": 4.0} for v in loved[:5] + other[20:35]]  # 21-40
    feed += [{"video": v, "watched_s": 5.0} for v in other[35:75]]  # 41-80
    m = measure(run_of(trace_for([feed]), world, [0], [False]), world)
    summary = m.summary("cold")
    assert summary["loved_share_21_40"] == pytest.approx(5 / 20)
    assert summary["watch_1_10"] == pytest.approx(2.0)
    assert summary["watch_41_80"] == pytest.approx(5.0)
    assert summary["watch_lift"] == pytest.approx(1.5)  # +150%


def test_dismissed_topic_share_after_over_before(world: World) -> None:
    dismissed, other = topic_videos(world, 0), topic_videos(world, 1)
    before = [{"video": v} for v in dismissed[:9] + other[:10]]
    feed = [*before, {"video": dismissed[9], "negative": SCOPE_CODE["topic"]}]  # 10 of 20
    feed += [{"video": v} for v in dismissed[10:11] + other[10:29]]  # then 1 of the next 20
    m = measure(run_of(trace_for([feed]), world, [1], [True]), world)
    assert m.summary()["dismissed_topic_kept"] == pytest.approx((1 / 20) / (10 / 20))


def test_predictions_are_checked_per_group(world: World) -> None:
    videos = topic_videos(world, 0)
    right = [{"video": v, "p_like": 0.5, "like": k % 2 == 0} for k, v in enumerate(videos[:10])]
    wrong = [{"video": v, "p_like": 0.9, "like": False} for v in videos[10:20]]
    m = measure(run_of(trace_for([right, wrong]), world, [0, 0], [True, False]), world)
    onboarded, cold = m.predictions["onboarded"]["like"], m.predictions["cold"]["like"]
    assert onboarded is not None and cold is not None
    assert onboarded.ece == pytest.approx(0.0) and onboarded.observed == 0.5
    assert cold.ece == pytest.approx(0.9) and np.isnan(cold.auc)


# -- what simulate prints --------------------------------------------------------------------


def test_simulate_prints_predictions_and_the_split(world_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, output = run(
        "simulate", "--db", str(world_path), "--users", "6", "--sessions", "1", "--no-log",
        "--out", str(out),
    )  # fmt: skip
    assert code == 0, output
    assert "By persona group: onboarded · cold start" in output
    assert "mean P / observed · ECE · AUC" in output and "n/a" in output
    data = json.loads((out / "metrics.json").read_text())
    engine, oracle = data["arms"]["engine"], data["arms"]["oracle"]
    complete = engine["predictions"]["all"]["complete"]
    assert 0 < complete["predicted"] < 1 and complete["n"] == engine["impressions"]
    assert oracle["predictions"]["all"]["complete"] is None  # the oracle predicts nothing
    groups = engine["groups"]
    assert groups["onboarded"]["personas"] + groups["cold"]["personas"] == 6
    assert "loved_share_21_40" in groups["cold"]["metrics"]
    assert set(data["placement_by_group"]) == {"onboarded", "cold"}
