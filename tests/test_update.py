"""The event → profile step on its own (engine/update.py), on the hand-built world of
tests/tinyworld.py: each answer is read from its table, no engine or file involved."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from engine.events import Event
from engine.profile import UserState, seed_interests
from engine.update import (
    REWATCH_FADE,
    Effects,
    apply_event,
    effects_of,
    note_revisit,
    note_served,
)
from tests.tinyworld import ANA, COOKING, NOW, PETS, config, tiny_catalog, viewer

SERVED = 7  # the impression id each test serves its video under


def _served(video_id: int, *, interests: tuple[int, ...] = ()) -> UserState:
    state = viewer(interests)
    note_served(state, video_id, 0, SERVED)
    state.n_served = 1
    return state


def _event(
    kind: str, video_id: int | None, *, watched_s: float | None = None, scope: str | None = None
) -> Event:
    return Event(1, video_id, kind, NOW, watched_s=watched_s, scope=scope)


def test_a_completion_counts_a_view_marks_the_video_seen_and_moves_toward_its_topic() -> None:
    state = _served(0)
    before = float(state.topic_affinity[COOKING])
    effects = apply_event(state, _event("complete", 0, watched_s=10.0), tiny_catalog(), config())
    assert effects.closes and effects.first_close and effects.pool_view
    assert effects.viewing == SERVED
    assert dict(effects.stat_deltas) == {"views": 1, "completions": 1, "watched_s": 10.0}
    assert effects.value > 0
    assert 0 in state.seen
    assert int(tiny_catalog().dup_root[8]) in state.seen_roots  # video 8 re-uploads video 0
    assert SERVED in state.closed
    assert state.topic_affinity[COOKING] > before
    assert state.reactions[-1] == ("complete", 0)


def test_a_viewing_is_counted_once_however_often_it_closes() -> None:
    state = _served(0)
    apply_event(state, _event("complete", 0, watched_s=10.0), tiny_catalog(), config())
    again = apply_event(state, _event("skip", 0, watched_s=2.0), tiny_catalog(), config())
    assert again.closes and not again.first_close and not again.pool_view
    assert dict(again.stat_deltas) == {}


def test_going_back_to_a_video_is_a_new_view_but_no_new_pool_viewer() -> None:
    state = _served(0)
    apply_event(state, _event("complete", 0, watched_s=10.0), tiny_catalog(), config())
    note_revisit(state, 0, SERVED + 1)
    back = apply_event(state, _event("complete", 0, watched_s=10.0), tiny_catalog(), config())
    assert back.viewing == SERVED + 1 and back.first_close
    assert back.stat_deltas["views"] == 1
    assert not back.pool_view


def test_effects_of_changes_nothing() -> None:
    state = _served(3, interests=(PETS,))
    untouched = copy.deepcopy(state)
    effects = effects_of(state, _event("complete", 3, watched_s=10.0), tiny_catalog(), config())
    assert effects.first_close
    assert list(state.seen) == list(untouched.seen) == []
    assert state.closed == untouched.closed
    assert np.array_equal(state.topic_affinity, untouched.topic_affinity)
    assert np.array_equal(state.long_term, untouched.long_term)
    assert state.reactions == untouched.reactions


def test_each_loop_of_one_viewing_teaches_half_the_one_before() -> None:
    state = _served(0)
    first = apply_event(state, _event("rewatch", 0), tiny_catalog(), config())
    second = apply_event(state, _event("rewatch", 0), tiny_catalog(), config())
    assert second.value == pytest.approx(first.value * REWATCH_FADE)
    assert dict(first.stat_deltas) == {"rewatches": 1}
    note_served(state, 0, 1, SERVED + 1)  # served again: a new viewing starts at full weight
    fresh = apply_event(state, _event("rewatch", 0), tiny_catalog(), config())
    assert fresh.value == pytest.approx(first.value)


def test_likes_and_follows_change_the_viewer_and_the_counters() -> None:
    state = _served(1)
    liked = apply_event(state, _event("like", 1), tiny_catalog(), config())
    assert dict(liked.stat_deltas) == {"likes": 1} and 1 in state.liked
    unliked = apply_event(state, _event("unlike", 1), tiny_catalog(), config())
    assert dict(unliked.stat_deltas) == {"likes": -1} and 1 not in state.liked
    apply_event(state, _event("follow", 1), tiny_catalog(), config())
    assert ANA in state.follows  # video 1 is ana's


def test_a_refresh_forgets_what_was_learned_and_changes_no_counter() -> None:
    state = _served(0, interests=(PETS,))
    seed_interests(state, tiny_catalog().world.topics.centroid, config().profile)
    onboarded = state.topic_affinity.copy()
    assert onboarded[PETS] > 0
    apply_event(state, _event("complete", 0, watched_s=10.0), tiny_catalog(), config())
    assert not np.array_equal(state.topic_affinity, onboarded)
    effects = apply_event(state, _event("refresh", None), tiny_catalog(), config())
    assert effects == Effects(refresh=True)
    assert np.allclose(state.topic_affinity, onboarded)
    assert 0 in state.seen  # what was seen stays seen
