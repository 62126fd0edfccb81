"""`foryou replay`: the exact feed a session saw, rebuilt; and what another config would pick."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from engine import Engine, VirtualClock, parse_config
from engine.counterfactual import estimate_from_logs
from engine.replay import replay_session
from engine.study import open_bundle
from tests.studykit import complete, make_bundle, watch
from tui.cli import main

GREEDY = 'name = "greedy"\n[pick]\ntemperature = 0.0\n'


def sessions(path: Path) -> list[int]:
    conn = sqlite3.connect(path)
    try:
        return [r[0] for r in conn.execute("SELECT id FROM sessions ORDER BY id")]
    finally:
        conn.close()


@pytest.fixture
def study_db(world_path: Path, tmp_path: Path) -> Path:
    """Three participants in both conditions (one heated), one of them resuming mid-feed."""
    path = make_bundle(world_path, tmp_path)
    clock = VirtualClock(0.0)
    with open_bundle(path) as bundle:
        complete(bundle, "P001", clock, seed=1)
        bundle.record_consent("P002", agreed=True)
        bundle.record_answers("P002", "pre", {"age": "35+", "hours": 5})
        watch(bundle, "P002", clock, np.random.default_rng(7), videos=3)
        clock.advance(3600.0)  # back an hour later: the feed resumes in a new engine
        watch(bundle, "P002", clock, np.random.default_rng(8))
        complete(bundle, "P003", clock, seed=3)
    return path


def test_every_study_session_is_rebuilt_exactly(study_db: Path) -> None:
    replayed = [replay_session(study_db, s) for s in sessions(study_db)]
    assert len(replayed) == 4  # P002 has two
    assert {r.condition for r in replayed} == {"control", "heated"}
    for result in replayed:
        assert result.picks
        assert [p.picked_video for p in result.picks] == [p.logged_video for p in result.picks]
        assert result.first_mismatch is None
        for pick in result.picks:  # the same probabilities as the engine logged
            assert pick.probability == pytest.approx(pick.logged_propensity)


def test_sessions_of_viewers_sharing_one_engine_are_rebuilt(world_path: Path) -> None:
    clock = VirtualClock(500.0)
    rng = np.random.default_rng(11)
    with Engine.open(world_path, clock=clock) as eng:
        viewers = [eng.new_user(["gaming"], name="ann"), eng.new_user([], name="bo")]
        for _ in range(15):
            for viewer in viewers:
                rec = eng.next(viewer)
                seconds = float(rng.uniform(1.0, rec.video.duration_s))
                eng.record(viewer, rec.video.id, "skip", watched_s=seconds)
                if rng.random() < 0.2:
                    eng.record(viewer, rec.video.id, "not_interested", scope="creator")
                clock.advance(seconds)
    for session in sessions(world_path):
        result = replay_session(world_path, session)
        assert result.matches == len(result.picks) == 15


def test_another_config_is_shown_side_by_side(study_db: Path) -> None:
    session = sessions(study_db)[0]
    result = replay_session(study_db, session, parse_config(GREEDY))
    assert result.compared is not None and result.compare_name == "greedy"
    assert [p.impression_id for p in result.compared] == [p.impression_id for p in result.picks]
    for pick in result.compared:
        # A greedy policy shows its top item for sure and nothing else.
        assert pick.probability in (0.0, 1.0)
        assert (pick.probability == 1.0) == (pick.picked_video == pick.logged_video)
    runner = CliRunner()
    config = study_db.parent / "greedy.toml"
    config.write_text(GREEDY)
    shown = runner.invoke(
        main, ["replay", str(session), "--db", str(study_db), "--config", str(config)]
    )
    assert shown.exit_code == 0, shown.output
    assert "greedy would pick" in shown.output
    assert f"All {len(result.picks)} picks reproduced exactly." in shown.output


def test_a_log_that_does_not_match_is_reported(study_db: Path) -> None:
    session = sessions(study_db)[0]
    conn = sqlite3.connect(study_db)
    with conn:  # as if the log came from another world or another version of the engine
        conn.execute(
            "UPDATE impressions SET video_id = (video_id + 1) % 3000 WHERE id = "
            "(SELECT id FROM impressions WHERE session_id = ? AND position = 2)",
            [session],
        )
    conn.close()
    result = CliRunner().invoke(main, ["replay", str(session), "--db", str(study_db)])
    assert result.exit_code == 1
    said = " ".join(result.output.split())  # the console wraps where the video ids fall
    assert "Mismatch at position 2:" in said
    assert "the world, the foryou version or the recorded history differs" in said


def test_an_unknown_session_is_one_line(study_db: Path) -> None:
    result = CliRunner().invoke(main, ["replay", "999", "--db", str(study_db)])
    assert result.exit_code != 0
    assert result.output == "Error: unknown session 999\n"


@pytest.mark.slow
def test_every_session_of_a_multi_shard_simulation_replays_exactly(
    world_path: Path, tmp_path: Path
) -> None:
    """Shards of `foryou simulate` run side by side from one snapshot, each engine learning
    from its own personas; replay re-lives each shard on its own, so every session rebuilds."""
    runner = CliRunner()
    args = ["--db", str(world_path), "--users", "32", "--sessions", "1", "--no-baselines"]
    args += ["--out", str(tmp_path / "report")]
    assert runner.invoke(main, ["simulate", *args]).exit_code == 0  # two shards of 16
    results = [
        runner.invoke(main, ["replay", str(s), "--db", str(world_path)])
        for s in sessions(world_path)
    ]
    assert len(results) == 32
    assert all(r.exit_code == 0 and "reproduced exactly" in r.output for r in results)


def _recommend(db: Path, user: str, *more: str) -> None:
    result = CliRunner().invoke(main, ["recommend", "--db", str(db), "--user", user, *more])
    assert result.exit_code == 0, result.output


@pytest.mark.slow
def test_a_viewer_resuming_after_a_logged_simulation_replays_exactly(
    world_path: Path, tmp_path: Path
) -> None:
    """The engine zed resumed in opened on the simulation's logged activity (its counts, pools
    and learned model): the replay re-lives that activity before zed's second session."""
    _recommend(world_path, "zed", "--create", "-n", "3")
    args = ["--db", str(world_path), "--users", "2", "--sessions", "1", "--seed", "1"]
    simulated = CliRunner().invoke(main, ["simulate", *args, "--out", str(tmp_path / "r")])
    assert simulated.exit_code == 0, simulated.output
    _recommend(world_path, "zed", "-n", "3")
    _recommend(world_path, "amy", "--create", "-n", "3")
    for session in sessions(world_path):
        result = replay_session(world_path, session)
        assert result.matches == len(result.picks) > 0, session


