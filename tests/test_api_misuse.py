"""A notebook's mistakes with the facade: each is one clear ValueError naming the problem, and
nothing of the refused call reaches the file."""

from __future__ import annotations

import math
import os
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from engine import ConfigError, Engine, StoreError, VirtualClock

TABLES = ("users", "sessions", "impressions", "events", "video_stats_live")


def counts(path: Path) -> dict[str, int]:
    conn = sqlite3.connect(path)
    try:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}
    finally:
        conn.close()


@pytest.fixture
def served(world_path: Path) -> tuple[Engine, int, int]:
    eng = Engine.open(world_path, clock=VirtualClock(0.0))
    uid = eng.new_user(interests=["cooking"])
    video = eng.next(uid).video.id
    yield eng, uid, video
    eng.close()


def test_numpy_ids_from_a_dataframe_work_everywhere(
    served: tuple[Engine, int, int], world_path: Path
) -> None:
    eng, uid, video = served
    assert eng.video(np.int64(video)).id == video
    eng.seen(np.int64(uid), np.int64(video))
    eng.record(np.int64(uid), np.int32(video), "skip", watched_s=np.float64(2.5))
    assert eng.next(np.int64(uid)).position == 1
    assert eng.profile(np.int64(uid)).seen == 1
    conn = sqlite3.connect(world_path)
    stored = conn.execute("SELECT typeof(user_id), typeof(video_id) FROM events").fetchall()
    conn.close()
    assert stored == [("integer", "integer")]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda e, u, v: e.next(str(u)), "user id must be a whole number, got str '1'"),
        (lambda e, u, v: e.next(float(u)), "user id must be a whole number, got float 1.0"),
        (lambda e, u, v: e.next(True), "user id must be a whole number, got bool True"),
        (lambda e, u, v: e.next(None), "user id must be a whole number, got NoneType None"),
        (lambda e, u, v: e.profile("ana"), "user id must be a whole number, got str 'ana'"),
        (lambda e, u, v: e.record(u, str(v), "like"), "video id must be a whole number, got str"),
        (lambda e, u, v: e.record(u, float(v), "like"), "video id must be a whole number, got flo"),
        (lambda e, u, v: e.seen(u, float(v)), "video id must be a whole number, got float"),
        (lambda e, u, v: e.video(str(v)), "video id must be a whole number, got str"),
        (lambda e, u, v: e.rank(u, [v, 1.5]), "video id must be a whole number, got float 1.5"),
        (lambda e, u, v: e.explain("1"), "impression id must be a whole number, got str '1'"),
    ],
)
def test_an_id_that_is_no_whole_number_is_named(
    served: tuple[Engine, int, int], world_path: Path, call, message: str
) -> None:
    eng, uid, video = served
    before = counts(world_path)
    with pytest.raises(ValueError, match=message):
        call(eng, uid, video)
    assert counts(world_path) == before


def test_ending_the_session_of_an_unknown_viewer_says_so(served: tuple[Engine, int, int]) -> None:
    eng, uid, _ = served
    with pytest.raises(ValueError, match=r"^unknown user id 99999$"):
        eng.end_session(99_999)
    eng.end_session(uid)
    eng.end_session(uid)  # no session open any more: nothing to do


@pytest.mark.parametrize(
    "call",
    [
        lambda e, u, v: e.next(u),
        lambda e, u, v: e.next_many([u]),
        lambda e, u, v: e.record(u, v, "like"),
        lambda e, u, v: e.seen(u, v),
        lambda e, u, v: e.new_user(),
        lambda e, u, v: e.profile(u),
        lambda e, u, v: e.topics(),
        lambda e, u, v: e.video(v),
        lambda e, u, v: e.users(),
        lambda e, u, v: e.explain(1),
        lambda e, u, v: e.rank(u, [v]),
    ],
)
def test_a_closed_engine_says_so(world_path: Path, call) -> None:
    eng = Engine.open(world_path, clock=VirtualClock(0.0))
    uid = eng.new_user()
    video = eng.next(uid).video.id
    eng.close()
    eng.close()  # closing again is harmless
    before = counts(world_path)
    with pytest.raises(ValueError, match=r"^this Engine on .* is closed; open the file again"):
        call(eng, uid, video)
    assert counts(world_path) == before


