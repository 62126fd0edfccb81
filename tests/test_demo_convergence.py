"""The demo converges: ``foryou feed --autopilot cooking`` shows mostly the persona's loved
topics within about 30 videos.

Engine-level, with the autopilot's own persona and behaviour (what the Pilot-driven feed would
record, without the wall-clock pacing): as the demo signs it up (naming its sign-up topics), and
from a cold start (naming none).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine import Engine, VirtualClock
from tui.autopilot import AutopilotSettings

VIDEOS = 30
LOVED_SHARE_21_30 = 0.5  # at least half of videos 21-30 in the persona's loved topics
DEMO_PERSONAS = ("cooking", *map(str, range(12)))  # the demo's own and the first seeds


def loved_share_21_30(world: Path, *, onboard: bool, persona: str = "cooking") -> float:
    clock = VirtualClock(0.0)
    with Engine.open(world, clock=clock, log=False) as eng:
        cast = AutopilotSettings(persona=persona).cast(eng)
        persona = cast.persona
        sign_up = persona.sign_up() if onboard else {**persona.sign_up(), "interests": []}
        viewer = eng.new_user(**sign_up, name=cast.viewer)
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


def test_the_autopilot_demo_converges_within_thirty_videos(demo_world: Path) -> None:
    """As the demo runs it (measured 0.6 at main and on wip/l14b)."""
    assert loved_share_21_30(demo_world, onboard=True) >= LOVED_SHARE_21_30


@pytest.mark.xfail(
    strict=True,
    reason="0.0 since personas like a long video only after watching much of it (issue 14, "
    "engine/sim/README.md): the demo persona's 0.5 came from a like 6 s into a 3-minute video",
)
def test_the_autopilot_demo_converges_within_thirty_videos_from_a_cold_start(
    demo_world: Path,
) -> None:
    """Measured 0.5 (0.2 at main 4a8f796): a viewer held 7 s counts as hooked, and a skip
    after a run of one topic as "not now" (engine.uncertainty). Since a part-way viewer likes
    only if it got past the like's moment, the cooking persona no longer likes its first video
    (6 s of 180 s, a loved topic) and the cold feed never finds its loved topics in 30 videos:
    0.0. Over 13 demo personas (cooking and seeds 0-11) the cold share of videos 21-30 fell
    from 0.25 to 0.11 on average: the engine's cold start leaned on likes of barely watched
    videos, which real viewers seldom give. With leaving after 2-7 s as one miss of the topic
    (issue 14), the 13 personas' mean rose 0.115 -> 0.177 but this one stays at 0.0: its only
    cooking video (180 s) held it 5.8 s (hooked, leaving part-way: as likely as a glance for
    this patient persona), while well-made music and dance videos hooked it (one saved) as
    often as its loved topics' typical ones would."""
    assert loved_share_21_30(demo_world, onboard=False) >= LOVED_SHARE_21_30


def test_the_autopilot_personas_find_their_loved_topics_from_a_cold_start(
    demo_world: Path,
) -> None:
    """Thirteen demo personas, none naming a topic: a quarter of videos 21-30 on average in
    their loved topics. Measured 0.31 (0.29 with the length-aware completion prior) since a
    pick's draw searches untried topics in the population's order (engine.uncertainty); 0.17
    before, when every untried topic drew and one of ~35 always drew above a loved topic that
    had hooked the viewer."""
    shares = [loved_share_21_30(demo_world, onboard=False, persona=p) for p in DEMO_PERSONAS]
    assert float(np.mean(shares)) >= 0.25, shares
