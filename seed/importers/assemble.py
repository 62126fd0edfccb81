"""A real dataset as a foryou ``World`` plus its viewers' history.

What comes from the data and what is made up (every made-up column is listed in the world's
``foryou_meta.synthetic_fields``, drawn from one ``SeedSequence(seed)`` so the same files and
seed give the same world):

* **topics**: the dataset's genres or tag ids (the 200 most frequent; rarer ones stay hashtags);
  a video's topic is the rarest of its own (the most specific: *Animation* over *Comedy*); a
  video without any takes the topic whose centroid is nearest its embedding; a dataset
  without any (the like/hate log) gets topics from co-occurrence clusters (spherical k-means,
  about one per 400 videos, 8-24), named "Cluster N" by size. Centroids are the normalised
  mean of their videos' embeddings, related topics the three nearest centroids, popularity
  each topic's share of history viewings (plus one per video, so an unwatched topic is not
  zero).
* **hashtags**: one per topic (its name) plus the dataset's free tags, lower-cased letters and
  digits only; a video carries its topics' tags, then its most frequent free tags, at most 6.
* **creators**: the dataset's authors; without them, synthetic groups of up to 8 videos of one
  topic (MovieLens: one per genre and decade, "Comedy 1990s"). Display names of authors known
  only by id come from faker (synthetic).
* **sounds**: the dataset's music ids (titles and artists synthetic); without them, one
  "original sound" per creator.
* **durations** as given; missing ones (all of MovieLens: a movie becomes a clip) are drawn from
  the synthetic world's clip distribution.
* **embeddings**: :mod:`seed.importers.embed`.
* **published_at**: the dataset's upload date, else the video's first appearance in the log,
  else uniform over the log's span (synthetic); world time as in :mod:`seed.importers.history`
  (a catalogue without a log: world second 0 is a day after its last upload date).
* **quality** (hidden, simulation only): the smoothed share of strong positives in the history
  (Beta(2, 2) prior); **background engagement** (``video_stats``): counts of the history's
  events, so the engine's popularity is the real history's and never the held-out part's.
* **language, country** per dataset, captions for a dataset without titles, palette, motion and
  visual seed are synthetic; nothing is spam, sensitive or a duplicate.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from faker import Faker
from threadpoolctl import threadpool_limits

from engine.store.imported import ImportedHistory
from engine.text import printable
from engine.visuals import MOTIFS, PALETTES
from engine.world import (
    EMBED_DIM,
    F32,
    F64,
    I64,
    MADE_UP_DURATIONS,
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
from seed.captions import fit_caption
from seed.importers.embed import interaction_matrix, item_embeddings, kmeans
from seed.importers.history import build_history, positive_weight, split_by_time
from seed.importers.source import Catalogue, Log
from seed.videos import draw_durations

STAGES = ("embeddings", "topics", "creators", "durations", "published", "looks", "captions")
MAX_CREATOR_VIDEOS = 8
MAX_TOPICS = 200
DAY_S = 86_400.0
_TAG_CHARS = re.compile(r"[^0-9a-z]+")
_YEAR = re.compile(r"\((\d{4})\)\s*$")


@dataclass(frozen=True)
class Imported:
    """What an import produces: the world, its viewers' history and facts for ``foryou_meta``."""

    world: World
    history: ImportedHistory
    meta: dict[str, str]


