"""Engine.rank (scores without serving), `foryou offline-eval`, and `evaluate --json/--validate`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import msgspec
import numpy as np
import pytest
from click.testing import CliRunner

from engine import Engine, VirtualClock
from engine.config import Config
from engine.offline import HeldOut, auc, expected_calibration_error, offline_metrics
from engine.ranking import Ranking
from engine.sim.experiment import RunSpec, run_experiment
from engine.sim.runner import Arm
from tui.cli import main


def test_rank_does_not_change_the_next_picks(world_template: Path, tmp_path: Path) -> None:
    picks = []
    for with_rank in (False, True):
        path = tmp_path / f"w{with_rank}.db"
        shutil.copy(world_template, path)
        clock = VirtualClock(0.0)
        with Engine.open(path, clock=clock, log=False) as eng:
            uid = eng.new_user([eng.topics()[0]], name="ana")
            seq = []
            for step in range(12):
                if with_rank:
                    ranking = eng.rank(uid, range(0, 3000, 7))
                    assert ranking.p is not None and len(ranking.scores) == len(range(0, 3000, 7))
                # Trends refresh every 600 s at a pick: a rank that refreshed them would move
                # the refresh 400 s earlier than the pick's own.
                clock.advance(400.0)
                rec = eng.next(uid)
                seq.append(rec.video.id)
                eng.record(uid, rec.video.id, "complete" if step % 3 else "skip", watched_s=5.0)
                clock.advance(400.0)
            picks.append(seq)
    assert picks[0] == picks[1]


def test_rank_scores_given_videos_and_refuses_unknown_ones(world_path: Path) -> None:
    with Engine.open(world_path, log=False) as eng:
        uid = eng.new_user([], name="ben")
        ranking = eng.rank(uid, [5, 1, 9])
        assert list(ranking.video_ids) == [5, 1, 9]
        assert ranking.p is not None
        assert ((ranking.p["complete"] > 0) & (ranking.p["complete"] < 1)).all()
        assert sorted(ranking.order.tolist()) == [0, 1, 2]
        with pytest.raises(ValueError, match="unknown video"):
            eng.rank(uid, [10**7])
        with pytest.raises(ValueError, match="user"):
            eng.rank(10**6, [1])
    with Engine.open(world_path, log=False, policy="random") as eng:
        uid = eng.new_user([], name="cy")
        random = eng.rank(uid, range(100))  # its slate probability: uniform where allowed
        assert random.p is None
        assert set(np.round(random.scores / random.scores.max(), 9)) <= {0.0, 1.0}


def test_metrics_on_hand_made_predictions() -> None:
    labels = np.array([False, False, True, True])
    assert auc(np.array([0.1, 0.2, 0.3, 0.4]), labels) == 1.0
    assert auc(np.array([0.4, 0.3, 0.2, 0.1]), labels) == 0.0
    assert auc(np.full(4, 0.5), labels) == 0.5
    # Two bins: 0.15 predicted where 0% happen, 0.85 where 100% do.
    p = np.array([0.15, 0.15, 0.85, 0.85])
    assert expected_calibration_error(p, labels) == pytest.approx(0.15)


def test_offline_metrics_take_held_out_rows_from_anywhere() -> None:
    """A perfect ranker (it scores the liked videos 1, others 0) on a held-out table."""
    held = [HeldOut(1, 3, True, False, 10.0), HeldOut(1, 4, False, False, 11.0)]

    def perfect(user: int, ids: np.ndarray) -> Ranking:
        good = np.isin(ids, [3]).astype(float)
        return Ranking(ids, good, {"complete": 0.1 + 0.8 * good, "like": np.full(len(ids), 0.1)})

    report = offline_metrics(perfect, held, n_videos=50, met={1: {3, 4}}, k=5, negatives=20)
    assert report.ndcg == 1.0 and report.recall == 1.0
    assert report.predictions["complete"].auc == 1.0


@pytest.fixture(scope="module")
def simulated_logs(world_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("offline") / "logs.db"
    shutil.copy(world_template, path)
    spec = RunSpec(db_path=path, users=16, sessions=2, seed=0, log=True, shard_size=16)
    run_experiment(spec, [Arm("engine", Config())])
    return path


@pytest.mark.slow
def test_offline_eval_on_a_logged_simulation(simulated_logs: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["offline-eval", "--db", str(simulated_logs), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["held_out"] > 0 and report["viewers"] == 16
    assert (report["history_share"], report["held_out_at_import"]) == (0.8, False)
    assert 0.5 < report["predictions"]["complete"]["auc"] <= 1.0
    assert 0 <= report["ndcg"] <= 1 and 0 <= report["recall"] <= 1
    popular = runner.invoke(
        main, ["offline-eval", "--db", str(simulated_logs), "--policy", "popular", "--split", "0.7"]
    )
    assert popular.exit_code == 0, popular.output
    assert "NDCG@10" in popular.output
    assert "last 30% of each one's impressions held out" in " ".join(popular.output.split())
    bad = runner.invoke(main, ["offline-eval", "--db", str(simulated_logs), "--split", "1.5"])
    assert bad.exit_code != 0 and "Error" in bad.output


def test_offline_eval_on_an_imported_world_says_what_its_import_held_out(tmp_path: Path) -> None:
    """After `import --history-until 0.5` it said "last 20% ... held out" (and with --split 0.3
    "last 70%", with the same figures): the split printed was one that was never made."""
    items = tmp_path / "items.csv"
    items.write_text("id,topic,duration\n1,a,30\n2,a,40\n3,b,50\n4,b,20\n5,c,10\n6,c,15\n")
    log = tmp_path / "log.csv"
    log.write_text(
        "user,item,timestamp,watched_s,label\n"
        "u1,1,1000,30,1\nu1,2,2000,40,\nu1,3,3000,5,0\nu1,4,4000,20,1\n"
        "u2,5,1000,10,1\nu2,6,2000,15,1\nu2,1,3000,30,\nu2,2,4000,40,1\n"
    )
    world = tmp_path / "w.db"
    runner = CliRunner()
    built = runner.invoke(main, ["--db", str(world), "import", "csv", str(items), "--log",
                                 str(log), "--history-until", "0.5"])  # fmt: skip
    assert built.exit_code == 0, built.output
    evaluate = ["--db", str(world), "offline-eval", "--negatives", "2", "--no-replay", "--no-curve"]
    result = runner.invoke(main, evaluate)
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "4 rows held out when the world was imported: the last 50% of each one's log" in said
    assert "impressions held out" not in said
    refused = runner.invoke(main, [*evaluate, "--split", "0.3"])
    assert (refused.exit_code, refused.output) == (
        1,
        "Error: --split does not apply to an imported world: its held-out rows were set by "
        "`foryou import --history-until` (here 0.5); re-import to change them\n",
    )


@pytest.mark.slow
def test_evaluate_json_lists_every_estimate(simulated_logs: Path, tmp_path: Path) -> None:
    config = tmp_path / "t.toml"
    config.write_text("[pick]\ntemperature = 0.3\n")
    result = CliRunner().invoke(
        main,
        [
            "evaluate",
            "--db",
            str(simulated_logs),
            "--config",
            str(config),
            "--json",
            "--estimator",
            "all",
            "--clip",
            "20",
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    completion = report["outcomes"]["completion"]
    assert set(completion["estimates"]) == {"DM", "IPS", "SNIPS", "DR", "SWITCH-DR", "DRos"}
    assert completion["effective_sample_size"] > 0 and report["clip"] == 20
    for e in completion["estimates"].values():
        assert e["low"] <= e["value"] <= e["high"]
    assert {"independent", "cascade"} <= set(report["sessions"]["impressions"]["estimates"])


@pytest.mark.slow
def test_evaluate_validate_prints_the_truth_beside_every_estimate(
    world_template: Path, tmp_path: Path
) -> None:
    config = tmp_path / "t.toml"
    config.write_text("[pick]\ntemperature = 0.3\n")
    before = world_template.read_bytes()
    result = CliRunner().invoke(
        main,
        [
            "evaluate",
            "--db",
            str(world_template),
            "--config",
            str(config),
            "--validate",
            "--users",
            "12",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["validation"]["users"] == 12
    for outcome in ("completion", "watch_fraction", "like"):
        assert 0 <= report["outcomes"][outcome]["truth"] <= 1
    assert report["sessions"]["impressions"]["truth"] >= 1
    assert world_template.read_bytes() == before  # the world itself is never written


@pytest.mark.slow
def test_evaluate_results_are_a_table_for_a_notebook(simulated_logs: Path, tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    from engine.counterfactual import Validation, estimate_from_logs

    target = msgspec.structs.replace(
        Config(), pick=msgspec.structs.replace(Config().pick, temperature=0.3)
    )
    evaluation = estimate_from_logs(simulated_logs, target, methods=["SNIPS", "DR"])
    frame = evaluation.to_pandas()
    snips = frame[(frame.level == "impression") & (frame.estimator == "SNIPS")]
    assert list(snips.outcome) == ["completion", "watch_fraction", "like"]
    completion = evaluation.outcomes["completion"]
    row = snips.iloc[0]
    assert row.value == completion.snips.value and row.low == completion.snips.low
    assert row.effective_sample_size == completion.effective_sample_size
    sessions = frame[frame.level == "session"]
    assert {"logged", "independent", "cascade"} <= set(sessions.estimator)
    evaluation.to_parquet(tmp_path / "evaluate.parquet")
    assert pq.read_table(tmp_path / "evaluate.parquet").num_rows == len(frame)
    # A validation adds the simulated truth and whether each interval covers it.
    truth = {"completion": completion.snips.value, "watch_fraction": 2.0, "like": -1.0}
    truth |= {"completions": 1.0, "watched_s": 100.0, "impressions": 10.0}
    check = Validation(evaluation, dict(truth), truth, users=16, seed=0, seconds=1.0)
    rows = check.to_pandas()
    snips = rows[(rows.level == "impression") & (rows.estimator == "SNIPS")]
    assert list(snips.covers) == [True, False, False] and list(snips.truth)[1] == 2.0
    assert (rows.estimator == "logged (simulated)").sum() == len(truth)


@pytest.mark.slow
def test_validate_estimates_from_its_own_logs_only(simulated_logs: Path) -> None:
    # The file already holds 32 logged sessions (16 personas × 2): a check run on a copy of it
    # must weigh only the sessions its own logging personas watched, one each.
    from engine.counterfactual import validate

    target = msgspec.structs.replace(
        Config(), pick=msgspec.structs.replace(Config().pick, temperature=0.3)
    )
    check = validate(simulated_logs, Config(), target, users=6, seed=0, methods=["SNIPS"])
    completion = check.evaluation.outcomes["completion"]
    assert completion.sessions == 6
    assert completion.logged.value == pytest.approx(check.logged["completion"])


def test_rank_scores_with_the_learned_model_the_picks_use(world_path: Path) -> None:
    """Offline metrics of the engine must be the learned engine's, not the hand-set formula's:
    a learned model that has come to expect more completions moves rank's P(complete)."""
    with Engine.open(world_path, log=False) as eng:
        uid = eng.new_user([], name="dee")
        before = eng.rank(uid, range(50)).p
        learner = eng.policy.learner  # type: ignore[attr-defined]
        model = learner.ready(eng.config)
        model.calibration[0, 1:] += 2.0  # every duration's completion shift, up
        after = eng.rank(uid, range(50)).p
    assert before is not None and after is not None
    assert (after["complete"] > before["complete"] + 0.01).all()
