"""The learning ceiling: the best a feed that only sees reactions can do at finding loved topics,
and (``objective = "watch"``) at holding a viewer's watch time.

Issue 14 asks cold-start viewers' loved-topic share over impressions 21-40 to reach 60%. The
oracle cannot say whether that is reachable: it reads each persona's truth. This policy knows
the simulator's *model* (:mod:`engine.sim.persona`, :mod:`engine.sim.watch`: how tastes are
drawn and how a taste turns into a reaction) but not the persona's *truth*: it learns only from
the viewer's recorded events, as any feed must, and is never attached to a persona. What it
reaches is the realistic ceiling of a learner; a feed that does worse has room to learn faster.

**The posterior.** Each topic has a hidden class, loved, liked, indifferent or disliked. Given
the class, the mean appeal of the topic's videos for this persona is drawn once per
(persona, topic): the topic taste and the persona's similarity to the topic's videos. Both are
tabulated once per world by drawing :data:`PRIOR_PERSONAS` tastes from the persona generator
itself (:func:`engine.sim.persona.draw_taste`): the class priors per topic (exact marginals of
the generator, up to Monte Carlo error) and, per topic and class, a normal for that
per-persona mean effect and the spread of single videos around it. A reaction's likelihood
is written down from :meth:`engine.sim.persona.Persona.react`: hooked or not with chance
sigmoid(appeal); a hooked viewer finishes (chance :func:`engine.sim.watch.finish_probability`),
may loop, or leaves part-way after 3 s + an exponential stretch; an unhooked one glances for
0.3 s + an exponential of its patience, or says "not interested"; likes come only from the
hooked. The watched seconds are read to their recorded precision (0.01 s). The moment's noise,
the session's mood and the video's own deviation are integrated out by Gauss-Hermite
(:data:`MOMENT_NODES`); the per-(persona, topic) effect by Gauss-Hermite too
(:data:`EFFECT_NODES`), *shared* by every reaction to that topic, so ten skips of one topic
weigh as ten correlated reactions, not ten independent ones. Two persona-wide unknowns are
carried exactly on a grid: patience (how long an unhooked glance lasts: :data:`PATIENCE_NODES`)
and satiation (appeal lost per repeat of a topic in the session: :data:`SATIATION_NODES`).

Topics named at sign-up are loved for sure (the generator names only loved ones).
Approximations, each erring towards the policy knowing *less* than it could: topics' classes
are independent a priori (the generator couples them: 1-3 loved topics, liked ones near the
loved, and the taste vector they imply; ``prior = "joint"`` keeps that); the mood is counted
as fresh noise at each impression (it drifts slowly in a session); the like propensity,
favourite creators and sounds, and whether a non-English speaker understands English are
averaged over the population at each reaction rather than learned; shares, saves, comments,
follows and leaving are not used. The simulator's behaviour is
:class:`engine.sim.watch.Behaviour`'s defaults.

**The picks.** It serves the topic most likely loved (greedy on the posterior: with the
generator's popularity prior that is a search down the likeliest topics, dropping each as its
reactions say no), still learning from every reaction. ``explore = N`` spends a viewer's
first N picks on Thompson sampling instead (draw the persona-wide unknowns and each topic's
loved-or-not from the posterior and serve a topic drawn loved); on the demo world that found
loved topics more slowly than greedy. Within the topic it serves a *typical* video: uniform
among the allowed ones in the viewer's language (any language when there are none), never
using the persona's taste vector; ``video = "popular"`` serves the one with the most expected
seconds completed per view, the engine's kind of choice (:mod:`engine.bandit`), and
``video = "informative"`` the one whose reaction says most about whether the topic is loved
(:func:`information`: low-appeal, short videos, where the hook chance is steepest).
``prior = "joint"`` replaces the per-topic posterior by importance weights over
:data:`JOINT_PERSONAS` whole tastes drawn from the generator (:class:`JointBelief`): the
exact joint prior, cross-topic similarity included, at the cost of Monte Carlo error.

**Watch.** Greedy on P(loved) bounds the loved-topic share, not watch time: it serves loved
topics' typical videos, long ones left early included. ``objective = "watch"`` is the
ceiling on watch time for a learner: each pick serves the allowed video, of any topic and
language, with the most expected seconds watched under the posterior (:func:`expected_watch`):
the simulator's watch model (:func:`watch_terms`, exactly
:func:`engine.sim.watch.expected_watch_s` before the noise: hooked with chance
sigmoid(appeal), finished by length, looped, left part-way, a glance by patience, "not
interested") integrated over every cell the posterior carries (class x the persona's mean
effect of the topic x satiation x patience: :meth:`Belief.cells`) and the moment
(:data:`WATCH_NODES` nodes of the class's ``moment_sd``), with satiation at the session's
repeats of the topic (its closed impressions, whoever served them). It learns from every
reaction exactly as above. A search keeps a pick to a few milliseconds: per viewer language,
each topic's :data:`CANDIDATES` best at a grid of appeals (plus followed creators' videos, and
all of a topic's once fewer than :data:`SHORTLIST` candidates are left), each topic's
:data:`SHORTLIST` best of those by a normal approximation of its posterior
(:func:`rough_watch`), and the exact value of that shortlist decides.

Which way it errs, as a reference for a learner's placement on watch time (0 = random, 1 =
the oracle, which reads the truth): *low* against the best that knowing the model allows,
since it is greedy like the oracle (no value of information, no planning of satiation or of
the leave hazard), its search may miss the best video (a test holds it within 2% of an
exhaustive search; on the demo world it found the exhaustive best in every case checked),
and its posterior makes the approximations above; *high* against a real feed, which must
learn the model's form and constants and the generator's priors it is given. One input
decides much: every video's hidden quality (appeal 2.5 x (quality - 0.5), never a ranking
input of the engine). ``quality = "known"`` (the default, which every variant's likelihood
also reads) knows it exactly, as if everyone's reactions had taught it, and errs high;
``quality = "prior"`` knows only its spread over the world's videos, counted in each video's
own deviation (:func:`without_quality`), and errs low: a feed learns quality from the crowd.
``quality = "crowd"`` does that: its belief about a video's quality is a normal given the
video's *public* counts only (the background views, completions, likes, shares, saves,
comments and follows of ``world.stats``, what the engine's catalogue holds at open), never
its ``videos.quality``: the mean of a least-squares line of quality on the smoothed rates'
logits, log views, length and the creator's rates over its other videos, one line for
viewed videos and one for never-viewed ones (:func:`crowd_fit`), and the lines' residual
variance counted in each video's own deviation, as ``"prior"`` counts the whole spread. The
lines are fitted once per world on the hidden quality *across* the world's videos: a
model-level fact like the generator's priors the tables hold (a feed that had watched the
world long would know how its rates relate to quality), not a reading of the video served.
On the 20,000-video world they leave a residual variance of 0.0074 of quality's 0.052
(0.0046 on viewed videos, 0.037 on the 8% never viewed: new creators' and scheduled ones).
It errs high in the fit's being exact for this world (a real feed must learn the relation)
and in giving never-viewed videos the pooled residual spread, when their counts say nothing;
it errs low in giving well-viewed videos that same spread, when their counts say more, in
the lines' being linear rather than a posterior of the binomial counts, and in ignoring the
live counts the engine records as viewers react. A reaction-only learner's watch ceiling
lies between ``"prior"`` and ``"known"``; ``"crowd"`` is the nearest of the three to what a
feed can know.
"""

from __future__ import annotations

import math
import weakref
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt

from engine.events import Event
from engine.pipeline import Decision, NothingToRecommendError
from engine.policy import SLATE_SHOWN, PickRequest, PolicyBase, plain_receipt
from engine.sim.persona import SATIATION_WINDOW, draw_taste
from engine.sim.watch import (
    GLANCE_MIN_S,
    PARTIAL_CAP,
    Behaviour,
    expected_capped_lognormal_s,
    expected_capped_stretch_s,
    finish_probability,
    partial_like_scale,
    rewatch_mean_share,
    sigmoid,
)
from engine.world import World

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

