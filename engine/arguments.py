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

import numpy as np

__all__ = ["as_flag", "as_number", "as_words"]


def as_words(values: Iterable[str], what: str) -> list[str]:
    """The strings of a list argument.

    Raises:
        ValueError: a bare string, something that is not a list, or an item that is no string.
    """
    if isinstance(values, str):
        raise ValueError(f"{what} must be a list of strings, got the string {values!r}")
    try:
        items = list(values)
    except TypeError:
        raise ValueError(
            f"{what} must be a list of strings, got {type(values).__name__} {values!r}"
        ) from None
    for item in items:
        if not isinstance(item, str):
            raise ValueError(
                f"{what} must be a list of strings, it holds {type(item).__name__} {item!r}"
            )
    return items


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
