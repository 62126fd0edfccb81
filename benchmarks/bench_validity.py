"""Simulator validity (issue 17): does the simulator rank policies the way real people's logs do?

For the built-in policies (engine, random, popular, bandit, itemknn) it measures, on the real
data of ``../shared/data`` (imported once into ``benchmarks/.worlds/``, ``foryou import``):

- MovieLens latest-small and the KuaiRand-27K like/hate log, each scored by ``foryou
  offline-eval`` on its held-out rows (:func:`engine.offline.offline_eval`): AUC of P(like) (on
  KuaiRand: liked vs hated), NDCG@10 and recall@10, the rejection-replay estimate and the
  learning curve;
- the simulator: the same policies on the same personas of the 20k demo world (seed 42),
  paired (``foryou compare``'s experiment): watch time per session and likes per impression;

then orders the policies by each figure and prints the Spearman and Kendall rank correlation of
every simulated ordering with every real one. Five policies make a coarse test: with n = 5 a
Spearman ρ of 0.9 is the smallest that is significant at 5% (one-sided), so read the signs and
the ties more than the decimals. Run:

    python benchmarks/bench_validity.py              # 100 personas x 3 sessions x 1 seed
    python benchmarks/bench_validity.py --quick      # 30 personas x 2 sessions
    python benchmarks/bench_validity.py --plot DIR   # the learning curves as PNGs too
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import WORLDS, load_now, machine, measured, world
from engine.config import Config
from engine.offline import OfflineReport, offline_eval, plot_curves
from engine.sim.baselines import builtin_arm
from engine.sim.comparison import compare
from engine.sim.experiment import RunSpec, run_experiment

POLICIES = ("engine", "random", "popular", "bandit", "itemknn")
DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
# name -> (import format, path under the data folder)
DATASETS = {
    "MovieLens": ("movielens", "movielens-latest-small"),
    "KuaiRand": ("kuairand-log", "kuairand-27k-like-hate/likes_hates_kcore15.tsv"),
}
SIMULATED = {"sim watch/session": "watch_per_session", "sim likes/impression": "like"}


def imported(name: str, data: Path) -> Path:
    """The dataset as a world (built on first use, with the default 80% history)."""
    from seed.importers import import_world

    fmt, where = DATASETS[name]
    path = WORLDS / f"real-{fmt}.db"
    if not path.exists():
        WORLDS.mkdir(parents=True, exist_ok=True)
        with measured(f"import {name}", indent=""):
            import_world(fmt, data / where, path)
    return path


def real(name: str, path: Path) -> dict[str, OfflineReport]:
    reports = {}
    for policy in POLICIES:
        with measured(f"{name} offline-eval --policy {policy}", indent="  "):
            reports[policy] = offline_eval(path, Config(), policy=policy)
    return reports


def print_real(name: str, reports: Mapping[str, OfflineReport]) -> None:
    print(f"\n{name}: held-out rows ({next(iter(reports.values())).held_out:,}), k = 10")
    print(
        f"  {'policy':8s} {'AUC like':>8s} {'NDCG@10':>8s} {'rec@10':>7s} {'matched':>8s} "
        f"{'replay like [95%]':>20s} {'complete':>9s} {'not int.':>9s}"
    )
    for policy, r in reports.items():
        replay = r.replay
        assert replay is not None
        like = replay.rewards["like"]
        print(
            f"  {policy:8s} {r.predictions['like'].auc:8.3f} {r.ndcg:8.3f} {r.recall:7.3f} "
            f"{replay.matched.value:8.1%} "
            f"{like.value:6.3f} [{like.low:.3f}, {like.high:.3f}] "
            f"{replay.rewards['complete'].value:9.3f} "
            f"{replay.rewards['not_interested'].value:9.3f}"
        )
    labels = [p.label for p in next(iter(reports.values())).curve]
    print("  learning curve, hit@10 of the next positive (viewers) after n viewings seen:")
    print(f"  {'policy':8s} " + " ".join(f"{label:>13s}" for label in labels))
    for policy, r in reports.items():
        cells = [f"{p.hit.value:.3f} ({p.hit.n:>4d})" for p in r.curve]
        print(f"  {policy:8s} " + " ".join(f"{c:>13s}" for c in cells))


def real_figures(name: str, reports: Mapping[str, OfflineReport]) -> dict[str, list[float]]:
    """Each real figure per policy, in POLICIES order (higher is better for all)."""
    figures: dict[str, list[float]] = {
        f"{name} NDCG@10": [reports[p].ndcg for p in POLICIES],
        f"{name} AUC like": [reports[p].predictions["like"].auc for p in POLICIES],
    }
    replay = [reports[p].replay for p in POLICIES]
    figures[f"{name} replay like"] = [r.rewards["like"].value if r else np.nan for r in replay]
    return figures


def simulated(users: int, sessions: int, seeds: int, jobs: int) -> dict[str, list[float]]:
    spec = RunSpec(
        db_path=world(20_000),
        users=users,
        sessions=sessions,
        replicates=seeds,
        jobs=jobs,
        log=False,
    )
    experiment = run_experiment(spec, [builtin_arm(p) for p in POLICIES])
    comparison = compare(experiment, bootstrap=False)
    summaries = {p: comparison.measures[p].summary() for p in POLICIES}
    return {label: [summaries[p][key] for p in POLICIES] for label, key in SIMULATED.items()}


def order(values: Sequence[float]) -> str:
    ranked = sorted(zip(values, POLICIES, strict=True), key=lambda pair: -pair[0])
    return " > ".join(policy for _, policy in ranked)


def print_validity(sim: Mapping[str, list[float]], real: Mapping[str, list[float]]) -> None:
    print("\nOrderings (best first):")
    for label, values in [*sim.items(), *real.items()]:
        cells = " ".join(f"{p} {v:.3g}" for p, v in zip(POLICIES, values, strict=True))
        print(f"  {label:24s} {order(values)}   ({cells})")
    print(
        "\nRank correlation of each simulated ordering with each real one (Spearman ρ · Kendall τ):"
    )
    print(f"  {'':24s} " + " ".join(f"{label:>22s}" for label in sim))
    for label, values in real.items():
        cells = []
        for simulated_values in sim.values():
            rho = stats.spearmanr(simulated_values, values).statistic
            tau = stats.kendalltau(simulated_values, values).statistic
            cells.append(f"{rho:+.2f} · {tau:+.2f}")
        print(f"  {label:24s} " + " ".join(f"{c:>22s}" for c in cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="30 personas x 2 sessions")
    parser.add_argument("--users", type=int, default=None)
    parser.add_argument("--sessions", type=int, default=None)
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--data", type=Path, default=DATA, help="the shared real-data folder")
    parser.add_argument("--plot", type=Path, default=None, help="write learning curves here")
    args = parser.parse_args()
    users = args.users or (30 if args.quick else 100)
    sessions = args.sessions or (2 if args.quick else 3)
    print(machine())
    print(f"at start: {load_now()}", flush=True)
    if not args.data.is_dir():
        print(f"no real data at {args.data}: nothing to compare the simulator with")
        return
    figures: dict[str, list[float]] = {}
    for name in DATASETS:
        path = imported(name, args.data)
        reports = real(name, path)
        print_real(name, reports)
        figures |= real_figures(name, reports)
        if args.plot is not None:
            args.plot.mkdir(parents=True, exist_ok=True)
            curves = {p: r.curve for p, r in reports.items()}
            plot_curves(curves, args.plot / f"learning-{name.lower()}.png", k=10)
    label = f"simulator: {users} personas x {sessions} sessions x {args.seeds} seeds, 5 arms"
    with measured(label, children=True, indent=""):
        sim = simulated(users, sessions, args.seeds, args.jobs)
    print_validity(sim, figures)
    print(f"at end: {load_now()}")


if __name__ == "__main__":
    main()
