"""Learned P(action): the online model recovers known weights, is calibrated, resumes from the
file, is a deterministic function of the events, and its receipt terms add up."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import pytest

from engine import Engine, VirtualClock
from engine.config import Config
from engine.learned import INPUTS, LEARNED, TERMS, OnlineLogit, sigmoid, topic_mood
from engine.profile import UserState
from engine.sim.calibration import expected_calibration_error


def synthetic(rng: np.random.Generator, n: int, true: np.ndarray) -> tuple[np.ndarray, ...]:
    """n impressions whose 'complete' follows a known logistic model of three inputs."""
    inputs = np.zeros((n, len(INPUTS)))
    inputs[:, 0] = 1.0
    inputs[:, 1:4] = rng.normal(size=(n, 3))
    rates = np.zeros((n, len(LEARNED)))
    rates[:, 0] = rng.normal(-1.0, 0.5, size=n)
    logit = inputs[:, :4] @ true[:4] + rates[:, 0] * true[-1]
    labels = np.zeros((n, len(LEARNED)))
    labels[:, 0] = rng.random(n) < sigmoid(logit)
    return inputs, rates, labels


def blank() -> OnlineLogit:
    shape = (len(LEARNED), len(TERMS))
    return OnlineLogit(np.zeros(shape), np.zeros(shape), np.ones(shape))


TRUE = np.zeros(len(TERMS))
TRUE[:4] = [-0.5, 1.2, -0.8, 0.4]
TRUE[-1] = 0.7


def test_online_learning_recovers_a_logistic_model_and_is_calibrated() -> None:
    rng = np.random.default_rng(3)
    inputs, rates, labels = synthetic(rng, 30_000, TRUE)
    model = blank()
    everything = np.ones(len(LEARNED), dtype=bool)
    for k in range(len(inputs)):
        model.update(inputs[k], rates[k], labels[k], everything)
    learned = model.weights[0]
    assert np.abs(learned[:4] - TRUE[:4]).max() < 0.15
    assert learned[-1] == pytest.approx(TRUE[-1], abs=0.15)
    held_in, held_rates, held_labels = synthetic(np.random.default_rng(4), 20_000, TRUE)
    predicted = sigmoid(model.logits(held_in, held_rates))[:, 0]
    assert abs(predicted.mean() - held_labels[:, 0].mean()) < 0.015
    # Calibrated bin by bin too (expected calibration error over 10 bins).
    bins = np.minimum((predicted * 10).astype(int), 9)
    gaps = [
        abs(predicted[bins == b].mean() - held_labels[bins == b, 0].mean()) * (bins == b).mean()
        for b in range(10)
        if (bins == b).any()
    ]
    assert sum(gaps) < 0.02


def test_the_warm_start_fit_recovers_the_same_model() -> None:
    inputs, rates, labels = synthetic(np.random.default_rng(5), 20_000, TRUE)
    model = blank()
    model.fit(inputs, rates, labels)
    assert np.abs(model.weights[0, :4] - TRUE[:4]).max() < 0.1
    assert model.updates == 20_000


def test_a_warm_start_far_from_the_history_still_lands_on_it() -> None:
    """Weights that start far from what the history says (a file's model as built, then a
    simulation's viewings): full Newton steps overshot there (P(complete) 100% against 17%
    observed); the fit must land on the history's model, calibrated."""
    inputs, rates, labels = synthetic(np.random.default_rng(6), 5_000, TRUE)
    inputs[:, 1:4] *= [0.3, 1.0, 3.0]  # inputs of unequal spread, as logged ones are
    model = blank()
    model.weights[0] = np.random.default_rng(7).normal(0.0, 3.0, len(TERMS))
    model.fit(inputs, rates, labels)
    assert np.abs(model.weights[0]).max() < 10
    predicted = sigmoid(model.raw_logits(inputs, rates))[:, 0]  # the weights', no calibration
    assert abs(predicted.mean() - labels[:, 0].mean()) < 0.01
    error = expected_calibration_error(predicted, labels[:, 0])
    assert error < 0.03


