"""The facade's arguments checked where they enter, by type.

A notebook passes what it has at hand: a bare string where a list belongs, "no" where a flag
belongs, "2" where a number belongs. Python takes each of them for something else without a word
(a string iterated is one letter per item: ``keyword_filters="spoiler"`` blocked every video with
an e or an s; ``bool("no")`` is True and showed sensitive videos) or fails deep inside with a
TypeError. Each is refused here as one ``ValueError`` naming the argument.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable
from typing import TypeVar

import numpy as np

T = TypeVar("T")

__all__ = ["as_callable", "as_flag", "as_items", "as_number", "as_text", "as_words"]


def as_words(values: Iterable[str], what: str) -> list[str]:
    """The strings of a list argument.

    Raises:
        ValueError: a bare string, something that is not a list, or an item that is no string.
    """
    if isinstance(values, str):
        raise ValueError(f"{what} must be a list of strings, got the string {values!r}")
    return as_items(values, str, what, noun="strings")


def as_flag(value: object, what: str) -> bool:
    """A yes/no argument (numpy's booleans too).

    Raises:
        ValueError: anything but True or False.
    """
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise ValueError(f"{what} must be True or False, got {type(value).__name__} {value!r}")


def as_number(value: object, what: str) -> float:
    """A real number argument (numpy's too); its range is the caller's to check (nan too).

    Raises:
        ValueError: a string, a bool, None.
    """
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return float(value)
    raise ValueError(f"{what} must be a number, got {type(value).__name__} {value!r}")


def as_items(
    values: Iterable[object], kind: type[T], what: str, *, noun: str | None = None
) -> list[T]:
    """The items of a list argument that must all be ``kind`` (``boosts=[1]`` failed deep inside
    with an AttributeError).

    Args:
        noun: what the message calls the items (default the type's name).

    Raises:
        ValueError: not a list, or an item of another type.
    """
    items_of = f"{what} must be a list of {noun or kind.__name__}"
    try:
        items = list(values)
    except TypeError:
        raise ValueError(f"{items_of}, got {type(values).__name__} {values!r}") from None
    for item in items:
        if not isinstance(item, kind):
            raise ValueError(f"{items_of}, it holds {type(item).__name__} {item!r}")
    return items  # type: ignore[return-value]


def as_text(value: object, what: str, *, optional: bool = False) -> str | None:
    """A non-empty text argument (None too when ``optional``).

    Raises:
        ValueError: anything but a string, or an empty or blank one.
    """
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{what} must be text, got {type(value).__name__} {value!r}")
    if not value.strip():
        raise ValueError(f"{what} must not be empty" + (" (None for none)" if optional else ""))
    return value


def as_callable(value: object, what: str) -> object:
    """An argument that is called (a clock: world seconds now).

    Raises:
        ValueError: something that cannot be called.
    """
    if not callable(value):
        raise ValueError(f"{what} must be callable, got {type(value).__name__} {value!r}")
    return value
