"""A participant's way through a study, as the study screens will drive it, and what is
recorded at each step."""

from __future__ import annotations

import csv
import json
import re
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from engine import VirtualClock
from engine.export import export_tables
from engine.study import StudyBundle, StudyError, open_bundle
from tests.studykit import STUDY, complete, make_bundle, watch
from tui.cli import main


@pytest.fixture
def bundle_path(world_path: Path, tmp_path: Path) -> Path:
    return make_bundle(world_path, tmp_path)


@pytest.fixture
def bundle(bundle_path: Path) -> Iterator[StudyBundle]:
    with open_bundle(bundle_path) as opened:
        yield opened


def rows(path: Path, sql: str, params: tuple[object, ...] = ()) -> list[tuple]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def test_two_participants_complete_the_study_in_both_conditions(
    bundle: StudyBundle, bundle_path: Path
) -> None:
    clock = VirtualClock(0.0)
    first = bundle.enrol("P001")
    assert (first.status, first.next_step, first.resumed) == ("new", "consent", False)
    assert complete(bundle, "P001", clock, seed=1) == "FYP-7Q2"
    assert complete(bundle, "P002", clock, seed=2) == "FYP-7Q2"
    conditions = {bundle.enrol(p).condition for p in ("P001", "P002")}
    assert conditions == {"control", "heated"}  # a balanced block of two
    recorded = rows(
        bundle_path,
        "SELECT p.participant, p.status, c.name, u.name, s.condition, count(DISTINCT i.id) "
        "FROM participants p JOIN conditions c ON c.id = p.condition_id "
        "JOIN users u ON u.id = p.user_id JOIN sessions s ON s.user_id = u.id "
        "JOIN impressions i ON i.session_id = s.id AND i.seen_end IS NOT NULL "
        "GROUP BY p.id ORDER BY p.id",
    )
    for participant, status, condition, user, session_condition, watched in recorded:
        assert status == "completed" and user == participant
        assert session_condition == condition  # every session names its condition
        assert watched == 8  # the study's session length
    answers = rows(bundle_path, "SELECT phase, item, value FROM answers WHERE participant_id = 1")
    assert sorted(answers) == [
        ("post", "enjoy", "6"),
        ("post", "notes", "more cats please"),
        ("pre", "age", "25-34"),
        ("pre", "hours", "3"),
    ]
    status = bundle.status()
    assert [(c.name, c.allocated, c.completed) for c in status.conditions] == [
        ("control", 1, 1),
        ("heated", 1, 1),
    ]
    assert all(c.median_duration_s is not None for c in status.conditions)


def test_declining_records_nothing_but_the_decline(bundle: StudyBundle, bundle_path: Path) -> None:
    enrolment = bundle.record_consent("P009", agreed=False)
    assert enrolment.status == "declined" and enrolment.condition is None
    assert rows(
        bundle_path, "SELECT participant, status, condition_id, user_id FROM participants"
    ) == [("P009", "declined", None, None)]
    for table in ("users", "sessions", "impressions", "events", "answers", "feed_runs"):
        assert rows(bundle_path, f"SELECT count(*) FROM {table}") == [(0,)]
    with pytest.raises(StudyError, match="declined consent earlier"):
        bundle.enrol("P009")
    with pytest.raises(StudyError, match="already answered the consent"):
        bundle.record_consent("P009", agreed=True)
    # A decline does not use up an allocation slot: the next two still fill one block.
    bundle.record_consent("P010", agreed=True)
    bundle.record_consent("P011", agreed=True)
    assert {bundle.enrol("P010").condition, bundle.enrol("P011").condition} == {
        "control",
        "heated",
    }


