"""The ``itemknn`` baseline: "viewers who finished what you finished also finished this".

Issue 17 asks how the engine compares, on real logs, with the textbook collaborative baseline;
this is item-based nearest neighbours (Sarwar et al. 2001; Deshpande & Karypis 2004) written
through the policy seam like any developer's ranker.

- **Data**: every positive the engine applies (a ``complete`` or a ``like``, once per viewer and
  video) reaches :meth:`ItemKNNScorer.observe`, in the order it happened: in ``foryou
  offline-eval`` that is the file's logged history as the replay re-lives it, in a simulation
  every event. Positives are kept as (viewer, video) pairs in growing numpy arrays: the binary
  viewer × video matrix X in coordinate form (:class:`engine.similar_viewers.SimilarViewers`,
  which also gives the engine's own model its input "similar viewers").
- **Similarity**: cosine on X's columns, sim(i, j) = C_ij / √(n_i n_j), where C_ij counts the
  *other* viewers positive on both and n_i the viewers positive on i. Every neighbour counts
  (no top-k cut: on these catalogues it only loses recall).
- **Score** of video j for viewer u: Σ over u's positives i of sim(i, j), divided by its
  largest value over the catalogue (so the engine's softmax temperature sees a 0-1 scale), plus
  :data:`POPULARITY_WEIGHT` × the smoothed completion rate (what orders videos nobody co-watched,
  and everything for a viewer with no positives yet). Computed over the whole catalogue at once
  without forming the video × video matrix: w_v = Σ_{i∈H(u)} X_vi / √n_i per viewer, then
  score_j = Σ_v w_v X_vj / √n_j, two ``np.bincount`` over the pairs, O(pairs) per viewer and
  cached until a positive arrives.
- **Sources**: the :data:`POOL` best-scored unseen videos (credited to co-engagement) and as
  many of the most completed (the popular baseline's pool); the engine's filters, re-rank and
  sampling then apply as for any :class:`engine.policy.StagedPolicy`.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from engine.candidates import BASELINE_POOL, Candidates, SourceContext, own_proposals
from engine.events import Event
from engine.policy import CandidateSet, PickRequest, StagedPolicy
from engine.profile import UserState
from engine.scoring import ScoringContext, popularity_scores
from engine.similar_viewers import SimilarViewers
from engine.sources import Source

__all__ = ["ItemKNNPolicy", "ItemKNNScorer"]

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

POSITIVE = frozenset({"complete", "like"})
POPULARITY_WEIGHT = 0.1  # beside a 0-1 neighbour score: orders what no neighbour reaches
POOL = BASELINE_POOL  # unseen videos each source proposes per pick


class ItemKNNScorer:
    """Item-item cosine over every viewer's positives (see the module docstring)."""

    def __init__(self) -> None:
        self._positives = SimilarViewers()
        self._cache: tuple[tuple[int, int, int], F64] | None = None

    def observe(self, event: Event) -> None:
        if event.kind in POSITIVE and event.video_id is not None:
            self._positives.add(event.user_id, event.video_id)  # a repeat counts once

    def neighbour_scores(self, user_id: int, n_videos: int) -> F64:
        """Σ of cosine similarities to the viewer's positives for every video, scaled so the
        best is 1 (all 0 for a viewer with no positives, or none anybody shares)."""
        key = (user_id, len(self._positives), n_videos)
        if self._cache is not None and self._cache[0] == key:
            return self._cache[1]
        sums = self._positives.cosine_sums(user_id, n_videos)
        best = float(sums.max()) if len(sums) else 0.0
        scores: F64 = sums / best if best > 0 else sums
        self._cache = (key, scores)
        return scores

    def score(self, request: PickRequest, candidates: CandidateSet) -> F64:
        neighbours = self.neighbour_scores(request.viewer_id, request.catalog.n)
        context = ScoringContext(request.catalog, request.config, request.now, {})
        popularity = popularity_scores(candidates.ids, context)
        result: F64 = neighbours[candidates.ids] + POPULARITY_WEIGHT * popularity
        return result

    def sources(self, ctx: SourceContext, state: UserState, rng: np.random.Generator) -> Candidates:
        """The best-scored unseen videos, and the popular baseline's pool."""
        neighbours = self.neighbour_scores(state.user_id, ctx.catalog.n)
        reached = np.flatnonzero(neighbours > 0)
        wanted = POOL + len(state.seen)  # enough to leave POOL once the seen are cut
        best = reached[np.argsort(-neighbours[reached], kind="stable")[:wanted]]
        popular = ctx.catalog.most_completed(ctx.config.scoring.prior_views, BASELINE_POOL * 4)
        proposed: dict[str, I64] = {Source.COENGAGEMENT: best, Source.POPULAR: popular}
        return own_proposals(ctx, state, proposed, POOL)


class ItemKNNPolicy(StagedPolicy):
    """The item-kNN baseline: its own sources and scorer in the engine's other stages."""

    def __init__(self) -> None:
        scorer = ItemKNNScorer()
        super().__init__(scorer, sources=scorer.sources, name="itemknn")
