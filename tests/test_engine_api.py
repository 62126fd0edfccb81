"""The public facade: what a notebook or the TUI sees when it calls the engine."""

from __future__ import annotations

import json
import pickle
import sqlite3
from pathlib import Path

import pytest

from engine import Engine, Recommendation, VirtualClock
from engine.pools import TESTING
from engine.reactions import KINDS


@pytest.fixture
def eng(world_path: Path) -> Engine:
    engine = Engine.open(world_path, clock=VirtualClock(0.0))
    yield engine
    engine.close()


def rows(path: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_readme_example_runs_and_records(world_path: Path) -> None:
    eng = Engine.open(world_path, clock=VirtualClock(0.0))
    uid = eng.new_user(interests=["cooking", "pets"], language="en", country="US")
    rec = eng.next(uid)
    assert isinstance(rec, Recommendation)
    assert rec.video.caption and rec.video.duration_s >= 5
    assert 0 < rec.propensity <= 1
    assert rec.receipt.reasons()
    eng.record(uid, rec.video.id, "complete", watched_s=14.2)
    eng.record(uid, rec.video.id, "like")
    eng.record(uid, rec.video.id, "not_interested", scope="topic")
    eng.record(uid, rec.video.id, "report", reason="spam")
    eng.record(uid, rec.video.id, "comment", text="so good")
    assert "cooking" in eng.topics()
    eng.close()
    events = rows(world_path, "SELECT kind, video_id, watched_s, scope, reason, text FROM events")
    assert [e[0] for e in events] == ["complete", "like", "not_interested", "report", "comment"]
    assert events[0][2] == pytest.approx(14.2)
    assert events[2][3] == "topic" and events[3][4] == "spam" and events[4][5] == "so good"
    imp = rows(
        world_path, "SELECT video_id, watched_s, seen_end, propensity, receipt FROM impressions"
    )
    assert imp[0][0] == rec.video.id and imp[0][1] == pytest.approx(14.2)
    assert json.loads(imp[0][4])["video_id"] == rec.video.id
    snapshot = rows(world_path, "SELECT profile FROM profile_snapshots")
    assert json.loads(snapshot[0][0])["interests"] == ["cooking", "pets"]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda e, u, v: e.record(u, v, "dance"), "unknown event kind"),
        (lambda e, u, v: e.record(99_999, v, "like"), "unknown user"),
        (lambda e, u, v: e.record(u, 10**9, "like"), "unknown video"),
        (lambda e, u, v: e.record(u, (v + 1) % 3000, "like"), "never served"),
        (lambda e, u, v: e.record(u, v, "skip"), "watched_s"),
        (lambda e, u, v: e.record(u, v, "not_interested"), "scope"),
        (lambda e, u, v: e.record(u, v, "report"), "reason"),
        (lambda e, u, v: e.record(u, v, "comment", text=" "), "text"),
        (lambda e, u, v: e.record(u, v, "unlike"), "nothing to undo"),
        (lambda e, u, v: e.new_user(interests=["knitting-on-mars"]), "unknown topic"),
        (lambda e, u, v: e.new_user(language="english"), "ISO 639-1"),
        (lambda e, u, v: e.new_user(language="en\n"), "ISO 639-1"),
        (lambda e, u, v: e.new_user(country="US\n"), "ISO 3166-1"),
        (lambda e, u, v: e.next(424242), "unknown user"),
    ],
)
def test_bad_calls_raise_and_write_nothing(eng: Engine, world_path: Path, call, message) -> None:
    uid = eng.new_user()
    rec = eng.next(uid)
    before = rows(world_path, "SELECT count(*) FROM events")[0][0]
    with pytest.raises(ValueError, match=message):
        call(eng, uid, rec.video.id)
    assert rows(world_path, "SELECT count(*) FROM events")[0][0] == before