def test_a_second_run_resumes_where_the_first_stopped(
    bundle: StudyBundle, bundle_path: Path
) -> None:
    clock, rng = VirtualClock(0.0), np.random.default_rng(3)
    bundle.record_consent("P001", agreed=True)
    assert bundle.enrol("P001").next_step == "pre"
    bundle.record_answers("P001", "pre", {"age": "18-24", "hours": 1})
    assert bundle.enrol("P001").next_step == "onboarding"
    assert watch(bundle, "P001", clock, rng, videos=3) == 3  # the app closes mid-feed
    again = bundle.enrol("P001")
    assert (again.resumed, again.status, again.next_step) == (True, "in_feed", "feed")
    with bundle.open_feed("P001", interests=["gaming"], clock=clock) as feed:
        assert feed.user_id == again.user_id  # the same viewer, onboarding not repeated
        assert feed.remaining().videos == 5
    assert watch(bundle, "P001", clock, rng) == 5
    assert bundle.enrol("P001").next_step == "post"
    bundle.record_answers("P001", "post", {"enjoy": 4})
    assert bundle.enrol("P001").next_step == "debrief"
    code = bundle.finish("P001")
    done = bundle.enrol("P001")
    assert (done.status, done.next_step) == ("completed", "done")
    assert bundle.finish("P001") == code == bundle.completion_code("P001")
    assert rows(bundle_path, "SELECT count(*) FROM participants") == [(1,)]
    assert rows(bundle_path, "SELECT count(*) FROM users") == [(1,)]
    assert rows(bundle_path, "SELECT count(*) FROM feed_runs") == [(3,)]
    interests = rows(bundle_path, "SELECT interests FROM users")[0][0]
    assert json.loads(interests) == ["cooking"]


def test_steps_out_of_order_are_refused(bundle: StudyBundle) -> None:
    clock = VirtualClock(0.0)
    with pytest.raises(StudyError, match="unknown participant"):
        bundle.record_answers("P404", "pre", {"age": "35+"})
    bundle.record_consent("P001", agreed=True)
    with pytest.raises(StudyError, match="not completed the pre-questionnaire"):
        bundle.open_feed("P001", clock=clock)
    with pytest.raises(StudyError, match="post-questionnaire is not open"):
        bundle.record_answers("P001", "post", {"enjoy": 3})
    bundle.record_answers("P001", "pre", {"age": "35+", "hours": 2})
    watch(bundle, "P001", clock, np.random.default_rng(0), videos=2)
    with pytest.raises(StudyError, match="pre-questionnaire is not open"):
        bundle.record_answers("P001", "pre", {"age": "18-24"})
    with pytest.raises(StudyError, match="cannot finish yet"):
        bundle.finish("P001")
    with pytest.raises(StudyError, match="has not completed the study"):
        bundle.completion_code("P001")


def test_answers_are_validated_and_a_correction_replaces(
    bundle: StudyBundle, bundle_path: Path
) -> None:
    bundle.record_consent("P001", agreed=True)
    for answers, message in [
        ({"hours": 6}, "item 'hours' needs a whole number from 1 to 5"),
        ({"hours": True}, "item 'hours' needs a whole number"),
        ({"age": "40-49"}, "item 'age' needs one of"),
        ({"mood": "fine"}, "unknown item 'mood'"),
    ]:
        with pytest.raises(StudyError, match=message):
            bundle.record_answers("P001", "pre", answers)
    bundle.record_answers("P001", "pre", {"age": "18-24"})
    assert bundle.enrol("P001").next_step == "pre"  # "hours" is required too
    bundle.record_answers("P001", "pre", {"age": "25-34", "hours": 2})
    assert bundle.answers("P001", "pre") == {"age": "25-34", "hours": "2"}
    assert rows(bundle_path, "SELECT count(*) FROM answers") == [(2,)]
    with pytest.raises(StudyError, match="not a pseudonymous code"):
        bundle.enrol("jane.doe@example.org")


