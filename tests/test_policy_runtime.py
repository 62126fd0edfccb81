"""A ranker from outside the engine is checked while it runs: what it returns, before anything
is stored (engine.guard)."""

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
    plain_receipt,
)
from tests.tuikit import rows


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
