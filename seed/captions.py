"""Captions: short text in TikTok's voice and in the video's language, then its hashtags.

A caption is ``<text> #tag1 #tag2 ...`` and, like TikTok's, at most 150 characters including
the hashtags. An English video's text comes from a template filled with the topic's own nouns
(``things`` in the catalog), faker words, first names and cities, and a creator's handle; any
other video's text is a run of words in its language from that language's faker pool, so a
German creator's feed reads German and a Japanese one Japanese. When the text would not fit, it
is cut (ending in "…") and the hashtags are kept whole, because the engine's keyword filter and
the screen both rely on them; hashtags stay as they are in every language, as on TikTok.

All choices are numpy index arrays drawn up front; the per-video Python work is one
``str.format`` and one join, about 2 µs. A near-duplicate re-upload repeats its original's
caption, so the text gives it away just as the pixels do.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from engine.world import I8, I32, I64, NO_ID, Videos
from seed.locales import LANGUAGES
from seed.topics import CATALOG
from seed.vocabulary import Vocabulary

MAX_CAPTION_LEN = 150
ELLIPSIS = "…"

# Slots a template may use; {emoji} carries its own leading space (or is empty).
SLOTS = ("thing", "topic", "adj", "name", "city", "n", "emoji", "handle", "word")
TEMPLATES: tuple[str, ...] = (
    "POV: you finally tried the {adj} {thing}{emoji}",
    "Day {n} of {thing} until this goes viral{emoji}",
    "Tell me you love {topic} without telling me{emoji}",
    "{name} said this {thing} was mid… was she right?{emoji}",
    "Rating every {thing} in {city}{emoji}",
    "Nobody talks about this {thing} hack{emoji}",
    "This {thing} lives rent free in my head{emoji}",
    "When the {thing} hits different at 2am{emoji}",
    "Wait for it… {adj} {thing} edition{emoji}",
    "Things I wish I knew before starting {topic} (part {n}){emoji}",
    "Replying to @{handle} here's the {thing} you asked for{emoji}",
    "{adj} {thing} check ✅ who else?",
    "Just a {city} local and her {thing}{emoji}",
    "Unpopular opinion: {thing} is overrated{emoji}",
    "Storytime: the {thing} that changed everything{emoji}",
    "How it started vs how it's going: {thing}{emoji}",
    "{n} seconds of pure {thing}{emoji}",
    "Trying the viral {thing} so you don't have to{emoji}",
    "my {word} era but make it {topic}{emoji}",
    "{topic} girlies, is the {thing} worth it?{emoji}",
    "Me and {name} vs the {adj} {thing}{emoji}",
    "Part {n}: {thing} edition because you all asked{emoji}",
)
# The same templates with positional fields in SLOTS order: format(*args) skips building a
# keyword dict per video, which is most of the per-caption cost.
_POSITIONAL = tuple(
    template.format(**{slot: f"{{{i}}}" for i, slot in enumerate(SLOTS)}) for template in TEMPLATES
)
ADJECTIVES: tuple[str, ...] = (
    "viral", "cursed", "aesthetic", "chaotic", "budget", "5-minute", "lazy", "perfect",
    "underrated", "iconic", "tiny", "giant", "midnight", "emotional", "honest", "weird",
)  # fmt: skip
TEMPLATE_LANGUAGE = "en"
# Languages written without spaces between words.
UNSPACED = frozenset({"ja"})
LOCAL_WORDS = (3, 9)  # words in a non-English caption's text: at least, below
EMOJI: tuple[str, ...] = (
    " 😅", " 😭", " 🔥", " ✨", " 💀", " 🤯", " 😍", " 👀",
    " 🙌", " 💯", " 🥹", " 😂", " 🫶", " 🤌", "",
)  # fmt: skip


def write_captions(
    rng: np.random.Generator,
    videos: Videos,
    hashtag_text: list[str],
    handles: list[str],
    vocab: Vocabulary,
) -> list[str]:
    """Write every video's caption.

    Args:
        rng: the caption stage's generator.
        videos: videos in their final (publish) order, duplicates marked.
        hashtag_text: the hashtag table's tags, without '#'.
        handles: creator handles (for "Replying to @...").
        vocab: faker pools.

    Returns:
        [N] captions, each at most 150 characters and ending in the video's hashtags.
    """
    topic_id = videos.topic_id.astype(np.int64)
    template, *slots = _draw_fills(rng, topic_id, handles, vocab)
    english = (videos.language == LANGUAGES.index(TEMPLATE_LANGUAGE)).tolist()
    texts = [
        _POSITIONAL[t].format(*args) if in_english else ""
        for in_english, t, *args in zip(english, template, *slots, strict=True)
    ]
    # Drawn after the English fills, so English captions read as they did before.
    for video, text in _local_texts(rng, videos.language, vocab, slots[SLOTS.index("emoji")]):
        texts[video] = text
    suffixes = _hashtag_suffixes(videos.hashtags, hashtag_text)
    captions = [f"{text} {suffix}" for text, suffix in zip(texts, suffixes, strict=True)]
    too_long = [i for i, caption in enumerate(captions) if len(caption) > MAX_CAPTION_LEN]
    for i in too_long:
        text = captions[i][: -len(suffixes[i]) - 1]
        captions[i] = fit_caption(text, suffixes[i])
    return _copy_original_captions(captions, videos.duplicate_of)


def _draw_fills(
    rng: np.random.Generator, topic_id: I64, handles: list[str], vocab: Vocabulary
) -> list[list[int] | list[str]]:
    """Per-video template ids, then one list per slot (SLOTS order), ready for a fast zip."""
    count = topic_id.size
    thing_start, thing_count = _thing_offsets()
    thing = thing_start[topic_id] + (rng.random(count) * thing_count[topic_id]).astype(np.int64)
    things = [thing for entry in CATALOG for thing in entry.things]
    topic_names = [entry.name for entry in CATALOG]
    given_names = vocab.names["en_US"].given_names

    def pick(pool: Sequence[str], index: I64) -> list[str]:
        return [pool[i] for i in index.tolist()]

    return [
        rng.integers(0, len(TEMPLATES), count).tolist(),
        pick(things, thing),
        pick(topic_names, topic_id),
        pick(ADJECTIVES, rng.integers(0, len(ADJECTIVES), count)),
        pick(given_names, rng.integers(0, len(given_names), count)),
        pick(vocab.cities, rng.integers(0, len(vocab.cities), count)),
        rng.integers(2, 31, count).tolist(),
        pick(EMOJI, rng.integers(0, len(EMOJI), count)),
        pick(handles, rng.integers(0, len(handles), count)),
        pick(vocab.words, rng.integers(0, len(vocab.words), count)),
    ]


def _local_texts(
    rng: np.random.Generator, language: I8, vocab: Vocabulary, emoji: Sequence[object]
) -> Iterator[tuple[int, str]]:
    """(video index, text) for every video not in English: its language's words, its emoji."""
    for code in LANGUAGES:
        if code == TEMPLATE_LANGUAGE:
            continue
        videos = np.flatnonzero(language == LANGUAGES.index(code)).tolist()
        pool = vocab.caption_words[code]
        lengths = rng.integers(*LOCAL_WORDS, len(videos)).tolist()
        words = rng.integers(0, len(pool), sum(lengths)).tolist()
        connector = "" if code in UNSPACED else " "
        start = 0
        for video, length in zip(videos, lengths, strict=True):
            picked = words[start : start + length]
            start += length
            yield video, f"{connector.join([pool[i] for i in picked])}{emoji[video]}"


