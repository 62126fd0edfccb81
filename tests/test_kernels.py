"""The optional compiled kernels (``foryou[fast]``) give the numpy path's picks exactly, load
only when the batched path asks for them, and can be refused (``FORYOU_KERNELS=numpy``)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from engine import kernels
from engine.api import Engine
from engine.batch import Batch
from engine.candidates import fresh
from engine.clock import VirtualClock
from engine.config import Config
from engine.idset import SparseTable
from engine.learned import INPUTS, LEARNED, OnlineLogit
from engine.pick import uniform_positions, weighted_draw
from engine.pipeline import _source_context
from engine.pools import PoolViewOnce
from engine.retrieval import largest
from engine.scoring import _hashtag_means
from engine.taste import taste_rows_of
from engine.world import EMBED_DIM

numba = pytest.importorskip("numba", reason="the kernels need the optional extra foryou[fast]")

VIEWERS = 12
ROUNDS = 25
KINDS = ("complete", "skip", "like", "not_interested", "follow", "share")


@pytest.fixture
def path_of(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """``path_of("numpy")`` / ``path_of("kernels")`` switches the path picks take."""

    def switch(path: str) -> None:
        monkeypatch.setenv(kernels.ENV, "numpy" if path == "numpy" else "")
        kernels.unload()
        kernels.load()
        assert kernels.path() == path

    yield switch
    kernels.unload()


def test_weighted_draws_are_numpys(path_of: Any) -> None:
    for trial in range(300):
        weights = np.random.default_rng(trial).pareto(1.5, 1 + trial * 7)
        weights[1 :: 3 + trial % 5] = 0.0  # zero-weight entries are never drawn
        size = min(int(np.count_nonzero(weights)), 1 + trial % 40)
        drawn = {}
        for path in ("numpy", "kernels"):
            path_of(path)
            rng = np.random.default_rng([trial, 9])
            drawn[path] = (weighted_draw(rng, weights / weights.sum(), size), rng.random())
        assert drawn["numpy"][0].tolist() == drawn["kernels"][0].tolist()
        assert drawn["numpy"][1] == drawn["kernels"][1]  # the generator is left in step


def test_uniform_positions_are_rng_choices(path_of: Any) -> None:
    path_of("kernels")
    for trial in range(500):
        shape = np.random.default_rng(trial)
        populations = shape.integers(1, 600, int(shape.integers(1, 9))).tolist()
        sizes = [min(p, int(shape.integers(0, 40))) for p in populations]
        ours, numpys = np.random.default_rng([trial, 3]), np.random.default_rng([trial, 3])
        drawn = uniform_positions(ours, populations, sizes)
        expected = [
            k
            for p, s in zip(populations, sizes, strict=True)
            for k in numpys.choice(p, s, replace=False).tolist()
        ]
        assert drawn.tolist() == expected
        assert ours.random() == numpys.random()


def test_batch_lookups_and_counts_are_numpys(path_of: Any) -> None:
    """Membership, table lookups and window counts of a batch, each row in its own viewer's
    data, with viewers whose sets are empty, short or long; a key or window value of -1 (a
    video without a sound) is counted by neither path."""
    for trial in range(60):
        shape = np.random.default_rng(trial)
        viewers = int(shape.integers(2, 9))
        rows = [shape.integers(0, 500, int(shape.integers(0, 60))) for _ in range(viewers)]
        batch = Batch.of(rows)
        members = [np.unique(shape.integers(0, 500, int(shape.integers(0, 80)))) for _ in rows]
        tables = [
            SparseTable(zip(m.tolist(), shape.normal(size=len(m)).tolist(), strict=True))
            for m in members
        ]
        # Windows of any length, holding -1 (a video without a sound) among the values.
        recent = [shape.integers(-1, 50, int(shape.integers(0, 11))).tolist() for _ in rows]
        window = batch.padded(recent, 10)
        answers = {}
        for path in ("numpy", "kernels"):
            path_of(path)
            answers[path] = (
                batch.member_sorted(members, batch.ids).tolist(),
                batch.lookup(tables, batch.ids, -1.5).tolist(),
                batch.count_in(window, batch.ids % 51 - 1).tolist(),  # -1 counts nowhere
            )
        assert answers["numpy"] == answers["kernels"]


def test_explore_probes_are_numpys(path_of: Any) -> None:
    """The explore source's cut of each population (its best new creators' uploads, then the
    best of the rest) picks the same rows in the same order on both paths, with many equal
    promises (unviewed uploads share one), empty and all-new populations, and no debut place."""
    from engine.candidates import _segment_tops

    for trial in range(80):
        shape = np.random.default_rng([5, trial])
        lengths = shape.integers(0, 40, int(shape.integers(1, 9)))
        segment = np.repeat(np.arange(len(lengths)), lengths)
        prior = shape.integers(0, 4, len(segment)) / 4.0  # ties everywhere
        new = shape.random(len(segment)) < shape.random()
        probes = int(trial % 3 == 0) if trial % 5 else 2
        size = shape.integers(1, 8, len(lengths))
        bounds = np.concatenate(([0], np.cumsum(lengths)))
        reference = _segment_tops(prior, new, segment, probes, size)
        path_of("kernels")
        compiled = kernels.loaded()
        assert compiled is not None
        assert (
            compiled.segment_tops(prior, new, bounds, probes, size).tolist() == reference.tolist()
        )
        for s in range(len(lengths)):  # each segment: its best new rows, then the best others
            rows = [r for r in reference.tolist() if segment[r] == s]
            own = np.flatnonzero(segment == s)
            for kind, want in ((True, probes), (False, None)):
                mine = own[new[own] == kind]
                ranked = mine[np.argsort(-prior[mine], kind="stable")]
                got = [r for r in rows if new[r] == kind]
                limit = want if kind else max(0, int(size[s]) - sum(new[r] for r in rows))
                assert got == ranked[:limit].tolist()


def test_a_liked_topics_best_are_numpys(path_of: Any) -> None:
    """The interest source's best videos of a liked topic: the same videos on both paths (the
    numpy path's in any order), seen ones (-inf) never, fewer than asked when few are left;
    the kernel's best first."""
    from engine.candidates import PRIOR_SIMILARITY

    for trial in range(80):
        shape = np.random.default_rng([7, trial])
        size = int(shape.integers(1, 300))
        sims = shape.normal(0.3, 0.2, size).astype(np.float32)
        sims[shape.random(size) < shape.random()] = -np.inf  # seen
        prior = np.round(shape.normal(size=size), 1)  # equal priors, as unviewed uploads'
        language = shape.integers(0, 4, size).astype(np.int8)
        weight = shape.normal(size=4) if trial % 2 else None
        n = int(shape.integers(1, 25))
        value = PRIOR_SIMILARITY * sims + prior
        if weight is not None:
            value += weight[language]
        path_of("kernels")
        compiled = kernels.loaded()
        assert compiled is not None
        weighed = weight is not None
        got = compiled.topic_best(
            sims, prior, language, weight if weighed else np.ones(1), weighed, PRIOR_SIMILARITY, n
        )
        best = largest(value, min(n, size))
        expected = best[np.isfinite(value[best])]
        assert sorted(got.tolist()) == sorted(expected.tolist())
        assert (np.diff(value[got]) <= 0).all()


