"""The numba kernels themselves (imported only through :func:`engine.kernels.load`).

Each one fuses a stage that numpy does in a dozen small calls and gives exactly the numpy
path's numbers: element-wise float arithmetic in the same order, running sums as sequential
as ``np.cumsum``, and integer work (membership, first occurrences) that has one answer. A
row's sum of at most 128 numbers is added as ``ndarray.sum`` adds it (:func:`_pairwise_dot`:
in turn under 8, else 8 running sums combined in pairs; tested bit for bit against numpy);
longer sums are left to numpy. ``exp`` and ``log`` stay numpy's (its SIMD ones are not
libm's, which numba would call): a kernel stops before them and another takes over after.
``cache=True`` writes the machine code to this package's ``__pycache__`` on the first call
(or numba's user cache when that is read-only), so later processes load it instead of
compiling.

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
    language: I64,
    language_factor: F64,
    weighed: bool,
    ahead_limit: int,
) -> tuple[I64, F64, I64, I64]:
    """The fresh source's pass over the test pools for one viewer
    (:func:`engine.candidates.fresh`): the uploads open now and unseen (``pool``, sorted),
    what each promises (``exp(watch prior)``, times the draw of its topic when ``drawn``,
    times the viewer's factor for its ``language`` when ``weighed``),
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
            if weighed:
                value *= language_factor[language[j]]
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
    viewer's row of ``padded`` (a short window, -1 padded). Negative keys and values count
    nowhere, as on the numpy path: -1 is the padding and also "no sound" (imported worlds)."""
    counts = np.zeros(len(keys), dtype=np.int64)
    for r in range(len(keys)):
        key = keys[r]
        if key < 0:
            continue
        row = padded[viewer[r]]
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


@njit(cache=True, nogil=True, inline="always", error_model="numpy")
def _pairwise_dot(a: npt.NDArray[np.floating], b: F64, r: F64) -> float:  # pragma: no cover
    """``(a * b).sum()`` of one row as ``ndarray.sum`` adds it (rows of at most 128, asserted
    where it is used): under 8 products in turn, else 8 running sums over the blocks of 8,
    combined in pairs, then the rest in turn; and the reduction's initial 0 before all."""
    n = len(a)
    total: float
    if n < 8:
        total = 0.0
        for j in range(n):
            total += a[j] * b[j]
        return 0.0 + total
    for j in range(8):
        r[j] = a[j] * b[j]
    whole = n - n % 8
    for i in range(8, whole, 8):
        for j in range(8):
            r[j] += a[i + j] * b[i + j]
    total = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
    for j in range(whole, n):
        total += a[j] * b[j]
    return 0.0 + total


@njit(cache=True, nogil=True, error_model="numpy")  # numpy's inf and nan, no raise
def taste_rows(  # pragma: no cover
    embedding: npt.NDArray[np.float32], ids: I64, means: F64, viewer: I64
) -> F64:
    """:func:`engine.taste.taste_rows`: each row's video embedding (``embedding[ids]``) ·
    its viewer's mean (``means``, one row per viewer), summed as numpy sums each row of the
    products, without the (rows, dim) gathers and products."""
    found = np.empty(len(ids))
    r = np.empty(8)
    for i in range(len(ids)):
        found[i] = _pairwise_dot(embedding[ids[i]], means[viewer[i]], r)
    return found


@njit(cache=True, nogil=True, error_model="numpy")  # numpy's inf and nan, no raise
def hashtag_means(  # pragma: no cover
    affinities: npt.NDArray[np.float32],
    viewer: I64,
    slots: npt.NDArray[np.int32],
    counts: npt.NDArray[np.int32],
    ids: I64,
) -> F64:
    """:func:`engine.scoring._hashtag_means`: each row's viewer's affinities at its video's
    hashtag slots summed in float32 one after the other (a row under 8 long, as
    ``ndarray.sum`` adds it), then divided in float64 by the video's count."""
    means = np.empty(len(ids))
    for i in range(len(ids)):
        row = affinities[viewer[i]]
        video = ids[i]
        total = np.float32(0.0)
        for j in range(slots.shape[1]):
            total += row[slots[video, j]]
        means[i] = np.float64(np.float32(0.0) + total) / np.float64(counts[video])
    return means


@njit(cache=True, nogil=True, error_model="numpy")  # numpy's inf and nan, no raise
def logit_update_arguments(  # pragma: no cover
    rows: I64, inputs: F64, rates: F64, weights: F64, calibration: F64, centre: F64, bucket: int
) -> tuple[F64, F64, F64]:
    """The first half of :meth:`engine.learned.OnlineLogit.update` (rows ``rows``): the
    examples' rows ``x`` (inputs, then the rate), the model's logits ``raw`` (``(x * w)``
    summed as numpy sums a row), and the two sigmoids' exponents (calibrated logit, then the
    raw one), clipped and negated; numpy takes the ``exp`` (its own, not libm's)."""
    k = len(rows)
    terms = len(inputs) + 1
    x = np.empty((k, terms))
    raw = np.empty(k)
    exponents = np.empty((2, k))
    r = np.empty(8)
    for i in range(k):
        a = rows[i]
        x[i, : terms - 1] = inputs
        x[i, terms - 1] = rates[a]
        raw[i] = _pairwise_dot(x[i], weights[a], r)
        centred = raw[i] - centre[a]
        z = calibration[a, 0] * centred + calibration[a, 1 + bucket] + centre[a]
        exponents[0, i] = _sigmoid_exponent(z)
        exponents[1, i] = _sigmoid_exponent(raw[i])
    return x, raw, exponents


@njit(cache=True, nogil=True, inline="always")
def _sigmoid_exponent(z: float) -> float:  # pragma: no cover
    """``-np.minimum(np.maximum(z, -40.0), 40.0)`` of :func:`engine.learned.sigmoid` (a nan
    stays nan, as there)."""
    if z < -40.0:
        z = -40.0
    if z > 40.0:
        z = 40.0
    return -z


@njit(cache=True, nogil=True, error_model="numpy")
def calibrated_exponents(  # pragma: no cover
    products: F64, rates: F64, rate_weight: F64, bucket: I64, calibration: F64, centre: F64
) -> F64:
    """:meth:`engine.learned.OnlineLogit.logits` from its matmul (``products``) on: the rate
    term, the calibration layer of each row's duration ``bucket``, and the sigmoid's clip and
    negation, in one pass over the rows; numpy takes the ``exp`` (its own, not libm's)."""
    n, k = products.shape
    exponents = np.empty((n, k))
    for i in range(n):
        shift = 1 + bucket[i]
        for a in range(k):
            raw = products[i, a] + rates[i, a] * rate_weight[a]
            z = (raw - centre[a]) * calibration[a, 0] + centre[a] + calibration[a, shift]
            exponents[i, a] = _sigmoid_exponent(z)
    return exponents


@njit(cache=True, nogil=True, error_model="numpy")  # numpy's inf and nan, no raise
def logit_update_step(  # pragma: no cover
    rows: I64,
    x: F64,
    raw: F64,
    exponentials: F64,
    labels: F64,
    bucket: int,
    weights: F64,
    grad_sq: F64,
    precision: F64,
    calibration: F64,
    evidence: F64,
    centre: F64,
    prior: F64,
    memory: float,
    learning_rate: float,
) -> None:
    """The second half: the calibration layer's Newton step and the weights' AdaGrad step,
    in place, each number computed as the numpy path computes it."""
    buckets = (evidence.shape[1] - 1) // 2
    for i in range(len(rows)):
        a = rows[i]
        label = labels[a]
        # The calibration layer, on what the model said before this step.
        p = 1.0 / (1.0 + exponentials[0, i])
        slope, shift = calibration[a, 0], calibration[a, 1 + bucket]
        centred = raw[i] - centre[a]
        weight = p * (1 - p)
        for j in range(evidence.shape[1]):
            evidence[a, j] = evidence[a, j] * memory
        evidence[a, 0] += weight * centred * centred
        evidence[a, 1 + bucket] += weight * centred
        evidence[a, 1 + buckets + bucket] += weight
        s_aa = evidence[a, 0] + prior[0]
        s_ab = evidence[a, 1 + bucket]
        s_bb = evidence[a, 1 + buckets + bucket] + prior[1 + bucket]
        g_a, g_b = (p - label) * centred, p - label
        det = s_aa * s_bb - s_ab * s_ab
        calibration[a, 0] = slope - (s_bb * g_a - s_ab * g_b) / det
        calibration[a, 1 + bucket] = shift - (s_aa * g_b - s_ab * g_a) / det
        # The model, on its own logit.
        p = 1.0 / (1.0 + exponentials[1, i])
        error = p - label
        spread = p * (1 - p)
        for j in range(x.shape[1]):
            gradient = error * x[i, j]
            summed = grad_sq[a, j] + gradient * gradient
            grad_sq[a, j] = summed
            weights[a, j] = weights[a, j] - learning_rate * gradient / np.sqrt(summed + 1e-12)
            precision[a, j] += spread * (x[i, j] * x[i, j])


@njit(cache=True, nogil=True)
def segment_tops(
    prior: F64, new: npt.NDArray[np.bool_], bounds: I64, probes: int, sizes: I64
) -> I64:  # pragma: no cover
    """Per segment (rows ``bounds[s]:bounds[s + 1]``), the positions of its ``probes`` new
    rows with the highest ``prior``, then of its ``sizes[s]`` less those others; each by
    ``prior`` descending, equal priors by position: what
    :func:`engine.candidates._best_each_many` sorts for (a selection, not a sort)."""
    chosen = np.empty(len(prior), dtype=np.int64)
    taken = np.zeros(len(prior), dtype=np.bool_)
    n = 0
    for s in range(len(bounds) - 1):
        lo, hi = bounds[s], bounds[s + 1]
        debuts = 0
        for kind in range(2):
            want = probes if kind == 0 else sizes[s] - debuts
            for _ in range(want):
                best = -1
                for i in range(lo, hi):
                    if taken[i] or new[i] != (kind == 0):
                        continue
                    if best < 0 or prior[i] > prior[best]:
                        best = i
                if best < 0:
                    break
                taken[best] = True
                chosen[n] = best
                n += 1
                if kind == 0:
                    debuts += 1
    return chosen[:n]


@njit(cache=True, nogil=True)
def topic_best(
    sims: npt.NDArray[np.float32],
    prior: F64,
    language: npt.NDArray[np.integer],
    weight: F64,
    weighed: bool,
    scale: float,
    n: int,
) -> I64:  # pragma: no cover
    """The positions of the ``n`` largest finite ``scale * sims + prior (+ weight[language])``
    (the interest source's value of a liked topic's videos, summed as numpy sums it: the
    float32 product first), the larger first, an equal value after the earlier position."""
    best_at = np.empty(n, dtype=np.int64)
    best = np.empty(n, dtype=np.float64)
    size = 0
    factor = np.float32(scale)
    for i in range(len(sims)):
        value = np.float64(factor * sims[i]) + prior[i]
        if weighed:
            value += weight[language[i]]
        if not np.isfinite(value) or (size == n and value <= best[n - 1]):
            continue
        j = size if size < n else n - 1  # the slot it enters from: the end, or the last
        while j > 0 and best[j - 1] < value:
            if j < n:
                best[j] = best[j - 1]
                best_at[j] = best_at[j - 1]
            j -= 1
        best[j] = value
        best_at[j] = i
        if size < n:
            size += 1
    return best_at[:size]


def warm() -> None:
    """Call every kernel once on tiny inputs of the types the engine passes, so that loading
    (or, the first time, compiling) its machine code happens here and not inside a pick."""
    ids = np.arange(3, dtype=np.int64)
    times = np.zeros(3, dtype=np.float64)
    fresh_pass(
        ids,
        times,
        times,
        ids,
        ids,
        times,
        ids[:1],
        0.0,
        1.0,
        times,
        times,
        True,
        ids,
        times,
        True,
        1,
    )
    draw_round(np.ones(3), np.zeros(1, dtype=np.int64), 0, np.zeros(1))
    floyd_shuffle(ids, ids, np.zeros(8, dtype=np.uint32))
    count_in_rows(np.full((1, 2), -1, dtype=np.int64), np.zeros(3, dtype=np.int64), ids)
    find_in_segments(ids, np.array([0, 3]), np.zeros(3, dtype=np.int64), ids)
    segment_tops(times, ids > 0, np.array([0, 3]), 1, np.ones(1, dtype=np.int64))
    topic_best(np.zeros(3, dtype=np.float32), times, ids.astype(np.int8), times, True, 2.0, 2)
    embedding = np.zeros((3, 2), dtype=np.float32)
    embedding.flags.writeable = False  # the catalogue's are read-only: their own machine code
    taste_rows(embedding, ids, np.zeros((1, 2)), ids * 0)
    square = np.zeros((2, 3))
    x, raw, exponents = logit_update_arguments(ids[:2], times[:2], times, square, square, times, 0)
    slots = np.zeros((3, 2), dtype=np.int32)
    hashtag_means(np.zeros((1, 2), np.float32), ids * 0, slots, np.ones(3, np.int32), ids)
    calibrated_exponents(square, square, times[:2], ids[:2] * 0, square, times[:2])
    logit_update_step(
        ids[:2],
        x,
        raw,
        exponents,
        times,
        0,
        square,
        square,
        square,
        square,
        square,
        times,
        np.ones(3),
        1.0,
        1.0,
    )
