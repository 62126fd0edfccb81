"""Scoring given videos for a viewer without picking one: what :meth:`Engine.rank` returns.

Offline metrics (AUC of P(complete), NDCG of a ranking of held-out videos) and notebooks need
a policy's view of *given* candidates, not of the candidates its sources would propose, and
must not move anything: no impression, no served count, no draw from the pick's generator.
A staged policy's scorer scores the given ids as if its sources had proposed them (no
filters); any other policy is asked to pick and its slate probability of each given id is
its score (0 outside its slate). Where a pick would draw a chance per topic
(:mod:`engine.uncertainty`), a ranking takes each topic's posterior mean instead: the
engine's expected view, the same on every call. Co-engagement with the viewer's recent
positives is on the candidates as in a pick.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from engine.coengagement import recent_positives
from engine.learned import INPUTS, LEARNED, global_rates, input_matrix_of, rate_logits
from engine.pipeline import NothingToRecommendError, Proposal, catalog_candidates
from engine.policy import CandidateSet, EngineScorer, PickRequest, Policy, StagedPolicy
from engine.scoring import ScoringContext, ScoringRows
from engine.uncertainty import posterior_mean, topic_prior

__all__ = ["Ranking", "learned_rows", "rank_given"]

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


@dataclass(frozen=True, eq=False)
class Ranking:
    """A policy's scores of given videos for one viewer.

    Attributes:
        video_ids: the videos, as given.
        scores: the policy's score of each (higher is better; a non-staged policy's is its
            probability of picking it now).
        p: the engine's P(action) per action (``complete``, ``like``, ...) for each video,
            when the policy is the engine's own scorer; None otherwise.
    """

    video_ids: I64
    scores: F64
    p: dict[str, F64] | None

    @property
    def order(self) -> I64:
        """Indices of :attr:`video_ids`, best first (ties keep the given order)."""
        order: I64 = np.argsort(-self.scores, kind="stable")
        return order


def rank_given(policy: Policy, request: PickRequest, video_ids: I64) -> Ranking:
    """Score ``video_ids`` for the request's viewer with ``policy`` (see the module docstring).

    Args:
        request: a pick request whose generator may be drawn from freely (a throwaway).
    """
    if isinstance(policy, StagedPolicy):
        # Scored by the learned P(action) where the policy has one, as its picks are.
        learner = policy.learner
        model = None if learner is None else learner.ready(request.config)
        candidates = CandidateSet(request, _proposal(request, video_ids), model)
        scores = np.asarray(policy.scorer.score(request, candidates), dtype=np.float64)
        p = candidates.engine_scores.p if isinstance(policy.scorer, EngineScorer) else None
        return Ranking(
            video_ids, scores, None if p is None else {k: v.copy() for k, v in p.items()}
        )
    try:
        decision = policy.pick(request)
    except NothingToRecommendError:
        return Ranking(video_ids, np.zeros(len(video_ids)), None)
    by_id = dict(
        zip(decision.slate_ids.tolist(), decision.slate_probabilities.tolist(), strict=True)
    )
    return Ranking(video_ids, np.array([by_id.get(int(v), 0.0) for v in video_ids]), None)


_KEEP_ONE = np.ones(1, dtype=np.bool_)  # a lone given video, kept


def learned_rows(
    requests: Sequence[PickRequest], video_ids: Sequence[int]
) -> list[tuple[dict[str, float], dict[str, float]]]:
    """The learned model's input row and global-rate logits of each ``video_ids[k]`` for
    ``requests[k]``'s viewer at its time: what a receipt logs when the engine serves that video
    (its ``inputs`` and ``rates``), for viewings the engine did not serve itself (an imported
    log's). One batch for all: each row is the same as alone."""
    if not requests:
        return []
    ids = [np.array([v], dtype=np.int64) for v in video_ids]
    world = requests[0].world  # one engine's: one catalog, config and co-engagement
    # As a ranking's candidates hold them (_proposal), the co-engagement for the whole batch.
    similarity = [
        Proposal(catalog_candidates(r.world, r.state, own), _KEEP_ONE, {}).similarity
        for r, own in zip(requests, ids, strict=True)
    ]
    coengagement = world.coengagement
    coengaged: list[F64 | None] = (
        [None] * len(ids)
        if coengagement is None
        else list(
            coengagement.scores_many(ids, [recent_positives(r.state.reactions) for r in requests])
        )
    )
    # The rows alone: the learned scorer's P, values and multipliers would be thrown away.
    contexts = [ScoringContext(r.world.catalog, r.world.config, r.world.now, {}) for r in requests]
    similar: list[F64 | None] = (
        [None] * len(ids)
        if coengagement is None
        else list(coengagement.viewers.scores_many(ids, [r.state.user_id for r in requests]))
    )
    rows = ScoringRows.of(
        ids, similarity, [r.state for r in requests], contexts, coengaged, similar
    )
    every = np.concatenate(ids)
    rates = global_rates(every, contexts[0])  # the catalog's counts: the same for every viewer
    inputs = input_matrix_of(rows, rates).tolist()
    logits = rate_logits(every, contexts[0], rates).tolist()
    return [
        (dict(zip(INPUTS, x, strict=True)), dict(zip(LEARNED, r, strict=True)))
        for x, r in zip(inputs, logits, strict=True)
    ]


def _proposal(request: PickRequest, video_ids: I64) -> Proposal:
    state, coengagement = request.state, request.world.coengagement
    candidates = replace(
        catalog_candidates(request.world, state, video_ids),
        topic_draw=posterior_mean(state, topic_prior(request.world.catalog.world))
        if len(state.topic_hooked)
        else None,
        coengagement=None
        if coengagement is None
        else coengagement.scores(video_ids, recent_positives(state.reactions)),
        similar_viewers=None
        if coengagement is None
        else coengagement.viewers.scores(video_ids, state.user_id),
    )
    return Proposal(candidates, np.ones(len(video_ids), dtype=np.bool_), {})
