"""Results say which ranker made them: a session's config row, `metrics.json`, and `replay`."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine import Engine, VirtualClock
from engine.config import Config, effective_toml
from engine.policy import PolicySpec
from tests.test_policy_contract import readme_class, readme_ranker
from tui.cli import main


def config_rows(world: Path) -> list[dict[str, object]]:
    with sqlite3.connect(world) as conn:
        rows = conn.execute(
            "SELECT s.id, c.toml FROM sessions s JOIN configs c ON c.id = s.config_id ORDER BY s.id"
        ).fetchall()
    return [{"session": s, **tomllib.loads(toml)} for s, toml in rows]


def watch(world: Path, policy: object, name: str, picks: int = 4) -> None:
    """A viewer watches a few picks of ``policy`` (logged)."""
    with Engine.open(world, clock=VirtualClock(0.0), policy=policy) as engine:
        uid = engine.new_user(["cooking"], name=name)
        for k in range(picks):
            video = engine.next(uid).video.id
            engine.record(uid, video, "complete" if k % 2 else "skip", watched_s=3.0)
            engine.clock.advance(10.0)  # type: ignore[attr-defined]


@pytest.fixture
def ranker(tmp_path: Path) -> PolicySpec:
    """The README's ranker in a file, with a parameter."""
    path = readme_ranker(tmp_path)
    return PolicySpec.parse(f"{path}:{readme_class(path)}", {"prior_wins": 2.0})


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def test_a_custom_ranker_session_records_file_class_params_and_hash(
    world_path: Path, ranker: PolicySpec
) -> None:
    watch(world_path, None, "plain")
    watch(world_path, ranker, "custom")
    plain, custom = config_rows(world_path)
    assert "picked_by" not in plain
    file = ranker.target.rpartition(":")[0]
    assert custom["policy"] == "engine"  # the config's own key, as given
    assert custom["picked_by"] == {
        "policy": ranker.target,
        "params": {"prior_wins": 2.0},
        "sha256": hashlib.sha256(Path(file).read_bytes()).hexdigest(),
    }
    with sqlite3.connect(world_path) as conn:
        (toml,) = conn.execute(
            "SELECT toml FROM configs WHERE toml NOT LIKE '%picked_by%'"
        ).fetchone()
    assert toml == effective_toml(Config())  # a plain session's row is as it always was


def test_replay_names_the_ranker_and_relives_it_when_given(
    world_path: Path, ranker: PolicySpec, tmp_path: Path
) -> None:
    watch(world_path, ranker, "custom")
    code, output = run("replay", "1", "--db", str(world_path))
    assert code == 1
    line = output.strip()
    assert "\n" not in line
    assert f"picked by policy TopicBandit from {ranker.target.rpartition(':')[0]}" in line
    assert "{'prior_wins': 2.0}" in line
    assert f"--policy {ranker.target}" in line
    # Given, it re-lives the feed with the recorded parameters: every pick the same.
    code, output = run("replay", "1", "--db", str(world_path), "--policy", ranker.target)
    assert code == 0, output
    assert "All 4 picks reproduced exactly." in output
    assert "would pick" not in output  # no comparison with itself
    # The same file elsewhere is the same ranker; another file with that class is not.
    moved = tmp_path / "moved" / "bandit.py"
    moved.parent.mkdir()
    shutil.copy(ranker.target.rpartition(":")[0], moved)
    code, output = run("replay", "1", "--db", str(world_path), "--policy", f"{moved}:TopicBandit")
    assert code == 0, output
    moved.write_text(moved.read_text() + "# edited\n")
    code, output = run("replay", "1", "--db", str(world_path), "--policy", f"{moved}:TopicBandit")
    assert code == 1 and "was picked by policy TopicBandit" in output


