"""The synthetic world generator: determinism, shape, realism rates and referential integrity."""

from __future__ import annotations

import re
from dataclasses import fields, is_dataclass

import numpy as np
import pytest
from faker import Faker

from engine.visuals import MOTIFS, PALETTES
from engine.world import MAX_HASHTAGS, NO_ID, World
from seed.captions import TEMPLATES, fit_caption
from seed.generate import generate_world
from seed.spec import WorldSpec

DAY_S = 86_400.0
SPEC = WorldSpec(videos=2000, seed=7)


@pytest.fixture(scope="module")
def world() -> World:
    return generate_world(SPEC, epoch_unix=1_700_000_000.0)


@pytest.fixture(scope="module")
def large_world() -> World:
    return generate_world(WorldSpec(videos=20_000, seed=3), epoch_unix=0.0)


def _assert_same(a: object, b: object, path: str) -> None:
    if is_dataclass(a) and not isinstance(a, type):
        for field in fields(a):
            _assert_same(getattr(a, field.name), getattr(b, field.name), f"{path}.{field.name}")
    elif isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray), path
        assert a.dtype == b.dtype, path
        assert np.array_equal(a, b), path
    else:
        assert a == b, path


def test_same_spec_gives_identical_world_whatever_the_epoch(world: World) -> None:
    twin = generate_world(SPEC, epoch_unix=42.0)
    assert twin.epoch_unix == 42.0
    for field in fields(World):
        if field.name != "epoch_unix":
            _assert_same(getattr(world, field.name), getattr(twin, field.name), field.name)


def test_different_seed_gives_different_world(world: World) -> None:
    other = generate_world(WorldSpec(videos=2000, seed=8), epoch_unix=1_700_000_000.0)
    assert not np.array_equal(world.videos.embedding, other.videos.embedding)
    assert not np.array_equal(world.videos.topic_id, other.videos.topic_id)
    assert world.creators.handle != other.creators.handle
    assert world.captions != other.captions


def test_counts_match_spec(world: World) -> None:
    n_videos, n_creators = 2000, 100  # creators default to videos // 20
    assert len(world.videos) == n_videos
    assert len(world.creators) == n_creators
    assert world.captions is not None
    assert len(world.captions) == n_videos
    for name in world.stats.FIELDS:
        assert getattr(world.stats, name).shape == (n_videos,)
    assert np.count_nonzero(world.sounds.is_original) == n_creators
    assert len(world.sounds) - n_creators >= 50


def test_topic_catalog_is_rich_and_consistent(world: World) -> None:
    topics = world.topics
    assert len(topics) >= 30
    assert len(set(topics.slug)) == len(topics)
    assert all(slug.isascii() and slug == slug.lower() and " " not in slug for slug in topics.slug)
    assert topics.popularity.sum() == pytest.approx(1.0, abs=1e-5)
    assert topics.popularity.max() > 5 * topics.popularity.min()
    assert set(topics.motif) <= set(MOTIFS)
    for topic, related in enumerate(topics.related):
        assert 2 <= len(related) <= 4
        assert all(topic in topics.related[other] for other in related)
    tags_per_topic = np.bincount(world.hashtags.topic_id[world.hashtags.topic_id >= 0])
    assert tags_per_topic.min() >= 8
    assert tags_per_topic.max() <= 12
    assert len(set(world.hashtags.tag)) == len(world.hashtags)


def test_related_topic_centroids_are_closer_than_unrelated(world: World) -> None:
    centroid = world.topics.centroid
    similarity = centroid @ centroid.T
    related = np.zeros_like(similarity, dtype=bool)
    for topic, others in enumerate(world.topics.related):
        related[topic, others] = True
    unrelated = ~related & ~np.eye(len(centroid), dtype=bool)
    assert similarity[related].mean() > similarity[unrelated].mean() + 0.2


def test_embeddings_are_unit_float32(world: World) -> None:
    for vectors in (world.videos.embedding, world.topics.centroid):
        assert vectors.dtype == np.float32
        np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_videos_sit_near_their_topic(world: World) -> None:
    videos = world.videos
    own = np.einsum("nd,nd->n", videos.embedding, world.topics.centroid[videos.topic_id])
    nearest = np.argmax(videos.embedding @ world.topics.centroid.T, axis=1)
    assert own.mean() > 0.8
    assert np.mean(nearest == videos.topic_id) > 0.9


