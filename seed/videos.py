"""Videos: who posted what, when, how long, how good, and how it looks.

Distributions, chosen to resemble TikTok rather than any one dataset:

* **creator**: new creators get 1-3 videos each; the rest go to established creators, one each
  when there are enough videos, the remainder in proportion to ``cadence_per_week``;
* **topic**: one of the creator's home topics 85% of the time (first home topic most), otherwise
  any topic by popularity;
* **duration**: a mixture, clipped to [5, 180] s and rounded to 0.1 s. 88% come from a lognormal
  body (median 17 s, sigma 0.45: the 10-30 s clips TikTok itself recommends) and 12% from a long
  tail (median 70 s, sigma 0.6: explainers, storytimes). About two thirds land in 10-30 s and the
  overall median is ~18 s;
* **language, country**: the creator's 90% of the time, otherwise another locale's pair;
* **published_at**: 93% uniform over the last 30 days (never before the creator joined), 7%
  scheduled up to 7 days ahead; new creators' past videos fall in their last 3 days;
* **quality**: Beta around the creator's mean (concentration 8), hidden from the ranker;
* **spam** ~1% (likelier for low quality), **sensitive** ~2% (scaled by the topic's
  sensitivity, e.g. true crime and horror);
* **look**: a palette from the topic's three favourites 75% of the time, motion = the topic's
  energy with lognormal jitter clipped to [0.5, 2.0], and a random ``visual_seed``.

Near-duplicate re-uploads are planted afterwards by ``seed.duplicates``; ``in_publish_order``
then renumbers videos chronologically so ids grow with ``published_at``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np

from engine.visuals import PALETTES
from engine.world import (
    F32,
    F64,
    I8,
    I16,
    I32,
    I64,
    NO_ID,
    Bool,
    Creators,
    Hashtags,
    Sounds,
    Topics,
    Videos,
)
from seed.embeddings import video_embeddings
from seed.hashtags import draw_video_hashtags
from seed.locales import locale_country_index, locale_language_index, locale_weights
from seed.sounds import draw_video_sounds
from seed.topics import CATALOG

DAY_S = 86_400.0
PAST_WINDOW_S = 30 * DAY_S
FUTURE_WINDOW_S = 7 * DAY_S
NEW_CREATOR_WINDOW_S = 3 * DAY_S
FUTURE_P = 0.07
HOME_TOPIC_P = 0.85
HOME_SLOT_P = (0.6, 0.25, 0.15)  # first, second, third home topic
OWN_LOCALE_P = 0.90
BODY_MEDIAN_S, BODY_SIGMA = 17.0, 0.45
TAIL_MEDIAN_S, TAIL_SIGMA, TAIL_P = 70.0, 0.6, 0.12
MIN_DURATION_S, MAX_DURATION_S = 5.0, 180.0
QUALITY_CONCENTRATION = 8.0
SPAM_RATE = 0.01
SENSITIVE_RATE = 0.02
TOPIC_PALETTE_P = 0.75
PALETTES_PER_TOPIC = 3
MOTION_SIGMA = 0.2
MIN_MOTION, MAX_MOTION = 0.5, 2.0


@dataclass(frozen=True, eq=False)
class VideoInputs:
    """Everything the video stage draws from."""

    topics: Topics
    hashtags: Hashtags
    sounds: Sounds
    creators: Creators
    creator_quality: F32  # [C] hidden mean quality
    hashtag_offsets: F32  # [H, D] unit vectors
    creator_offsets: F32  # [C, D] unit vectors


def draw_videos(
    rng: np.random.Generator, embed_rng: np.random.Generator, inputs: VideoInputs, count: int
) -> Videos:
    """Draw ``count`` videos (no duplicates yet; ids in creation order, not time order).

    Args:
        rng: the video stage's generator.
        embed_rng: the embedding stage's generator.
        inputs: topics, tags, sounds, creators and their hidden traits.
        count: number of videos.

    Returns:
        The videos, ``duplicate_of`` all ``NO_ID``.
    """
    # Each line consumes the shared stream in turn: reordering them changes every later draw.
    creators = inputs.creators
    creator_id = assign_creators(rng, creators, count)
    topic_id = draw_topics(rng, creators.home_topics[creator_id], inputs.topics.popularity)
    hashtags = draw_video_hashtags(rng, topic_id, inputs.hashtags)
    language, country = draw_locales(
        rng, creators.language[creator_id], creators.country[creator_id]
    )
    quality = draw_quality(rng, inputs.creator_quality[creator_id])
    sound_id = draw_video_sounds(rng, creator_id, topic_id, inputs.sounds, len(inputs.topics))
    duration_s = draw_durations(rng, count)
    published_at = draw_publish_times(
        rng, creators.joined_at[creator_id], creators.is_new[creator_id]
    )
    spam = draw_flags(rng, (1.05 - quality) ** 3, SPAM_RATE)
    sensitive = draw_flags(rng, _topic_sensitivity()[topic_id], SENSITIVE_RATE)
    palette = draw_palettes(rng, topic_id, len(inputs.topics))
    motion = draw_motion(rng, topic_id)
    visual_seed = rng.integers(0, np.iinfo(np.int32).max, count, dtype=np.int32)
    embedding = video_embeddings(
        embed_rng,
        inputs.topics.centroid,
        topic_id,
        hashtags,
        inputs.hashtag_offsets,
        creator_id,
        inputs.creator_offsets,
    )
    return Videos(
        creator_id=creator_id,
        topic_id=topic_id,
        sound_id=sound_id,
        hashtags=hashtags,
        duration_s=duration_s,
        language=language,
        country=country,
        published_at=published_at,
        quality=quality,
        embedding=embedding,
        spam=spam,
        sensitive=sensitive,
        duplicate_of=np.full(count, NO_ID, dtype=np.int32),
        palette=palette,
        motion=motion,
        visual_seed=visual_seed,
    )


def assign_creators(rng: np.random.Generator, creators: Creators, count: int) -> I32:
    """Return [count] creator ids: 1-3 videos per new creator, the rest by cadence."""
    new_ids = np.flatnonzero(creators.is_new)
    established = np.flatnonzero(~creators.is_new)
    new_counts = rng.integers(1, 4, new_ids.size)
    # In tiny worlds new creators must not crowd everyone else out.
    new_counts[np.cumsum(new_counts) > count // 4] = 0
    remaining = count - int(new_counts.sum())
    guaranteed = 1 if remaining >= established.size else 0
    cadence = creators.cadence_per_week[established].astype(np.float64)
    extra = rng.multinomial(remaining - guaranteed * established.size, cadence / cadence.sum())
    counts = np.zeros(len(creators), dtype=np.int64)
    counts[new_ids] = new_counts
    counts[established] = guaranteed + extra
    return np.repeat(np.arange(len(creators), dtype=np.int32), counts)


def draw_topics(rng: np.random.Generator, home_topics: I16, popularity: F32) -> I16:
    """Pick each video's topic from its creator's home topics, or by popularity.

    Args:
        rng: the video stage's generator.
        home_topics: [N, 3] the video's creator's home topics, ``NO_ID`` padded at the end.
        popularity: [T] topic popularity.
    """
    count = home_topics.shape[0]
    n_home = np.count_nonzero(home_topics != NO_ID, axis=1)
    slot_cdf = np.cumsum(HOME_SLOT_P)
    # Rescale the slot draw to the slots this creator has, keeping their relative weights.
    u = rng.random(count) * slot_cdf[n_home - 1]
    slot = np.minimum(np.searchsorted(slot_cdf, u, side="right"), n_home - 1)
    home = home_topics[np.arange(count), slot]
    by_popularity = _draw_by_weight(rng, popularity.astype(np.float64), count)
    return np.where(rng.random(count) < HOME_TOPIC_P, home, by_popularity).astype(np.int16)


def draw_durations(rng: np.random.Generator, count: int) -> F32:
    """Return [count] durations in seconds (mixture described in the module docstring)."""
    body = rng.lognormal(np.log(BODY_MEDIAN_S), BODY_SIGMA, count)
    tail = rng.lognormal(np.log(TAIL_MEDIAN_S), TAIL_SIGMA, count)
    seconds = np.where(rng.random(count) < TAIL_P, tail, body)
    return np.clip(seconds, MIN_DURATION_S, MAX_DURATION_S).round(1).astype(np.float32)


def draw_locales(
    rng: np.random.Generator, creator_language: I8, creator_country: I8
) -> tuple[I8, I8]:
    """Return (language, country): the creator's, or ~10% of the time another locale's pair."""
    count = creator_language.size
    other = rng.choice(locale_weights().size, size=count, p=locale_weights())
    own = rng.random(count) < OWN_LOCALE_P
    language = np.where(own, creator_language, locale_language_index()[other])
    country = np.where(own, creator_country, locale_country_index()[other])
    return language.astype(np.int8), country.astype(np.int8)


def draw_publish_times(rng: np.random.Generator, joined_at: F64, is_new: Bool) -> F64:
    """Return [N] world-second publish times (see the module docstring).

    Args:
        rng: the video stage's generator.
        joined_at: [N] the video's creator's join time.
        is_new: [N] whether the video's creator is new.
    """
    window = np.where(is_new, NEW_CREATOR_WINDOW_S, PAST_WINDOW_S)
    earliest = np.maximum(-window, joined_at)
    # 1 - u lies in (0, 1], so past times stay strictly before now and future ones after.
    past = earliest * (1.0 - rng.random(joined_at.size))
    future = FUTURE_WINDOW_S * (1.0 - rng.random(joined_at.size))
    return np.where(rng.random(joined_at.size) < FUTURE_P, future, past)


def draw_quality(rng: np.random.Generator, creator_mean: F32) -> F32:
    """Return [N] per-video quality in (0, 1), Beta-scattered around the creator's mean."""
    mean = creator_mean.astype(np.float64)
    return rng.beta(QUALITY_CONCENTRATION * mean, QUALITY_CONCENTRATION * (1 - mean)).astype(
        np.float32
    )