def assemble(
    catalogue: Catalogue,
    log: Log,
    *,
    seed: int,
    history_until: float,
    user_prefix: str,
    epoch_unix: float | None = None,
) -> Imported:
    """Turn a dataset into a world and a history (what is real and what is synthetic: above).

    Raises:
        ValueError: ``history_until`` is outside (0, 1].
    """
    if not 0.0 < history_until <= 1.0:
        raise ValueError(f"--history-until must be in (0, 1], got {history_until}")
    children = np.random.SeedSequence(seed).spawn(len(STAGES))
    rngs = dict(zip(STAGES, map(np.random.default_rng, children), strict=True))
    synthetic: list[str] = []
    in_history = split_by_time(log, history_until)
    signal = _HistorySignal.of(log, in_history, len(catalogue))
    embedding = _embeddings(catalogue, log, signal, rngs["embeddings"], synthetic)
    topic_names, topic_id = _main_topics(catalogue, embedding, rngs["topics"], synthetic)
    end_unix = _log_end(catalogue, log)
    published = _published(catalogue, log, end_unix, rngs["published"], synthetic)
    creator_of, creators = _creators(catalogue, topic_id, published, topic_names, rngs, synthetic)
    sound_of, sounds = _sounds(catalogue, creator_of, creators, rngs["creators"], synthetic)
    hashtags, video_tags = _hashtags(catalogue, topic_names, topic_id)
    videos = Videos(
        creator_id=creator_of.astype(np.int32),
        topic_id=topic_id.astype(np.int16),
        sound_id=sound_of.astype(np.int32),
        hashtags=video_tags,
        duration_s=_durations(catalogue, rngs["durations"], synthetic),
        published_at=published,
        quality=signal.quality(),
        embedding=embedding,
        **_plain_columns(len(catalogue), rngs["looks"]),
    )
    synthetic += ["videos.quality (smoothed positive share of the history)", "videos.palette",
                  "videos.motion", "videos.visual_seed"]  # fmt: skip
    language, country = catalogue.language or "en", catalogue.country or "US"
    if catalogue.language is None:
        synthetic.append(f"language ({language}) and country ({country})")
    history = build_history(
        log,
        in_history,
        videos.duration_s,
        end_unix=end_unix,
        language=language,
        country=country,
        user_prefix=user_prefix,
    )
    world = World(
        seed=seed,
        epoch_unix=time.time() if epoch_unix is None else epoch_unix,
        languages=[language],
        countries=[country],
        topics=_topics(topic_names, topic_id, embedding, signal.views, catalogue),
        hashtags=hashtags,
        sounds=sounds,
        creators=creators,
        videos=videos,
        stats=_stats(history, len(catalogue)),
        captions=_captions(catalogue, video_tags, hashtags.tag, rngs["captions"], synthetic),
        durations_made_up=catalogue.duration_s is None,
    )
    meta = {
        "imported_from": catalogue.name,
        "imported_history_until": repr(history_until),
        "imported_log_end_unix": repr(end_unix),
        "synthetic_fields": json.dumps(synthetic),
    }
    return Imported(world=world, history=history, meta=meta)


@dataclass(frozen=True)
class _HistorySignal:
    """What the history part of the log says about each item (never the held-out part)."""

    user: I64  # [H] the history rows' users
    item: I64  # [H] and items
    weight: F64  # [H] how strongly each row says "more like this"
    views: F64  # [N] history viewings per item
    strong: F64  # [N] history rows with a like or a rating of 4 or more

    @classmethod
    def of(cls, log: Log, in_history: npt.NDArray[np.bool_], n: int) -> _HistorySignal:
        rows = np.flatnonzero(in_history)
        weight = np.array([positive_weight(log, int(r)) for r in rows], dtype=np.float64)
        item = log.item[rows]
        return cls(
            user=log.user[rows],
            item=item,
            weight=weight,
            views=np.bincount(item, minlength=n).astype(np.float64),
            strong=np.bincount(item, weights=(weight >= 1.5) * 1.0, minlength=n).astype(np.float64),
        )

    def quality(self) -> F32:
        """Hidden quality: the strong-positive share under a Beta(2, 2) prior."""
        return ((self.strong + 2.0) / (self.views + 4.0)).astype(np.float32)


def _embeddings(
    catalogue: Catalogue,
    log: Log,
    signal: _HistorySignal,
    rng: np.random.Generator,
    synthetic: list[str],
) -> F32:
    n = len(catalogue)
    labels = [t + g for t, g in zip(catalogue.topics, catalogue.tags, strict=True)]
    matrix = None
    if signal.item.size:
        matrix = interaction_matrix(signal.user, signal.item, signal.weight, len(log.user_key), n)
    # One BLAS thread: on a busy 2-core machine more threads made the SVD 3x slower.
    with threadpool_limits(limits=1, user_api="blas"):
        embedding, random_count = item_embeddings(labels, matrix, rng)
    if random_count:
        synthetic.append(f"videos.embedding ({random_count} videos without metadata or history)")
    return embedding


