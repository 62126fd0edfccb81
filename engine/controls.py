"""A viewer's explicit feed controls: sensitive content, keyword filters and topic sliders,
and the one viewing preference kept with them, the playback speed.

They are stored as JSON in ``users.settings`` and survive a refresh and a restart. The speed is
stored only once it differs from 1×, so a viewer who never changed it keeps the same JSON.
"""

from __future__ import annotations

from typing import Any

from engine.catalog import Catalog
from engine.profile import UserState


def settings_of(state: UserState, catalog: Catalog) -> dict[str, Any]:
    slugs = catalog.world.topics.slug
    settings: dict[str, Any] = {
        "allow_sensitive": state.allow_sensitive,
        "keyword_filters": list(state.keyword_filters),
        "topic_sliders": {slugs[t]: m for t, m in state.topic_sliders.items()},
    }
    if state.playback_speed != 1.0:
        settings["playback_speed"] = state.playback_speed
    return settings


def apply_settings(state: UserState, settings: dict[str, Any], catalog: Catalog) -> None:
    """Put stored settings into a viewer's state (topic names become ids)."""
    state.allow_sensitive = bool(settings.get("allow_sensitive", False))
    state.keyword_filters = list(settings.get("keyword_filters", []))
    state.topic_sliders = {
        catalog.topic_id(t): float(m) for t, m in settings.get("topic_sliders", {}).items()
    }
    state.playback_speed = float(settings.get("playback_speed", 1.0))
