"""Questionnaire answers: checked against their item and stored as text, and described.

Likert answers are whole points from 1 to the item's scale, a single choice is the chosen
option as plain text, several choices are a JSON list of options, free text is bounded by
``max_chars`` and holds no NUL or other control character but line breaks and tabs.
:func:`describe_item` says the same per item for the export's codebook, so what a researcher
reads there is what the ``answers`` table holds.
"""

from __future__ import annotations

import json
from typing import Any

from engine.study.definition import Choice, Item, Likert, Study, StudyError
from engine.text import check_free_text

__all__ = ["describe_item", "encode_answer", "questionnaire_items"]


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


def questionnaire_items(study: Study) -> list[tuple[str, Item]]:
    """Every item of the study as (phase, item), pre-questionnaire first, in the asked order."""
    return [("pre", item) for item in study.pre] + [("post", item) for item in study.post]


def describe_item(item: Item) -> tuple[str, str, str]:
    """The item's kind, what it accepts, and how its answer is stored in ``answers.value``.

    Returns:
        (kind, answers, stored): e.g. ("choice", "one of: 18-24 | 25-34 | 35+", "the chosen
        option as plain text").
    """
    if isinstance(item, Likert):
        ends = (
            f" (1 = {item.anchors[0]}, {item.scale} = {item.anchors[-1]})" if item.anchors else ""
        )
        return "likert", f"a point from 1 to {item.scale}{ends}", "the point as a whole number"
    if isinstance(item, Choice):
        options = " | ".join(item.options)
        if item.multiple:
            return "choice", f"any of: {options}", "a JSON list of the chosen options"
        return "choice", f"one of: {options}", "the chosen option as plain text"
    return "text", f"text of at most {item.max_chars} characters", "the text as typed"
