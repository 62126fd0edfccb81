"""The viewer's taste in embedding space (engine.taste): learned from what held them, it ranks
and retrieves the videos of a topic that are like those, and it survives a restart.

Worked answers on hand-built vectors, then the seeded world for what a feed shows.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from engine import Config, Engine, VirtualClock
from engine.profile import query_vector
from engine.taste import note_close, taste_of
from engine.world import EMBED_DIM
from tests.tinyworld import COOKING, PETS, tiny_catalog, viewer


def _unit(*weights: float) -> np.ndarray:
    v = np.zeros(EMBED_DIM, dtype=np.float32)
    v[: len(weights)] = weights
    return (v / np.linalg.norm(v)).astype(np.float32)


def test_a_fresh_viewer_has_no_taste() -> None:
    assert taste_of(viewer(), np.stack([_unit(1.0), _unit(0.0, 1.0)])).tolist() == [0.0, 0.0]


def test_what_held_the_viewer_is_preferred_to_what_they_swiped_away() -> None:
    """Held by videos leaning one way within a topic (axis 0 plus a bit of axis 1), swiped at
    once from those leaning the other way: an unseen video leaning the first way now rates
    higher than one leaning the other."""
    state = viewer()
    for _ in range(4):
        note_close(state, _unit(1.0, 0.3), completed=True, watched_s=10.0, duration_s=10.0)
        note_close(state, _unit(1.0, -0.3), completed=False, watched_s=1.0, duration_s=10.0)
    near, far = taste_of(state, np.stack([_unit(1.0, 0.2), _unit(1.0, -0.2)]))
    assert near > 0.0 > far


def test_a_miss_after_a_run_of_the_topic_weighs_less() -> None:
    """A swipe after three videos of the same topic says "not now" more than "not this": it
    lowers the taste for such videos less than a swipe out of the blue."""
    tired, fresh = viewer(), viewer()
    video = _unit(0.0, 1.0)
    note_close(tired, video, completed=False, watched_s=1.0, duration_s=10.0, repeats=3)
    note_close(fresh, video, completed=False, watched_s=1.0, duration_s=10.0)
    assert taste_of(fresh, video[None, :])[0] < taste_of(tired, video[None, :])[0] < 0.0


def _side(eng: Engine, topic: str) -> tuple[np.ndarray, np.ndarray]:
    """The topic's centroid and a unit direction across its videos (their main axis)."""
    v = eng.catalog.world.videos
    ids = np.flatnonzero(v.topic_id == eng.catalog.topic_id(topic))
    centred = v.embedding[ids].astype(np.float64) - v.embedding[ids].mean(axis=0)
    direction = np.linalg.svd(centred, full_matrices=False)[2][0]
    return v.embedding[ids].mean(axis=0), direction


def _watch_one_side(eng: Engine, uid: int, sign: float, picks: int) -> list[float]:
    """Finish pets videos on one side of the topic, swipe at once from the other side and from
    every other topic; returns where each pets pick lay along the topic's axis."""
    centre, direction = _side(eng, "pets")
    v = eng.catalog.world.videos
    sides = []
    for _ in range(picks):
        video = eng.next(uid).video
        if video.topic != "pets":
            eng.record(uid, video.id, "skip", watched_s=1.0)
            continue
        side = float((v.embedding[video.id] - centre) @ direction) * sign
        sides.append(side)
        if side > 0:
            eng.record(uid, video.id, "complete", watched_s=video.duration_s)
        else:
            eng.record(uid, video.id, "skip", watched_s=1.0)
    return sides


def test_the_interest_query_turns_toward_what_held_the_viewer() -> None:
    """Interests split evenly between cooking and pets; then held by pets videos and swiped
    away at once from cooking ones: the retrieval query now lies nearer pets than cooking."""
    catalog = tiny_catalog()
    embedding = catalog.world.videos.embedding
    state = viewer()
    state.long_term[:] = (_unit(1.0, 1.0) * 0.5).astype(np.float32)  # cooking and pets alike
    for pets, cooking in ((3, 0), (5, 1), (11, 2)):
        note_close(state, embedding[pets], completed=True, watched_s=10.0, duration_s=10.0)
        note_close(state, embedding[cooking], completed=False, watched_s=1.0, duration_s=10.0)
    query = query_vector(state, Config().profile)
    assert query is not None
    centroid = catalog.world.topics.centroid
    assert query @ centroid[PETS] > query @ centroid[COOKING] + 0.1


def test_a_viewer_who_only_swiped_still_meets_the_starter_videos() -> None:
    """Swipes alone teach a taste but no interest: the query stays unknown, so the starter
    source (popular across topics) keeps offering what a cold viewer may like."""
    catalog = tiny_catalog()
    state = viewer()
    note_close(
        state, catalog.world.videos.embedding[0], completed=False, watched_s=1.0, duration_s=10.0
    )
    assert state.taste_moment.any()
    assert query_vector(state, Config().profile) is None


def test_the_taste_is_rebuilt_when_a_viewer_is_resumed_and_forgotten_on_refresh(
    world_path: Path,
) -> None:
    clock = VirtualClock(0.0)
    with Engine.open(world_path, clock=clock) as eng:
        uid = eng.new_user(name="resumed", interests=["pets"])
        _watch_one_side(eng, uid, 1.0, 20)
        live = eng._users[uid]
        precision, moment = live.taste_precision.copy(), live.taste_moment.copy()
        assert moment.any()
    with Engine.open(world_path, clock=clock) as eng:
        resumed = eng._state(uid)
        assert np.array_equal(resumed.taste_precision, precision)
        assert np.array_equal(resumed.taste_moment, moment)
        eng.refresh(uid)
        assert not eng._state(uid).taste_moment.any()


def test_the_receipt_shows_the_taste_term(world_path: Path) -> None:
    eng = Engine.open(world_path, clock=VirtualClock(0.0), log=False, config=Config())
    uid = eng.new_user(interests=["pets"])
    _watch_one_side(eng, uid, 1.0, 10)
    receipt = eng.next(uid).receipt
    assert receipt.inputs["taste"] != 0.0
    assert receipt.learned["complete"]["taste"] != 0.0  # weight × taste, a term of logit P