def test_durations_are_short_video_shaped(world: World) -> None:
    duration = world.videos.duration_s
    assert duration.min() >= 5.0
    assert duration.max() <= 180.0
    assert np.mean((duration >= 10) & (duration <= 30)) >= 0.5
    assert 12.0 <= float(np.median(duration)) <= 25.0
    assert np.mean(duration > 60) > 0.03  # the long tail exists


def test_captions_fit_and_end_with_the_videos_hashtags(world: World) -> None:
    assert world.captions is not None
    for caption, tag_ids in zip(world.captions, world.videos.hashtags, strict=True):
        suffix = " ".join("#" + world.hashtags.tag[i] for i in tag_ids if i != NO_ID)
        assert len(caption) <= 150
        assert caption.endswith(" " + suffix)
        assert len(caption) > len(suffix) + 1  # some text before the tags


def _caption_words(world: World, language: str) -> list[list[str]]:
    """The words before the hashtags of each original video in one language (emoji dropped)."""
    assert world.captions is not None
    code = world.languages.index(language)
    originals = (world.videos.language == code) & (world.videos.duplicate_of == NO_ID)
    texts = [world.captions[i].split(" #")[0] for i in np.flatnonzero(originals)]
    return [[w.strip("…") for w in text.split() if w.strip("…").isalpha()] for text in texts]


@pytest.mark.parametrize(
    ("language", "locale"), [("de", "de_DE"), ("fr", "fr_FR"), ("es", "es_MX")]
)
def test_captions_speak_the_videos_language(world: World, language: str, locale: str) -> None:
    words = _caption_words(world, language)
    assert len(words) >= 20
    local = set(Faker(locale).get_words_list())
    assert all(caption and set(caption) <= local for caption in words)


@pytest.mark.parametrize(
    ("language", "script"), [("ja", "\u3040-\u30ff\u4e00-\u9fff"), ("ko", "\uac00-\ud7a3")]
)
def test_japanese_and_korean_captions_are_in_their_script(
    world: World, language: str, script: str
) -> None:
    words = _caption_words(world, language)
    assert len(words) >= 10
    assert all(re.search(f"[{script}]", " ".join(caption)) for caption in words)


@pytest.mark.parametrize("language", ["pt", "id"])
def test_captions_without_a_faker_lorem_list_are_still_not_english(
    world: World, language: str
) -> None:
    english = set(Faker("en_US").get_words_list()) | {
        w.lower() for t in TEMPLATES for w in t.split()
    }
    words = [w.lower() for caption in _caption_words(world, language) for w in caption]
    assert len(words) >= 50
    assert sum(w in english for w in words) / len(words) < 0.1


def test_long_caption_text_is_cut_but_hashtags_kept() -> None:
    hashtags = " ".join(f"#{'x' * 19}{i}" for i in range(6))
    caption = fit_caption("POV: " + "very " * 40 + "long story 😅", hashtags)
    assert len(caption) == 150
    assert caption.endswith("… " + hashtags)
    assert caption.startswith("POV: very")
    assert fit_caption("short", "#a #b") == "short #a #b"


def test_hashtags_per_video(world: World) -> None:
    tag_ids = world.videos.hashtags
    assert tag_ids.shape == (len(world.videos), MAX_HASHTAGS)
    present = tag_ids != NO_ID
    count = present.sum(axis=1)
    assert count.min() >= 2
    assert count.max() <= 6
    # Padding only at the end, no repeated tag within a video.
    assert np.array_equal(present, np.arange(MAX_HASHTAGS)[None, :] < count[:, None])
    for row, n in zip(tag_ids, count, strict=True):
        assert len(set(row[:n].tolist())) == n
    topic_of_first = world.hashtags.topic_id[tag_ids[:, 0]]
    assert np.array_equal(topic_of_first, world.videos.topic_id)
    kind = np.array(world.hashtags.kind)[tag_ids[present]]
    assert 0.05 < np.mean(kind == "trending") < 0.2
    assert 0.005 < np.mean(kind == "challenge") < 0.05


