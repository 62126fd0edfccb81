"""The learning ceiling: it finds a viewer's loved topic from reactions alone, never its truth."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from click.testing import CliRunner

from engine.api import Engine
from engine.clock import VirtualClock
from engine.config import Config
from engine.sim.ceiling import (
    CeilingPolicy,
    JointBelief,
    Observation,
    draw_particles,
    reaction_terms,
)
from engine.sim.persona import Persona
from engine.sim.runner import KnowsPersonas
from engine.sim.watch import Behaviour
from engine.store import Store
from tests.policy_contract import PolicyContract
from tui.cli import main

LOOP_SHARE = 1.6  # the scripted viewer lets its topic's videos loop, as hooked personas do
SKIP_S = 1.0
FOUND_BY = 20


def _open(world: Path) -> Engine:
    return Engine.open(world, config=Config(), clock=VirtualClock(0.0), log=False, policy="ceiling")


def test_ceiling_finds_the_only_topic_a_cold_viewer_is_hooked_on(world_template: Path) -> None:
    engine = _open(world_template)
    with engine:
        topics = engine.catalog.world.topics
        # A topic well down the popularity order: the prior alone would not serve it.
        loved = int(np.argsort(-topics.popularity)[len(topics) // 4])
        uid = engine.new_user(interests=[], language="en", country="US")
        served = []
        for _ in range(FOUND_BY + 10):
            video = engine.next(uid).video
            hit = video.topic == topics.slug[loved]
            served.append(hit)
            if hit:
                engine.record(uid, video.id, "like")
                engine.record(uid, video.id, "complete", watched_s=LOOP_SHARE * video.duration_s)
            else:
                engine.record(uid, video.id, "skip", watched_s=SKIP_S)
        policy = engine.policy
        assert isinstance(policy, CeilingPolicy)
        belief = policy.belief(uid)
        assert belief is not None
        p_loved = belief.loved()
    assert int(np.argmax(p_loved)) == loved and p_loved[loved] > 0.9
    assert all(served[FOUND_BY:]), "after 20 picks it serves the topic it found"


def test_ceiling_sees_only_reactions_never_the_persona(world_template: Path) -> None:
    assert not isinstance(CeilingPolicy(), KnowsPersonas)  # the runner never hands it one
    # A persona's reactions, replayed by a viewer with no hidden truth at all, get the same feed.
    first, second = _open(world_template), _open(world_template)
    with first, second:
        persona = Persona.draw(first.catalog.world, np.random.SeedSequence(5))
        sign_up = persona.sign_up() | {"interests": []}
        users = first.new_user(**sign_up), second.new_user(**sign_up)
        for _ in range(30):
            picks = first.next(users[0]).video.id, second.next(users[1]).video.id
            assert picks[0] == picks[1]
            for kind, kwargs in persona.react(picks[0]).actions:
                first.record(users[0], picks[0], kind, **kwargs)
                second.record(users[1], picks[1], kind, **kwargs)
        beliefs = [e.policy.belief(u) for e, u in ((first, users[0]), (second, users[1]))]  # type: ignore[attr-defined]
    assert np.array_equal(beliefs[0].loved(), beliefs[1].loved())


class TestCeiling(PolicyContract):
    def make_policy(self) -> Any:
        return "ceiling"


class TestCeilingExploringPopular(PolicyContract):
    def make_policy(self) -> Any:
        return CeilingPolicy(explore=20, video="popular")


def test_the_joint_posterior_also_finds_a_looped_topic(world_template: Path) -> None:
    engine = _open(world_template)
    with engine:
        world = engine.catalog.world
        behaviour = Behaviour()
        belief = JointBelief.fresh(draw_particles(world, behaviour, n=3000), behaviour)
        loved = int(np.argsort(-world.topics.popularity)[len(world.topics) // 4])
        before = belief.loved()[loved]
        videos = np.flatnonzero(world.videos.topic_id == loved)[:6]
        for repeats, video in enumerate(videos.tolist()):
            duration = float(world.videos.duration_s[video])
            looped = Observation(video, True, LOOP_SHARE * duration, False, False, repeats)
            belief.update(loved, behaviour.base_appeal, duration, looped)
    after = belief.loved()
    assert int(np.argmax(after)) == loved and after[loved] > max(0.5, 3 * before)


def test_compare_runs_it_as_a_built_in_arm(world_path: Path, tmp_path: Path) -> None:
    """`foryou compare engine ceiling`, as the README says, with its loved share reported."""
    small = ["--users", "4", "--seeds", "1", "--sessions", "1", "--resamples", "5"]
    result = CliRunner().invoke(
        main,
        ["compare", "engine", "ceiling", "--db", str(world_path), *small, "--no-baselines",
         "--out", str(tmp_path / "out")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert 0.0 <= metrics["arms"]["ceiling"]["metrics"]["loved_share"] <= 1.0


def test_its_chance_of_a_like_after_a_part_way_viewing_is_the_personas_own(
    world_template: Path,
) -> None:
    """A viewer who leaves a long video part-way likes it more the further it got: the ceiling's
    likelihood must say so exactly, or it reads a like as the wrong evidence."""
    with Store.open(world_template) as store:
        world = store.load_world()
    behaviour = replace(Behaviour(), like_rate=8 * Behaviour().like_rate)
    taste = Persona.draw(world, np.random.SeedSequence(11)).taste
    v = world.videos
    long_loved = np.flatnonzero((v.topic_id == taste.loved[0]) & (v.duration_s >= 40.0))
    video = int(long_loved[0])
    duration = float(v.duration_s[video])
    expected = {"far": 0.0, "near": 0.0}
    observed = {"far": 0, "near": 0}
    for i in range(3000):  # a fresh persona each time: a persona likes a video at most once
        persona = Persona.draw(world, np.random.SeedSequence(i), behaviour, taste=taste)
        reaction = persona.react(video)
        if not reaction.hooked or reaction.completed:
            continue
        kinds = [kind for kind, _ in reaction.actions]
        watched = float(reaction.actions[kinds.index("skip")][1]["watched_s"])
        chance = []
        for liked in (True, False):
            seen = Observation(video, False, watched, liked, False, 0)
            hooked, _ = reaction_terms(
                behaviour, np.array([reaction.appeal]), duration, seen, taste.like
            )
            chance.append(float(hooked[0]))
        part = "far" if watched >= duration / 2 else "near"
        expected[part] += chance[0] / sum(chance)
        observed[part] += "like" in kinds
    for part in ("far", "near"):
        assert expected[part] > 20, (expected, observed)  # enough likes to tell
        assert abs(observed[part] - expected[part]) < 4 * np.sqrt(expected[part]), (
            part,
            observed,
            expected,
        )
