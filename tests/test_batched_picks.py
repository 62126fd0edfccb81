"""Batched picks (``Engine.next_many``) are the per-viewer picks: same videos, same propensities,
same receipts, whoever shares the batch and in whatever order."""

from __future__ import annotations

import copy
import pickle
import shutil
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import astuple
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from engine.api import Engine
from engine.batch import Batch
from engine.clock import VirtualClock
from engine.filters import FilterContext, apply_filters, apply_filters_many
from engine.idset import IdSet, SparseTable
from engine.pick import _uniform_draws_one_by_one, choose, uniform_draws, weighted_draw
from engine.pipeline import Boost, NothingToRecommendError
from engine.policy import PolicySpec

VIEWERS = 6
ROUNDS = 12
KINDS = ("complete", "skip", "like", "not_interested", "follow", "hide_creator", "share")


def _viewers(engine: Engine) -> list[int]:
    """The same viewers in every engine: cold and onboarded, with controls set on some."""
    topics = engine.topics()
    users = []
    for k in range(VIEWERS):
        interests = [] if k % 3 == 0 else topics[k : k + 2]
        users.append(engine.new_user(interests, name=f"v{k}", pick_seed=100 + k))
    engine.set_controls(users[1], topic_sliders={topics[5]: 2.5, topics[6]: 0.5})
    engine.set_controls(users[2], keyword_filters=["cat"], allow_sensitive=True)
    return users


def _reactions(
    engine: Engine, round_: int, user_ids: list[int], video_ids: list[int]
) -> list[tuple[Any, ...]]:
    """What each viewer does with its video this round: a fixed function of round and viewer."""
    events: list[tuple[Any, ...]] = []
    creators = engine.catalog.world.videos.creator_id
    for k, (user, video) in enumerate(zip(user_ids, video_ids, strict=True)):
        rng = np.random.default_rng([round_, k])
        kind = KINDS[int(rng.integers(len(KINDS)))]
        if kind == "follow" and int(creators[video]) in engine._state(user).follows:
            kind = "like"
        if kind == "not_interested":
            scope = ("video", "creator", "topic")[int(rng.integers(3))]
            events.append((user, video, kind, {"scope": scope}))
        elif kind not in ("complete", "skip"):
            events.append((user, video, kind, {}))
        closing = "complete" if kind in ("complete", "like", "share") else "skip"
        events.append((user, video, closing, {"watched_s": float(rng.uniform(1.0, 30.0))}))
    return events


def _same(a: Any, b: Any) -> None:
    assert a.video == b.video  # what the feed shows: every field, live counts too
    assert [type(x) for x in astuple(a.video)] == [type(x) for x in astuple(b.video)]
    assert a.source == b.source and a.rank == b.rank
    assert a.score == b.score and a.propensity == b.propensity
    assert a.receipt.to_json() == b.receipt.to_json()


CASES = {
    "learned": ({"policy": "engine"}, False, False),
    "formula": ({"policy": PolicySpec("engine", {"learn": False})}, False, False),
    "heating": ({"policy": "engine"}, True, False),
    "logged": ({"policy": "engine"}, False, True),
    "popular": ({"policy": "popular"}, False, False),
    "bandit": ({"policy": "bandit"}, False, False),
    "random": ({"policy": "random"}, False, False),
}


@pytest.fixture(params=list(CASES))
def engines(request: pytest.FixtureRequest, world_path: Path) -> Iterator[list[Engine]]:
    """Three engines on equal copies of a world: driven one viewer at a time, as one batch,
    and as batches in another order and split."""
    options, heated, logged = CASES[request.param]
    with ExitStack() as stack:
        made = []
        for k in range(3):
            path = world_path.with_name(f"copy{k}.db")
            shutil.copy(world_path, path)
            boosts = (
                [Boost(k, 40 + k, 3.0, 0.0, 1e9, "test", "t") for k in range(3)] if heated else []
            )
            engine = Engine.open(
                path, clock=VirtualClock(3600.0), log=logged, boosts=boosts, **options
            )
            made.append(stack.enter_context(engine))
        yield made


