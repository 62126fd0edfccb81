"""The final pick: sample one video from the slate and know exactly how likely that was.

The probability of the shown item is its *propensity*, stored with the impression so that any
other config can later be evaluated off-policy on the same logs. Temperature 0 is a
deterministic argmax (propensity 1), exploration share included.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

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
    if debut_share > 0 and is_debut is not None and is_debut.any() and not is_debut.all():
        debut = is_debut / is_debut.sum()
        probs = (1.0 - debut_share) * probs + debut_share * debut
    return probs


def choose(probabilities: F64, rng: np.random.Generator) -> Choice:
    index = int(rng.choice(len(probabilities), p=probabilities))
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
    while n < size:
        x = rng.random(size - n)
        if n:
            p[found[:n]] = 0.0
        cdf = np.cumsum(p)
        cdf /= cdf[-1]
        new = cdf.searchsorted(x, side="right")
        _, first = np.unique(new, return_index=True)
        first.sort()
        new = new.take(first)
        found[n : n + len(new)] = new
        n += len(new)
    return found
