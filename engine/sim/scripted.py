"""A scripted viewer with two loved topics: the smallest check that a feed learns.

Unlike a persona, it has no noise and no hidden taste: it completes and likes every video of
its two topics and skips everything else after :data:`SKIP_S` seconds. After
:data:`WARMUP` picks, the share of the next :data:`MEASURED` picks from its two topics says how
well the feed has learnt (issue 14's target: at least 0.7 without onboarding, averaged over
:data:`TOPIC_PAIRS`). With ``onboard`` it names its two topics at sign-up; without, it is a
cold start and everything must be learnt from what it watches.
"""

from __future__ import annotations

from pathlib import Path

from engine.api import Engine
from engine.clock import VirtualClock
from engine.config import Config

SKIP_S = 1.5
WARMUP = 20
MEASURED = 30
TOPIC_PAIRS = (
    ("cooking", "pets"),
    ("booktok", "gaming"),
    ("fittok", "travel"),
    ("science", "cars"),
    ("music", "gardening"),
    ("comedy", "finance"),
)


def two_topic_share(
    world: Path,
    loved: tuple[str, str],
    *,
    config: Config | None = None,
    policy: object = None,
    onboard: bool = True,
    start: float = 0.0,
) -> float:
    """Share of picks WARMUP+1 .. WARMUP+MEASURED from the viewer's two topics.

    Args:
        world: the world file (opened read-only: nothing is logged).
        loved: the two topic slugs the viewer finishes and likes.
        config: the engine config (default: the defaults).
        policy: who picks (a policy, scorer or built-in name; default: the config's).
        onboard: name the two topics at sign-up.
        start: the world time the viewer starts at (learning must not depend on the hour).
    """
    engine = Engine.open(
        world, config=config or Config(), clock=VirtualClock(start), log=False, policy=policy
    )
    with engine:
        uid = engine.new_user(interests=list(loved) if onboard else [], language="en", country="US")
        hits = [_watch_one(engine, uid, loved) for _ in range(WARMUP + MEASURED)]
    return sum(hits[WARMUP:]) / MEASURED


def _watch_one(engine: Engine, uid: int, loved: tuple[str, str]) -> bool:
    video = engine.next(uid).video
    hit = video.topic in loved
    _react(engine, uid, video.id, video.duration_s, hit)
    return hit


def dismissal_cut(
    world: Path,
    loved: tuple[str, str],
    *,
    config: Config | None = None,
    policy: object = None,
    window: int = 20,
) -> float:
    """How much "not interested" in a topic cuts its share: the onboarded two-topic viewer
    watches :data:`WARMUP` picks, says "not interested" in its first topic on the next video
    of it, and the first topic's share of the ``window`` picks after is compared with its
    share of the ``window`` picks before (1 = gone, 0 = no change; NaN if it never showed).

    Unlike simulated personas, who rarely dismiss a topic an engine shows them, this viewer
    always does, so every policy is measured on the same act.
    """
    engine = Engine.open(
        world, config=config or Config(), clock=VirtualClock(0.0), log=False, policy=policy
    )
    dropped = loved[0]
    with engine:
        uid = engine.new_user(interests=list(loved), language="en", country="US")
        topics: list[str] = []
        for _ in range(WARMUP):
            video = engine.next(uid).video
            topics.append(video.topic)
            _react(engine, uid, video.id, video.duration_s, video.topic in loved)
        for _ in range(window):  # the first video of the topic gets the "not interested"
            video = engine.next(uid).video
            if video.topic == dropped:
                engine.record(uid, video.id, "not_interested", scope="topic")
                break
            topics.append(video.topic)
            _react(engine, uid, video.id, video.duration_s, video.topic in loved)
        else:
            return float("nan")
        after = []
        for _ in range(window):
            video = engine.next(uid).video
            after.append(video.topic)
            _react(engine, uid, video.id, video.duration_s, video.topic == loved[1])
    before = topics[-window:].count(dropped) / window
    if before == 0:
        return float("nan")
    return 1.0 - (after.count(dropped) / window) / before


def _react(engine: Engine, uid: int, video_id: int, duration_s: float, hit: bool) -> None:
    """Finish and like a video of the loved topics; swipe anything else away."""
    if hit:
        engine.record(uid, video_id, "complete", watched_s=duration_s)
        engine.record(uid, video_id, "like")
    else:
        engine.record(uid, video_id, "skip", watched_s=SKIP_S)
