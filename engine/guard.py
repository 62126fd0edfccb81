"""The engine's side of the policy seam: what a ranker returns is checked before it is served.

A ranker written outside the engine (``--policy file.py:Class``) runs inside every pick, so a
mistake in it must stop the pick before anything is stored and be told in one line naming
the class: a propensity outside (0, 1] would be logged and then weigh every off-policy
estimate; a video the filters exclude would serve a viewer what they hid or already saw. The
checks a decision must pass are those of ``tests/policy_contract.py`` that one pick can show.

Built-in policies get only the cheap part (a known video, a propensity in (0, 1], the pick in
its slate): a staged policy picks from its filtered candidates by construction, and the
filters are run again only for a whole policy whose code is not the engine's.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from numbers import Integral

import numpy as np
import numpy.typing as npt

from engine.events import Event
from engine.filters import FilterContext, apply_filters
from engine.pipeline import Decision, NothingToRecommendError
from engine.policy import BrokenPolicyError, PickRequest, Policy, StagedPolicy, is_builtin, named
from engine.ranking import Ranking, rank_given
from engine.receipt import Receipt

I64 = npt.NDArray[np.int64]

__all__ = ["PolicyGuard", "policy_author"]


def policy_author(policy: object) -> object:
    """Whose code decides: a staged policy's scorer, else the policy itself."""
    return policy.scorer if isinstance(policy, StagedPolicy) else policy


def _told(event: Event) -> str:
    """An event as an error names it: "the like of video 1425"."""
    return f"the {event.kind}" + (f" of video {event.video_id}" if event.video_id else "")


class PolicyGuard:
    """Runs a policy for the engine: checks each decision and names what the policy raised.

    Args:
        policy: the engine's policy.
    """

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        author = policy_author(policy)
        self.builtin = is_builtin(author)
        # A staged policy's picks come from its filtered candidates (engine.pipeline).
        self.refilter = not self.builtin and not isinstance(policy, StagedPolicy)
        self.label = f"policy {named(author)}"
        self.method = "score" if isinstance(policy, StagedPolicy) else "pick"  # what runs its code

    @contextmanager
    def calling(self, method: str) -> Iterator[None]:
        """Name an exception raised by a ranker's own code (one line, the original chained).

        The engine's own exceptions and :class:`NothingToRecommendError` (a policy may say
        nothing is left) pass through as they are.
        """
        try:
            yield
        except (NothingToRecommendError, BrokenPolicyError):
            raise
        except Exception as error:
            if self.builtin:
                raise
            raise BrokenPolicyError(
                f"{self.label} raised {type(error).__name__} in {method}(): {error}"
            ) from error

    def pick_many(self, requests: Sequence[PickRequest]) -> list[Decision]:
        """The policy's decisions, each checked (see the module docstring).

        Raises:
            NothingToRecommendError: nothing may be shown to one of the viewers.
            BrokenPolicyError: the policy raised, or a decision breaks the contract.
        """
        with self.calling(self.method):
            decisions = list(self.policy.pick_many(requests))
        if len(decisions) != len(requests):
            raise BrokenPolicyError(
                f"{self.label} returned {len(decisions)} decisions for {len(requests)} viewers"
            )
        for request, decision in zip(requests, decisions, strict=True):
            self.check(request, decision)
        return decisions

    def rank(self, request: PickRequest, video_ids: I64) -> Ranking:
        """:func:`engine.ranking.rank_given` with the policy's exceptions named.

        Raises:
            BrokenPolicyError: the policy raised.
        """
        with self.calling(self.method):
            return rank_given(self.policy, request, video_ids)

    def observe(self, event: Event, *, saved: bool) -> None:
        """Pass an event to the policy.

        Args:
            saved: the event is already in the file (a live event): the error says so.

        Raises:
            BrokenPolicyError: the policy's ``observe`` raised.
        """
        try:
            with self.calling("observe"):
                self.policy.observe(event)
        except BrokenPolicyError as failure:
            if not saved:
                raise
            raise BrokenPolicyError(f"{failure}; {_told(event)} is saved") from failure.__cause__

    def relive(self, event: Event, viewer: str) -> None:
        """Pass the policy an event of the viewer's recorded history (an engine opening them).

        Raises:
            BrokenPolicyError: the policy's ``observe`` raised; the message says it was while
                re-living that history, which nothing can change but another ranker.
        """
        try:
            self.observe(event, saved=False)
        except BrokenPolicyError as failure:
            raise BrokenPolicyError(
                f"{failure} (while re-living viewer {viewer}'s history: {_told(event)} "
                "recorded earlier)"
            ) from failure.__cause__

    def check(self, request: PickRequest, decision: object) -> None:
        """Refuse a decision the engine must not serve.

        Raises:
            BrokenPolicyError: naming the policy and what it returned.
        """
        if not isinstance(decision, Decision):
            raise BrokenPolicyError(
                f"{self.label} returned {type(decision).__name__}, not a Decision"
            )
        video = decision.video_id
        n = request.catalog.n
        if not isinstance(video, Integral) or isinstance(video, bool) or not 0 <= video < n:
            raise BrokenPolicyError(
                f"{self.label} returned video {video!r}, which is not in the catalogue "
                f"(ids 0 to {n - 1})"
            )
        propensity = decision.propensity
        if not isinstance(propensity, float | int | np.floating) or not (
            math.isfinite(propensity) and 0.0 < propensity <= 1.0
        ):
            raise BrokenPolicyError(
                f"{self.label} returned propensity {propensity!r} for video {video}: "
                "it must be a finite probability in (0, 1]"
            )
        slate = decision.slate_ids
        if len(slate) and not (slate == video).any():
            raise BrokenPolicyError(
                f"{self.label} returned video {video}, which is not in its slate"
            )
        if self.refilter:
            self._check_whole(request, decision)

    def _check_whole(self, request: PickRequest, decision: Decision) -> None:
        """What only a whole policy from outside the engine can get wrong."""
        video = int(decision.video_id)
        context = FilterContext(
            request.catalog, request.config, request.now, request.keyword_blocked
        )
        keep, removed = apply_filters(np.array([video], dtype=np.int64), request.state, context)
        if not keep[0]:
            reason = next(name for name, count in removed.items() if count)
            raise BrokenPolicyError(
                f"{self.label} returned video {video}, which the filters exclude for viewer "
                f"{request.viewer_id} ({reason}): pick among request.allowed() or "
                "request.candidates()"
            )
        if not isinstance(decision.receipt, Receipt):
            raise BrokenPolicyError(
                f"{self.label} returned no receipt for video {video} "
                "(engine.policy.plain_receipt builds one)"
            )
