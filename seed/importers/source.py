"""What a reader hands over: a dataset's items and log as read, before anything is synthesised.

Each reader (MovieLens, KuaiRand, a generic CSV) fills these two values from its files; the
rest of the import (:mod:`seed.importers.assemble`) is the same for every format. Anything the
dataset does not have is None or NaN here, and the assembly fills it reproducibly and lists it in
the world's ``synthetic_fields``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.world import F64, I64, Bool


@dataclass(frozen=True)
class Catalogue:
    """The dataset's items. Lists and arrays are [N], in the dataset's item order."""

    name: str  # the format, e.g. "movielens" (recorded in foryou_meta.imported_from)
    key: I64  # the dataset's own item id
    topics: list[list[str]]  # topic names (genres, tag ids), most specific first; may be empty
    tags: list[list[str]]  # free tags that become hashtags (after the topics' own)
    title: list[str] | None = None
    creator: list[str] | None = None  # the dataset's creator key (author id)
    sound: list[str] | None = None  # the dataset's music id
    duration_s: F64 | None = None  # NaN where unknown
    published_unix: F64 | None = None  # NaN where unknown
    language: str | None = None  # one for the whole dataset (ISO 639-1)
    country: str | None = None  # ISO 3166-1 alpha-2
    topic_motifs: dict[str, str] | None = None  # a motif for a known topic name
    # Without creators: one synthetic creator per topic and decade of the title's "(1995)"
    # (MovieLens), instead of groups of a few videos of one topic.
    creators_by_decade: bool = False

    def __len__(self) -> int:
        return int(self.key.size)


@dataclass(frozen=True)
class Log:
    """The dataset's interactions, one row per (user, item) viewing or rating. Arrays are [R]."""

    user_key: list[str]  # [U] the dataset's user ids
    user: I64  # index into user_key
    item: I64  # index into the catalogue
    unix: F64  # when it happened (unix seconds)
    rating: F64 | None = None  # explicit rating (MovieLens 0.5-5), NaN where absent
    label: F64 | None = None  # 1 like, 0 hate / not interested, NaN neither
    watched_s: F64 | None = None  # play time, NaN where absent
    follow: Bool | None = None
    comment: Bool | None = None
    share: Bool | None = None

    def __len__(self) -> int:
        return int(self.user.size)


def empty_log() -> Log:
    """The log of a dataset that has none (a catalogue only)."""
    none = np.zeros(0, dtype=np.int64)
    return Log(user_key=[], user=none, item=none, unix=np.zeros(0))
