"""Several viewers' candidates laid end to end, so a stage computes for all of them at once.

A pick's scoring is a few dozen element-wise steps over a few hundred candidates: each numpy
call costs microseconds whatever its length, so per viewer the calls, not the arithmetic, are
the cost. :class:`Batch` puts the candidates of every viewer of a batch into one flat array
(row ``r`` is video ``ids[r]`` for viewer ``viewer[r]``) and turns what differs per viewer
(affinity vectors, sparse affinity tables, follow sets, the world time) into row arrays, so
each step of the formula is one call for the whole batch. A single pick is the batch of one:
there is one formula, and its per-row arithmetic does not depend on who shares the batch
(element-wise steps and reductions along a row only), which is what makes a batched pick
equal the per-viewer one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from itertools import repeat
from types import ModuleType
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from engine import kernels
from engine.idset import IdSet, SparseTable, in_sorted

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
Mask = npt.NDArray[np.bool_]
T = TypeVar("T")
A = TypeVar("A", bound=np.ndarray)
VIEWER_SHIFT = 32  # viewer index in the high bits of a combined key, the id in the low ones


@dataclass(frozen=True, eq=False)
class Batch:
    """The rows of one or more viewers' candidates.

    Attributes:
        ids: video ids, viewer after viewer.
        viewer: the index (into the batch) of the viewer each row belongs to.
        bounds: viewer ``k``'s rows are ``bounds[k]:bounds[k + 1]``.
    """

    ids: I64
    viewer: I64
    bounds: I64

    @classmethod
    def of(cls, ids: Sequence[I64]) -> Batch:
        """The batch of these viewers' candidate ids (one array per viewer, in order)."""
        if len(ids) == 1:  # a single pick: the same arrays in three calls, not seven
            only = ids[0].astype(np.int64)
            return cls(only, np.zeros(len(only), dtype=np.int64), np.array([0, len(only)]))
        sizes = np.fromiter((len(x) for x in ids), dtype=np.int64, count=len(ids))
        bounds = np.zeros(len(ids) + 1, dtype=np.int64)
        np.cumsum(sizes, out=bounds[1:])
        flat = np.concatenate(ids).astype(np.int64) if len(ids) else np.zeros(0, np.int64)
        return cls(flat, np.repeat(np.arange(len(ids), dtype=np.int64), sizes), bounds)

    @classmethod
    def of_rows(cls, ids: I64, viewer: I64, viewers: int) -> Batch:
        """The batch of rows already laid out viewer after viewer (``viewer``: each row's)."""
        bounds = np.zeros(viewers + 1, dtype=np.int64)
        np.cumsum(np.bincount(viewer, minlength=viewers), out=bounds[1:])
        return cls(ids, viewer, bounds)

    @cached_property
    def viewers(self) -> int:
        return len(self.bounds) - 1

    def __len__(self) -> int:
        return len(self.ids)

    def split(self, rows: A) -> list[A]:
        """Per viewer, its part of a row array (views, not copies)."""
        b = self.bounds.tolist()
        return [rows[b[k] : b[k + 1]] for k in range(self.viewers)]  # type: ignore[misc]

    def per_row(self, values: Sequence[T] | npt.NDArray[np.generic]) -> npt.NDArray[np.generic]:
        """One value per viewer spread to its rows."""
        result: npt.NDArray[np.generic] = np.asarray(values)[self.viewer]
        return result

    def stacked(self, rows: Sequence[npt.NDArray[np.generic]]) -> npt.NDArray[np.generic]:
        """A per-viewer vector each (same length), as a (viewers, length) matrix."""
        return np.stack(rows) if len(rows) > 1 else np.asarray(rows[0])[None, :]

    def gather(
        self, rows: Sequence[npt.NDArray[np.floating]], columns: npt.NDArray[np.integer]
    ) -> F64:
        """``rows[viewer][column]`` for each row (``columns`` index each viewer's vector)."""
        if self.viewers == 1:
            only: F64 = np.asarray(rows[0]).take(columns)  # take: small ints index it faster
            return only
        viewer = self.viewer.reshape(-1, *([1] * (columns.ndim - 1)))
        found: F64 = self.stacked(rows)[viewer, columns]
        return found

    def lookup(
        self, tables: Sequence[Mapping[int, float]], keys: npt.NDArray[np.integer], default: float
    ) -> F64:
        """``tables[viewer].get(key, default)`` for each row: one binary search for all, or,
        when the tables hold more entries than there are rows (a long-lived viewer's creator
        affinities against a few hundred candidates), each row looked up in its own table.
        Tables that keep sorted arrays (:class:`engine.idset.SparseTable`) are searched in
        those."""
        if not any(tables):  # nobody has any (sliders, boosts): every row gets the default
            return np.full(len(keys), default, dtype=np.float64)
        compiled = kernels.loaded()
        sparse = all(isinstance(table, SparseTable) for table in tables)
        if sparse and compiled is not None and self.viewers > 1:
            pairs = [table.arrays() for table in tables]  # type: ignore[attr-defined]
            known, found = (np.concatenate([pair[k] for pair in pairs]) for k in (0, 1))
            if len(known) == 0:
                return np.full(len(keys), default, dtype=np.float64)
            at = self._found(compiled, [pair[0] for pair in pairs], known, keys)
            looked_up: F64 = np.where(at >= 0, found[at], default)
            return looked_up
        if sparse:
            known, found = self._sorted_tables(tables)  # type: ignore[arg-type]
            if len(known) == 0:
                return np.full(len(keys), default, dtype=np.float64)
            if self.viewers == 1:
                return looked_up_sorted(known, found, keys, default)
            wanted = self.keys(keys)
            where = np.minimum(known.searchsorted(wanted), len(known) - 1)
            hit: F64 = np.where(known[where] == wanted, found[where], default)
            return hit
        if sum(len(table) for table in tables) > len(keys):
            bounds = self.bounds.tolist()
            return np.fromiter(
                (
                    value
                    for k, table in enumerate(tables)
                    for value in map(
                        table.get, keys[bounds[k] : bounds[k + 1]].tolist(), repeat(default)
                    )
                ),
                dtype=np.float64,
                count=len(keys),
            )
        known, found = _combined(tables, lambda table: table.keys(), lambda t: t.values())
        if len(known) == 0:
            return np.full(len(keys), default, dtype=np.float64)
        wanted = self.keys(keys)
        where = np.minimum(known.searchsorted(wanted), len(known) - 1)
        result: F64 = np.where(known[where] == wanted, found[where], default)
        return result

    def _sorted_tables(self, tables: Sequence[SparseTable]) -> tuple[I64, F64]:
        """Every viewer's table as one sorted array of keys (combined with the viewer, as
        :meth:`keys`, unless there is one viewer) and their values."""
        if self.viewers == 1:
            return tables[0].arrays()
        pairs = [table.arrays() for table in tables]
        keys = [(np.int64(k) << VIEWER_SHIFT) | known for k, (known, _) in enumerate(pairs)]
        return np.concatenate(keys), np.concatenate([found for _, found in pairs])

    def member(self, sets: Sequence[IdSet], keys: npt.NDArray[np.integer]) -> Mask:
        """Whether each row's key is in its viewer's set."""
        if self.viewers == 1:
            return sets[0].mask(keys)
        return self.member_sorted([s.array() for s in sets], keys)

    def member_sorted(
        self, arrays: Sequence[npt.NDArray[np.integer]], keys: npt.NDArray[np.integer]
    ) -> Mask:
        """Whether each row's key is among its viewer's sorted ids (``arrays[viewer]``)."""
        if self.viewers == 1:
            return in_sorted(keys, arrays[0])
        compiled = kernels.loaded()
        if compiled is not None:
            return self._found(compiled, arrays, np.concatenate(arrays), keys) >= 0
        known = np.concatenate(
            [(np.int64(k) << VIEWER_SHIFT) | a for k, a in enumerate(arrays) if len(a)] or [_NONE]
        )
        if len(known) == 0:
            return np.zeros(len(keys), dtype=bool)
        wanted = self.keys(keys)
        where = np.minimum(known.searchsorted(wanted), len(known) - 1)
        hit: Mask = known[where] == wanted
        return hit

    def _found(
        self,
        compiled: ModuleType,
        arrays: Sequence[npt.NDArray[np.integer]],
        known: npt.NDArray[np.integer],
        keys: npt.NDArray[np.integer],
    ) -> I64:
        """Where each row's key sits in ``known`` (``arrays``, each viewer's sorted ids, end
        to end), -1 where its viewer's part lacks it: one kernel for the batch."""
        bounds = np.zeros(self.viewers + 1, dtype=np.int64)
        np.cumsum([len(a) for a in arrays], out=bounds[1:])
        at: I64 = compiled.find_in_segments(
            known.astype(np.int64, copy=False),
            bounds,
            self.viewer,
            keys.astype(np.int64, copy=False),
        )
        return at

    def count_in(self, padded: npt.NDArray[np.integer], keys: npt.NDArray[np.integer]) -> I64:
        """How many times each row's key appears in its viewer's row of ``padded`` (a
        (viewers, width) matrix padded with -1, see :meth:`padded`): two binary searches over
        the batch's values, not a (rows, width) comparison matrix."""
        compiled = kernels.loaded()
        if compiled is not None:  # one pass over the rows (engine.kernels)
            counts_: I64 = compiled.count_in_rows(
                padded.astype(np.int64, copy=False), self.viewer, keys.astype(np.int64, copy=False)
            )
            return counts_
        if self.viewers == 1:
            row = padded[0]
            ordered = np.sort(row[row >= 0])
            alone: I64 = ordered.searchsorted(keys, "right") - ordered.searchsorted(keys)
            return alone
        owner = np.repeat(np.arange(self.viewers, dtype=np.int64), padded.shape[1])
        flat = padded.ravel().astype(np.int64)
        real = flat >= 0
        known = np.sort((owner[real] << VIEWER_SHIFT) | flat[real])
        wanted = self.keys(keys)
        counts: I64 = known.searchsorted(wanted, "right") - known.searchsorted(wanted)
        return counts

    def keys(self, keys: npt.NDArray[np.integer]) -> I64:
        """Each row's key combined with its viewer, unique across the batch."""
        combined: I64 = (self.viewer << VIEWER_SHIFT) | keys.astype(np.int64)
        return combined

    def padded(self, per_viewer: Sequence[Sequence[int]], width: int) -> I64:
        """Short id lists as a (viewers, width) matrix padded with -1 (never a valid id)."""
        matrix = np.full((self.viewers, max(width, 1)), -1, dtype=np.int64)
        for k, values in enumerate(per_viewer):
            matrix[k, : len(values)] = values
        return matrix


