"""Off-policy evaluation: estimators on logs with a known answer, then on the engine's logs."""

from __future__ import annotations

import math
import re
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from engine import Engine, VirtualClock, parse_config
from engine.config import Config, load_config
from engine.counterfactual import estimate_from_logs
from engine.offpolicy import Bandit, effective_sample_size, estimate
from engine.sim.baselines import resolve_arm
from tui.cli import main

TRUE_RATE = np.array([0.3, 0.7])  # expected reward of arm 0 and arm 1
LOGGING = np.array([0.2, 0.8])  # the logging policy prefers arm 1
TARGET = np.array([0.9, 0.1])  # the target policy prefers arm 0
TARGET_VALUE = float(TARGET @ TRUE_RATE)  # 0.34, what the estimates must recover


def two_armed(
    n: int, rng: np.random.Generator, *, per_session: int = 1, model: np.ndarray | None = None
) -> Bandit:
    """Logs of a two-armed bandit played by LOGGING, to be evaluated for TARGET."""
    arm = rng.choice(2, size=n, p=LOGGING)
    reward = (rng.random(n) < TRUE_RATE[arm]).astype(float)
    rates = TRUE_RATE if model is None else model
    return Bandit(
        reward=reward,
        logging=LOGGING[arm],
        target=TARGET[arm],
        cluster=np.arange(n, dtype=np.int64) // per_session,
        model_logged=rates[arm],
        model_target=np.full(n, float(TARGET @ rates)),
    )


def test_evaluating_the_logging_policy_gives_its_own_mean_exactly() -> None:
    rng = np.random.default_rng(0)
    reward = rng.random(500)
    propensity = rng.uniform(0.05, 1.0, 500)
    data = Bandit(
        reward=reward,
        logging=propensity,
        target=propensity,
        cluster=np.arange(500, dtype=np.int64) // 10,
    )
    result = estimate(data)
    assert result.ips.value == pytest.approx(reward.mean(), abs=1e-12)
    assert result.snips.value == pytest.approx(reward.mean(), abs=1e-12)
    assert result.logged.value == pytest.approx(reward.mean(), abs=1e-12)
    assert result.effective_sample_size == pytest.approx(500)
    assert result.unsupported == 0.0 and result.dr is None
    assert result.ips.low < result.ips.value < result.ips.high


def test_a_two_armed_bandit_is_estimated_within_its_intervals() -> None:
    result = estimate(two_armed(20_000, np.random.default_rng(1)))
    assert result.logged.value == pytest.approx(float(LOGGING @ TRUE_RATE), abs=0.02)  # 0.62
    assert result.dr is not None
    for est in (result.ips, result.snips, result.dr):
        assert est.value == pytest.approx(TARGET_VALUE, abs=0.02), est
        assert est.low <= TARGET_VALUE <= est.high, est
    # Weights 4.5 and 0.125: the estimate is worth far fewer on-policy impressions.
    weights = TARGET / LOGGING
    expected_ess = 20_000 * float(LOGGING @ weights) ** 2 / float(LOGGING @ weights**2)
    assert result.effective_sample_size == pytest.approx(expected_ess, rel=0.05)
    # With the true reward model, doubly robust is tighter than plain IPS.
    assert result.dr.std_error < result.ips.std_error


def test_intervals_cover_the_truth_about_95_percent_of_the_time() -> None:
    rng = np.random.default_rng(2)
    runs = [estimate(two_armed(400, rng)) for _ in range(300)]
    for method in ("ips", "snips"):
        covered = np.mean(
            [getattr(r, method).low <= TARGET_VALUE <= getattr(r, method).high for r in runs]
        )
        assert 0.90 <= covered <= 0.99, (method, covered)


def test_doubly_robust_survives_a_wrong_reward_model() -> None:
    wrong = np.array([0.9, 0.1])  # the opposite of the truth
    result = estimate(two_armed(20_000, np.random.default_rng(3), model=wrong))
    assert result.dr is not None
    assert result.dr.value == pytest.approx(TARGET_VALUE, abs=0.03)
    assert result.dr.low <= TARGET_VALUE <= result.dr.high


