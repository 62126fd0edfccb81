"""Evaluating a ranking config on logs it did not make: ``foryou evaluate``.

Every logged impression is decided again by the config under evaluation in the state the
viewer was in (:func:`engine.replay.relive`), which gives its probability of the logged video;
the logged propensity is the logging policy's. Outcomes are per watched impression:

- ``completion``: 1 if the viewer watched it to the end;
- ``watch_fraction``: seconds watched / duration, capped at 1;
- ``like``: 1 if the viewer liked it.

Per session (:data:`SESSION_OUTCOMES`: completions, seconds watched and impressions per
session) the same weights are read as a slate (:func:`engine.offpolicy.session_estimates`):
the per-position product of weights can see the target changing the viewer's state and the
session's length, which per-impression estimates cannot, at a price in variance.

Impressions that were served but never watched (a prefetch at the end of a session) have no
outcome and are left out, as are impressions without a propensity. A revisit (the viewer went
back to a video) is not a pick of the logging policy: it is neither weighed nor counted, and a
pick's outcomes are those of its first viewing (its own impression row). The doubly robust reward
model is the mean outcome per topic, shrunk toward the overall mean, fitted on the same logs.

A logged simulation's shards each had an engine of their own, learning from its own personas
only; :func:`engine.replay.relive` re-lives each shard apart, after the file's history
before the run, so the logging config re-decides every logged pick exactly. A run logged before
viewers' names recorded their shard cannot be split that way (:attr:`Evaluation.unsharded`
counts its sessions), and every session after a logged run of several shards (a later run's
or a viewer's) was served by an engine that started from a model refitted on the file's logs,
which the replay's online learning does not reproduce (:attr:`Evaluation.refitted`).

A config's ``seed`` only decides which random numbers it draws, and some of them decide which
candidates the sampled sources (fresh, locale, explore, starter) propose. The logged propensity
is a probability among the candidates the logging engine drew, so each session is decided again
with the seed it was logged with: the config under evaluation then draws the same candidates,
and its seed cannot put it outside the logged support.
"""

from __future__ import annotations

import tomllib
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
import numpy.typing as npt

from engine import frames
from engine.config import Config
from engine.offpolicy import SESSION_METHODS, Bandit, Estimate, Estimates, estimate
from engine.offpolicy import session_estimates as slate_estimates
from engine.replay import (
    REFITTED_NOTE,
    UNSHARDED_NOTE,
    Pick,
    is_revisit,
    refitted_sessions,
    relive,
    unsharded_sessions,
)
from engine.store import Store
from engine.store.merge import copy_file
from engine.store.timeline import Timeline

__all__ = [
    "OUTCOMES",
    "REFITTED_NOTE",
    "SESSION_OUTCOMES",
    "UNSHARDED_NOTE",
    "Evaluation",
    "Validation",
    "estimate_from_logs",
    "outcomes_of",
    "validate",
]

F64 = npt.NDArray[np.float64]
OUTCOMES = ("completion", "watch_fraction", "like")
SESSION_OUTCOMES = ("completions", "watched_s", "impressions")  # totals per session
SHRINK = 5.0  # pseudo-impressions pulling a topic's mean toward the overall mean


@dataclass(frozen=True)
class Evaluation:
    """Off-policy estimates of one config's per-impression outcomes."""

    config_name: str
    outcomes: dict[str, Estimates]  # outcome -> estimates
    impressions: int  # evaluated (watched, with a propensity)
    left_out: int  # served but never watched, or logged without a propensity
    # session outcome -> slate estimator (or "logged") -> estimate of the mean per session
    sessions: dict[str, dict[str, Estimate]] = field(default_factory=dict)
    # sessions logged by a simulation that did not record its viewers' shards: with several
    # shards their re-decisions cannot match the logging engines' (see UNSHARDED_NOTE)
    unsharded: int = 0
    # sessions that followed a logged run of several shards (a later run's or a viewer's): their
    # engines started from a model refitted on the file's logs, which a replay does not redo
    refitted: int = 0

    def rows(self, truth: dict[str, float] | None = None) -> dict[str, list[Any]]:
        """One row per outcome and estimator (the logging policy's own mean as ``logged``),
        per impression (``level`` "impression") and per session (``level`` "session"): the
        estimate, its standard error and 95% interval, and the weights' diagnostics (NaN for
        the session forms). With ``truth`` (outcome -> value), a ``truth`` column and whether
        each interval ``covers`` it."""
        rows = [
            _row("impression", outcome, estimator, e, found)
            for outcome, found in self.outcomes.items()
            for estimator, e in {"logged": found.logged, **found.methods}.items()
        ]
        rows += [
            _row("session", outcome, estimator, e, None) | {"impressions": self.impressions}
            for outcome, forms in self.sessions.items()
            for estimator, e in forms.items()
        ]
        if truth is not None:
            for row in rows:
                row["truth"] = truth.get(row["outcome"], float("nan"))
                row["covers"] = bool(row["low"] <= row["truth"] <= row["high"])
        return {key: [row[key] for row in rows] for key in (rows[0] if rows else ROW_COLUMNS)}

    def to_pandas(self) -> Any:
        """:meth:`rows` as a pandas DataFrame (``pip install 'foryou[pandas]'``)."""
        return frames.to_pandas(self.rows())

    def to_parquet(self, path: str | Path) -> None:
        """Write :meth:`rows` to a Parquet file (``pip install 'foryou[parquet]'``)."""
        frames.to_parquet(self.rows(), path)


