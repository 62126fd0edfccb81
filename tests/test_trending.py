"""Trending and pool admission read only the window's videos: they must agree with a full scan."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from engine import Engine, VirtualClock
from engine.idset import distinct, sorted_union
from engine.pools import TESTING
from engine.trending import TOP_N, fastest
from engine.world import NO_ID


def busy_engine(world: Path, clock: VirtualClock) -> Engine:
    """An in-memory engine whose viewer liked, completed and skipped for a while."""
    engine = Engine.open(world, clock=clock, log=False)
    viewer = engine.new_user(["cooking", "pets"])
    for i in range(40):
        rec = engine.next(viewer)
        if i % 3 == 0:
            engine.record(viewer, rec.video.id, "like")
            engine.record(viewer, rec.video.id, "complete", watched_s=rec.video.duration_s)
        else:
            engine.record(viewer, rec.video.id, "skip", watched_s=2.0)
        clock.advance(30.0)
    return engine


def test_trending_is_what_a_scan_of_every_video_gives(world_template: Path) -> None:
    clock = VirtualClock(0.0)
    with busy_engine(world_template, clock) as engine:
        trending, videos = engine.trending, engine.catalog.world.videos
        now = clock()
        trending.refresh(now, force=True)

        published = videos.published_at
        inside = (published > now - trending.window_s) & (published <= now)
        counts = engine.catalog.engagement.counts
        engagement = counts["likes"] + 3 * counts["shares"] + 0.3 * counts["completions"]
        engagement = engagement + 3 * counts["follows"]
        age_h = np.maximum(now - published, 0.0) / 3600.0
        background = np.where(inside, engagement / (age_h + 2.0), 0.0)
        _, ids, weights = zip(*trending.events, strict=True)
        live = np.bincount(np.array(ids), weights=np.array(weights), minlength=len(published))
        velocity = background + live

        assert live.sum() > 0 and (inside & (velocity > 0)).any()  # both kinds are exercised
        moving = np.flatnonzero(velocity > 0)
        expected = moving[np.lexsort((moving, -velocity[moving]))][:TOP_N]
        assert trending.top_videos.tolist() == expected.tolist()
        assert np.array_equal(trending.velocity, velocity)

        tags = videos.hashtags
        per_tag = np.zeros(trending.hashtag_velocity.shape)
        for v in moving.tolist():
            for tag in tags[v].tolist():
                if tag != NO_ID:
                    per_tag[tag] += velocity[v]
        assert np.allclose(trending.hashtag_velocity, per_tag)
        per_sound = np.bincount(videos.sound_id, weights=velocity, minlength=len(per_tag))
        assert np.allclose(trending.sound_velocity, per_sound[: len(trending.sound_velocity)])


def test_pool_admission_is_what_a_scan_of_every_video_gives(world_template: Path) -> None:
    clock = VirtualClock(0.0)
    with busy_engine(world_template, clock) as engine:
        pools, published = engine.pools, engine.catalog.world.videos.published_at
        for later_h in (0.0, 6.0, 30.0, 100.0):
            now = clock() + later_h * 3600.0
            pools.admit(now)
            admitted = np.flatnonzero(pools.state == TESTING)
            recent = (published > now - pools.window_s) & (published <= now)
            assert recent[admitted].sum() > 0
            # Everything published inside the window is in a pool or has left one, and the
            # testing list is exactly the videos still being tested and already published.
            assert (pools.state[recent] != -1).all()
            expected = admitted[published[admitted] <= now]
            assert pools.testing(now).tolist() == expected.tolist()


def test_a_world_nobody_has_watched_shows_moving_sparklines(world_template: Path) -> None:
    """Discover on a fresh world: the background activity of recent uploads gives each trend a
    shape, not a flat line at zero."""
    with Engine.open(world_template, clock=VirtualClock(0.0), log=False) as engine:
        trends = engine.discover()
    for kind in (trends.hashtags, trends.sounds):
        moving = [t for t in kind if max(t.recent) > min(t.recent)]
        assert len(moving) >= len(kind) // 2, [t.recent for t in kind]
        assert all(min(t.recent) >= 0 for t in kind)


def test_live_reactions_come_on_top_of_the_background(world_template: Path) -> None:
    clock = VirtualClock(0.0)
    with Engine.open(world_template, clock=clock, log=False) as engine:
        before = {t.name: t.recent for t in engine.discover(n=40).hashtags}
        viewer = engine.new_user(["cooking"])
        # The first video carrying a trending hashtag (the others swiped away: a skip adds no
        # weight to a trend, and the check below is "at least").
        for _ in range(40):
            video = engine.next(viewer).video
            if any(f"#{tag}" in before for tag in video.hashtags):
                break
            engine.record(viewer, video.id, "skip", watched_s=1.0)
        engine.record(viewer, video.id, "share")  # weight 3 in the bucket ending now
        after = {t.name: t.recent for t in engine.discover(n=40).hashtags}
    tags = [f"#{tag}" for tag in video.hashtags if f"#{tag}" in before and f"#{tag}" in after]
    assert tags, "the shared video's hashtags should be among the top 40"
    for tag in tags:  # the share itself also joins the video's counts, so "at least"
        assert after[tag][-1] >= before[tag][-1] + 3.0 - 1e-9


def test_the_fastest_videos_come_as_a_full_sort_ranks_them_ties_included() -> None:
    """Trending's top list sorts only the velocities that can make it: the same list as a
    full sort, ties broken by id, even with a tie across the cut."""
    rng = np.random.default_rng(3)
    for n, size in [(400, 5000), (5, 12), (10, 10), (3, 2), (4, 0)]:
        velocity = rng.integers(1, 6, size).astype(np.float64) / 4  # many ties
        ids = np.arange(size)
        expected = np.lexsort((ids, -velocity))[:n]
        assert fastest(velocity, n).tolist() == expected.tolist()


def test_sorted_id_helpers_answer_as_numpy_does() -> None:
    rng = np.random.default_rng(4)
    for size in (0, 1, 7, 3000):
        a = np.unique(rng.integers(0, 5000, size))
        b = np.unique(rng.integers(0, 5000, size // 2 + 1))
        assert sorted_union(a, b).tolist() == np.union1d(a, b).tolist()
        values = rng.integers(0, 50, size)
        found, inverse = distinct(values)
        expected, where = np.unique(values, return_inverse=True)
        assert found.tolist() == expected.tolist() and inverse.tolist() == where.tolist()
