"""The final pick: sample one video from the slate and know exactly how likely that was.

The probability of the shown item is its *propensity*, stored with the impression so that any
other config can later be evaluated off-policy on the same logs. Temperature 0 is a
deterministic argmax (propensity 1), exploration share included.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from engine import kernels
from engine.config import Pick as PickConfig

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Choice:
    index: int  # position in the slate
    propensity: float
    probabilities: F64


def slate_probabilities(
    scores: F64,
    is_explore: Mask,
    config: PickConfig,
    explore_share: float,
    is_debut: Mask | None = None,
    debut_share: float = 0.0,
) -> F64:
    """The policy's distribution over the slate (scores in slate order).

    Args:
        is_debut: which slate items are new creators' uploads; ``debut_share`` of the mass is
            spread evenly over them (a first audience that does not hang on a score).
    """
    n = len(scores)
    best = int(np.argmax(scores))
    if config.policy == "epsilon_greedy":
        probs = np.full(n, config.epsilon / n)
        probs[best] += 1.0 - config.epsilon
    elif config.temperature == 0:
        # Deterministic means deterministic: no exploration mass either.
        probs = np.zeros(n)
        probs[best] = 1.0
        return probs
    else:
        logits = (scores - scores[best]) / config.temperature
        weights = np.exp(logits)
        probs = weights / weights.sum()
    if explore_share > 0 and is_explore.any() and not is_explore.all():
        explore = is_explore / is_explore.sum()
        probs = (1.0 - explore_share) * probs + explore_share * explore
    if debut_share > 0 and is_debut is not None:
        probs = with_slot(probs, is_debut, debut_share)
    return probs


def with_slot(probs: F64, members: Mask, mass: float) -> F64:
    """``probs`` with ``mass`` of it spread evenly over ``members`` (a slot that does not hang
    on a score: new creators' uploads, a topic turned up with its slider); unchanged when no
    item or every item is a member."""
    if mass <= 0 or not members.any() or members.all():
        return probs
    result: F64 = (1.0 - mass) * probs + mass * (members / members.sum())
    return result


def choose(probabilities: F64, rng: np.random.Generator) -> Choice:
    """One draw from the slate: that of ``rng.choice(len(probabilities), p=probabilities)``,
    whose steps this repeats without its checks of ``p`` (they cost more than the draw; the
    slate's probabilities are a distribution by construction)."""
    cdf = np.cumsum(probabilities, dtype=np.float64)
    cdf /= cdf[-1]
    index = int(cdf.searchsorted(rng.random(), side="right"))
    return Choice(index=index, propensity=float(probabilities[index]), probabilities=probabilities)


def weighted_draw(rng: np.random.Generator, p: F64, size: int) -> I64:
    """Positions of ``size`` draws without replacement in proportion to ``p`` (normalised, at
    least ``size`` entries above 0): draw for draw those of ``rng.choice(len(p), size,
    replace=False, p=p)``, whose steps this repeats without its checks of ``p`` (a source
    drawing from thousands of uploads every pick paid more for them than for the draw).
    ``p`` is overwritten.
    """
    found = np.zeros(size, dtype=np.int64)
    n = 0
    compiled = kernels.loaded()
    if compiled is not None:  # each round one kernel (engine.kernels.compiled.draw_round)
        while n < size:
            n = compiled.draw_round(p, found, n, rng.random(size - n))
        return found
    while n < size:
        x = rng.random(size - n)
        if n:
            p[found[:n]] = 0.0
        cdf = p.cumsum()
        cdf /= cdf[-1]
        new = cdf.searchsorted(x, side="right")
        if len(new) > 1:  # each value's first draw, in draw order
            # A round draws a quota's few dozen: a dict keeps the first of each in one pass
            # (3.6 us for 20), where a stable argsort, gathers, compare and sort took 5.1 us.
            new = np.fromiter(dict.fromkeys(new.tolist()), dtype=np.int64)
        found[n : n + len(new)] = new
        n += len(new)
    return found


UINT32_END = 2**32


def uniform_positions(
    rng: np.random.Generator, populations: Sequence[int], sizes: Sequence[int]
) -> I64:
    """:func:`uniform_draws`' positions laid end to end (population after population), by
    one kernel when the compiled kernels are loaded (:mod:`engine.kernels`).

    Raises:
        ValueError: as :func:`uniform_draws`.
    """
    compiled = kernels.loaded()
    if compiled is None:
        flat = [k for one in uniform_draws(rng, populations, sizes) for k in one]
        return np.array(flat, dtype=np.int64)
    outputs = 0  # the generator's 32-bit outputs the draws take (a bound of 0 takes none)
    for population, size in zip(populations, sizes, strict=True):
        if population > 10_000 and size > population // 50:
            raise ValueError("uniform_draws: numpy draws this many from so many another way")
        outputs += 2 * size - 1 - (population == size) if size else 0
    bits = rng.bit_generator
    saved = bits.state
    raw = rng.integers(0, UINT32_END, outputs, np.uint32)
    chosen, ok = compiled.floyd_shuffle(
        np.array(populations, dtype=np.int64), np.array(sizes, dtype=np.int64), raw
    )
    if ok:
        return chosen  # type: ignore[no-any-return]
    bits.state = saved  # a rejection (about one call in 10^8): numpy's draws shift
    drawn = _uniform_draws_one_by_one(rng, populations, sizes)
    return np.array([k for one in drawn for k in one], dtype=np.int64)


def uniform_draws(
    rng: np.random.Generator, populations: Sequence[int], sizes: Sequence[int]
) -> list[list[int]]:
    """Positions of ``sizes[k]`` draws without replacement among ``populations[k]`` for each
    k: draw for draw those of ``rng.choice(populations[k], sizes[k], replace=False)`` made in
    turn, and the generator is left where those calls leave it. A starter source making a
    dozen such draws per topic for every topic paid ~15 us per call in checks; this repeats
    numpy's steps (Floyd's sampling, then a Fisher-Yates shuffle, every bound drawn by
    Lemire's method from the generator's 32-bit outputs) in one pass over raw draws.

    Raises:
        ValueError: more than 1 in 50 of a population over 10,000 (numpy shuffles a tail).
    """
    tops: list[int] = []  # the bound of each draw, in numpy's order (0: no draw made)
    for population, size in zip(populations, sizes, strict=True):
        if population > 10_000 and size > population // 50:
            raise ValueError("uniform_draws: numpy draws this many from so many another way")
        tops += [*range(population - size, population), *range(size - 1, 0, -1)]
    bits = rng.bit_generator
    saved = bits.state
    bound = np.array(tops, dtype=np.uint64)
    drawing = bound > 0
    span = bound[drawing] + 1
    scaled = rng.integers(0, UINT32_END, len(span), np.uint32).astype(np.uint64) * span
    # Lemire's method rejects a low part under (2^32 - span) mod span: then the draws shift.
    if ((scaled & 0xFFFFFFFF) < (np.uint64(0xFFFFFFFF) - bound[drawing]) % span).any():
        bits.state = saved
        return _uniform_draws_one_by_one(rng, populations, sizes)
    value = np.zeros(len(tops), dtype=np.int64)
    value[drawing] = scaled >> np.uint64(32)
    values: list[int] = value.tolist()
    drawn = []
    at = 0
    for population, size in zip(populations, sizes, strict=True):
        chosen = values[at : at + size]
        for k in range(size):  # Floyd: a value drawn before gives way to the bound
            if chosen[k] in chosen[:k]:
                chosen[k] = population - size + k
        at += size
        for i in range(size - 1, 0, -1):  # the shuffle
            k = values[at]
            chosen[i], chosen[k] = chosen[k], chosen[i]
            at += 1
        drawn.append(chosen)
    return drawn


def _uniform_draws_one_by_one(
    rng: np.random.Generator, populations: Sequence[int], sizes: Sequence[int]
) -> list[list[int]]:
    """:func:`uniform_draws` drawing each bound in turn (after a rejection, about one call
    in 10^8 for populations of tens)."""
    bits = rng.bit_generator
    saved = bits.state
    raw: list[int] = rng.integers(0, UINT32_END, 2 * sum(sizes) + 16, np.uint32).tolist()
    used = 0

    def bounded(top: int) -> int:
        """A uniform integer in [0, top], as numpy's bounded draw of a 32-bit range."""
        nonlocal raw, used
        if top == 0:
            return 0
        span = top + 1
        while True:
            if used == len(raw):  # only after rare rejections
                raw += rng.integers(0, UINT32_END, 64, np.uint32).tolist()
            scaled = raw[used] * span
            used += 1
            # Lemire: reject the low part below 2^32 mod span (known below span at once).
            if (scaled & 0xFFFFFFFF) >= span or (scaled & 0xFFFFFFFF) >= (0xFFFFFFFF - top) % span:
                return scaled >> 32

    drawn = []
    for population, size in zip(populations, sizes, strict=True):
        chosen: list[int] = []
        taken: set[int] = set()
        for j in range(population - size, population):  # Floyd
            value = bounded(j)
            value = j if value in taken else value
            taken.add(value)
            chosen.append(value)
        for i in range(size - 1, 0, -1):  # shuffle
            k = bounded(i)
            chosen[i], chosen[k] = chosen[k], chosen[i]
        drawn.append(chosen)
    bits.state = saved
    rng.integers(0, UINT32_END, used, np.uint32)  # leave it as the draws would have
    return drawn