def _row(
    level: str, outcome: str, estimator: str, e: Estimate, found: Estimates | None
) -> dict[str, Any]:
    nan = float("nan")
    return {
        "level": level,
        "outcome": outcome,
        "estimator": estimator,
        "value": e.value,
        "std_error": e.std_error,
        "low": e.low,
        "high": e.high,
        "impressions": found.n if found else nan,
        "effective_sample_size": found.effective_sample_size if found else nan,
        "mean_weight": found.mean_weight if found else nan,
        "unsupported": found.unsupported if found else nan,
    }


ROW_COLUMNS = (
    "level",
    "outcome",
    "estimator",
    "value",
    "std_error",
    "low",
    "high",
    "impressions",
    "effective_sample_size",
    "mean_weight",
    "unsupported",
)


def outcomes_of(
    impressions: list[dict[str, Any]],
    events: list[dict[str, Any]],
    duration_s: npt.NDArray[np.floating[Any]],
) -> dict[int, dict[str, float]]:
    """Per watched impression id: its completion, watch fraction and like (0 or 1 / [0, 1]),
    and the seconds watched."""
    completed: set[int] = set()
    liked: set[int] = set()
    for event in events:
        if event["kind"] == "complete":
            completed.add(int(event["impression_id"] or 0))
        elif event["kind"] == "like":
            liked.add(int(event["impression_id"] or 0))
    result = {}
    for imp in impressions:
        if imp["seen_end"] is None:
            continue
        i = int(imp["id"])
        fraction = float(imp["watched_s"] or 0.0) / float(duration_s[int(imp["video_id"])])
        result[i] = {
            "completion": float(i in completed),
            "watch_fraction": min(fraction, 1.0),
            "like": float(i in liked),
            "watched_s": float(imp["watched_s"] or 0.0),
        }
    return result


NOTHING_TO_WEIGH = (
    "no watched impressions with a logged propensity to evaluate (imported viewings have "
    "none: log some with the feed, recommend or simulate)"
)


def estimate_from_logs(
    path: str | Path,
    config: Config,
    *,
    sessions: Collection[int] | None = None,
    opened_at: float | None = None,
    policy: object = None,
    methods: Sequence[str] | None = None,
    clip: float | None = None,
) -> Evaluation:
    """Estimate ``config``'s completion, watch fraction and like rate per impression from the
    logs in ``path`` (by default IPS, self-normalised IPS, doubly robust; 95% CIs clustered by
    session), and its totals per session (:data:`SESSION_OUTCOMES`, every slate form).

    This is the function a validation against simulation calls: simulate under config A into
    a file, estimate B here, and compare with B simulated on the same personas.

    Args:
        sessions: session ids to evaluate on (default: every session in the file).
        opened_at: world time at which one engine that made every log opened (a simulation
            shard's start), which makes the replayed states exact; by default engine
            openings are read from study feed runs or inferred from the sessions.
        policy: the policy to evaluate with ``config`` (best a
            :class:`engine.policy.PolicySpec`, so each replay builds a fresh one); default
            the config's own. Its slate probabilities are the target's probabilities.

    Raises:
        ValueError: an unknown session, or nothing watched with a propensity to evaluate.
        StoreError: the file cannot be opened.
    """
    with Store.open(path) as store:
        world = store.load_world()
        timeline = Timeline(store.db)
        impressions = timeline.impressions()
        observed = outcomes_of(impressions, timeline.events(), world.videos.duration_s)
        known = set(timeline.session_ids())
        wanted = known if sessions is None else set(sessions)
        by_seed = _sessions_by_logged_seed(timeline, wanted, config.seed)
        unsharded = len(unsharded_sessions(timeline, wanted))
        refitted = len(refitted_sessions(timeline, wanted))
    logged = sum(1 for i in impressions if i["session_id"] in wanted and not is_revisit(i))
    # Said before re-living the file, which can take minutes (an imported log's viewings have
    # no propensity: nothing of theirs can be weighed); an unknown session is relive's to name.
    weighable = any(i["propensity"] for i in impressions if i["session_id"] in wanted)
    if not weighable and wanted <= known:
        raise ValueError(NOTHING_TO_WEIGH)
    picks = [
        p
        for seed, group in sorted(by_seed.items())
        for p in relive(
            path,
            msgspec.structs.replace(config, seed=seed),
            group,
            opened_at=opened_at,
            policy=policy,
        )
        if p.impression_id in observed and p.logged_propensity
    ]
    if not picks:
        raise ValueError(NOTHING_TO_WEIGH)
    topic = world.videos.topic_id.astype(np.int64)
    n_topics = len(world.topics)
    wanted_methods = list(methods or ("IPS", "SNIPS", "DR"))
    results = {
        name: estimate(_bandit(picks, observed, name, topic, n_topics), wanted_methods, clip=clip)
        for name in OUTCOMES
    }
    return Evaluation(
        config_name=config.name,
        outcomes=results,
        impressions=len(picks),
        left_out=logged - len(picks),
        sessions=_per_session(picks, observed, clip),
        unsharded=unsharded,
        refitted=refitted,
    )