def test_intervals_widen_when_a_session_s_impressions_move_together() -> None:
    rng = np.random.default_rng(4)
    sessions, per = 200, 20
    mood = np.repeat(rng.normal(0.0, 0.3, sessions), per)  # one viewer's mood, whole session
    reward = np.clip(0.5 + mood + rng.normal(0.0, 0.1, sessions * per), 0.0, 1.0)
    ones = np.ones(sessions * per)
    clustered = estimate(
        Bandit(reward, ones, ones, np.repeat(np.arange(sessions, dtype=np.int64), per))
    )
    naive = estimate(Bandit(reward, ones, ones, np.arange(sessions * per, dtype=np.int64)))
    assert clustered.ips.std_error > 2 * naive.ips.std_error


def test_support_and_effective_sample_size() -> None:
    assert effective_sample_size(np.array([1.0, 1.0, 0.0, 0.0])) == pytest.approx(2.0)
    assert effective_sample_size(np.array([4.0, 0.0, 0.0, 0.0])) == pytest.approx(1.0)
    never = Bandit(
        reward=np.ones(4),
        logging=np.full(4, 0.5),
        target=np.zeros(4),
        cluster=np.arange(4, dtype=np.int64),
    )
    result = estimate(never)
    assert result.unsupported == 1.0 and result.effective_sample_size == 0.0
    assert result.ips.value == 0.0 and math.isnan(result.snips.value)
    with pytest.raises(ValueError, match="positive"):
        estimate(Bandit(np.ones(2), np.zeros(2), np.ones(2), np.arange(2, dtype=np.int64)))
    with pytest.raises(ValueError, match="no logged impressions"):
        estimate(Bandit(np.ones(0), np.ones(0), np.ones(0), np.zeros(0, dtype=np.int64)))


# -- on the engine's own logs ------------------------------------------------------------------


