"""Word and name pools drawn from faker once, so the per-row draws can be numpy index arrays.

Faker costs microseconds per call, which is minutes at a million rows; a few hundred entries per
locale are built here and everything downstream picks from them by index. Each locale gets its
own ``Faker`` seeded from a spawned ``SeedSequence``, so the pools depend on the world seed only
(and on the installed faker version, which ships the word lists).

Captions are written in each video's language, so every language gets a pool of its own words:
faker's lorem word list where the locale has one, otherwise words split from the locale's own
localised text (catch phrases, jobs, colours, month names, cities), because faker ships no
lorem list for Portuguese, Korean or Indonesian.

Handles must be ASCII ``[a-z0-9_.]``: user names are transliterated (NFKD, accents dropped) and a
locale whose names do not survive falls back to ``FALLBACK_LOCALE`` user names while keeping its
own display names, country and language.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from faker import Faker

from seed.locales import FALLBACK_LOCALE, LOCALES

_NOT_HANDLE_CHARS = re.compile(r"[^a-z0-9_.]+")
_MIN_BASE_LEN = 3
_MAX_BASE_LEN = 18  # leaves room for a style suffix within TikTok's 24 characters
# Where a language without a faker lorem list finds its words: localised providers' text.
NATIVE_TEXT: dict[str, tuple[str, ...]] = {
    "pt": ("catch_phrase", "job", "color_name"),
    "ko": ("catch_phrase", "bs", "job"),
    "id": ("color_name", "day_of_week", "month_name", "city"),
}
_PHRASES = 150  # per source: a few hundred distinct words per language


@dataclass(frozen=True)
class LocaleNames:
    """Name pools of one locale."""

    handle_bases: tuple[str, ...]  # ASCII user names, deduplicated
    given_names: tuple[str, ...]
    family_names: tuple[str, ...]


@dataclass(frozen=True)
class Vocabulary:
    """Every faker-made pool the generator draws from."""

    names: dict[str, LocaleNames]  # by faker locale code
    words: tuple[str, ...]  # lowercase English words, letters only
    cities: tuple[str, ...]
    caption_words: dict[str, tuple[str, ...]]  # by ISO 639-1 language: words in that language


def pool_size(creators: int) -> int:
    """Return how many user names to draw per locale: more creators need more variety."""
    return min(600, 120 + creators // 40)


def build_vocabulary(seed_seq: np.random.SeedSequence, names_per_locale: int) -> Vocabulary:
    """Draw every pool from faker, each locale seeded from its own spawned sequence.

    Args:
        seed_seq: the vocabulary stage's seed sequence.
        names_per_locale: user names drawn per locale (given/family names get half as many).

    Returns:
        The pools; equal arguments give equal pools.
    """
    fakers = {
        locale.code: _seeded_faker(locale.code, child)
        for locale, child in zip(LOCALES, seed_seq.spawn(len(LOCALES)), strict=True)
    }
    names = {code: _locale_names(fake, names_per_locale) for code, fake in fakers.items()}
    names = _with_fallback_handles(names)
    english = fakers[FALLBACK_LOCALE]
    return Vocabulary(
        names=names,
        words=_english_words(english),
        cities=_cities(english),
        caption_words=_caption_words(fakers),
    )


def to_handle_base(user_name: str) -> str:
    """Transliterate a user name into handle characters; may return "" if nothing survives."""
    ascii_name = unicodedata.normalize("NFKD", user_name).encode("ascii", "ignore").decode()
    cleaned = _NOT_HANDLE_CHARS.sub("", ascii_name.lower().replace("-", "_"))
    return cleaned.strip("._")[:_MAX_BASE_LEN].rstrip("._")


def _seeded_faker(code: str, child: np.random.SeedSequence) -> Faker:
    fake = Faker(code)
    fake.seed_instance(int(child.generate_state(1)[0]))
    return fake


def _locale_names(fake: Faker, count: int) -> LocaleNames:
    bases = (to_handle_base(fake.user_name()) for _ in range(count))
    return LocaleNames(
        handle_bases=_unique(base for base in bases if len(base) >= _MIN_BASE_LEN),
        given_names=_unique(fake.first_name() for _ in range(count // 2)),
        family_names=_unique(fake.last_name() for _ in range(count // 2)),
    )


def _with_fallback_handles(names: dict[str, LocaleNames]) -> dict[str, LocaleNames]:
    fallback = names[FALLBACK_LOCALE].handle_bases
    return {
        code: pool if pool.handle_bases else _replace_bases(pool, fallback)
        for code, pool in names.items()
    }


def _replace_bases(pool: LocaleNames, bases: tuple[str, ...]) -> LocaleNames:
    return LocaleNames(bases, pool.given_names, pool.family_names)


def _english_words(fake: Faker) -> tuple[str, ...]:
    words = fake.words(nb=400, unique=True)
    return tuple(word for word in words if word.isalpha() and len(word) >= 3)


def _caption_words(fakers: dict[str, Faker]) -> dict[str, tuple[str, ...]]:
    """Each language's words, from the first locale speaking it (after its names are drawn, so
    adding this left every name pool as it was)."""
    speakers = {locale.language: locale.code for locale in reversed(LOCALES)}
    return {
        language: _native_words(fakers[code], NATIVE_TEXT.get(language, ()))
        for language, code in sorted(speakers.items())
    }


def _native_words(fake: Faker, sources: tuple[str, ...]) -> tuple[str, ...]:
    if sources:
        phrases = (getattr(fake, source)() for source in sources for _ in range(_PHRASES))
        words: Iterable[str] = (word for phrase in phrases for word in phrase.split())
    else:
        words = fake.get_words_list()
    return _unique(word for word in words if _is_caption_word(word))


def _is_caption_word(word: str) -> bool:
    # Letters only; short ASCII words are mostly lorem fillers ("et", "a"), but one or two
    # CJK or Hangul characters are a whole word.
    return word.isalpha() and (len(word) >= 3 or not word.isascii())


def _cities(fake: Faker) -> tuple[str, ...]:
    return _unique(fake.city() for _ in range(120))


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    # dict keeps first-seen order, so deduplication stays deterministic.
    return tuple(dict.fromkeys(items))