@pytest.mark.parametrize(
    ("name", "low", "high"),
    [
        ("spam", 0.005, 0.016),
        ("sensitive", 0.01, 0.03),
        ("duplicates", 0.01, 0.03),
        ("future", 0.04, 0.10),
        ("new creators", 0.06, 0.14),
    ],
)
def test_rates(world: World, name: str, low: float, high: float) -> None:
    videos = world.videos
    rate = {
        "spam": videos.spam.mean(),
        "sensitive": videos.sensitive.mean(),
        "duplicates": np.mean(videos.duplicate_of != NO_ID),
        "future": np.mean(videos.published_at > 0),
        "new creators": world.creators.is_new.mean(),
    }[name]
    assert low <= rate <= high


def test_duplicates_reupload_an_earlier_video_by_someone_else(world: World) -> None:
    videos = world.videos
    assert world.captions is not None
    copies = np.flatnonzero(videos.duplicate_of != NO_ID)
    originals = videos.duplicate_of[copies]
    assert copies.size > 0
    assert np.all(originals < copies)
    assert np.all(videos.published_at[originals] < videos.published_at[copies])
    assert np.all(videos.creator_id[originals] != videos.creator_id[copies])
    assert np.all(videos.duplicate_of[originals] == NO_ID)
    for column in ("topic_id", "sound_id", "hashtags", "duration_s", "palette", "visual_seed"):
        values = getattr(videos, column)
        assert np.array_equal(values[originals], values[copies]), column
    closeness = np.einsum("nd,nd->n", videos.embedding[originals], videos.embedding[copies])
    assert closeness.min() > 0.99
    assert [world.captions[i] for i in copies] == [world.captions[i] for i in originals]


def test_referential_integrity(world: World) -> None:
    videos, creators, sounds, hashtags = world.videos, world.creators, world.sounds, world.hashtags
    n_topics = len(world.topics)

    def within(ids: np.ndarray, size: int, *, allow_none: bool = False) -> bool:
        valid = ids[ids != NO_ID] if allow_none else ids
        return bool(np.all((valid >= 0) & (valid < size)))

    assert within(videos.creator_id, len(creators))
    assert within(videos.topic_id, n_topics)
    assert within(videos.sound_id, len(sounds))
    assert within(videos.hashtags, len(hashtags), allow_none=True)
    assert within(videos.duplicate_of, len(videos), allow_none=True)
    assert within(videos.palette, len(PALETTES))
    assert within(videos.language, len(world.languages))
    assert within(videos.country, len(world.countries))
    assert within(creators.language, len(world.languages))
    assert within(creators.country, len(world.countries))
    assert within(creators.home_topics, n_topics, allow_none=True)
    assert np.all(creators.home_topics[:, 0] != NO_ID)
    assert within(sounds.creator_id, len(creators), allow_none=True)
    assert within(sounds.topic_id, n_topics, allow_none=True)
    assert within(hashtags.topic_id, n_topics, allow_none=True)
    originals = np.flatnonzero(sounds.is_original)
    assert np.array_equal(sounds.creator_id[originals], originals)
    assert np.all(sounds.creator_id[~sounds.is_original] == NO_ID)


def test_original_sounds_belong_to_the_uploader(world: World) -> None:
    videos, sounds = world.videos, world.sounds
    uses_original = sounds.is_original[videos.sound_id] & (videos.duplicate_of == NO_ID)
    owner = sounds.creator_id[videos.sound_id[uses_original]]
    assert np.array_equal(owner, videos.creator_id[uses_original])
    assert 0.35 < uses_original.mean() < 0.55
    assert all(
        sounds.title[i] == f"original sound - {h}" for i, h in enumerate(world.creators.handle)
    )


def test_handles_are_unique_ascii(world: World) -> None:
    handles = world.creators.handle
    assert len(set(handles)) == len(handles)
    allowed = set("abcdefghijklmnopqrstuvwxyz0123456789_.")
    assert all(0 < len(h) <= 24 and set(h) <= allowed for h in handles)


def test_creators_and_their_videos_share_locale_and_topics(world: World) -> None:
    videos, creators = world.videos, world.creators
    assert np.mean(videos.language == creators.language[videos.creator_id]) > 0.85
    assert np.mean(videos.country == creators.country[videos.creator_id]) > 0.85
    at_home = (creators.home_topics[videos.creator_id] == videos.topic_id[:, None]).any(axis=1)
    assert 0.75 < at_home.mean() < 0.95
    for locale, country in zip(creators.locale, creators.country, strict=True):
        assert locale.endswith(world.countries[country])