_NONE = np.zeros(0, dtype=np.int64)


def looked_up_sorted(
    known: npt.NDArray[np.integer], found: F64, keys: npt.NDArray[np.integer], default: float
) -> F64:
    """``found`` at each of ``keys`` in the sorted ``known`` (``default`` where absent), the
    keys searched in ascending order: a binary search of keys in no order (a pick's
    candidates' creators or sounds) mispredicts about every other step, one of sorted keys
    starts where the last ended (17 -> 11 us for 300 keys in a table of hundreds)."""
    order = keys.argsort()
    ordered = keys[order]
    where = np.minimum(known.searchsorted(ordered), len(known) - 1)
    result = np.empty(len(keys), dtype=np.float64)
    result[order] = np.where(known[where] == ordered, found[where], default)
    return result


def _combined(
    tables: Sequence[T],
    keys_of: Callable[[T], Iterable[int]],
    values_of: Callable[[T], Iterable[float]],
) -> tuple[I64, F64]:
    """Every viewer's (key, value) pairs with combined keys, sorted."""
    keys, values = [], []
    for k, table in enumerate(tables):
        known = np.fromiter(keys_of(table), dtype=np.int64)
        if len(known):
            keys.append((np.int64(k) << VIEWER_SHIFT) | known)
            values.append(np.fromiter(values_of(table), dtype=np.float64, count=len(known)))
    if not keys:
        return _NONE, np.zeros(0, dtype=np.float64)
    all_keys, all_values = np.concatenate(keys), np.concatenate(values)
    order = np.argsort(all_keys, kind="stable")
    return all_keys[order], all_values[order]
