"""The choice and watch model: how a persona's hidden truth turns one video into seconds watched,
reactions, a possible "not interested", and a decision to stay or leave.

The model works on one number per (persona, video, moment), the *appeal* on a logit scale:

    appeal = base + topic taste + similarity to the taste vector + favourite creator / sound
             + followed + quality + mood(topic) - satiation(topic) - foreign language
             - sensitive (scaled by intolerance) - spam + noise

A viewer is *hooked* with probability sigmoid(appeal). A viewer who is not hooked swipes away
after a patience-sized moment (exponential, per-persona mean); one who is hooked finishes with a
probability that falls with the video's length and rises with appeal, otherwise leaves part-way;
one who finishes may let the video loop (a skewed extra share of it, so the watched fraction
exceeds 1; each further loop watched to its end records a rewatch). Likes, shares, saves,
comments and follows need a hooked viewer and grow with appeal; a like is rare from a viewer who
swipes the instant the video ends (KuaiRand: the median like comes at 0.95 of the video, 45%
after a loop, almost none exactly at the end), and one who leaves part-way has liked only if it
got as far as the like's moment, uniform over the video (KuaiRand: a liked video of 60-120 s
was watched to a median 0.79 of its length, not for a few seconds). "Not interested" and
reports need an unhooked viewer and grow with dislike; one who says "not interested" has first
watched a few seconds (KuaiRand: median 4.5 s whatever the length), not just glanced. After
every video the viewer may leave: a small base hazard, growing with minutes in the session
(fatigue) and with runs of videos that did not hook (frustration), so session depth is an
outcome, not a setting.

Every impression consumes the same fixed number of random draws (:data:`N_UNIFORMS` uniforms
and ``1 + topics`` normals) whatever happens, so the same persona under two configs meets the
same random numbers at the same position: common random numbers make paired comparisons tight.
A slot may serve both branches: ``U_PART`` is how far a hooked viewer who leaves part-way gets,
and how long an unhooked one who says "not interested" watches first.

The defaults of :class:`Behaviour` are calibrated so that under the default engine the rates per
impression land near KuaiRand-Pure's (see ``engine/sim/README.md``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]

# Indices into the per-impression uniform draws (fixed layout: see the module docstring).
U_HOOK, U_GLANCE, U_FINISH, U_PART, U_REWATCH, U_REWATCH_LEN = range(6)
U_LIKE, U_SHARE, U_SAVE, U_COMMENT, U_FOLLOW = range(6, 11)
U_NEGATIVE, U_SCOPE, U_REPORT, U_LEAVE, U_TEXT = range(11, 16)
N_UNIFORMS = 16

COMPLETION_PIVOT_S = 17.0  # the world's median body duration: length effects are relative to it
SWIPE_S = 0.6  # the moment between one video closing and the next starting
GLANCE_MIN_S = 0.3  # an unhooked viewer sees at least this much before the patience draw
PARTIAL_CAP = 0.95  # a hooked viewer leaving part-way leaves before this share of the video
NOISE_NODES = 6  # Gauss–Hermite nodes integrating the moment's noise out of expected watch
_NODES, _WEIGHTS = np.polynomial.hermite_e.hermegauss(NOISE_NODES)
_WEIGHTS = _WEIGHTS / np.sqrt(2.0 * np.pi)  # probabilists' weights sum to √(2π)


@dataclass(frozen=True)
class Behaviour:
    """Population constants of the watch model (per-persona traits scale some of them).

    Appeal weights are in logit units; rates are per impression of a hooked (or, for the
    negatives, an unhooked) viewer before the persona's own propensity multiplies them.
    """

    base_appeal: float = -0.7  # re-fitted to KuaiRand's valid play under the default engine
    topic_weight: float = 1.4  # × topic taste in [-1, 1]
    taste_weight: float = 1.2  # × cosine between the video and the persona's taste vector
    quality_weight: float = 2.5  # × (quality − 0.5)
    creator_bonus: float = 0.9  # a favourite creator
    sound_bonus: float = 0.4  # a favourite sound
    followed_bonus: float = 0.5  # a creator the persona follows
    foreign_penalty: float = 0.9  # a language the persona does not understand
    sensitive_penalty: float = 2.5  # × (1 − sensitive tolerance)
    spam_penalty: float = 2.0
    noise_sd: float = 0.8  # moment-to-moment noise on top of everything known
    # Finishing, once hooked: logit = finish_base + finish_appeal·appeal − finish_length·ln(d/17).
    finish_base: float = 0.0
    finish_appeal: float = 0.45
    finish_length: float = 0.9
    partial_min_s: float = 3.0  # a hooked viewer who leaves early still watches this long
    partial_mean_s: float = 18.0  # ... plus an exponential stretch of this mean
    # Looping after finishing, with chance rewatch_rate × sigmoid(appeal): an extra share of the
    # video, Weibull: rewatch_scale·E^rewatch_shape with E ~ Exp(1) (KuaiRand's liked loops: median
    # 0.25, p90 1.66 of the video more).
    rewatch_rate: float = 1.0
    rewatch_scale: float = 0.43
    rewatch_shape: float = 1.5
    # Reactions of a hooked viewer: rate × propensity × sigmoid(appeal − threshold). Liking takes
    # a moment, so a like's chance also depends on how the viewing went: × like_partial × the
    # share of the video seen when the viewer left part-way (the like's moment falls anywhere in
    # the video, so one who leaves at 20% has reached it one time in five: it liked, then moved
    # on), × like_complete when it swiped the instant the video ended, × 1 when it let the video
    # loop (KuaiRand: 55% of likes come before the end, 45% after a loop, almost none exactly at
    # the end; a liked long video is mostly watched: median 0.79 of it at 60-120 s).
    like_rate: float = 0.093
    like_threshold: float = 0.5
    like_partial: float = 2.4
    like_complete: float = 0.4
    share_rate: float = 0.009
    save_rate: float = 0.016
    comment_rate: float = 0.007
    follow_rate: float = 0.006
    follow_threshold: float = 1.5
    # Negatives of an unhooked viewer: rate × sigmoid(−appeal − threshold).
    not_interested_rate: float = 0.0025
    negative_threshold: float = 1.5
    # ... after watching min(duration, X) s first, X lognormal: median not_interested_median_s,
    # log-sd not_interested_sigma (KuaiRand's "hate": median 4.5 s, quartiles 2.6 and ~13 s).
    not_interested_median_s: float = 4.5
    not_interested_sigma: float = 1.2
    report_rate: float = (
        0.03  # of unhooked views of spam, or of sensitive content by the intolerant
    )
    # Leaving after a video: base + fatigue·minutes + frustration·(unhooked run − 1), capped.
    leave_base: float = 0.018
    leave_per_minute: float = 0.004
    leave_per_miss: float = 0.03
    max_depth: int = 400  # a safety net only: the hazard ends sessions long before this


def sigmoid(x: F64 | float) -> F64:
    return np.asarray(1.0 / (1.0 + np.exp(-np.asarray(x, dtype=np.float64))), dtype=np.float64)


def finish_probability(behaviour: Behaviour, appeal: F64, duration_s: F64) -> F64:
    """Chance that a hooked viewer watches to the end: falls with length, rises with appeal."""
    logit = (
        behaviour.finish_base
        + behaviour.finish_appeal * appeal
        - behaviour.finish_length * np.log(duration_s / COMPLETION_PIVOT_S)
    )
    return sigmoid(logit)


def partial_like_scale(behaviour: Behaviour, watched_s: float, duration_s: float) -> float:
    """How a part-way viewing scales a like's chance: ``like_partial`` × the share of the video
    seen (the like's moment is uniform over the video, and the viewer left before the rest)."""
    return behaviour.like_partial * min(watched_s / duration_s, 1.0)


def rewatch_mean_share(behaviour: Behaviour) -> float:
    """The mean extra share of a video a loop adds: scale·Γ(1 + shape) for the Weibull draw."""
    return behaviour.rewatch_scale * math.gamma(1.0 + behaviour.rewatch_shape)


def rewatch_share(behaviour: Behaviour, draw: float) -> float:
    """The extra share of the video one loop adds, from a uniform draw (inverse CDF)."""
    stretch = -math.log1p(-draw)  # Exp(1)
    return behaviour.rewatch_scale * math.pow(stretch, behaviour.rewatch_shape)


def not_interested_watch_s(behaviour: Behaviour, draw: float) -> float:
    """Seconds watched before saying "not interested" (uncapped), from a uniform draw."""
    z = NormalDist().inv_cdf(min(max(draw, 1e-12), 1.0 - 1e-12))
    return behaviour.not_interested_median_s * math.exp(behaviour.not_interested_sigma * z)


def expected_capped_lognormal_s(cap_s: F64, median_s: float, sigma: float) -> F64:
    """E[min(cap, X)] for X lognormal with this median and log-sd.

    E[X; X < c] + c·P(X ≥ c) = m·exp(σ²/2)·Φ(ln(c/m)/σ − σ) + c·(1 − Φ(ln(c/m)/σ)).
    """
    cap = np.asarray(cap_s, dtype=np.float64)
    standard = np.log(cap / median_s) / sigma
    result: F64 = median_s * np.exp(sigma**2 / 2.0) * _normal_cdf(standard - sigma)
    result += cap * (1.0 - _normal_cdf(standard))
    return result


_ERF_COEFFICIENTS = (1.061405429, -1.453152027, 1.421413741, -0.284496736, 0.254829592)


def _normal_cdf(x: F64) -> F64:
    """Φ(x) through erf's rational approximation (Abramowitz & Stegun 7.1.26, error < 1.5e-7):
    numpy has no erf, and scipy.special would cost every persona process 0.2 s to import."""
    z = np.abs(x) / math.sqrt(2.0)
    t = 1.0 / (1.0 + 0.3275911 * z)
    poly = np.zeros_like(t)
    for coefficient in _ERF_COEFFICIENTS:  # Horner, highest power first
        poly = (poly + coefficient) * t
    erf = 1.0 - poly * np.exp(-z * z)
    result: F64 = 0.5 * (1.0 + np.sign(x) * erf)
    return result


def expected_capped_stretch_s(cap_s: F64, floor_s: F64 | float, mean_s: F64 | float) -> F64:
    """E[min(cap, floor + mean·E)] for E ~ Exp(1): how long a capped exponential watch lasts.

    Below the floor the cap decides alone; above it, the exponential stretch is cut at
    ``cap − floor``, whose mean is ``mean·(1 − exp(−(cap − floor)/mean))``.
    """
    over = np.maximum(cap_s - floor_s, 0.0)
    result: F64 = np.minimum(cap_s, floor_s) - mean_s * np.expm1(-over / mean_s)
    return result


def expected_watch_s(
    behaviour: Behaviour, appeal_mean: F64, duration_s: F64, patience_s: float
) -> F64:
    """Expected seconds watched, given what is known before the moment's noise.

    The oracle ranks by this: it is the persona's true expected watch time of each video, derived
    from the very draws :meth:`engine.sim.persona.Persona.react` makes. Given the moment's appeal
    ``a`` (noise included), a video lasting ``d`` and the patience ``p``:

        E[watched | a] = σ(a)·[F(a)·d·(1 + ρ·σ(a)·R) + (1 − F(a))·P(d)]
                         + (1 − σ(a))·[ν(a)·N(d) + (1 − ν(a))·G(d)]

    with σ(a) the chance of being hooked, F(a) :func:`finish_probability`, ρ the rewatch rate,
    R the mean extra share of a loop (:func:`rewatch_mean_share`), ν(a) the chance of saying
    "not interested", ``not_interested_rate``·σ(−a − ``negative_threshold``), and three capped
    watches in closed form: the part-way watch P(d) = E[min(PARTIAL_CAP·d, partial_min +
    partial_mean·E)] and the glance G(d) = E[min(d, GLANCE_MIN_S + p·E)], capped exponentials
    (:func:`expected_capped_stretch_s`), and the watch before a "not interested", a capped
    lognormal N(d) (:func:`expected_capped_lognormal_s`). The moment's noise is then integrated out
    (Gauss–Hermite, :data:`NOISE_NODES` nodes over a ~ N(appeal_mean, noise_sd²), relative error
    under 1e-5): hooking, finishing, looping and dismissing all read the same noisy appeal, so
    plugging the mean into each factor would misstate their product.
    ``tests/test_sim_watch.py`` holds this to a Monte Carlo of ``Persona.react``.

    Args:
        behaviour: the population constants.
        appeal_mean: appeal of each video before the moment's noise (logit scale).
        duration_s: each video's length in seconds.
        patience_s: the persona's mean glance at what does not hook it.

    Returns:
        Expected seconds watched per video (loops included), shaped like ``appeal_mean``.
    """
    b = behaviour
    duration = np.asarray(duration_s, dtype=np.float64)
    partial = expected_capped_stretch_s(PARTIAL_CAP * duration, b.partial_min_s, b.partial_mean_s)
    glance = expected_capped_stretch_s(duration, GLANCE_MIN_S, patience_s)
    dismissing = expected_capped_lognormal_s(
        duration, b.not_interested_median_s, b.not_interested_sigma
    )
    by_length = b.finish_base - b.finish_length * np.log(duration / COMPLETION_PIVOT_S)
    rewatch_s = b.rewatch_rate * rewatch_mean_share(b) * duration
    # [videos, nodes], in place: the oracle runs this over the whole catalog at every pick, and
    # temporaries, not arithmetic, are what it costs.
    appeal = np.add.outer(np.asarray(appeal_mean, dtype=np.float64), b.noise_sd * _NODES)
    # unhooked: glance + ν·(dismissing − glance)
    unhooked = np.add(appeal, b.negative_threshold)
    _sigmoid_of_negated(unhooked)
    unhooked *= (b.not_interested_rate * (dismissing - glance))[..., None]
    unhooked += glance[..., None]
    finish = np.multiply(appeal, -b.finish_appeal)
    finish -= by_length[..., None]
    _sigmoid_of_negated(finish)
    hooked = np.negative(appeal, out=appeal)
    _sigmoid_of_negated(hooked)
    # if hooked: partial + F·(d + rewatch·σ − partial); then unhooked + σ·(if hooked − unhooked)
    per_node = np.multiply(hooked, rewatch_s[..., None])
    per_node += (duration - partial)[..., None]
    per_node *= finish
    per_node += partial[..., None]
    per_node -= unhooked
    per_node *= hooked
    per_node += unhooked
    result: F64 = per_node @ _WEIGHTS  # the weights sum to 1
    return result


def _sigmoid_of_negated(x: F64) -> None:
    """Replace ``x`` by sigmoid(−x) in place."""
    np.exp(x, out=x)
    x += 1.0
    np.reciprocal(x, out=x)


def leave_hazard(behaviour: Behaviour, scale: float, minutes: float, unhooked_run: int) -> float:
    """Chance of ending the session after the current video."""
    hazard = scale * behaviour.leave_base + behaviour.leave_per_minute * minutes
    hazard += behaviour.leave_per_miss * max(0, unhooked_run - 1)
    return min(hazard, 0.9)
