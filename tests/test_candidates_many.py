"""The engine's sources gathered for a whole batch (``gather_many``) propose for each viewer
exactly what ``gather`` proposes for it alone: the same videos, sources, similarities (bit for
bit), topic draws and co-engagement, with its generator drawn from the same number of times,
whatever the batch size."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from engine.api import Engine
from engine.candidates import Candidates, gather, gather_many
from engine.clock import VirtualClock
from engine.pipeline import _source_context
from engine.pools import PoolViewOnce
from engine.uncertainty import (
    draw_topics,
    draw_topics_many,
    posterior,
    searched,
    topic_prior,
    untried,
)

VIEWERS = 64
ROUNDS = 5
KINDS = ("complete", "skip", "like", "follow", "share")


def _bits(values: np.ndarray | None) -> bytes | None:
    return None if values is None else values.dtype.str.encode() + values.tobytes()


def _same(a: Candidates, b: Candidates) -> None:
    assert a.ids.tolist() == b.ids.tolist()
    assert a.source.tolist() == b.source.tolist()
    assert {k: v.tolist() for k, v in a.proposed.items()} == {
        k: v.tolist() for k, v in b.proposed.items()
    }
    assert list(a.proposed) == list(b.proposed)
    assert a.query_known == b.query_known
    for field in ("similarity", "topic_draw", "coengagement"):
        assert _bits(getattr(a, field)) == _bits(getattr(b, field)), field


@pytest.fixture(scope="module")
def viewers(
    world_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Engine, list[int]]]:
    """64 viewers with a few rounds of history each (cold, onboarded, sliders, follows)."""
    path = tmp_path_factory.mktemp("many") / "world.db"
    path.write_bytes(world_template.read_bytes())
    engine = Engine.open(path, clock=VirtualClock(3600.0), log=False)
    topics = engine.topics()
    users = [
        engine.new_user([] if k % 4 == 0 else topics[k % 7 : k % 7 + 2], pick_seed=k)
        for k in range(VIEWERS)
    ]
    engine.set_controls(users[1], topic_sliders={topics[3]: 2.5})
    for round_ in range(ROUNDS):
        recs = engine.next_many(users)
        events = []
        for k, (user, rec) in enumerate(zip(users, recs, strict=True)):
            kind = KINDS[(round_ * 7 + k) % len(KINDS)]
            if kind in ("like", "share"):
                events.append((user, rec.video.id, kind, {}))
            elif kind == "follow":
                with contextlib.suppress(ValueError):  # a creator already followed
                    engine.record(user, rec.video.id, kind)
            closing = "complete" if kind in ("complete", "like", "share") else "skip"
            events.append((user, rec.video.id, closing, {"watched_s": 5.0 + k % 9}))
        engine.record_many(events)
        engine.clock.advance(600.0)  # type: ignore[attr-defined]
    with engine:
        yield engine, users


@pytest.mark.parametrize("size", [1, 2, 16, 64])
def test_a_batchs_sources_propose_for_each_viewer_what_it_gets_alone(
    viewers: tuple[Engine, list[int]], size: int
) -> None:
    engine, users = viewers
    states = [engine._state(u) for u in users]
    assert all(s.n_served == ROUNDS for s in states)
    assert sum(len(s.follows) > 0 for s in states) > 0
    assert sum(s.topic_sliders != {} for s in states) == 1
    world = engine._shared(engine.clock(), (), PoolViewOnce(engine.pools))
    ctx = _source_context(world, world.boosted_ids)

    def rng(k: int) -> np.random.Generator:
        return np.random.default_rng([11, k])

    alone, alone_rngs = [], []
    for k, state in enumerate(states):
        r = rng(k)
        alone.append(gather(ctx, state, r))
        alone_rngs.append(r.bit_generator.state)
    for start in range(0, VIEWERS, size):
        part = range(start, min(start + size, VIEWERS))
        rngs = [rng(k) for k in part]
        found = gather_many([ctx] * len(part), [states[k] for k in part], rngs)
        for k, candidates, r in zip(part, found, rngs, strict=True):
            _same(alone[k], candidates)
            assert r.bit_generator.state == alone_rngs[k]
    assert any(c.coengagement is not None and c.coengagement.any() for c in alone)
    assert sum(not c.query_known for c in alone) < VIEWERS


def test_a_batchs_topic_draws_are_each_viewers_own(world_path: Path) -> None:
    """Each viewer's Thompson draws come from its own generator, and the untried topics left
    out of its search keep their prior mean, as :func:`searched` says one viewer at a time."""
    with Engine.open(world_path, log=False) as engine:
        prior = topic_prior(engine.catalog.world)
        n = len(prior.mean)
        rng = np.random.default_rng(4)
        states = []
        for k in range(12):
            state = engine._state(engine.new_user([]))
            state.topic_hooked[:] = 0.0
            state.topic_missed[:] = 0.0
            tried = rng.choice(n, size=k % 6, replace=False)
            state.topic_hooked[tried] = rng.integers(0, 3, size=len(tried))
            state.topic_missed[tried] = rng.integers(0, 9, size=len(tried))  # some missed
            states.append(state)
    drawn = draw_topics_many(states, [np.random.default_rng([9, k]) for k in range(12)], prior)
    for k, state in enumerate(states):
        alone = np.random.default_rng([9, k]).beta(*posterior(state, prior))
        waiting = untried(state) & ~searched(state, prior)
        alone[waiting] = prior.mean[waiting]
        assert drawn[k].tobytes() == alone.tobytes()
        assert (
            drawn[k].tobytes() == draw_topics(state, np.random.default_rng([9, k]), prior).tobytes()
        )
    assert any((untried(s) & ~searched(s, prior)).any() for s in states)
    widths = {int(np.count_nonzero(searched(s, prior))) for s in states}
    assert len(widths) > 1  # a viewer whose tried topics missed searches further
