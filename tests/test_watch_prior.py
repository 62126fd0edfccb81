"""Candidates that promise watch time: a liked topic's share of the interest source and the
fresh source's draw bring the videos a viewer is likely to watch for long, not only the ones
nearest its taste or any at random."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from engine import Config, Engine, VirtualClock
from engine.candidates import SourceContext, fresh, interest, language_weight, watch_prior
from engine.config import Scoring
from engine.profile import UserState, query_vector

TOPIC = "cooking"


@pytest.fixture(scope="module")
def engine(demo_world: Path) -> Iterator[Engine]:
    with Engine.open(demo_world, clock=VirtualClock(0.0), log=False) as eng:
        yield eng


def _context(eng: Engine) -> SourceContext:
    return SourceContext(
        eng.catalog, eng.trending, eng.pools, np.zeros(0, np.int64), eng.config, eng.now
    )


def _viewer(eng: Engine) -> tuple[UserState, int]:
    state = eng._state(eng.new_user(interests=[TOPIC]))
    return state, eng.catalog.world.topics.slug.index(TOPIC)


def test_a_liked_topic_brings_its_videos_most_worth_watching(engine: Engine) -> None:
    """A viewer who chose cooking is offered cooking's long, well-liked videos: the ten that
    promise the most watch time (length × how often everyone likes them × the chance the
    viewer follows their language) are all among the interest candidates. Nearest-to-taste
    alone offered none of them: within a topic, every video is near the taste."""
    state, topic = _viewer(engine)
    context = _context(engine)
    query = query_vector(state, engine.config.profile)
    proposed = interest(context, state, query, engine.config.sources.interest)
    ids = engine.catalog.by_topic[topic]
    ids = ids[engine.catalog.world.videos.published_at[ids] <= engine.now]
    languages = language_weight(context, state)
    assert languages is not None
    promise = watch_prior(context, ids) + languages[engine.catalog.world.videos.language[ids]]
    promising = ids[np.argsort(-promise, kind="stable")[:10]]
    assert np.isin(promising, proposed).all()


def test_new_creators_first_audience_leans_to_the_viewers_topics(engine: Engine) -> None:
    """New creators' uploads still fill the fresh quota first, but a viewer meets those of the
    topics it is drawn to: with cooking drawn high and every other topic low, most of them are
    cooking (a uniform draw gives about one in thirty)."""
    state, topic = _viewer(engine)
    context = _context(engine)
    draws = np.full(len(engine.catalog.world.topics.slug), 0.01)
    draws[topic] = 0.9
    quota = engine.config.sources.fresh
    proposed = fresh(context, state, quota, np.random.default_rng(0), draws)
    world = engine.catalog.world
    assert world.creators.is_new[world.videos.creator_id[proposed]].all()
    assert (world.videos.topic_id[proposed] == topic).mean() >= 0.3


@pytest.mark.parametrize("completion_prior", ["overall", "length"])
def test_the_watch_prior_after_live_reactions_is_what_a_reopened_engine_reads(
    world_path: Path, completion_prior: str
) -> None:
    """The prior a pick weighs is kept up to date one recorded video at a time; after likes
    and views it equals what an engine opening the same file computes from scratch (replay
    and a restart weigh the same videos the same), so does each topic's copy the interest
    source reads, and the liked video's prior went up (with either completion prior: the
    length-aware one moves with completions too)."""
    config = Config(scoring=Scoring(completion_prior=completion_prior))  # type: ignore[arg-type]
    with Engine.open(world_path, config=config, clock=VirtualClock(0.0)) as eng:
        before = watch_prior(_context(eng), np.arange(eng.catalog.n)).copy()
        uid = eng.new_user(interests=[TOPIC])
        liked = []
        for k in range(12):
            rec = eng.next(uid)
            eng.record(uid, rec.video.id, "complete", watched_s=rec.video.duration_s)
            if k % 2 == 0:
                eng.record(uid, rec.video.id, "like")
                liked.append(rec.video.id)
        live = watch_prior(_context(eng), np.arange(eng.catalog.n)).copy()
        # The interest source reads each topic's priors from a copy kept in topic order.
        by_topic, prior_views = eng.catalog.by_topic, eng.config.scoring.prior_views
        for topic in range(len(by_topic)):
            kept = eng.catalog.topic_watch_prior(
                topic, prior_views, eng.config.scoring.completion_prior
            )
            assert np.array_equal(kept, live[by_topic[topic]])
    with Engine.open(world_path, config=config, clock=VirtualClock(0.0)) as eng:
        reopened = watch_prior(_context(eng), np.arange(eng.catalog.n))
    assert np.array_equal(live, reopened)
    assert (live[liked] > before[liked]).all()
