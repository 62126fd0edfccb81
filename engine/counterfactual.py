"""Evaluating a ranking config on logs it did not make: ``foryou evaluate``.

Every logged impression is decided again by the config under evaluation in the state the
viewer was in (:func:`engine.replay.relive`), which gives its probability of the logged video;
the logged propensity is the logging policy's. Outcomes are per watched impression:

- ``completion``: 1 if the viewer watched it to the end;
- ``watch_fraction``: seconds watched / duration, capped at 1;
- ``like``: 1 if the viewer liked it.

Impressions that were served but never watched (a prefetch at the end of a session) have no
outcome and are left out, as are impressions without a propensity. A revisit (the viewer went
back to a video) is not a pick of the logging policy: it is neither weighed nor counted, and a
pick's outcomes are those of its first viewing (its own impression row). The doubly robust reward
model is the mean outcome per topic, shrunk toward the overall mean, fitted on the same logs.

A config's ``seed`` only decides which random numbers it draws, and some of them decide which
candidates the sampled sources (fresh, locale, explore, starter) propose. The logged propensity
is a probability among the candidates the logging engine drew, so each session is decided again
with the seed it was logged with: the config under evaluation then draws the same candidates,
and its seed cannot put it outside the logged support.
"""

from __future__ import annotations

import tomllib
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
import numpy.typing as npt

from engine.config import Config
from engine.offpolicy import Bandit, Estimates, estimate
from engine.replay import Pick, is_revisit, relive
from engine.store import Store
from engine.store.timeline import Timeline

__all__ = ["OUTCOMES", "Evaluation", "estimate_from_logs", "outcomes_of"]

F64 = npt.NDArray[np.float64]
OUTCOMES = ("completion", "watch_fraction", "like")
SHRINK = 5.0  # pseudo-impressions pulling a topic's mean toward the overall mean


@dataclass(frozen=True)
class Evaluation:
    """Off-policy estimates of one config's per-impression outcomes."""

    config_name: str
    outcomes: dict[str, Estimates]  # outcome -> estimates
    impressions: int  # evaluated (watched, with a propensity)
    left_out: int  # served but never watched, or logged without a propensity


def outcomes_of(
    impressions: list[dict[str, Any]],
    events: list[dict[str, Any]],
    duration_s: npt.NDArray[np.floating[Any]],
) -> dict[int, dict[str, float]]:
    """Per watched impression id: its completion, watch fraction and like (0 or 1 / [0, 1])."""
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
        }
    return result


def estimate_from_logs(
    path: str | Path,
    config: Config,
    *,
    sessions: Collection[int] | None = None,
    opened_at: float | None = None,
    policy: object = None,
) -> Evaluation:
    """Estimate ``config``'s completion, watch fraction and like rate per impression from the
    logs in ``path`` (IPS, self-normalised IPS, doubly robust; 95% CIs clustered by session).

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
        wanted = set(timeline.session_ids() if sessions is None else sessions)
        by_seed = _sessions_by_logged_seed(timeline, wanted, config.seed)
    logged = sum(1 for i in impressions if i["session_id"] in wanted and not is_revisit(i))
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
        raise ValueError("no watched impressions with a logged propensity to evaluate")
    topic = world.videos.topic_id.astype(np.int64)
    n_topics = len(world.topics)
    results = {name: estimate(_bandit(picks, observed, name, topic, n_topics)) for name in OUTCOMES}
    return Evaluation(
        config_name=config.name,
        outcomes=results,
        impressions=len(picks),
        left_out=logged - len(picks),
    )


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
