"""The synthetic world as columns: what the seed generator produces and what the engine scores.

Every entity id is its row index (0-based), so an id indexes the numpy arrays directly and
SQLite's INTEGER PRIMARY KEY holds the same number. Times are *world seconds*: seconds relative
to the world's epoch (negative = in the past when the world was built, positive = scheduled).
``World.epoch_unix`` maps world time to wall time; it is metadata, not content, so the same seed
always gives the same world.

Text that only the screen needs (captions) may be left unloaded (``captions is None``): the
engine scores on the numeric columns and fetches a caption by id when it shows a video.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

EMBED_DIM = 32
MAX_HASHTAGS = 6
NO_ID = -1  # padding / "none" in integer id columns
# What ``foryou import`` lists in ``foryou_meta.synthetic_fields`` when the data gave no length.
MADE_UP_DURATIONS = "videos.duration_s (the synthetic clip distribution)"

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
I8 = npt.NDArray[np.int8]
I16 = npt.NDArray[np.int16]
I32 = npt.NDArray[np.int32]
I64 = npt.NDArray[np.int64]
Bool = npt.NDArray[np.bool_]


@dataclass(frozen=True, eq=False)
class Topics:
    """Short-video categories and subcultures."""

    name: list[str]  # display name, e.g. "BookTok"
    slug: list[str]  # engine-facing key, e.g. "booktok"
    popularity: F32  # [T] relative audience size, sums to 1
    related: list[list[int]]  # [T] related topic ids
    motif: list[str]  # [T] renderer motif, so content is recognisable at a glance
    centroid: F32  # [T, D] unit vectors; related topics are closer

    def __len__(self) -> int:
        return len(self.name)


@dataclass(frozen=True, eq=False)
class Hashtags:
    tag: list[str]  # without the leading '#'
    topic_id: I16  # [H] owning topic, NO_ID for cross-topic tags
    kind: list[str]  # "topic" | "trending" | "challenge"
    trending: Bool  # [H]

    def __len__(self) -> int:
        return len(self.tag)


@dataclass(frozen=True, eq=False)
class Sounds:
    title: list[str]
    artist: list[str]
    bpm: I16  # [S]
    is_original: Bool  # [S] a creator's "original sound" vs a shared track
    creator_id: I32  # [S] owner of an original sound, NO_ID for tracks
    topic_id: I16  # [S] the scene a track belongs to, NO_ID for none
    trending: Bool  # [S]

    def __len__(self) -> int:
        return len(self.title)


@dataclass(frozen=True, eq=False)
class Creators:
    handle: list[str]  # unique, without '@'
    display_name: list[str]
    locale: list[str]  # faker locale the names came from
    country: I8  # [C] index into World.countries
    language: I8  # [C] index into World.languages
    home_topics: I16  # [C, 3] topic ids, NO_ID padded
    joined_at: F64  # [C] world seconds
    cadence_per_week: F32  # [C] uploads per week
    is_new: Bool  # [C] joined recently, no views yet

    def __len__(self) -> int:
        return len(self.handle)


@dataclass(frozen=True, eq=False)
class Videos:
    creator_id: I32  # [N]
    topic_id: I16  # [N]
    sound_id: I32  # [N]
    hashtags: I32  # [N, MAX_HASHTAGS] hashtag ids, NO_ID padded
    duration_s: F32  # [N] 5..180
    language: I8  # [N] index into World.languages
    country: I8  # [N] index into World.countries
    published_at: F64  # [N] world seconds; > clock means scheduled, not yet visible
    quality: F32  # [N] hidden 0..1, drives simulated engagement, never a ranking input
    embedding: F32  # [N, EMBED_DIM] unit vectors
    spam: Bool  # [N]
    sensitive: Bool  # [N]
    duplicate_of: I32  # [N] original video id of a near-duplicate re-upload, NO_ID otherwise
    palette: I16  # [N] index into the renderer's palettes
    motion: F32  # [N] animation speed multiplier
    visual_seed: I32  # [N] per-video variation of the motif

    def __len__(self) -> int:
        return int(self.creator_id.shape[0])


@dataclass(frozen=True, eq=False)
class VideoStats:
    """Background engagement drawn at seed time (live engagement is recorded separately)."""

    views: I64
    completions: I64
    likes: I64
    shares: I64
    comments: I64
    saves: I64
    follows: I64

    FIELDS = ("views", "completions", "likes", "shares", "comments", "saves", "follows")


@dataclass(frozen=True, eq=False)
class World:
    seed: int
    epoch_unix: float
    languages: list[str]  # ISO 639-1 codes
    countries: list[str]  # ISO 3166-1 alpha-2 codes
    topics: Topics
    hashtags: Hashtags
    sounds: Sounds
    creators: Creators
    videos: Videos
    stats: VideoStats
    captions: list[str] | None  # [N] caption text incl. hashtags; None when not loaded
    # Every duration was drawn, not given (an imported catalogue without lengths, MovieLens):
    # how long a video is says nothing of it, so no ranking values it (README, "Real data").
    durations_made_up: bool = False
