"""Near-duplicate re-uploads: the same clip posted again by someone else.

TikTok says duplicates are not recommended, so the world needs some for the filter to catch.
About 2% of videos (chosen among established creators' already-published videos) are turned into
re-uploads of an earlier original by a different creator: they take the original's topic,
hashtags, sound, duration, quality, sensitivity and look, an embedding a tiny step away from it,
and a publish time between the original's and now. Originals are drawn with weight quality⁴,
since what gets re-uploaded is what did well. The re-uploader keeps their own language, country
and spam flag.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from engine.world import F64, I64, NO_ID, Creators, Videos
from seed.embeddings import near_copies

DUPLICATE_SHARE = 0.02
MIN_ORIGINAL_AGE_S = 86_400.0  # leaves room to re-upload between the original and now
REDRAWS = 8  # attempts to find an original by a different creator before giving up
COPIED_COLUMNS = (
    "topic_id",
    "sound_id",
    "hashtags",
    "duration_s",
    "quality",
    "sensitive",
    "palette",
    "motion",
    "visual_seed",
)


def plant_duplicates(rng: np.random.Generator, videos: Videos, creators: Creators) -> Videos:
    """Turn ~2% of videos into near-duplicate re-uploads of earlier videos.

    Args:
        rng: the duplicate stage's generator.
        videos: videos without duplicates.
        creators: their creators (for who is new and when they joined).

    Returns:
        New ``Videos`` with ``duplicate_of`` set on the re-uploads; the input is not modified.
    """
    copies, originals = _pair_copies(rng, videos, creators)
    columns = {name: getattr(videos, name).copy() for name in COPIED_COLUMNS}
    for column in columns.values():
        column[copies] = column[originals]
    embedding = videos.embedding.copy()
    embedding[copies] = near_copies(rng, videos.embedding[originals])
    published_at = videos.published_at.copy()
    published_at[copies] = _reupload_times(
        rng, videos.published_at[originals], creators.joined_at[videos.creator_id[copies]]
    )
    duplicate_of = np.full(len(videos), NO_ID, dtype=np.int32)
    duplicate_of[copies] = originals
    return replace(
        videos,
        **columns,
        embedding=embedding,
        published_at=published_at,
        duplicate_of=duplicate_of,
    )


def _pair_copies(rng: np.random.Generator, videos: Videos, creators: Creators) -> tuple[I64, I64]:
    """Return (copy ids, original ids), aligned, with different creators on each side."""
    published = videos.published_at < 0
    can_copy = published & ~creators.is_new[videos.creator_id]
    n_copies = min(round(DUPLICATE_SHARE * len(videos)), int(can_copy.sum()) // 2)
    copies = np.sort(rng.choice(np.flatnonzero(can_copy), size=n_copies, replace=False))
    can_be_original = videos.published_at < -MIN_ORIGINAL_AGE_S
    can_be_original[copies] = False
    candidates = np.flatnonzero(can_be_original)
    if n_copies == 0 or candidates.size == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    weight = videos.quality[candidates].astype(np.float64) ** 4
    originals = candidates[rng.choice(candidates.size, size=n_copies, p=weight / weight.sum())]
    for _ in range(REDRAWS):
        same_creator = videos.creator_id[originals] == videos.creator_id[copies]
        if not same_creator.any():
            break
        redrawn = rng.choice(candidates.size, size=int(same_creator.sum()), p=weight / weight.sum())
        originals[same_creator] = candidates[redrawn]
    keep = videos.creator_id[originals] != videos.creator_id[copies]
    return copies[keep], originals[keep]


def _reupload_times(rng: np.random.Generator, original_at: F64, joined_at: F64) -> F64:
    # Strictly between the original and now, and never before the re-uploader joined
    # (established creators joined at least 14 days ago, so this stays in the past).
    between = original_at * rng.uniform(0.05, 0.95, original_at.size)
    return np.maximum(between, joined_at + 60.0)
