"""A hand-built world of twelve videos whose every number is chosen, for stage-level tests.

The seeded worlds test the engine end to end; this one lets a test of one stage (filters,
scoring, re-rank, pick, event → profile) state its answer from the table below instead of
from a seed. Embeddings are axis vectors, so a cosine is 1, 0 or a chosen value.

    id  topic    creator  sound  lang  dur  published  flags
     0  cooking  ana      s0     en    10 -10 days
     1  cooking  ana      s0     en    20 -10 days
     2  cooking  ben      s1     en    30 -10 days
     3  pets     ben      s1     en    10 -10 days
     4  pets     cat      s2     de    60 -10 days
     5  pets     cat      s2     en    10   -1 h       (fresh)
     6  gaming   dan      s3     en    10 -10 days     spam
     7  gaming   dan      s3     en    10 -10 days     sensitive
     8  gaming   ana      s0     en    10 -10 days     duplicate of 0
     9  gaming   cat      s2     en   120 -10 days
    10  cooking  dan      s3     en    10   +1 day     (scheduled, not published)
    11  pets     ben      s1     fr    10 -10 days
"""

from __future__ import annotations

import numpy as np

from engine.catalog import Catalog
from engine.config import Config
from engine.profile import UserState
from engine.world import (
    EMBED_DIM,
    MAX_HASHTAGS,
    NO_ID,
    Creators,
    Hashtags,
    Sounds,
    Topics,
    Videos,
    VideoStats,
    World,
)

COOKING, PETS, GAMING = 0, 1, 2
ANA, BEN, CAT, DAN = 0, 1, 2, 3
DAY = 86_400.0
NOW = 0.0

TOPIC = [0, 0, 0, 1, 1, 1, 2, 2, 2, 2, 0, 1]
CREATOR = [0, 0, 1, 1, 2, 2, 3, 3, 0, 2, 3, 1]
SOUND = [0, 0, 1, 1, 2, 2, 3, 3, 0, 2, 3, 1]
LANGUAGE = [0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 2]  # en, de, fr
DURATION = [10, 20, 30, 10, 60, 10, 10, 10, 10, 120, 10, 10]
PUBLISHED = [-10 * DAY] * 5 + [-3600.0] + [-10 * DAY] * 4 + [DAY, -10 * DAY]
N = len(TOPIC)


def _axis(i: int) -> np.ndarray:
    v = np.zeros(EMBED_DIM, dtype=np.float32)
    v[i] = 1.0
    return v


def _embeddings() -> np.ndarray:
    """Each topic is one axis; a video leans 0.8 on its topic and 0.6 on a video-own axis, so
    two videos of one topic have cosine 0.64 and of two topics 0."""
    rows = [0.8 * _axis(t) + 0.6 * _axis(3 + i) for i, t in enumerate(TOPIC)]
    return np.stack(rows).astype(np.float32)


def tiny_world() -> World:
    topics = Topics(
        name=["Cooking", "Pets", "Gaming"],
        slug=["cooking", "pets", "gaming"],
        popularity=np.array([0.4, 0.4, 0.2], dtype=np.float32),
        related=[[1], [0], []],
        motif=["steam", "paws", "pixels"],
        centroid=np.stack([_axis(0), _axis(1), _axis(2)]),
    )
    hashtags = Hashtags(
        tag=["food", "cats", "games", "fyp"],
        topic_id=np.array([0, 1, 2, NO_ID], dtype=np.int16),
        kind=["topic", "topic", "topic", "trending"],
        trending=np.array([False, False, False, True]),
    )
    sounds = Sounds(
        title=["s0", "s1", "s2", "s3"],
        artist=["a", "b", "c", "d"],
        bpm=np.array([100] * 4, dtype=np.int16),
        is_original=np.array([True] * 4),
        creator_id=np.array([0, 1, 2, 3], dtype=np.int32),
        topic_id=np.array([NO_ID] * 4, dtype=np.int16),
        trending=np.array([False] * 4),
    )
    creators = Creators(
        handle=["ana", "ben", "cat", "dan"],
        display_name=["Ana", "Ben", "Cat", "Dan"],
        locale=["en_US"] * 4,
        country=np.zeros(4, dtype=np.int8),
        language=np.zeros(4, dtype=np.int8),
        home_topics=np.full((4, 3), NO_ID, dtype=np.int16),
        joined_at=np.full(4, -30 * DAY),
        cadence_per_week=np.ones(4, dtype=np.float32),
        is_new=np.zeros(4, dtype=bool),
    )
    tags = np.full((N, MAX_HASHTAGS), NO_ID, dtype=np.int32)
    tags[:, 0] = TOPIC
    tags[:, 1] = 3
    duplicate_of = np.full(N, NO_ID, dtype=np.int32)
    duplicate_of[8] = 0
    flags = np.zeros(N, dtype=bool)
    videos = Videos(
        creator_id=np.array(CREATOR, dtype=np.int32),
        topic_id=np.array(TOPIC, dtype=np.int16),
        sound_id=np.array(SOUND, dtype=np.int32),
        hashtags=tags,
        duration_s=np.array(DURATION, dtype=np.float32),
        language=np.array(LANGUAGE, dtype=np.int8),
        country=np.zeros(N, dtype=np.int8),
        published_at=np.array(PUBLISHED, dtype=np.float64),
        quality=np.full(N, 0.5, dtype=np.float32),
        embedding=_embeddings(),
        spam=np.where(np.arange(N) == 6, True, flags),
        sensitive=np.where(np.arange(N) == 7, True, flags),
        duplicate_of=duplicate_of,
        palette=np.zeros(N, dtype=np.int16),
        motion=np.ones(N, dtype=np.float32),
        visual_seed=np.zeros(N, dtype=np.int32),
    )
    # Every video has 100 views and 30 completions, except video 2 (90 completions).
    completions = np.full(N, 30, dtype=np.int64)
    completions[2] = 90
    zeros = np.zeros(N, dtype=np.int64)
    stats = VideoStats(
        views=np.full(N, 100, dtype=np.int64),
        completions=completions,
        likes=zeros.copy(),
        shares=zeros.copy(),
        comments=zeros.copy(),
        saves=zeros.copy(),
        follows=zeros.copy(),
    )
    return World(
        seed=0,
        epoch_unix=1_790_000_000.0,
        languages=["en", "de", "fr"],
        countries=["US"],
        topics=topics,
        hashtags=hashtags,
        sounds=sounds,
        creators=creators,
        videos=videos,
        stats=stats,
        captions=[f"video {i}" for i in range(N)],
    )


def tiny_catalog() -> Catalog:
    return Catalog(tiny_world())


def viewer(interests: tuple[int, ...] = ()) -> UserState:
    """A fresh English-speaking viewer in the US (no onboarding unless given)."""
    return UserState.fresh(
        user_id=1,
        name="tester",
        language=0,
        country=0,
        interests=list(interests),
        simulated=False,
        n_topics=3,
        n_hashtags=4,
    )


def config() -> Config:
    return Config()
