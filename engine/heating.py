"""Condition-scoped heating: boosts that live in one engine's memory, never in the boosts table.

An operator boost (:meth:`Engine.boost`) is written to the file and every engine that opens it
afterwards applies it, which is right for a world and wrong for a study: participants of the
other condition would be heated too. A study condition's boosts are therefore added to the one
engine that serves that condition's participant (``Engine.open(..., boosts=...)``), and
rebuilt the same way by replay. Receipts
name them like any boost (``by = "study"``); whether participants are told is the condition's
``disclosed`` setting, for the interface to honour.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.pipeline import Boost

__all__ = ["STUDY_BOOSTER", "condition_boosts"]

STUDY_BOOSTER = "study"
# In force for the whole life of the world, in either direction.
_ALWAYS = (-1e12, 1e12)


def condition_boosts(heating: Mapping[str, Any] | None) -> list[Boost]:
    """The boosts of a condition's heating setting (``videos``, ``weight``, ``reason``).

    Ids are negative: they are not rows of the boosts table.
    """
    if not heating:
        return []
    starts, until = _ALWAYS
    return [
        Boost(
            id=-(i + 1),
            video_id=int(video_id),
            weight=float(heating["weight"]),
            starts=starts,
            until=until,
            reason=str(heating["reason"]),
            by=STUDY_BOOSTER,
        )
        for i, video_id in enumerate(heating["videos"])
    ]