def _plain_columns(n: int, rng: np.random.Generator) -> dict[str, npt.NDArray[Any]]:
    """The columns real data never has: one locale, no flags, and a synthetic look."""
    return {
        "language": np.zeros(n, dtype=np.int8),
        "country": np.zeros(n, dtype=np.int8),
        "spam": np.zeros(n, dtype=bool),
        "sensitive": np.zeros(n, dtype=bool),
        "duplicate_of": np.full(n, NO_ID, dtype=np.int32),
        "palette": rng.integers(0, len(PALETTES), n).astype(np.int16),
        "motion": np.clip(rng.lognormal(0.0, 0.2, n), 0.5, 2.0).astype(np.float32),
        "visual_seed": rng.integers(0, 2**31 - 1, n).astype(np.int32),
    }


def _log_end(catalogue: Catalogue, log: Log) -> float:
    """The moment that becomes world second 0: the log's last timestamp; without a log, a day
    after the last upload (so the newest videos are a day old), else now."""
    if len(log):
        return float(log.unix.max())
    dates = catalogue.published_unix
    if dates is not None and np.isfinite(dates).any():
        return float(np.nanmax(dates)) + DAY_S
    return time.time()


def _main_topics(
    catalogue: Catalogue, embedding: F32, rng: np.random.Generator, synthetic: list[str]
) -> tuple[list[str], I64]:
    counts = Counter(t for row in catalogue.topics for t in set(row))
    n = len(catalogue)
    if not counts:
        k = int(np.clip(round(n / 400), 8, 24)) if n >= 8 else max(1, n)
        clusters = kmeans(embedding, k, rng)
        synthetic.append(f"topics (co-occurrence clusters, {k})")
        return [f"Cluster {i + 1}" for i in range(k)], clusters
    # The engine keeps per-topic arrays and ids in int16: a long tail of rare labels stays
    # hashtags only.
    names = sorted(counts, key=lambda name: (-counts[name], name))[:MAX_TOPICS]
    index = {name: i for i, name in enumerate(names)}
    topic_id = np.full(n, -1, dtype=np.int64)
    for i, row in enumerate(catalogue.topics):
        kept = [name for name in row if name in index]
        if kept:
            topic_id[i] = index[min(kept, key=lambda name: (counts[name], name))]
    missing = np.flatnonzero(topic_id < 0)
    if missing.size:
        centroids = _centroids(embedding, topic_id, len(names))
        topic_id[missing] = np.argmax(embedding[missing] @ centroids.T, axis=1)
        synthetic.append(f"videos.topic_id of {missing.size} videos without one (nearest topic)")
    return names, topic_id


def _centroids(embedding: F32, topic_id: I64, count: int) -> F32:
    sums = np.zeros((count, EMBED_DIM), dtype=np.float64)
    known = topic_id >= 0
    np.add.at(sums, topic_id[known], embedding[known])
    norms = np.linalg.norm(sums, axis=1, keepdims=True)
    return (sums / np.where(norms > 0, norms, 1.0)).astype(np.float32)


def _topics(
    names: list[str], topic_id: I64, embedding: F32, views: F64, catalogue: Catalogue
) -> Topics:
    count = len(names)
    centroid = _centroids(embedding, topic_id, count)
    similarity = centroid @ centroid.T
    np.fill_diagonal(similarity, -np.inf)
    related = [np.argsort(-row, kind="stable")[: min(3, count - 1)].tolist() for row in similarity]
    audience = np.bincount(topic_id, weights=views + 1.0, minlength=count)
    motifs = catalogue.topic_motifs or {}
    slugs = _unique([_slug(name) or f"topic{i}" for i, name in enumerate(names)])
    return Topics(
        name=[printable(name) for name in names],
        slug=slugs,
        popularity=(audience / audience.sum()).astype(np.float32),
        related=related,
        motif=[motifs.get(name, MOTIFS[i % len(MOTIFS)]) for i, name in enumerate(names)],
        centroid=centroid,
    )


def _slug(text: str) -> str:
    return _TAG_CHARS.sub("-", text.lower()).strip("-")


def _tag(text: str) -> str:
    return _TAG_CHARS.sub("", text.lower())[:20]


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name}-{seen[name]}")
    return out


def _published(
    catalogue: Catalogue, log: Log, end_unix: float, rng: np.random.Generator, synthetic: list[str]
) -> F64:
    n = len(catalogue)
    published = np.full(n, np.nan)
    if catalogue.published_unix is not None:
        published = catalogue.published_unix.copy()
    if len(log):
        first = np.full(n, np.inf)
        np.minimum.at(first, log.item, log.unix)
        fill = np.isnan(published) & np.isfinite(first)
        published[fill] = first[fill]
    missing = np.isnan(published)
    if missing.any():
        start = float(np.nanmin(published)) if (~missing).any() else end_unix - 30 * DAY_S
        published[missing] = start + rng.random(int(missing.sum())) * (end_unix - start)
        synthetic.append(f"videos.published_at of {int(missing.sum())} videos (uniform)")
    return np.minimum(published - end_unix, 0.0)


