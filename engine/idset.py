"""A set of ids that answers "which of these candidates are in me?" as a numpy mask.

A viewer's seen videos, follows and hides change one id at a time but are tested against
hundreds of candidates per pick; a sorted array rebuilt only after a change turns each test
into one ``searchsorted`` instead of an ``np.isin`` sort.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np
import numpy.typing as npt

I64 = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]


class IdSet:
    def __init__(self, ids: Iterable[int] = ()) -> None:
        self._ids: set[int] = set(ids)
        self._sorted: I64 | None = None

    def add(self, item: int) -> None:
        if item not in self._ids:
            self._ids.add(item)
            self._sorted = None

    def discard(self, item: int) -> None:
        if item in self._ids:
            self._ids.discard(item)
            self._sorted = None

    def clear(self) -> None:
        self._ids.clear()
        self._sorted = None

    def __contains__(self, item: object) -> bool:
        return item in self._ids

    def __len__(self) -> int:
        return len(self._ids)

    def __iter__(self) -> Iterator[int]:
        return iter(self._ids)

    def array(self) -> I64:
        """The ids, sorted (cached until the next change)."""
        if self._sorted is None:
            self._sorted = np.array(sorted(self._ids), dtype=np.int64)
        return self._sorted

    def mask(self, ids: npt.NDArray[np.integer]) -> Mask:
        """For each of ``ids``, whether it is in the set."""
        return in_sorted(ids, self.array())

    def mask_of_sorted(self, ids: npt.NDArray[np.integer]) -> Mask:
        """:meth:`mask` of sorted, distinct ``ids`` (a long shared list: the fresh source's
        thousands of uploads in test pools against a viewer's few hundred seen videos), found
        by looking each member up in ``ids`` instead of each of ``ids`` in the set."""
        found = np.zeros(len(ids), dtype=bool)
        members = self.array()
        if len(members) == 0 or len(ids) == 0:
            return found
        where = np.minimum(np.searchsorted(ids, members), len(ids) - 1)
        found[where[ids[where] == members]] = True
        return found


def in_sorted(values: npt.NDArray[np.integer], members: npt.NDArray[np.integer]) -> Mask:
    """For each of ``values``, whether it is among the sorted ``members`` (``np.isin`` for a
    few hundred candidates against a short list, without ``isin``'s sorts)."""
    if len(members) == 0:
        return np.zeros(len(values), dtype=bool)
    where = np.minimum(np.searchsorted(members, values), len(members) - 1)
    found: Mask = members[where] == values
    return found