def _per_session(
    picks: list[Pick], observed: dict[int, dict[str, float]], clip: float | None
) -> dict[str, dict[str, Estimate]]:
    position = np.array([p.position for p in picks], dtype=np.int64)
    rewards = {
        "completions": [observed[p.impression_id]["completion"] for p in picks],
        "watched_s": [observed[p.impression_id]["watched_s"] for p in picks],
        "impressions": [1.0] * len(picks),
    }
    result = {}
    for name, reward in rewards.items():
        data = Bandit(
            reward=np.array(reward),
            logging=np.array([float(p.logged_propensity or 0.0) for p in picks]),
            target=np.array([p.probability for p in picks]),
            cluster=np.array([p.session_id for p in picks], dtype=np.int64),
        )
        logged = slate_estimates(
            Bandit(data.reward, data.logging, data.logging, data.cluster), position, ["independent"]
        )["independent"]
        result[name] = {
            "logged": Estimate("logged", logged.value, logged.std_error, logged.low, logged.high),
            **slate_estimates(data, position, SESSION_METHODS, clip=clip),
        }
    return result


def _sessions_by_logged_seed(
    timeline: Timeline, sessions: Collection[int], default: int
) -> dict[int, list[int]]:
    """Sessions grouped by the pick seed of the config that logged them (``default`` for a
    session without a stored config); an unknown session id is left for ``relive`` to name."""
    groups: dict[int, list[int]] = {}
    for session_id in sorted(sessions):
        row = timeline.session(session_id)
        text = None if row is None else row["config_toml"]
        seed = int(tomllib.loads(text).get("seed", default)) if text else default
        groups.setdefault(seed, []).append(session_id)
    return groups


def _bandit(
    picks: list[Pick],
    observed: dict[int, dict[str, float]],
    outcome: str,
    topic: npt.NDArray[np.int64],
    n_topics: int,
) -> Bandit:
    reward = np.array([observed[p.impression_id][outcome] for p in picks])
    logged_topic = topic[[p.logged_video for p in picks]]
    sums = np.bincount(logged_topic, weights=reward, minlength=n_topics)
    counts = np.bincount(logged_topic, minlength=n_topics)
    model = (sums + SHRINK * reward.mean()) / (counts + SHRINK)
    return Bandit(
        reward=reward,
        logging=np.array([float(p.logged_propensity or 0.0) for p in picks]),
        target=np.array([p.probability for p in picks]),
        cluster=np.array([p.session_id for p in picks], dtype=np.int64),
        model_logged=model[logged_topic],
        model_target=np.array(
            [float(p.slate_probabilities @ model[topic[p.slate_ids]]) for p in picks]
        ),
    )


# -- checking the estimates against simulation -------------------------------------------------