def test_each_condition_gets_its_config_heating_and_controls(
    bundle: StudyBundle, bundle_path: Path
) -> None:
    clock, rng = VirtualClock(0.0), np.random.default_rng(5)
    for participant in ("P001", "P002"):
        bundle.record_consent(participant, agreed=True)
        bundle.record_answers(participant, "pre", {"age": "35+", "hours": 4})
    by_condition = {bundle.enrol(p).condition: p for p in ("P001", "P002")}
    heated, control = by_condition["heated"], by_condition["control"]
    assert bundle.enrol(heated).boost_disclosed is False
    assert bundle.enrol(control).boost_disclosed is None
    with bundle.open_feed(heated, clock=clock) as feed:
        assert feed.engine.config.rerank.slate == 12
        with pytest.raises(StudyError, match="does not offer the 'not_interested' control"):
            feed.record(feed.next().video.id, "not_interested", scope="topic")
        feed.set_controls(topic_sliders={"cooking": 2.0})  # offered here
    with bundle.open_feed(control, clock=clock) as feed:
        assert feed.engine.config.reactions.like == 2.0
        with pytest.raises(StudyError, match="does not offer the 'topic_sliders' control"):
            feed.set_controls(topic_sliders={"cooking": 2.0})
        rec = feed.next()
        feed.record(rec.video.id, "not_interested", scope="video")  # offered here
    watch(bundle, heated, clock, rng)
    watch(bundle, control, clock, rng)
    receipts = rows(
        bundle_path,
        "SELECT s.condition, json_extract(i.receipt, '$.boost.by') FROM impressions i "
        "JOIN sessions s ON s.id = i.session_id",
    )
    boosted = {(condition, by) for condition, by in receipts if by is not None}
    assert boosted == {("heated", "study")}  # heated videos show up, named, only there
    assert rows(bundle_path, "SELECT count(*) FROM boosts") == [(0,)]  # never shared


def test_a_session_length_in_minutes_counts_world_time_across_runs(
    world_path: Path, tmp_path: Path
) -> None:
    path = make_bundle(world_path, tmp_path, STUDY.replace("videos = 8\n", "minutes = 1.5\n"))
    clock = VirtualClock(0.0)
    with open_bundle(path) as bundle:
        bundle.record_consent("P001", agreed=True)
        bundle.record_answers("P001", "pre", {"age": "35+", "hours": 4})
        with bundle.open_feed("P001", clock=clock) as feed:
            assert feed.remaining().videos is None
            clock.advance(50.0)
            assert feed.remaining().seconds == pytest.approx(40.0)
        with bundle.open_feed("P001", clock=clock) as feed:
            assert feed.remaining().seconds == pytest.approx(40.0)  # the 50 s still count
            clock.advance(45.0)
            assert feed.over()
        assert bundle.enrol("P001").next_step == "post"


def _watch_whole_feed(bundle: StudyBundle, loved: str | None) -> None:
    """P001 consents, answers, and watches the feed to its end from a Pets onboarding:
    finishing and then liking every video of ``loved`` (every video if None), skipping the
    rest at once."""
    clock = VirtualClock(0.0)
    bundle.record_consent("P001", agreed=True)
    bundle.record_answers("P001", "pre", {"age": "35+", "hours": 4})
    with bundle.open_feed("P001", interests=["pets"], clock=clock) as feed:
        while not feed.over():
            rec = feed.next()
            feed.seen(rec.video.id)
            if loved is None or rec.video.topic == loved:
                feed.record(rec.video.id, "complete", watched_s=rec.video.duration_s)
                feed.record(rec.video.id, "like")
            else:
                feed.record(rec.video.id, "skip", watched_s=0.5)
            clock.advance(10.0)


def test_the_debrief_shows_the_interest_trajectory(bundle: StudyBundle) -> None:
    _watch_whole_feed(bundle, loved="cooking")
    debrief = bundle.debrief("P001")
    assert debrief.interests == ["pets"]
    assert len(debrief.points) == 8
    assert all(len(values) == 8 for values in debrief.trajectory.values())
    liked = [p for p in debrief.points if p.topic == "cooking"]
    assert all(p.completed and p.reactions == ("like",) for p in liked)
    assert sum(debrief.watched_share.values()) == pytest.approx(1.0)
    assert sum(debrief.sources.values()) == 8
    # The trajectory ends where the engine's profile ends.
    for topic, values in debrief.trajectory.items():
        assert values[-1] == pytest.approx(debrief.assumed.topic_affinity[topic])
    if liked:
        assert debrief.trajectory["cooking"][-1] > 0