def test_batched_picks_equal_one_viewer_at_a_time(engines: list[Engine]) -> None:
    alone, batched, shuffled = engines
    users = [_viewers(e) for e in engines]
    assert users[0] == users[1] == users[2] or all(len(u) == VIEWERS for u in users)
    for round_ in range(ROUNDS):
        one = [alone.next(u) for u in users[0]]
        many = batched.next_many(users[1])
        order = np.random.default_rng(round_).permutation(VIEWERS).tolist()
        half = VIEWERS // 2
        parts = [
            shuffled.next_many([users[2][k] for k in ks]) for ks in (order[:half], order[half:])
        ]
        by_viewer = dict(zip(order, [*parts[0], *parts[1]], strict=True))
        for k in range(VIEWERS):
            _same(one[k], many[k])
            _same(one[k], by_viewer[k])
        for engine, ids, recs in ((alone, users[0], one), (batched, users[1], many)):
            events = _reactions(engine, round_, ids, [r.video.id for r in recs])
            if engine is alone:
                for user, video, kind, details in events:
                    engine.record(user, video, kind, **details)
            else:
                engine.record_many(events)
        events = _reactions(
            shuffled, round_, users[2], [by_viewer[k].video.id for k in range(VIEWERS)]
        )
        shuffled.record_many(events)
        for engine in engines:  # minutes, and now and then hours: trends refresh, marks fade
            engine.clock.advance(20.0 if round_ % 4 else 4 * 3600.0)  # type: ignore[attr-defined]


def test_viewers_at_their_own_moments_get_the_picks_of_one_at_a_time(world_path: Path) -> None:
    """``at=`` spread over hours (trends and pools refresh between viewers) picks as ``next``
    one viewer at a time with the clock at each viewer's moment: what replay re-lives."""
    copy = world_path.with_name("copy.db")
    shutil.copy(world_path, copy)
    clocks = VirtualClock(0.0), VirtualClock(0.0)
    with (
        Engine.open(world_path, clock=clocks[0], log=False) as alone,
        Engine.open(copy, clock=clocks[1], log=False) as batched,
    ):
        users = [_viewers(e) for e in (alone, batched)]
        for round_ in range(6):
            times = [3600.0 * (round_ + 1) + 450.0 * k for k in range(VIEWERS)]
            one = []
            for user, now in zip(users[0], times, strict=True):
                clocks[0].now = now
                one.append(alone.next(user))
            clocks[1].now = times[-1]
            many = batched.next_many(users[1], at=times)
            for a, b in zip(one, many, strict=True):
                _same(a, b)
            for engine, ids, recs in ((alone, users[0], one), (batched, users[1], many)):
                engine.record_many(_reactions(engine, round_, ids, [r.video.id for r in recs]))


def test_a_viewer_with_nothing_left_is_named_and_nothing_is_served(world_path: Path) -> None:
    with Engine.open(world_path, clock=VirtualClock(3600.0), log=False) as engine:
        first, second = engine.new_user(["pets"]), engine.new_user(["pets"])
        engine.set_controls(second, keyword_filters=list("aeiou"))
        everything = range(engine.catalog.n)
        state = engine._state(second)
        for video in everything:
            state.seen.add(video)
        with pytest.raises(NothingToRecommendError) as refused:
            engine.next_many([first, second])
        assert refused.value.user_id == second
        assert engine._state(first).n_served == 0
        assert engine.next_many([first])[0].position == 0


def test_record_many_commits_the_events_before_a_refused_one(world_path: Path) -> None:
    with Engine.open(world_path, clock=VirtualClock(3600.0)) as engine:
        user = engine.new_user(["pets"])
        video = engine.next(user).video.id
        with pytest.raises(ValueError, match="never served"):
            engine.record_many(
                [
                    (user, video, "like", {}),
                    (user, video + 1 if video + 1 < engine.catalog.n else 0, "like", {}),
                ]
            )
    with Engine.open(world_path) as again:
        kinds = [e["kind"] for e in again.store.history(user)[1]]
    assert kinds == ["like"]


