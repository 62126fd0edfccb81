"""Content embeddings: where topics, hashtags, creators and videos sit in one unit-sphere space.

The recommender only sees these vectors, so their geometry is the "ground truth" of similarity:

* a topic centroid is its own random direction pulled 0.6 of the way toward the mean of its
  related topics' directions, so FitTok lies nearer Sports than Anime;
* a video is ``normalise(centroid + 0.35·mean(hashtag offsets) + 0.25·creator offset +
  0.3·noise)``: its topic dominates, its tags and its creator's style shift it a little, and the
  noise keeps two videos of one topic from being identical;
* a near-duplicate re-upload is its original plus a tiny perturbation.

Offsets and noise are isotropic with unit expected norm, so the weights above are the relative
sizes of the components.
"""

from __future__ import annotations

import numpy as np

from engine.world import EMBED_DIM, F32, I16, I32, NO_ID

RELATED_PULL = 0.6
HASHTAG_WEIGHT = 0.35
CREATOR_WEIGHT = 0.25
NOISE_WEIGHT = 0.3
DUPLICATE_NOISE = 0.02


def normalise_rows(vectors: F32) -> F32:
    """Scale each row to unit length, in place, and return it."""
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors


def random_directions(rng: np.random.Generator, count: int) -> F32:
    """Return ``count`` uniformly random unit vectors of ``EMBED_DIM`` dimensions."""
    return normalise_rows(rng.standard_normal((count, EMBED_DIM), dtype=np.float32))


def topic_centroids(rng: np.random.Generator, related: list[list[int]]) -> F32:
    """Return [T, D] unit centroids in which related topics are closer than unrelated ones.

    Args:
        rng: the topic stage's generator.
        related: each topic's related topic ids (non-empty).
    """
    base = random_directions(rng, len(related))
    averaging = np.zeros((len(related), len(related)), dtype=np.float32)
    for topic, ids in enumerate(related):
        averaging[topic, ids] = 1.0 / len(ids)
    return normalise_rows(base + np.float32(RELATED_PULL) * (averaging @ base))


def video_embeddings(
    rng: np.random.Generator,
    centroid: F32,
    topic_id: I16,
    hashtags: I32,
    hashtag_offsets: F32,
    creator_id: I32,
    creator_offsets: F32,
) -> F32:
    """Embed every video (see the module docstring for the mixture).

    Args:
        rng: the embedding stage's generator.
        centroid: [T, D] topic centroids.
        topic_id: [N] topics.
        hashtags: [N, MAX_HASHTAGS] hashtag ids, ``NO_ID`` padded (at least one per row).
        hashtag_offsets: [H, D] unit vectors.
        creator_id: [N] creators.
        creator_offsets: [C, D] unit vectors.

    Returns:
        [N, D] float32 unit vectors.
    """
    embedding = rng.standard_normal((topic_id.shape[0], EMBED_DIM), dtype=np.float32)
    # Per-dimension std 1/sqrt(D) gives the noise unit expected norm, like the offsets.
    embedding *= np.float32(NOISE_WEIGHT / np.sqrt(EMBED_DIM))
    embedding += centroid[topic_id]
    embedding += _mean_hashtag_offset(hashtags, hashtag_offsets) * np.float32(HASHTAG_WEIGHT)
    embedding += creator_offsets[creator_id] * np.float32(CREATOR_WEIGHT)
    return normalise_rows(embedding)


def near_copies(rng: np.random.Generator, originals: F32) -> F32:
    """Return unit vectors a tiny random step away from each original row."""
    step = rng.standard_normal(originals.shape, dtype=np.float32)
    step *= np.float32(DUPLICATE_NOISE / np.sqrt(EMBED_DIM))
    return normalise_rows(originals + step)


def _mean_hashtag_offset(hashtags: I32, hashtag_offsets: F32) -> F32:
    # NO_ID (-1) indexes the appended zero row, so padding adds nothing.
    assert NO_ID == -1
    padded = np.vstack([hashtag_offsets, np.zeros((1, EMBED_DIM), dtype=np.float32)])
    total = np.zeros((hashtags.shape[0], EMBED_DIM), dtype=np.float32)
    # Column by column: gathering all six at once would hold an [N, 6, D] temporary.
    for column in hashtags.T:
        total += padded[column]
    count = np.count_nonzero(hashtags != NO_ID, axis=1).astype(np.float32)
    total /= np.maximum(count, np.float32(1))[:, None]
    return total