def test_the_trajectory_ends_with_a_like_given_after_the_last_video_closed(
    bundle: StudyBundle,
) -> None:
    """A like after the close (the video looped) belongs to that video's point: the last
    point said Pets +0.13 while "what the engine assumed" said Pets 0.24."""
    _watch_whole_feed(bundle, loved=None)
    debrief = bundle.debrief("P001")
    last = debrief.points[-1]
    assert last.reactions == ("like",)
    values = debrief.trajectory[last.topic]
    assert values[-1] == pytest.approx(debrief.assumed.topic_affinity[last.topic])


def test_completion_codes_can_be_per_participant(world_path: Path, tmp_path: Path) -> None:
    per_participant = 'completion_code = {{ prefix = "FY-" }}'
    text = STUDY.replace('completion_code = "FYP-7Q2"', per_participant)
    clock = VirtualClock(0.0)
    with open_bundle(make_bundle(world_path, tmp_path, text)) as bundle:
        codes = [complete(bundle, p, clock, seed=i) for i, p in enumerate(("P001", "P002"))]
        assert bundle.completion_code("P001") == codes[0]
    assert all(c.startswith("FY-") and len(c) == 11 for c in codes)
    assert codes[0] != codes[1]


def test_a_bundle_from_before_after_feed_reads_its_ended_feeds_as_after_feed(
    bundle: StudyBundle, bundle_path: Path
) -> None:
    """An older foryou left participants whose feed was over as in_feed: opening the bundle
    corrects them, and their post-questionnaire still opens."""
    bundle.record_consent("P010", agreed=True)
    bundle.record_answers("P010", "pre", {"age": "25-34", "hours": 3})
    watch(bundle, "P010", VirtualClock(0.0), np.random.default_rng(1))
    assert bundle.enrol("P010").status == "after_feed"
    bundle.close()
    conn = sqlite3.connect(bundle_path)
    with conn:
        conn.execute("UPDATE participants SET status = 'in_feed'")
        conn.execute("DELETE FROM _sqlite_migrations WHERE name = 'm009_after_feed_status'")
        conn.execute("PRAGMA user_version = 8")
    conn.close()
    with open_bundle(bundle_path) as older:
        assert older.enrol("P010").status == "after_feed"
        assert older.enrol("P010").next_step == "post"
        older.record_answers("P010", "post", {"enjoy": 4})
        assert older.finish("P010") == "FYP-7Q2"


def test_study_status_command(bundle: StudyBundle, bundle_path: Path) -> None:
    clock = VirtualClock(0.0)
    complete(bundle, "P001", clock)
    bundle.record_consent("P002", agreed=False)
    # P003 and P004 fill the next block: one at the post-questionnaire, one mid-feed.
    for participant, videos in (("P003", None), ("P004", 2)):
        bundle.record_consent(participant, agreed=True)
        bundle.record_answers(participant, "pre", {"age": "25-34", "hours": 3})
        watch(bundle, participant, clock, np.random.default_rng(3), videos=videos)
    status = bundle.status()
    assert sum(c.in_feed for c in status.conditions) == 1
    assert sum(c.after_feed for c in status.conditions) == 1
    # The export's status column says the same as `study status`.
    statuses = dict(rows(bundle_path, "SELECT participant, status FROM participants"))
    assert statuses == {
        "P001": "completed",
        "P002": "declined",
        "P003": "after_feed",
        "P004": "in_feed",
    }
    result = CliRunner().invoke(main, ["study", "status", "--db", str(bundle_path)])
    assert result.exit_code == 0, result.output
    assert "heating-pilot" in result.output
    assert "control" in result.output and "heated" in result.output
    assert "declined consent: 1; completed: 1" in result.output


