"""The viewer's taste in embedding space: what, beyond its topic, a video of this viewer's holds.

Topic affinities and the per-topic evidence of :mod:`engine.uncertainty` say which topics hook a
viewer; they say nothing about which videos *within* a topic, or about a topic never tried that
lies near one that hooks. Here each viewer keeps a Bayesian linear regression of whether a
viewing hooked them (the same outcome :func:`engine.uncertainty.note_outcome` counts: +1 held,
−1 swiped within :data:`engine.uncertainty.EARLY_SKIP_S`, 0 in between) on the video's
embedding and a constant: a Gaussian prior of precision :data:`PRIOR_PRECISION` on every weight,
and per closed viewing a rank-one step of its precision matrix and moment vector. A miss right
after a run of the same topic weighs less, as there ("not now" more than "not this").

The *taste* of a candidate is the posterior mean's prediction from its embedding, without the
constant (which says how easily the viewer is hooked at all, the same for every candidate): it
enters the learned P(action) models (:mod:`engine.learned`) as the input ``"taste"``, whose
weight is learned like the others and shown in the receipt as weight × taste.

The state is a deterministic function of the viewer's events in order (updated in the event
path, :func:`engine.update.update_viewer`), so a resume or a replay rebuilds it exactly; a
refresh forgets it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from engine import kernels
from engine.uncertainty import EARLY_SKIP_S, REPEAT_DISCOUNT, held
from engine.world import EMBED_DIM

if TYPE_CHECKING:  # profile creates the state, so only the type comes from there
    from engine.profile import UserState

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

SIZE = EMBED_DIM + 1  # the embedding and a constant
PRIOR_PRECISION = 1.0  # of each weight around 0: a few viewings move it, one does not
# The retrieval query (engine.profile.query_vector) is the unit interest blend plus this times
# the taste's unit direction. Measured on the default 20k world, 200 personas x 3 sessions x 2
# seeds, watch per session: neither query nor input 518 s; with the "taste" input, the query at
# 0.25 561 s, at 0.5 551 s (at 0.5 the autopilot demo's cold start fell from 5 to 4 of videos
# 21-30 in its persona's loved topics; at 0.25 it stays at 5). Three seeds, as
# benchmarks/bench_learning.py: 533 -> 555 s (onboarded 598 -> 616, cold 469 -> 494). All on
# the simulator before its likes on long videos came late (see engine/sim/README.md).
QUERY_SHARE = 0.25
# numpy sums a row of up to this many products in blocks of 8 (what the kernel repeats);
# longer rows it splits in halves, which the kernel does not.
PAIRWISE_BLOCK = 128


def empty_moments() -> tuple[F64, F64]:
    """The evidence of a viewer nobody has seen: a zero precision matrix and moment vector."""
    return np.zeros((SIZE, SIZE)), np.zeros(SIZE)


def note_viewing(state: UserState, embedding: F32, outcome: float, weight: float) -> None:
    """Add one closed viewing to the viewer's regression.

    Args:
        embedding: the video's unit embedding.
        outcome: +1 held the viewer, −1 swiped away at once, 0 in between.
        weight: how much the viewing counts (less for a "not now" miss).
    """
    x = np.empty(SIZE)
    x[:EMBED_DIM] = embedding
    x[EMBED_DIM] = 1.0
    state.taste_precision += weight * (x[:, None] * x)  # np.outer's products, fewer steps
    state.taste_moment += (weight * outcome) * x
    state.taste_mean = posterior_mean(state.taste_precision, state.taste_moment)


def posterior_mean(precision: F64, moment: F64) -> F64 | None:
    """The posterior mean's weights on the embedding given the evidence, or None without any
    (kept on the state: solved once per closed viewing, read at every pick)."""
    if not moment.any():
        return None
    mean = np.linalg.solve(precision + _PRIOR, moment)[:EMBED_DIM]
    return np.asarray(mean, dtype=np.float64)


# The prior's precision matrix, built once rather than at every closed viewing.
_PRIOR = PRIOR_PRECISION * np.eye(SIZE)


def note_close(
    state: UserState,
    embedding: F32,
    *,
    completed: bool,
    watched_s: float,
    duration_s: float,
    repeats: int = 0,
) -> None:
    """Count a viewing's first close: held (+1), swiped away at once (−1, divided by 1 + the
    topic's viewings among the last closed, as a "not now" miss), or in between (0).

    Args:
        repeats: how many of the viewer's last closed viewings before this one shared its topic.
    """
    if held(watched_s, duration_s, completed=completed):
        note_viewing(state, embedding, 1.0, 1.0)
    elif watched_s < EARLY_SKIP_S:
        note_viewing(state, embedding, -1.0, 1.0 / (1.0 + REPEAT_DISCOUNT * repeats))
    else:
        note_viewing(state, embedding, 0.0, 1.0)


def taste_vector(state: UserState) -> F64 | None:
    """The posterior mean's weights on the embedding, or None before any viewing."""
    return state.taste_mean


def taste_rows(states: Sequence[UserState], viewer: I64, embeddings: F32) -> F64:
    """Each row's predicted hook beyond its viewer's constant: the row's embedding · its
    viewer's posterior mean (0 before the viewer's first viewing). A reduction along each row
    only, so a row's value does not depend on who else is in the batch.

    Args:
        states: the viewers of a batch.
        viewer: each row's index into ``states``.
        embeddings: each row's video embedding.
    """
    if len(states) == 1:  # one viewer's weights broadcast over its rows: the same products
        mean = states[0].taste_mean
        weights = np.zeros(EMBED_DIM) if mean is None else np.asarray(mean, dtype=np.float64)
        alone: F64 = (embeddings * weights).sum(axis=1)
        return alone
    rows = np.zeros((len(states), EMBED_DIM))
    for k, state in enumerate(states):
        if state.taste_mean is not None:
            rows[k] = state.taste_mean
    result: F64 = (embeddings * rows[viewer]).sum(axis=1)
    return result


def taste_rows_of(states: Sequence[UserState], viewer: I64, embedding: F32, ids: I64) -> F64:
    """:func:`taste_rows` of the videos ``ids`` (``embedding``: the catalogue's): with the
    kernels (:mod:`engine.kernels`), one pass that reads each row's embedding in place."""
    compiled = kernels.loaded()
    if compiled is None or EMBED_DIM > PAIRWISE_BLOCK:
        return taste_rows(states, viewer, embedding[ids])
    means = np.zeros((len(states), EMBED_DIM))
    for k, state in enumerate(states):
        if state.taste_mean is not None:
            means[k] = state.taste_mean
    result: F64 = compiled.taste_rows(embedding, ids, means, viewer)
    return result


def taste_of(state: UserState, embeddings: F32) -> F64:
    """One viewer's :func:`taste_rows` of these videos."""
    return taste_rows([state], np.zeros(len(embeddings), dtype=np.int64), embeddings)