def test_two_engines_of_one_process_never_serve_one_viewer(world_path: Path) -> None:
    first = Engine.open(world_path, clock=VirtualClock(0.0))
    second = Engine.open(world_path, clock=VirtualClock(0.0))
    try:
        ana = first.new_user(name="ana")
        shown = first.next(ana).video.id
        before = counts(world_path)
        for call in (
            lambda: second.next(ana),
            lambda: second.record(ana, shown, "like"),
            lambda: second.profile(ana),
        ):
            with pytest.raises(ValueError, match=r"^viewer ana is being watched through another"):
                call()
        assert counts(world_path) == before
        ben = second.new_user(name="ben")
        second.next(ben)  # another viewer is free
        first.close()
        assert second.next(ana).position == 1  # once the first lets go, from where it stood
    finally:
        first.close()
        second.close()


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda e, u: e.set_controls(u, keyword_filters="spoiler"),
            "keyword_filters must be a list of strings, got the string 'spoiler'",
        ),
        (
            lambda e, u: e.set_controls(u, allow_sensitive="no"),
            "allow_sensitive must be True or False, got str 'no'",
        ),
        (
            lambda e, u: e.set_controls(u, topic_sliders={"cooking": "2"}),
            "slider for 'cooking' must be a number, got str '2'",
        ),
        (
            lambda e, u: e.set_controls(u, topic_sliders=["cooking"]),
            "topic_sliders must be a dict of topic -> multiplier",
        ),
        (
            lambda e, u: e.set_controls(u, playback_speed="2"),
            "playback speed must be a number, got str '2'",
        ),
        (
            lambda e, u: e.new_user(interests="cooking"),
            "interests must be a list of strings, got the string 'cooking'",
        ),
        (lambda e, u: e.new_user(interests=[4]), "interests must be a list of strings, it holds"),
        (lambda e, u: e.new_user(allow_sensitive=1), "allow_sensitive must be True or False"),
        (lambda e, u: e.new_user(language=None), "language must be an ISO 639-1 code"),
        (lambda e, u: e.new_user(country=None), "country must be an ISO 3166-1 code"),
        (lambda e, u: e.new_user(name=""), "name must not be empty"),
        (lambda e, u: e.new_user(name=7), "name must be text, got int 7"),
        (lambda e, u: e.heat([7]), "boosts must be a list of Boost, it holds int 7"),
    ],
)
def test_an_argument_of_the_wrong_kind_is_named_not_taken_for_another(
    served: tuple[Engine, int, int], world_path: Path, call, message: str
) -> None:
    eng, uid, _ = served
    before = counts(world_path), eng.profile(uid)
    with pytest.raises(ValueError, match=message):
        call(eng, uid)
    assert (counts(world_path), eng.profile(uid)) == before


def test_numpy_flags_and_numbers_are_taken(served: tuple[Engine, int, int]) -> None:
    eng, uid, _ = served
    eng.set_controls(
        uid,
        allow_sensitive=np.bool_(True),
        keyword_filters=("spoiler",),
        topic_sliders={"cooking": np.float32(2.0)},
        playback_speed=np.float64(1.5),
    )
    profile = eng.profile(uid)
    assert profile.allow_sensitive is True and profile.keyword_filters == ["spoiler"]
    assert profile.topic_sliders == {"cooking": 2.0} and profile.playback_speed == 1.5