def test_a_world_without_a_study_is_not_a_bundle(world_path: Path) -> None:
    with pytest.raises(StudyError, match="holds no study"):
        open_bundle(world_path)


def test_the_readme_study_example_runs(bundle_path: Path) -> None:
    readme = Path(__file__).resolve().parents[1] / "README.md"
    blocks = re.findall(r"```python\n(.*?)```", readme.read_text(), flags=re.S)
    example = next(b for b in blocks if "open_bundle" in b)
    code = example.replace('"study.db"', repr(str(bundle_path))).replace(
        '{"age": "25-34"}', '{"age": "25-34", "hours": 2}'
    )
    exec(compile(code, "README.md", "exec"), {})
    with open_bundle(bundle_path) as bundle:
        assert bundle.enrol("P017").status == "completed"


def test_a_participant_runs_in_one_terminal_at_a_time(
    bundle: StudyBundle, bundle_path: Path
) -> None:
    """A second terminal with the same id is refused, until the first one's process is gone."""
    bundle.record_consent("P020", agreed=True)
    bundle.record_answers("P020", "pre", {"age": "18-24", "hours": 1})
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from engine.study import open_bundle; "
            f"b = open_bundle({str(bundle_path)!r}); b.claim('P020'); print('held', flush=True); "
            "time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(StudyError, match="P020 is running in another terminal"):
            bundle.open_feed("P020", interests=["cooking"], clock=VirtualClock(0.0))
        bundle.claim("P021")  # other participants are not held up
    finally:
        holder.kill()
        holder.wait()
    with bundle.open_feed("P020", interests=["cooking"], clock=VirtualClock(0.0)) as feed:
        assert feed.remaining().videos == 8


def test_a_run_whose_process_died_counts_on_resume(bundle_path: Path) -> None:
    """The terminal closed mid-video: the run stayed open with the video on screen. The next
    run closes it where its activity ended, so neither the video nor its time is given back."""
    clock = VirtualClock(0.0)
    first = open_bundle(bundle_path)
    first.record_consent("P030", agreed=True)
    first.record_answers("P030", "pre", {"age": "18-24", "hours": 1})
    feed = first.open_feed("P030", interests=["cooking"], clock=clock)
    for _ in range(2):
        rec = feed.next()
        feed.seen(rec.video.id)
        clock.advance(5.0)
        feed.record(rec.video.id, "skip", watched_s=5.0)
    on_screen = feed.next()
    feed.seen(on_screen.video.id)
    clock.advance(7.0)
    feed.engine.store.close()  # the process dies: nothing more is written
    first.close()
    with open_bundle(bundle_path) as again, again.open_feed("P030", clock=clock) as resumed:
        assert resumed.videos_seen() == 3  # the one on screen counts
        assert resumed.remaining().videos == 5
        assert resumed.elapsed_s() >= 10.0  # the dead run's time counts
    runs = rows(bundle_path, "SELECT closed_at IS NOT NULL FROM feed_runs ORDER BY id")
    assert runs == [(1,), (1,)]
    assert rows(bundle_path, "SELECT count(*) FROM sessions WHERE ended_at IS NULL") == [(0,)]


