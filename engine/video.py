"""The public, self-contained description of one video and of one recommendation."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

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


def describe(catalog: Catalog, video_id: int, caption: str) -> Video:
    """Build the public :class:`Video` from the catalog's columns and live counts."""
    world = catalog.world
    v = world.videos
    creator = int(v.creator_id[video_id])
    topic = int(v.topic_id[video_id])
    sound = int(v.sound_id[video_id])
    counts = catalog.engagement.counts
    tags = tuple(world.hashtags.tag[t] for t in v.hashtags[video_id].tolist() if t != NO_ID)
    return Video(
        id=video_id,
        creator_id=creator,
        creator_handle=world.creators.handle[creator],
        creator_name=world.creators.display_name[creator],
        topic=world.topics.slug[topic],
        topic_name=world.topics.name[topic],
        hashtags=tags,
        sound_id=sound,
        sound_title=world.sounds.title[sound],
        sound_artist=world.sounds.artist[sound],
        duration_s=float(v.duration_s[video_id]),
        language=world.languages[int(v.language[video_id])],
        country=world.countries[int(v.country[video_id])],
        caption=caption,
        published_at=float(v.published_at[video_id]),
        sensitive=bool(v.sensitive[video_id]),
        motif=world.topics.motif[topic],
        palette=PALETTES[int(v.palette[video_id]) % len(PALETTES)],
        motion=float(v.motion[video_id]),
        visual_seed=int(v.visual_seed[video_id]),
        views=int(counts["views"][video_id]),
        likes=int(counts["likes"][video_id]),
        comments=int(counts["comments"][video_id]),
        shares=int(counts["shares"][video_id]),
        saves=int(counts["saves"][video_id]),
    )


def describe_many(
    catalog: Catalog, video_ids: Sequence[int], captions: Sequence[str]
) -> list[Video]:
    """:func:`describe` of several videos (a batch's picks): each column read once for all of
    them rather than one numpy scalar at a time per video; the same :class:`Video` each."""
    if len(video_ids) == 1:
        return [describe(catalog, video_ids[0], captions[0])]
    world = catalog.world
    v = world.videos
    at = np.asarray(video_ids, dtype=np.int64)
    counts = catalog.engagement.counts
    creators, topics, sounds = (
        column[at].tolist() for column in (v.creator_id, v.topic_id, v.sound_id)
    )
    duration, published, motion = (
        column[at].tolist() for column in (v.duration_s, v.published_at, v.motion)
    )
    language, country, palette = (
        column[at].tolist() for column in (v.language, v.country, v.palette)
    )
    sensitive, visual_seed = v.sensitive[at].tolist(), v.visual_seed[at].tolist()
    views, likes, comments, shares, saves = (
        counts[name][at].astype(np.int64).tolist()  # kept as floats; int() as describe's
        for name in ("views", "likes", "comments", "shares", "saves")
    )
    hashtags = v.hashtags[at].tolist()
    return [
        Video(
            id=int(video_id),
            creator_id=creators[k],
            creator_handle=world.creators.handle[creators[k]],
            creator_name=world.creators.display_name[creators[k]],
            topic=world.topics.slug[topics[k]],
            topic_name=world.topics.name[topics[k]],
            hashtags=tuple(world.hashtags.tag[t] for t in hashtags[k] if t != NO_ID),
            sound_id=sounds[k],
            sound_title=world.sounds.title[sounds[k]],
            sound_artist=world.sounds.artist[sounds[k]],
            duration_s=duration[k],
            language=world.languages[language[k]],
            country=world.countries[country[k]],
            caption=captions[k],
            published_at=published[k],
            sensitive=sensitive[k],
            motif=world.topics.motif[topics[k]],
            palette=PALETTES[palette[k] % len(PALETTES)],
            motion=motion[k],
            visual_seed=visual_seed[k],
            views=views[k],
            likes=likes[k],
            comments=comments[k],
            shares=shares[k],
            saves=saves[k],
        )
        for k, video_id in enumerate(video_ids)
    ]
