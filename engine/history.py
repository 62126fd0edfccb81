"""A file's recorded history as the ordered steps an engine re-lives (see :mod:`engine.replay`).

- ``open``: an engine opened and computed its shared state (study feed runs record it; for
  other sessions it is inferred);
- ``serve``: an impression;
- ``seen``: the viewer reported the video on screen;
- ``event``: a reaction.

Steps are ordered by wall time, the order they happened in.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.store.timeline import Timeline

__all__ = [
    "Shard",
    "Step",
    "shard_of",
    "simulated_viewer_name",
    "timeline_steps",
    "unsharded_simulation",
]

_ORDER = {"open": 0, "serve": 1, "seen": 2, "event": 3}


@dataclass(frozen=True)
class Step:
    """One recorded thing that changed an engine's state."""

    kind: str  # open | serve | seen | event
    at: float  # wall time (unix seconds): the order things happened in
    user_id: int
    world_t: float
    row: Mapping[str, Any]

    def sort_key(self) -> tuple[float, int, int]:
        return (self.at, _ORDER[self.kind], int(self.row.get("id") or 0))


# A logged simulation's viewers are named after their run, replicate and shard (and the world
# time the run started at, when not 0): the shard is the group of viewers one engine served,
# opened once at the run's start and learning from them alone, which a replay must re-live on
# its own (:func:`engine.replay.relive`). Logs written before the shard was in the name match
# the older pattern only.
_SHARDED = re.compile(
    r"^sim-.+-(?P<run>[0-9a-f]{6})-r(?P<replicate>\d+)-s(?P<shard>\d+)-\d{5,}"
    r"(?:-t(?P<start>[-+.e0-9]+))?$"
)
_UNSHARDED = re.compile(r"^sim-.+-[0-9a-f]{6}-r\d+-\d{5,}$")


@dataclass(frozen=True)
class Shard:
    """The engine a logged simulation's viewer watched through."""

    key: str  # "run r0 s1": the same for every viewer of that engine
    run: str  # the run's six hex digits: every shard of it started from the same state
    opened_at: float  # world time the engine opened at (the run's start)


def simulated_viewer_name(
    arm: str, run: str, replicate: int, shard: int, index: int, start_t: float = 0.0
) -> str:
    """The name of a logged simulation's viewer (``run``: six hex digits naming the run)."""
    started = f"-t{start_t!r}" if start_t else ""
    return f"sim-{arm}-{run}-r{replicate}-s{shard}-{index:05d}{started}"


def shard_of(name: str) -> Shard | None:
    """Which simulation shard a viewer watched in, None for any other viewer."""
    found = _SHARDED.match(name)
    if found is None:
        return None
    key = f"{found['run']} r{found['replicate']} s{found['shard']}"
    return Shard(key, found["run"], float(found["start"] or 0.0))


def unsharded_simulation(name: str) -> bool:
    """A viewer of a logged simulation from before shards were recorded: which engine
    served it, and so which viewers' activity moved its feed, is unknown."""
    return _UNSHARDED.match(name) is not None


def _genuine_seen(imp: Mapping[str, Any]) -> bool:
    """A seen_start the viewer reported, not the one a closing event fills in afterwards
    (``seen_end - watched_s``), which the engine only learned at the close."""
    start, end, watched = imp["seen_start"], imp["seen_end"], imp["watched_s"]
    if start is None:
        return False
    return end is None or watched is None or start != end - watched


def timeline_steps(
    timeline: Timeline, users: Collection[int], *, opened_at: float | None = None
) -> list[Step]:
    """Every recorded step of these viewers, in the order it happened.

    Args:
        opened_at: the world time one engine that served all of them opened at (a simulation
            knows it); by default openings are read from feed runs or inferred.
    """
    impressions = [i for i in timeline.impressions() if i["user_id"] in users]
    steps = [
        Step("serve", float(i["served_at"]), int(i["user_id"]), float(i["world_t"]), i)
        for i in impressions
    ]
    steps += [
        Step("seen", float(i["seen_start"]), int(i["user_id"]), float(i["world_t"]), i)
        for i in impressions
        if _genuine_seen(i)
    ]
    steps += [
        Step("event", float(e["at"]), int(e["user_id"]), float(e["world_t"]), e)
        for e in timeline.events()
        if e["user_id"] in users
    ]
    if opened_at is not None:
        first = Step("open", -np.inf, -1, opened_at, {"id": 0})
        return [first, *sorted(steps, key=Step.sort_key)]
    opens = [o for o in timeline.feed_opens() if o["user_id"] in users]
    steps += [
        Step("open", float(o["opened_at"]), int(o["user_id"]), float(o["opened_world_t"]), o)
        for o in opens
    ]
    steps += _stand_in_opens(steps, {int(o["user_id"]) for o in opens}, timeline)
    return sorted(steps, key=Step.sort_key)


def shard_steps(
    timeline: Timeline,
    own: Collection[int],
    before: Collection[int],
    *,
    run_start: float,
    opened_at: float,
) -> list[Step]:
    """What one simulation shard's engine lived through: the file's history before its run
    (the state every shard of the run started from), its opening, then its own viewers' steps.

    Args:
        own: the shard's viewers.
        before: every other viewer who could have acted before the run (not of the run).
        run_start: wall time of the run's first step (any shard's).
        opened_at: world time the shard's engine opened at.
    """
    earlier = [s for s in timeline_steps(timeline, before) if s.at < run_start]
    opening = Step("open", run_start, -1, opened_at, {"id": 0})
    return [*earlier, opening, *timeline_steps(timeline, own, opened_at=opened_at)[1:]]


def _stand_in_opens(steps: list[Step], opened: set[int], timeline: Timeline) -> list[Step]:
    """Openings of engines that did not record them (outside study feeds), inferred.

    One engine serves viewers whose sessions overlap (they all end when it closes), so an
    engine is taken to open at the first impression of a session that starts while no other
    session is open, and never between. One engine that runs sessions strictly one after
    another looks like several: its replay may then differ where a trend refresh fell.
    """
    first: dict[int, Step] = {}
    last: dict[int, float] = {}
    for step in sorted(steps, key=Step.sort_key):
        session = int(step.row.get("session_id") or 0)
        if step.kind == "serve":
            first.setdefault(session, step)
        last[session] = step.at
    ended = {s: e for s, e in timeline.session_ends().items() if e is not None}
    opens: list[Step] = []
    open_until = -np.inf
    for session, step in sorted(first.items(), key=lambda kv: kv[1].sort_key()):
        if step.at > open_until and step.user_id not in opened:
            opens.append(Step("open", step.at, step.user_id, step.world_t, {"id": 0}))
        open_until = max(open_until, ended.get(session, last[session]))
    return opens