def test_learned_updates_are_numpys(path_of: Any) -> None:
    """The learned model's step on an impression (every action, or one reaction after the
    close) leaves the same weights, sums, precisions and calibration bit for bit, over
    heavy-tailed inputs and every duration bucket."""
    states = {}
    for path in ("numpy", "kernels"):
        path_of(path)
        model = OnlineLogit.prior(Config())
        shape = np.random.default_rng(11)
        for trial in range(400):
            inputs = shape.normal(size=len(INPUTS)) * shape.lognormal(size=len(INPUTS))
            inputs[0] = 1.0
            rates = shape.normal(-2.0, 3.0, size=len(LEARNED))
            labels = (shape.random(len(LEARNED)) < 0.3).astype(np.float64)
            model.update(inputs, rates, labels, np.ones(len(LEARNED), dtype=bool))
            if trial % 4 == 0:
                mask = np.arange(len(LEARNED)) == trial % len(LEARNED)
                model.update(inputs, rates, mask.astype(np.float64), mask)
        states[path] = model.to_json()
    assert states["numpy"] == states["kernels"]


def test_learned_probabilities_are_numpys(path_of: Any) -> None:
    """P(action) of many rows through the calibration layer (every duration bucket, logits
    past the sigmoid's clip) is the numpy path's, bit for bit."""
    shape = np.random.default_rng(13)
    model = OnlineLogit.prior(Config())
    model.weights += shape.normal(scale=0.5, size=model.weights.shape)
    model.calibration += shape.normal(scale=0.3, size=model.calibration.shape)
    inputs = shape.normal(size=(4000, len(INPUTS))) * shape.lognormal(size=(4000, 1)) * 4
    inputs[:, 0] = 1.0
    rates = shape.normal(-2.0, 3.0, size=(4000, len(LEARNED)))
    found = {}
    for path in ("numpy", "kernels"):
        path_of(path)
        found[path] = model.probabilities(inputs, rates)
    assert found["numpy"].tobytes() == found["kernels"].tobytes()