CLASSES = ("loved", "liked", "indifferent", "disliked")
LOVED, LIKED, INDIFFERENT, DISLIKED = range(4)
PRIOR_PERSONAS = 3000  # tastes drawn from the generator to tabulate the model, once per world
PRIOR_SEED = 0x0CE1  # their seed: the tables are the same in every process
VIDEOS_PER_TOPIC = 64  # a topic's videos sampled for the similarity tables
SHRINK = 20.0  # personas' worth of pooling a rare (topic, class) cell towards its class
EFFECT_NODES = 7  # Gauss-Hermite nodes over a persona's mean effect of a topic
MOMENT_NODES = 12  # ... over the moment's noise, mood and the video's own deviation
PATIENCE_NODES = 5  # ... over the persona's patience (lognormal)
SATIATION_NODES = 3  # Gauss-Legendre nodes over its satiation (uniform)
PATIENCE_LOG_MEDIAN, PATIENCE_LOG_SD = math.log(1.6), 0.4  # as draw_taste draws them
SATIATION_RANGE = (0.08, 0.25)
MOOD_SD_RANGE = (0.2, 0.6)
RESOLUTION_S = 0.01  # watched seconds are recorded to the hundredth
LOOP_MARGIN_S = 0.015  # watched beyond the duration by more than this: the video looped
EXPLORE_PICKS = 0  # greedy from the start found loved topics faster than exploring 20 picks
JOINT_PERSONAS = 20_000  # whole tastes behind the joint posterior, once per world
MC_DRAWS = 64  # extra posterior draws behind an exploring pick's propensity
CLOSING = ("complete", "skip")
TINY = 1e-300

_EFFECT_Z, _EFFECT_W = np.polynomial.hermite_e.hermegauss(EFFECT_NODES)
_EFFECT_W = _EFFECT_W / _EFFECT_W.sum()
_MOMENT_Z, _MOMENT_W = np.polynomial.hermite_e.hermegauss(MOMENT_NODES)
_MOMENT_W = _MOMENT_W / _MOMENT_W.sum()
_PATIENCE_Z, _PATIENCE_W = np.polynomial.hermite_e.hermegauss(PATIENCE_NODES)
PATIENCE_S = np.exp(PATIENCE_LOG_MEDIAN + PATIENCE_LOG_SD * _PATIENCE_Z)
_PATIENCE_W = _PATIENCE_W / _PATIENCE_W.sum()
_SATIATION_X, _SATIATION_W = np.polynomial.legendre.leggauss(SATIATION_NODES)
SATIATION = SATIATION_RANGE[0] + (SATIATION_RANGE[1] - SATIATION_RANGE[0]) * (_SATIATION_X + 1) / 2
_SATIATION_W = _SATIATION_W / _SATIATION_W.sum()
WATCH_NODES = 6  # Gauss-Hermite nodes over the moment when expecting watch (a smooth integrand)
_WATCH_Z, _WATCH_W = np.polynomial.hermite_e.hermegauss(WATCH_NODES)
_WATCH_W = _WATCH_W / _WATCH_W.sum()
SHORTLIST = 4  # per topic, the videos whose expected watch is integrated over the posterior
CANDIDATES = 8  # per topic and grid point, the videos a watch search starts from
CANDIDATE_OFFSETS = np.arange(-3.0, 3.01, 0.75)  # a topic's appeal for a viewer, beyond the known
CANDIDATE_SPREADS = (0.9, 1.6)  # ... and its spread (one impression's, and a new viewer's)
# log prior of each persona-wide node, [satiation, patience]
_LOG_GLOBAL = np.log(np.outer(_SATIATION_W, _PATIENCE_W))


@dataclass(frozen=True, eq=False)
class ModelTables:
    """What the persona generator implies for one world, per topic and class (``[T, 4]``).

    Attributes:
        log_prior: log chance that a persona holds the topic in each class.
        effect_mean, effect_sd: the normal of a persona's mean appeal from the topic, beyond
            the video's known terms (topic taste x weight + similarity + favourites).
        moment_sd: spread of one impression around that mean (the video's own deviation,
            mood and the moment's noise).
        sensitive_penalty: the expected penalty of a sensitive video for a viewer who allows
            them.
    """

    log_prior: F64
    effect_mean: F64
    effect_sd: F64
    moment_sd: F64
    sensitive_penalty: float


_TABLES: weakref.WeakKeyDictionary[World, ModelTables] = weakref.WeakKeyDictionary()


def model_tables(world: World, behaviour: Behaviour | None = None) -> ModelTables:
    """The world's tables (computed on first use, then cached per world; a few seconds)."""
    tables = _TABLES.get(world)
    if tables is None:
        tables = _TABLES[world] = tabulate(world, behaviour or Behaviour())
    return tables


def tabulate(world: World, behaviour: Behaviour, personas: int = PRIOR_PERSONAS) -> ModelTables:
    """Draw ``personas`` tastes from the generator and summarise them per topic and class."""
    rng = np.random.default_rng(PRIOR_SEED)
    b, v = behaviour, world.videos
    n_topics = len(world.topics)
    sample = _topic_sample(world, rng)  # [T, S] video ids
    embedding = v.embedding[sample].astype(np.float64)  # [T, S, D]
    classes = np.empty((personas, n_topics), dtype=np.int64)
    effect = np.empty((personas, n_topics))
    spread = np.empty((personas, n_topics))
    tolerance = np.empty(personas)
    for k in range(personas):
        taste = draw_taste(world, rng)
        classes[k] = _classes(taste.topic, taste.loved)
        terms = b.taste_weight * (embedding @ taste.vector.astype(np.float64))
        terms += b.creator_bonus * np.isin(v.creator_id[sample], taste.creators)
        terms += b.sound_bonus * np.isin(v.sound_id[sample], taste.sounds)
        effect[k] = b.topic_weight * taste.topic + terms.mean(axis=1)
        spread[k] = terms.var(axis=1)
        tolerance[k] = taste.sensitive_tolerance
    mood_var = (
        MOOD_SD_RANGE[0] ** 2 + MOOD_SD_RANGE[0] * MOOD_SD_RANGE[1] + MOOD_SD_RANGE[1] ** 2
    ) / 3
    shape = (n_topics, len(CLASSES))
    count, mean, var, within = (np.zeros(shape) for _ in range(4))
    for c in range(len(CLASSES)):
        member = classes == c
        count[:, c] = member.sum(axis=0)
        n = np.maximum(count[:, c], 1.0)
        mean[:, c] = (effect * member).sum(axis=0) / n
        var[:, c] = ((effect - mean[:, c]) ** 2 * member).sum(axis=0) / n
        within[:, c] = (spread * member).sum(axis=0) / n
    mean, var, within = (_pool(x, count) for x in (mean, var, within))
    frequency = (count + 1.0) / (personas + len(CLASSES))
    allowed = tolerance > 0.6  # who switches sensitive content on at sign-up
    return ModelTables(
        log_prior=np.log(frequency / frequency.sum(axis=1, keepdims=True)),
        effect_mean=mean,
        effect_sd=np.sqrt(var),
        moment_sd=np.sqrt(within + mood_var + b.noise_sd**2),
        sensitive_penalty=b.sensitive_penalty * float(np.mean(1.0 - tolerance[allowed])),
    )


def _topic_sample(world: World, rng: np.random.Generator) -> I64:
    """Up to VIDEOS_PER_TOPIC non-spam videos of each topic (drawn with replacement if fewer)."""
    v = world.videos
    rows = []
    for t in range(len(world.topics)):
        ids = np.flatnonzero((v.topic_id == t) & ~v.spam.astype(bool))
        rows.append(rng.choice(ids, size=VIDEOS_PER_TOPIC, replace=len(ids) < VIDEOS_PER_TOPIC))
    return np.array(rows, dtype=np.int64)