@dataclass(frozen=True)
class Validation:
    """A target's estimates from logs next to the target simulated on the same personas.

    Attributes:
        evaluation: the target estimated from the logging config's logs.
        logged: the logging config's simulated outcomes (per impression and per session).
        truth: the target's simulated outcomes on the same personas, same keys.
        seconds: wall seconds spent simulating and estimating.
    """

    evaluation: Evaluation
    logged: dict[str, float]
    truth: dict[str, float]
    users: int
    seed: int
    seconds: float

    def rows(self) -> dict[str, list[Any]]:
        """:meth:`Evaluation.rows` with the simulated ``truth`` and whether each interval
        ``covers`` it, plus the logging config's own simulated outcomes as estimator
        ``logged (simulated)``."""
        columns = self.evaluation.rows(self.truth)
        for outcome, value in self.logged.items():
            row: dict[str, Any] = dict.fromkeys(columns, float("nan"))
            row |= {
                "level": "impression" if outcome in OUTCOMES else "session",
                "outcome": outcome,
                "estimator": "logged (simulated)",
                "value": value,
                "impressions": self.evaluation.impressions,
                "truth": self.truth[outcome],
                "covers": None,
            }
            for key, cell in row.items():
                columns[key].append(cell)
        return columns

    def to_pandas(self) -> Any:
        """:meth:`rows` as a pandas DataFrame (``pip install 'foryou[pandas]'``)."""
        return frames.to_pandas(self.rows())

    def to_parquet(self, path: str | Path) -> None:
        """Write :meth:`rows` to a Parquet file (``pip install 'foryou[parquet]'``)."""
        frames.to_parquet(self.rows(), path)


def simulated_outcomes(
    trace: npt.NDArray[np.void], duration_s: F64, sessions: int
) -> dict[str, float]:
    """A simulation trace's outcomes, defined as the estimates define them on the logs:
    :data:`OUTCOMES` per impression and :data:`SESSION_OUTCOMES` per session."""
    fraction = np.minimum(trace["watched_s"] / duration_s[trace["video"]], 1.0)
    return {
        "completion": float(trace["completed"].mean()),
        "watch_fraction": float(fraction.mean()),
        "like": float(trace["like"].mean()),
        "completions": float(trace["completed"].sum()) / sessions,
        "watched_s": float(trace["watched_s"].astype(np.float64).sum()) / sessions,
        "impressions": len(trace) / sessions,
    }


def validate(
    world: str | Path,
    logging: Config,
    target: Config,
    *,
    policy: object = None,
    users: int = 400,
    seed: int = 0,
    methods: Sequence[str] | None = None,
    clip: float | None = None,
    behaviour: Any = None,
) -> Validation:
    """Log ``logging`` on a copy of ``world`` with simulated personas, estimate ``target``
    from those logs, then simulate ``target`` on the same personas (same hidden truths, same
    random numbers at every position): the OBP-style check of every estimate against truth.

    One session per persona, one shard (one engine serves every persona, as the replay behind
    the estimates assumes). ``world``'s rows are never written: the logs go to a copy taken
    with SQLite's backup API, so rows a live writer still holds in its WAL are in it.

    Args:
        policy: the target's policy (a :class:`engine.policy.PolicySpec`); default its config's.
        behaviour: an :class:`engine.sim.watch.Behaviour` (default: the calibrated one, whose
            leave model makes session length an outcome of the config).

    Raises:
        ValueError: a spec that makes no sense.
        StoreError: the world file cannot be opened.
    """
    import tempfile
    import time

    from engine.policy import PolicySpec
    from engine.sim.experiment import RunSpec, run_experiment
    from engine.sim.runner import Arm
    from engine.sim.watch import Behaviour

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="foryou-validate-") as scratch:
        copy = Path(scratch) / "logs.db"
        with Store.open(world):  # refuses a foreign, damaged or newer file before copying it
            pass
        copy_file(Path(world), copy)  # with what a live writer still holds in its WAL
        earlier = set(_session_ids(copy))  # the file's own history is no part of the check
        spec = RunSpec(
            db_path=copy,
            users=users,
            sessions=1,
            seed=seed,
            log=True,
            shard_size=users,
            behaviour=behaviour or Behaviour(),
        )
        spec_policy = policy if isinstance(policy, PolicySpec) else None
        arms = [Arm("logging", logging), Arm("target", target, spec_policy, log=False)]
        experiment = run_experiment(spec, arms)
        duration = experiment.world.videos.duration_s.astype(np.float64)
        evaluation = estimate_from_logs(
            copy,
            target,
            sessions=[i for i in _session_ids(copy) if i not in earlier],
            opened_at=spec.start_t,
            policy=policy,
            methods=methods,
            clip=clip,
        )
    return Validation(
        evaluation=evaluation,
        logged=simulated_outcomes(experiment.runs["logging"].trace, duration, users),
        truth=simulated_outcomes(experiment.runs["target"].trace, duration, users),
        users=users,
        seed=seed,
        seconds=time.perf_counter() - started,
    )


def _session_ids(path: Path) -> list[int]:
    with Store.open(path) as store:
        return Timeline(store.db).session_ids()