def test_served_and_seen_are_kept_apart(eng: Engine, world_path: Path) -> None:
    uid = eng.new_user()
    first = eng.next(uid)
    second = eng.next(uid)  # served again without an event: allowed
    assert first.video.id != second.video.id
    eng.seen(uid, second.video.id)
    eng.record(uid, second.video.id, "skip", watched_s=3.0)
    served = rows(world_path, "SELECT video_id, seen_start IS NOT NULL, watched_s FROM impressions")
    assert served[0] == (first.video.id, 0, None)
    assert served[1][0] == second.video.id and served[1][1] == 1 and served[1][2] == 3.0


def test_undo_restores_state(eng: Engine) -> None:
    uid = eng.new_user()
    rec = eng.next(uid)
    handle = rec.video.creator_handle
    eng.record(uid, rec.video.id, "follow")
    eng.record(uid, rec.video.id, "hide_creator")
    assert handle in eng.profile(uid).follows and handle in eng.profile(uid).hidden_creators
    assert eng.profile(uid).hidden_on == {handle: rec.video.id}  # where an unhide is recorded
    eng.record(uid, rec.video.id, "unfollow")
    eng.record(uid, rec.video.id, "unhide_creator")
    profile = eng.profile(uid)
    assert handle not in profile.follows and handle not in profile.hidden_creators
    assert profile.hidden_on == {}
    eng.record(uid, rec.video.id, "like")
    with pytest.raises(ValueError, match="already"):
        eng.record(uid, rec.video.id, "like")
    eng.record(uid, rec.video.id, "unlike")


def test_every_kind_is_recordable(eng: Engine, world_path: Path) -> None:
    uid = eng.new_user()
    args = {
        "skip": {"watched_s": 1.0},
        "complete": {"watched_s": 10.0},
        "not_interested": {"scope": "creator"},
        "report": {"reason": "misleading"},
        "comment": {"text": "hi"},
    }
    order = ["like", "unlike", "save", "unsave", "follow", "unfollow", "hide_creator"]
    order += ["unhide_creator", "share", "rewatch", "comment", "complete", "skip"]
    order += ["not_interested", "report"]
    assert set(order) == set(KINDS)
    rec = eng.next(uid)
    for kind in order:
        eng.record(uid, rec.video.id, kind, **args.get(kind, {}))
    assert len(rows(world_path, "SELECT id FROM events")) == len(order)


def test_resume_continues_where_the_viewer_left_off(world_path: Path) -> None:
    def session(eng: Engine, uid: int, n: int) -> list[int]:
        picked = []
        for _ in range(n):
            rec = eng.next(uid)
            picked.append(rec.video.id)
            kind = "complete" if rec.video.topic in ("pets", "cooking") else "skip"
            eng.record(uid, rec.video.id, kind, watched_s=1.0)
        return picked

    eng = Engine.open(world_path, clock=VirtualClock(0.0))
    uid = eng.new_user(interests=["pets"], name="ada")
    first = session(eng, uid, 10)
    before = eng.profile(uid)
    eng.close()
    eng = Engine.open(world_path, clock=VirtualClock(0.0))
    assert eng.user_id("ada") == uid
    after = eng.profile(uid)
    assert after.topic_affinity == before.topic_affinity
    assert after.long_term_topics == before.long_term_topics
    assert after.seen == 10
    later = session(eng, uid, 10)
    assert not set(first) & set(later)
    eng.close()


def test_same_world_config_and_events_give_the_same_feed(world_path: Path) -> None:
    def run() -> list[int]:
        eng = Engine.open(world_path, clock=VirtualClock(0.0), log=False)
        uid = eng.new_user(interests=["gaming"])
        picks = []
        for i in range(15):
            rec = eng.next(uid)
            picks.append(rec.video.id)
            eng.record(uid, rec.video.id, "complete" if i % 3 else "skip", watched_s=2.5)
        eng.close()
        return picks

    assert run() == run()