def _classes(topic_taste: F64, loved: I64) -> I64:
    """Each topic's class, read off the generator's taste values (see draw_taste's bands)."""
    classes = np.full(len(topic_taste), INDIFFERENT, dtype=np.int64)
    classes[topic_taste > 0.25] = LIKED  # indifferent tastes stop at 0.2
    classes[topic_taste < -0.6] = DISLIKED  # ... and at -0.45
    classes[loved] = LOVED
    return classes


def _pool(values: F64, count: F64) -> F64:
    """Pool each (topic, class) cell towards its class's mean over topics, by its size."""
    overall = (values * count).sum(axis=0) / np.maximum(count.sum(axis=0), 1.0)
    pooled: F64 = (values * count + SHRINK * overall) / (count + SHRINK)
    return pooled


def static_appeal(
    world: World,
    behaviour: Behaviour,
    tables: ModelTables,
    ids: I64,
    language: int,
    quality: str = "known",
) -> F64:
    """The appeal terms of each video it counts on for a viewer of ``language``, before
    follows: base, the video's quality (its hidden value with ``quality = "known"``, the
    population's mean with ``"prior"``, its mean given its public counts with ``"crowd"``:
    :func:`crowd_fit`), a language the viewer may not understand (English:
    half of non-English speakers do) and sensitive content for a viewer who allows it."""
    b, v = behaviour, world.videos
    if quality == "known":
        appeal = b.base_appeal + b.quality_weight * (v.quality[ids].astype(np.float64) - 0.5)
    elif quality == "crowd":
        appeal = b.base_appeal + b.quality_weight * (crowd_fit(world).predict(world, ids) - 0.5)
    else:
        mean, _ = quality_moments(world)
        appeal = np.full(len(ids), b.base_appeal + b.quality_weight * (mean - 0.5))
    english = np.array(world.languages)[v.language[ids]] == "en"
    appeal -= b.foreign_penalty * (v.language[ids] != language) * np.where(english, 0.5, 1.0)
    appeal -= tables.sensitive_penalty * v.sensitive[ids]
    result: F64 = appeal
    return result


def quality_moments(world: World) -> tuple[float, float]:
    """Mean and variance of the hidden quality of the world's videos (spam aside)."""
    quality = world.videos.quality[~world.videos.spam.astype(bool)].astype(np.float64)
    return float(quality.mean()), float(quality.var())


def without_quality(
    tables: ModelTables, world: World, behaviour: Behaviour, variance: float | None = None
) -> ModelTables:
    """The tables of a learner that does not know each video's quality: its spread over
    the world's videos (or ``variance``, what is left unknown of it) joins each video's own
    deviation (``moment_sd``)."""
    if variance is None:
        _, variance = quality_moments(world)
    moment_sd = np.sqrt(tables.moment_sd**2 + behaviour.quality_weight**2 * variance)
    return replace(tables, moment_sd=moment_sd)


CROWD_PRIOR_VIEWS = 10.0  # views' worth of shrinking a video's public rates toward the world's


@dataclass(frozen=True, eq=False)
class CrowdFit:
    """How hidden quality relates to the public counts in one world: a least-squares line of
    quality on :func:`crowd_features` across the world's non-spam videos, one for viewed
    videos and one for never-viewed ones (whose length says nothing without a completion
    rate to read it against), and the residual variance over both (what the counts leave
    unknown)."""

    coefficients: F64  # [2, F]: never viewed, viewed
    residual_variance: float

    def predict(self, world: World, ids: I64) -> F64:
        """The mean quality of ``ids`` given their public counts (never ``videos.quality``)."""
        viewed = (world.stats.views[ids] > 0).astype(np.int64)
        result: F64 = np.einsum("vf,vf->v", crowd_features(world)[ids], self.coefficients[viewed])
        return result


_CROWD: weakref.WeakKeyDictionary[World, CrowdFit] = weakref.WeakKeyDictionary()
_FEATURES: weakref.WeakKeyDictionary[World, F64] = weakref.WeakKeyDictionary()


def crowd_features(world: World) -> F64:
    """Per video, what the public background counts (``world.stats``, the catalogue's counts at
    open) and the public metadata say about quality, ``[N, F]``: a constant, the logits of the
    smoothed completion, like and other-action (shares, saves, comments, follows) rates, log
    views, "never viewed", log duration (completion falls with length), and the creator's
    smoothed completion and like logits over its other videos (quality clusters by creator)."""
    cached = _FEATURES.get(world)
    if cached is not None:
        return cached
    s, v = world.stats, world.videos
    views = s.views.astype(np.float64)
    other = (s.shares + s.saves + s.comments + s.follows).astype(np.float64)
    counts = (s.completions.astype(np.float64), s.likes.astype(np.float64), other)
    creator = v.creator_id.astype(np.int64)
    columns = [np.ones(len(views))]
    columns += [_smoothed_logit(c, views) for c in counts]
    columns += [np.log1p(views), (views == 0).astype(np.float64)]
    columns.append(np.log(v.duration_s.astype(np.float64)))
    by_creator_views = np.bincount(creator, views)[creator] - views
    for c in counts[:2]:
        columns.append(_smoothed_logit(np.bincount(creator, c)[creator] - c, by_creator_views))
    features: F64 = np.column_stack(columns)
    _FEATURES[world] = features
    return features


def _smoothed_logit(count: F64, views: F64) -> F64:
    """The logit of each per-view rate, shrunk toward the overall rate by CROWD_PRIOR_VIEWS."""
    overall = (count.sum() + 1.0) / (views.sum() + 2.0)
    rate = np.clip(
        (count + CROWD_PRIOR_VIEWS * overall) / (views + CROWD_PRIOR_VIEWS), 1e-6, 1 - 1e-6
    )
    result: F64 = np.log(rate / (1.0 - rate))
    return result


def crowd_fit(world: World) -> CrowdFit:
    """The world's :class:`CrowdFit` (fitted on first use, then cached per world). Fitting on
    the hidden quality *across* the world's videos is a model-level fact, like the generator's
    priors the tables already hold: a feed that had watched this world long enough would know
    how its public rates relate to how good videos are; no single video's quality is read
    when it is served."""
    fit = _CROWD.get(world)
    if fit is None:
        keep = ~world.videos.spam.astype(bool)
        viewed = world.stats.views > 0
        x, y = crowd_features(world), world.videos.quality.astype(np.float64)
        coefficients = np.zeros((2, x.shape[1]))
        for group in (0, 1):
            rows = keep & (viewed == bool(group))
            if rows.any():  # a world may have no never-viewed video
                coefficients[group] = np.linalg.lstsq(x[rows], y[rows], rcond=None)[0]
        fit = CrowdFit(coefficients, 0.0)
        ids = np.flatnonzero(keep)
        residual = y[ids] - fit.predict(world, ids)
        fit = _CROWD[world] = CrowdFit(coefficients, float(np.mean(residual**2)))
    return fit


# -- one reaction's likelihood -----------------------------------------------------------------


@dataclass(frozen=True)
class Observation:
    """What the viewer did with one video, as recorded."""

    video_id: int
    completed: bool
    watched_s: float
    liked: bool
    dismissed: bool
    repeats: int  # impressions of the video's topic among the session's last SATIATION_WINDOW


def reaction_terms(
    behaviour: Behaviour,
    appeal: F64,
    duration_s: float,
    seen: Observation,
    like_propensity: F64 | float = 1.0,
) -> tuple[F64, F64]:
    """P(what was recorded | the moment's appeal, patience) up to a factor that depends on
    neither, as two terms shaped like ``appeal``: ``hooked + unhooked x glance(patience)``
    (:func:`glance_chance`).

    Following :meth:`engine.sim.persona.Persona.react`: the hooked part (hooked, then finished
    and looped, finished, or left part-way, with a like or not) plus the unhooked part (a
    glance, whose length depends on patience only, or "not interested").
    """
    b, d, w = behaviour, duration_s, seen.watched_s
    hooked = sigmoid(appeal)
    shunned = b.not_interested_rate * sigmoid(-appeal - b.negative_threshold)
    if seen.dismissed:
        return np.zeros_like(appeal), (1.0 - hooked) * shunned
    finish = finish_probability(b, appeal, np.full_like(appeal, d))
    loops = b.rewatch_rate * hooked
    if seen.completed and w > d + LOOP_MARGIN_S:
        liking = _liking(b, appeal, like_propensity, seen.liked)
        return hooked * finish * loops * liking, np.zeros_like(appeal)
    if seen.completed:
        liking = _liking(b, appeal, b.like_complete * like_propensity, seen.liked)
        part = hooked * finish * (1.0 - loops) * liking
    else:
        scale = partial_like_scale(b, w, d) * like_propensity
        liking = _liking(b, appeal, scale, seen.liked)
        part = hooked * (1.0 - finish) * _partial(b, d, w) * liking
    unhooked = np.zeros_like(appeal) if seen.liked else (1.0 - hooked) * (1.0 - shunned)
    return part, unhooked


