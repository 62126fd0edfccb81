"""The demo converges: ``foryou feed --autopilot cooking`` from a cold start (no topics named at
sign-up) shows mostly the persona's loved topics within about 30 videos.

Engine-level, with the autopilot's own persona and behaviour (what the Pilot-driven feed would
record, without the wall-clock pacing).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine import Engine, VirtualClock
from tui.autopilot import AutopilotSettings

VIDEOS = 30
LOVED_SHARE_21_30 = 0.5  # at least half of videos 21-30 in the persona's loved topics


def loved_share_21_30(world: Path) -> float:
    clock = VirtualClock(0.0)
    with Engine.open(world, clock=clock, log=False) as eng:
        cast = AutopilotSettings(persona="cooking").cast(eng)
        persona = cast.persona
        viewer = eng.new_user(**{**persona.sign_up(), "interests": []}, name=cast.viewer)
        topics = []
        for _ in range(VIDEOS):
            rec = eng.next(viewer)
            reaction = persona.react(rec.video.id)
            for kind, kwargs in reaction.actions:
                eng.record(viewer, rec.video.id, kind, **kwargs)
            clock.advance(reaction.watched_s + 1.0)
            topics.append(int(eng.catalog.world.videos.topic_id[rec.video.id]))
        loved = persona.taste.loved
        return float(np.mean([t in loved for t in topics[20:]]))


@pytest.mark.xfail(
    strict=True,
    reason="measured 0.0 of videos 21-30 on loved topics, at main (2cfd610) and on wip/l14b: "
    "the cold feed does not find Cooking/its loved topics in 30 videos (issue 14, exploration)",
)
def test_the_autopilot_demo_converges_within_thirty_videos_from_a_cold_start(
    demo_world: Path,
) -> None:
    assert loved_share_21_30(demo_world) >= LOVED_SHARE_21_30
