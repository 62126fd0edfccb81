"""Sounds: every creator's "original sound" plus a shared library of tracks, and who uses which.

Ids are laid out originals first, so creator ``c``'s original sound has id ``c``; the shared
tracks follow. There are about ``max(50, videos // 40)`` tracks with faker-made titles and artist
names, ~70% tied to a topic's scene, ~8% trending.

A video uses its creator's original sound ~45% of the time; otherwise it picks a track with
weight ``zipf(rank) × 4 if trending × (6 same topic | 1.5 no topic | 0.5 other topic)``, so
scenes share a few hit sounds the way TikTok trends do. The per-topic weighted draws are one
``searchsorted`` over stacked per-topic CDFs.
"""

from __future__ import annotations

import numpy as np

from engine.world import F32, F64, I16, I32, NO_ID, Creators, Sounds
from seed.locales import LOCALES
from seed.vocabulary import Vocabulary

ORIGINAL_SOUND_P = 0.45
TRACK_TOPIC_P = 0.70
TRACK_TRENDING_P = 0.08
BPM_MEAN = 115.0
BPM_SD = 25.0
TRENDING_BOOST = 4.0
SAME_TOPIC_BOOST = 6.0
NO_TOPIC_WEIGHT = 1.5
OTHER_TOPIC_WEIGHT = 0.5
TRACK_ZIPF = 0.8
ARTIST_PREFIXES = ("DJ ", "Lil ", "MC ", "")


def track_count(videos: int) -> int:
    """Return how many shared tracks a world of ``videos`` videos gets."""
    return max(50, videos // 40)


def build_sounds(
    rng: np.random.Generator,
    creators: Creators,
    n_tracks: int,
    vocab: Vocabulary,
    popularity: F32,
) -> Sounds:
    """Build the sound table: one original per creator, then ``n_tracks`` shared tracks.

    Args:
        rng: the sound stage's generator.
        creators: the creators (their handles name the originals).
        n_tracks: number of shared tracks.
        vocab: faker pools for titles and artists.
        popularity: [T] topic popularity, summing to 1.

    Returns:
        The sounds table.
    """
    n_creators = len(creators)
    n_sounds = n_creators + n_tracks
    track_topic = np.where(
        rng.random(n_tracks) < TRACK_TOPIC_P,
        rng.choice(popularity.size, size=n_tracks, p=_as_probabilities(popularity)),
        NO_ID,
    )
    return Sounds(
        title=[f"original sound - {handle}" for handle in creators.handle]
        + _track_titles(rng, n_tracks, vocab.words),
        artist=list(creators.display_name) + _artists(rng, n_tracks, vocab),
        bpm=np.clip(rng.normal(BPM_MEAN, BPM_SD, n_sounds), 60, 180).round().astype(np.int16),
        is_original=np.arange(n_sounds) < n_creators,
        creator_id=np.concatenate([np.arange(n_creators), np.full(n_tracks, NO_ID)]).astype(
            np.int32
        ),
        topic_id=np.concatenate([creators.home_topics[:, 0], track_topic]).astype(np.int16),
        trending=np.concatenate(
            [np.zeros(n_creators, dtype=np.bool_), rng.random(n_tracks) < TRACK_TRENDING_P]
        ),
    )


def draw_video_sounds(
    rng: np.random.Generator, creator_id: I32, topic_id: I16, sounds: Sounds, n_topics: int
) -> I32:
    """Pick each video's sound: its creator's original or a shared track suiting its topic.

    Args:
        rng: the video stage's generator.
        creator_id: [N] creators (original sound id == creator id).
        topic_id: [N] topics.
        sounds: the table from ``build_sounds``.
        n_topics: number of topics.

    Returns:
        [N] sound ids.
    """
    first_track = int(np.count_nonzero(sounds.is_original))
    stacked_cdf = _stacked_track_cdfs(rng, sounds, first_track, n_topics)
    n_tracks = len(sounds) - first_track
    # Row t of the stacked CDF spans (t, t + 1], so topic + u lands inside the topic's own row.
    position = np.searchsorted(stacked_cdf, topic_id + rng.random(topic_id.size), side="right")
    track = np.minimum(position - topic_id.astype(np.int64) * n_tracks, n_tracks - 1)
    use_original = rng.random(topic_id.size) < ORIGINAL_SOUND_P
    return np.where(use_original, creator_id, first_track + track).astype(np.int32)


def _stacked_track_cdfs(
    rng: np.random.Generator, sounds: Sounds, first_track: int, n_topics: int
) -> F64:
    track_topic = sounds.topic_id[first_track:].astype(np.int64)
    rank = rng.permutation(track_topic.size)
    weight = (1.0 / (rank + 1.0) ** TRACK_ZIPF) * np.where(
        sounds.trending[first_track:], TRENDING_BOOST, 1.0
    )
    fit = np.where(
        track_topic[None, :] == np.arange(n_topics)[:, None], SAME_TOPIC_BOOST, OTHER_TOPIC_WEIGHT
    )
    fit[:, track_topic == NO_ID] = NO_TOPIC_WEIGHT
    cdf = np.cumsum(fit * weight[None, :], axis=1)
    cdf /= cdf[:, -1:]
    cdf += np.arange(n_topics)[:, None]
    return cdf.ravel()


def _track_titles(rng: np.random.Generator, count: int, words: tuple[str, ...]) -> list[str]:
    lengths = rng.integers(2, 5, count).tolist()
    picks = rng.integers(0, len(words), (count, 4)).tolist()
    return [
        " ".join(words[i].capitalize() for i in row[:length])
        for row, length in zip(picks, lengths, strict=True)
    ]


def _artists(rng: np.random.Generator, count: int, vocab: Vocabulary) -> list[str]:
    pools = [vocab.names[locale.code] for locale in LOCALES]
    locale = rng.integers(0, len(pools), count).tolist()
    given = rng.random(count).tolist()
    family = rng.random(count).tolist()
    prefix = rng.choice(len(ARTIST_PREFIXES), size=count, p=[0.06, 0.06, 0.03, 0.85]).tolist()
    artists = []
    for loc, g, f, p in zip(locale, given, family, prefix, strict=True):
        names = pools[loc]
        given_name = names.given_names[int(g * len(names.given_names))]
        if ARTIST_PREFIXES[p]:
            artists.append(ARTIST_PREFIXES[p] + given_name)
        else:
            artists.append(f"{given_name} {names.family_names[int(f * len(names.family_names))]}")
    return artists


def _as_probabilities(weights: F32) -> F64:
    as_float64 = weights.astype(np.float64)
    return as_float64 / float(as_float64.sum())