def glance_chance(duration_s: float, seen: Observation, patience_s: F64) -> F64:
    """Chance that an unhooked glance (0.3 s + an exponential of mean ``patience_s``) lasted
    what was recorded: to the hundredth, or the whole video when it completed."""
    if seen.dismissed:
        return np.ones_like(patience_s)  # the unhooked term already holds "not interested"
    if seen.completed:
        result: F64 = np.exp(-max(duration_s - GLANCE_MIN_S, 0.0) / patience_s)
        return result
    if seen.watched_s + RESOLUTION_S / 2 < GLANCE_MIN_S:
        return np.zeros_like(patience_s)
    over = max(seen.watched_s - GLANCE_MIN_S, 0.0)
    result = RESOLUTION_S / patience_s * np.exp(-over / patience_s)
    return result


def _liking(b: Behaviour, appeal: F64, scale: F64 | float, liked: bool) -> F64:
    """Chance of the like (or of no like) a hooked viewer gave (``scale``: how the viewing
    went, times the viewer's propensity)."""
    chance = np.minimum(b.like_rate * scale * sigmoid(appeal - b.like_threshold), 1.0)
    result: F64 = chance if liked else 1.0 - chance
    return result


def _partial(b: Behaviour, duration_s: float, watched_s: float) -> float:
    """Chance that a hooked viewer leaving part-way recorded ``watched_s`` (to the hundredth):
    min(PARTIAL_CAP x duration, partial_min + partial_mean x Exp(1))."""
    cap = PARTIAL_CAP * duration_s
    if abs(watched_s - round(cap, 2)) < RESOLUTION_S:
        return (
            1.0 if cap <= b.partial_min_s else math.exp(-(cap - b.partial_min_s) / b.partial_mean_s)
        )
    if watched_s + RESOLUTION_S / 2 < b.partial_min_s or watched_s > cap:
        return 0.0
    over = max(watched_s - b.partial_min_s, 0.0)
    return RESOLUTION_S / b.partial_mean_s * math.exp(-over / b.partial_mean_s)


# -- the posterior -----------------------------------------------------------------------------


@dataclass
class Belief:
    """One viewer's evidence: log-likelihood of its reactions per topic, class, effect node,
    satiation node and patience node (``[T, 4, EFFECT, SATIATION, PATIENCE]``)."""

    tables: ModelTables
    behaviour: Behaviour
    log_likelihood: F64
    log_prior: F64  # [T, 4]: the world's class priors, onboarding folded in

    @classmethod
    def fresh(cls, tables: ModelTables, behaviour: Behaviour, named: Sequence[int] = ()) -> Belief:
        """A viewer's belief before any reaction; ``named``: the topics it named at sign-up,
        which the generator draws from its loved ones only (so they are loved for sure)."""
        n_topics = len(tables.log_prior)
        shape = (n_topics, len(CLASSES), EFFECT_NODES, SATIATION_NODES, PATIENCE_NODES)
        log_prior = tables.log_prior.copy()
        named = [t for t in named if 0 <= t < n_topics]
        log_prior[named] = np.log(TINY)
        log_prior[named, LOVED] = 0.0
        return cls(tables, behaviour, np.zeros(shape), log_prior)

    def update(self, topic: int, known_appeal: float, duration_s: float, seen: Observation) -> None:
        """Fold one reaction to a video of ``topic`` in (``known_appeal``: the video's terms
        the feed can see: base, quality, followed creator, language, sensitive)."""
        tables, behaviour = self.tables, self.behaviour
        mean = tables.effect_mean[topic][:, None] + tables.effect_sd[topic][:, None] * _EFFECT_Z
        mean = mean[:, :, None] + known_appeal - SATIATION * seen.repeats  # [C, M, S]
        moment = tables.moment_sd[topic][:, None, None, None] * _MOMENT_Z  # [C, 1, 1, K]
        appeal = mean[..., None] + moment  # [C, M, S, K]
        hooked, unhooked = reaction_terms(behaviour, appeal, duration_s, seen)
        glance = glance_chance(duration_s, seen, PATIENCE_S)
        marginal = (hooked @ _MOMENT_W)[..., None] + (unhooked @ _MOMENT_W)[..., None] * glance
        self.log_likelihood[topic] += np.log(np.maximum(marginal, TINY))

    def loved(self) -> F64:
        """P(each topic is loved) given every reaction so far."""
        per_node, weight = self.loved_by_node()
        result: F64 = np.einsum("tsp,sp->t", per_node, weight)
        return result

    def loved_by_node(self) -> tuple[F64, F64]:
        """P(loved) per topic and persona-wide node ``[T, S, P]``, and each node's posterior."""
        by_class, weight = self.classes_by_node()
        return by_class[:, LOVED], weight

    def classes(self) -> F64:
        """P(each class) of each topic, ``[T, 4]``."""
        by_class, weight = self.classes_by_node()
        result: F64 = np.einsum("tcsp,sp->tc", by_class, weight)
        return result

    def classes_by_node(self) -> tuple[F64, F64]:
        """P(class) per topic and persona-wide node ``[T, 4, S, P]``, and each node's
        posterior ``[S, P]``."""
        log_effect = np.log(_EFFECT_W)[None, None, :, None, None]
        log_class = _logsumexp(self.log_likelihood + log_effect, axis=2)  # [T, C, S, P]
        log_class += self.log_prior[:, :, None, None]
        log_topic = _logsumexp(log_class, axis=1)  # [T, S, P]
        by_class = np.exp(log_class - log_topic[:, None])
        log_node = _LOG_GLOBAL + log_topic.sum(axis=0)
        weight = np.exp(log_node - log_node.max())
        return by_class, weight / weight.sum()

    def cells(self) -> F64:
        """The posterior over every unknown the likelihood carries, per topic:
        ``[T, 4, EFFECT, SATIATION, PATIENCE]``, each topic's cells summing to 1 (the class and
        effect node given the persona-wide node, times that node's posterior)."""
        log_effect = np.log(_EFFECT_W)[None, None, :, None, None]
        log_joint = self.log_likelihood + log_effect + self.log_prior[:, :, None, None, None]
        log_topic = _logsumexp(_logsumexp(log_joint, axis=1), axis=1)  # [T, S, P]
        log_node = _LOG_GLOBAL + log_topic.sum(axis=0)
        weight = np.exp(log_node - log_node.max())
        weight /= weight.sum()
        result: F64 = np.exp(log_joint - log_topic[:, None, None]) * weight
        return result

    def draw_topic(self, rng: np.random.Generator, available: I64) -> tuple[int, F64]:
        """Thompson sampling on "loved": draw the persona-wide unknowns and each available
        topic's loved-or-not from the posterior, and serve a topic drawn loved (uniformly
        among them; the likeliest under the draw if none is); with the estimated chance of
        serving each available topic (Monte Carlo over :data:`MC_DRAWS` more draws, this one
        counted)."""
        per_node, weight = self.loved_by_node()
        by_node = per_node.reshape(len(per_node), -1)[available]
        flat = weight.ravel()
        picks = [_thompson(rng, by_node, flat, available) for _ in range(MC_DRAWS + 1)]
        return picks[0], _chances(picks, available)


def _logsumexp(x: F64, axis: int) -> F64:
    top = np.max(x, axis=axis, keepdims=True)
    result: F64 = np.squeeze(top, axis=axis) + np.log(np.exp(x - top).sum(axis=axis))
    return result


