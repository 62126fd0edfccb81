"""A ranker from outside the engine is checked while it runs: what it returns before anything is
stored, and what it raises told in one line naming its class (engine.guard)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from engine import Engine, VirtualClock
from engine.pipeline import Decision
from engine.policy import (
    BrokenPolicyError,
    PickRequest,
    PolicyBase,
    PolicyError,
    PolicySpec,
    plain_receipt,
)
from tests.test_policy_readme import foryou
from tests.tuikit import rows, screen_text
from tui.app import make_app
from tui.screens.viewers import ViewerScreen


def decision(request: PickRequest, video: Any, propensity: float = 1.0) -> Decision:
    """A well-formed decision for one video (its slate is that video alone)."""
    ids, probabilities = np.array([video], dtype=np.int64), np.array([1.0])
    receipt = plain_receipt(
        request, ids, np.zeros(1), probabilities, removed={}, kept=1, policy="t", pool_state=None
    )
    return Decision(video, "t", 0.0, 0, propensity, receipt, ids, probabilities)


class Overconfident(PolicyBase):
    """Picks an allowed video but claims a propensity of 5."""

    def pick(self, request: PickRequest) -> Decision:
        return decision(request, int(request.allowed()[0][0]), propensity=5.0)


class AlwaysZero(PolicyBase):
    """Serves video 0 whatever the viewer has seen."""

    def pick(self, request: PickRequest) -> Decision:
        return decision(request, 0)


class SameCreator(PolicyBase):
    """Keeps serving the first pick's creator: even once the viewer hid them."""

    def pick(self, request: PickRequest) -> Decision:
        served = request.state.served_at_position
        if not served:
            return decision(request, int(request.allowed()[0][0]))
        creators = request.catalog.world.videos.creator_id
        same = np.flatnonzero(creators == creators[next(iter(served))])
        return decision(request, int(next(v for v in same if v not in served)))


class Outside(PolicyBase):
    def pick(self, request: PickRequest) -> Decision:
        ids = np.array([1_000_000_000])
        return Decision(1_000_000_000, "t", 0.0, 0, 1.0, None, ids, np.ones(1))  # type: ignore[arg-type]


class NaNAtThree:
    def score(self, request: PickRequest, candidates: Any) -> np.ndarray:
        scores = np.zeros(len(candidates))
        scores[3] = np.nan
        return scores


class Forgetful:
    """A scorer whose observe() breaks on every event."""

    def score(self, request: PickRequest, candidates: Any) -> np.ndarray:
        return np.zeros(len(candidates))

    def observe(self, event: Any) -> None:
        raise RuntimeError("no memory left")


def open_engine(world: Path, policy: object) -> Engine:
    return Engine.open(world, clock=VirtualClock(1000.0), policy=policy)


def impressions(world: Path) -> list[dict[str, Any]]:
    return rows(world, "SELECT video_id, propensity FROM impressions ORDER BY id")


def test_a_propensity_above_one_is_refused_and_nothing_is_stored(world_path: Path) -> None:
    with open_engine(world_path, Overconfident()) as engine:
        uid = engine.new_user(["cooking"])
        with pytest.raises(BrokenPolicyError, match=r"policy Overconfident .*propensity 5\.0"):
            engine.next(uid)
    assert impressions(world_path) == []


def test_a_video_already_served_is_refused_the_second_time(world_path: Path) -> None:
    with open_engine(world_path, AlwaysZero()) as engine:
        uid = engine.new_user(["cooking"])
        assert engine.next(uid).video.id == 0
        with pytest.raises(BrokenPolicyError, match=r"AlwaysZero .*returned video 0.*exclude"):
            engine.next(uid)
    assert impressions(world_path) == [{"video_id": 0, "propensity": 1.0}]


def test_a_hidden_creator_never_comes_back_from_a_custom_policy(world_path: Path) -> None:
    with open_engine(world_path, SameCreator()) as engine:
        uid = engine.new_user(["cooking"])
        first = engine.next(uid).video
        assert engine.next(uid).video.creator_id == first.creator_id
        engine.record(uid, first.id, "hide_creator")
        with pytest.raises(BrokenPolicyError, match=r"SameCreator .*exclude.*hidden creator"):
            engine.next(uid)
    assert len(impressions(world_path)) == 2


def test_a_batch_with_one_bad_pick_serves_nobody(world_path: Path) -> None:
    with open_engine(world_path, AlwaysZero()) as engine:
        ana, bo = engine.new_user(["cooking"]), engine.new_user(["pets"])
        engine.next(ana)
        with pytest.raises(BrokenPolicyError, match="for viewer"):
            engine.next_many([bo, ana])
    assert len(impressions(world_path)) == 1


def test_a_video_outside_the_catalogue_is_named(world_path: Path) -> None:
    with open_engine(world_path, Outside()) as engine:
        uid = engine.new_user(["cooking"])
        with pytest.raises(BrokenPolicyError) as error:
            engine.next(uid)
    assert str(error.value).startswith(
        "policy Outside (test_policy_runtime.py) returned video 1000000000, "
        "which is not in the catalogue"
    )


