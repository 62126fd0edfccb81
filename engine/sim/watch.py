"""The choice and watch model: how a persona's hidden truth turns one video into seconds watched,
reactions, a possible "not interested", and a decision to stay or leave.

The model works on one number per (persona, video, moment), the *appeal* on a logit scale:

    appeal = base + topic taste + similarity to the taste vector + favourite creator / sound
             + followed + quality + mood(topic) - satiation(topic) - foreign language
             - sensitive (scaled by intolerance) - spam + noise

A viewer is *hooked* with probability sigmoid(appeal). A viewer who is not hooked swipes away
after a patience-sized moment (exponential, per-persona mean); one who is hooked finishes with a
probability that falls with the video's length and rises with appeal, otherwise leaves part-way.
Likes, shares, saves, comments and follows need a hooked viewer and grow with appeal; "not
interested" and reports need an unhooked one and grow with dislike. After every video the viewer
may leave: a small base hazard, growing with minutes in the session (fatigue) and with runs of
videos that did not hook (frustration), so session depth is an outcome, not a setting.

Every impression consumes the same fixed number of random draws (:data:`N_UNIFORMS` uniforms
and ``1 + topics`` normals) whatever happens, so the same persona under two configs meets the
same random numbers at the same position: common random numbers make paired comparisons tight.

The defaults of :class:`Behaviour` are calibrated so that under the default engine the rates per
impression land near KuaiRand-Pure's (see ``engine/sim/README.md``).
"""

from __future__ import annotations

from dataclasses import dataclass

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


@dataclass(frozen=True)
class Behaviour:
    """Population constants of the watch model (per-persona traits scale some of them).

    Appeal weights are in logit units; rates are per impression of a hooked (or, for the
    negatives, an unhooked) viewer before the persona's own propensity multiplies them.
    """

    base_appeal: float = -0.92
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
    rewatch_rate: float = 0.06  # × sigmoid(appeal), after finishing
    # Reactions of a hooked viewer: rate × propensity × sigmoid(appeal − threshold).
    like_rate: float = 0.069
    like_threshold: float = 0.5
    share_rate: float = 0.009
    save_rate: float = 0.016
    comment_rate: float = 0.007
    follow_rate: float = 0.006
    follow_threshold: float = 1.5
    # Negatives of an unhooked viewer: rate × sigmoid(−appeal − threshold).
    not_interested_rate: float = 0.0025
    negative_threshold: float = 1.5
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


def hooked_probability(behaviour: Behaviour, appeal_mean: F64) -> F64:
    """P(hooked) with the moment's noise integrated out (probit approximation of E[sigmoid])."""
    scale = np.sqrt(1.0 + np.pi * behaviour.noise_sd**2 / 8.0)
    return sigmoid(appeal_mean / scale)


def expected_watch_s(
    behaviour: Behaviour, appeal_mean: F64, duration_s: F64, patience_s: float
) -> F64:
    """Expected seconds watched, given what is known before the moment's noise.

    The oracle ranks by this: it is the persona's true expected watch value of each video.
    """
    hooked = hooked_probability(behaviour, appeal_mean)
    finish = finish_probability(behaviour, appeal_mean, duration_s)
    rewatch = behaviour.rewatch_rate * sigmoid(appeal_mean) * 0.65
    if_hooked = duration_s * (finish * (1.0 + rewatch) + (1.0 - finish) * 0.55)
    if_not = np.minimum(duration_s, patience_s + 0.3)
    result: F64 = hooked * if_hooked + (1.0 - hooked) * if_not
    return result


def leave_hazard(behaviour: Behaviour, scale: float, minutes: float, unhooked_run: int) -> float:
    """Chance of ending the session after the current video."""
    hazard = scale * behaviour.leave_base + behaviour.leave_per_minute * minutes
    hazard += behaviour.leave_per_miss * max(0, unhooked_run - 1)
    return min(hazard, 0.9)