def test_a_crashed_run_counts_to_its_last_sign_of_life_and_is_marked_crashed(
    bundle_path: Path, tmp_path: Path
) -> None:
    """Killed while watching, with no reaction since the video appeared: the run's time up to
    its last note that it was running is used, not given back, and the export says it crashed."""
    clock = VirtualClock(0.0)
    first = open_bundle(bundle_path)
    first.record_consent("P032", agreed=True)
    first.record_answers("P032", "pre", {"age": "18-24", "hours": 1})
    feed = first.open_feed("P032", interests=["cooking"], clock=clock)
    rec = feed.next()
    feed.seen(rec.video.id)
    clock.advance(5.0)
    feed.record(rec.video.id, "skip", watched_s=5.0)
    on_screen = feed.next()
    feed.seen(on_screen.video.id)  # the last activity: at world second 5
    clock.advance(7.0)
    feed.keep_alive()  # the screen's last note, watching it at world second 12
    clock.advance(0.5)
    feed.engine.store.close()  # killed: nothing more is written, the run stays open
    first.close()
    assert rows(bundle_path, "SELECT closed_at, crashed FROM feed_runs") == [(None, None)]
    with open_bundle(bundle_path) as again, again.open_feed("P032", clock=clock) as resumed:
        assert resumed.elapsed_s() == pytest.approx(12.0)  # the 7 s on screen are used
    runs = rows(
        bundle_path,
        "SELECT crashed, closed_world_t - opened_world_t, closed_at >= alive_at "
        "FROM feed_runs ORDER BY id",
    )
    assert runs[0] == (1, pytest.approx(12.0), 1)
    assert runs[1][0] == 0  # closed by itself
    sessions = rows(
        bundle_path,
        "SELECT s.ended_at = r.closed_at FROM feed_runs r "
        "JOIN sessions s ON s.id = r.session_id ORDER BY r.id",
    )
    assert sessions[0] == (1,)
    out = tmp_path / "export"
    export_tables(bundle_path, out, "csv")
    with (out / "feed_runs.csv").open() as table:
        exported = list(csv.DictReader(table))
    assert [run["crashed"] for run in exported] == ["1", "0"]
    assert "crashed" in (out / "codebook.md").read_text()


def test_the_debrief_s_figures_carry_no_float_noise(bundle: StudyBundle) -> None:
    clock = VirtualClock(0.0)
    bundle.record_consent("P001", agreed=True)
    bundle.record_answers("P001", "pre", {"age": "35+", "hours": 4})
    with bundle.open_feed("P001", clock=clock) as feed:
        while not feed.over():
            rec = feed.next()
            feed.seen(rec.video.id)
            feed.record(rec.video.id, "complete", watched_s=rec.video.duration_s)
            clock.advance(rec.video.duration_s)
    debrief = bundle.debrief("P001")
    # Seconds a participant reads, not float32 noise (142.60000610351562 for 142.6 s).
    assert all(repr(p.watched_s) == repr(round(p.watched_s, 2)) for p in debrief.points)
    assert all(share == round(share, 4) for share in debrief.watched_share.values())


def test_the_debrief_counts_the_video_a_dead_run_left_on_screen(bundle_path: Path) -> None:
    """Its process died with a video on screen: that video counts as seen, so the debrief's
    "you watched" and its sources count it too (it once said watched 5, seen 6)."""
    clock = VirtualClock(0.0)
    first = open_bundle(bundle_path)
    first.record_consent("P031", agreed=True)
    first.record_answers("P031", "pre", {"age": "18-24", "hours": 1})
    feed = first.open_feed("P031", interests=["cooking"], clock=clock)
    for _ in range(2):
        rec = feed.next()
        feed.seen(rec.video.id)
        clock.advance(5.0)
        feed.record(rec.video.id, "skip", watched_s=5.0)
    on_screen = feed.next()
    feed.seen(on_screen.video.id)
    feed.record(on_screen.video.id, "like")
    feed.engine.store.close()  # the process dies: nothing more is written,
    feed.engine._claims.release()  # and the system drops its locks
    first.close()
    with open_bundle(bundle_path) as bundle:
        watch(bundle, "P031", clock, np.random.default_rng(4), prefetch=True)
        bundle.record_answers("P031", "post", {"enjoy": 5})
        debrief = bundle.debrief("P031")
    assert len(debrief.points) == sum(debrief.sources.values()) == 8
    assert len(debrief.points) == len(next(iter(debrief.trajectory.values())))
    dead = debrief.points[2]
    assert dead.video_id == on_screen.video.id
    assert not dead.completed and dead.reactions == ("like",)
    assert sum(debrief.watched_share.values()) == pytest.approx(1.0)
