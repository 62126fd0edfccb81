"""A participant's pass through a study feed: :class:`FeedSession` over a study :class:`Feed`.

The feed screen is the one every viewer gets; what changes is underneath it. Reactions and feed
controls go through the study's :class:`~engine.study.Feed`, which refuses a control the
participant's condition does not offer (``next`` and ``seen`` are the engine's own, as the Feed
passes them through unchanged); the session says how much of the feed's length is left; and
where the condition does not disclose its heating, the receipts the screens show are told
without it (the stored receipts keep it: researchers see everything).

Threading is :class:`FeedSession`'s: the feed's engine and connection stay on the app's thread.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import msgspec
import numpy as np

from engine import Recommendation
from engine.sources import CODE, Source
from engine.study import Feed
from tui.screens.why import adjustment_steps
from tui.session import Controls, FeedSession

# A heated video no other source proposed is, to a participant who is not told about heating,
# something from outside their interests: it is told as exploration.
HEATING_TOLD_AS = Source.EXPLORE


def untold_source(source: str) -> str:
    """A candidate source as told where heating is not disclosed."""
    return HEATING_TOLD_AS if source == Source.BOOSTED else source


def conceal_heating(
    recommendation: Recommendation, heated: Mapping[int, float], temperature: float
) -> Recommendation:
    """The recommendation as a participant who is not told about the study's heating sees it.

    The study's boost, the "boosted" candidate source (in the pick's sources, the funnel and
    the slate), the boost multiplier and its share of every score are left out: the pick's
    score told is the one the why screen's steps come to without the boost, and each heated
    finalist's is its score divided by its weight, so neither an unexplained jump nor a
    finalist scored a thousand times its neighbours gives the heating away. A video credited
    to the boosted source is credited to the next source that proposed it. (A study's engine
    applies no operator boost, so every boost here is the study's.)

    Where a heated video is among the finalists shown, their order and chances are told from
    the told scores too (:func:`told_finalists`): a heated pick told at its unheated score but
    still ranked first at 85% beside a finalist scored higher at 0% would give it away.

    Args:
        recommendation: As the engine served it.
        heated: The condition's heated videos and their boost weights (:attr:`Feed.heated`).
        temperature: The condition's ``[pick] temperature`` (the told chances' softmax).

    Returns:
        A copy to show; the stored receipt is not touched.
    """
    receipt = recommendation.receipt
    others = [s for s in receipt.sources if s != Source.BOOSTED]
    credited = min(others, key=lambda s: CODE.get(s, len(CODE))) if others else HEATING_TOLD_AS
    source = credited if receipt.source == Source.BOOSTED else receipt.source
    unboosted = adjustment_steps(
        msgspec.structs.replace(
            receipt, multipliers={k: m for k, m in receipt.multipliers.items() if k != "boost"}
        )
    )[1]
    slate: list[dict[str, Any]] = [
        {
            **row,
            "source": untold_source(str(row["source"])),
            "score": unboosted
            if row["video_id"] == receipt.video_id
            else unheated_score(row, heated),
        }
        for row in receipt.slate
    ]
    rank, propensity = receipt.rank, receipt.propensity
    if any(int(row["video_id"]) in heated for row in slate):
        slate = told_finalists(slate, temperature)
        shown = [int(row["video_id"]) for row in slate]
        if receipt.video_id in shown:  # the pick is among them: told with them
            rank = shown.index(receipt.video_id)
            propensity = float(slate[rank]["probability"])
    told = msgspec.structs.replace(
        receipt,
        rank=rank,
        propensity=propensity,
        source=source,
        sources=others or [HEATING_TOLD_AS],
        funnel=msgspec.structs.replace(
            receipt.funnel,
            proposed={k: n for k, n in receipt.funnel.proposed.items() if k != Source.BOOSTED},
        ),
        multipliers={k: m for k, m in receipt.multipliers.items() if k != "boost"},
        slate=slate,
        boost=None,
        score=unboosted,
    )
    return recommendation.retold(source, told)


def told_finalists(slate: list[dict[str, Any]], temperature: float) -> list[dict[str, Any]]:
    """The finalists shown, ordered by their told scores, each with the chance the pick's
    softmax gives its told score among them (their chances' sum kept: the rest of the slate,
    not shown, keeps its share). With temperature 0 the top told score takes it all."""
    ordered = sorted(slate, key=lambda row: -float(row["score"]))
    scores = np.array([float(row["score"]) for row in ordered])
    mass = sum(float(row["probability"]) for row in slate)
    if temperature > 0:
        weights = np.exp((scores - scores.max()) / temperature)
    else:
        weights = (np.arange(len(scores)) == 0).astype(np.float64)
    chances = mass * weights / weights.sum()
    return [
        {**row, "probability": float(chance)} for row, chance in zip(ordered, chances, strict=True)
    ]


def unheated_score(row: Mapping[str, Any], heated: Mapping[int, float]) -> float:
    """A finalist's score without the study's boost.

    A boost multiplies the final score (after raising it to ``BOOST_FLOOR``; the re-rank's
    penalty multiplies after it), so dividing by the weight takes out all of it. The slate
    keeps no score from before the floor: a finalist it raised is told at the floor.
    """
    return float(row["score"]) / heated.get(int(row["video_id"]), 1.0)


class StudyFeedSession(FeedSession):
    """A participant's feed run as the feed screen drives it."""

    def __init__(self, feed: Feed, *, clock: Callable[[], float] = time.monotonic) -> None:
        """Start a session over an open study feed (the session closes the feed).

        Args:
            feed: The participant's feed run, from :meth:`StudyBundle.open_feed`.
            clock: Monotonic seconds, for playback.
        """
        super().__init__(feed.engine, feed.user_id, clock=clock)
        self.feed = feed
        self.offered = frozenset(feed.controls)
        self.conceals_heating = feed.boost_disclosed is False
        self._earlier_videos = feed.videos_seen()  # viewings closed in earlier runs

    def forward(self) -> Recommendation:
        """See :meth:`FeedSession.forward`; the recommendation is told as the condition says."""
        recommendation = super().forward()
        if self.conceals_heating:
            temperature = self.feed.engine.config.pick.temperature
            recommendation = conceal_heating(recommendation, self.feed.heated, temperature)
            self.history[self.index] = recommendation
        return recommendation

    # -- the feed's length ------------------------------------------------------------------

    def videos_shown(self) -> int:
        """Videos served so far in this study (every run), the one on screen included."""
        return self._earlier_videos + len(self.history)

    def videos_left(self) -> int | None:
        """Videos the feed may still serve after the one on screen; None: it counts minutes."""
        limit = self.feed.length.videos
        return None if limit is None else max(0, limit - self.videos_shown())

    def seconds_left(self) -> float | None:
        """Seconds of feed time left (every run counted); None: it counts videos."""
        seconds = self.feed.remaining().seconds
        return None if seconds is None else max(0.0, seconds)

    def at_last_video(self) -> bool:
        """The newest video is on screen and the feed may serve no other."""
        return self.index == len(self.history) - 1 and self.videos_left() == 0

    def out_of_time(self) -> bool:
        """The feed's minutes are used up."""
        return self.seconds_left() == 0.0

    def keep_alive(self) -> None:
        """Note that the run is still going: should the process die, its time counts to here."""
        self.feed.keep_alive()

    # -- what the condition offers ----------------------------------------------------------

    def _record(
        self,
        video_id: int,
        kind: str,
        *,
        watched_s: float | None = None,
        scope: str | None = None,
        reason: str | None = None,
        text: str | None = None,
    ) -> None:
        self.feed.record(video_id, kind, watched_s=watched_s, scope=scope, reason=reason, text=text)

    def set_controls(self, controls: Controls) -> None:
        """Apply the feed controls this condition offers; the others are left as they are.

        Raises:
            ValueError: the engine refused a value.
        """
        offered = self.offered
        self.feed.set_controls(
            allow_sensitive=controls.allow_sensitive if "allow_sensitive" in offered else None,
            keyword_filters=(
                list(controls.keyword_filters) if "keyword_filters" in offered else None
            ),
            topic_sliders=dict(controls.topic_sliders) if "topic_sliders" in offered else None,
        )

    def refresh(self) -> None:
        """Forget learned interests, where the condition offers it.

        Raises:
            StudyError: the condition does not offer it (a ValueError).
        """
        self.feed.refresh()

    # -- leaving ----------------------------------------------------------------------------

    def close(self, *, ended: bool | None = None) -> None:
        """Close the viewing on screen, the session and the feed run; safe to call again.

        Args:
            ended: Whether the participant's feed is over; None: if its length is reached.
                A feed that is not over resumes at the next run.
        """
        super().close()
        self.feed.close(ended=ended)
