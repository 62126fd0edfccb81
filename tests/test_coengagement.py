"""Learning from everyone: "viewers who finished this also finished that".

Worked answers on hand-built events, then the seeded world: a like pulls in what other viewers
finished alongside it, across topics; the index is rebuilt identically when the file reopens.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import Config, Engine, VirtualClock
from engine.coengagement import NEIGHBOURS, CoEngagement, Pairs, recent_positives
from engine.config import Rerank
from engine.learned import LEARNED, TERMS, OnlineLogit
from tests.tinyworld import tiny_world

CREATORS = tiny_world().videos.creator_id  # ana 0 1 8, ben 2 3 11, cat 4 5 9, dan 6 7 10


def test_viewers_who_finished_this_also_finished_that() -> None:
    index = CoEngagement(CREATORS)
    index.load([(1, 0, "complete"), (1, 3, "complete"), (2, 0, "like"), (2, 3, "complete")])
    index.observe(2, 9, "complete")
    assert index.videos.strongest(0, 5) == [(3, 2), (9, 1)]
    assert index.neighbours([0], 5).tolist() == [3, 9]
    # ana (video 0) and ben (video 3) were finished together twice.
    assert index.creators.count(int(CREATORS[0]), int(CREATORS[3])) == 2


def test_skips_and_a_second_positive_on_one_video_count_nothing() -> None:
    index = CoEngagement(CREATORS)
    index.load([(1, 0, "complete"), (1, 0, "like"), (1, 3, "skip"), (1, 4, "complete")])
    assert index.videos.strongest(0, 5) == [(4, 1)]


def test_scores_are_zero_for_strangers_and_grow_with_counts() -> None:
    index = CoEngagement(CREATORS)
    index.load([(u, v, "complete") for u in range(3) for v in (0, 3)])
    scores = index.scores(np.array([3, 11, 6]), seeds=[0])
    assert scores[0] > scores[1] > scores[2] == 0.0  # 11 shares video 3's creator only


def test_scores_follow_every_new_positive_of_anyone() -> None:
    """A viewer's next pick scores with the counts as they stand, even when its own seeds have
    not moved since its last pick: another viewer's positives count at once."""
    index = CoEngagement(CREATORS)
    index.load([(1, 0, "complete"), (1, 3, "complete")])
    candidates = np.array([3, 6, 11])
    before = index.scores(candidates, seeds=[0]).tolist()
    assert index.scores(candidates, seeds=[0]).tolist() == before
    index.load([(2, 0, "complete"), (2, 6, "complete")])  # someone else pairs 0 with 6
    after = index.scores(candidates, seeds=[0]).tolist()
    assert after[0] == before[0] and after[1] > before[1] == 0.0
    assert index.scores(candidates, seeds=[3]).tolist() != after


def test_a_video_keeps_only_its_strongest_partners() -> None:
    pairs = Pairs()
    for _ in range(3):
        pairs.add(0, 1)
    for other in range(2, NEIGHBOURS + 3):
        pairs.add(0, other)
    assert len(pairs.partners[0]) == NEIGHBOURS
    assert pairs.strongest(0, 1) == [(1, 3)]


EVENTS = st.lists(
    st.tuples(
        st.integers(0, 5), st.integers(0, len(CREATORS) - 1), st.sampled_from(["complete", "like"])
    ),
    max_size=300,
)


@settings(max_examples=60, deadline=None)
@given(events=EVENTS, capacity=st.integers(1, 6), split=st.integers(0, 300))
def test_loading_a_history_gives_the_rows_its_events_give_one_by_one(
    events: list[tuple[int, int, str]], capacity: int, split: int
) -> None:
    """An engine opening a file loads every positive at once (an imported log's tens of
    thousands), tracking full rows' weakest partners as it goes; the rows, their order and
    every eviction must be those of the same events observed one at a time, also when a load
    follows earlier events."""

    def index_of_capacity() -> CoEngagement:
        index = CoEngagement(CREATORS)
        index.videos, index.creators = Pairs(capacity), Pairs(capacity)
        return index

    one_by_one, loaded = index_of_capacity(), index_of_capacity()
    for user, video, kind in events:
        one_by_one.observe(user, video, kind)
    loaded.load(events[:split])
    loaded.videos.strongest(0, 3)  # a row read between two loads
    loaded.load(events[split:])
    for mine, theirs in (
        (loaded.videos, one_by_one.videos),
        (loaded.creators, one_by_one.creators),
    ):
        assert {k: list(row.items()) for k, row in mine.partners.items()} == {
            k: list(row.items()) for k, row in theirs.partners.items()
        }
        assert mine.strongest(0, 3) == theirs.strongest(0, 3)