def test_boost_is_always_disclosed(eng: Engine, world_path: Path) -> None:
    uid = eng.new_user()
    (target,) = rows(
        world_path,
        "SELECT id FROM videos WHERE published_at <= 0 AND spam = 0 AND sensitive = 0 "
        "AND duplicate_of IS NULL ORDER BY id LIMIT 1 OFFSET 500",
    )[0]
    # Scores count expected seconds watched, so long videos score up to ~15: a boost to
    # surface a short one within five picks has to beat them.
    eng.boost(target, weight=500.0, until=3600.0, reason="launch campaign", by="ops")
    shown = [eng.next(uid) for _ in range(5)]
    boosted = [r for r in shown if r.video.id == target]
    assert boosted, "a heavily boosted, eligible video should surface"
    receipt = boosted[0].receipt
    assert receipt.boost == {
        "weight": 500.0,
        "reason": "launch campaign",
        "by": "ops",
        "until": 3600.0,
    }
    assert any("BOOSTED" in line and "launch campaign" in line for line in receipt.reasons())
    assert eng.explain(boosted[0].impression_id).boost is not None
    assert rows(world_path, "SELECT reason, created_by FROM boosts") == [("launch campaign", "ops")]


def test_a_boost_made_elsewhere_reaches_an_open_feed(eng: Engine, world_path: Path) -> None:
    uid = eng.new_user(interests=["cooking"])
    eng.next(uid)
    (target,) = rows(
        world_path,
        "SELECT id FROM videos WHERE published_at <= 0 AND spam = 0 AND sensitive = 0 "
        "AND duplicate_of IS NULL ORDER BY id LIMIT 1 OFFSET 700",
    )[0]
    with Engine.open(world_path, clock=VirtualClock(0.0)) as operator:
        operator.boost(target, weight=50.0, until=3600.0, reason="live campaign")
    receipt = eng.next(uid).receipt
    assert receipt.funnel.proposed["boosted"] == 1, "the open feed did not see the new boost"


@pytest.mark.parametrize("weight", [float("nan"), float("inf"), 0.0, -3.0])
def test_a_boost_weight_must_be_finite_and_positive(
    eng: Engine, world_path: Path, weight: float
) -> None:
    with pytest.raises(ValueError, match="finite positive"):
        eng.boost(5, weight=weight, until=3600.0, reason="x")
    with pytest.raises(ValueError, match="finite"):
        eng.boost(5, weight=2.0, until=float("inf"), reason="x")
    eng.close()
    assert rows(world_path, "SELECT COUNT(*) FROM boosts") == [(0,)]
    with Engine.open(world_path, clock=VirtualClock(0.0)) as again:
        again.next(again.new_user())  # the world still opens and serves


def test_a_receipt_read_later_tells_the_pick_as_it_was(world_path: Path, tmp_path: Path) -> None:
    """Without logging a receipt is written out only when read: read after the viewer has
    moved on (affinity, position, the video's pool all changed), it is the receipt a logged
    engine stored at the pick, and its P(action) are the ones the pick was scored with; a
    pickled recommendation keeps it."""
    unlogged_path = tmp_path / "unlogged.db"
    unlogged_path.write_bytes(world_path.read_bytes())
    told: dict[bool, list[str]] = {}
    for log, path in ((True, world_path), (False, unlogged_path)):
        with Engine.open(path, clock=VirtualClock(0.0), log=log) as engine:
            uid = engine.new_user(interests=["cooking"], pick_seed=7)
            picks = []
            for _ in range(6):
                rec = engine.next(uid)
                engine.pools.state[rec.video.id] = TESTING  # its pool now counts the viewing
                engine.record(uid, rec.video.id, "complete", watched_s=rec.video.duration_s)
                picks.append(rec)
            assert all(
                rec.predicted == {a: t["p"] for a, t in rec.receipt.terms.items()} for rec in picks
            )
            told[log] = [rec.receipt.to_json() for rec in picks]
            kept = pickle.loads(pickle.dumps(picks))  # a notebook may keep them
            assert [rec.receipt.to_json() for rec in kept] == told[log]
    assert told[False] == told[True]
    assert json.loads(told[False][-1])["position"] == 5