def _durations(catalogue: Catalogue, rng: np.random.Generator, synthetic: list[str]) -> F32:
    n = len(catalogue)
    drawn = draw_durations(rng, n)
    if catalogue.duration_s is None:
        synthetic.append(MADE_UP_DURATIONS)
        return drawn
    given = catalogue.duration_s
    missing = ~np.isfinite(given) | (given <= 0)
    if missing.any():
        synthetic.append(f"videos.duration_s of {int(missing.sum())} videos without one")
    return np.where(missing, drawn, np.maximum(given, 1.0)).round(1).astype(np.float32)


def _creators(
    catalogue: Catalogue,
    topic_id: I64,
    published: F64,
    topic_names: list[str],
    rngs: dict[str, np.random.Generator],
    synthetic: list[str],
) -> tuple[I64, Creators]:
    n = len(catalogue)
    if catalogue.creator is not None:
        keys = catalogue.creator
        handles_of = {key: f"author{_tag(key) or i}" for i, key in enumerate(dict.fromkeys(keys))}
        fake = Faker("zh_CN" if catalogue.language == "zh" else "en_US")
        fake.seed_instance(int(rngs["creators"].integers(2**31)))
        names = {key: fake.name() for key in handles_of}
        synthetic.append("creators.display_name (faker; the data has author ids only)")
    elif catalogue.creators_by_decade and catalogue.title is not None:
        decades = [_decade(t) for t in catalogue.title]
        keys = [f"{topic_names[t]} {d}" for t, d in zip(topic_id.tolist(), decades, strict=True)]
        handles_of = {key: _tag(key) or "creator" for key in dict.fromkeys(keys)}
        names = {key: key for key in handles_of}
        synthetic.append("creators (one per topic and decade: the data has no authors)")
    else:
        order = np.lexsort((np.arange(n), topic_id))
        group = np.zeros(n, dtype=np.int64)
        rank = np.arange(n) - np.searchsorted(topic_id[order], topic_id[order])
        group[order] = rank // MAX_CREATOR_VIDEOS
        keys = [
            f"{topic_names[t]} {g + 1}"
            for t, g in zip(topic_id.tolist(), group.tolist(), strict=True)
        ]
        handles_of = {key: _tag(key) or "creator" for key in dict.fromkeys(keys)}
        names = {key: key for key in handles_of}
        synthetic.append(f"creators (groups of up to {MAX_CREATOR_VIDEOS} videos of one topic)")
    ordered = list(handles_of)
    index = {key: i for i, key in enumerate(ordered)}
    creator_of = np.array([index[key] for key in keys], dtype=np.int64)
    count = len(ordered)
    home = np.full((count, 3), NO_ID, dtype=np.int16)
    for c in range(count):
        tops = Counter(topic_id[creator_of == c].tolist()).most_common(3)
        home[c, : len(tops)] = [t for t, _ in tops]
    first = np.full(count, np.inf)
    np.minimum.at(first, creator_of, published)
    videos_per = np.bincount(creator_of, minlength=count).astype(np.float64)
    weeks = np.maximum(-first / (7 * DAY_S), 1.0)
    creators = Creators(
        handle=_unique([printable(handles_of[key]) for key in ordered]),
        display_name=[printable(names[key]) for key in ordered],
        locale=["imported"] * count,
        country=np.zeros(count, dtype=np.int8),
        language=np.zeros(count, dtype=np.int8),
        home_topics=home,
        joined_at=(first - 7 * DAY_S).astype(np.float64),
        cadence_per_week=(videos_per / weeks).astype(np.float32),
        is_new=np.zeros(count, dtype=bool),
    )
    return creator_of, creators


def _decade(title: str) -> str:
    match = _YEAR.search(title)
    return f"{match.group(1)[:3]}0s" if match else "undated"


