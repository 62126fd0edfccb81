"""The watch-time rules of one viewing, second by second, without an app."""

from __future__ import annotations

import pytest

from tui.playback import SPEEDS, Playback, next_speed


def test_leaving_early_is_a_skip_with_the_seconds_watched() -> None:
    playback = Playback(duration_s=10.0)
    assert playback.advance(3.25) == []
    assert playback.watched_s == 3.25
    assert not playback.completed


def test_reaching_the_end_completes_once_then_each_full_loop_is_a_rewatch() -> None:
    playback = Playback(duration_s=10.0)
    assert playback.advance(9.9) == []
    assert playback.advance(0.2) == ["complete"]
    assert playback.position_s == pytest.approx(0.1)
    assert playback.advance(9.0) == []  # most of a second loop is not a rewatch yet
    assert playback.advance(1.0) == ["rewatch"]
    assert playback.advance(25.0) == ["rewatch", "rewatch"]
    assert playback.rewatches == 3


def test_speed_scales_video_time_and_pause_stops_it() -> None:
    playback = Playback(duration_s=12.0, speed=4.0)
    assert playback.advance(2.0) == []
    assert playback.position_s == pytest.approx(8.0)
    playback.paused = True
    assert playback.advance(60.0) == []
    assert playback.position_s == pytest.approx(8.0)
    playback.paused = False
    assert playback.advance(1.0) == ["complete"]


@pytest.mark.parametrize("elapsed", [0.0, -1.0])
def test_no_time_or_time_running_backwards_changes_nothing(elapsed: float) -> None:
    playback = Playback(duration_s=5.0)
    assert playback.advance(elapsed) == []
    assert playback.position_s == 0.0


def test_speeds_cycle() -> None:
    assert [next_speed(s) for s in SPEEDS] == [2.0, 4.0, 1.0]
    assert Playback(duration_s=8.0, position_s=2.0).fraction == 0.25