def test_receipt_shows_the_whole_funnel(eng: Engine) -> None:
    uid = eng.new_user(interests=["comedy"])
    receipt = eng.next(uid).receipt
    funnel = receipt.funnel
    assert set(funnel.proposed) >= {"interest", "trending", "fresh", "explore", "locale"}
    assert funnel.merged <= sum(funnel.proposed.values())
    assert funnel.kept == funnel.merged - sum(funnel.removed.values())
    assert "spam" in funnel.removed and "already seen" in funnel.removed
    total = sum(t["contribution"] for t in receipt.terms.values())
    assert total == pytest.approx(receipt.base_score)
    assert receipt.slate[0]["probability"] > 0


def test_two_engines_racing_for_one_name_get_a_value_error(world_path: Path) -> None:
    """Both engines found the name free before either wrote it: the second write is refused
    with the documented ValueError, not sqlite3.IntegrityError."""
    first = Engine.open(world_path, clock=VirtualClock(0.0))
    second = Engine.open(world_path, clock=VirtualClock(0.0))
    try:
        second.store.user_id_by_name = lambda name: None  # type: ignore[method-assign]
        first.new_user(name="zoe")
        with pytest.raises(ValueError, match="a viewer named 'zoe' already exists"):
            second.new_user(name="zoe")
    finally:
        first.close()
        second.close()
    assert rows(world_path, "SELECT name FROM users") == [("zoe",)]


@pytest.mark.parametrize(
    "call",
    [
        lambda e, u, v: e.record(u, v, "comment", text="nice \ud800"),
        lambda e, u, v: e.new_user(name="\udcff"),
        lambda e, u, v: e.set_controls(u, keyword_filters=["\ud83d"]),
        lambda e, u, v: e.boost(v, weight=2.0, until=3600.0, reason="\udc80"),
    ],
)
def test_a_lone_surrogate_is_a_value_error_and_writes_nothing(
    eng: Engine, world_path: Path, call
) -> None:
    uid = eng.new_user(name="ann")
    rec = eng.next(uid)
    before = [rows(world_path, f"SELECT * FROM {t}") for t in ("users", "events", "boosts")]
    with pytest.raises(ValueError, match="lone surrogate"):
        call(eng, uid, rec.video.id)
    after = [rows(world_path, f"SELECT * FROM {t}") for t in ("users", "events", "boosts")]
    assert after == before


def _feed(engine: Engine, viewers: list[int], rounds: int) -> list[list[int]]:
    """Each viewer's picks over ``rounds`` rounds of next_many, each pick skipped at 1 s."""
    picks: list[list[int]] = [[] for _ in viewers]
    for _ in range(rounds):
        for k, rec in enumerate(engine.next_many(viewers)):
            picks[k].append(rec.video.id)
            engine.record(viewers[k], rec.video.id, "skip", watched_s=1.0)
    return picks