def test_a_built_in_with_parameters_is_relived_from_the_record(
    world_path: Path, tmp_path: Path
) -> None:
    """`--policy engine --policy-params` with `learn = false`: the hand-set formula picked,
    and replay re-lives it with that formula, not the config's learning engine."""
    watch(world_path, PolicySpec("engine", {"learn": False}), "reference", picks=6)
    assert config_rows(world_path)[0]["picked_by"] == {
        "policy": "engine",
        "params": {"learn": False},
    }
    code, output = run("replay", "1", "--db", str(world_path))
    assert code == 0, output
    assert "picked by engine" in output
    assert "All 6 picks reproduced exactly." in output


def test_metrics_json_names_each_arm_policy(
    world_path: Path, ranker: PolicySpec, tmp_path: Path
) -> None:
    params = tmp_path / "bandit.toml"
    params.write_text("prior_wins = 2.0\n")
    code, output = run(
        "compare", "engine", ranker.target, "--policy-params", str(params), "--db",
        str(world_path), "--users", "4", "--seeds", "1", "--sessions", "1", "--jobs", "1",
        "--no-baselines", "--resamples", "99", "--out", str(tmp_path / "out"),
    )  # fmt: skip
    assert code == 0, output
    arms = json.loads((tmp_path / "out" / "metrics.json").read_text())["arms"]
    assert arms["engine"]["policy"] == {"policy": "engine"}
    assert "picked_by" not in arms["engine"]["config"]["toml"]
    custom = arms["TopicBandit"]
    assert custom["policy"]["policy"] == ranker.target
    assert custom["policy"]["params"] == {"prior_wins": 2.0}
    recorded = tomllib.loads(custom["config"]["toml"])["picked_by"]
    assert recorded == custom["policy"]
    assert (
        custom["config"]["sha256"] == hashlib.sha256(custom["config"]["toml"].encode()).hexdigest()
    )


def test_replay_says_what_differs_when_policy_is_not_the_recorded_ranker(
    world_path: Path, ranker: PolicySpec, tmp_path: Path
) -> None:
    watch(world_path, ranker, "custom")
    file = ranker.target.rpartition(":")[0]
    recorded_sha = hashlib.sha256(Path(file).read_bytes()).hexdigest()

    def refused(*policy: str) -> str:
        code, output = run("replay", "1", "--db", str(world_path), "--policy", *policy)
        assert code == 1
        assert output.count("\n") == 1  # one line
        assert f"replay it with --policy {ranker.target}" in output or "leave out" in output
        return output

    other = tmp_path / "other.py"
    other.write_text(Path(file).read_text().replace("class TopicBandit", "class Bandit2"))
    said = refused(f"{other}:Bandit2")
    assert f"not by --policy's Bandit2 from {other} (another class)" in said
    edited = tmp_path / "copy" / "bandit.py"
    edited.parent.mkdir()
    edited.write_text(Path(file).read_text() + "# edited\n")
    said = refused(f"{edited}:TopicBandit")
    assert f"SHA-256 {recorded_sha[:12]}…, and --policy's {edited} has SHA-256" in said
    assert "(other code)" in said
    params = tmp_path / "p2.toml"
    params.write_text("prior_wins = 5.0\n")
    said = refused(ranker.target, "--policy-params", str(params))
    assert "with parameters {'prior_wins': 2.0}, not --policy-params' {'prior_wins': 5.0}" in said


def test_replay_policy_puts_another_policy_picks_next_to_an_engine_session(
    world_path: Path, ranker: PolicySpec
) -> None:
    """The README's `foryou replay 3 --policy topic_bandit.py:TopicBandit`: for a session the
    engine picked, --policy decides each step too, side by side."""
    watch(world_path, None, "plain")
    args = ["replay", "1", "--db", str(world_path), "--policy", ranker.target]
    result = CliRunner().invoke(main, args, env={"COLUMNS": "200"})
    output = result.output
    assert result.exit_code == 0, output
    assert "TopicBandit would pick" in output
    assert "All 4 picks reproduced exactly." in output
