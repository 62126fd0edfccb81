"""The ``bandit`` baseline: Thompson sampling over topics, then the topic's most watched video.

Issue 14 asks the engine to beat, on equal terms, a learner far simpler than itself; this is
that learner, written through the policy seam like any developer's ranker.

- **Posterior**: per viewer and topic, Beta(α, β) on a watch reward, 1 when the viewer
  completed the video or watched at least :data:`GOOD_WATCH` of it, else 0. Prior
  Beta(:data:`PRIOR`) on every topic, the same for every viewer: its mean, 0.25, is about the
  share of good watches a new viewer gives an unpersonalised feed, so a topic that disappoints
  once falls behind the untried ones (Beta(1, 1) would explore each of ~40 topics about twice
  before exploiting any); plus :data:`ONBOARDING_PRIOR` successes on each topic the viewer
  named at sign-up: a mild prior (a couple of good videos' worth, outweighed after a few
  watches). Cold-start viewers start from nothing.
- **Pick**: draw θ_t ~ Beta(α_t, β_t) for every topic with an allowed video, take the topic of
  the largest draw, and in it the allowed video with the best watch-weighted popularity: the
  engine's smoothed completion rate × duration (expected seconds completed per view).
- **Propensity**: the chance that a topic wins the draw has no closed form, so it is estimated
  by Monte Carlo: :data:`MC_DRAWS` further draws from the pick's own generator, the real draw
  counted as one more (so the picked topic never gets 0). It is an estimate, not exact: its
  standard error is about sqrt(p(1 − p) / (MC_DRAWS + 1)), and off-policy estimates on the
  bandit's logs carry that error. The slate is each topic's best video with its topic's
  estimated probability.
- **Learning**: :meth:`BanditPolicy.observe` queues a viewer's closing events (complete,
  skip); they are folded into the posterior at the viewer's next pick, where the catalog's
  durations are at hand, so events replayed when a viewer's history loads count as well.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from engine.pipeline import Decision, NothingToRecommendError
from engine.policy import SLATE_SHOWN, Event, PickRequest, PolicyBase, plain_receipt

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

GOOD_WATCH = 0.5  # share of a video watched that counts as a reward
PRIOR = (1.0, 3.0)  # prior (successes, failures) of every topic
ONBOARDING_PRIOR = 2.0  # prior successes on each topic named at sign-up
MC_DRAWS = 256  # extra posterior draws behind each propensity estimate
CLOSING = ("complete", "skip")


@dataclass
class _Viewer:
    """One viewer's posterior, and closing events not yet folded into it."""

    successes: F64
    failures: F64
    pending: list[tuple[int, bool, float]] = field(default_factory=list)


class BanditPolicy(PolicyBase):
    """Thompson sampling over topics with watch-weighted popularity inside the topic."""

    name = "bandit"

    def __init__(
        self,
        mc_draws: int = MC_DRAWS,
        onboarding_prior: float = ONBOARDING_PRIOR,
        prior: tuple[float, float] = PRIOR,
    ) -> None:
        self.mc_draws = int(mc_draws)
        self.prior = (float(prior[0]), float(prior[1]))
        self.onboarding_prior = float(onboarding_prior)
        self._viewers: dict[int, _Viewer] = {}
        self._queued: dict[int, list[tuple[int, bool, float]]] = {}

    def observe(self, event: Event) -> None:
        if event.kind not in CLOSING or event.video_id is None:
            return
        watched = event.watched_s if event.watched_s is not None else 0.0
        closing = (event.video_id, event.kind == "complete", watched)
        self._queued.setdefault(event.user_id, []).append(closing)

    def pick(self, request: PickRequest) -> Decision:
        ids, removed = request.allowed()
        if len(ids) == 0:
            raise NothingToRecommendError(
                f"nothing left to recommend to {request.state.name}", request.viewer_id
            )
        viewer = self._posterior(request)
        topic_of = request.catalog.world.videos.topic_id[ids].astype(np.int64)
        leaders, topics = _leaders(ids, topic_of, _watch_popularity(request, ids))
        draws = request.rng.beta(viewer.successes[topics], viewer.failures[topics])
        chosen = int(np.argmax(draws))
        probabilities = self._win_shares(request.rng, viewer, topics, chosen)
        order = np.r_[chosen, np.argsort(-probabilities, kind="stable")]
        shown = order[np.r_[True, order[1:] != chosen]][:SLATE_SHOWN]
        receipt = plain_receipt(
            request,
            leaders[shown],
            draws[shown],
            probabilities[shown],
            removed=removed,
            kept=len(ids),
            policy=self.name,
            pool_state=None,
            term="topic draw",
        )
        return Decision(
            video_id=int(leaders[chosen]),
            source=self.name,
            score=float(draws[chosen]),
            rank=0,
            propensity=float(probabilities[chosen]),
            receipt=receipt,
            slate_ids=leaders,
            slate_probabilities=probabilities,
        )

    def _posterior(self, request: PickRequest) -> _Viewer:
        """The viewer's posterior, with every event queued since its last pick folded in."""
        user = request.viewer_id
        viewer = self._viewers.get(user)
        if viewer is None:
            n_topics = len(request.catalog.world.topics)
            successes = np.full(n_topics, self.prior[0])
            named = [t for t in request.state.interests if 0 <= t < n_topics]
            successes[named] += self.onboarding_prior
            failures = np.full(n_topics, self.prior[1])
            viewer = self._viewers[user] = _Viewer(successes, failures)
        videos = request.catalog.world.videos
        for video_id, completed, watched in self._queued.pop(user, []):
            good = completed or watched >= GOOD_WATCH * float(videos.duration_s[video_id])
            topic = int(videos.topic_id[video_id])
            (viewer.successes if good else viewer.failures)[topic] += 1.0
        return viewer

    def _win_shares(
        self, rng: np.random.Generator, viewer: _Viewer, topics: I64, chosen: int
    ) -> F64:
        """Estimated chance that each topic wins the draw (see the module docstring)."""
        wins = np.zeros(len(topics))
        wins[chosen] += 1.0
        if self.mc_draws > 0:
            shape = (self.mc_draws, len(topics))
            draws = rng.beta(viewer.successes[topics], viewer.failures[topics], size=shape)
            wins += np.bincount(np.argmax(draws, axis=1), minlength=len(topics))
        shares: F64 = wins / wins.sum()
        return shares


def _watch_popularity(request: PickRequest, ids: I64) -> F64:
    """Smoothed completion rate × duration: expected seconds completed per view."""
    prior = request.config.scoring.prior_views
    rate = request.catalog.engagement.rate("completions", ids, prior)
    duration = request.catalog.world.videos.duration_s[ids].astype(np.float64)
    result: F64 = rate * duration
    return result


def _leaders(ids: I64, topic_of: I64, score: F64) -> tuple[I64, I64]:
    """The best-scored id of each topic (the lowest id among ties), and the topics, ascending."""
    order = np.lexsort((-score, topic_of))  # by topic, then best first; stable keeps id order
    first = np.r_[True, topic_of[order][1:] != topic_of[order][:-1]]
    best = order[first]
    return ids[best], topic_of[best]
