"""Sets and tables of ids that answer "which of these candidates are in me?" (and "with what
value?") without a Python step per candidate.

A viewer's seen videos, follows and hides change one id at a time but are tested against
hundreds of candidates per pick; a sorted array kept beside the set turns each test into one
``searchsorted`` instead of an ``np.isin`` sort. Ids added since the array was last read are
merged into it (one id: copied into its place; more: one numpy sort), not sorted again from
the Python set with the rest (a viewer's seen set grows by one every pick, and re-sorting
hundreds of Python ints cost more than the tests). A table keeps its keys and values as sorted
arrays (a single pick searches them with its keys in ascending order, :mod:`engine.batch`).

The module also holds the pick's sorting shortcuts (:func:`stable_order`, :func:`counts_in`):
each gives exactly what the plain numpy call gives, faster on data new every pick.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Self, TypeVar

import numpy as np
import numpy.typing as npt

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
Mask = npt.NDArray[np.bool_]


class IdSet:
    def __init__(self, ids: Iterable[int] = ()) -> None:
        self._ids: set[int] = set(ids)
        self._sorted: I64 | None = None
        self._added: list[int] = []  # in the set, not yet in ``_sorted``
        self._padded: tuple[I64, I64] | None = None  # (mask()'s array, the array it pads)
        # mapped()'s last answer (the mapping, its sorted image) and the ids added since.
        self._image: tuple[I64, I64] | None = None
        self._image_added: list[int] = []

    def add(self, item: int) -> None:
        if item not in self._ids:
            self._ids.add(item)
            if self._sorted is not None:
                self._added.append(item)
            if self._image is not None:
                self._image_added.append(item)

    def discard(self, item: int) -> None:
        if item not in self._ids:
            return
        self._ids.discard(item)
        self._forget_image()
        if self._sorted is None:
            return
        if item in self._added:  # a short list: the ids added since the array was read
            self._added.remove(item)
        else:  # copied around its place, as an added id is (no sort from the set again)
            self._sorted = _removed(self._sorted, int(self._sorted.searchsorted(item)))

    def clear(self) -> None:
        self._ids.clear()
        self._forget_sorted()
        self._forget_image()

    def _forget_sorted(self) -> None:
        self._sorted = None
        self._added.clear()

    def _forget_image(self) -> None:
        self._image = None
        self._image_added.clear()

    def __getstate__(self) -> dict[str, Any]:
        # The image holds the mapping it was read through (a catalogue-long array): a copy
        # or a pickle of a viewer's set must not carry it along.
        state = dict(self.__dict__)
        state["_image"], state["_image_added"] = None, []
        return state

    def mapped(self, mapping: I64) -> I64:
        """``np.sort(mapping[self.array()])``, kept up to date as ids arrive like
        :meth:`array` (one new id: copied into its place, no sort of the whole image), for
        as long as the same ``mapping`` array is asked for (never write to the answer).

        The retrieval's exclusion list, a viewer's seen videos as rows of the grouped
        embedding matrix, was sorted again every pick: 0.2 ms at 7,500 seen videos.
        """
        image, added = self._image, self._image_added
        if image is None or image[0] is not mapping:
            found = np.sort(mapping[self.array()])
        elif len(added) == 1:
            value = int(mapping[added[0]])
            found = _inserted(image[1], int(image[1].searchsorted(value)), value)
        elif added:
            found = np.concatenate((image[1], mapping[np.array(added, dtype=np.int64)]))
            found.sort()
        else:
            found = image[1]
        added.clear()
        self._image = (mapping, found)
        return found

    def __contains__(self, item: object) -> bool:
        return item in self._ids

    def __len__(self) -> int:
        return len(self._ids)

    def __iter__(self) -> Iterator[int]:
        return iter(self._ids)

    def array(self) -> I64:
        """The ids, sorted (kept up to date; never write to it)."""
        if self._sorted is None:
            self._sorted = np.array(sorted(self._ids), dtype=np.int64)
        elif len(self._added) == 1:  # a pick's one new id: copied around its place, no sort
            (item,) = self._added
            self._added.clear()
            self._sorted = _inserted(self._sorted, int(self._sorted.searchsorted(item)), item)
        elif self._added:
            merged = np.concatenate((self._sorted, np.array(self._added, dtype=np.int64)))
            merged.sort()
            self._added.clear()
            self._sorted = merged
        return self._sorted

    def mask(self, ids: npt.NDArray[np.integer]) -> Mask:
        """For each of ``ids``, whether it is in the set: :func:`in_sorted`, searched in the
        sorted ids with one more at the end that no id equals (a pick tests a dozen arrays
        against the seen set: no clamp of the positions then)."""
        members = self.array()
        padded = self._padded
        if padded is None or padded[1] is not members:
            padded = self._padded = (np.append(members, _NEVER), members)
        found: Mask = padded[0][padded[0].searchsorted(ids)] == ids
        return found

    def mask_of_sorted(self, ids: npt.NDArray[np.integer]) -> Mask:
        """:meth:`mask` of sorted, distinct ``ids`` (a long shared list: the fresh source's
        thousands of uploads in test pools against a viewer's few hundred seen videos), found
        by looking each member up in ``ids`` instead of each of ``ids`` in the set."""
        found = np.zeros(len(ids), dtype=bool)
        found[self.positions_in(ids)] = True
        return found

    def positions_in(self, ids: npt.NDArray[np.integer]) -> I64:
        """Where the members found in sorted, distinct ``ids`` sit in it (what
        :meth:`mask_of_sorted` marks), without a mask as long as ``ids``."""
        members = self.array()
        if len(members) == 0 or len(ids) == 0:
            return np.zeros(0, dtype=np.int64)
        # Only the members within the span of ids can be found: a viewer's seen videos against
        # the test pools' uploads, recent ids, are mostly older ones (a search each was 0.14 ms
        # a pick at 7,500 seen).
        members = members[members.searchsorted(ids[0]) : members.searchsorted(ids[-1], "right")]
        where = np.minimum(ids.searchsorted(members), len(ids) - 1)
        at: I64 = where[ids[where] == members]
        return at


_NEVER = np.iinfo(np.int64).max  # never an id: what mask() pads the sorted ids with


def in_sorted(values: npt.NDArray[np.integer], members: npt.NDArray[np.integer]) -> Mask:
    """For each of ``values``, whether it is among the sorted ``members`` (``np.isin`` for a
    few hundred candidates against a short list, without ``isin``'s sorts)."""
    if len(members) == 0:
        return np.zeros(len(values), dtype=bool)
    where = np.minimum(members.searchsorted(values), len(members) - 1)
    found: Mask = members[where] == values
    return found


def stable_order(keys: npt.NDArray[np.number], groups: I64 | None = None) -> I64:
    """``keys.argsort(kind="stable")``, or with ``groups`` (non-negative) the order of
    ``np.lexsort((keys, groups))``: by group, then key, then position.

    numpy's stable sort (a merge sort) mispredicts its way through keys that are new every
    pick, and lexsort more: 80 and 110 us on the explore source's 1,200 promises. Here the
    default (vectorised) sort ranks the keys, equal keys one rank; then (group, rank,
    position), one whole number no other row shares, is sorted by the default sort again,
    whose order is then the stable one (about 35 us). NaN keys (equal to nothing) and keys
    too many for 63 bits take the stable sorts.
    """
    n = len(keys)
    order: I64 = keys.argsort()
    ordered = keys[order]
    if n > 1 and ordered[-1] != ordered[-1]:  # a NaN (sorted last)
        return _stable_sort(keys, groups)
    new_rank = ordered[1:] != ordered[:-1]
    if groups is None and new_rank.all():
        return order  # no two keys equal: every sort gives the one order
    ranked = np.zeros(n, dtype=np.int64)
    np.cumsum(new_rank, out=ranked[1:])
    ranks = int(ranked[-1]) + 1 if n else 1
    rank = np.empty(n, dtype=np.int64)
    rank[order] = ranked
    top = ranks if groups is None or n == 0 else (int(groups.max()) + 1) * ranks
    if top * max(n, 1) >= 1 << 62:
        return _stable_sort(keys, groups)
    key = rank if groups is None else groups.astype(np.int64) * ranks + rank
    key *= n
    key += np.arange(n, dtype=np.int64)
    found: I64 = key.argsort()
    return found


def _stable_sort(keys: npt.NDArray[np.number], groups: I64 | None) -> I64:
    found: I64 = keys.argsort(kind="stable") if groups is None else np.lexsort((keys, groups))
    return found


def stable_order_of_ids(values: I64) -> I64:
    """``values.argsort(kind="stable")`` of non-negative ids that repeat (merged proposals):
    each id with its position in the low bits is a key no other equals, so the default
    (vectorised) sort gives the stable order; the stable sort itself when the keys would
    not fit in 63 bits."""
    shift = max(len(values) - 1, 1).bit_length()
    if len(values) == 0 or values.min() < 0 or int(values.max()) >= 1 << (62 - shift):
        stable: I64 = values.argsort(kind="stable")
        return stable
    keys = (values << shift) | np.arange(len(values), dtype=np.int64)
    order: I64 = keys.argsort()
    return order


SHORT_WINDOW = 64  # at most this many values: counted by comparison, not binary search


def counts_in(values: npt.NDArray[np.integer], window: npt.NDArray[np.integer]) -> I64:
    """How many times each of ``values`` appears in ``window`` (a viewer's last few videos'
    creators, sounds or topics). A short window is compared with every value at once: the
    two binary searches in it (of the sorted window) mispredict their way through a pick's
    new candidates."""
    if len(window) <= SHORT_WINDOW:
        found: I64 = (values[:, None] == window[None, :]).sum(axis=1)
        return found
    ordered = np.sort(window)
    counts: I64 = ordered.searchsorted(values, "right") - ordered.searchsorted(values)
    return counts


def sorted_union(a: I64, b: I64) -> I64:
    """``np.union1d`` of two sorted arrays of distinct ids: a stable sort merges the two runs
    in one pass (numpy 2.4's ``union1d`` goes through a generic ``unique`` that took a
    millisecond on the ten thousand videos of the test pools, at every trending refresh)."""
    merged = np.sort(np.concatenate((a, b)), kind="stable")
    keep = np.empty(len(merged), dtype=bool)
    keep[:1] = True
    np.not_equal(merged[1:], merged[:-1], out=keep[1:])
    union: I64 = merged[keep]
    return union


def distinct(values: npt.NDArray[np.integer]) -> tuple[I64, I64]:
    """``np.unique(values, return_inverse=True)`` of a 1-d array, by one stable sort: the
    distinct values, ascending, and where each of ``values`` sits among them."""
    order = np.argsort(values, kind="stable")
    ordered = values[order].astype(np.int64)
    first = np.empty(len(values), dtype=bool)
    first[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    inverse = np.empty(len(values), dtype=np.int64)
    inverse[order] = np.cumsum(first) - 1
    return ordered[first], inverse


class SparseTable(dict[int, float]):
    """A sparse per-id table (a viewer's sound or creator affinities) that also keeps its
    keys and values as sorted arrays until it changes: a pick looks its few hundred
    candidates up in it with one binary search, where a lookup each cost several times more
    (a long-lived viewer's table holds hundreds of creators)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._arrays: tuple[I64, F64] | None = None

    def arrays(self) -> tuple[I64, F64]:
        """The keys, ascending, and their values (cached until the next change)."""
        if self._arrays is None:
            keys = np.fromiter(self.keys(), dtype=np.int64, count=len(self))
            values = np.fromiter(self.values(), dtype=np.float64, count=len(self))
            order = np.argsort(keys)
            self._arrays = (keys[order], values[order])
        return self._arrays

    def __reduce__(self) -> tuple[Any, ...]:
        # Copied and pickled as a new table of the same entries: the default rebuilds a dict
        # subclass by setting its entries one by one around its attributes, which the arrays
        # moved in __setitem__ must not see.
        return (type(self), (dict(self),))

    def __setitem__(self, key: int, value: float) -> None:
        # A pick's profile update moves one entry: the arrays follow it (one search, one
        # copy) instead of being rebuilt from the whole table at the next pick.
        if self._arrays is not None:
            keys, values = self._arrays
            at = int(keys.searchsorted(key))
            if key in self:
                values = values.copy()
                values[at] = value
            else:
                keys, values = _inserted(keys, at, key), _inserted(values, at, value)
            self._arrays = (keys, values)
        super().__setitem__(key, value)

    def __delitem__(self, key: int) -> None:
        self._arrays = None
        super().__delitem__(key)

    def __ior__(self, other: Any) -> Self:  # type: ignore[override, misc]
        self._arrays = None
        return super().__ior__(other)

    def clear(self) -> None:
        self._arrays = None
        super().clear()

    def pop(self, key: int, *default: Any) -> Any:
        self._arrays = None
        return super().pop(key, *default)

    def popitem(self) -> tuple[int, float]:
        self._arrays = None
        return super().popitem()

    def setdefault(self, key: int, default: float = 0.0) -> float:
        self._arrays = None
        return super().setdefault(key, default)

    def update(self, *args: Any, **kwargs: Any) -> None:
        self._arrays = None
        super().update(*args, **kwargs)


A = TypeVar("A", I64, F64)


def _removed(array: I64, at: int) -> I64:
    """A copy of ``array`` without its element at position ``at``."""
    shrunk = np.empty(len(array) - 1, dtype=array.dtype)
    shrunk[:at] = array[:at]
    shrunk[at:] = array[at + 1 :]
    return shrunk


def _inserted(array: A, at: int, value: float) -> A:
    """A copy of ``array`` with ``value`` at position ``at`` (``np.insert`` without its
    generic argument handling, which cost more than rebuilding a small table)."""
    grown = np.empty(len(array) + 1, dtype=array.dtype)
    grown[:at] = array[:at]
    grown[at] = value
    grown[at + 1 :] = array[at:]
    return grown
