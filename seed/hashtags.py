"""The hashtag table and how a video picks its tags.

Ids are laid out topic tags first (catalog order, so a topic's most used tag comes first), then
the cross-topic "trending" tags everybody adds (#fyp ...), then faker-named "<word>challenge"
tags. A video takes 1..6 of its topic's tags with a Zipf-like preference for the earlier ones,
plus a cross-topic trending tag ~30% of the time and a challenge ~8%, at most six in all, never a
repeat, padded with ``NO_ID``. The picks without replacement use the Gumbel top-k trick so a
million videos are one argsort, not a Python loop.
"""

from __future__ import annotations

import numpy as np

from engine.world import F32, I16, I32, I64, MAX_HASHTAGS, NO_ID, Hashtags
from seed.topics import CATALOG

TRENDING_TAGS: tuple[str, ...] = (
    "fyp",
    "foryou",
    "foryoupage",
    "viral",
    "trending",
    "explore",
    "xyzbca",
    "blowthisup",
    "tiktok",
    "fy",
)
CHALLENGE_COUNT = 15
CHALLENGE_TRENDING_P = 0.4
TOPIC_TAG_TRENDING_P = 0.05

TAG_COUNT_P = np.array([0.22, 0.30, 0.24, 0.14, 0.10])  # 2, 3, 4, 5, 6 tags
CROSS_TRENDING_P = 0.30
CHALLENGE_P = 0.08
ZIPF_EXPONENT = 1.0  # rank r is chosen with weight 1 / (r + 1)


def build_hashtags(rng: np.random.Generator, words: tuple[str, ...]) -> Hashtags:
    """Build the hashtag table: every topic's tags, the cross-topic trending tags, challenges.

    Args:
        rng: the hashtag stage's generator.
        words: vocabulary words to name challenges after.

    Returns:
        The table; ``topic_id`` is ``NO_ID`` for trending and challenge tags.
    """
    topic_tags = [(tag, topic) for topic, entry in enumerate(CATALOG) for tag in entry.tags]
    challenges = _challenge_tags(rng, words, taken={tag for tag, _ in topic_tags})
    tags = [tag for tag, _ in topic_tags] + list(TRENDING_TAGS) + challenges
    kinds = (
        ["topic"] * len(topic_tags)
        + ["trending"] * len(TRENDING_TAGS)
        + ["challenge"] * len(challenges)
    )
    topic_ids = [topic for _, topic in topic_tags] + [NO_ID] * (len(tags) - len(topic_tags))
    trending = np.concatenate(
        [
            rng.random(len(topic_tags)) < TOPIC_TAG_TRENDING_P,
            np.ones(len(TRENDING_TAGS), dtype=np.bool_),
            rng.random(len(challenges)) < CHALLENGE_TRENDING_P,
        ]
    )
    return Hashtags(
        tag=tags, topic_id=np.array(topic_ids, dtype=np.int16), kind=kinds, trending=trending
    )


def draw_video_hashtags(rng: np.random.Generator, topic_id: I16, hashtags: Hashtags) -> I32:
    """Pick each video's hashtags.

    Args:
        rng: the video stage's generator.
        topic_id: [N] each video's topic.
        hashtags: the table from ``build_hashtags``.

    Returns:
        [N, MAX_HASHTAGS] hashtag ids: topic tags first, then any cross-topic tag, ``NO_ID``
        padded; 2..6 per video, no repeats.
    """
    n_videos = topic_id.shape[0]
    total = 2 + rng.choice(TAG_COUNT_P.size, size=n_videos, p=TAG_COUNT_P)
    has_trending = rng.random(n_videos) < CROSS_TRENDING_P
    has_challenge = rng.random(n_videos) < CHALLENGE_P
    n_topic = np.maximum(total - has_trending - has_challenge, 1)
    chosen = _topic_tags_by_rank(rng, topic_id, hashtags, n_topic)
    extras = [
        (has_trending, _zipf_pick(rng, _ids_of_kind(hashtags, "trending"), n_videos)),
        (has_challenge, _zipf_pick(rng, _ids_of_kind(hashtags, "challenge"), n_videos)),
    ]
    slot = n_topic.copy()
    rows = np.arange(n_videos)
    for present, tag_ids in extras:
        chosen[rows[present], slot[present]] = tag_ids[present]
        slot += present
    return chosen


def _challenge_tags(rng: np.random.Generator, words: tuple[str, ...], taken: set[str]) -> list[str]:
    # Short words only: a long challenge tag would crowd the caption's text out.
    candidates = [f"{word}challenge" for word in words if len(word) <= 8]
    order = rng.permutation(len(candidates))
    picked = [candidates[i] for i in order if candidates[i] not in taken]
    return picked[:CHALLENGE_COUNT]


def _topic_tag_matrix(hashtags: Hashtags) -> tuple[I32, F32]:
    """Each topic's tag ids in rank order and their Zipf log-weights (-inf for padding)."""
    n_topics = len(CATALOG)
    width = max(len(entry.tags) for entry in CATALOG)
    ids = np.full((n_topics, width), NO_ID, dtype=np.int32)
    log_weight = np.full((n_topics, width), -np.inf, dtype=np.float32)
    topic_of_tag = hashtags.topic_id
    for topic in range(n_topics):
        tag_ids = np.flatnonzero(topic_of_tag == topic)
        ids[topic, : tag_ids.size] = tag_ids
        log_weight[topic, : tag_ids.size] = -ZIPF_EXPONENT * np.log1p(np.arange(tag_ids.size))
    return ids, log_weight


def _topic_tags_by_rank(
    rng: np.random.Generator, topic_id: I16, hashtags: Hashtags, n_topic: I64
) -> I32:
    ids, log_weight = _topic_tag_matrix(hashtags)
    uniform = rng.random((topic_id.shape[0], ids.shape[1]), dtype=np.float32)
    gumbel = -np.log(-np.log(np.maximum(uniform, np.float32(1e-12))))
    # Gumbel-perturbed log-weights sorted descending = a weighted draw without replacement.
    order = np.argsort(-(log_weight[topic_id] + gumbel), axis=1)[:, :MAX_HASHTAGS]
    picked = np.take_along_axis(ids[topic_id], order, axis=1)
    picked[np.arange(MAX_HASHTAGS)[None, :] >= n_topic[:, None]] = NO_ID
    return picked


def _ids_of_kind(hashtags: Hashtags, kind: str) -> I64:
    return np.array([i for i, k in enumerate(hashtags.kind) if k == kind], dtype=np.int64)


def _zipf_pick(rng: np.random.Generator, tag_ids: I64, size: int) -> I64:
    weights = 1.0 / np.arange(1, tag_ids.size + 1) ** ZIPF_EXPONENT
    return tag_ids[rng.choice(tag_ids.size, size=size, p=weights / weights.sum())]
