"""How far one viewer's events move everyone's chances in the shared learned model.

Every viewer's events teach one model (:mod:`engine.learned`), so on a new world the first viewer
teaches it alone. For each topic pair, a scripted viewer with no onboarding finishes and likes
every video of the two topics and skips the rest at 1.5 s, ``PICKS`` videos in a fresh engine
that writes nothing; then a newcomer's mean predicted P(like) and P(complete) over the same
``VIDEOS`` videos (:meth:`engine.Engine.rank`: no filters, no serving) is compared with a
newcomer's in an engine that has seen nobody. A model that tells viewers apart keeps the ratio
near 1; a shared model taught by one liker moves it up (engine/sim/README.md, "One viewer's
events move everyone's chances?").

    python -m benchmarks.viewer_drift            # the 20k benchmark world
    python -m benchmarks.viewer_drift 3000       # another size (built once, seed 42)
"""

from __future__ import annotations

import sys

import numpy as np

from benchmarks.common import world
from engine import Engine, VirtualClock

PICKS = 40
VIDEOS = 300
PAIRS = (("gaming", "pets"), ("cooking", "comedy"), ("dance", "music"))
START_S = 86_400.0  # a day into the world: its uploads of the first hours are out
SKIP_S = 1.5


def newcomer_chances(engine: Engine, videos: list[int]) -> tuple[float, float]:
    """A newcomer's mean P(like) and P(complete) over ``videos``."""
    newcomer = engine.new_user([], language="en", country="US")
    ranking = engine.rank(newcomer, videos)
    if ranking.p is None:
        sys.exit("Error: the engine's policy gives no P(action) to compare")
    return float(np.mean(ranking.p["like"])), float(np.mean(ranking.p["complete"]))


def watch_as_fan(engine: Engine, loved: tuple[str, str]) -> int:
    """The scripted viewer's PICKS videos; returns how many it liked."""
    fan = engine.new_user([], language="en", country="US")
    liked = 0
    for _ in range(PICKS):
        video = engine.next(fan).video
        if video.topic in loved:
            engine.record(fan, video.id, "like")
            engine.record(fan, video.id, "complete", watched_s=video.duration_s)
            liked += 1
        else:
            engine.record(fan, video.id, "skip", watched_s=min(SKIP_S, video.duration_s))
    return liked


def main(size: int) -> None:
    path = world(size)
    print(f"{size:,} videos; newcomer's mean chances over {VIDEOS} fixed videos")
    print(f"{'topics':20s} {'liked':>5s}   {'P(like) before -> after':>24s}   P(complete)")
    ratios = []
    for loved in PAIRS:
        with Engine.open(path, clock=VirtualClock(START_S), log=False) as fresh:
            rng = np.random.default_rng(0)
            videos = rng.choice(fresh.catalog.n, VIDEOS, replace=False).tolist()
            like_0, complete_0 = newcomer_chances(fresh, videos)
        with Engine.open(path, clock=VirtualClock(START_S), log=False) as engine:
            liked = watch_as_fan(engine, loved)
            like_1, complete_1 = newcomer_chances(engine, videos)
        like, complete = like_1 / like_0, complete_1 / complete_0
        ratios.append((like, complete))
        print(
            f"{' + '.join(loved):20s} {liked:5d}   {like_0:.4f} -> {like_1:.4f} (x{like:.2f})"
            f"   {complete_0:.3f} -> {complete_1:.3f} (x{complete:.2f})"
        )
    like, complete = np.mean(ratios, axis=0)
    print(f"mean ratio after / before: P(like) x{like:.2f}, P(complete) x{complete:.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000)