def test_recent_positives_are_newest_first() -> None:
    reactions = [("complete", 4), ("skip", 5), ("like", 6), ("complete", 6)]
    assert recent_positives(reactions) == [6, 4]


def _watch_through(eng: Engine, uid: int, video: int) -> None:
    rec = eng.next(uid)
    assert rec.video.id == video  # boosted in front of the viewer
    eng.record(uid, video, "complete", watched_s=rec.video.duration_s)


def _fans_then_newcomer(
    eng: Engine, clock: VirtualClock, first: int, partner: int, newcomers_video: int
) -> int:
    """Five viewers finish ``first`` and ``partner`` (boosted in front of them); then a
    newcomer finishes ``newcomers_video``, and the clock moves on to when no boost is in force
    (nothing but co-engagement knows the partner). Returns the newcomer."""
    eng.boost(first, weight=1e6, until=10.0, reason="test")
    eng.boost(partner, weight=1000.0, until=10.0, reason="test")
    for k in range(5):
        uid = eng.new_user(name=f"fan-{k}")
        _watch_through(eng, uid, first)
        _watch_through(eng, uid, partner)
    eng.boost(newcomers_video, weight=2000.0, starts=20.0, until=30.0, reason="test")
    clock.now = 20.0
    newcomer = eng.new_user(name="newcomer")
    _watch_through(eng, newcomer, newcomers_video)
    clock.now = 40.0
    return newcomer


def _across_topics(eng: Engine) -> tuple[int, int]:
    """Two ordinary published videos of different topics and creators."""
    videos = eng.catalog.world.videos
    ok = (videos.published_at <= 0) & ~videos.spam & ~videos.sensitive
    ok &= videos.duplicate_of < 0
    published = np.flatnonzero(ok)
    first = int(published[0])
    elsewhere = (videos.topic_id[published] != videos.topic_id[first]) & (
        videos.creator_id[published] != videos.creator_id[first]
    )
    return first, int(published[elsewhere][0])


@contextmanager
def _fans_of_a_pair(world_path: Path) -> Iterator[tuple[Engine, int, int, int]]:
    """An engine where five fans finished two videos of different topics and creators, and a
    newcomer then finished the first: (engine, first, partner, newcomer)."""
    clock = VirtualClock(0.0)
    config = Config(rerank=Rerank(explore_share=0.0, cold_start_explore=0.0))
    with Engine.open(world_path, config=config, clock=clock) as eng:
        first, partner = _across_topics(eng)
        yield eng, first, partner, _fans_then_newcomer(eng, clock, first, partner, first)


def test_a_like_pulls_in_what_similar_viewers_finished_across_topics(world_path: Path) -> None:
    with _fans_of_a_pair(world_path) as (eng, first, partner, newcomer):
        candidates = eng.pick_request(newcomer).candidates()
        ids = candidates.ids.tolist()
        assert partner in ids
        assert candidates.sources[ids.index(partner)] == "co-engagement"
        assert candidates.coengagement is not None
        assert candidates.coengagement[ids.index(partner)] > 0
    config = Config(rerank=Rerank(explore_share=0.0, cold_start_explore=0.0))
    with Engine.open(world_path, config=config, clock=VirtualClock(40.0)) as reopened:  # rebuilt
        assert reopened.coengagement.videos.count(first, partner) == 5


def test_viewers_who_finished_this_creator_also_finished_that_one() -> None:
    index = CoEngagement(CREATORS)
    # Viewers finish ana (0) with ben (3) three times, with cat (4) once.
    index.load([(u, v, "complete") for u in range(3) for v in (0, 3)])
    index.load([(9, 1, "complete"), (9, 4, "complete")])
    ana, ben, cat = (int(CREATORS[v]) for v in (0, 3, 4))
    assert index.partner_creators([0], 5) == [ben, cat]
    assert ana not in index.partner_creators([8, 0], 5)  # never the seeds' own creators
    assert index.partner_creators([], 5) == []


