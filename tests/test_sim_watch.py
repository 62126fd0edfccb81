"""The watch model's expectation against the draws: what the oracle ranks by must be what the
personas really watch, or the oracle is no ceiling and every placement under it is off."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from engine.sim.persona import Persona, draw_taste
from engine.sim.watch import (
    Behaviour,
    expected_capped_lognormal_s,
    expected_capped_stretch_s,
    expected_watch_s,
    not_interested_watch_s,
    rewatch_mean_share,
    rewatch_share,
)
from engine.store import Store
from engine.world import World

# Duration bucket (s) -> draws per video: the rare full watches of long videos spread their
# watch times, so those buckets need more draws to hold the standard error near 1% of the mean.
DRAWS = {(5, 10): 1500, (10, 20): 3000, (20, 40): 3000, (40, 90): 6000, (90, 180): 12000}
APPEALS = (-1.5, 0.0, 1.5)  # disliked-ish, indifferent, loved-ish


@pytest.fixture(scope="module")
def world(world_template: Path) -> World:
    with Store.open(world_template) as store:
        return store.load_world()


def steady_persona(world: World, seed: int) -> Persona:
    """A persona whose appeal for a video stays put: no mood drift, no boredom, no follows."""
    taste = draw_taste(world, np.random.default_rng(seed))
    taste = replace(taste, mood_sd=0.0, satiation=0.0, follow=0.0)
    return Persona.draw(world, seed, taste=taste)


@pytest.mark.slow
def test_expected_watch_matches_what_personas_watch_in_every_duration_bucket(
    world: World,
) -> None:
    persona = steady_persona(world, 11)
    persona.start_session()
    everything = np.arange(len(world.videos.duration_s), dtype=np.int64)
    appeal = persona.appeal_mean(everything)
    duration = world.videos.duration_s.astype(np.float64)
    errors, report = [], []
    for (low, high), draws in DRAWS.items():
        in_bucket = everything[(duration >= low) & (duration < high)]
        picks = np.array(
            [in_bucket[np.argmin(np.abs(appeal[in_bucket] - level))] for level in APPEALS]
        )
        assert np.ptp(appeal[picks]) > 2.0  # the bucket really spans a range of appeal
        expected = float(persona.expected_watch_s(picks).mean())
        watched = np.mean([persona.react(int(v)).watched_s for v in picks for _ in range(draws)])
        errors.append(expected / watched - 1.0)
        report.append(f"{low}-{high} s: expected {expected:.2f}, watched {watched:.2f}")
    assert np.all(np.abs(errors) < 0.03), "\n".join(report)


def test_a_capped_exponential_stretch_has_its_closed_form_mean() -> None:
    draws = 3.0 + 18.0 * np.random.default_rng(0).exponential(size=400_000)
    caps = np.array([2.0, 3.0, 10.0, 60.0, 500.0])
    simulated = np.array([np.minimum(cap, draws).mean() for cap in caps])
    closed = expected_capped_stretch_s(caps, 3.0, 18.0)
    assert closed[:2] == pytest.approx([2.0, 3.0])  # at or under the floor: the cap itself
    assert closed == pytest.approx(simulated, rel=0.005)


def test_a_capped_lognormal_watch_has_its_closed_form_mean() -> None:
    behaviour = Behaviour()
    uniforms = np.random.default_rng(1).random(200_000)
    seen = np.array([not_interested_watch_s(behaviour, float(u)) for u in uniforms])
    assert np.median(seen) == pytest.approx(behaviour.not_interested_median_s, rel=0.02)
    caps = np.array([0.5, 3.0, 10.0, 60.0, 500.0])
    simulated = np.array([np.minimum(cap, seen).mean() for cap in caps])
    closed = expected_capped_lognormal_s(
        caps, behaviour.not_interested_median_s, behaviour.not_interested_sigma
    )
    assert closed == pytest.approx(simulated, rel=0.01)


def test_a_loop_adds_its_closed_form_mean_share() -> None:
    behaviour = Behaviour()
    uniforms = np.random.default_rng(2).random(200_000)
    shares = np.array([rewatch_share(behaviour, float(u)) for u in uniforms])
    assert shares.mean() == pytest.approx(rewatch_mean_share(behaviour), rel=0.01)


def test_longer_videos_are_worth_more_seconds_but_less_of_their_length() -> None:
    duration = np.array([6.0, 15.0, 30.0, 60.0, 120.0, 180.0])
    watched = expected_watch_s(Behaviour(), np.zeros(6), duration, patience_s=1.6)
    assert np.all(np.diff(watched) > 0)
    assert np.all(np.diff(watched / duration) < 0)
    # A hooked viewer who leaves part-way watches ~21 s at most on average, whatever the length.
    assert watched[-1] < 0.3 * duration[-1]
