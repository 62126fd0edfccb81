"""Re-living a file's recorded history: the exact feed a session saw, or what a config would pick.

A pick depends on the viewer (their events) and on state every viewer of one engine shares:
live engagement counters, trends and test pools, which other viewers' events move and which
an engine refreshes on its own schedule. A :class:`Replay` therefore drives an engine that starts
from the world as built (no recorded activity), records nothing and runs on a virtual clock, and
re-lives every recorded step of the viewers that shared the session's world
(:mod:`engine.history`), in the order they happened. At each
impression of the sessions under study it first decides what *its* config would have picked
at that moment (the seed formula of :meth:`Engine.next`), then notes the *logged* video as
served, so the history stays the recorded one; an opening reloads test pools the way a new
engine does; events move the viewer and the shared counters. A revisit (the viewer went back
to a video, ``source = "revisit"``) is no pick: it is replayed as the engine noted it and never
decided again, so it yields no :class:`Pick`.

With the session's own config this rebuilds its feed exactly when the history is complete;
with another config or policy (:mod:`engine.policy`) it gives that policy's probability of every
logged pick, which is what off-policy evaluation needs. It uses only the engine's public
methods (:meth:`Engine.adopt`, :meth:`Engine.serve_recorded`, :meth:`Engine.seen`,
:meth:`Engine.apply_recorded`, :meth:`Engine.reopen`, :meth:`Engine.decide`).

Not reproduced: feed-control changes made in the middle of a session (only the latest
settings are stored), two engines writing one file at the same time (each kept its own
shared state), and forced trend refreshes by the Discover screen.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from engine.api import Engine
from engine.clock import VirtualClock
from engine.config import Config, parse_recorded
from engine.heating import condition_boosts
from engine.history import (
    Shard,
    Step,
    shard_of,
    shard_steps,
    timeline_steps,
    unsharded_simulation,
)
from engine.pipeline import Boost, Decision, NothingToRecommendError
from engine.policy import BUILTIN, PolicySpec
from engine.recorder import MemoryRecorder
from engine.start import FileStart
from engine.store import Store
from engine.store.activity import REVISIT
from engine.store.study_log import StudyLog
from engine.store.timeline import Timeline
from engine.video import Video

__all__ = [
    "REFITTED_NOTE",
    "UNSHARDED_NOTE",
    "Pick",
    "Replay",
    "SessionReplay",
    "is_revisit",
    "probability_of",
    "refitted_sessions",
    "relive",
    "replay_session",
    "unsharded_sessions",
]

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Pick:
    """A logged impression, decided again by a config in the same state."""

    impression_id: int
    session_id: int
    user_id: int
    position: int
    world_t: float
    logged_video: int
    logged_propensity: float | None
    picked_video: int | None  # the config's own pick with its seed; None: nothing eligible
    probability: float  # the config's probability of the logged video
    slate_ids: I64
    slate_probabilities: F64


class Replay:
    """Re-lives recorded steps through an engine instead of making new ones (never writes).

    Attributes:
        engine: the engine re-living them (read its profiles, catalog and topics freely).
        clock: its virtual clock, set to each step's world time.
    """

    def __init__(self, engine: Engine, clock: VirtualClock) -> None:
        self.engine = engine
        self.clock = clock

    @classmethod
    def over(
        cls, path: str | Path, config: Config, start: float = 0.0, policy: object = None
    ) -> Replay:
        """Open a file for replay under ``config``, from the world as built, at world time
        ``start`` (the first recorded opening).

        Args:
            policy: who decides (:func:`engine.policy.as_policy`); default the config's.

        Raises:
            StoreError: the file is missing, foreign or from a newer foryou.
            PolicyError: the policy cannot be loaded.
        """
        store = Store.open(path)
        clock = VirtualClock(start)
        try:
            engine = Engine(
                store,
                config,
                clock=clock,
                recorder=MemoryRecorder.over(store),
                # A study feed never applied the boosts table (Engine.open's operator_boosts).
                start=FileStart(
                    store, activity=False, operator_boosts=StudyLog(store.db).study() is None
                ),
                policy=policy,
            )
        except BaseException:
            store.close()
            raise
        return cls(engine, clock)

    def adopt(self, user: Mapping[str, Any]) -> None:
        """Start a recorded viewer as they signed up (onboarding interests, stored settings)."""
        self.engine.adopt(user)

    def play(self, step: Step) -> None:
        """Apply one recorded step."""
        self.clock.now = step.world_t
        if step.kind == "open":
            self.engine.reopen()
        elif step.kind == "serve":
            self.engine.serve_recorded(step.user_id, step.row)
        elif step.kind == "seen":
            self.engine.seen(step.user_id, int(step.row["video_id"]))
        else:
            imported = bool(step.row.get("imported"))
            self.engine.apply_recorded(step.user_id, step.row, history=imported)

    def decide(
        self, user_id: int, extra_boosts: Collection[Boost] = (), *, seed_id: int | None = None
    ) -> Decision | None:
        """What this engine's config picks for the viewer now (None: nothing is eligible).

        Args:
            seed_id: the viewer's id where they were recorded, if a merge renumbered them
                (a viewer with a pick seed of its own is keyed by that instead).
        """
        try:
            return self.engine.decide(user_id, seed_id=seed_id, boosts=extra_boosts)
        except NothingToRecommendError:
            return None

    def close(self) -> None:
        self.engine.close()


def is_revisit(impression: Mapping[str, Any]) -> bool:
    """A viewing the viewer went back to (:meth:`Engine.revisit`): not a pick of the policy,
    so it is neither decided again nor weighed as one."""
    return impression.get("source") == REVISIT


def probability_of(decision: Decision | None, video: int) -> float:
    """The policy's probability of showing ``video``: 0 outside its slate (a policy's slate
    holds every video it could have shown: the random policy's is the whole allowed catalog).
    """
    if decision is None:
        return 0.0
    hits = np.flatnonzero(decision.slate_ids == video)
    return float(decision.slate_probabilities[hits[0]]) if len(hits) else 0.0


def relive(
    path: str | Path,
    config: Config,
    sessions: Collection[int] | None = None,
    *,
    with_condition_boosts: bool = False,
    opened_at: float | None = None,
    policy: object = None,
) -> Iterator[Pick]:
    """Decide every logged impression of ``sessions`` (default: all) again under ``config``.

    Each lab station of a merged file, and each shard of a logged simulation, is re-lived on
    its own (its engine never saw the others'), with every viewer's picks seeded by the id
    they had there.

    Args:
        with_condition_boosts: apply each session's study-condition heating too (exact
            replay); off when evaluating a config on its own.
        opened_at: world time at which one engine serving every session opened (a
            simulation shard's start); by default openings are recorded or inferred.
        policy: who decides (a policy, scorer or :class:`engine.policy.PolicySpec`, built
            afresh for each station); default the config's policy.

    Raises:
        ValueError: an unknown session id.
    """
    with Store.open(path) as store:
        timeline = _ReadOnce(store.db)
        wanted = set(timeline.session_ids() if sessions is None else sessions)
        rows = {s: timeline.session(s) for s in wanted}
        unknown = sorted(s for s, row in rows.items() if row is None)
        if unknown:
            raise ValueError(f"unknown session {unknown[0]}")
        users = timeline.users()
        origins = timeline.origins()
        served_by = _engines(users, origins)
        groups: dict[tuple[str, str], set[int]] = {}
        for s, row in rows.items():
            key = served_by.get(int(row["user_id"]) if row else -1, ("", ""))
            groups.setdefault(key, set()).add(s)
        runs = _Runs.of(timeline)
        plans = [
            (_engine_steps(timeline, key, served_by, runs, opened_at), targets)
            for key, targets in sorted(groups.items())
        ]
        log = StudyLog(store.db)
        boosts = {
            s: condition_boosts(log.condition_boost(str(row["condition"])))
            if with_condition_boosts and row is not None and row["condition"]
            else []
            for s, row in rows.items()
        }
    seeds = {user: original for user, (_, original) in origins.items()}
    for steps, targets in plans:
        yield from _relive_group(path, config, users, steps, targets, boosts, seeds, policy)


class _ReadOnce(Timeline):
    """The file's history read once, however many engines (stations, shards) re-live it."""

    @functools.cache  # noqa: B019 - one instance per relive call, dropped with it
    def impressions(self) -> list[dict[str, Any]]:
        return super().impressions()

    @functools.cache  # noqa: B019
    def events(self) -> list[dict[str, Any]]:
        return super().events()

    @functools.cache  # noqa: B019
    def feed_opens(self) -> list[dict[str, Any]]:
        return super().feed_opens()

    @functools.cache  # noqa: B019
    def session_ends(self) -> dict[int, float | None]:
        return super().session_ends()


def _engines(
    users: list[dict[str, Any]], origins: Mapping[int, tuple[str, int]]
) -> dict[int, tuple[str, str]]:
    """Each viewer's engine: their lab station (a merged file) and simulation shard; viewers
    of one engine are re-lived together, apart from every other engine's."""
    engines = {}
    for user in users:
        shard = shard_of(str(user["name"]))
        station = origins.get(int(user["id"]), ("", 0))[0]
        engines[int(user["id"])] = (station, "" if shard is None else shard.key)
    return engines


@dataclass(frozen=True)
class _Runs:
    """The logged simulation runs in a file: each simulated viewer's shard, and when each run
    began (its first impression, wall time)."""

    shard: dict[int, Shard]
    began: dict[str, float]

    @classmethod
    def of(cls, timeline: Timeline) -> _Runs:
        shards = {int(u["id"]): shard_of(str(u["name"])) for u in timeline.users()}
        shard = {user: found for user, found in shards.items() if found is not None}
        began: dict[str, float] = {}
        for impression in timeline.impressions():
            found = shard.get(int(impression["user_id"]))
            if found is not None:
                at = float(impression["served_at"])
                began[found.run] = min(began.get(found.run, at), at)
        return cls(shard, began)

    def several_shards(self) -> set[str]:
        """Runs of more than one shard."""
        keys: dict[str, set[str]] = {}
        for found in self.shard.values():
            keys.setdefault(found.run, set()).add(found.key)
        return {run for run, found in keys.items() if len(found) > 1}


def _engine_steps(
    timeline: Timeline,
    key: tuple[str, str],
    served_by: Mapping[int, tuple[str, str]],
    runs: _Runs,
    opened_at: float | None,
) -> list[Step]:
    """The steps one engine lived through: a station's history, or a simulation shard's (the
    file's history before its run, then its own viewers from the run's opening)."""
    station, shard_key = key
    own = {u for u, at in served_by.items() if at == key}
    if not shard_key:
        # An engine opened after a logged simulation read what every shard of it wrote.
        station_viewers = {u for u, at in served_by.items() if at[0] == station}
        return timeline_steps(timeline, station_viewers, opened_at=opened_at)
    shard = next(runs.shard[u] for u in own if u in runs.shard)
    run = {u for u, found in runs.shard.items() if found.run == shard.run}
    before = {u for u, at in served_by.items() if at[0] == station and u not in run}
    return shard_steps(
        timeline,
        own,
        before,
        run_start=runs.began.get(shard.run, 0.0),
        opened_at=shard.opened_at if opened_at is None else opened_at,
    )


def _relive_group(
    path: str | Path,
    config: Config,
    users: list[dict[str, Any]],
    steps: list[Step],
    targets: set[int],
    boosts: Mapping[int, list[Boost]],
    seeds: Mapping[int, int],
    policy: object = None,
) -> Iterator[Pick]:
    replay = Replay.over(path, config, steps[0].world_t if steps else 0.0, policy)
    try:
        involved = {s.user_id for s in steps}
        for user in users:
            if user["id"] in involved:
                replay.adopt(user)
        for step in _until_last_pick(steps, targets):
            session = int(step.row.get("session_id") or 0)
            if step.kind == "serve" and session in targets and not is_revisit(step.row):
                replay.clock.now = step.world_t
                seed = seeds.get(step.user_id, step.user_id)
                decision = replay.decide(step.user_id, boosts.get(session, []), seed_id=seed)
                yield _pick(step, decision)
            replay.play(step)
    finally:
        replay.close()


def _until_last_pick(steps: list[Step], targets: set[int]) -> list[Step]:
    """The steps up to the last one re-decided: what came later cannot change a pick (a
    session before a long logged simulation need not re-live the simulation)."""
    served = [
        k
        for k, step in enumerate(steps)
        if step.kind == "serve" and int(step.row.get("session_id") or 0) in targets
    ]
    return steps[: served[-1] + 1] if served else []


def _pick(step: Step, decision: Decision | None) -> Pick:
    row = step.row
    logged = int(row["video_id"])
    propensity = row["propensity"]
    return Pick(
        impression_id=int(row["id"]),
        session_id=int(row["session_id"]),
        user_id=step.user_id,
        position=int(row["position"]),
        world_t=step.world_t,
        logged_video=logged,
        logged_propensity=None if propensity is None else float(propensity),
        picked_video=None if decision is None else decision.video_id,
        probability=probability_of(decision, logged),
        slate_ids=np.zeros(0, np.int64) if decision is None else decision.slate_ids,
        slate_probabilities=np.zeros(0) if decision is None else decision.slate_probabilities,
    )


# -- one session, side by side ---------------------------------------------------------------


@dataclass(frozen=True)
class SessionReplay:
    """A session rebuilt under its own config, and optionally what another config would pick."""

    session_id: int
    user_id: int
    config_name: str
    condition: str | None
    picks: list[Pick]  # under the session's own config: picked_video should be logged_video
    compare_name: str | None
    compared: list[Pick] | None  # under the other config, step by step
    videos: dict[int, Video]  # every video named above
    picked_by: str | None = None  # the policy that picked, when not the config's own
    policy_changed: bool = False  # its file is not the one recorded (another SHA-256)

    @property
    def matches(self) -> int:
        return sum(p.picked_video == p.logged_video for p in self.picks)

    @property
    def first_mismatch(self) -> Pick | None:
        return next((p for p in self.picks if p.picked_video != p.logged_video), None)


def replay_session(
    path: str | Path, session_id: int, compare: Config | None = None, policy: object = None
) -> SessionReplay:
    """Rebuild a session's feed under the config it ran with (and its study heating).

    Args:
        compare: another config to decide each step too.
        policy: the policy deciding with ``compare`` (a spec, to build a fresh one), default
            its own; given without ``compare``, it decides with the session's own config. A
            session picked by a ranker from a file is re-lived only with ``policy`` naming it
            (see :func:`_own_policy`), which then also decides with ``compare``.

    Raises:
        ValueError: an unknown session, or one picked by a ranker from a file that ``policy``
            does not name.
        StoreError: the file cannot be opened.
    """
    with Store.open(path) as store:
        row = Timeline(store.db).session(session_id)
    if row is None:
        raise ValueError(f"unknown session {session_id}")
    if row["config_toml"] is None:  # sessions rebuilt by `foryou import` ran no config
        raise ValueError(
            f"session {session_id} was imported from a real log (foryou import): no engine "
            "picked its videos, so there is nothing to replay"
        )
    own, recorded = parse_recorded(str(row["config_toml"]), f"config of session {session_id}")
    own_policy = _own_policy(session_id, own, recorded, policy)
    picks = list(relive(path, own, [session_id], with_condition_boosts=True, policy=own_policy))
    if compare is None and isinstance(own_policy, PolicySpec) and own_policy.file:
        policy = None  # --policy named who picked: without --config, nothing to compare with
    other = compare or (own if policy is not None else None)
    compared = None if other is None else list(relive(path, other, [session_id], policy=policy))
    ids = {p.logged_video for p in picks}
    ids |= {p.picked_video for p in [*picks, *(compared or [])] if p.picked_video is not None}
    with Engine.open(path, own, log=False) as engine:
        videos = {v: engine.video(v) for v in sorted(ids)}
    return SessionReplay(
        session_id=session_id,
        user_id=int(row["user_id"]),
        config_name=own.name,
        condition=row["condition"],
        picks=picks,
        compare_name=None if other is None else _label(other, policy),
        compared=compared,
        videos=videos,
        picked_by=None if recorded is None else str(recorded.get("policy")),
        policy_changed=_changed(own_policy, recorded),
    )


def _own_policy(
    session_id: int, own: Config, recorded: Mapping[str, Any] | None, given: object
) -> object:
    """Who re-lives a session: its config's policy, or the one its config row records.

    A recorded built-in is built from its name. A policy from a file or module is never
    imported because a world file names it (a file from elsewhere could name any code): it is
    re-lived only with ``given`` naming the same class (the same target, or the same class
    in a file of the same SHA-256), with the recorded parameters (``given`` may repeat them).

    Raises:
        ValueError: recorded from a file or module and ``given`` does not name it, or names
            it with other parameters: the one line says which of class, file or parameters
            differs.
    """
    if recorded is None:
        return None
    target = str(recorded.get("policy", ""))
    params = recorded.get("params")
    params = params if isinstance(params, dict) else {}
    if target in BUILTIN:
        return PolicySpec(target, params)
    where, _, name = target.rpartition(":")
    picked = f"session {session_id} was picked by policy {name} from {where}"
    if not isinstance(given, PolicySpec):
        raise ValueError(
            f"{picked} (parameters {params or 'none'}), not by its config's {own.policy!r}; "
            f"replay imports no code a world file names: replay it with --policy {target}"
        )
    differs = _differs(given, target, recorded.get("sha256"))
    if differs is not None:
        raise ValueError(f"{picked}, {differs}: replay it with --policy {target}")
    if given.params and given.params != params:
        raise ValueError(
            f"{picked} with parameters {params or 'none'}, not --policy-params' "
            f"{given.params}: leave out --policy-params to re-live it as it ran"
        )
    return PolicySpec(given.target, params)


def _differs(given: PolicySpec, target: str, sha256: object) -> str | None:
    """What of ``given`` is not the recorded policy (class, or the file's content), or None."""
    if given.target == target:
        return None  # the recorded file itself: an edit since shows as a changed SHA-256
    if given.label != target.rpartition(":")[2]:
        where = "" if given.target in BUILTIN else f" from {given.target.rpartition(':')[0]}"
        return f"not by --policy's {given.label}{where} (another class)"
    origin = given.file or given.target
    if sha256 is None:
        return f"not from --policy's {origin}, and no SHA-256 was recorded to show it is the same"
    now = given.record().get("sha256")
    if now == sha256:
        return None
    content = "is not there" if now is None else f"has SHA-256 {now[:12]}… (other code)"
    return f"SHA-256 {str(sha256)[:12]}…, and --policy's {origin} {content}"


def _changed(policy: object, recorded: Mapping[str, Any] | None) -> bool:
    """Whether the file of the policy re-living a session differs from the one recorded."""
    if not isinstance(policy, PolicySpec) or recorded is None or "sha256" not in recorded:
        return False
    return bool(policy.record().get("sha256") != recorded["sha256"])


def _label(config: Config, policy: object) -> str:
    if policy is None:
        return config.name
    name = policy.label if isinstance(policy, PolicySpec) else getattr(policy, "name", "")
    return str(name or type(policy).__name__)


# -- what a replay cannot re-live ------------------------------------------------------------

UNSHARDED_NOTE = (
    "{n} sessions come from a `foryou simulate` run older than this foryou, which did not "
    "record which of its shards (engines learning side by side) served each viewer: if it "
    "had several, their re-decisions cannot match the logs; simulate again for exact figures."
)
REFITTED_NOTE = (
    "{n} sessions come after a logged `foryou simulate` run of several shards in this file: "
    "their engines started from a model refitted on its logs, which a replay does not redo, so "
    "re-decisions differ; simulate on a copy of the world for exact figures."
)


def unsharded_sessions(timeline: Timeline, sessions: Collection[int]) -> list[int]:
    """Sessions of a simulation logged before viewers' names recorded their shard: with
    several shards, no replay can tell which viewers shared an engine."""
    names = {int(u["id"]): str(u["name"]) for u in timeline.users()}
    found = []
    for session_id in sorted(sessions):
        row = timeline.session(session_id)
        if row is not None and unsharded_simulation(names.get(int(row["user_id"]), "")):
            found.append(session_id)
    return found


def refitted_sessions(timeline: Timeline, sessions: Collection[int]) -> list[int]:
    """Sessions that started after a logged simulation of several shards (which drops the
    stored model, so the next engine refits it: :mod:`engine.learned`), the run's own aside:
    a later run's, or any viewer's served by an engine opened on the file afterwards."""
    runs = _Runs.of(timeline)
    several = [runs.began[run] for run in runs.several_shards() if run in runs.began]
    found = []
    for session_id in sorted(sessions):
        row = timeline.session(session_id)
        if row is None:
            continue
        shard = runs.shard.get(int(row["user_id"]))
        # A shard's engine opened when its run began; anyone else's by the session's start.
        began = float(row["started_at"]) if shard is None else runs.began.get(shard.run)
        if began is not None and any(at < began for at in several):
            found.append(session_id)
    return found
