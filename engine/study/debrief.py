"""The debrief: a participant's own interest trajectory and what the engine assumed about them.

Profiles are snapshotted only when a session ends, so the trajectory is rebuilt by re-living
the participant's own recorded history under their condition's config (their profile depends
on nothing else) and reading the engine's topic affinities after every video they watched.

"Watched" means every viewing that reached the screen, the way the sources, the boosted count
and the study's own length count it: a closed one, a revisit (a viewing of its own), and the
one on screen when a run's process died, which was never closed (it ends that run, not
completed, with the seconds its events show).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.config import Config
from engine.history import timeline_steps
from engine.profile import Profile
from engine.reactions import CLOSING
from engine.replay import Replay
from engine.store import Store
from engine.store.study_log import StudyLog
from engine.store.timeline import Timeline

__all__ = ["Debrief", "TrajectoryPoint", "build_debrief"]

TOPICS_SHOWN = 6


@dataclass(frozen=True)
class TrajectoryPoint:
    """One watched video and what the participant did with it."""

    index: int  # 0-based among the videos watched
    video_id: int
    topic: str  # slug
    watched_s: float
    completed: bool
    reactions: tuple[str, ...]  # like, share, not_interested, ... in order


@dataclass(frozen=True)
class Debrief:
    """Everything the debrief screen shows, as plain values."""

    participant: str
    interests: list[str]  # chosen at onboarding
    points: list[TrajectoryPoint]
    # Engine's affinity (-1 to 1) for each of the topics that ended strongest, after every
    # watched video (one value per point): the interest trajectory.
    trajectory: dict[str, list[float]]
    watched_share: dict[str, float]  # topic -> share of the videos watched (4 decimals)
    sources: dict[str, int]  # candidate source -> videos watched that it proposed
    boosted_seen: int  # watched videos that were heated (the condition decides if this is shown)
    assumed: Profile  # what the engine believed about them at the end


def build_debrief(path: str | Path, participant: str, user_id: int, config: Config) -> Debrief:
    """Re-live one participant's history and collect the debrief.

    Raises:
        ValueError: the viewer does not exist.
    """
    with Store.open(path) as store:
        log = StudyLog(store.db)
        user = log.user_row(user_id)
        if user is None:
            raise ValueError(f"unknown user id {user_id}")
        steps = timeline_steps(Timeline(store.db), {user_id})
        sources = log.sources_served(user_id)
        boosted = log.boosted_seen(user_id)
    replay = Replay.over(path, config, steps[0].world_t if steps else 0.0)
    engine = replay.engine
    try:
        replay.adopt(user)
        interests = engine.profile(user_id).interests
        topic_of = engine.catalog.world.videos.topic_id
        slugs = engine.topics()
        points: list[TrajectoryPoint] = []
        affinities: list[dict[str, float]] = []
        reactions: dict[int, list[str]] = {}
        closed: set[int] = set()
        on_screen: dict[int, Mapping[str, Any]] = {}  # seen, not closed yet: impression -> row
        order: list[int] = []  # impression of each point

        def add_point(impression: int, video: int, watched_s: float, completed: bool) -> None:
            closed.add(impression)
            points.append(
                TrajectoryPoint(
                    index=len(points),
                    video_id=video,
                    topic=slugs[int(topic_of[video])],
                    # Stored seconds are float32 (142.6 reads 142.60000610351562): the
                    # participant reads centiseconds at most.
                    watched_s=round(watched_s, 2),
                    completed=completed,
                    reactions=(),
                )
            )
            affinities.append(engine.profile(user_id).topic_affinity)
            order.append(impression)

        def close_dead_viewings() -> None:
            # A run ends (the next one opens, or the history does) with a video still on
            # screen only if its process died: that viewing ends there, at its last event.
            for impression, row in on_screen.items():
                if impression not in closed:
                    last = max(last_event_at.get(impression, 0.0), float(row["seen_start"]))
                    add_point(
                        impression, int(row["video_id"]), last - float(row["seen_start"]), False
                    )
            on_screen.clear()

        last_event_at: dict[int, float] = {}
        for step in steps:
            if step.kind == "open":
                close_dead_viewings()
            replay.play(step)
            if step.kind == "seen":
                on_screen[int(step.row["id"])] = step.row
            if step.kind != "event":
                continue
            kind, impression = str(step.row["kind"]), int(step.row["impression_id"] or 0)
            last_event_at[impression] = step.at
            if kind not in CLOSING:
                reactions.setdefault(impression, []).append(kind)
                if order and impression == order[-1]:
                    # A reaction after its video closed (a like once it looped) moves that
                    # video's point, not the next one's: the trajectory ends where the
                    # profile does.
                    affinities[-1] = engine.profile(user_id).topic_affinity
            elif impression not in closed:
                video = int(step.row["video_id"])
                add_point(
                    impression, video, float(step.row["watched_s"] or 0.0), kind == "complete"
                )
        close_dead_viewings()
        assumed = engine.profile(user_id)
    finally:
        replay.close()
    points = [
        TrajectoryPoint(
            p.index, p.video_id, p.topic, p.watched_s, p.completed, tuple(reactions.get(i, ()))
        )
        for p, i in zip(points, order, strict=True)
    ]
    return _assemble(participant, interests, points, affinities, sources, boosted, assumed)


def _assemble(
    participant: str,
    interests: list[str],
    points: list[TrajectoryPoint],
    affinities: list[dict[str, float]],
    sources: dict[str, int],
    boosted: int,
    assumed: Profile,
) -> Debrief:
    final = sorted(assumed.topic_affinity.items(), key=lambda kv: -kv[1])[:TOPICS_SHOWN]
    trajectory = {topic: [a[topic] for a in affinities] for topic, _ in final}
    counts = Counter(p.topic for p in points)
    share = {t: round(n / len(points), 4) for t, n in counts.most_common()} if points else {}
    return Debrief(
        participant=participant,
        interests=interests,
        points=points,
        trajectory=trajectory,
        watched_share=share,
        sources=sources,
        boosted_seen=boosted,
        assumed=assumed,
    )
