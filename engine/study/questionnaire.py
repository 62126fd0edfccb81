"""Questionnaire answers: checked against their item and stored as text.

Likert answers are whole points from 1 to the item's scale, choices are one of the item's
options (a JSON list when several may be chosen), free text is bounded by ``max_chars`` and
holds no NUL or other control character but line breaks and tabs.
"""

from __future__ import annotations

import json
from typing import Any

from engine.study.definition import Choice, Item, Likert, StudyError
from engine.text import check_free_text

__all__ = ["encode_answer"]


def encode_answer(item: Item, value: Any, phase: str) -> str:
    """The stored text of a valid answer.

    Raises:
        StudyError: a value the item does not accept, naming the item.
    """
    where = f"{phase}: item {item.id!r}"
    if isinstance(item, Likert):
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= item.scale:
            raise StudyError(f"{where} needs a whole number from 1 to {item.scale}, got {value!r}")
        return str(value)
    if isinstance(item, Choice):
        chosen = value if item.multiple and isinstance(value, list) else [value]
        if (
            not chosen
            or any(c not in item.options for c in chosen)
            or len(set(chosen)) < len(chosen)
        ):
            raise StudyError(f"{where} needs one of {item.options}, got {value!r}")
        return json.dumps(chosen) if item.multiple else str(chosen[0])
    if not isinstance(value, str) or len(value) > item.max_chars:
        raise StudyError(f"{where} needs text of at most {item.max_chars} characters")
    try:
        return check_free_text(value, where, max_chars=item.max_chars)
    except ValueError as exc:
        raise StudyError(str(exc)) from None