@pytest.mark.slow
def test_a_viewer_resuming_after_a_multi_shard_simulation_is_told_why_it_differs(
    world_path: Path, tmp_path: Path
) -> None:
    """After a run of several shards the next engine refits the learned model on their logs,
    which a replay does not redo: the replay says so instead of blaming the world."""
    _recommend(world_path, "zed", "--create", "-n", "3")
    args = ["--db", str(world_path), "--users", "4", "--shard-size", "2", "--sessions", "1"]
    simulated = CliRunner().invoke(main, ["simulate", *args, "--out", str(tmp_path / "r")])
    assert simulated.exit_code == 0, simulated.output
    _recommend(world_path, "zed", "-n", "3")
    last = sessions(world_path)[-1]
    replayed = CliRunner().invoke(main, ["replay", str(last), "--db", str(world_path)])
    said = " ".join(replayed.output.split())
    assert "This session comes after a logged `foryou simulate` run of several shards" in said


def test_revisits_are_replayed_as_viewings_not_picks(world_path: Path) -> None:
    """Going back to a video adds a viewing (its own impression row), not a pick: replay
    reproduces every pick around it, evaluation weighs only the picks, and a reopened engine
    counts its picks as the one that made them."""
    clock = VirtualClock(0.0)
    served = []
    with Engine.open(world_path, clock=clock) as eng:
        uid = eng.new_user(["cooking"], name="ann")
        for step in range(8):
            rec = eng.next(uid)
            served.append(rec.video.id)
            eng.seen(uid, rec.video.id)
            clock.advance(3.0)
            eng.record(uid, rec.video.id, "skip", watched_s=3.0)
            if step % 3 == 2:  # back two videos, then forward again, watching each
                for back in (served[-2], served[-1]):
                    eng.revisit(uid, back)
                    eng.seen(uid, back)
                    clock.advance(5.0)
                    eng.record(uid, back, "complete", watched_s=5.0)
        following = eng.next(uid)
    assert following.position == 8
    with sqlite3.connect(world_path) as conn:
        imps = conn.execute("SELECT source, watched_s, position FROM impressions ORDER BY id")
        rows = imps.fetchall()
    assert sum(source == "revisit" for source, _, _ in rows) == 4
    assert [w for s, w, _ in rows if s != "revisit"] == [3.0] * 8 + [None]  # firsts untouched
    result = replay_session(world_path, 1)
    assert [p.logged_video for p in result.picks] == [*served, following.video.id]
    assert result.first_mismatch is None
    evaluation = estimate_from_logs(world_path, parse_config(GREEDY, "greedy"))
    assert evaluation.impressions == 8 and evaluation.left_out == 1  # the unwatched last pick
    with Engine.open(world_path, clock=clock) as eng:
        assert eng.next(uid).position == 9
        eng.revisit(uid, served[0])
        eng.record(uid, served[0], "skip", watched_s=1.0)  # closes the newest viewing
    with sqlite3.connect(world_path) as conn:
        firsts = conn.execute(
            "SELECT watched_s FROM impressions WHERE video_id = ? ORDER BY id", [served[0]]
        ).fetchall()
    assert firsts == [(3.0,), (1.0,)]
