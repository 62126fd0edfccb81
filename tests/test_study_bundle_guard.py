"""A study bundle is written and shown only through `foryou study`: the commands for plain
worlds refuse it before writing anything, the read-only ones keep working on it, and its
conditions' feeds apply no operator boost from the file."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from engine import Engine, VirtualClock
from engine.replay import replay_session
from engine.study import open_bundle
from tests.studykit import complete, heatable_videos, make_bundle, watch
from tests.tuikit import rows
from tui.cli import main

# What a refused command must leave as it was.
COUNTS = (
    "SELECT (SELECT count(*) FROM users) AS users, (SELECT count(*) FROM sessions) AS sessions, "
    "(SELECT count(*) FROM impressions) AS impressions, (SELECT count(*) FROM events) AS events, "
    "(SELECT count(*) FROM boosts) AS boosts, (SELECT count(*) FROM participants) AS people"
)


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def bundle(world_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A bundle with one completed participant (P001); tests here must not write to it."""
    folder = tmp_path_factory.mktemp("bundle")
    path = make_bundle(Path(shutil.copy(world_template, folder / "stA.db")), folder)
    with open_bundle(path) as study:
        complete(study, "P001", VirtualClock(0.0))
    return path


@pytest.mark.parametrize(
    ("args", "instead"),
    [
        ((), "foryou study run"),  # `foryou --db stA.db`: the viewer picker
        (("feed",), "foryou study run"),
        (("feed", "--user", "P001"), "foryou study run"),
        (("feed", "--autopilot"), "foryou study run"),
        (("tour",), "foryou study run"),
        (("recommend", "--user", "P001"), "--dry-run"),
        (("recommend", "--user", "stranger", "--create"), "--dry-run"),
        (("recommend", "--user", "stranger", "--create", "--dry-run"), "--dry-run"),
        (("boost", "2500", "--weight", "100000", "--until", "24h", "--reason", "ops"), "boost ="),
        (("simulate", "--users", "2", "--sessions", "1", "--seed", "0"), "--no-log"),
        (("compare", "engine", "random", "--users", "2", "--seeds", "1", "--log"), "--log"),
    ],
)
def test_commands_for_plain_worlds_refuse_a_bundle(
    bundle: Path, args: tuple[str, ...], instead: str
) -> None:
    before = rows(bundle, COUNTS)
    code, out = run("--db", str(bundle), *args)
    assert code == 1, out
    assert out.startswith(f"Error: {bundle} is the bundle of study 'heating-pilot': "), out
    assert out.count("\n") == 1  # one line
    assert instead in out and "foryou seed --videos 3000 --seed 7" in out
    assert rows(bundle, COUNTS) == before


@pytest.mark.parametrize(
    "args",
    [
        ("info",),
        ("metadata",),
        ("export", "--out", "exported"),
        ("explain", "1"),
        ("replay", "1"),
        ("recommend", "--user", "P001", "-n", "1", "--dry-run"),
    ],
)
def test_read_only_commands_still_work_on_a_bundle(bundle: Path, args: tuple[str, ...]) -> None:
    before = rows(bundle, COUNTS)
    code, out = run("--db", str(bundle), *args)
    assert code == 0, out
    assert rows(bundle, COUNTS) == before


def test_a_plain_world_is_not_refused(world_path: Path) -> None:
    code, out = run("--db", str(world_path), "recommend", "--user", "ann", "--create", "-n", "1")
    assert code == 0, out


def test_study_feeds_apply_no_operator_boost(world_path: Path, tmp_path: Path) -> None:
    path = make_bundle(world_path, tmp_path)
    ops = heatable_videos(world_path, 7)[-1]  # not one the study heats (the first six)
    # An operator boost written through the API (the CLI refuses bundles): strong enough that
    # any engine applying it serves that video first.
    with Engine.open(path) as engine:
        engine.boost(ops, weight=1e6, starts=-1e9, until=1e9, reason="ops")
    with Engine.open(path, log=False, clock=VirtualClock(0.0)) as plain:
        viewer = plain.new_user(["cooking"])
        picks = [plain.next(viewer) for _ in range(4)]  # past the cold start's exploration
        assert (ops, "boosted") in {(r.video.id, r.receipt.source) for r in picks}
    clock, rng = VirtualClock(0.0), np.random.default_rng(3)
    with open_bundle(path) as study:
        for participant in ("P001", "P002"):  # one in each condition
            study.record_consent(participant, agreed=True)
            study.record_answers(participant, "pre", {"age": "35+", "hours": 2})
            watch(study, participant, clock, rng)
        assert {study.enrol(p).condition for p in ("P001", "P002")} == {"control", "heated"}
    served = rows(
        path, "SELECT video_id, json_extract(receipt, '$.boost.by') AS by FROM impressions"
    )
    assert ops not in {r["video_id"] for r in served}
    assert {r["by"] for r in served} <= {None, "study"}  # the heated condition's own only
    for session in rows(path, "SELECT id FROM sessions"):
        replayed = replay_session(path, session["id"])  # exact: replay ignores it too
        assert replayed.matches == len(replayed.picks) > 0
