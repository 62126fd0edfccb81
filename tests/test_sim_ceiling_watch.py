"""The watch ceiling: the learning ceiling serving the most expected watch under its posterior."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from engine.api import Engine
from engine.clock import VirtualClock
from engine.config import Config
from engine.sim.ceiling import (
    Belief,
    CeilingPolicy,
    Observation,
    crowd_fit,
    expected_watch,
    model_tables,
    quality_moments,
    search_watch,
    static_appeal,
    watch_terms,
    without_quality,
)
from engine.sim.persona import Persona
from engine.sim.runner import KnowsPersonas
from engine.sim.watch import GLANCE_MIN_S, Behaviour, expected_capped_stretch_s, expected_watch_s
from engine.store import Store
from engine.world import World
from tests.policy_contract import PolicyContract

PICKS = 30
PERSONAS = 6


def _world(path: Path) -> World:
    with Store.open(path) as store:
        return store.load_world()


def _open(world: Path, policy: CeilingPolicy) -> Engine:
    return Engine.open(world, config=Config(), clock=VirtualClock(0.0), log=False, policy=policy)


def test_its_watch_model_is_the_simulators() -> None:
    """Integrated over the moment's noise, its watch at a known appeal is exactly the
    simulator's expected watch: it plans with the watch model the personas live by."""
    b = Behaviour()
    rng = np.random.default_rng(3)
    appeal = rng.uniform(-4.0, 3.0, 40)
    duration = rng.choice([3.0, 9.0, 17.0, 45.0, 160.0], 40)
    z, w = np.polynomial.hermite_e.hermegauss(60)
    w = w / w.sum()
    for patience in (0.5, 1.6, 4.0):
        fixed, glancing = watch_terms(b, appeal[:, None] + b.noise_sd * z, duration[:, None])
        glance = expected_capped_stretch_s(duration, GLANCE_MIN_S, patience)
        ours = fixed @ w + (glancing @ w) * glance
        np.testing.assert_allclose(ours, expected_watch_s(b, appeal, duration, patience), 1e-4)