# -- the joint posterior: whole personas as particles ------------------------------------------


@dataclass(frozen=True, eq=False)
class Particles:
    """:data:`JOINT_PERSONAS` whole tastes drawn from the generator for one world: the exact
    joint prior (1-3 loved topics, liked ones near them, the taste vector they imply).

    Attributes:
        loved: ``[N, T]`` 1 where the particle loves the topic.
        effect: ``[N, T]`` its mean appeal from the topic's videos beyond their known terms
            (topic taste + similarity to the topic's mean video + favourites' expected bonus).
        moment_var: ``[N, T]`` variance of one impression around it (the video's own
            deviation, the session's mood, the moment's noise).
        patience_s, satiation, like: ``[N]`` the persona-wide traits the likelihood reads.
    """

    loved: npt.NDArray[np.float32]
    effect: F64
    moment_var: F64
    patience_s: F64
    satiation: F64
    like: F64


_PARTICLES: weakref.WeakKeyDictionary[World, Particles] = weakref.WeakKeyDictionary()


def particles(world: World, behaviour: Behaviour | None = None) -> Particles:
    """The world's particles (drawn on first use, then cached per world; several seconds)."""
    drawn = _PARTICLES.get(world)
    if drawn is None:
        drawn = _PARTICLES[world] = draw_particles(world, behaviour or Behaviour())
    return drawn


def draw_particles(world: World, behaviour: Behaviour, n: int | None = None) -> Particles:
    """Draw ``n`` tastes (default :data:`JOINT_PERSONAS`) and what the likelihood needs of each.

    The similarity of a taste vector ``u`` to a topic's videos has mean ``u . mean`` and
    variance ``u' cov u`` over the topic's videos, so no video is visited per particle.
    """
    n = n or JOINT_PERSONAS
    b, v = behaviour, world.videos
    n_topics = len(world.topics)
    rng = np.random.default_rng(PRIOR_SEED + 1)
    usable = ~v.spam.astype(bool)
    topic = v.topic_id[usable].astype(np.int64)
    embedding = v.embedding[usable].astype(np.float64)
    mean = np.stack([embedding[topic == t].mean(axis=0) for t in range(n_topics)])
    cov = np.stack([np.cov(embedding[topic == t], rowvar=False) for t in range(n_topics)])
    creators = _share_by_topic(topic, v.creator_id[usable], n_topics, len(world.creators))
    sounds = _share_by_topic(topic, v.sound_id[usable], n_topics, len(world.sounds))
    loved = np.zeros((n, n_topics), dtype=np.float32)
    taste_topic, vector = np.empty((n, n_topics)), np.empty((n, mean.shape[1]))
    favourite, sound = np.empty((n, n_topics)), np.empty((n, n_topics))
    traits = np.empty((n, 4))
    for k in range(n):
        taste = draw_taste(world, rng)
        loved[k, taste.loved] = 1.0
        taste_topic[k], vector[k] = taste.topic, taste.vector
        favourite[k] = creators[:, taste.creators].sum(axis=1)
        sound[k] = sounds[:, taste.sounds].sum(axis=1)
        traits[k] = (taste.patience_s, taste.satiation, taste.like, taste.mood_sd**2)
    similarity_var = np.einsum("nd,tde,ne->nt", vector, cov, vector)
    effect = b.topic_weight * taste_topic + b.taste_weight * vector @ mean.T
    effect += b.creator_bonus * favourite + b.sound_bonus * sound
    spread = b.taste_weight**2 * similarity_var
    spread += b.creator_bonus**2 * favourite * (1 - favourite)
    spread += b.sound_bonus**2 * sound * (1 - sound)
    return Particles(
        loved=loved,
        effect=effect,
        moment_var=spread + traits[:, 3:4] + b.noise_sd**2,
        patience_s=traits[:, 0].copy(),
        satiation=traits[:, 1].copy(),
        like=traits[:, 2].copy(),
    )


def _share_by_topic(topic: I64, other: npt.NDArray[np.integer], n_topics: int, n_other: int) -> F64:
    """``[T, n_other]``: the share of each topic's videos that each creator (or sound) made."""
    counts = np.bincount(topic * n_other + other.astype(np.int64), minlength=n_topics * n_other)
    table = counts.reshape(n_topics, n_other).astype(np.float64)
    result: F64 = table / np.maximum(table.sum(axis=1, keepdims=True), 1.0)
    return result


@dataclass
class JointBelief:
    """One viewer's posterior as log-weights of the world's particles (importance sampling
    from the exact joint prior): every reaction reweighs every particle by its likelihood."""

    particles: Particles
    behaviour: Behaviour
    log_weight: F64
    named: list[int]

    @classmethod
    def fresh(
        cls, drawn: Particles, behaviour: Behaviour, named: Sequence[int] = ()
    ) -> JointBelief:
        """Before any reaction: the prior, and the topics named at sign-up (loved for sure)."""
        n, n_topics = drawn.loved.shape
        named = [t for t in named if 0 <= t < n_topics]
        log_weight = np.zeros(n)
        if named:
            holds = drawn.loved[:, named].all(axis=1)
            if holds.any():  # else too few particles: named topics are set loved in loved()
                log_weight[~holds] = -np.inf
        return cls(drawn, behaviour, log_weight, named)

    def update(self, topic: int, known_appeal: float, duration_s: float, seen: Observation) -> None:
        """Reweigh every particle by its likelihood of one reaction to a video of ``topic``."""
        p, b = self.particles, self.behaviour
        mean = p.effect[:, topic] + known_appeal - p.satiation * seen.repeats
        appeal = mean[:, None] + np.sqrt(p.moment_var[:, topic])[:, None] * _MOMENT_Z
        hooked, unhooked = reaction_terms(b, appeal, duration_s, seen, p.like[:, None])
        glance = glance_chance(duration_s, seen, p.patience_s)
        likelihood = hooked @ _MOMENT_W + (unhooked @ _MOMENT_W) * glance
        self.log_weight += np.log(np.maximum(likelihood, TINY))

    def weights(self) -> F64:
        w = np.exp(self.log_weight - self.log_weight.max())
        result: F64 = w / w.sum()
        return result

    def effective_size(self) -> float:
        """Kish's effective number of particles behind the posterior."""
        w = self.weights()
        return float(1.0 / np.sum(w**2))

    def loved(self) -> F64:
        """P(each topic is loved) given every reaction so far."""
        result: F64 = self.weights() @ self.particles.loved.astype(np.float64)
        result[self.named] = 1.0
        return result

    def draw_topic(self, rng: np.random.Generator, available: I64) -> tuple[int, F64]:
        """Thompson sampling: draw a whole persona from the posterior and serve one of its
        loved topics (uniformly; the likeliest loved if it loves none available); with the
        estimated chance of serving each available topic (:data:`MC_DRAWS` more draws, this
        one counted)."""
        cumulative = np.cumsum(self.weights())
        drawn = np.searchsorted(cumulative, rng.random(MC_DRAWS + 1) * cumulative[-1])
        drawn = np.minimum(drawn, len(cumulative) - 1)
        fallback = int(available[np.argmax(self.loved()[available])])
        picks = [self._one(rng, int(k), available, fallback) for k in drawn]
        return picks[0], _chances(picks, available)

    def _one(self, rng: np.random.Generator, particle: int, available: I64, fallback: int) -> int:
        loves = available[self.particles.loved[particle, available] > 0]
        return int(loves[rng.integers(len(loves))]) if len(loves) else fallback


# -- the policy --------------------------------------------------------------------------------


@dataclass
class _Viewer:
    """One viewer's belief, its session's recent topics and what it did not yet fold in."""

    belief: Belief | JointBelief
    recent: deque[int] = field(default_factory=lambda: deque(maxlen=SATIATION_WINDOW))
    repeats: dict[int, int] = field(default_factory=dict)  # video -> repeats when served
    # the topics of the session's last closed impressions, from the events (what was watched,
    # whoever served it)
    closed: deque[int] = field(default_factory=lambda: deque(maxlen=SATIATION_WINDOW))
    pending: list[Event] = field(default_factory=list)
    session: int | None = None