def test_a_failed_impression_write_leaves_every_viewer_of_the_batch_as_it_was(
    world_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full disk at the second viewer's impression: the batch's writes are rolled back, so
    the first viewer's in-memory pick must go too, and the new session the failed write
    started must not stay the viewer's (every later next() failed on its foreign key)."""
    twin = tmp_path / "twin.db"
    twin.write_bytes(world_path.read_bytes())
    with Engine.open(twin, clock=VirtualClock(0.0)) as clean:
        clean_viewers = [clean.new_user(name=n) for n in ("ann", "bob", "cy")]
        expected = _feed(clean, clean_viewers, 4)
    with Engine.open(world_path, clock=VirtualClock(0.0)) as engine:
        viewers = [engine.new_user(name=n) for n in ("ann", "bob", "cy")]
        picks = _feed(engine, viewers, 2)
        engine.end_session(viewers[1])  # bob's next pick opens a new session
        written = engine.store.add_impression
        calls = 0

        def full_on_second(row: object) -> int:
            nonlocal calls
            calls += 1
            if calls == 2:
                raise sqlite3.OperationalError("database or disk is full")
            return written(row)  # type: ignore[arg-type]

        with monkeypatch.context() as patch:
            patch.setattr(engine.store, "add_impression", full_on_second)
            with pytest.raises(sqlite3.OperationalError):
                engine.next_many(viewers)
        for k, more in enumerate(_feed(engine, viewers, 2)):
            picks[k] += more
    assert picks == expected  # as if the failed batch had never been asked for
    positions = rows(
        world_path,
        "SELECT user_id, group_concat(position) FROM "
        "(SELECT user_id, position FROM impressions ORDER BY id) GROUP BY user_id",
    )
    assert [p for _, p in positions] == ["0,1,2,3"] * 3
    orphans = "SELECT count(*) FROM impressions WHERE session_id NOT IN (SELECT id FROM sessions)"
    assert rows(world_path, orphans) == [(0,)]


def test_a_failed_event_write_in_a_batch_keeps_the_events_before_it(
    eng: Engine, world_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """record_many on a full disk at its second event: the first one counted in the engine
    (profile, live counts, the learned model), so it must be in the file too, not rolled
    back with the failed one."""
    viewers = [eng.new_user(name=n) for n in ("ann", "bob")]
    recs = eng.next_many(viewers)
    batch = [
        (u, r.video.id, "complete", {"watched_s": float(r.video.duration_s)})
        for u, r in zip(viewers, recs, strict=True)
    ]
    written = eng.store.add_event
    calls = 0

    def full_on_second(*args: object, **kwargs: object) -> int:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise sqlite3.OperationalError("database or disk is full")
        return written(*args, **kwargs)  # type: ignore[arg-type]

    with monkeypatch.context() as patch:
        patch.setattr(eng.store, "add_event", full_on_second)
        with pytest.raises(sqlite3.OperationalError):
            eng.record_many(batch)
    assert rows(world_path, "SELECT user_id, kind FROM events") == [(viewers[0], "complete")]
    eng.record_many(batch[1:])  # once the disk has room
    assert rows(world_path, "SELECT user_id FROM events") == [(viewers[0],), (viewers[1],)]
    # The same inside a block of calls (a simulation's round): what went before stays.
    calls = 0

    def like_all() -> None:
        with eng.batch():
            for user, video, _, _ in batch:
                eng.record(user, video, "like")

    with monkeypatch.context() as patch:
        patch.setattr(eng.store, "add_event", full_on_second)
        with pytest.raises(sqlite3.OperationalError):
            like_all()
    assert rows(world_path, "SELECT user_id, kind FROM events WHERE kind = 'like'") == [
        (viewers[0], "like")
    ]


def test_a_failed_write_leaves_the_engine_as_it_was(
    eng: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    uid = eng.new_user(interests=["cooking"])
    rec = eng.next(uid)
    video = rec.video.id
    eng.pools.state[video] = TESTING  # as a fresh upload would be
    profile, counts, pool = eng.profile(uid), eng.video(video), eng.pools.row(video, 0.0)

    def full_disk(*args: object, **kwargs: object) -> int:
        raise sqlite3.OperationalError("database or disk is full")

    with monkeypatch.context() as patch:
        patch.setattr(eng.store, "add_event", full_disk)
        for kind, details in [("complete", {"watched_s": 20.0}), ("like", {}), ("follow", {})]:
            with pytest.raises(sqlite3.OperationalError):
                eng.record(uid, video, kind, **details)
        with pytest.raises(sqlite3.OperationalError):
            eng.refresh(uid)
    assert eng.profile(uid) == profile
    assert eng.video(video) == counts
    assert eng.pools.row(video, 0.0) == pool
    eng.record(uid, video, "complete", watched_s=20.0)  # once the disk has room, it counts once
    assert eng.video(video).views == counts.views + 1
    assert eng.pools.row(video, 0.0)[3] == pool[3] + 1
    assert eng.profile(uid) != profile