def scripted(path: Path, picks: int = 40) -> tuple[list[int], Engine]:
    """Two viewers: one completes and likes gaming and skips the rest, one skips all."""
    clock = VirtualClock(100.0)
    eng = Engine.open(path, clock=clock)
    ann, bo = eng.new_user(["gaming"], name="ann"), eng.new_user([], name="bo")
    shown, liked = [], 0
    for _ in range(picks // 2):
        for viewer in (ann, bo):
            video = eng.next(viewer).video
            shown.append(video.id)
            if viewer == ann and video.topic == "gaming":  # the slug ("Gaming" never matched)
                eng.record(viewer, video.id, "like")
                eng.record(viewer, video.id, "complete", watched_s=video.duration_s)
                liked += 1
            else:
                eng.record(viewer, video.id, "skip", watched_s=1.0)
            clock.advance(10.0)
    assert liked, "ann never met a gaming video: the model learned from skips alone"
    return shown, eng


def test_every_viewer_teaches_the_shared_model(world_path: Path) -> None:
    _, eng = scripted(world_path)
    try:
        assert eng.learner is not None and eng.learner.model is not None
        assert eng.learner.model.updates == 40
        prior = OnlineLogit.prior(eng.config).weights
        assert not np.array_equal(eng.learner.model.weights, prior)
    finally:
        eng.close()


def test_a_restart_resumes_the_learned_weights(world_path: Path) -> None:
    _, eng = scripted(world_path)
    assert eng.learner is not None and eng.learner.model is not None
    weights = eng.learner.model.weights.copy()
    eng.close()
    with Engine.open(world_path) as again:
        assert again.learner is not None and again.learner.model is not None
        assert np.array_equal(again.learner.model.weights, weights)
        assert again.learner.warm_started == 0  # resumed, not refitted


def test_a_file_without_a_stored_model_is_fitted_on_its_history(world_path: Path) -> None:
    _, eng = scripted(world_path)
    eng.close()
    import sqlite3

    conn = sqlite3.connect(world_path)
    with conn:
        conn.execute("DELETE FROM learned_models")
    conn.close()
    with Engine.open(world_path) as again:
        assert again.learner is not None
        assert again.learner.warm_started == 40


def test_the_same_events_give_the_same_weights_and_picks(world_path: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    shutil.copy(world_path, other)
    first, eng1 = scripted(world_path)
    second, eng2 = scripted(other)
    try:
        assert first == second
        assert eng1.learner is not None and eng2.learner is not None
        assert eng1.learner.model is not None and eng2.learner.model is not None
        assert np.array_equal(eng1.learner.model.weights, eng2.learner.model.weights)
    finally:
        eng1.close()
        eng2.close()


def test_receipt_terms_add_up_to_each_chance(world_path: Path) -> None:
    _, eng = scripted(world_path, picks=20)
    try:
        viewer = eng.user_id("ann")
        receipt = eng.next(viewer).receipt
        assert set(receipt.learned) == set(LEARNED)
        assert all("calibration" in terms for terms in receipt.learned.values())
        for action in ("complete", "like", "share", "not_interested"):
            p = receipt.terms[action]["p"]
            assert sum(receipt.learned[action].values()) == pytest.approx(
                math.log(p / (1 - p)), abs=1e-9
            )
        # reasons() tells the completion model's terms: the receipt's features are those.
        named = {k: v for k, v in receipt.learned["complete"].items() if k in receipt.features}
        assert named == pytest.approx(receipt.features)
    finally:
        eng.close()


def test_repeats_that_bore_are_learned_as_satiation(world_path: Path) -> None:
    """A viewer who skips a topic seen in their last few videos teaches a negative weight on
    'recent same topic' for completion."""
    clock = VirtualClock(100.0)
    with Engine.open(world_path, clock=clock, log=False) as eng:
        viewer = eng.new_user(["gaming", "cooking"])
        recent: list[str] = []
        for _ in range(300):
            video = eng.next(viewer).video
            if video.topic in recent[-3:]:
                eng.record(viewer, video.id, "skip", watched_s=1.0)
            else:
                eng.record(viewer, video.id, "complete", watched_s=video.duration_s)
            recent.append(video.topic)
            clock.advance(10.0)
        assert eng.learner is not None and eng.learner.model is not None
        weight = eng.learner.model.weights[0, TERMS.index("recent same topic")]
        assert weight < -0.3


def test_the_watch_before_a_skip_is_learned_in_seconds_per_length() -> None:
    """A swipe takes seconds whatever the length, a hooked viewer leaves a long video later:
    the expected watch of a skip is learned per duration bucket, never as a share of the
    length (which made every long video look watched for long), and survives a restart."""
    from engine.config import Config
    from engine.learned import SKIP_BUCKETS_S

    model = OnlineLogit.prior(Config())
    for _ in range(200):
        model.note_watch(1.5, 8.0)  # short clips: swiped at once
        model.note_watch(20.0, 150.0)  # long videos: watched a while, then left
    short = int(np.searchsorted(SKIP_BUCKETS_S, 8.0, side="right"))
    long = int(np.searchsorted(SKIP_BUCKETS_S, 150.0, side="right"))
    assert model.skip_seconds[short] == pytest.approx(1.5, abs=0.05)
    assert model.skip_seconds[long] == pytest.approx(20.0, abs=0.5)
    again = OnlineLogit.from_json(model.to_json(), Config())
    assert np.array_equal(again.skip_seconds, model.skip_seconds)


def test_the_calibration_layer_corrects_an_overconfident_model() -> None:
    """A model whose logits are twice too steep predicts 90% where 70% happen; the layer learns
    a slope below 1 on what it serves and brings the expected calibration error down."""
    inputs, rates, labels = synthetic(np.random.default_rng(6), 3000, TRUE)
    model = blank()
    model.weights[0] = 2.0 * TRUE
    everything = np.ones(len(LEARNED), dtype=bool)
    for k in range(len(inputs)):
        model.update(inputs[k], rates[k], labels[k], everything)
        model.weights[0] = 2.0 * TRUE  # keep the model overconfident: only the layer learns
    held_in, held_rates, held_labels = synthetic(np.random.default_rng(7), 20_000, TRUE)
    y = held_labels[:, 0]
    raw = sigmoid(model.raw_logits(held_in, held_rates))[:, 0]
    calibrated = sigmoid(model.logits(held_in, held_rates))[:, 0]
    assert model.calibration[0, 0] < 0.7
    assert expected_calibration_error(calibrated, y) < 0.02 < expected_calibration_error(raw, y)


def test_topic_mood_follows_the_last_few_reactions() -> None:
    topic_of = np.array([0, 0, 1, 1, 2])
    state = UserState.fresh(
        user_id=1,
        name="x",
        language=0,
        country=0,
        interests=[],
        simulated=True,
        n_topics=3,
        n_hashtags=1,
    )
    for kind, video in [("complete", 0), ("skip", 2), ("skip", 3), ("complete", 1), ("like", 1)]:
        state.reactions.append((kind, video))
    mood = topic_mood(state, topic_of)
    assert mood[0] > 0 > mood[1] and mood[2] == 0.0
    state.reactions.extend([("skip", 0)] * 3)  # the mood turns within a few videos
    assert topic_mood(state, topic_of)[0] < 0


def test_a_logged_simulation_leaves_a_model_fitted_on_every_shard(world_path: Path) -> None:
    """Each shard's engine learns from its own personas only; the file must not keep the
    model of whichever shard closed last, but learn from all of them at the next open."""
    import sqlite3

    from engine.sim.experiment import RunSpec, run_experiment
    from engine.sim.runner import Arm

    spec = RunSpec(db_path=world_path, users=6, sessions=1, seed=1, log=True, shard_size=3)
    run = run_experiment(spec, [Arm("logged", Config())]).runs["logged"]
    with sqlite3.connect(world_path) as conn:
        assert conn.execute("SELECT count(*) FROM learned_models").fetchone()[0] == 0
        logged = conn.execute("SELECT count(*) FROM impressions WHERE receipt IS NOT NULL")
        impressions = logged.fetchone()[0]
    assert impressions >= run.impressions > 0
    with Engine.open(world_path) as again:
        assert again.learner is not None
        assert again.learner.warm_started == impressions  # every shard's viewings


def test_a_simulation_starts_from_the_model_the_file_history_gives(world_path: Path) -> None:
    """A file with logged viewings and no stored model: the feed opens with a model fitted on
    them, so a simulation on that file must start every shard from that model too (it
    started from the bare formula, as if nobody had ever watched)."""
    import sqlite3

    from engine.sim import runner
    from engine.sim.experiment import RunSpec, run_experiment
    from engine.sim.runner import Arm

    logged = RunSpec(db_path=world_path, users=6, sessions=1, seed=1, log=True, shard_size=3)
    run_experiment(logged, [Arm("history", Config())])
    with sqlite3.connect(world_path) as conn:
        assert conn.execute("SELECT count(*) FROM learned_models").fetchone()[0] == 0
    with Engine.open(world_path, log=False) as feed:
        assert feed.learner is not None and feed.learner.model is not None
        opened_with = feed.learner.model.weights.copy()
    assert not np.array_equal(opened_with, OnlineLogit.prior(Config()).weights)

    started_with: list[np.ndarray] = []
    drive = runner._drive

    def spy(engine: Engine, *args: object) -> object:
        assert engine.learner is not None and engine.learner.model is not None
        started_with.append(engine.learner.model.weights.copy())
        return drive(engine, *args)  # type: ignore[arg-type]

    quiet = RunSpec(db_path=world_path, users=4, sessions=1, seed=2, shard_size=2)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(runner, "_drive", spy)
        run_experiment(quiet, [Arm("engine", Config())])
    assert len(started_with) == 2
    for weights in started_with:
        np.testing.assert_allclose(weights, opened_with, rtol=1e-9, atol=1e-12)


def test_what_everyone_likes_is_learned_to_hold_viewers(world_path: Path) -> None:
    """A viewer who watches through the videos everyone likes and skips the others teaches a
    positive weight on 'liked by everyone' for completion, whatever their length (a long
    video's completion rate mostly measures its length; its like rate says whether it holds)."""
    clock = VirtualClock(100.0)
    with Engine.open(world_path, clock=clock, log=False) as eng:
        viewer = eng.new_user(["gaming", "cooking"])
        for _ in range(300):
            rec = eng.next(viewer)
            video = rec.video
            if rec.receipt.inputs["liked by everyone"] > 0.0:
                eng.record(viewer, video.id, "complete", watched_s=video.duration_s)
            else:
                eng.record(viewer, video.id, "skip", watched_s=1.0)
            clock.advance(10.0)
        assert eng.learner is not None and eng.learner.model is not None
        weight = eng.learner.model.weights[0, TERMS.index("liked by everyone")]
        assert weight > 0.3