class CeilingPolicy(PolicyBase):
    """Learns each viewer's loved topics from its reactions alone, knowing the simulator's
    model (see the module docstring).

    Args:
        explore: picks of a viewer's life spent exploring by Thompson sampling before serving
            the likeliest loved topic (default 0: greedy throughout).
        video: ``"typical"`` (uniform in the topic), ``"popular"`` (most expected seconds
            completed per view in the topic) or ``"informative"`` (the reaction that would say
            most about the topic; with ``prior = "independent"`` only, else typical).
        prior: ``"independent"`` (per-topic classes, exact per topic) or ``"joint"``
            (importance weights over whole tastes drawn from the generator).
        objective: ``"loved"`` (serve the likeliest loved topic, then ``video``) or
            ``"watch"`` (serve the allowed video with the most expected seconds watched under
            the posterior, :func:`expected_watch`; ``explore`` and ``video`` then do nothing;
            with ``prior = "independent"`` only).
        quality: ``"known"`` (reads each video's hidden quality, as if the crowd had taught
            it), ``"prior"`` (only the population's spread of quality, counted in each
            video's own deviation) or ``"crowd"`` (its mean given the video's public counts,
            :func:`crowd_fit`, what they leave unknown counted in its own deviation); the
            last two with ``prior = "independent"`` only.

    Raises:
        ValueError: an unknown ``video``, ``prior``, ``objective`` or ``quality``, or
            ``objective = "watch"`` or ``quality`` other than ``"known"`` with the joint
            prior.
    """

    name = "ceiling"

    def __init__(
        self,
        explore: int = EXPLORE_PICKS,
        video: str = "typical",
        prior: str = "independent",
        objective: str = "loved",
        quality: str = "known",
    ) -> None:
        if video not in ("typical", "popular", "informative"):
            raise ValueError(f"video must be typical, popular or informative, got {video!r}")
        if prior not in ("independent", "joint"):
            raise ValueError(f"prior must be 'independent' or 'joint', got {prior!r}")
        if objective not in ("loved", "watch"):
            raise ValueError(f"objective must be 'loved' or 'watch', got {objective!r}")
        if objective == "watch" and prior != "independent":
            raise ValueError("objective 'watch' needs prior 'independent'")
        if quality not in ("known", "prior", "crowd"):
            raise ValueError(f"quality must be 'known', 'prior' or 'crowd', got {quality!r}")
        if quality != "known" and prior != "independent":
            raise ValueError(f"quality {quality!r} needs prior 'independent'")
        self.explore = int(explore)
        self.video = video
        self.prior = prior
        self.objective = objective
        self.quality = quality
        self._blind: weakref.WeakKeyDictionary[World, ModelTables] = weakref.WeakKeyDictionary()
        self.behaviour = Behaviour()
        self._viewers: dict[int, _Viewer] = {}
        self._candidate_ids: weakref.WeakKeyDictionary[World, dict[int, I64]] = (
            weakref.WeakKeyDictionary()
        )
        self._queued: dict[int, list[Event]] = {}

    def observe(self, event: Event) -> None:
        if event.video_id is not None and event.kind in (*CLOSING, "like", "not_interested"):
            self._queued.setdefault(event.user_id, []).append(event)

    def belief(self, user_id: int) -> Belief | JointBelief | None:
        """The viewer's belief as of its last pick (None before its first)."""
        viewer = self._viewers.get(user_id)
        return None if viewer is None else viewer.belief

    def pick(self, request: PickRequest) -> Decision:
        """Serve a topic (explored or the likeliest loved) and a video in it.

        Raises:
            NothingToRecommendError: the engine's filters leave nothing.
        """
        ids, removed = request.allowed()
        if len(ids) == 0:
            raise NothingToRecommendError(
                f"nothing left to recommend to {request.state.name}", request.viewer_id
            )
        world = request.catalog.world
        tables = self._tables(world)
        viewer = self._fold(request, tables)
        topic_of = world.videos.topic_id[ids].astype(np.int64)
        if self.objective == "watch" and isinstance(viewer.belief, Belief):
            return self._pick_watch(request, tables, viewer, viewer.belief, ids, removed)
        available = np.unique(topic_of)
        loved = viewer.belief.loved()
        if request.position < self.explore:
            topic, chances = viewer.belief.draw_topic(request.rng, available)
        else:
            topic = int(available[np.argmax(loved[available])])
            chances = (available == topic).astype(np.float64)
        slate_ids, slate_p = self._slate(request, viewer.belief, ids, topic_of, available, chances)
        in_topic = np.flatnonzero(topic_of[np.searchsorted(ids, slate_ids)] == topic)
        video = int(slate_ids[in_topic[request.rng.integers(len(in_topic))]])
        self._served(viewer, request, video, topic)
        value = float(loved[topic])
        shown = np.r_[np.flatnonzero(slate_ids == video), np.argsort(-slate_p, kind="stable")]
        shown = shown[np.r_[True, slate_ids[shown[1:]] != video]][:SLATE_SHOWN]
        shown_values = loved[topic_of[np.searchsorted(ids, slate_ids[shown])]]
        return self._decision(
            request,
            (video, value, float(slate_p[shown[0]])),
            (slate_ids[shown], shown_values, slate_p[shown]),
            (slate_ids, slate_p),
            removed,
            len(ids),
            "P(loved topic)",
        )

    def _pick_watch(
        self,
        request: PickRequest,
        tables: ModelTables,
        viewer: _Viewer,
        belief: Belief,
        ids: I64,
        removed: dict[str, int],
    ) -> Decision:
        """Serve the allowed video with the most expected seconds watched under the posterior.

        The search: the allowed videos among the language's candidates (:meth:`_candidates`),
        the followed creators' and, for a topic with fewer than :data:`SHORTLIST` candidates
        left, all of its own; their rough value (:func:`rough_watch`) shortlists
        :data:`SHORTLIST` per topic, whose exact value (:func:`expected_watch`) decides.
        Deterministic."""
        v = request.catalog.world.videos
        n_topics = len(tables.effect_mean)
        topic_all = v.topic_id[ids].astype(np.int64)
        search = np.isin(ids, self._candidates(request, tables), assume_unique=True)
        if len(request.state.follows.array()):
            search |= request.state.follows.mask(v.creator_id[ids])
        left = np.bincount(topic_all[search], minlength=n_topics)
        search |= left[topic_all] < SHORTLIST
        ids = ids[search]
        topic = topic_all[search]
        known = self._known_appeal(request, tables, ids)
        duration = v.duration_s[ids].astype(np.float64)
        repeats = self._repeats(viewer, request, n_topics)
        short, value = search_watch(belief, topic, known, duration, repeats)
        order = np.argsort(-value, kind="stable")[:SLATE_SHOWN]
        video = int(ids[short[order[0]]])
        self._served(viewer, request, video, int(topic[short[order[0]]]))
        probabilities = np.zeros(len(order))
        probabilities[0] = 1.0
        shown = (ids[short[order]], value[order], probabilities)
        return self._decision(
            request,
            (video, float(value[order[0]]), 1.0),
            shown,
            (shown[0], probabilities),
            removed,
            len(ids),
            "expected watch (s)",
        )

    def _decision(
        self,
        request: PickRequest,
        pick: tuple[int, float, float],
        shown: tuple[I64, F64, F64],
        slate: tuple[I64, F64],
        removed: dict[str, int],
        kept: int,
        term: str,
    ) -> Decision:
        """The pick (video, score, propensity) with its receipt of the ``shown`` slate items
        (ids, their value under ``term``, their chance) and the whole ``slate`` (ids, chances)."""
        video, score, propensity = pick
        receipt = plain_receipt(
            request,
            *shown,
            removed=removed,
            kept=kept,
            policy=self.name,
            pool_state=None,
            term=term,
        )
        return Decision(
            video_id=video,
            source=self.name,
            score=score,
            rank=0,
            propensity=propensity,
            receipt=receipt,
            slate_ids=slate[0],
            slate_probabilities=slate[1],
        )

    def _candidates(self, request: PickRequest, tables: ModelTables) -> I64:
        """The videos worth searching for a viewer of this language (sorted ids; computed
        once per language): per topic, the :data:`CANDIDATES` best by :func:`rough_watch` at
        each point of a grid of the topic's appeal for a viewer (:data:`CANDIDATE_OFFSETS`,
        :data:`CANDIDATE_SPREADS`), before follows (the search adds followed creators)."""
        language = int(request.state.language)
        world = request.catalog.world
        cache = self._candidate_ids.setdefault(world, {})
        found = cache.get(language)
        if found is not None:
            return found
        v = world.videos
        ids = np.flatnonzero(~v.spam.astype(bool)).astype(np.int64)
        b = self.behaviour
        known = static_appeal(world, b, tables, ids, language, self.quality)
        topic = v.topic_id[ids].astype(np.int64)
        duration = v.duration_s[ids].astype(np.float64)
        glance = expected_capped_stretch_s(duration, GLANCE_MIN_S, math.exp(PATIENCE_LOG_MEDIAN))
        keep = np.zeros(len(ids), dtype=bool)
        for spread in CANDIDATE_SPREADS:
            for offset in CANDIDATE_OFFSETS:
                appeal = (known + offset)[:, None] + spread * _WATCH_Z
                fixed, glancing = watch_terms(b, appeal, duration[:, None])
                value = fixed @ _WATCH_W + (glancing @ _WATCH_W) * glance
                keep[shortlist(topic, value, CANDIDATES)] = True
        found = cache[language] = ids[keep]
        return found

    def _repeats(self, viewer: _Viewer, request: PickRequest, n_topics: int) -> F64:
        """Each topic's impressions among the session's recent closed ones (none in a new
        session: the engine opens one at its first impression)."""
        session = request.state.session_id
        if session is None or (viewer.session is not None and session != viewer.session):
            viewer.closed.clear()
        recent = np.array(viewer.closed, dtype=np.int64)
        result: F64 = np.bincount(recent, minlength=n_topics).astype(np.float64)
        return result

    def _slate(
        self,
        request: PickRequest,
        belief: Belief | JointBelief,
        ids: I64,
        topic_of: I64,
        available: I64,
        chances: F64,
    ) -> tuple[I64, F64]:
        """Every video the pick could serve, ascending, and its chance: a topic's chance
        shared among the videos it would choose from."""
        parts, shares = [], []
        for topic, chance in zip(available.tolist(), chances.tolist(), strict=True):
            if chance > 0:
                pool = self._pool(request, ids[topic_of == topic], belief)
                parts.append(pool)
                shares.append(np.full(len(pool), chance / len(pool)))
        slate_ids, slate_p = np.concatenate(parts), np.concatenate(shares)
        order = np.argsort(slate_ids)
        return slate_ids[order], slate_p[order]

    # -- learning --------------------------------------------------------------------------

    def _fold(self, request: PickRequest, tables: ModelTables) -> _Viewer:
        """The viewer, with every reaction queued since its last pick folded into its belief."""
        user = request.viewer_id
        viewer = self._viewers.get(user)
        if viewer is None:
            belief = self._fresh(request.catalog.world, request.state.interests)
            viewer = self._viewers[user] = _Viewer(belief)
        viewer.pending += self._queued.pop(user, [])
        liked: set[int] = set()
        dismissed: set[int] = set()
        for event in viewer.pending:
            video = int(event.video_id or 0)
            if event.kind == "like":
                liked.add(video)
            elif event.kind == "not_interested":
                dismissed.add(video)
            else:
                viewer.closed.append(int(request.catalog.world.videos.topic_id[video]))
                seen = Observation(
                    video_id=video,
                    completed=event.kind == "complete",
                    watched_s=float(event.watched_s or 0.0),
                    liked=video in liked,
                    dismissed=video in dismissed,
                    repeats=viewer.repeats.pop(video, 0),
                )
                self._learn(request, tables, viewer, seen)
        viewer.pending = []
        return viewer

    def _fresh(self, world: World, named: Sequence[int]) -> Belief | JointBelief:
        if self.prior == "joint":
            return JointBelief.fresh(particles(world, self.behaviour), self.behaviour, named)
        return Belief.fresh(self._tables(world), self.behaviour, named)

    def _learn(
        self, request: PickRequest, tables: ModelTables, viewer: _Viewer, seen: Observation
    ) -> None:
        v = request.catalog.world.videos
        topic = int(v.topic_id[seen.video_id])
        known = self._known_appeal(request, tables, np.array([seen.video_id]))[0]
        duration = float(v.duration_s[seen.video_id])
        viewer.belief.update(topic, float(known), duration, seen)

    def _known_appeal(self, request: PickRequest, tables: ModelTables, ids: I64) -> F64:
        """The appeal terms it counts on (:func:`static_appeal`) and a followed creator."""
        world, state = request.catalog.world, request.state
        appeal = static_appeal(world, self.behaviour, tables, ids, state.language, self.quality)
        appeal += self.behaviour.followed_bonus * state.follows.mask(world.videos.creator_id[ids])
        return appeal

    def _tables(self, world: World) -> ModelTables:
        """The world's tables; with ``quality = "prior"``, each video's hidden quality counted
        in its own deviation (:func:`without_quality`); with ``"crowd"``, what its public
        counts leave unknown of it (:func:`crowd_fit`)."""
        tables = model_tables(world, self.behaviour)
        if self.quality == "known":
            return tables
        blind = self._blind.get(world)
        if blind is None:
            unknown = crowd_fit(world).residual_variance if self.quality == "crowd" else None
            blind = without_quality(tables, world, self.behaviour, unknown)
            self._blind[world] = blind
        return blind

    def _served(self, viewer: _Viewer, request: PickRequest, video: int, topic: int) -> None:
        """Note what this impression's reaction will be read against: the session's repeats."""
        session = request.state.session_id
        if session is None or (viewer.session is not None and session != viewer.session):
            viewer.recent.clear()  # the engine opens a session at its first impression
        viewer.session = session
        viewer.repeats[video] = viewer.recent.count(topic)
        viewer.recent.append(topic)

    # -- choosing --------------------------------------------------------------------------

    def _pool(self, request: PickRequest, ids: I64, belief: Belief | JointBelief) -> I64:
        """The videos of a topic it chooses among: its allowed videos in the viewer's language
        (any language when there are none), or the one of them with the most expected seconds
        completed per view (``video = "popular"``)."""
        v = request.catalog.world.videos
        own = ids[v.language[ids] == request.state.language]
        pool = own if len(own) else ids
        if self.video == "informative" and isinstance(belief, Belief):
            topic = int(v.topic_id[pool[0]])
            known = self._known_appeal(request, self._tables(request.catalog.world), pool)
            gain = information(belief, topic, known, v.duration_s[pool].astype(np.float64))
            return pool[[int(np.argmax(gain))]]
        if self.video == "popular":
            prior = request.config.scoring.prior_views
            rate = request.catalog.engagement.rate("completions", pool, prior)
            return pool[[int(np.argmax(rate * v.duration_s[pool].astype(np.float64)))]]
        return pool


