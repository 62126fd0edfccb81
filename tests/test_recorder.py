"""Where an engine's activity goes (engine/recorder.py): the file, or memory with ids of its own
that never meet the file's."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from engine import Engine, VirtualClock
from engine.recorder import MemoryRecorder


def _counts(path: Path) -> tuple[int, ...]:
    with sqlite3.connect(path) as con:
        return tuple(
            con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("users", "sessions", "impressions", "events")
        )


def test_memory_ids_are_positive_unique_and_apart_from_the_files(world_path: Path) -> None:
    with Engine.open(world_path, clock=VirtualClock(0.0)) as logged:
        stored = logged.new_user(interests=["cooking"], name="stored")
        stored_imps = [logged.next(stored).impression_id for _ in range(3)]
    before = _counts(world_path)
    with Engine.open(world_path, clock=VirtualClock(0.0), log=False) as eng:
        assert not eng.log and isinstance(eng.recorder, MemoryRecorder)
        uid = eng.new_user(interests=["pets"])
        assert uid > stored
        recs = [eng.next(uid) for _ in range(4)]
        back = eng.revisit(uid, recs[0].video.id)
        impressions = [r.impression_id for r in recs] + [back]
        assert all(i > max(stored_imps) for i in impressions)
        assert len(set(impressions)) == len(impressions)
        events = [
            eng.record(uid, recs[1].video.id, "complete", watched_s=3.0),
            eng.record(uid, recs[0].video.id, "like"),
        ]
        assert all(e > 0 for e in events) and events[0] != events[1]
        with pytest.raises(ValueError, match="unknown impression"):
            eng.explain(recs[0].impression_id)  # kept in memory only: not a row of the file
        eng.set_controls(uid, keyword_filters=["cats"])
        assert eng.profile(uid).keyword_filters == ["cats"]
    assert _counts(world_path) == before  # nothing of the memory engine reached the file


def test_a_memory_engine_serves_a_stored_viewer_without_writing(world_path: Path) -> None:
    with Engine.open(world_path, clock=VirtualClock(0.0)) as logged:
        uid = logged.new_user(interests=["cooking"], name="stored")
        logged.record(uid, logged.next(uid).video.id, "complete", watched_s=5.0)
    before = _counts(world_path)
    with Engine.open(world_path, clock=VirtualClock(0.0), log=False) as eng:
        rec = eng.next(uid)
        eng.record(uid, rec.video.id, "complete", watched_s=2.0)
        assert ("complete", rec.video.id) in eng.profile(uid).recent_reactions
    assert _counts(world_path) == before