def _thing_offsets() -> tuple[I64, I64]:
    counts = np.array([len(entry.things) for entry in CATALOG], dtype=np.int64)
    return np.cumsum(counts) - counts, counts


def _hashtag_suffixes(hashtags: I32, hashtag_text: list[str]) -> list[str]:
    """Return each video's "#a #b ..." suffix, built column by column (padding is NO_ID)."""
    # NO_ID is -1, so the appended "" turns padding into nothing.
    assert NO_ID == -1
    first = ["#" + tag for tag in hashtag_text] + [""]
    later = [" #" + tag for tag in hashtag_text] + [""]
    suffixes = [first[i] for i in hashtags[:, 0].tolist()]
    for column in hashtags[:, 1:].T.tolist():
        suffixes = [suffix + later[i] for suffix, i in zip(suffixes, column, strict=True)]
    return suffixes


def fit_caption(text: str, hashtags: str) -> str:
    """Join text and hashtags within 150 characters, cutting only the text.

    Args:
        text: the caption's words.
        hashtags: "#a #b ..." (at most six tags of at most 20 characters, so they always fit).

    Returns:
        ``"<text> <hashtags>"``, the text cut to end in "…" when the whole would be too long.
    """
    room = MAX_CAPTION_LEN - len(hashtags) - 1
    if len(text) > room:
        text = text[: room - len(ELLIPSIS)].rstrip() + ELLIPSIS
    return f"{text} {hashtags}"


def _copy_original_captions(captions: list[str], duplicate_of: I32) -> list[str]:
    for copy, original in zip(
        np.flatnonzero(duplicate_of != NO_ID).tolist(),
        duplicate_of[duplicate_of != NO_ID].tolist(),
        strict=True,
    ):
        captions[copy] = captions[original]
    return captions