def test_hashtag_means_are_numpys(path_of: Any) -> None:
    """Each row's mean hashtag affinity (videos with no, some or every tag slot filled;
    one viewer or several) is the numpy path's, bit for bit."""
    shape = np.random.default_rng(17)
    slots = shape.integers(0, 40, size=(300, 6)).astype(np.int32)
    slots[shape.random((300, 6)) < 0.4] = 40  # the appended 0: a missing tag
    counts = np.maximum((slots < 40).sum(axis=1), 1).astype(np.int32)
    catalog = SimpleNamespace(hashtag_slots=(slots, counts))
    for viewers in (1, 7):
        states = [
            SimpleNamespace(hashtag_affinity=shape.uniform(-1, 1, 40).astype(np.float32))
            for _ in range(viewers)
        ]
        batch = Batch.of([shape.integers(0, 300, 200) for _ in range(viewers)])
        context = SimpleNamespace(catalog=catalog)
        rows = SimpleNamespace(states=states, batch=batch, ids=batch.ids, ctx=context)
        found = {}
        for path in ("numpy", "kernels"):
            path_of(path)
            found[path] = _hashtag_means(rows)  # type: ignore[arg-type]
        assert found["numpy"].tobytes() == found["kernels"].tobytes()


def test_taste_rows_are_numpys(path_of: Any) -> None:
    """Each row's embedding · its viewer's taste, as numpy sums the products of a row."""
    shape = np.random.default_rng(5)
    embedding = (shape.normal(size=(500, EMBED_DIM)) * shape.lognormal(size=(500, 1))).astype(
        np.float32
    )
    states = [
        SimpleNamespace(taste_mean=None if k == 2 else shape.normal(size=EMBED_DIM) * 3)
        for k in range(5)
    ]
    ids = shape.integers(0, 500, 3000)
    viewer = np.sort(shape.integers(0, 5, 3000))
    found = {}
    for path in ("numpy", "kernels"):
        path_of(path)
        found[path] = taste_rows_of(states, viewer, embedding, ids)  # type: ignore[arg-type]
    assert found["numpy"].tobytes() == found["kernels"].tobytes()


