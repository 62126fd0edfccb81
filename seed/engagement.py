"""Background engagement: the views, likes and so on a video had before the lab opened.

Views are heavy-tailed, ``expected × lognormal(0, 1.5)``, where the expectation grows with
quality (×0.2 to ×4.5), with age (most views arrive in the first two days, a slow trickle after)
and with the square root of the topic's relative popularity; spam reaches fewer people. Videos
of new creators and scheduled videos have no engagement at all, as TikTok gives new creators a
start on content alone.

Every other count is a binomial draw out of the views, so none can exceed them, with rates near
public figures: completion ~30-45% (lower for long videos, higher for good ones), likes 1-4%,
shares 0.2-0.5%, comments 0.1-0.3%, saves 0.2-0.6%, follows 0.05-0.2%, each rising with quality.
"""

from __future__ import annotations

import numpy as np

from engine.world import F32, F64, I64, Creators, Videos, VideoStats

DAY_S = 86_400.0
BASE_VIEWS = 600.0
VIEW_SIGMA = 1.5
QUALITY_GAIN = 3.0  # views × exp(3 · (quality − 0.5))
EARLY_DAYS = 1.5  # time constant of the first burst of views
TRICKLE_PER_DAY = 0.03
SPAM_REACH = 0.3
COMPLETION_INTERCEPT = -0.75
COMPLETION_QUALITY = 2.5
COMPLETION_DURATION = 1.1  # per unit of log(duration / 17 s)
# (rate at quality 0, rate at quality 1) per count, drawn out of views.
RATES: dict[str, tuple[float, float]] = {
    "likes": (0.010, 0.040),
    "shares": (0.002, 0.005),
    "comments": (0.001, 0.003),
    "saves": (0.002, 0.006),
    "follows": (0.0005, 0.002),
}


def draw_stats(
    rng: np.random.Generator, videos: Videos, creators: Creators, popularity: F32
) -> VideoStats:
    """Draw every video's background engagement.

    Args:
        rng: the engagement stage's generator.
        videos: the final videos.
        creators: their creators (new creators get nothing).
        popularity: [T] topic popularity.

    Returns:
        int64 counts, each at most ``views``; all zero for new creators' and future videos.
    """
    quality = videos.quality.astype(np.float64)
    views = _draw_views(rng, videos, quality, popularity)
    views[creators.is_new[videos.creator_id] | (videos.published_at > 0)] = 0

    # Keyword arguments evaluate left to right, so the draw order below is fixed.
    def by_quality(name: str) -> I64:
        low, high = RATES[name]
        return _out_of(rng, views, low + (high - low) * quality)

    return VideoStats(
        views=views,
        completions=_out_of(rng, views, completion_rate(videos.duration_s, quality)),
        likes=by_quality("likes"),
        shares=by_quality("shares"),
        comments=by_quality("comments"),
        saves=by_quality("saves"),
        follows=by_quality("follows"),
    )


def completion_rate(duration_s: F32, quality: F64) -> F64:
    """Return the chance a view is watched to the end: falls with length, rises with quality."""
    logit = (
        COMPLETION_INTERCEPT
        + COMPLETION_QUALITY * (quality - 0.5)
        - COMPLETION_DURATION * np.log(duration_s.astype(np.float64) / 17.0)
    )
    return 1.0 / (1.0 + np.exp(-logit))


def _draw_views(rng: np.random.Generator, videos: Videos, quality: F64, popularity: F32) -> I64:
    age_days = np.maximum(-videos.published_at, 0.0) / DAY_S
    age_factor = (1.0 - np.exp(-age_days / EARLY_DAYS)) * (1.0 + TRICKLE_PER_DAY * age_days)
    topic_factor = np.sqrt(popularity.astype(np.float64) * popularity.size)[videos.topic_id]
    reach = np.where(videos.spam, SPAM_REACH, 1.0)
    expected = BASE_VIEWS * np.exp(QUALITY_GAIN * (quality - 0.5)) * age_factor * topic_factor
    noise = rng.lognormal(0.0, VIEW_SIGMA, quality.size)
    return np.floor(expected * reach * noise).astype(np.int64)


def _out_of(rng: np.random.Generator, views: I64, rate: F64) -> I64:
    return rng.binomial(views, np.clip(rate, 0.0, 1.0)).astype(np.int64)
