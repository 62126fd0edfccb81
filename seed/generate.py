"""Build a whole synthetic ``World`` in memory, deterministically, from a ``WorldSpec``.

Every random draw descends from one ``SeedSequence(spec.seed)``: it spawns one child per stage
(in the fixed order of ``STAGES``), each stage draws from its own ``Generator`` and faker is
seeded from the vocabulary stage's children. So the same spec always gives the same world, and
changing how one stage draws leaves the others' streams untouched. ``epoch_unix`` is metadata
only. Nothing here touches a database; ``engine.store`` writes the result.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from engine.world import Topics, World
from seed.captions import write_captions
from seed.creators import draw_creator_quality, draw_creators
from seed.duplicates import plant_duplicates
from seed.embeddings import random_directions, topic_centroids
from seed.engagement import draw_stats
from seed.hashtags import build_hashtags
from seed.locales import COUNTRIES, LANGUAGES
from seed.sounds import build_sounds, track_count
from seed.spec import WorldSpec
from seed.topics import CATALOG, check_catalog, related_ids, topic_popularity
from seed.videos import VideoInputs, draw_videos, in_publish_order
from seed.vocabulary import build_vocabulary, pool_size

Progress = Callable[[str, float], None]

# Stage name -> rough share of the run time at a million videos, for the progress bar.
# "embeddings" has its own seed but runs inside "videos", so it is never reported.
STAGES: dict[str, float] = {
    "vocabulary": 0.05,
    "topics": 0.005,
    "hashtags": 0.005,
    "creators": 0.02,
    "sounds": 0.01,
    "videos": 0.35,
    "embeddings": 0.0,
    "duplicates": 0.12,
    "captions": 0.36,
    "engagement": 0.08,
}


def generate_world(
    spec: WorldSpec, *, epoch_unix: float, progress: Progress | None = None
) -> World:
    """Generate a synthetic world.

    Args:
        spec: size and seed.
        epoch_unix: wall-clock time of world second 0 (metadata; does not affect content).
        progress: called as ``progress(stage, fraction_done)`` before each stage and once
            with ``("done", 1.0)`` at the end.

    Returns:
        The world, captions included; equal specs give equal worlds.

    Raises:
        ValueError: if the spec is invalid.
    """
    spec.validate()
    check_catalog()
    stages = _Stages(np.random.SeedSequence(spec.seed), progress)
    n_creators = spec.creator_count

    vocab = build_vocabulary(stages.start("vocabulary"), pool_size(n_creators))
    topics = _build_topics(np.random.default_rng(stages.start("topics")))
    hashtags = build_hashtags(np.random.default_rng(stages.start("hashtags")), vocab.words)

    creator_rng = np.random.default_rng(stages.start("creators"))
    creators = draw_creators(creator_rng, n_creators, vocab, topics.popularity)
    creator_quality = draw_creator_quality(creator_rng, n_creators)
    sound_rng = np.random.default_rng(stages.start("sounds"))
    sounds = build_sounds(sound_rng, creators, track_count(spec.videos), vocab, topics.popularity)

    video_rng = np.random.default_rng(stages.start("videos"))
    embed_rng = np.random.default_rng(stages.seed("embeddings"))
    inputs = VideoInputs(
        topics=topics,
        hashtags=hashtags,
        sounds=sounds,
        creators=creators,
        creator_quality=creator_quality,
        hashtag_offsets=random_directions(embed_rng, len(hashtags)),
        creator_offsets=random_directions(embed_rng, n_creators),
    )
    videos = draw_videos(video_rng, embed_rng, inputs, spec.videos)
    duplicate_rng = np.random.default_rng(stages.start("duplicates"))
    videos = in_publish_order(plant_duplicates(duplicate_rng, videos, creators))

    caption_rng = np.random.default_rng(stages.start("captions"))
    captions = write_captions(caption_rng, videos, hashtags.tag, creators.handle, vocab)
    engagement_rng = np.random.default_rng(stages.start("engagement"))
    stats = draw_stats(engagement_rng, videos, creators, topics.popularity)
    stages.finish()

    return World(
        seed=spec.seed,
        epoch_unix=epoch_unix,
        languages=list(LANGUAGES),
        countries=list(COUNTRIES),
        topics=topics,
        hashtags=hashtags,
        sounds=sounds,
        creators=creators,
        videos=videos,
        stats=stats,
        captions=captions,
    )


def _build_topics(rng: np.random.Generator) -> Topics:
    related = related_ids()
    return Topics(
        name=[entry.name for entry in CATALOG],
        slug=[entry.slug for entry in CATALOG],
        popularity=topic_popularity(),
        related=related,
        motif=[entry.motif for entry in CATALOG],
        centroid=topic_centroids(rng, related),
    )


class _Stages:
    """Hands out each stage's seed sequence and reports progress as stages begin."""

    def __init__(self, root: np.random.SeedSequence, progress: Progress | None) -> None:
        # Spawned all at once, in a fixed order, so a stage's stream never depends on others.
        self._seeds = dict(zip(STAGES, root.spawn(len(STAGES)), strict=True))
        self._progress = progress
        self._done = 0.0

    def start(self, stage: str) -> np.random.SeedSequence:
        """Report that ``stage`` begins and return its seed sequence."""
        if self._progress is not None:
            self._progress(stage, min(self._done, 1.0))
        self._done += STAGES[stage]
        return self._seeds[stage]

    def seed(self, stage: str) -> np.random.SeedSequence:
        """Return a stage's seed sequence without reporting progress."""
        return self._seeds[stage]

    def finish(self) -> None:
        if self._progress is not None:
            self._progress("done", 1.0)