def _thompson(rng: np.random.Generator, loved: F64, weight: F64, available: I64) -> int:
    """A topic drawn loved from the posterior (uniform among them), else the likeliest.

    Args:
        loved: P(loved) of each available topic per persona-wide node, ``[topics, nodes]``.
        weight: each node's posterior weight.
    """
    node = int(rng.choice(len(weight), p=weight))
    drawn = available[rng.random(len(available)) < loved[:, node]]
    if len(drawn):
        return int(drawn[rng.integers(len(drawn))])
    return int(available[np.argmax(loved[:, node])])


def _chances(picks: list[int], available: I64) -> F64:
    """The share of the draws that picked each available topic."""
    index = np.searchsorted(available, np.array(picks))
    result: F64 = np.bincount(index, minlength=len(available)) / len(picks)
    return result


def information(belief: Belief, topic: int, known_appeal: F64, duration_s: F64) -> F64:
    """Expected information (nats) each video of ``topic`` would give on "is the topic
    loved": the mutual information between that and the reaction's kind (a glance, left
    part-way, finished, looped), under the topic's current class posterior; each class's
    appeal spread (persona and moment) taken as one normal."""
    tables, b = belief.tables, belief.behaviour
    posterior = belief.classes()[topic]
    spread = np.sqrt(tables.effect_sd[topic] ** 2 + tables.moment_sd[topic] ** 2)  # [C]
    appeal = tables.effect_mean[topic][:, None, None] + known_appeal[None, :, None]
    appeal = appeal + spread[:, None, None] * _MOMENT_Z  # [C, V, K]
    hooked = sigmoid(appeal)
    finish = finish_probability(b, appeal, np.broadcast_to(duration_s[None, :, None], appeal.shape))
    loops = b.rewatch_rate * hooked
    kinds = (
        np.stack(
            [
                1.0 - hooked,
                hooked * (1.0 - finish),
                hooked * finish * (1.0 - loops),
                hooked * finish * loops,
            ]
        )
        @ _MOMENT_W
    )  # [4 kinds, C, V]
    loved = posterior[LOVED]
    rest = np.delete(posterior, LOVED)
    if loved <= 0.0 or rest.sum() <= 0.0:
        return np.zeros(len(known_appeal))
    given_loved = kinds[:, LOVED]
    given_not = np.einsum("kcv,c->kv", np.delete(kinds, LOVED, axis=1), rest / rest.sum())
    overall = loved * given_loved + (1.0 - loved) * given_not
    result: F64 = (
        loved * given_loved * np.log(given_loved / overall)
        + (1.0 - loved) * given_not * np.log(given_not / overall)
    ).sum(axis=0)
    return result