def test_a_read_only_world_reads_and_refuses_to_record_in_one_line(
    world_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Root may write anything, so the file is made read-only where foryou asks (os.access);
    SQLite then opens it read-only for real."""
    with Engine.open(world_path, clock=VirtualClock(0.0)) as eng:
        ana = eng.new_user(name="ana")
        shown = eng.next(ana).video.id
    real_access = os.access

    def access(path: object, mode: int, **kwargs: object) -> bool:
        if mode & os.W_OK and Path(str(path)) == world_path:
            return False
        return real_access(path, mode, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "access", access)
    before = counts(world_path)
    refusal = rf"^{world_path} is read-only: this Engine reads it but cannot record; Engine\.open"
    with Engine.open(world_path, clock=VirtualClock(0.0)) as eng:
        assert eng.profile(ana).served == 1 and eng.video(shown).id == shown
        for call in (
            lambda: eng.new_user(),
            lambda: eng.next(ana),
            lambda: eng.record(ana, shown, "like"),
            lambda: eng.set_controls(ana, allow_sensitive=True),
        ):
            with pytest.raises(StoreError, match=refusal):
                call()
        assert eng.profile(ana).served == 1  # as it was
    assert counts(world_path) == before


@pytest.mark.parametrize("bad", [math.nan, math.inf, "10"])
def test_a_world_time_that_is_no_finite_number_is_refused(
    served: tuple[Engine, int, int], world_path: Path, bad: object
) -> None:
    eng, uid, _ = served
    before = counts(world_path)
    with pytest.raises(ValueError, match=r"^next_many: at\[0\] must be a finite number"):
        eng.next_many([uid], at=[bad])
    with pytest.raises(ValueError, match=r"^VirtualClock's start must be a finite number"):
        VirtualClock(bad)
    clock = VirtualClock(5.0)
    with pytest.raises(ValueError, match=r"^VirtualClock\.advance must be a finite number"):
        clock.advance(bad)
    with pytest.raises(ValueError, match=r"^VirtualClock\.advance needs seconds >= 0, got -1\.0"):
        clock.advance(-1.0)
    assert clock() == 5.0
    assert counts(world_path) == before
    assert eng.next_many([uid], at=[np.float64(12.5)])[0].position == 1


@pytest.mark.parametrize("malformed", [(1, 2), (1, 2, "save", None), "like"])
def test_a_malformed_record_many_entry_keeps_the_events_before_it(
    served: tuple[Engine, int, int], world_path: Path, malformed: object
) -> None:
    eng, uid, video = served
    with pytest.raises(ValueError, match=r"^record_many: each event is \(user_id, video_id"):
        eng.record_many([(uid, video, "like", {}), malformed])
    conn = sqlite3.connect(world_path)
    kinds = conn.execute("SELECT kind FROM events").fetchall()
    conn.close()
    assert kinds == [("like",)] and eng.profile(uid).liked == [video]  # the file as the engine


def test_a_config_that_is_no_path_is_named(world_path: Path) -> None:
    with pytest.raises(
        ConfigError, match=r"^a config is a TOML file's path, a Config or None, got dict"
    ):
        Engine.open(world_path, config={"seed": 1})


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"path": 42}, "path must be a world file's path, got int 42"),
        ({"boosts": [1]}, "boosts must be a list of Boost, it holds int 1"),
        ({"boosts": 5}, "boosts must be a list of Boost, got int 5"),
        ({"clock": 5.0}, "clock must be callable, got float 5.0"),
        ({"condition": 3}, "condition must be text, got int 3"),
        ({"condition": " "}, "condition must not be empty"),
    ],
)
def test_an_engine_opened_with_arguments_of_the_wrong_kind_says_which(
    world_path: Path, arguments: dict[str, object], message: str
) -> None:
    """Refused before the file is opened: a boost that was no Boost failed at the first pick
    with an AttributeError, a condition number was stored with every session."""
    before = counts(world_path)
    path = arguments.pop("path", world_path)
    with pytest.raises(ValueError, match=message):
        Engine.open(path, **arguments)  # type: ignore[arg-type]
    assert counts(world_path) == before
