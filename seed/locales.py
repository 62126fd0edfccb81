"""Where the synthetic creators come from: faker locales, their weights, country and language.

The mix is a rough picture of TikTok's audience (large US, Indonesian and Brazilian shares) so a
feed that ignores language and country still looks international. The ``World.countries`` and
``World.languages`` lists are defined here, and every locale maps onto an index in each, so a
creator's names and their country/language columns always agree.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.world import F64, I8


@dataclass(frozen=True)
class Locale:
    """One faker locale and what it implies about a creator."""

    code: str  # faker locale, e.g. "pt_BR"
    weight: float  # share of creators
    country: str  # ISO 3166-1 alpha-2
    language: str  # ISO 639-1
    family_name_first: bool  # display names read "Family Given" (ja, ko)


LOCALES: tuple[Locale, ...] = (
    Locale("en_US", 0.30, "US", "en", False),
    Locale("en_GB", 0.07, "GB", "en", False),
    Locale("en_IN", 0.08, "IN", "en", False),
    Locale("pt_BR", 0.10, "BR", "pt", False),
    Locale("es_MX", 0.08, "MX", "es", False),
    Locale("es_ES", 0.04, "ES", "es", False),
    Locale("de_DE", 0.06, "DE", "de", False),
    Locale("fr_FR", 0.06, "FR", "fr", False),
    Locale("ja_JP", 0.06, "JP", "ja", True),
    Locale("ko_KR", 0.04, "KR", "ko", True),
    Locale("id_ID", 0.11, "ID", "id", False),
)

COUNTRIES: list[str] = list(dict.fromkeys(loc.country for loc in LOCALES))
LANGUAGES: list[str] = list(dict.fromkeys(loc.language for loc in LOCALES))

# The fallback when a locale's user names do not survive ASCII transliteration.
FALLBACK_LOCALE = "en_US"


def locale_weights() -> F64:
    """Return the locale mix as probabilities in ``LOCALES`` order."""
    weights = np.array([loc.weight for loc in LOCALES], dtype=np.float64)
    return weights / float(weights.sum())


def locale_country_index() -> I8:
    """Return, per locale, its index into ``COUNTRIES``."""
    return np.array([COUNTRIES.index(loc.country) for loc in LOCALES], dtype=np.int8)


def locale_language_index() -> I8:
    """Return, per locale, its index into ``LANGUAGES``."""
    return np.array([LANGUAGES.index(loc.language) for loc in LOCALES], dtype=np.int8)