def _sounds(
    catalogue: Catalogue,
    creator_of: I64,
    creators: Creators,
    rng: np.random.Generator,
    synthetic: list[str],
) -> tuple[I64, Sounds]:
    if catalogue.sound is not None:
        keys = catalogue.sound
        ordered = list(dict.fromkeys(keys))
        index = {key: i for i, key in enumerate(ordered)}
        count = len(ordered)
        synthetic.append("sounds.title, artist and bpm (the data has music ids only)")
        return np.array([index[k] for k in keys], dtype=np.int64), Sounds(
            title=[f"track {printable(key)}" for key in ordered],
            artist=["unknown artist"] * count,
            bpm=rng.integers(70, 170, count).astype(np.int16),
            is_original=np.zeros(count, dtype=bool),
            creator_id=np.full(count, NO_ID, dtype=np.int32),
            topic_id=np.full(count, NO_ID, dtype=np.int16),
            trending=np.zeros(count, dtype=bool),
        )
    count = len(creators)
    synthetic.append("sounds (one original sound per creator)")
    return creator_of.copy(), Sounds(
        title=[f"original sound - {handle}" for handle in creators.handle],
        artist=list(creators.display_name),
        bpm=rng.integers(70, 170, count).astype(np.int16),
        is_original=np.ones(count, dtype=bool),
        creator_id=np.arange(count, dtype=np.int32),
        topic_id=creators.home_topics[:, 0].copy(),
        trending=np.zeros(count, dtype=bool),
    )


def _hashtags(
    catalogue: Catalogue, topic_names: list[str], topic_id: I64
) -> tuple[Hashtags, np.ndarray]:
    tags: dict[str, int] = {}
    owner: list[int] = []
    kinds: list[str] = []
    for t, name in enumerate(topic_names):
        tag = _tag(name)
        if tag and tag not in tags:
            tags[tag] = len(tags)
            owner.append(t)
            kinds.append("topic")
    free_labels = [t + g for t, g in zip(catalogue.topics, catalogue.tags, strict=True)]
    frequency = Counter(_tag(tag) for row in free_labels for tag in set(row))
    video_tags = np.full((len(catalogue), MAX_HASHTAGS), NO_ID, dtype=np.int32)
    topic_tag = {t: tags.get(_tag(name), NO_ID) for t, name in enumerate(topic_names)}
    for i in range(len(catalogue)):
        chosen = [topic_tag[int(topic_id[i])]]
        chosen += [tags.get(_tag(t), NO_ID) for t in catalogue.topics[i]]
        free = sorted({_tag(t) for t in free_labels[i]} - {""}, key=lambda x: (-frequency[x], x))
        for tag in free:
            if tag not in tags:
                tags[tag] = len(tags)
                owner.append(int(topic_id[i]))
                kinds.append("topic")
            chosen.append(tags[tag])
        unique = [c for c in dict.fromkeys(chosen) if c != NO_ID][:MAX_HASHTAGS]
        video_tags[i, : len(unique)] = unique
    count = len(tags)
    return Hashtags(
        tag=list(tags),
        topic_id=np.array(owner, dtype=np.int16),
        kind=kinds,
        trending=np.zeros(count, dtype=bool),
    ), video_tags


def _captions(
    catalogue: Catalogue,
    video_tags: np.ndarray,
    tag_text: list[str],
    rng: np.random.Generator,
    synthetic: list[str],
) -> list[str]:
    suffixes = [" ".join(f"#{tag_text[t]}" for t in row if t != NO_ID) for row in video_tags]
    if catalogue.title is not None:
        texts = [printable(title.strip()) for title in catalogue.title]
    else:
        fake = Faker("en_US")
        fake.seed_instance(int(rng.integers(2**31)))
        texts = [fake.sentence(nb_words=6).rstrip(".") for _ in range(len(catalogue))]
        synthetic.append("videos.caption text (faker; the data has no titles)")
    return [fit_caption(text, suffix) for text, suffix in zip(texts, suffixes, strict=True)]


def _stats(history: ImportedHistory, n: int) -> VideoStats:
    counts = {field: np.zeros(n, dtype=np.int64) for field in VideoStats.FIELDS}
    for impression in history.impressions:
        counts["views"][impression.video_id] += 1
    by_kind = {"complete": "completions", "like": "likes", "share": "shares",
               "comment": "comments", "follow": "follows"}  # fmt: skip
    for event in history.events:
        field = by_kind.get(event.kind)
        if field is not None:
            counts[field][history.impressions[event.impression].video_id] += 1
    return VideoStats(**counts)
