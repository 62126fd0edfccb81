"""Creators: who they are (handle, name, locale), what they post about and how often.

* locale from the weighted mix in ``seed.locales``; country and language follow from it;
* 1-3 home topics: the first by topic popularity, the others usually related to it;
* ``joined_at`` up to three years back, skewed toward recent sign-ups; exactly 10% (rounded) are
  new, joined within the last 14 days, and get no background views;
* ``cadence_per_week`` lognormal (median 3 uploads a week), which later decides who posts most;
* a hidden mean quality per creator (Beta(4, 4)) that their videos scatter around.

Handles are built from faker user names in styles seen on TikTok (``maria92``,
``cookingwithmaria``, ``itsmaria``, ``maria_booktok``), cut to 24 characters and made unique by
appending a counter in creation order.
"""

from __future__ import annotations

import numpy as np

from engine.world import F32, F64, I16, I64, NO_ID, Bool, Creators
from seed.locales import LOCALES, locale_country_index, locale_language_index, locale_weights
from seed.topics import CATALOG
from seed.vocabulary import Vocabulary

DAY_S = 86_400.0
NEW_SHARE = 0.10
NEW_WINDOW_S = 14 * DAY_S
MAX_AGE_S = 3 * 365 * DAY_S
HOME_TOPIC_COUNT_P = np.array([0.45, 0.35, 0.20])  # 1, 2, 3 home topics
RELATED_HOME_P = 0.7  # chance a second/third home topic is related to the first
MAX_HANDLE_LEN = 24  # TikTok's limit
CADENCE_MEDIAN = 3.0
CADENCE_SIGMA = 0.9
DISPLAY_EMOJI = ("✨", "🌿", "💫", "🔥", "🎧", "🌸", "☕", "🐾")
HANDLE_PREFIXES = ("its", "the", "real", "hey", "just")
HANDLE_SUFFIXES = ("tv", "official", "_", "x", "vibes", "daily")


def draw_creators(
    rng: np.random.Generator, count: int, vocab: Vocabulary, popularity: F32
) -> Creators:
    """Draw ``count`` creators.

    Args:
        rng: the creator stage's generator.
        count: number of creators (>= 1).
        vocab: faker pools.
        popularity: [T] topic popularity, summing to 1.

    Returns:
        The creators table.
    """
    locale = rng.choice(len(LOCALES), size=count, p=locale_weights())
    is_new = _new_flags(rng, count)
    home = draw_home_topics(rng, count, popularity)
    return Creators(
        handle=_handles(rng, locale, home[:, 0], vocab),
        display_name=_display_names(rng, locale, vocab),
        locale=[LOCALES[i].code for i in locale.tolist()],
        country=locale_country_index()[locale],
        language=locale_language_index()[locale],
        home_topics=home,
        joined_at=_joined_at(rng, is_new),
        cadence_per_week=rng.lognormal(np.log(CADENCE_MEDIAN), CADENCE_SIGMA, count).astype(
            np.float32
        ),
        is_new=is_new,
    )


def draw_creator_quality(rng: np.random.Generator, count: int) -> F32:
    """Return each creator's hidden mean video quality in (0, 1)."""
    return rng.beta(4.0, 4.0, count).astype(np.float32)


def draw_home_topics(rng: np.random.Generator, count: int, popularity: F32) -> I16:
    """Return [count, 3] home topic ids, distinct per row, ``NO_ID`` padded at the end."""
    related, related_count = _related_matrix()
    cdf = np.cumsum(popularity, dtype=np.float64)
    first = _popular(rng, cdf, count)
    second = _maybe_related(rng, first, related, related_count, cdf)
    third = _maybe_related(rng, first, related, related_count, cdf)
    home = np.stack([first, second, third], axis=1)
    home[:, 2][(third == first) | (third == second)] = NO_ID
    home[:, 1][second == first] = NO_ID
    wanted = 1 + rng.choice(3, size=count, p=HOME_TOPIC_COUNT_P)
    home[np.arange(3)[None, :] >= wanted[:, None]] = NO_ID
    # Stable sort on "is padding" moves NO_ID to the end, keeping the first topic first.
    order = np.argsort(home == NO_ID, axis=1, kind="stable")
    return np.take_along_axis(home, order, axis=1).astype(np.int16)


def _new_flags(rng: np.random.Generator, count: int) -> Bool:
    n_new = min(round(NEW_SHARE * count), count - 1)  # keep one creator with a history
    is_new = np.zeros(count, dtype=np.bool_)
    is_new[rng.choice(count, size=n_new, replace=False)] = True
    return is_new


def _joined_at(rng: np.random.Generator, is_new: Bool) -> F64:
    # Squaring a uniform skews sign-ups toward the recent past, as a growing platform has.
    established_age = NEW_WINDOW_S + (MAX_AGE_S - NEW_WINDOW_S) * rng.random(is_new.size) ** 2
    new_age = rng.uniform(3600.0, NEW_WINDOW_S, is_new.size)
    return -np.where(is_new, new_age, established_age)


