"""Pictures of the main screens on a tiny fixed-seed world, compared with the accepted ones.

Playback is frozen (``live=False``, a fixed clock), so every run draws the same frames. Nothing
here triggers a toast or the like-heart, whose timers would race the screenshot. After a
deliberate change of the look, accept the new pictures with ``pytest --snapshot-update``.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from engine import Engine, VirtualClock
from seed.build import build_world
from tests.conftest import EPOCH
from tui.app import FeedApp, make_app
from tui.screens.feed import FeedScreen

SnapCompare = Callable[..., bool]


@pytest.fixture(scope="module")
def tiny_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("snap") / "tiny.db"
    build_world(path, videos=400, seed=11, epoch_unix=EPOCH)
    with Engine.open(path, clock=VirtualClock(0.0)) as eng:
        eng.new_user(["cooking", "pets"], name="snap")
    return path


@pytest.fixture
def app(tiny_world: Path, tmp_path: Path) -> FeedApp:
    world = tmp_path / "tiny.db"
    shutil.copy(tiny_world, world)
    return make_app(world, "snap", live=False, world_clock=VirtualClock(0.0), clock=lambda: 0.0)


def feed(pilot: Pilot[Any]) -> FeedScreen:
    screens = [s for s in pilot.app.screen_stack if isinstance(s, FeedScreen)]
    return screens[0]


def test_feed_at_80_by_24(app: FeedApp, snap_compare: SnapCompare) -> None:
    assert snap_compare(app, terminal_size=(80, 24))


def test_feed_with_the_profile_panel(app: FeedApp, snap_compare: SnapCompare) -> None:
    async def watch_one_to_the_end(pilot: Pilot[Any]) -> None:
        video = feed(pilot).session.video
        assert video is not None
        feed(pilot).play(video.duration_s)
        await pilot.press("j")

    assert snap_compare(app, terminal_size=(120, 40), run_before=watch_one_to_the_end, press=["i"])


def test_xray(app: FeedApp, snap_compare: SnapCompare) -> None:
    assert snap_compare(app, terminal_size=(120, 32), press=["x"])


def test_why_this_video(app: FeedApp, snap_compare: SnapCompare) -> None:
    assert snap_compare(app, terminal_size=(100, 32), press=["w"])


@pytest.mark.slow
def test_session_summary(app: FeedApp, snap_compare: SnapCompare) -> None:
    assert snap_compare(app, terminal_size=(100, 30), press=["j", "j", "q"])
