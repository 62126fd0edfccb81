"""The numba kernels themselves (imported only through :func:`engine.kernels.load`).

Each one fuses a stage that numpy does in a dozen small calls and gives exactly the numpy
path's numbers: element-wise float arithmetic in the same order, running sums as sequential
as ``np.cumsum``, sums that numpy does pairwise (``ndarray.sum``) left to numpy, and integer
work (membership, first occurrences) that has one answer. ``cache=True`` writes the machine
code to this package's ``__pycache__`` on the first call (or numba's user cache when that is
read-only), so later processes load it instead of compiling.

A kernel pays where a stage is many small calls on a batch's few hundred rows. Over long
arrays numpy is as fast or faster: a compiled top-n of a liked topic's few thousand videos
(heap or ``np.partition``) took 17-39 us where numpy's SIMD ``argpartition`` took 12-19 us,
so :func:`engine.candidates.interest` keeps numpy.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]


@njit(cache=True, nogil=True)
def _member_sorted(values: I64, members: I64) -> npt.NDArray[np.bool_]:  # pragma: no cover
    """For each of ``values`` (any order), whether it is among the sorted ``members``."""
    found = np.zeros(len(values), dtype=np.bool_)
    if len(members) == 0:
        return found
    for i in range(len(values)):
        at = np.searchsorted(members, values[i])
        found[i] = at < len(members) and members[at] == values[i]
    return found


@njit(cache=True, nogil=True)
def fresh_pass(  # pragma: no cover
    testing: I64,
    published: F64,
    debut: F64,
    topic: I64,
    started: I64,
    started_published: F64,
    seen: I64,
    now: float,
    window_s: float,
    promise_of: F64,
    draws: F64,
    drawn: bool,
    ahead_limit: int,
) -> tuple[I64, F64, I64, I64]:
    """The fresh source's pass over the test pools for one viewer
    (:func:`engine.candidates.fresh`): the uploads open now and unseen (``pool``, sorted),
    what each promises (``exp(watch prior)``, times the draw of its topic when ``drawn``),
    where the new creators' ones sit in ``pool`` (less those already ``ahead``), and
    ``ahead``: the started pools' unseen published videos, at most ``ahead_limit``.

    ``seen`` and ``testing`` are sorted: a viewer's few hundred seen videos are each looked
    up among the thousands of uploads, not the other way round.
    """
    n = len(testing)
    open_now = published <= now
    for video in seen:
        at = np.searchsorted(testing, video)
        if at < n and testing[at] == video:
            open_now[at] = False
    unseen_started = ~_member_sorted(started, seen)
    ahead = np.empty(min(ahead_limit, len(started)), dtype=np.int64)
    m = 0
    for i in range(len(started)):
        if m == len(ahead):
            break
        if started_published[i] <= now and unseen_started[i]:
            ahead[m] = started[i]
            m += 1
    ahead = ahead[:m]
    ahead_sorted = np.sort(ahead)
    # One pass over the uploads writes all three outputs (a pass per output over the open
    # ones' positions took a third longer: 45 against 34 us for 11,000 uploads).
    pool = np.empty(n, dtype=np.int64)
    promise = np.empty(n, dtype=np.float64)
    debut_at = np.empty(n, dtype=np.int64)
    since = now - window_s
    p = 0
    d = 0
    for j in range(n):
        if open_now[j]:
            video = testing[j]
            pool[p] = video
            value = promise_of[video]
            if drawn:
                value *= draws[topic[j]]
            promise[p] = value
            started_at = debut[j]
            if started_at >= since and started_at <= now:
                at = np.searchsorted(ahead_sorted, video)
                if not (at < len(ahead_sorted) and ahead_sorted[at] == video):
                    debut_at[d] = p
                    d += 1
            p += 1
    return pool[:p], promise[:p], debut_at[:d], ahead


@njit(cache=True, nogil=True)
def draw_round(p: F64, found: I64, n: int, x: F64) -> int:  # pragma: no cover
    """One round of :func:`engine.pick.weighted_draw`: zero what ``found[:n]`` holds, turn
    ``p`` into a running sum (as ``np.cumsum``, then divided by its end), place each of the
    uniform draws ``x`` in it (``searchsorted(..., side="right")``) and append to ``found``
    each position drawn for the first time, in draw order. Returns the new count found."""
    for k in range(n):
        p[found[k]] = 0.0
    cdf = np.empty(len(p), dtype=np.float64)
    total = 0.0
    for i in range(len(p)):
        total += p[i]
        cdf[i] = total
    end = cdf[len(cdf) - 1]
    for i in range(len(cdf)):
        cdf[i] /= end
    taken = np.zeros(len(p), dtype=np.bool_)
    for k in range(n):
        taken[found[k]] = True
    for value in x:
        at = np.searchsorted(cdf, value, side="right")
        if not taken[at]:
            taken[at] = True
            found[n] = at
            n += 1
    return n


@njit(cache=True, nogil=True)
def _bounded(output: np.uint32, top: int) -> tuple[np.int64, bool]:  # pragma: no cover
    """Lemire's draw of an integer in [0, top] from one 32-bit output, as numpy makes it, and
    False where numpy would reject the output and draw again."""
    low = np.uint64(0xFFFFFFFF)
    span = np.uint64(top + 1)
    scaled = np.uint64(output) * span
    if (scaled & low) < (low - np.uint64(top)) % span:
        return np.int64(0), False
    return np.int64(scaled >> np.uint64(32)), True


@njit(cache=True, nogil=True)
def floyd_shuffle(  # pragma: no cover
    populations: I64, sizes: I64, raw: npt.NDArray[np.uint32]
) -> tuple[I64, bool]:
    """What :func:`engine.pick.uniform_draws` makes of the generator's 32-bit outputs ``raw``:
    for each population in turn, Floyd's sampling of ``sizes[k]`` positions then their
    Fisher-Yates shuffle, every bound drawn by Lemire's method (a bound of 0 takes no
    output). Returns the positions, population after population, and False (positions
    meaningless) when Lemire's method would have rejected an output: the caller draws again
    one bound at a time."""
    chosen = np.empty(sizes.sum(), dtype=np.int64)
    used = 0
    at = 0
    for p in range(len(populations)):
        population, size = populations[p], sizes[p]
        for k in range(size):  # Floyd: a value drawn before gives way to the bound
            top = population - size + k
            value = np.int64(0)
            if top > 0:
                value, ok = _bounded(raw[used], top)
                used += 1
                if not ok:
                    return chosen, False
            for j in range(k):
                if chosen[at + j] == value:
                    value = top
                    break
            chosen[at + k] = value
        for i in range(size - 1, 0, -1):  # the shuffle
            swap, ok = _bounded(raw[used], i)
            used += 1
            if not ok:
                return chosen, False
            chosen[at + i], chosen[at + swap] = chosen[at + swap], chosen[at + i]
        at += size
    return chosen, True


@njit(cache=True, nogil=True)
def count_in_rows(padded: I64, viewer: I64, keys: I64) -> I64:  # pragma: no cover
    """:meth:`engine.batch.Batch.count_in`: how many times each row's key appears in its
    viewer's row of ``padded`` (a short window, -1 padded, which no key equals)."""
    counts = np.zeros(len(keys), dtype=np.int64)
    for r in range(len(keys)):
        row = padded[viewer[r]]
        key = keys[r]
        for value in row:
            counts[r] += value == key
    return counts