def test_a_creator_finished_alongside_pulls_in_their_other_videos(world_path: Path) -> None:
    """Five viewers finish a video of creator A and one of creator B; a newcomer who finishes
    another of A's videos is offered B's newest unseen video by the co-engaged creators
    source, though nobody finished that video with anything."""
    clock = VirtualClock(0.0)
    config = Config(rerank=Rerank(explore_share=0.0, cold_start_explore=0.0))
    with Engine.open(world_path, config=config, clock=clock) as eng:
        videos = eng.catalog.world.videos
        ok = (videos.published_at <= 0) & ~videos.spam & ~videos.sensitive
        ok &= videos.duplicate_of < 0
        published = np.flatnonzero(ok)
        counts = np.bincount(videos.creator_id[published])
        prolific = np.flatnonzero(counts >= 3)
        creator_a, creator_b = int(prolific[0]), int(prolific[1])
        of_a = published[videos.creator_id[published] == creator_a]
        of_b = published[videos.creator_id[published] == creator_b]
        first, partner, other_a = int(of_a[0]), int(of_b[0]), int(of_a[1])
        newcomer = _fans_then_newcomer(eng, clock, first, partner, other_a)
        candidates = eng.pick_request(newcomer).candidates()
        from_b = [
            v
            for v, s in zip(candidates.ids.tolist(), candidates.sources, strict=True)
            if s == "co-engaged creators"
        ]
        assert from_b and all(int(videos.creator_id[v]) == creator_b for v in from_b)


def test_a_rows_arrays_follow_every_change() -> None:
    """The arrays a pick reads a row from are the row as it stands, after every count."""
    pairs = Pairs()
    pairs.add(1, 2)
    assert pairs.arrays(1)[0].tolist() == [2] and pairs.arrays(1)[1].tolist() == [1.0]
    pairs.add(1, 2)
    pairs.add(1, 3)
    assert dict(zip(*(a.tolist() for a in pairs.arrays(1)), strict=True)) == {2: 2.0, 3: 1.0}
    assert pairs.arrays(7)[0].tolist() == []
    pairs.add(7, 1)
    assert pairs.arrays(7)[0].tolist() == [1]


@pytest.mark.parametrize(
    ("name", "column"),
    [("co-engagement", "coengagement"), ("similar viewers", "similar_viewers")],
)
def test_learning_from_everyone_is_an_input_whose_weight_the_model_learns(
    world_path: Path, name: str, column: str
) -> None:
    """The engine's own model reads co-engagement too ("as a feature"), and item-kNN's
    "similar viewers" (engine.similar_viewers): the partner's receipt holds the value its
    candidate had, and the learned weight of completion on it, 0 before any evidence, rises
    as the fans finish the partner after ``first`` and again when the newcomer does."""
    with _fans_of_a_pair(world_path) as (eng, _, partner, newcomer):
        candidates = eng.pick_request(newcomer).candidates()
        at = candidates.ids.tolist().index(partner)
        values = getattr(candidates, column)
        assert values is not None
        value = float(values[at])
        model = eng.learner.model if eng.learner is not None else None
        assert model is not None
        weight = (LEARNED.index("complete"), TERMS.index(name))
        before = float(model.weights[weight])
        eng.boost(partner, weight=1e6, starts=40.0, until=50.0, reason="test")
        rec = eng.next(newcomer)
        assert rec.video.id == partner
        assert rec.receipt.inputs[name] == value > 0
        eng.record(newcomer, partner, "complete", watched_s=rec.video.duration_s)
        assert OnlineLogit.prior(eng.config).weights[weight] == 0.0 < before  # the fans taught it
        assert float(model.weights[weight]) > before


def test_a_ranking_read_once_follows_every_later_count() -> None:
    """A row ranked at one pick and changed since (counts bumped, newcomers, the weakest
    dropped from a full row) ranks at the next as a fresh sort of the row would."""
    rng = np.random.default_rng(3)
    pairs = Pairs(capacity=6)
    for step in range(600):
        pairs.add_all(int(rng.integers(12)), rng.integers(12, size=int(rng.integers(4))).tolist())
        key = int(rng.integers(14))
        row = pairs.partners.get(key, {})
        fresh = sorted(row.items(), key=lambda item: (-item[1], item[0]))
        assert pairs.strongest(key, 10) == fresh, step
        assert len(row) <= 6