def _belief_after_reactions(world: World) -> tuple[Belief, int]:
    """A cold viewer's posterior after it skipped two topics and looped a third twice."""
    b = Behaviour()
    tables = model_tables(world)
    belief = Belief.fresh(tables, b)
    v = world.videos
    order = np.argsort(-world.topics.popularity)
    looped = int(order[len(order) // 3])
    for topic, watched, done in ((int(order[0]), 0.9, False), (int(order[1]), 0.6, False)):
        for video in np.flatnonzero(v.topic_id == topic)[:3].tolist():
            seen = Observation(video, done, watched, False, False, 0)
            belief.update(topic, b.base_appeal, float(v.duration_s[video]), seen)
    for repeats, video in enumerate(np.flatnonzero(v.topic_id == looped)[:2].tolist()):
        duration = float(v.duration_s[video])
        seen = Observation(video, True, 1.6 * duration, False, False, repeats)
        belief.update(looped, b.base_appeal, duration, seen)
    return belief, looped


def test_it_serves_more_expected_watch_than_the_loved_pick_for_the_same_posterior(
    world_template: Path,
) -> None:
    world = _world(world_template)
    belief, looped = _belief_after_reactions(world)
    v = world.videos
    ids = np.flatnonzero(~v.spam.astype(bool) & ~v.sensitive.astype(bool)).astype(np.int64)
    topic = v.topic_id[ids].astype(np.int64)
    known = static_appeal(world, belief.behaviour, belief.tables, ids, language=0)
    duration = v.duration_s[ids].astype(np.float64)
    repeats = np.zeros(len(world.topics))
    repeats[looped] = 2.0
    every = expected_watch(belief, topic, known, duration, repeats)  # brute force
    short, value = search_watch(belief, topic, known, duration, repeats)
    assert value.max() >= 0.98 * every.max(), "its search finds (nearly) the best video"
    served = int(short[np.argmax(value)])
    # The loved objective serves a typical video of the likeliest loved topic.
    likeliest = int(np.argmax(belief.loved()[np.unique(topic)]))
    typical = every[topic == np.unique(topic)[likeliest]].mean()
    assert every[served] > 1.2 * typical


def _served_watch(world_path: Path, objective: str) -> float:
    """Personas' true expected watch of what each policy served them, summed: cold viewers,
    the same personas under both, learning from their own reactions."""
    engine = _open(world_path, CeilingPolicy(objective=objective))
    total = 0.0
    with engine:
        for k in range(PERSONAS):
            persona = Persona.draw(engine.catalog.world, np.random.SeedSequence(40 + k))
            uid = engine.new_user(**(persona.sign_up() | {"interests": []}))
            for _ in range(PICKS):
                video = engine.next(uid).video.id
                total += float(persona.expected_watch_s(np.array([video]))[0])
                for kind, kwargs in persona.react(video).actions:
                    engine.record(uid, video, kind, **kwargs)
    return total


def test_personas_watch_more_under_it_than_under_the_loved_share_ceiling(
    world_template: Path,
) -> None:
    assert _served_watch(world_template, "watch") > 1.3 * _served_watch(world_template, "loved")


@pytest.mark.parametrize("quality", ["known", "prior", "crowd"])
def test_it_sees_only_reactions_never_the_persona(world_template: Path, quality: str) -> None:
    assert not isinstance(CeilingPolicy(objective="watch"), KnowsPersonas)
    policies = [CeilingPolicy(objective="watch", quality=quality) for _ in range(2)]
    first, second = (_open(world_template, p) for p in policies)
    with first, second:
        persona = Persona.draw(first.catalog.world, np.random.SeedSequence(5))
        sign_up = persona.sign_up() | {"interests": []}
        users = first.new_user(**sign_up), second.new_user(**sign_up)
        for _ in range(20):
            picks = first.next(users[0]).video.id, second.next(users[1]).video.id
            assert picks[0] == picks[1]  # deterministic: reactions alone decide
            for kind, kwargs in persona.react(picks[0]).actions:
                first.record(users[0], picks[0], kind, **kwargs)
                second.record(users[1], picks[1], kind, **kwargs)


def test_without_quality_it_cannot_tell_videos_apart_by_their_hidden_quality(
    world_template: Path,
) -> None:
    world = _world(world_template)
    tables = model_tables(world)
    ids = np.flatnonzero(~world.videos.spam.astype(bool))[:200]  # the population stays
    before = {q: static_appeal(world, Behaviour(), tables, ids, 0, q) for q in ("known", "prior")}
    shuffled = world.videos.quality.copy()
    shuffled[ids] = np.random.default_rng(1).permutation(shuffled[ids])
    other = replace(world, videos=replace(world.videos, quality=shuffled))
    after = {q: static_appeal(other, Behaviour(), tables, ids, 0, q) for q in ("known", "prior")}
    assert not np.allclose(before["known"], after["known"])
    np.testing.assert_allclose(before["prior"], after["prior"])


def test_watch_with_the_joint_prior_is_refused() -> None:
    with pytest.raises(ValueError, match="independent"):
        CeilingPolicy(objective="watch", prior="joint")
    with pytest.raises(ValueError, match="independent"):
        CeilingPolicy(quality="crowd", prior="joint")


def test_the_crowd_tells_quality_far_better_than_the_prior_but_not_exactly(
    world_template: Path,
) -> None:
    world = _world(world_template)
    ids = np.flatnonzero(~world.videos.spam.astype(bool))
    truth = world.videos.quality[ids].astype(np.float64)
    fit = crowd_fit(world)
    guess = fit.predict(world, ids)
    error = float(np.mean((guess - truth) ** 2))
    _, spread = quality_moments(world)  # the prior's squared error
    assert error < 0.5 * spread
    assert 0.7 < np.corrcoef(guess, truth)[0, 1] < 0.99  # known quality's would be 1
    assert fit.residual_variance == pytest.approx(error)  # the spread it integrates is honest
    top = len(ids) // 50
    believed_best = truth[np.argsort(-guess)[:top]].mean()
    assert believed_best > (truth.mean() + np.sort(truth)[-top:].mean()) / 2
    # A never-viewed video's length says nothing of its quality (one line for every video
    # once believed long unviewed ones good: +0.12 on the 20,000-video world).
    never = world.stats.views[ids] == 0
    length = world.videos.duration_s[ids]
    long = never & (length > np.median(length[never]))
    for group in (long, never & ~long):
        assert abs(float(np.mean(guess[group] - truth[group]))) < 0.05


def test_the_crowd_belief_reads_public_counts_never_a_videos_quality(
    world_template: Path,
) -> None:
    world = _world(world_template)
    fit = crowd_fit(world)
    ids = np.flatnonzero(~world.videos.spam.astype(bool))[:200]
    shuffled = world.videos.quality.copy()
    shuffled[ids] = np.random.default_rng(1).permutation(shuffled[ids])
    other = replace(world, videos=replace(world.videos, quality=shuffled))
    np.testing.assert_array_equal(fit.predict(world, ids), fit.predict(other, ids))
    viewed = ids[world.stats.views[ids] > 100][:20]
    completions = world.stats.completions.copy()
    completions[viewed] = world.stats.views[viewed]  # every view finished
    better = replace(world, stats=replace(world.stats, completions=completions))
    assert np.all(fit.predict(better, viewed) > fit.predict(world, viewed))


def test_knowing_quality_from_the_crowd_serves_between_blind_and_known(
    world_template: Path,
) -> None:
    """For the same posterior, the videos each variant values most, valued by what the
    known-quality model expects of them: the crowd's picks hold more watch than the blind
    ones', less than those knowing every video's quality."""
    world = _world(world_template)
    belief, looped = _belief_after_reactions(world)
    b, v = belief.behaviour, world.videos
    ids = np.flatnonzero(~v.spam.astype(bool) & ~v.sensitive.astype(bool)).astype(np.int64)
    topic = v.topic_id[ids].astype(np.int64)
    duration = v.duration_s[ids].astype(np.float64)
    repeats = np.zeros(len(world.topics))
    repeats[looped] = 2.0
    unknown = {"known": 0.0, "prior": None, "crowd": crowd_fit(world).residual_variance}
    value = {}
    for quality, variance in unknown.items():
        tables = without_quality(belief.tables, world, b, variance)
        known = static_appeal(world, b, tables, ids, 0, quality)
        value[quality] = expected_watch(
            replace(belief, tables=tables), topic, known, duration, repeats
        )
    served = {q: value["known"][np.argsort(-value[q])[:20]].mean() for q in value}
    assert served["prior"] < served["crowd"] < served["known"]


class TestCeilingWatch(PolicyContract):
    def make_policy(self) -> Any:
        return CeilingPolicy(objective="watch")


class TestCeilingWatchBlind(PolicyContract):
    def make_policy(self) -> Any:
        return CeilingPolicy(objective="watch", quality="prior")


class TestCeilingWatchCrowd(PolicyContract):
    def make_policy(self) -> Any:
        return CeilingPolicy(objective="watch", quality="crowd")
