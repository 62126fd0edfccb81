"""The public, self-contained description of one video and of one recommendation."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from engine.catalog import Catalog
from engine.receipt import Receipt
from engine.visuals import PALETTES
from engine.world import NO_ID


@dataclass(frozen=True)
class Video:
    id: int
    creator_id: int
    creator_handle: str
    creator_name: str
    topic: str  # slug
    topic_name: str
    hashtags: tuple[str, ...]
    sound_id: int
    sound_title: str
    sound_artist: str
    duration_s: float
    language: str
    country: str
    caption: str
    published_at: float  # world seconds
    sensitive: bool
    motif: str
    palette: tuple[str, str, str]
    motion: float
    visual_seed: int
    views: int
    likes: int
    comments: int
    shares: int
    saves: int


@dataclass(frozen=True)
class Recommendation:
    video: Video
    impression_id: int
    position: int
    source: str
    score: float
    rank: int
    propensity: float
    # The policy's P(action) of the pick, per action it predicted (empty: it predicts none):
    # what a simulation's trace reads, without writing the receipt out.
    predicted: dict[str, float] = field(compare=False)
    _receipt_of: Callable[[], Receipt] = field(repr=False, compare=False)

    @property
    def receipt(self) -> Receipt:
        """The full explanation of the pick (written out when first read)."""
        return self._receipt_of()

    def retold(self, source: str, receipt: Receipt) -> Recommendation:
        """The same recommendation told with another source and receipt (what a study's
        participant is shown of a heated pick)."""
        return replace(self, source=source, _receipt_of=Written(receipt))

    def __reduce__(self) -> tuple[type[Recommendation], tuple[object, ...]]:
        # Pickled with its receipt written out: a draft holds the engine's catalogue.
        fields = (self.video, self.impression_id, self.position, self.source, self.score)
        return Recommendation, (
            *fields,
            self.rank,
            self.propensity,
            self.predicted,
            Written(self.receipt),
        )


@dataclass(frozen=True)
class Written:
    """A receipt already written out, as a :attr:`Recommendation._receipt_of`."""

    receipt: Receipt

    def __call__(self) -> Receipt:
        return self.receipt


# The catalogue's columns a Video is built from, and the live counts it shows.
_COLUMNS = (
    "creator_id",
    "topic_id",
    "sound_id",
    "hashtags",
    "duration_s",
    "language",
    "country",
    "published_at",
    "sensitive",
    "palette",
    "motion",
    "visual_seed",
)
_COUNTS = ("views", "likes", "comments", "shares", "saves")


def describe(catalog: Catalog, video_id: int, caption: str) -> Video:
    """Build the public :class:`Video` from the catalog's columns and live counts."""
    v, counts = catalog.world.videos, catalog.engagement.counts
    row = {name: [getattr(v, name)[video_id].tolist()] for name in _COLUMNS}
    row.update({name: [int(counts[name][video_id])] for name in _COUNTS})
    return _videos(catalog, [video_id], [caption], row)[0]


def describe_many(
    catalog: Catalog, video_ids: Sequence[int], captions: Sequence[str]
) -> list[Video]:
    """:func:`describe` of several videos (a batch's picks): each column read once for all of
    them rather than one numpy scalar at a time per video; the same :class:`Video` each."""
    if len(video_ids) == 1:
        return [describe(catalog, video_ids[0], captions[0])]
    v, counts = catalog.world.videos, catalog.engagement.counts
    at = np.asarray(video_ids, dtype=np.int64)
    columns = {name: getattr(v, name)[at].tolist() for name in _COLUMNS}
    # The counts are kept as floats; a Video shows them as ints (describe's int()).
    columns.update({name: counts[name][at].astype(np.int64).tolist() for name in _COUNTS})
    return _videos(catalog, video_ids, captions, columns)


def _videos(
    catalog: Catalog,
    video_ids: Sequence[int],
    captions: Sequence[str],
    columns: dict[str, list[Any]],
) -> list[Video]:
    """The :class:`Video` of each id from its ``columns`` (one Python value per video, in
    order), with the world's names for its ids."""
    world = catalog.world
    c = columns
    return [
        Video(
            id=int(video_id),
            creator_id=c["creator_id"][k],
            creator_handle=world.creators.handle[c["creator_id"][k]],
            creator_name=world.creators.display_name[c["creator_id"][k]],
            topic=world.topics.slug[c["topic_id"][k]],
            topic_name=world.topics.name[c["topic_id"][k]],
            hashtags=tuple(world.hashtags.tag[t] for t in c["hashtags"][k] if t != NO_ID),
            sound_id=c["sound_id"][k],
            sound_title=world.sounds.title[c["sound_id"][k]],
            sound_artist=world.sounds.artist[c["sound_id"][k]],
            duration_s=c["duration_s"][k],
            language=world.languages[c["language"][k]],
            country=world.countries[c["country"][k]],
            caption=captions[k],
            published_at=c["published_at"][k],
            sensitive=c["sensitive"][k],
            motif=world.topics.motif[c["topic_id"][k]],
            palette=PALETTES[c["palette"][k] % len(PALETTES)],
            motion=c["motion"][k],
            visual_seed=c["visual_seed"][k],
            views=c["views"][k],
            likes=c["likes"][k],
            comments=c["comments"][k],
            shares=c["shares"][k],
            saves=c["saves"][k],
        )
        for k, video_id in enumerate(video_ids)
    ]