def draw_flags(rng: np.random.Generator, weight: F32 | F64, rate: float) -> Bool:
    """Return Bernoulli flags whose chance is proportional to ``weight`` and averages ``rate``."""
    chance = np.minimum(rate * weight / float(weight.mean()), 1.0)
    return rng.random(weight.size) < chance


def draw_palettes(rng: np.random.Generator, topic_id: I16, n_topics: int) -> I16:
    """Return [N] palette ids, usually one of the topic's favourite palettes."""
    favourites = rng.integers(0, len(PALETTES), (n_topics, PALETTES_PER_TOPIC))
    favourite = favourites[topic_id, rng.integers(0, PALETTES_PER_TOPIC, topic_id.size)]
    any_palette = rng.integers(0, len(PALETTES), topic_id.size)
    chosen = np.where(rng.random(topic_id.size) < TOPIC_PALETTE_P, favourite, any_palette)
    return chosen.astype(np.int16)


def draw_motion(rng: np.random.Generator, topic_id: I16) -> F32:
    """Return [N] animation speeds: the topic's energy with lognormal jitter, in [0.5, 2]."""
    energy = np.array([entry.energy for entry in CATALOG], dtype=np.float64)[topic_id]
    jittered = energy * rng.lognormal(0.0, MOTION_SIGMA, topic_id.size)
    return np.clip(jittered, MIN_MOTION, MAX_MOTION).astype(np.float32)


def in_publish_order(videos: Videos) -> Videos:
    """Renumber videos so ids increase with ``published_at``; ``duplicate_of`` follows.

    Args:
        videos: any order.

    Returns:
        The same videos, sorted by publish time (stable), with ``duplicate_of`` remapped.
    """
    order = np.argsort(videos.published_at, kind="stable")
    new_id = np.empty_like(order)
    new_id[order] = np.arange(order.size)
    columns = {field.name: getattr(videos, field.name)[order] for field in fields(videos)}
    sorted_videos = Videos(**columns)
    duplicate_of = sorted_videos.duplicate_of
    is_copy = duplicate_of != NO_ID
    duplicate_of[is_copy] = new_id[duplicate_of[is_copy]]
    return replace(sorted_videos, duplicate_of=duplicate_of)


def _topic_sensitivity() -> F64:
    return np.array([entry.sensitivity for entry in CATALOG], dtype=np.float64)


def _draw_by_weight(rng: np.random.Generator, weight: F64, size: int) -> I64:
    cdf = np.cumsum(weight)
    picked = np.searchsorted(cdf, rng.random(size) * float(cdf[-1]), side="right")
    return np.minimum(picked, weight.size - 1).astype(np.int64)