def test_batched_filters_keep_and_count_what_each_viewer_alone_does(world_path: Path) -> None:
    """Every filter over a batch's candidates answers per viewer exactly as alone: seen, hidden
    creators, dismissals, keyword filters, sensitivity and each viewer's own moment."""
    with Engine.open(world_path, clock=VirtualClock(3600.0), log=False) as engine:
        users = _viewers(engine)
        for round_ in range(6):
            recs = engine.next_many(users)
            engine.record_many(_reactions(engine, round_, users, [r.video.id for r in recs]))
        states = [engine._state(u) for u in users]
        rng = np.random.default_rng(5)
        ids = [np.sort(rng.choice(engine.catalog.n, 3000, replace=False)) for _ in users]
        seen = [s.seen.array() for s in states]
        ids = [np.union1d(i, s) for i, s in zip(ids, seen, strict=True)]  # some are seen
        contexts = [
            FilterContext(
                engine.catalog, engine.config, 3600.0 * (k + 1), engine._keyword_blocked(s)
            )
            for k, s in enumerate(states)
        ]
        batched = apply_filters_many(ids, states, contexts)
        for k, state in enumerate(states):
            keep, removed = apply_filters(ids[k], state, contexts[k])
            assert batched[k][0].tolist() == keep.tolist()
            assert batched[k][1] == removed
        assert any(r["already seen"] for _, r in batched)
        assert any(r["keyword filter"] for _, r in batched)


def test_mask_of_a_sorted_list_is_the_mask() -> None:
    rng = np.random.default_rng(0)
    for size in (0, 1, 5, 400):
        ids = IdSet(rng.choice(2000, size, replace=False).tolist())
        for length in (0, 1, 50, 1500):
            values = np.sort(rng.choice(2000, length, replace=False))
            assert ids.mask_of_sorted(values).tolist() == ids.mask(values).tolist()


def test_the_fresh_sources_draw_is_numpys_weighted_choice_draw_for_draw() -> None:
    """The weighted draw without replacement the fresh source makes over thousands of uploads
    gives numpy's ``choice`` picks exactly, and leaves the generator where choice does (the
    pick's later draws are unchanged)."""
    for seed in range(300):
        setup = np.random.default_rng(seed)
        n = int(setup.integers(1, 4000))
        weight = np.exp(3.0 * setup.standard_normal(n)) * (setup.random(n) < 0.7)
        size = int(min(setup.integers(1, 40), np.count_nonzero(weight)))
        if size == 0:
            continue
        p = weight / weight.sum()
        theirs, ours = np.random.default_rng(seed + 1), np.random.default_rng(seed + 1)
        expected = theirs.choice(n, size=size, replace=False, p=p)
        assert weighted_draw(ours, p.copy(), size).tolist() == expected.tolist()
        assert ours.random() == theirs.random()


def test_the_slates_draw_is_numpys_choice_draw_for_draw() -> None:
    """The final draw from a slate gives numpy's ``choice`` pick exactly (slates of 1 to 40,
    zero-probability items too) and leaves the generator where choice does."""
    for seed in range(2000):
        setup = np.random.default_rng(seed)
        n = int(setup.integers(1, 40))
        weight = np.exp(2.0 * setup.standard_normal(n)) * (setup.random(n) < 0.8)
        if not weight.any():
            continue
        p = weight / weight.sum()
        theirs, ours = np.random.default_rng(seed + 1), np.random.default_rng(seed + 1)
        assert choose(p, ours).index == int(theirs.choice(n, p=p))
        assert ours.random() == theirs.random()


def test_the_starter_sources_draws_are_numpys_uniform_choices_draw_for_draw() -> None:
    """A viewer with no interests gets a few of each topic's best videos: the draws made in
    one pass are numpy's ``choice`` picks topic after topic exactly (populations of 1 to
    10,000, a whole population too), and leave the generator where those calls do."""
    for seed in range(400):
        setup = np.random.default_rng(seed)
        populations = setup.integers(1, 60, size=int(setup.integers(1, 45))).tolist()
        if seed % 10 == 0:
            populations.append(int(setup.integers(60, 10_001)))
        sizes = [int(min(n, setup.integers(1, 12))) for n in populations]
        # Both ways: all bounds at once, and one at a time (what a rejected draw falls back to).
        for draw in (uniform_draws, _uniform_draws_one_by_one):
            theirs, ours = np.random.default_rng(seed + 1), np.random.default_rng(seed + 1)
            expected = [
                theirs.choice(n, size=k, replace=False).tolist()
                for n, k in zip(populations, sizes, strict=True)
            ]
            assert draw(ours, populations, sizes) == expected
            assert ours.random() == theirs.random()