def test_fresh_proposals_are_numpys(world_path: Path, path_of: Any) -> None:
    """The fresh source's pass as one kernel proposes what the numpy path does, draw for draw:
    viewers who saw none, some or most of the uploads in test, with and without topic draws."""
    with Engine.open(world_path, clock=VirtualClock(7200.0), log=False) as engine:
        world = engine._shared(engine.clock(), (), PoolViewOnce(engine.pools))
        ctx = _source_context(world, world.boosted_ids)
        testing = ctx.pools.view().testing
        assert len(testing) > 40
        topics = len(engine.topics())
        for trial in range(24):
            shape = np.random.default_rng(trial)
            state = engine._state(engine.new_user([]))
            share = (0.0, 0.05, 0.5, 0.97)[trial % 4]
            for video in shape.choice(testing, int(share * len(testing)), replace=False):
                state.seen.add(int(video))
            draws = None if trial % 3 == 0 else shape.uniform(0.2, 2.0, topics)
            quota = (5, 20, 60)[trial % 3]
            found = {}
            for path in ("numpy", "kernels"):
                path_of(path)
                rng = np.random.default_rng([trial, 5])
                found[path] = (fresh(ctx, state, quota, rng, draws).tolist(), rng.random())
            assert found["numpy"] == found["kernels"]
            assert len(found["numpy"][0]) == min(quota, len(testing) - len(state.seen))


def _session(engine: Engine, rounds: int, switch: Any, path: str) -> list[tuple[Any, ...]]:
    """A fixed session of batched picks and reactions; every pick's logged values."""
    topics = engine.topics()
    users = [
        engine.new_user([] if k % 4 == 0 else topics[k % 9 : k % 9 + 2], pick_seed=40 + k)
        for k in range(VIEWERS)
    ]
    engine.set_controls(users[1], topic_sliders={topics[5]: 2.5, topics[6]: 0.5})
    picks = []
    for round_ in range(rounds):
        switch(path)
        recs = engine.next_many(users)
        for k, (user, rec) in enumerate(zip(users, recs, strict=True)):
            picks.append((rec.video.id, rec.source, rec.score, rec.rank, rec.propensity))
            rng = np.random.default_rng([round_, k])
            kind = KINDS[int(rng.integers(len(KINDS)))]
            if kind not in ("complete", "skip"):
                if kind == "follow" and int(
                    engine.catalog.world.videos.creator_id[rec.video.id]
                ) in (engine._state(user).follows):
                    kind = "like"
                scope = {"scope": "video"} if kind == "not_interested" else {}
                engine.record(user, rec.video.id, kind, **scope)
            closing = "complete" if kind in ("complete", "like", "share") else "skip"
            engine.record(user, rec.video.id, closing, watched_s=float(rng.uniform(1.0, 30.0)))
        engine.clock.advance(41.0)  # type: ignore[attr-defined]
    return picks


def test_picks_are_the_same_with_and_without_kernels(
    world_path: Path, tmp_path: Path, path_of: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = tmp_path / "other.db"
    shutil.copy(world_path, other)
    calls = {"fresh": 0}
    fresh_pass = None

    def counted(*args: Any) -> Any:
        calls["fresh"] += 1
        assert fresh_pass is not None
        return fresh_pass(*args)

    path_of("kernels")
    compiled = kernels.loaded()
    assert compiled is not None
    fresh_pass = compiled.fresh_pass
    monkeypatch.setattr(compiled, "fresh_pass", counted)
    picks = {}
    for path, db in (("numpy", world_path), ("kernels", other)):
        with Engine.open(db, clock=VirtualClock(0.0), log=False) as engine:
            picks[path] = _session(engine, ROUNDS, path_of, path)
    assert calls["fresh"] >= VIEWERS * ROUNDS  # the kernels did the picks' work
    assert len(picks["kernels"]) == VIEWERS * ROUNDS
    for numpys, ours in zip(picks["numpy"], picks["kernels"], strict=True):
        assert numpys == ours


def test_numpy_can_be_forced(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(kernels.ENV, "numpy")
    kernels.unload()
    try:
        assert kernels.load() is None and kernels.path() == "numpy"
    finally:
        kernels.unload()


def test_one_pick_at_a_time_never_imports_numba(world_path: Path) -> None:
    """The terminal feed picks through next(): its cold start must not pay numba's import."""
    code = (
        "import sys\n"
        "from engine.api import Engine\n"
        f"with Engine.open({str(world_path)!r}, log=False) as engine:\n"
        "    engine.next(engine.new_user([]))\n"
        "print('numba' in sys.modules)\n"
    )
    checkout = Path(__file__).resolve().parents[1]
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=checkout
    ).stdout
    assert out.strip() == "False"