def test_a_nan_score_names_the_candidate(world_path: Path) -> None:
    with open_engine(world_path, NaNAtThree()) as engine:
        uid = engine.new_user(["cooking"])
        with pytest.raises(BrokenPolicyError, match=r"^policy NaNAtThree \(test_policy_runtime"
                           r"\.py\): score\(\) returned nan at candidate index 3 "
                           r"\(video \d+; 1 of \d+ not finite\)"):  # fmt: skip
            engine.next(uid)


def test_a_failing_observe_keeps_the_event_and_says_so(world_path: Path) -> None:
    with open_engine(world_path, Forgetful()) as engine:
        uid = engine.new_user(["cooking"])
        video = engine.next(uid).video.id
        likes = engine.catalog.engagement.counts["likes"][video]
        with pytest.raises(BrokenPolicyError) as error:
            engine.record(uid, video, "like")
        message = str(error.value)
        assert message.startswith(
            "policy Forgetful (test_policy_runtime.py) raised RuntimeError in observe(): "
            "no memory left"
        )
        assert f"the like of video {video} is saved" in message
        assert engine.profile(uid).liked == [video]  # the engine moved with the file
        assert engine.catalog.engagement.counts["likes"][video] == likes + 1
    assert rows(world_path, "SELECT kind, video_id FROM events") == [
        {"kind": "like", "video_id": video}
    ]


RANKERS = """
import numpy as np


class Boom:
    def score(self, request, candidates):
        return candidates.ids + None


class BrokenInit:
    def __init__(self, weight=1.0):
        self.weight = weight + None

    def score(self, request, candidates):
        return np.zeros(len(candidates))
"""


@pytest.fixture
def rankers(tmp_path: Path) -> Path:
    path = tmp_path / "rankers.py"
    path.write_text(RANKERS, encoding="utf-8")
    return path


def test_an_exception_in_score_is_one_line_naming_the_class(
    world_path: Path, rankers: Path, tmp_path: Path
) -> None:
    run = foryou("recommend", "--db", str(world_path), "--user", "x", "--create", "-n", "2",
                 "--policy", f"{rankers}:Boom", cwd=tmp_path)  # fmt: skip
    assert run.returncode == 1
    assert run.stderr.strip().splitlines() == [
        "Error: policy Boom (rankers.py) raised TypeError in score(): unsupported operand "
        "type(s) for +: 'int' and 'NoneType'"
    ]
    assert impressions(world_path) == []


def test_a_type_error_inside_init_is_the_class_own_error(rankers: Path) -> None:
    with pytest.raises(PolicyError) as error:
        PolicySpec.parse(f"{rankers}:BrokenInit").build()
    message = str(error.value)
    assert "bad parameters" not in message
    assert "BrokenInit raised TypeError in __init__: unsupported operand" in message
    with pytest.raises(PolicyError, match=r"bad parameters \(wieght\)"):
        PolicySpec.parse(f"{rankers}:BrokenInit", {"wieght": 2.0}).build()


class Exploding:
    def score(self, request: PickRequest, candidates: Any) -> np.ndarray:
        raise TypeError("scores went missing")


async def test_the_feed_tells_a_broken_ranker_in_one_message(world_path: Path) -> None:
    with Engine.open(world_path, clock=VirtualClock(0.0)) as engine:
        engine.new_user(["cooking"], name="ana")
    app = make_app(world_path, "ana", live=False, world_clock=VirtualClock(0.0), policy=Exploding())
    async with app.run_test(size=(100, 32), notifications=True) as pilot:
        await pilot.pause()
        said = [n.message for n in app._notifications]
        assert said == [
            "policy Exploding (test_policy_runtime.py) raised TypeError in score(): "
            "scores went missing"
        ]
        assert "raised TypeError in score()" in screen_text(app)
        assert app.is_running  # no traceback: the viewer may quit with q
    assert impressions(world_path) == []


async def test_the_feed_keeps_a_reaction_whose_observe_failed(world_path: Path) -> None:
    with Engine.open(world_path, clock=VirtualClock(0.0)) as engine:
        engine.new_user(["cooking"], name="ana")
    app = make_app(world_path, "ana", live=False, world_clock=VirtualClock(0.0), policy=Forgetful())
    async with app.run_test(size=(100, 32), notifications=True) as pilot:
        await pilot.pause()
        video = app.screen.session.video  # type: ignore[attr-defined]
        await pilot.press("l")
        assert video.id in app.screen.session.liked  # type: ignore[attr-defined]
        said = " ".join(n.message for n in app._notifications)
        assert f"the like of video {video.id} is saved" in said
    assert rows(world_path, "SELECT kind FROM events ORDER BY id")[0] == {"kind": "like"}


class LateNaN:
    """A scorer that works for five picks, then scores NaN."""

    def __init__(self) -> None:
        self.calls = 0

    def score(self, request: PickRequest, candidates: Any) -> np.ndarray:
        self.calls += 1
        scores = np.zeros(len(candidates))
        scores[0] = np.nan if self.calls > 5 else 0.0
        return scores