def test_affinity_lookups_answer_the_same_for_short_and_long_tables() -> None:
    """A viewer's sparse affinities (sounds, creators) are read the same whether the batch
    looks every row up in its table (tables longer than the candidates) or searches them all
    at once (short tables): each row gets its own viewer's value, or the default."""
    rng = np.random.default_rng(4)
    ids = [rng.choice(5000, size=n).astype(np.int64) for n in (300, 7, 120)]
    batch = Batch.of(ids)
    for size in (5, 2000):
        tables = [
            {
                int(k): float(v)
                for k, v in zip(rng.choice(5000, size), rng.random(size), strict=True)
            }
            for _ in ids
        ]
        found = batch.lookup(tables, batch.ids, -1.0)
        expected = [t.get(int(k), -1.0) for t, keys in zip(tables, ids, strict=True) for k in keys]
        assert found.tolist() == expected
        assert (
            batch.split(found)[2].tolist()
            == Batch.of(ids[2:]).lookup(tables[2:], ids[2], -1.0).tolist()
        )


def test_a_logged_batch_of_reactions_commits_when_the_learned_model_is_saved_inside_it(
    world_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The learned model is written to the file every SAVE_EVERY updates; when that falls
    inside ``record_many``'s one transaction the batch is still recorded whole (it failed
    with "cannot commit - no transaction is active", the save having committed the batch's
    transaction half-way)."""
    monkeypatch.setattr("engine.learned.SAVE_EVERY", 3)
    with Engine.open(world_path, clock=VirtualClock(0.0)) as eng:
        viewers = [eng.new_user(pick_seed=k) for k in range(6)]
        for _ in range(2):
            recs = eng.next_many(viewers)
            ids = eng.record_many(
                (u, r.video.id, "complete", {"watched_s": r.video.duration_s})
                for u, r in zip(viewers, recs, strict=True)
            )
            assert len(ids) == len(viewers)
        assert eng.store.learned_model("engine") is not None
    with Engine.open(world_path, clock=VirtualClock(0.0)) as eng:
        assert sum(len(eng.store.history(u)[1]) for u in viewers) == 2 * len(viewers)


def test_a_sparse_tables_arrays_follow_every_change() -> None:
    """The sorted arrays a pick searches are moved with each update, not rebuilt: after any
    sequence of sets (new keys and old) they equal the table sorted."""
    rng = np.random.default_rng(5)
    table = SparseTable()
    expected: dict[int, float] = {}
    for step in range(2000):
        if step % 7 == 0:
            table.arrays()  # read now and then, as picks do between updates
        key, value = int(rng.integers(0, 300)), float(rng.normal())
        table[key] = value
        expected[key] = value
        if step % 97 == 0:
            removed = int(rng.integers(0, 300))
            table.pop(removed, None)
            expected.pop(removed, None)
        keys, values = table.arrays()
        assert keys.tolist() == sorted(expected)
        assert values.tolist() == [expected[k] for k in sorted(expected)]


def test_a_copied_or_pickled_sparse_table_keeps_its_entries_and_arrays() -> None:
    table = SparseTable({7: 0.5, 2: -0.25, 40: 1.0})
    table.arrays()  # cached before the copy, as a served viewer's are
    for copied in (copy.deepcopy(table), copy.copy(table), pickle.loads(pickle.dumps(table))):
        assert isinstance(copied, SparseTable) and dict(copied) == dict(table)
        keys, values = copied.arrays()
        assert keys.tolist() == [2, 7, 40] and values.tolist() == [-0.25, 0.5, 1.0]
        copied[3] = 2.0  # and it still moves its arrays as it changes
        assert copied.arrays()[0].tolist() == [2, 3, 7, 40]
