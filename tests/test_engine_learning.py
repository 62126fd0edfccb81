"""The feed learns: a scripted viewer's two topics take over, while a random feed stays random."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine import Config, Engine, VirtualClock
from engine.sim.scripted import TOPIC_PAIRS, dismissal_cut, two_topic_share

LOVED_PAIRS = TOPIC_PAIRS[:3]


def scripted_share(world: Path, loved: tuple[str, str], config: Config) -> float:
    """Complete and like the two loved topics (named at sign-up), skip everything else within
    2 s; after 20 reactions, the share of the next 30 picks that are from the loved topics."""
    return two_topic_share(world, loved, config=config)


@pytest.mark.parametrize("loved", LOVED_PAIRS)
def test_two_loved_topics_take_over_the_feed(demo_world: Path, loved: tuple[str, str]) -> None:
    assert scripted_share(demo_world, loved, Config()) >= 0.6


PICK_SEEDS = range(9)  # one pick seed's share of picks 21-50 moves by ±0.2 with the draws


def cold_share(world: Path, pair: tuple[str, str], start: float = 0.0) -> float:
    """The no-onboarding viewer's share of picks 21-50 from its two topics, on average over
    :data:`PICK_SEEDS` (a run takes a fraction of a second)."""
    shares = [
        two_topic_share(world, pair, config=Config(seed=s), onboard=False, start=start)
        for s in PICK_SEEDS
    ]
    return sum(shares) / len(shares)


@pytest.mark.parametrize("start", [0.0, 86_400.0])
def test_two_loved_topics_take_over_a_cold_feed_at_any_hour(demo_world: Path, start: float) -> None:
    """No onboarding, six pairs, whatever the hour the viewer starts: every pair is learnt
    (at least 0.4 of picks 21-50) and issue 14's 0.7 on average (before the topic evidence a
    pair could stay at 0.00 and the mean was 0.57; with a fixed topic cap of 6 in 10, 0.66 and
    0.65). Measured over nine pick seeds since the sources weigh languages: at hour 0, 0.71
    (the weakest pair, science + cars, 0.60); a day in, 0.72 (0.66). With the sources' language
    power at 0.5 instead of 1: 0.70 (0.49) and 0.71 (0.54)."""
    shares = {pair: cold_share(demo_world, pair, start) for pair in TOPIC_PAIRS}
    assert min(shares.values()) >= 0.4 and sum(shares.values()) / len(shares) >= 0.7, shares


@pytest.mark.parametrize("policy", ["engine", "bandit"])
def test_a_cold_start_viewer_is_learnt_from_what_it_watches(demo_world: Path, policy: str) -> None:
    """No onboarding: the two topics must be found by watching. Issue 14's target is 0.7 over
    six pairs (benchmarks/bench_learning.py prints it); this holds today's floor, far above a
    feed that does not learn (about 2/39 of picks from two topics)."""
    shares = [
        two_topic_share(demo_world, pair, policy=policy, onboard=False) for pair in LOVED_PAIRS
    ]
    assert sum(shares) / len(shares) >= 0.45, shares


@pytest.mark.parametrize("loved", [("booktok", "gaming"), ("fittok", "travel")])
def test_a_cold_viewer_swiping_the_rest_away_gets_its_two_topics(
    demo_world: Path, loved: tuple[str, str]
) -> None:
    """No onboarding, everything else swiped away within 1.5 s: at least 60% of picks 21-50
    from the two topics, on average over nine pick seeds (measured 0.73 and 0.71). Science +
    cars, two of the least watched topics, is the next test's, with its own bar."""
    assert cold_share(demo_world, loved) >= 0.6


def test_a_cold_viewer_of_two_little_watched_topics_is_not_left_to_the_popular_ones(
    demo_world: Path,
) -> None:
    """Untried topics are searched in the population's order (engine.uncertainty.searched),
    and each topic that misses widens the search by one, so a viewer who swipes away
    everything popular still reaches science and cars (35 and 36 of 39 topics by audience):
    half of picks 21-50 from them on average over nine pick seeds (measured 0.52; 0.57 with
    the overall completion prior; 0.07 with a search five topics wide that never widens)."""
    assert cold_share(demo_world, ("science", "cars")) >= 0.5


def test_a_random_feed_does_not_learn(demo_world: Path) -> None:
    share = scripted_share(demo_world, LOVED_PAIRS[0], Config(policy="random"))
    assert share < 0.25  # about 2/30 expected from two of ~39 topics


def test_a_clip_left_looping_does_not_take_over_the_profile(world_path: Path) -> None:
    """A presenter talks over a short clip for a while: every loop is recorded as a rewatch,
    but the viewer's lasting interests stay the ones they showed with likes."""
    with Engine.open(world_path, clock=VirtualClock(0.0), log=False) as eng:
        uid = eng.new_user(interests=["cooking", "pets"])
        looped = None
        for _ in range(25):
            rec = eng.next(uid)
            topic = rec.video.topic
            if topic in ("cooking", "pets"):
                eng.record(uid, rec.video.id, "complete", watched_s=rec.video.duration_s)
                eng.record(uid, rec.video.id, "like")
            elif looped is None:
                looped = (rec.video.id, topic)
                eng.record(uid, rec.video.id, "complete", watched_s=rec.video.duration_s)
                for _ in range(30):
                    eng.record(uid, rec.video.id, "rewatch")
            else:
                eng.record(uid, rec.video.id, "skip", watched_s=1.0)
        assert looped is not None
        # The explicit-signal affinities (the long-term vector's cosines to topic centroids
        # also rank topics never watched that sit near the loved ones in embedding space:
        # momsoftiktok 0.46 beside cooking 0.49 here, so they cannot tell a loop apart).
        # Measured 0.29 against 0.85 and 0.96; 0.81 against 0.90 and 0.97 with every loop
        # at full weight.
        profile = eng.profile(uid)
        affinity = profile.topic_affinity
        loved = min(affinity["cooking"], affinity["pets"])
        assert affinity[looped[1]] < loved / 2, f"{looped[1]} took over: {affinity}"
        assert profile.long_term_topics[0][0] in ("cooking", "pets"), profile.long_term_topics


@pytest.mark.parametrize("loved", TOPIC_PAIRS[:2])
def test_not_interested_takes_a_loved_topic_out_of_the_next_twenty(
    demo_world: Path, loved: tuple[str, str]
) -> None:
    """Issue 14: "not interested" on a topic cuts its share of the next 20 items by >= 90%, even
    a topic the viewer named at sign-up and watched through until then."""
    assert dismissal_cut(demo_world, loved) >= 0.9
