"""The contract every policy keeps, written once (implicit's ``RecommenderBaseTestMixin``).

A test class inherits :class:`PolicyContract` and defines ``make_policy()`` (a fresh policy or
scorer); it gets every test below, run through a real :class:`engine.Engine` on the 3k test
world (in memory: ``log=False``). A policy that reads more than the engine gives it (the
oracle reads personas) overrides ``prepare``. ``make_policy`` is called from a class-scoped
fixture too, so what it reads must be set up per class.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from engine import Engine
from engine.clock import VirtualClock
from engine.pipeline import Decision
from engine.policy import PickRequest, PolicyBase, as_policy
from engine.sources import receipt_sentence

PICKS = 12


class Recorder(PolicyBase):
    """Passes picks to the policy under test and keeps each decision with the ids the
    engine's filters allowed at that moment."""

    def __init__(self, inner: Any) -> None:
        self.inner = as_policy(inner)
        self.name = self.inner.name
        self.seen: list[tuple[Decision, set[int]]] = []

    def pick_many(self, requests: Sequence[PickRequest]) -> list[Decision]:
        allowed = [set(r.allowed()[0].tolist()) for r in requests]
        decisions = self.inner.pick_many(requests)
        self.seen.extend(zip(decisions, allowed, strict=True))
        return decisions

    def observe(self, event: Any) -> None:
        self.inner.observe(event)


class PolicyContract:
    """Mix into a test class and define ``make_policy``."""

    def make_policy(self) -> Any:
        raise NotImplementedError

    def prepare(self, policy: Any, engine: Engine, user_id: int) -> None:
        """Give the policy what it needs about a new viewer (nothing, for most)."""

    # -- helpers -----------------------------------------------------------------------------

    def _engine(self, world: Path, policy: Any) -> Engine:
        return Engine.open(world, clock=VirtualClock(1000.0), log=False, policy=policy)

    def _watch(self, world: Path, picks: int = PICKS) -> tuple[Recorder, list[int], Engine]:
        """One viewer watches: completes every third video, hides the creator of the second,
        says "not interested" in the topic of the fifth."""
        inner = as_policy(self.make_policy())
        recorder = Recorder(inner)
        engine = self._engine(world, recorder)
        uid = engine.new_user(interests=["cooking"], pick_seed=5)
        self.prepare(inner, engine, uid)
        videos = []
        for i in range(picks):
            rec = engine.next(uid)
            videos.append(rec.video.id)
            if i == 1:
                engine.record(uid, rec.video.id, "hide_creator")
            if i == 4:
                engine.record(uid, rec.video.id, "not_interested", scope="topic")
            kind = "complete" if i % 3 == 0 else "skip"
            engine.record(uid, rec.video.id, kind, watched_s=4.0)
            engine.clock.advance(5.0)  # type: ignore[attr-defined]
        return recorder, videos, engine

    @pytest.fixture(scope="class")
    def watched(self, world_template: Path) -> Iterator[tuple[Recorder, list[int], Engine]]:
        """One :meth:`_watch` run (a fresh policy, the template world read only), which the
        tests below read and never move on: each used to repeat the same run, and a
        ceiling's run takes a second or two."""
        recorder, videos, engine = self._watch(world_template)
        with engine:
            yield recorder, videos, engine

    # -- the contract ------------------------------------------------------------------------

    def test_propensities_and_slate_probabilities(
        self, watched: tuple[Recorder, list[int], Engine]
    ) -> None:
        recorder, _, _ = watched
        assert len(recorder.seen) == PICKS
        for decision, _ in recorder.seen:
            assert 0.0 < decision.propensity <= 1.0
            probs = decision.slate_probabilities
            assert len(probs) == len(decision.slate_ids) > 0
            assert (probs >= 0).all()
            assert probs.sum() == pytest.approx(1.0, abs=1e-9)
            hit = np.flatnonzero(decision.slate_ids == decision.video_id)
            assert len(hit) == 1, "the pick is in its slate, once"
            assert probs[hit[0]] == pytest.approx(decision.propensity)

    def test_never_a_filtered_video(self, watched: tuple[Recorder, list[int], Engine]) -> None:
        recorder, videos, engine = watched
        assert len(set(videos)) == len(videos), "a seen video came back"
        creators = engine.catalog.world.videos.creator_id
        hidden = int(creators[videos[1]])
        assert all(int(creators[v]) != hidden for v in videos[2:])
        topic = engine.catalog.world.videos.topic_id
        dismissed = int(topic[videos[4]])
        assert all(int(topic[v]) != dismissed for v in videos[5:])
        spam = engine.catalog.world.videos.spam
        for decision, allowed in recorder.seen:
            assert not spam[decision.video_id]
            assert decision.video_id in allowed
            shown = decision.slate_ids[decision.slate_probabilities > 0]
            assert set(shown.tolist()) <= allowed, "probability on a filtered video"

    def test_every_pick_is_told_in_words(self, watched: tuple[Recorder, list[int], Engine]) -> None:
        """What "why this video" and ``foryou explain`` show: every source that proposed
        the pick gets a sentence (a boost has its own line)."""
        recorder, _, _ = watched
        for decision, _ in recorder.seen:
            receipt = decision.receipt
            reasons = receipt.reasons()
            for source in receipt.sources:
                if source != "boosted":
                    assert receipt_sentence(source, receipt.context) in reasons

    def test_deterministic_for_the_same_seed(
        self, watched: tuple[Recorder, list[int], Engine], world_path: Path
    ) -> None:
        # The shared run against a second one from a fresh policy and engine, on a copy.
        first, videos_a, _ = watched
        second, videos_b, engine_b = self._watch(world_path)
        engine_b.close()
        assert videos_a == videos_b
        assert [d.propensity for d, _ in first.seen] == [d.propensity for d, _ in second.seen]

    def test_a_batch_of_n_is_n_batches_of_one(self, world_path: Path) -> None:
        policy_batch = as_policy(self.make_policy())
        policy_single = as_policy(self.make_policy())
        tee = Recorder(policy_batch)
        tee.observe = lambda event: (policy_batch.observe(event), policy_single.observe(event))  # type: ignore[method-assign]
        with self._engine(world_path, tee) as engine:
            users = []
            for k, topic in enumerate(["cooking", "pets", "gaming", "booktok"]):
                uid = engine.new_user(interests=[topic], pick_seed=k)
                self.prepare(policy_batch, engine, uid)
                self.prepare(policy_single, engine, uid)
                users.append(uid)
            for uid in users:  # one pick each, seen by both policies: histories differ too
                engine.record(uid, engine.next(uid).video.id, "complete", watched_s=5.0)

            def requests() -> list[PickRequest]:
                return [engine.pick_request(uid) for uid in users]

            batch = policy_batch.pick_many(requests())
            singles = [policy_single.pick(r) for r in requests()]
        assert len(batch) == len(users)
        for a, b in zip(batch, singles, strict=True):
            assert a.video_id == b.video_id
            assert a.propensity == b.propensity
            np.testing.assert_array_equal(a.slate_ids, b.slate_ids)
            np.testing.assert_array_equal(a.slate_probabilities, b.slate_probabilities)
