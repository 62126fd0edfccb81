"""`[scoring] completion_prior = "length"` (the default): a video with few views is expected to
be finished as often as videos of its length are, not as often as the average video."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import msgspec
import numpy as np
import pytest

from engine import Engine, VirtualClock
from engine.config import Config
from engine.scoring import ScoringContext, score

LONG_S, SHORT_S = 150.0, 8.0


@pytest.fixture(scope="module")
def engine(demo_world: Path) -> Iterator[Engine]:
    with Engine.open(demo_world, clock=VirtualClock(0.0), log=False) as eng:
        yield eng


def _unwatched(eng: Engine) -> tuple[np.ndarray, np.ndarray]:
    """New uploads nobody has watched yet: the long ones and the short ones."""
    views = eng.catalog.engagement.counts["views"]
    duration = eng.catalog.world.videos.duration_s
    never = views == 0
    return np.flatnonzero(never & (duration >= LONG_S)), np.flatnonzero(
        never & (duration <= SHORT_S)
    )


def _watched_rate(eng: Engine, long: bool) -> float:
    """The completion rate of the watched videos of that length, all views pooled."""
    counts = eng.catalog.engagement.counts
    duration = eng.catalog.world.videos.duration_s
    keep = (duration >= LONG_S) if long else (duration <= SHORT_S)
    return float(counts["completions"][keep].sum() / counts["views"][keep].sum())


def _logit(p: float) -> float:
    return float(np.log(p / (1 - p)))


def _completion(eng: Engine, ids: np.ndarray, prior: str) -> np.ndarray:
    config = msgspec.structs.replace(
        eng.config, scoring=msgspec.structs.replace(eng.config.scoring, completion_prior=prior)
    )
    ctx = ScoringContext(eng.catalog, config, eng.now, {})
    state = eng._state(eng.new_user())
    p: np.ndarray = score(ids, None, state, ctx).p["complete"]
    return p


def test_an_unwatched_long_video_is_expected_to_be_finished_as_often_as_long_videos_are(
    engine: Engine,
) -> None:
    long, short = _unwatched(engine)
    assert len(long) >= 5 and len(short) >= 5
    rate = engine.catalog.engagement.rates(("completions",), long, 50.0, by_length=True)[0]
    # Shrunk toward videos of its length: a 2.5-3 minute video is finished ~5-6% of the time.
    assert rate == pytest.approx(_watched_rate(engine, long=True), rel=0.35)
    assert _watched_rate(engine, long=True) < 0.1 < 0.5 < _watched_rate(engine, long=False)
    # The formula's P(complete) for a new viewer: the length prior puts a long unwatched video
    # far below a short one; the overall prior gave both the same starting rate. (Videos in
    # the viewer's language: whether it follows the language moves P(complete) too.)
    own = engine.catalog.language_index[engine.profile(engine.new_user()).language]
    long, short = (ids[engine.catalog.world.videos.language[ids] == own] for ids in (long, short))
    assert len(long) >= 3 and len(short) >= 3
    by_length_long, by_length_short = (_completion(engine, ids, "length") for ids in (long, short))
    # In odds, which the viewer's own inputs shift alike: at least twelve times lower.
    assert _logit(by_length_short.min()) - _logit(by_length_long.max()) > np.log(12)
    overall_long, overall_short = (_completion(engine, ids, "overall") for ids in (long, short))
    assert abs(np.median(overall_long) - np.median(overall_short)) < 0.05
    assert np.median(overall_long) > 3 * np.median(by_length_long)


def test_the_default_is_the_length_prior_and_the_overall_one_shrinks_every_rate_alike(
    engine: Engine,
) -> None:
    long, short = _unwatched(engine)
    ids = np.concatenate([long, short])
    engagement = engine.catalog.engagement
    assert Config().scoring.completion_prior == "length"  # the default
    overall = (engagement.totals["completions"] + 1.0) / (engagement.totals["views"] + 2.0)
    assert engagement.rates(("completions",), ids, 50.0)[0] == pytest.approx(overall)