@njit(cache=True, nogil=True)
def find_in_segments(known: I64, bounds: I64, viewer: I64, keys: I64) -> I64:  # pragma: no cover
    """Where each row's key sits among its viewer's sorted ids
    (``known[bounds[v]:bounds[v + 1]]`` for viewer ``v``), -1 where it is not: the binary
    searches of :meth:`engine.batch.Batch.member_sorted` and ``lookup``, each row in its
    own viewer's part, without combining keys with viewers first."""
    found = np.empty(len(keys), dtype=np.int64)
    for r in range(len(keys)):
        key = keys[r]
        lo, hi = bounds[viewer[r]], bounds[viewer[r] + 1]
        end = hi
        while lo < hi:  # the first at or above the key (a slice per row cost more)
            middle = (lo + hi) >> 1
            if known[middle] < key:
                lo = middle + 1
            else:
                hi = middle
        found[r] = lo if lo < end and known[lo] == key else -1
    return found


def warm() -> None:
    """Call every kernel once on tiny inputs of the types the engine passes, so that loading
    (or, the first time, compiling) its machine code happens here and not inside a pick."""
    ids = np.arange(3, dtype=np.int64)
    times = np.zeros(3, dtype=np.float64)
    fresh_pass(ids, times, times, ids, ids, times, ids[:1], 0.0, 1.0, times, times, True, 1)
    draw_round(np.ones(3), np.zeros(1, dtype=np.int64), 0, np.zeros(1))
    floyd_shuffle(ids, ids, np.zeros(8, dtype=np.uint32))
    count_in_rows(np.full((1, 2), -1, dtype=np.int64), np.zeros(3, dtype=np.int64), ids)
    find_in_segments(ids, np.array([0, 3]), np.zeros(3, dtype=np.int64), ids)