def _related_matrix() -> tuple[I64, I64]:
    width = max(len(entry.related) for entry in CATALOG)
    related = np.full((len(CATALOG), width), NO_ID, dtype=np.int64)
    index = {entry.slug: i for i, entry in enumerate(CATALOG)}
    for topic, entry in enumerate(CATALOG):
        related[topic, : len(entry.related)] = [index[slug] for slug in entry.related]
    return related, np.array([len(entry.related) for entry in CATALOG], dtype=np.int64)


def _popular(rng: np.random.Generator, cdf: F64, size: int) -> I64:
    picked = np.searchsorted(cdf, rng.random(size) * float(cdf[-1]), side="right")
    return np.minimum(picked, cdf.size - 1).astype(np.int64)


def _maybe_related(
    rng: np.random.Generator, first: I64, related: I64, related_count: I64, cdf: F64
) -> I64:
    slot = (rng.random(first.size) * related_count[first]).astype(np.int64)
    neighbour = related[first, slot]
    use_related = rng.random(first.size) < RELATED_HOME_P
    return np.where(use_related, neighbour, _popular(rng, cdf, first.size))


def _handles(
    rng: np.random.Generator, locale: I64, first_topic: I16, vocab: Vocabulary
) -> list[str]:
    bases = _pick_per_locale(rng, locale, [vocab.names[loc.code].handle_bases for loc in LOCALES])
    styles = rng.choice(7, size=locale.size, p=[0.36, 0.16, 0.10, 0.08, 0.10, 0.08, 0.12])
    numbers = rng.integers(0, 100, locale.size).tolist()
    years = rng.integers(1985, 2011, locale.size).tolist()
    affixes = rng.integers(0, 1 << 16, locale.size).tolist()
    slugs = [CATALOG[t].slug for t in first_topic.tolist()]
    raw = [
        _styled_handle(*args)
        for args in zip(bases, styles.tolist(), numbers, years, affixes, slugs, strict=True)
    ]
    return _deduplicated(raw)


def _styled_handle(base: str, style: int, number: int, year: int, affix: int, slug: str) -> str:
    if style == 1:
        handle = f"{base}{number:02d}"
    elif style == 2:
        handle = f"{base}_{slug}"
    elif style == 3:
        handle = f"{base}.{year}"
    elif style == 4:
        handle = HANDLE_PREFIXES[affix % len(HANDLE_PREFIXES)] + base
    elif style == 5:
        handle = base + HANDLE_SUFFIXES[affix % len(HANDLE_SUFFIXES)]
    elif style == 6:
        handle = f"{slug}with{base[:10]}"
    else:
        handle = base
    return handle[:MAX_HANDLE_LEN].rstrip(".")


def _deduplicated(handles: list[str]) -> list[str]:
    # First come keeps the plain handle; later ones get the next free counter, as sign-up would.
    taken: set[str] = set()
    next_counter: dict[str, int] = {}
    unique = []
    for handle in handles:
        candidate = handle
        while candidate in taken:
            counter = next_counter.get(handle, 2)
            next_counter[handle] = counter + 1
            candidate = handle[: MAX_HANDLE_LEN - len(str(counter))] + str(counter)
        taken.add(candidate)
        unique.append(candidate)
    return unique


def _display_names(rng: np.random.Generator, locale: I64, vocab: Vocabulary) -> list[str]:
    given = _pick_per_locale(rng, locale, [vocab.names[loc.code].given_names for loc in LOCALES])
    family = _pick_per_locale(rng, locale, [vocab.names[loc.code].family_names for loc in LOCALES])
    styles = rng.choice(3, size=locale.size, p=[0.65, 0.2, 0.15]).tolist()
    emoji = rng.integers(0, len(DISPLAY_EMOJI), locale.size).tolist()
    return [
        _display_name(LOCALES[loc].family_name_first, *args)
        for loc, *args in zip(locale.tolist(), given, family, styles, emoji, strict=True)
    ]


def _display_name(family_first: bool, given: str, family: str, style: int, emoji: int) -> str:
    if style == 1:
        return f"{given} {DISPLAY_EMOJI[emoji]}"
    if style == 2:
        return given
    return f"{family} {given}" if family_first else f"{given} {family}"


def _pick_per_locale(
    rng: np.random.Generator, locale: I64, pools: list[tuple[str, ...]]
) -> list[str]:
    """Pick one entry per row from its locale's pool, with numpy doing the draws."""
    sizes = np.array([len(pool) for pool in pools], dtype=np.int64)
    index = (rng.random(locale.size) * sizes[locale]).astype(np.int64).tolist()
    return [pools[loc][i] for loc, i in zip(locale.tolist(), index, strict=True)]
