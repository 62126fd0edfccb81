"""Metrics and statistics on hand-built traces with known answers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from engine.config import Config
from engine.sim.experiment import ArmRun
from engine.sim.metrics import Parts, gini, lorenz, measure
from engine.sim.runner import Arm
from engine.sim.stats import population_difference, ratio_difference
from engine.sim.trace import NO_NEGATIVE, SCOPE_CODE, TRACE_DTYPE, Population
from engine.store import Store
from engine.world import World


@pytest.fixture(scope="module")
def world(world_template: Path) -> World:
    with Store.open(world_template) as store:
        return store.load_world()


def trace_of(rows: list[dict[str, Any]]) -> np.ndarray:
    """A trace from partial rows (unit, video, ...), positions filled in order per unit."""
    trace = np.zeros(len(rows), dtype=TRACE_DTYPE)
    trace["negative"] = NO_NEGATIVE
    life: dict[int, int] = {}
    for i, row in enumerate(rows):
        unit = row.get("unit", 0)
        trace["life"][i] = trace["depth"][i] = life.get(unit, 0)
        life[unit] = life.get(unit, 0) + 1
        for key, value in row.items():
            trace[key][i] = value
    return trace


def run_of(trace: np.ndarray, world: World, loved: list[list[int]]) -> ArmRun:
    n_topics = len(world.topics)
    taste = np.zeros((len(loved), n_topics))
    mask = np.zeros((len(loved), n_topics), dtype=bool)
    for unit, topics in enumerate(loved):
        mask[unit, topics] = True
        taste[unit, topics] = 1.0
    population = Population(taste, mask, np.full(len(loved), 0.5), np.ones(len(loved), np.int64))
    return ArmRun(Arm("test", Config()), trace, population, np.zeros(4), len(trace), 0, 1.0, 1.0)


def videos_of(world: World, topic: int) -> np.ndarray:
    return np.flatnonzero(world.videos.topic_id == topic)


def test_time_to_personalise_counts_impressions_until_six_of_the_last_ten_are_loved(
    world: World,
) -> None:
    loved, other = videos_of(world, 0), videos_of(world, 1)
    feed = [int(v) for v in other[:12]] + [int(v) for v in loved[:10]]
    m = measure(run_of(trace_of([{"video": v} for v in feed]), world, [[0]]), world)
    assert m.parts["time_to_personalise"].value == 18  # the 6th loved video is the 18th
    assert m.parts["personalised"].value == 1.0
    assert m.parts["loved_share"].value == pytest.approx(10 / 22)


def test_a_persona_never_personalised_counts_what_it_saw(world: World) -> None:
    feed = [int(v) for v in videos_of(world, 1)[:15]]
    m = measure(run_of(trace_of([{"video": v} for v in feed]), world, [[0]]), world)
    assert m.parts["time_to_personalise"].value == 15
    assert m.parts["personalised"].value == 0.0


def test_negative_return_counts_the_dismissed_creator_coming_back(world: World) -> None:
    creator = int(np.bincount(world.videos.creator_id).argmax())
    own = np.flatnonzero(world.videos.creator_id == creator)
    others = np.flatnonzero(world.videos.creator_id != creator)
    rows = [{"video": int(own[0]), "negative": SCOPE_CODE["creator"]}]
    rows += [{"video": int(v)} for v in others[:18]]
    rows += [{"video": int(own[1])}, {"video": int(own[2])}]  # positions 19 and 20 after
    rows += [{"video": int(v)} for v in others[18:40]]
    m = measure(run_of(trace_of(rows), world, [[0]]), world)
    assert m.parts["negative_return_20"].value == pytest.approx(2 / 20)
    assert m.parts["negative_return_100"].value == pytest.approx(2 / 42)
    assert m.parts["not_interested"].value == pytest.approx(1 / 43)


def test_one_topic_has_no_entropy_and_a_full_bubble(world: World) -> None:
    feed = videos_of(world, 2)[:20]
    m = measure(run_of(trace_of([{"video": int(v)} for v in feed]), world, [[2]]), world)
    assert m.parts["topic_entropy"].value == pytest.approx(0.0)
    assert m.parts["top_topic_share"].value == pytest.approx(1.0)
    spread = [int(videos_of(world, t)[0]) for t in range(4) for _ in range(1)] * 5
    m = measure(run_of(trace_of([{"video": v} for v in spread]), world, [[2]]), world)
    assert m.parts["topic_entropy"].value == pytest.approx(2.0)


def test_diversity_is_zero_for_one_video_repeated_and_high_across_topics(world: World) -> None:
    same = trace_of([{"video": 7} for _ in range(10)])
    assert measure(run_of(same, world, [[0]]), world).parts[
        "intra_list_diversity"
    ].value == pytest.approx(0.0, abs=1e-6)
    mixed = trace_of([{"video": int(videos_of(world, t)[0])} for t in range(10)])
    assert measure(run_of(mixed, world, [[0]]), world).parts["intra_list_diversity"].value > 0.5


def test_watch_time_per_session_divides_by_sessions_not_impressions(world: World) -> None:
    rows = [{"video": 1, "watched_s": 10.0, "session": s} for s in (0, 0, 1, 1)]
    m = measure(run_of(trace_of(rows), world, [[0]]), world)
    assert m.parts["watch_per_session"].value == pytest.approx(20.0)
    assert m.parts["session_depth"].value == pytest.approx(2.0)


def test_gini_and_lorenz_known_values() -> None:
    assert gini(np.array([[5.0], [5.0], [5.0], [5.0]]))[0] == pytest.approx(0.0)
    assert gini(np.array([[0.0], [0.0], [0.0], [8.0]]))[0] == pytest.approx(0.75)
    x, y = lorenz(np.array([1.0, 1.0, 2.0]))
    assert (x[0], y[0], x[-1], y[-1]) == (0.0, 0.0, 1.0, 1.0)
    assert y[1] == pytest.approx(0.25)


def test_a_real_shift_gets_an_interval_that_excludes_zero() -> None:
    rng = np.random.default_rng(0)
    base = rng.normal(100, 30, 200)
    a = Parts(base, np.ones(200))
    b = Parts(base + 5 + rng.normal(0, 2, 200), np.ones(200))
    d = ratio_difference("watch_per_session", a, b, np.random.default_rng(1), n_resamples=999)
    assert d.excludes_zero
    assert d.low < 5 < d.high
    same = ratio_difference("watch_per_session", a, a, np.random.default_rng(1), 999)
    assert same.diff == 0 and not same.excludes_zero


def test_population_differences_resample_personas(world: World) -> None:
    narrow = trace_of([{"unit": u, "video": 3} for u in range(20) for _ in range(5)])
    wide = trace_of([{"unit": u, "video": 5 * u + k} for u in range(20) for k in range(5)])
    loved = [[0]] * 20
    a = measure(run_of(narrow, world, loved), world).exposure
    b = measure(run_of(wide, world, loved), world).exposure
    d = population_difference("catalog_coverage", a, b, np.random.default_rng(2), 499)
    assert d.diff > 0 and d.excludes_zero