async def test_a_failing_pick_stores_nothing_more_however_often_the_viewer_swipes(
    world_path: Path,
) -> None:
    with Engine.open(world_path, clock=VirtualClock(0.0)) as engine:
        engine.new_user(["cooking"], name="dan")
    app = make_app(world_path, "dan", live=False, world_clock=VirtualClock(0.0), policy=LateNaN())
    async with app.run_test(size=(100, 32), notifications=True) as pilot:
        await pilot.pause()
        for _ in range(4):
            await pilot.press("j")
        on_screen = app.screen.session.video  # type: ignore[attr-defined]
        for _ in range(3):
            await pilot.press("j")
        await pilot.pause()
        assert app.screen.session.video == on_screen  # type: ignore[attr-defined]
        assert "score() returned nan" in " ".join(n.message for n in app._notifications)
        assert app.is_running
    served = rows(world_path, "SELECT video_id, source FROM impressions ORDER BY id")
    assert len(served) == 5
    assert all(row["source"] != "revisit" for row in served)
    closings = rows(world_path, "SELECT video_id FROM events WHERE kind = 'skip' ORDER BY id")
    # each viewing closed once, the last one by the first swipe that found no next video
    assert [row["video_id"] for row in closings] == [row["video_id"] for row in served]


def carol_liked(world: Path) -> int:
    """carol liked a video in an earlier session (picked by the engine); returns it."""
    with Engine.open(world, clock=VirtualClock(0.0)) as engine:
        uid = engine.new_user(["cooking"], name="carol")
        video = engine.next(uid).video.id
        engine.record(uid, video, "like")
        engine.record(uid, video, "skip", watched_s=3.0)
        # A second pick after the like: evaluate and replay re-live the like to re-decide it.
        later = engine.next(uid).video.id
        engine.record(uid, later, "skip", watched_s=3.0)
    return video


RELIVING = "while re-living viewer carol's history: the like of video {} recorded earlier"


def test_a_ranker_failing_on_the_viewer_history_says_so(world_path: Path) -> None:
    video = carol_liked(world_path)
    with open_engine(world_path, Forgetful()) as engine, pytest.raises(BrokenPolicyError) as error:
        engine.next(engine.user_id("carol"))
    message = str(error.value)
    assert message.startswith("policy Forgetful (test_policy_runtime.py) raised RuntimeError in "
                              "observe(): no memory left")  # fmt: skip
    assert RELIVING.format(video) in message
    assert "is saved" not in message


FORGETFUL = """
class Forgetful:
    def score(self, request, candidates):
        return [0.0] * len(candidates)

    def observe(self, event):
        raise RuntimeError("no memory left")
"""


def test_the_feed_command_says_so_in_one_line(world_path: Path, tmp_path: Path) -> None:
    video = carol_liked(world_path)
    (tmp_path / "forgetful.py").write_text(FORGETFUL, encoding="utf-8")
    run = foryou("feed", "--db", str(world_path), "--user", "carol",
                 "--policy", "forgetful.py:Forgetful", cwd=tmp_path)  # fmt: skip
    assert run.returncode == 1
    [line] = run.stderr.strip().splitlines()
    assert line.startswith("Error: policy Forgetful (forgetful.py) raised RuntimeError in observe")
    assert line.endswith(RELIVING.format(video) + ")")


async def test_choosing_a_viewer_the_ranker_cannot_open_is_a_notice(world_path: Path) -> None:
    video = carol_liked(world_path)
    app = make_app(world_path, live=False, world_clock=VirtualClock(0.0), policy=Forgetful())
    async with app.run_test(size=(100, 32), notifications=True) as pilot:
        await pilot.press("down", "enter")
        await pilot.pause()
        assert isinstance(app.screen, ViewerScreen)  # asked again, no traceback
        said = " ".join(n.message for n in app._notifications)
        assert RELIVING.format(video) in said
        assert app.is_running


def test_a_failing_observe_does_not_claim_a_save_that_never_happened(world_path: Path) -> None:
    with Engine.open(world_path, clock=VirtualClock(1000.0), policy=Forgetful(), log=False) as e:
        uid = e.new_user(["cooking"])
        video = e.next(uid).video.id
        with pytest.raises(BrokenPolicyError) as error:
            e.record(uid, video, "like")
    assert "raised RuntimeError in observe(): no memory left" in str(error.value)
    assert "saved" not in str(error.value)
    assert rows(world_path, "SELECT kind FROM events") == []


def test_evaluate_does_not_claim_a_save(world_path: Path, tmp_path: Path) -> None:
    carol_liked(world_path)
    (tmp_path / "forgetful.py").write_text(FORGETFUL, encoding="utf-8")
    run = foryou("evaluate", "--db", str(world_path), "--policy", "forgetful.py:Forgetful",
                 cwd=tmp_path)  # fmt: skip
    assert run.returncode == 1
    [line] = run.stderr.strip().splitlines()
    assert "raised RuntimeError in observe(): no memory left" in line
    assert "saved" not in line
