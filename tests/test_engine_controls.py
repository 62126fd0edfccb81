"""Feed controls, staged test pools and live counters, as a viewer or operator notices them."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from engine import Config, Engine, VirtualClock
from engine.config import Pick, Pools, Rerank, Scoring
from tui.cli import main


def watch(eng: Engine, uid: int, n: int, loved: set[str] | None = None) -> list[str]:
    topics = []
    for _ in range(n):
        video = eng.next(uid).video
        topics.append(video.topic)
        if loved and video.topic in loved:
            eng.record(uid, video.id, "complete", watched_s=video.duration_s)
        else:
            eng.record(uid, video.id, "skip", watched_s=3.0)
    return topics


def test_refresh_forgets_interests_but_keeps_follows_hides_and_filters(demo_world: Path) -> None:
    eng = Engine.open(demo_world, clock=VirtualClock(0.0), log=False)
    uid = eng.new_user(interests=["gaming"])
    watch(eng, uid, 15, {"gaming"})
    rec = eng.next(uid)
    eng.record(uid, rec.video.id, "follow")
    eng.record(uid, rec.video.id, "skip", watched_s=2.0)
    hidden = eng.next(uid)
    eng.record(uid, hidden.video.id, "hide_creator")
    eng.set_controls(uid, keyword_filters=["prank"], topic_sliders={"cooking": 2.0})
    assert eng.profile(uid).topic_affinity["gaming"] > 0.5
    eng.refresh(uid)
    after = eng.profile(uid)
    assert after.topic_affinity["gaming"] == 0.6  # back to the onboarding choice
    assert after.follows == [rec.video.creator_handle]
    assert after.hidden_creators == [hidden.video.creator_handle]
    assert after.keyword_filters == ["prank"]
    assert after.topic_sliders == {"cooking": 2.0}


def test_a_changed_keyword_filter_holds_from_the_next_pick(demo_world: Path) -> None:
    """A viewer who swaps one filter word for another meets neither the second word from the
    next pick on, nor the first again once it is back, whatever was kept between picks."""
    eng = Engine.open(demo_world, clock=VirtualClock(0.0), log=False)
    uid = eng.new_user(interests=["comedy"])
    for words in (["the"], ["you"], ["the"], ["the", "you"]):
        eng.set_controls(uid, keyword_filters=words)
        for _ in range(8):
            video = eng.next(uid).video
            assert not any(word in video.caption.lower() for word in words)
            eng.record(uid, video.id, "skip", watched_s=2.0)


def test_topic_sliders_turn_a_topic_down_and_up(demo_world: Path) -> None:
    eng = Engine.open(demo_world, clock=VirtualClock(0.0), log=False)
    interests = ["comedy", "dance", "pets"]
    muted, neutral = eng.new_user(interests=interests), eng.new_user(interests=interests)
    eng.set_controls(muted, topic_sliders={"comedy": 0.0})
    assert watch(eng, muted, 30).count("comedy") < watch(eng, neutral, 30).count("comedy")


@pytest.mark.parametrize("completion_prior", ["overall", "length"])
def test_turning_up_a_topic_never_shown_brings_it_in(
    world_path: Path, completion_prior: str
) -> None:
    """ "More of this" must work for a topic the viewer has not met yet, not only re-weigh
    what the sources already proposed (with the length-aware completion prior too, whose
    scorer rates this topic's videos several times below the feed's: the slider's share of
    the feed brings it in where its multiplier could not)."""
    config = Config(scoring=Scoring(completion_prior=completion_prior))  # type: ignore[arg-type]
    eng = Engine.open(world_path, config=config, clock=VirtualClock(0.0), log=False)
    interests = {"cooking", "pets"}
    # Pick seeds of their own: the draws do not depend on the ids the engine hands out.
    raised, neutral = (
        eng.new_user(interests=list(interests), pick_seed=0),
        eng.new_user(interests=list(interests), pick_seed=1),
    )
    for uid in (raised, neutral):
        watch(eng, uid, 10, interests)
    eng.set_controls(raised, topic_sliders={"cottagecore": 3.0})
    # Exploration may show an untried topic once (engine.uncertainty); the slider brings it in.
    shown = watch(eng, neutral, 20).count("cottagecore")
    assert shown <= 1
    assert watch(eng, raised, 20).count("cottagecore") >= max(1, shown)


def test_a_topic_turned_up_is_owed_a_share_of_the_feed_and_the_receipt_says_so(
    world_path: Path,
) -> None:
    """A slider of 3 owes its topic a fifth of the feed, whatever the scorer thinks of its
    videos (here rarely finished ones, under the length-aware prior), and a pick that had
    that chance says so in "why this video"."""
    config = Config(scoring=Scoring(completion_prior="length"))
    eng = Engine.open(world_path, config=config, clock=VirtualClock(0.0), log=False)
    uid = eng.new_user(interests=["cooking", "pets"], pick_seed=0)
    watch(eng, uid, 10, {"cooking", "pets"})
    eng.set_controls(uid, topic_sliders={"cottagecore": 3.0})
    shown = []
    for _ in range(20):
        rec = eng.next(uid)
        shown.append(rec)
        eng.record(uid, rec.video.id, "skip", watched_s=3.0)
    raised = [rec for rec in shown if rec.video.topic == "cottagecore"]
    assert len(raised) >= 4
    told = [line for rec in raised for line in rec.receipt.reasons()]
    assert any(
        line.startswith("You turned ") and "owed 20% of your feed" in line for line in told
    ), told


def test_sensitive_content_only_where_allowed(world_path: Path) -> None:
    eng = Engine.open(world_path, clock=VirtualClock(0.0), log=False)
    videos = eng.catalog.world.videos
    sensitive = int(np.flatnonzero(videos.sensitive & (videos.published_at <= 0))[0])
    eng.boost(sensitive, weight=1000.0, until=100.0, reason="test")
    strict, allowing = eng.new_user(), eng.new_user(allow_sensitive=True)
    assert all(eng.next(strict).video.id != sensitive for _ in range(5))
    assert eng.next(allowing).video.id == sensitive or any(
        eng.next(allowing).video.id == sensitive for _ in range(4)
    )


def test_temperature_zero_is_deterministic_with_propensity_one(world_path: Path) -> None:
    greedy = Config(pick=Pick(temperature=0.0))
    eng = Engine.open(world_path, config=greedy, clock=VirtualClock(0.0), log=False)
    uid = eng.new_user(interests=["art"])
    for _ in range(5):
        rec = eng.next(uid)
        assert rec.propensity == 1.0
        assert rec.rank == 0
        eng.record(uid, rec.video.id, "skip", watched_s=3.0)


def test_reactions_show_in_live_counts_at_once(world_path: Path) -> None:
    eng = Engine.open(world_path, clock=VirtualClock(0.0))
    uid = eng.new_user()
    video = eng.next(uid).video
    eng.record(uid, video.id, "like")
    eng.record(uid, video.id, "complete", watched_s=video.duration_s)
    again = eng.video(video.id)
    assert again.likes == video.likes + 1
    assert again.views == video.views + 1
    eng.close()
    conn = sqlite3.connect(world_path)
    row = conn.execute(
        "SELECT likes, views, completions FROM video_stats_live WHERE video_id = ?", [video.id]
    ).fetchone()
    assert row == (1, 1, 1)


def test_a_fresh_upload_moves_through_its_test_pools(world_path: Path) -> None:
    clock = VirtualClock(0.0)
    config = Config(
        pools=Pools(sizes=[3, 6]), rerank=Rerank(explore_share=0.0, cold_start_explore=0.0)
    )
    eng = Engine.open(world_path, config=config, clock=clock)
    videos = eng.catalog.world.videos
    ok = ~videos.spam & ~videos.sensitive & (videos.duplicate_of < 0)
    fresh = np.flatnonzero(ok & (videos.published_at <= 0) & (videos.published_at > -3600 * 24))
    target = int(fresh[0])
    eng.boost(target, weight=1000.0, until=10.0, reason="get it seen")
    for i in range(3):  # its first audience: three viewers who all finish it and like it
        uid = eng.new_user(name=f"tester-{i}")
        rec = eng.next(uid)
        assert rec.video.id == target
        assert rec.receipt.context["pool_state"] == "testing"
        eng.record(uid, target, "like")
        eng.record(uid, target, "complete", watched_s=rec.video.duration_s)
    eng.close()
    conn = sqlite3.connect(world_path)
    row = conn.execute(
        "SELECT pool, state, impressions FROM video_pools WHERE video_id = ?", [target]
    ).fetchone()
    assert row == (1, "testing", 0)  # promoted to the second, larger pool
    eng = Engine.open(world_path, config=config, clock=clock)
    assert int(eng.pools.stage[target]) == 1  # the pool state survives a restart


def test_a_world_with_a_refresh_opens_recommends_boosts_replays_and_exports(
    world_path: Path, tmp_path: Path
) -> None:
    """A refresh is an event about the viewer, with no video: every reader of events copes
    with it for as long as it lies in the trending window (it once crashed every opening)."""
    with Engine.open(world_path) as eng:  # the wall clock, as the CLI uses: inside the window
        uid = eng.new_user(["cooking"], name="ann")
        first = eng.next(uid)
        eng.record(uid, first.video.id, "skip", watched_s=3.0)
        eng.refresh(uid)
        second = eng.next(uid)
        eng.record(uid, second.video.id, "complete", watched_s=second.video.duration_s)
    with Engine.open(world_path) as eng:
        assert eng.next(uid).video.id >= 0
    config = tmp_path / "b.toml"
    config.write_text('name = "b"\n[reactions]\nlike = 2.0\n', encoding="utf-8")
    db = ("--db", str(world_path))
    for args in [
        ("recommend", "--user", "ann", "-n", "2"),
        ("boost", str(first.video.id), "--weight", "2", "--until", "24h", "--reason", "demo"),
        ("replay", "1"),
        ("export", "--out", str(tmp_path / "out"), "--format", "jsonl"),
        ("evaluate", "--config", str(config)),
    ]:
        result = CliRunner().invoke(main, [*args, *db])
        assert result.exit_code == 0, (args, result.output, result.exception)
    replay = CliRunner().invoke(main, ["replay", "1", *db]).output
    assert "reproduced exactly" in replay
    exported = (tmp_path / "out" / "events.jsonl").read_text(encoding="utf-8")
    assert '"video_id": null, "kind": "refresh"' in exported


def test_playback_speed_is_kept_with_the_controls(world_path: Path) -> None:
    """The feed's speed survives a restart; a bad one is refused, and nothing is written."""
    with Engine.open(world_path, clock=VirtualClock(0.0)) as eng:
        uid = eng.new_user(["cooking"], name="speedy")
        assert eng.profile(uid).playback_speed == 1.0
        eng.set_controls(uid, keyword_filters=["prank"])
        eng.set_controls(uid, playback_speed=2.0)
        for bad in (0.0, -1.0, 17.0, float("nan")):
            try:
                eng.set_controls(uid, playback_speed=bad)
            except ValueError as exc:
                assert "playback speed" in str(exc)
            else:
                raise AssertionError(f"speed {bad} accepted")
    with Engine.open(world_path, clock=VirtualClock(0.0)) as eng:
        after = eng.profile(uid)
        assert (after.playback_speed, after.keyword_filters) == (2.0, ["prank"])
        eng.set_controls(uid, playback_speed=1.0)
    with sqlite3.connect(world_path) as conn:
        (settings,) = conn.execute("SELECT settings FROM users WHERE id = ?", [uid]).fetchone()
    assert "playback_speed" not in settings  # 1×, the default, is left unwritten