@pytest.fixture(scope="module")
def logs(world_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Twelve viewers sharing one engine under the default config, taking turns the way a
    simulation's personas do, each leaving a prefetched video unwatched at the end."""
    path = tmp_path_factory.mktemp("offpolicy") / "logs.db"
    path.write_bytes(world_template.read_bytes())
    rng = np.random.default_rng(21)
    clock = VirtualClock(0.0)
    with Engine.open(path, clock=clock) as eng:
        topics = eng.topics()
        viewers = [eng.new_user([topics[v % 7]], name=f"viewer-{v}") for v in range(12)]
        for _ in range(15):
            for uid in viewers:
                rec = eng.next(uid)
                duration = rec.video.duration_s
                seconds = duration if rng.random() < 0.35 else float(rng.uniform(0.5, duration))
                kind = "complete" if seconds >= duration else "skip"
                eng.record(uid, rec.video.id, kind, watched_s=seconds)
                if rng.random() < 0.25:
                    eng.record(uid, rec.video.id, "like")
                clock.advance(seconds / 4)
        for uid in viewers:
            eng.next(uid)  # prefetched, never watched: no outcome
    return path


def test_the_logging_config_evaluated_on_its_logs_gives_the_logged_means(logs: Path) -> None:
    result = estimate_from_logs(logs, Config())
    assert result.impressions == 12 * 15 and result.left_out == 12
    for outcome, est in result.outcomes.items():
        assert est.sessions == 12
        assert est.unsupported == 0.0
        assert est.effective_sample_size == pytest.approx(180), outcome
        assert est.ips.value == pytest.approx(est.logged.value, abs=1e-9), outcome
        assert est.snips.value == pytest.approx(est.logged.value, abs=1e-9), outcome
    assert 0 < result.outcomes["watch_fraction"].logged.value <= 1


def test_another_config_is_weighed_against_the_logged_propensities(logs: Path) -> None:
    sharper = parse_config('name = "sharper"\n[pick]\ntemperature = 0.05\n')
    result = estimate_from_logs(logs, sharper, sessions=[1, 2, 3, 4, 5, 6])
    completion = result.outcomes["completion"]
    assert completion.sessions == 6 and result.impressions == 6 * 15
    assert 0 < completion.effective_sample_size < 90  # a different policy: fewer effective
    assert completion.dr is not None
    for est in (completion.ips, completion.snips, completion.dr):
        assert est.low <= est.value <= est.high and not math.isnan(est.std_error)


def test_evaluate_command(logs: Path, tmp_path: Path) -> None:
    config = tmp_path / "b.toml"
    config.write_text('name = "b"\n[pick]\ntemperature = 0.3\n')
    result = CliRunner().invoke(
        main, ["evaluate", "--db", str(logs), "--config", str(config), "--session", "1"]
    )
    assert result.exit_code == 0, result.output
    for word in ("completion", "watch_fra", "like", "IPS", "SNIPS", "DR", "ESS"):
        assert word in result.output
    assert "15 watched impressions in 1 sessions" in result.output
    bad = CliRunner().invoke(main, ["evaluate", "--db", str(logs), "--config", str(tmp_path)])
    assert bad.exit_code != 0


def test_a_known_engine_opening_makes_one_after_another_sessions_exact(
    world_path: Path,
) -> None:
    rng = np.random.default_rng(5)
    clock = VirtualClock(0.0)
    with Engine.open(world_path, clock=clock) as eng:  # one engine, sessions one at a time
        for viewer in range(4):
            uid = eng.new_user([], name=f"solo-{viewer}")
            for _ in range(12):
                rec = eng.next(uid)
                seconds = float(rng.uniform(0.5, rec.video.duration_s))
                eng.record(uid, rec.video.id, "skip", watched_s=seconds)
                clock.advance(seconds)
            eng.end_session(uid)
            clock.advance(900.0)
    result = estimate_from_logs(world_path, Config(), opened_at=0.0)
    watched = result.outcomes["watch_fraction"]
    assert watched.effective_sample_size == pytest.approx(48)  # every weight exactly 1
    assert watched.ips.value == pytest.approx(watched.logged.value, abs=1e-9)


@pytest.fixture(scope="module")
def sharded_logs(world_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A logged simulation of three shards (engines learning side by side from one start)."""
    from engine.sim.experiment import RunSpec, run_experiment
    from engine.sim.runner import Arm

    path = tmp_path_factory.mktemp("sharded") / "logs.db"
    path.write_bytes(world_template.read_bytes())
    spec = RunSpec(db_path=path, users=9, sessions=2, seed=3, log=True, shard_size=3)
    run_experiment(spec, [Arm("engine", Config())])
    return path


def test_a_multi_shard_simulation_s_own_config_re_decides_every_pick(sharded_logs: Path) -> None:
    result = estimate_from_logs(sharded_logs, Config())
    for outcome, est in result.outcomes.items():
        assert est.sessions == 18
        assert est.mean_weight == pytest.approx(1.0), outcome  # every re-decision matched
        assert est.effective_sample_size == pytest.approx(result.impressions), outcome
        assert est.snips.value == pytest.approx(est.logged.value, abs=1e-9), outcome
    assert result.unsharded == 0
    printed = CliRunner().invoke(
        main, ["evaluate", "--db", str(sharded_logs), "--policy", "engine"], env={"COLUMNS": "100"}
    )
    assert printed.exit_code == 0, printed.output
    assert "Warning" not in printed.output and "may differ" not in printed.output


def test_an_old_simulation_without_shards_is_warned_about_in_one_line(
    sharded_logs: Path, tmp_path: Path
) -> None:
    old = tmp_path / "old.db"
    old.write_bytes(sharded_logs.read_bytes())
    with sqlite3.connect(old) as db:  # the names simulate gave viewers before recording shards
        for user_id, name in db.execute("SELECT id, name FROM users").fetchall():
            db.execute(
                "UPDATE users SET name = ? WHERE id = ?", (re.sub(r"-s\d+-", "-", name), user_id)
            )
    printed = CliRunner().invoke(
        main, ["evaluate", "--db", str(old), "--policy", "engine"], env={"COLUMNS": "400"}
    )
    assert printed.exit_code == 0, printed.output
    warning = [line for line in printed.output.splitlines() if "older than this foryou" in line]
    assert len(warning) == 1 and warning[0].startswith("Warning: 18 sessions")


def test_a_config_file_without_a_name_is_called_by_its_stem(logs: Path, tmp_path: Path) -> None:
    """evaluate used to title it "config 'default'" where compare labelled the file "cool"."""
    config = tmp_path / "cool.toml"
    config.write_text("[pick]\ntemperature = 0.3\n")
    printed = CliRunner().invoke(main, ["evaluate", "--db", str(logs), "--config", str(config)])
    assert printed.exit_code == 0, printed.output
    assert "config 'cool' on the logs of" in printed.output
    assert resolve_arm(str(config)).config.name == resolve_arm(str(config)).name == "cool"
    config.write_text('name = "chilled"\n[pick]\ntemperature = 0.3\n')  # a name given wins
    assert load_config(config).name == "chilled"


def test_evaluate_at_80_columns_never_cuts_a_number(logs: Path, tmp_path: Path) -> None:
    config = tmp_path / "b.toml"
    config.write_text('name = "b"\n[pick]\ntemperature = 0.3\n')
    printed = CliRunner().invoke(
        main,
        ["evaluate", "--db", str(logs), "--config", str(config), "--estimator", "all"],
        env={"COLUMNS": "80"},
    )
    assert printed.exit_code == 0, printed.output
    assert "…" not in printed.output
    assert max(len(line) for line in printed.output.splitlines()) <= 80
    result = estimate_from_logs(logs, config=parse_config(config.read_text()), methods=None)
    completion = result.outcomes["completion"]
    for found in (completion.logged, completion.ips, completion.snips):
        half = (found.high - found.low) / 2
        assert f"{found.value:.3f} ±{half:.3f}" in printed.output  # value and ± on one line
    for heading in ("logged", "SWITCH-DR", "DRos", "never", "session-IPS"):
        assert heading in printed.output


def _simulate(path: Path, users: int, shard_size: int, seed: int) -> None:
    from engine.sim.experiment import RunSpec, run_experiment
    from engine.sim.runner import Arm

    spec = RunSpec(
        db_path=path, users=users, sessions=2, seed=seed, log=True, shard_size=shard_size
    )
    run_experiment(spec, [Arm("engine", Config())])


def test_a_run_after_a_single_engine_s_history_re_decides_exactly(
    world_path: Path,
) -> None:
    """Every shard started from the file as the earlier run left it (its stored model too):
    the replay re-lives that history before each shard."""
    _simulate(world_path, users=4, shard_size=4, seed=1)  # one engine: its model is stored
    _simulate(world_path, users=6, shard_size=3, seed=2)
    result = estimate_from_logs(world_path, Config())
    watched = result.outcomes["watch_fraction"]
    assert watched.sessions == 20 and result.refitted == 0
    assert watched.mean_weight == pytest.approx(1.0)
    assert watched.effective_sample_size == pytest.approx(result.impressions)


def test_a_run_after_a_multi_shard_run_is_warned_about(sharded_logs: Path, tmp_path: Path) -> None:
    later = tmp_path / "later.db"
    later.write_bytes(sharded_logs.read_bytes())
    _simulate(later, users=4, shard_size=2, seed=4)  # its engines refit the dropped model
    assert estimate_from_logs(later, Config()).refitted == 8
    printed = CliRunner().invoke(
        main, ["evaluate", "--db", str(later), "--policy", "engine"], env={"COLUMNS": "400"}
    )
    warning = [line for line in printed.output.splitlines() if "refitted" in line]
    assert len(warning) == 1 and warning[0].startswith("Warning: 8 sessions")
    with sqlite3.connect(later) as db:
        (last,) = db.execute("SELECT max(id) FROM sessions").fetchone()
    replayed = CliRunner().invoke(main, ["replay", str(last), "--db", str(later)])
    said = " ".join(replayed.output.split())
    assert (
        replayed.exit_code == 1
        and "This session comes after a logged `foryou simulate` run of several shards" in said
    )
