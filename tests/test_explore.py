"""The explore source's videos within the topics it explores: random recent ones by default,
the most promising recent ones with ``[sources] explore_pick = "best"``."""

from __future__ import annotations

from pathlib import Path

import msgspec
import numpy as np

from engine.api import Engine
from engine.candidates import RECENT_PER_TOPIC, explore, watch_prior
from engine.clock import VirtualClock
from engine.config import Config
from engine.pipeline import _source_context
from engine.pools import PoolViewOnce

QUOTA = 18  # three topics, six each


Proposals = dict[int, set[int]]


def _explored(world_path: Path, pick: str, seen_best: bool = False) -> tuple[Proposals, Proposals]:
    """A cold viewer's explore proposals per topic, and per topic the six unseen recent
    videos with the highest watch prior (with ``seen_best``, the viewer has seen each
    topic's best)."""
    config = Config(sources=msgspec.structs.replace(Config().sources, explore_pick=pick))
    with Engine.open(world_path, config=config, clock=VirtualClock(3600.0), log=False) as engine:
        state = engine._state(engine.new_user([]))
        world = engine._shared(engine.clock(), (), PoolViewOnce(engine.pools))
        ctx = _source_context(world, world.boosted_ids)
        draws = np.linspace(0.9, 0.1, len(engine.topics()))  # topics 0, 1, 2 are explored

        def recent(topic: int) -> np.ndarray:
            return ctx.catalog.by_topic.newest(topic, ctx.now, RECENT_PER_TOPIC)

        if seen_best:
            for t in range(3):
                state.seen.add(int(recent(t)[np.argmax(watch_prior(ctx, recent(t)))]))
        ids = explore(ctx, state, QUOTA, np.random.default_rng(3), draws)
        topic = ctx.catalog.world.videos.topic_id[ids]
        proposed = {int(t): set(ids[topic == t].tolist()) for t in np.unique(topic)}
        best = {}
        for t in proposed:
            unseen = recent(t)[~state.seen.mask(recent(t))]
            order = np.argsort(-watch_prior(ctx, unseen), kind="stable")
            best[t] = set(unseen[order[:6]].tolist())
    return proposed, best


def test_best_explores_each_topic_with_its_most_promising_unseen_recent_videos(
    world_path: Path,
) -> None:
    proposed, best = _explored(world_path, "best")
    assert list(proposed) == [0, 1, 2]
    assert proposed == best  # the six with the highest watch prior, per topic
    drawn, best = _explored(world_path, "random")
    assert list(drawn) == [0, 1, 2]
    assert drawn != best  # the default draws at random


def test_best_skips_what_the_viewer_has_seen(world_path: Path) -> None:
    before, _ = _explored(world_path, "best")
    after, best = _explored(world_path, "best", seen_best=True)
    assert after == best
    for t in (0, 1, 2):
        assert len(before[t] - after[t]) == 1  # the seen best gave way to the seventh
