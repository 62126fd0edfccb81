"""The explore source's videos within the topics it explores: the most promising recent ones
by default (one place of each topic's kept for a new creator's upload), random recent ones with
``[sources] explore_pick = "random"``."""

from __future__ import annotations

from pathlib import Path

import msgspec
import numpy as np

from engine.api import Engine
from engine.candidates import RECENT_PER_TOPIC, explore, language_weight, watch_prior
from engine.clock import VirtualClock
from engine.config import Config, Rerank
from engine.pipeline import _source_context
from engine.pools import PoolViewOnce

QUOTA = 18  # three topics, six each


Proposals = dict[int, set[int]]


def _explored(
    world_path: Path, pick: str, seen_best: bool = False, debut_share: float = 0.1
) -> tuple[Proposals, Proposals, Proposals]:
    """A cold viewer's explore proposals per topic; per topic the six unseen recent videos
    the source should propose (the best new creator's upload by watch prior and the chance the
    viewer follows its language, then the best of the other creators'; without a debut share,
    the six best); and per topic the new creators'
    uploads among the proposals. With ``seen_best``, the viewer has seen each topic's best."""
    sources = msgspec.structs.replace(Config().sources, explore_pick=pick)
    config = Config(sources=sources, rerank=Rerank(debut_share=debut_share))
    with Engine.open(world_path, config=config, clock=VirtualClock(3600.0), log=False) as engine:
        state = engine._state(engine.new_user([]))
        world = engine._shared(engine.clock(), (), PoolViewOnce(engine.pools))
        ctx = _source_context(world, world.boosted_ids)
        draws = np.linspace(0.9, 0.1, len(engine.topics()))  # topics 0, 1, 2 are explored

        def recent(topic: int) -> np.ndarray:
            return ctx.catalog.by_topic.newest(topic, ctx.now, RECENT_PER_TOPIC)

        def promise(ids: np.ndarray) -> np.ndarray:
            """Watch prior + the viewer's weight of each video's language."""
            languages = language_weight(ctx, state)
            assert languages is not None
            return watch_prior(ctx, ids) + languages[ctx.catalog.world.videos.language[ids]]

        if seen_best:
            for t in range(3):
                state.seen.add(int(recent(t)[np.argmax(promise(recent(t)))]))
        ids = explore(ctx, state, QUOTA, np.random.default_rng(3), draws)
        topic = ctx.catalog.world.videos.topic_id[ids]
        proposed = {int(t): set(ids[topic == t].tolist()) for t in np.unique(topic)}
        best, debuts = {}, {}
        for t in proposed:
            unseen = recent(t)[~state.seen.mask(recent(t))]
            by_prior = unseen[np.argsort(-promise(unseen), kind="stable")]
            new = ctx.pools.new_creators(by_prior, ctx.now)
            kept = by_prior[new][:1] if debut_share > 0 else by_prior[:0]
            rest = by_prior[~new] if debut_share > 0 else by_prior
            best[t] = {*kept.tolist(), *rest[: 6 - len(kept)].tolist()}
            mine = np.fromiter(proposed[t], dtype=np.int64)
            debuts[t] = set(mine[ctx.pools.new_creators(mine, ctx.now)].tolist())
    return proposed, best, debuts


def test_best_explores_each_topic_with_its_most_promising_unseen_recent_videos(
    world_path: Path,
) -> None:
    proposed, best, debuts = _explored(world_path, "best")
    assert list(proposed) == [0, 1, 2]
    assert proposed == best
    # Where the topic has new creators' uploads, the best of them keeps its place.
    assert [len(d) for d in debuts.values()] == [0, 1, 0]
    drawn, best, _ = _explored(world_path, "random")
    assert list(drawn) == [0, 1, 2]
    assert drawn != best  # the other option draws at random


def test_without_a_debut_share_best_explores_with_the_six_best(world_path: Path) -> None:
    proposed, best, _ = _explored(world_path, "best", debut_share=0.0)
    assert proposed == best  # the six with the highest watch prior, per topic
    with_place, _, _ = _explored(world_path, "best")
    assert proposed != with_place


def test_best_skips_what_the_viewer_has_seen(world_path: Path) -> None:
    before, _, _ = _explored(world_path, "best")
    after, best, _ = _explored(world_path, "best", seen_best=True)
    assert after == best
    for t in (0, 1, 2):
        assert len(before[t] - after[t]) == 1  # the seen best gave way to the next