def test_publish_times_and_new_creators(world: World) -> None:
    videos, creators = world.videos, world.creators
    published = videos.published_at
    assert np.all(np.diff(published) >= 0)  # ids are chronological
    assert published.min() >= -30 * DAY_S
    assert published.max() <= 7 * DAY_S
    assert np.all(published >= creators.joined_at[videos.creator_id])
    assert np.all(creators.joined_at < 0)
    assert np.all(creators.joined_at >= -3 * 366 * DAY_S)
    assert np.array_equal(creators.is_new, creators.joined_at > -14 * DAY_S)
    by_new = creators.is_new[videos.creator_id]
    assert by_new.any()
    assert np.all(published[by_new] >= -3 * DAY_S)


def test_engagement_is_bounded_and_absent_before_anyone_could_watch(world: World) -> None:
    stats, videos = world.stats, world.videos
    views = stats.views
    for name in stats.FIELDS:
        counts = getattr(stats, name)
        assert counts.dtype == np.int64
        assert np.all((counts >= 0) & (counts <= views)), name
    unseen = (videos.published_at > 0) | world.creators.is_new[videos.creator_id]
    for name in stats.FIELDS:
        assert not getattr(stats, name)[unseen].any(), name
    assert np.mean(views[~unseen] > 0) > 0.9
    assert views.max() > 50 * np.median(views[~unseen])  # heavy tail
    assert 0.30 <= stats.completions.sum() / views.sum() <= 0.45
    assert 0.01 <= stats.likes.sum() / views.sum() <= 0.04


def test_better_videos_get_more_views(world: World) -> None:
    seen = world.stats.views > 0
    quality = world.videos.quality[seen]
    views = world.stats.views[seen]
    top, bottom = quality > np.quantile(quality, 0.8), quality < np.quantile(quality, 0.2)
    assert np.median(views[top]) > 2 * np.median(views[bottom])


def test_look_columns_stay_in_range(world: World) -> None:
    videos = world.videos
    assert videos.motion.min() >= 0.5
    assert videos.motion.max() <= 2.0
    assert videos.visual_seed.dtype == np.int32
    assert np.all((videos.quality >= 0) & (videos.quality <= 1))


def test_larger_world_rates_are_tight(large_world: World) -> None:
    videos = large_world.videos
    assert len(large_world.creators) == 1000
    assert 0.008 <= videos.spam.mean() <= 0.012
    assert 0.016 <= videos.sensitive.mean() <= 0.024
    assert 0.06 <= np.mean(videos.published_at > 0) <= 0.08
    assert 16.0 <= float(np.median(videos.duration_s)) <= 20.0
    sensitive_by_topic = np.bincount(videos.topic_id, weights=videos.sensitive)
    videos_by_topic = np.bincount(videos.topic_id)
    slug = large_world.topics.slug
    assert (
        sensitive_by_topic[slug.index("truecrime")] / videos_by_topic[slug.index("truecrime")]
        > sensitive_by_topic[slug.index("cooking")] / videos_by_topic[slug.index("cooking")]
    )


def test_progress_reports_each_stage_in_order() -> None:
    calls: list[tuple[str, float]] = []
    generate_world(
        WorldSpec(videos=100), epoch_unix=0.0, progress=lambda s, f: calls.append((s, f))
    )
    fractions = [fraction for _, fraction in calls]
    assert fractions == sorted(fractions)
    assert calls[0] == ("vocabulary", 0.0)
    assert calls[-1] == ("done", 1.0)
    assert {"creators", "videos", "captions", "engagement"} <= {stage for stage, _ in calls}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"videos": 49}, "videos must be between"),
        ({"videos": 2_000_001}, "videos must be between"),
        ({"videos": 1000, "creators": 4}, "creators must be at least"),
        ({"videos": 100, "creators": 101}, "cannot exceed videos"),
        ({"seed": -1}, "seed must be"),
        ({"videos": 100.5}, "must be an integer"),
    ],
)
def test_spec_rejects_nonsense(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        WorldSpec(**kwargs)  # type: ignore[arg-type]


def test_spec_defaults() -> None:
    assert WorldSpec().creator_count == 1000
    assert WorldSpec(videos=100).creator_count == 20
    assert WorldSpec(videos=100, creators=7).creator_count == 7
