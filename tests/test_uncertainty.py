"""The engine knows what it does not know: per-topic evidence and Thompson draws.

Worked answers on the hand-built world (``tests/tinyworld.py``), then the seeded world for what
only a whole feed shows: a skipped topic stops coming back, evidence survives a restart.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from engine import Config, Engine, VirtualClock
from engine.profile import seed_interests
from engine.uncertainty import (
    ONBOARDING_HOOKS,
    PRIOR_WEIGHT,
    draw_multiplier,
    draw_topics,
    note_outcome,
    posterior_mean,
    settled,
    topic_prior,
)
from tests.tinyworld import COOKING, GAMING, PETS, tiny_catalog, viewer


def _close(state, topic: int, kind: str, watched_s: float, duration_s: float = 10.0) -> None:
    note_outcome(state, topic, kind, watched_s=watched_s, duration_s=duration_s, first_close=True)


def test_a_watched_through_topic_counts_as_hooked_an_early_skip_as_missed() -> None:
    state = viewer()
    _close(state, COOKING, "complete", 10.0)
    _close(state, PETS, "skip", 6.0)  # more than half of 10 s: it held the viewer
    _close(state, GAMING, "skip", 1.5)
    assert state.topic_hooked[[COOKING, PETS, GAMING]].tolist() == [1.0, 1.0, 0.0]
    assert state.topic_missed[[COOKING, PETS, GAMING]].tolist() == [0.0, 0.0, 2.0]
    # Prior Beta(0.5, 1.5): hooked once -> 1.5/3; swiped away at once -> 0.5/(2 + 2).
    assert np.allclose(posterior_mean(state)[[COOKING, GAMING]], [0.5, 0.125])


def test_a_swipe_within_two_seconds_says_more_than_leaving_part_way() -> None:
    """Leaving a 10 s video at 3 s (before half of it, before 7 s) is half a miss; swiping it
    away at 1.5 s is two: the video never held the viewer at all."""
    state = viewer()
    _close(state, PETS, "skip", 3.0)
    _close(state, GAMING, "skip", 1.5)
    assert state.topic_hooked[[PETS, GAMING]].tolist() == [0.0, 0.0]
    assert state.topic_missed[[PETS, GAMING]].tolist() == [0.5, 2.0]
    assert posterior_mean(state)[GAMING] < posterior_mean(state)[PETS]


def test_a_topic_only_glanced_at_for_a_few_seconds_ranks_below_an_untried_one() -> None:
    """A viewer who leaves after 3-5 s was not held (a patient glance): the topic must not
    look more promising than one never tried, or a cold feed keeps coming back to topics it
    only glanced at (issue 14: an indifferent topic was held ~a third of the time, and its
    partial views, counted half a hook each, kept its mean above an untried topic's)."""
    state = viewer()
    _close(state, PETS, "skip", 4.0, duration_s=30.0)
    _close(state, PETS, "skip", 3.0, duration_s=60.0)
    mean = posterior_mean(state)
    assert mean[PETS] < mean[GAMING]  # gaming never tried: still at the prior


def test_a_viewer_held_seven_seconds_by_a_long_video_was_hooked() -> None:
    """Leaving a two-minute video at 20 s is no miss of its topic: the viewer was held (a
    glance lasts a second or two; KuaiRand's valid play is 7 s). Before, anything under half
    a video's length counted half a miss, so a long video's hook was mostly lost."""
    state = viewer()
    _close(state, PETS, "skip", 20.0, duration_s=120.0)
    _close(state, GAMING, "skip", 3.0, duration_s=120.0)
    assert state.topic_hooked[[PETS, GAMING]].tolist() == [1.0, 0.0]
    assert state.topic_missed[[PETS, GAMING]].tolist() == [0.0, 0.5]


def test_a_skip_after_a_run_of_its_topic_counts_less_against_the_topic() -> None:
    """Viewers tire of a run of one topic: a swipe after three pets videos in a row says "not
    now" more than "not pets", so it weighs a quarter of a first swipe."""
    state = viewer()
    note_outcome(state, PETS, "skip", watched_s=1.0, duration_s=10.0, first_close=True, repeats=3)
    _close(state, GAMING, "skip", 1.0)
    assert state.topic_missed[[PETS, GAMING]].tolist() == [0.5, 2.0]


def test_a_topic_with_a_bigger_audience_starts_with_a_higher_prior(demo_world: Path) -> None:
    """Loved topics follow audience size, so an untried popular topic is probed first: comedy
    (the biggest audience) starts above gardening; the prior still weighs two viewings."""
    eng = Engine.open(demo_world, clock=VirtualClock(0.0), log=False)
    prior = topic_prior(eng.catalog.world)
    comedy, gardening = eng.catalog.topic_id("comedy"), eng.catalog.topic_id("gardening")
    assert prior.mean[comedy] > 1.5 * prior.mean[gardening]
    assert np.allclose(prior.hooked + prior.missed, PRIOR_WEIGHT)
    assert prior.audience.sum() == pytest.approx(1.0)


def test_a_loop_closing_its_viewing_again_is_no_new_evidence() -> None:
    state = viewer()
    _close(state, COOKING, "complete", 10.0)
    note_outcome(state, COOKING, "complete", watched_s=20.0, duration_s=10.0, first_close=False)
    assert state.topic_hooked[COOKING] == 1.0


def test_not_interested_in_a_topic_weighs_like_many_skips() -> None:
    state = viewer()
    note_outcome(
        state,
        PETS,
        "not_interested",
        watched_s=0.0,
        duration_s=10.0,
        first_close=False,
        scope="topic",
    )
    assert posterior_mean(state)[PETS] < 0.1


def test_onboarding_choices_start_as_evidence() -> None:
    state = viewer(interests=(COOKING,))
    seed_interests(state, tiny_catalog().world.topics.centroid, Config().profile)
    assert state.topic_hooked[COOKING] == ONBOARDING_HOOKS
    assert state.topic_hooked.sum() == ONBOARDING_HOOKS


def test_three_early_skips_draw_low_and_a_watched_topic_draws_high() -> None:
    state = viewer()
    for _ in range(3):
        _close(state, GAMING, "skip", 1.0)
    _close(state, COOKING, "complete", 10.0)
    _close(state, COOKING, "like", 0.0)
    rng = np.random.default_rng(0)
    draws = np.array([draw_topics(state, rng) for _ in range(2000)])
    multiplier = draw_multiplier(draws.mean(axis=0), np.array([GAMING, PETS, COOKING]))
    # Skipped thrice: mean draw 0.1, a sixth of an untried topic's score; liked: 6 times it.
    assert multiplier[0] < 0.4 < 0.9 < multiplier[1] < 1.1 < 3.0 < multiplier[2]
    assert (draws[:, GAMING] < 0.3).mean() > 0.85


def test_a_settled_viewer_is_ranked_by_evidence_not_by_a_draw() -> None:
    """``rerank.settle_after``: once the viewer has seen that many videos, a topic watched
    through ranks above an untried one at every pick; before, a draw puts the untried one
    ahead now and then (and 0 never settles)."""
    state = viewer()
    _close(state, COOKING, "complete", 10.0)
    for video in range(19):
        state.seen.add(video)
    rng = np.random.default_rng(0)
    draws = [draw_topics(state, rng) for _ in range(200)]
    assert any(settled(state, d, 20)[PETS] > settled(state, d, 20)[COOKING] for d in draws)
    state.seen.add(19)
    assert all(settled(state, d, 20)[COOKING] > settled(state, d, 20)[PETS] for d in draws)
    assert all(np.array_equal(settled(state, d, 0), d) for d in draws)


def test_the_same_generator_draws_the_same() -> None:
    state = viewer()
    _close(state, PETS, "skip", 1.0)
    a = draw_topics(state, np.random.default_rng(7))
    b = draw_topics(state, np.random.default_rng(7))
    assert np.array_equal(a, b)


def _cold_viewer_skipping(eng: Engine, uid: int, skipped: str, picks: int) -> list[str]:
    topics = []
    for _ in range(picks):
        video = eng.next(uid).video
        topics.append(video.topic)
        watched = 1.0 if video.topic == skipped else video.duration_s
        kind = "skip" if video.topic == skipped else "complete"
        eng.record(uid, video.id, kind, watched_s=watched)
    return topics


def test_a_cold_viewer_meets_many_topics_early(world_path: Path) -> None:
    eng = Engine.open(world_path, clock=VirtualClock(0.0), log=False)
    uid = eng.new_user()
    first = []
    for _ in range(10):
        video = eng.next(uid).video
        first.append(video.topic)
        eng.record(uid, video.id, "skip", watched_s=1.0)
    assert len(set(first)) >= 8  # skips alone move the feed on to topics not tried yet


def test_a_topic_skipped_at_once_stops_coming_back(world_path: Path) -> None:
    """A cold viewer who finishes cooking and pets and skips the rest within 1.5 s, started at
    0 s, 1 h and a day, three pick seeds each: the most any skipped topic comes back in 40 picks
    is at most five in every run and three on average (before the topic evidence, one came back
    six times). A Thompson draw after three misses is low but not always: over 120 runs the
    most was 2.4 on average, four in 118 runs and five in two (comedy at 1 h, pick seed 0)."""
    most = []
    for start in (0.0, 3600.0, 86400.0):
        for seed in (0, 1, 2):
            clock = VirtualClock(start)
            with Engine.open(world_path, config=Config(seed=seed), clock=clock, log=False) as eng:
                most.append(max(_quick_skips_of_others(eng, eng.new_user()).values()))
    assert max(most) <= 5 and np.mean(most) <= 3.0, most


def _quick_skips_of_others(eng: Engine, uid: int) -> Counter[str]:
    """40 picks of a viewer who finishes cooking and pets and skips the rest within 1.5 s:
    how often each skipped topic was shown."""
    skipped: Counter[str] = Counter()
    for _ in range(40):
        video = eng.next(uid).video
        if video.topic in ("cooking", "pets"):
            eng.record(uid, video.id, "complete", watched_s=video.duration_s)
        else:
            skipped[video.topic] += 1
            eng.record(uid, video.id, "skip", watched_s=1.5)
    return skipped


def test_evidence_is_rebuilt_when_a_viewer_is_resumed(world_path: Path) -> None:
    clock = VirtualClock(0.0)
    with Engine.open(world_path, clock=clock) as eng:
        uid = eng.new_user(name="resumed")
        _cold_viewer_skipping(eng, uid, "pets", 12)
        before = eng._users[uid]
        hooked, missed = before.topic_hooked.copy(), before.topic_missed.copy()
        assert hooked.sum() + missed.sum() >= 12
    with Engine.open(world_path, clock=clock) as eng:
        after = eng._state(uid)
        assert np.array_equal(after.topic_hooked, hooked)
        assert np.array_equal(after.topic_missed, missed)


def test_not_now_skips_are_rebuilt_when_a_viewer_is_resumed(world_path: Path) -> None:
    """A viewer who finishes pets but swipes away every third pets video: those swipes come
    after a run of pets and weigh less ("not now"). Resumed, the viewer's evidence is the same
    as live (the run before each swipe is rebuilt from the events in order, not from the
    videos seen, which a resume loads all at once before any event)."""
    clock = VirtualClock(0.0)
    with Engine.open(world_path, clock=clock) as eng:
        uid = eng.new_user(name="tired", interests=["pets"])
        pets = 0
        for _ in range(30):
            video = eng.next(uid).video
            clock.now += 5.0
            pets += video.topic == "pets"
            if video.topic == "pets" and pets % 3:
                eng.record(uid, video.id, "complete", watched_s=video.duration_s)
            else:
                eng.record(uid, video.id, "skip", watched_s=1.0)
        live = eng._users[uid]
        missed = live.topic_missed.copy()
        assert 0 < missed[eng.catalog.topic_id("pets")] < 2.0 * (pets // 3)  # some not now
    with Engine.open(world_path, clock=clock) as eng:
        resumed = eng._state(uid)
        assert np.array_equal(resumed.topic_missed, missed)
        assert list(resumed.closed_topics) == list(live.closed_topics)


def test_a_topic_swiped_away_three_times_does_not_come_back(demo_world: Path) -> None:
    """A cold viewer who finishes cooking and pets and swipes everything else away within
    1.5 s: once a topic has been swiped away three times, it is not shown again in the
    viewer's first 60 picks."""
    eng = Engine.open(demo_world, clock=VirtualClock(0.0), log=False)
    uid = eng.new_user()
    skipped: Counter[str] = Counter()
    returned: Counter[str] = Counter()
    for _ in range(60):
        video = eng.next(uid).video
        if video.topic in ("cooking", "pets"):
            eng.record(uid, video.id, "complete", watched_s=video.duration_s)
            continue
        if skipped[video.topic] >= 3:
            returned[video.topic] += 1
        skipped[video.topic] += 1
        eng.record(uid, video.id, "skip", watched_s=1.5)
    assert not returned, returned
