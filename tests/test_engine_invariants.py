"""What the feed must never do, whatever a viewer does (hypothesis over random event sequences)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import msgspec
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import Engine, VirtualClock
from engine.config import Config, Rerank

REACTIONS = st.sampled_from(
    [
        ("skip", {"watched_s": 1.0}),
        ("skip", {"watched_s": 6.0}),
        ("complete", {"watched_s": 15.0}),
        ("like", {}),
        ("follow", {}),
        ("hide_creator", {}),
        ("report", {"reason": "spam"}),
        ("not_interested", {"scope": "video"}),
        ("not_interested", {"scope": "creator"}),
        ("not_interested", {"scope": "topic"}),
        ("share", {}),
        (None, {}),  # served but left unseen
    ]
)
SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture(scope="module")
def engine(world_template: Path) -> Iterator[Engine]:
    eng = Engine.open(world_template, clock=VirtualClock(0.0), log=False)
    yield eng
    eng.close()


def _violations(eng: Engine, uid: int, video_id: int, seen: set[int], keyword: str) -> list[str]:
    """Everything the served video must not be, given what this viewer did before."""
    videos = eng.catalog.world.videos
    profile = eng.profile(uid)
    creator = eng.catalog.world.creators.handle[int(videos.creator_id[video_id])]
    roots = {int(eng.catalog.dup_root[v]) for v in seen}
    checks = {
        "already seen": video_id in seen,
        "duplicate of a seen video": int(eng.catalog.dup_root[video_id]) in roots,
        "hidden creator": creator in profile.hidden_creators,
        "reported": video_id in profile.reported,
        "spam": bool(videos.spam[video_id]),
        "sensitive": bool(videos.sensitive[video_id]) and not profile.allow_sensitive,
        "keyword": keyword in eng.video(video_id).caption.lower(),
        "unpublished": float(videos.published_at[video_id]) > eng.now,
    }
    return [name for name, broken in checks.items() if broken]


@SETTINGS
@given(
    actions=st.lists(REACTIONS, min_size=5, max_size=40),
    keyword=st.sampled_from(["the", "you", "love"]),
)
def test_never_served(engine: Engine, actions: list, keyword: str) -> None:
    uid = engine.new_user(interests=["comedy"])
    engine.set_controls(uid, keyword_filters=[keyword])
    seen: set[int] = set()
    for kind, kwargs in actions:
        rec = engine.next(uid)
        assert _violations(engine, uid, rec.video.id, seen, keyword) == []
        if kind is None:
            continue
        if kind in ("skip", "complete"):
            seen.add(rec.video.id)
        try:
            engine.record(uid, rec.video.id, kind, **kwargs)
        except ValueError as refused:  # following a creator twice, via another of their videos
            assert "already done" in str(refused)
        if kind in ("like", "follow", "hide_creator", "report", "share", "not_interested"):
            engine.record(uid, rec.video.id, "skip", watched_s=2.0)
            seen.add(rec.video.id)


@SETTINGS
@given(seed=st.integers(0, 2**16), completes=st.lists(st.booleans(), min_size=5, max_size=25))
def test_same_inputs_same_picks(world_template: Path, seed: int, completes: list[bool]) -> None:
    def run() -> list[int]:
        eng = Engine.open(
            world_template, config=Config(seed=seed), clock=VirtualClock(0.0), log=False
        )
        uid = eng.new_user(interests=["pets"])
        picks = []
        for done in completes:
            rec = eng.next(uid)
            picks.append(rec.video.id)
            eng.record(uid, rec.video.id, "complete" if done else "skip", watched_s=3.0)
        eng.close()
        return picks

    assert run() == run()


def _topic_share(eng: Engine, uid: int, topic: str, n: int, react: str | None) -> float:
    hits = 0
    for _ in range(n):
        rec = eng.next(uid)
        hits += rec.video.topic == topic
        if react == "complete" and rec.video.topic == topic:
            eng.record(uid, rec.video.id, "complete", watched_s=rec.video.duration_s)
        else:
            eng.record(uid, rec.video.id, "skip", watched_s=6.0)
    return hits / n


def test_not_interested_in_a_topic_lowers_its_share(demo_world: Path) -> None:
    eng = Engine.open(demo_world, clock=VirtualClock(0.0), log=False)
    control = eng.new_user(interests=["dance", "comedy"])
    treated = eng.new_user(interests=["dance", "comedy"])
    for uid in (control, treated):
        _topic_share(eng, uid, "dance", 10, "complete")
    rec = eng.next(treated)
    while rec.video.topic != "dance":
        eng.record(treated, rec.video.id, "skip", watched_s=6.0)
        rec = eng.next(treated)
    eng.record(treated, rec.video.id, "not_interested", scope="topic")
    assert _topic_share(eng, treated, "dance", 30, None) == 0.0
    assert _topic_share(eng, control, "dance", 30, None) > 0.2


def _travel_margin(demo_world: Path, seed: int) -> float:
    """Two viewers onboarded on the same four topics; one finishes 30 travel videos, the other
    30 cooking ones: how much more of the next 20 picks are travel for the first."""
    eng = Engine.open(demo_world, config=Config(seed=seed), clock=VirtualClock(0.0), log=False)
    onboarding = ["travel", "cooking", "gaming", "art"]
    traveller = eng.new_user(interests=onboarding)
    cook = eng.new_user(interests=onboarding)
    _topic_share(eng, traveller, "travel", 30, "complete")
    _topic_share(eng, cook, "cooking", 30, "complete")
    travel_for_traveller = _topic_share(eng, traveller, "travel", 20, "complete")
    travel_for_cook = _topic_share(eng, cook, "travel", 20, None)
    return travel_for_traveller - travel_for_cook


def test_completions_on_a_topic_raise_its_share(demo_world: Path) -> None:
    """On average over three pick seeds the traveller gets 0.3 more travel (measured 0.37:
    0.45-0.55 against 0.05-0.2; one seed alone moves by ±0.05, so one cannot pin it)."""
    margins = [_travel_margin(demo_world, seed) for seed in (0, 1, 2)]
    assert sum(margins) / len(margins) > 0.3, margins


def test_a_followed_creators_new_video_surfaces(world_path: Path) -> None:
    clock = VirtualClock(0.0)
    no_exploration = Config(rerank=Rerank(explore_share=0.0, cold_start_explore=0.0))
    eng = Engine.open(world_path, config=no_exploration, clock=clock, log=False)
    videos = eng.catalog.world.videos
    ok = ~videos.spam & ~videos.sensitive & (videos.duplicate_of < 0)
    scheduled = np.flatnonzero(ok & (videos.published_at > 0))
    published = ok & (videos.published_at <= 0)
    counts = np.bincount(videos.creator_id[published], minlength=len(eng.catalog.world.creators))
    # A typical creator: a handful of published videos and one scheduled.
    creator = next(
        int(videos.creator_id[v]) for v in scheduled if 1 <= counts[videos.creator_id[v]] <= 5
    )
    old = int(np.flatnonzero(published & (videos.creator_id == creator))[0])
    new_video = int(scheduled[videos.creator_id[scheduled] == creator][0])
    eng.boost(old, weight=1000.0, until=10.0, reason="get the creator in front of the viewer")
    uid = eng.new_user()
    rec = eng.next(uid)
    assert rec.video.id == old
    eng.record(uid, old, "follow")
    eng.record(uid, old, "complete", watched_s=rec.video.duration_s)
    for k in range(Rerank().window + 5):  # time passes: the creator leaves the diversity window
        other = eng.next(uid).video
        assert other.id != new_video  # not published yet
        eng.record(uid, other.id, "skip", watched_s=4.0)
        # A followed creator's older videos come back too; end on someone else's, so the
        # never-back-to-back rule does not hold the new upload back.
        if k >= Rerank().window - 1 and int(videos.creator_id[other.id]) != creator:
            break
    clock.now = float(videos.published_at[new_video]) + 1.0
    picks = [eng.next(uid) for _ in range(3)]
    assert new_video in [r.video.id for r in picks]
    assert "follow" in next(r for r in picks if r.video.id == new_video).receipt.sources


def test_strict_filters_widen_the_search_instead_of_giving_up(world_path: Path) -> None:
    # English videos only: their captions nearly all hold an "a" (a Japanese or Korean one
    # may hold none, and would keep the usual sources from running dry).
    config = Config(filters=msgspec.structs.replace(Config().filters, language="user"))
    eng = Engine.open(world_path, config, clock=VirtualClock(0.0), log=False)
    uid = eng.new_user()
    eng.set_controls(uid, keyword_filters=["a"])  # rules out ~99% of English captions
    widened = []
    for _ in range(60):  # until the usual sources run dry (the few allowed videos are seen)
        rec = eng.next(uid)
        assert "a" not in rec.video.caption.lower()
        eng.record(uid, rec.video.id, "skip", watched_s=3.0)
        if rec.receipt.sources == ["catalog"]:
            widened.append(rec)
            break
    assert widened, "the usual sources should run dry and the catalogue be searched"
    assert any("whole catalogue" in line for line in widened[0].receipt.reasons())
