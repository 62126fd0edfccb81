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
    if hit:
        engine.record(uid, video.id, "complete", watched_s=video.duration_s)
        engine.record(uid, video.id, "like")
    else:
        engine.record(uid, video.id, "skip", watched_s=SKIP_S)
    return hit