# -- expected watch ----------------------------------------------------------------------------


def watch_terms(behaviour: Behaviour, appeal: F64, duration_s: F64) -> tuple[F64, F64]:
    """Expected seconds watched at one moment's appeal (noise included), split by patience:
    ``E[watched | appeal, patience] = fixed + glancing x E[glance | patience]``.

    The draws of :meth:`engine.sim.persona.Persona.react`, as
    :func:`engine.sim.watch.expected_watch_s` writes them before it integrates the noise out:
    a hooked viewer finishes (and may loop) or leaves part-way; an unhooked one glances or,
    rarely, watches a few seconds and says "not interested". ``fixed`` is all of that but the
    glance, ``glancing`` the chance of a glance. ``appeal`` and ``duration_s`` broadcast.
    """
    b = behaviour
    duration = np.asarray(duration_s, dtype=np.float64)
    partial = expected_capped_stretch_s(PARTIAL_CAP * duration, b.partial_min_s, b.partial_mean_s)
    dismissing = expected_capped_lognormal_s(
        duration, b.not_interested_median_s, b.not_interested_sigma
    )
    hooked = sigmoid(appeal)
    finish = finish_probability(b, appeal, duration)
    rewatch_s = b.rewatch_rate * rewatch_mean_share(b) * duration
    shunned = b.not_interested_rate * sigmoid(-appeal - b.negative_threshold)
    if_hooked = partial + finish * (duration - partial + hooked * rewatch_s)
    fixed: F64 = hooked * if_hooked + (1.0 - hooked) * shunned * dismissing
    glancing: F64 = (1.0 - hooked) * (1.0 - shunned)
    return fixed, glancing


def expected_watch(
    belief: Belief,
    topic: I64,
    known_appeal: F64,
    duration_s: F64,
    repeats: F64,
    cells: F64 | None = None,
) -> F64:
    """Expected seconds each video would be watched now, under the viewer's posterior.

    :func:`watch_terms` integrated over every cell the posterior carries (the topic's class
    and the persona's mean effect of it, satiation, patience: :meth:`Belief.cells`) and over
    the moment (the video's own deviation, mood and noise: :data:`WATCH_NODES` nodes of the
    topic and class's ``moment_sd``), exactly as the likelihood reads a reaction.

    Args:
        topic: each video's topic.
        known_appeal: each video's appeal terms a feed can see (base, quality, followed,
            language, sensitive).
        duration_s: each video's length.
        repeats: each topic's impressions among the session's recent ones, ``[T]``.
        cells: :meth:`Belief.cells`, when the caller already has it.
    """
    tables = belief.tables
    weight = (belief.cells() if cells is None else cells)[topic]  # [V, C, M, S, P]
    mean = tables.effect_mean[topic][..., None] + tables.effect_sd[topic][..., None] * _EFFECT_Z
    offset = known_appeal[:, None, None, None] - SATIATION * repeats[topic][:, None, None, None]
    spread = tables.moment_sd[topic][:, :, None, None, None] * _WATCH_Z
    appeal = (mean[..., None] + offset)[..., None] + spread  # [V, C, M, S, K]
    fixed, glancing = watch_terms(belief.behaviour, appeal, duration_s[:, None, None, None, None])
    glance = expected_capped_stretch_s(duration_s[:, None], GLANCE_MIN_S, PATIENCE_S)  # [V, P]
    result: F64 = np.einsum("vcmsp,vcms->v", weight, fixed @ _WATCH_W)
    result += np.einsum("vcmsp,vcms,vp->v", weight, glancing @ _WATCH_W, glance)
    return result


def rough_watch(
    belief: Belief,
    topic: I64,
    known_appeal: F64,
    duration_s: F64,
    repeats: F64,
    cells: F64 | None = None,
) -> F64:
    """:func:`expected_watch` with each topic's posterior of the appeal beyond the known
    terms taken as one normal (its mean and variance) and patience at its posterior mean:
    cheap enough for every allowed video, close enough to shortlist within a topic."""
    cells = belief.cells() if cells is None else cells
    tables = belief.tables
    by_effect = cells.sum(axis=4)  # [T, C, M, S]
    mean = tables.effect_mean[..., None] + tables.effect_sd[..., None] * _EFFECT_Z  # [T, C, M]
    x = mean[..., None] - SATIATION * repeats[:, None, None, None]  # [T, C, M, S]
    first = np.einsum("tcms,tcms->t", by_effect, x)
    second = np.einsum("tcms,tcms->t", by_effect, x**2 + (tables.moment_sd**2)[..., None, None])
    sd = np.sqrt(np.maximum(second - first**2, 0.0))
    patience = float(np.einsum("cmsp,p->", cells[0], PATIENCE_S))
    appeal = (first[topic] + known_appeal)[:, None] + sd[topic][:, None] * _WATCH_Z
    fixed, glancing = watch_terms(belief.behaviour, appeal, duration_s[:, None])
    glance = expected_capped_stretch_s(duration_s, GLANCE_MIN_S, patience)
    result: F64 = fixed @ _WATCH_W + (glancing @ _WATCH_W) * glance
    return result


def search_watch(
    belief: Belief, topic: I64, known_appeal: F64, duration_s: F64, repeats: F64
) -> tuple[I64, F64]:
    """The videos worth an exact value and that value: each topic's :data:`SHORTLIST` best by
    :func:`rough_watch`, then :func:`expected_watch` of those (arguments as there).

    Returns:
        The shortlisted videos' indices (ascending) and their expected seconds watched.
    """
    cells = belief.cells()
    rough = rough_watch(belief, topic, known_appeal, duration_s, repeats, cells)
    short = shortlist(topic, rough)
    value = expected_watch(
        belief, topic[short], known_appeal[short], duration_s[short], repeats, cells
    )
    return short, value


def shortlist(topic: I64, value: F64, per_topic: int = SHORTLIST) -> I64:
    """Indices of the ``per_topic`` highest values of each topic (ties: the earlier)."""
    order = np.lexsort((-value, topic))
    sorted_topic = topic[order]
    starts = np.searchsorted(sorted_topic, sorted_topic)  # each one's topic's first position
    rank = np.arange(len(order)) - starts
    result: I64 = np.sort(order[rank < per_topic])
    return result
