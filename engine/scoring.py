"""Scoring: score = Σ value(a) × P(a | viewer, video) over actions, every term kept.

P(a) is a transparent function: the video's smoothed global rate for the action (how this
video does with everyone) shifted on the logit scale by the viewer's *affinity* z, a weighted
sum of interpretable features (embedding similarity, topic/hashtag/sound/creator affinities,
follows, language and country, freshness). Follower counts are not an input.

Multipliers then apply the viewer's topic sliders, faded "not interested" marks below the
filter threshold, and operator boosts (which the receipt always discloses).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from engine.catalog import Catalog
from engine.config import Config
from engine.profile import UserState, negative_strengths
from engine.world import NO_ID

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

SIMILARITY_CENTRE = 0.3  # cosine of a typical same-topic pair is ~0.6, of a random pair ~0
ACTIONS: tuple[str, ...] = (
    "complete",
    "like",
    "share",
    "save",
    "comment",
    "follow",
    "skip",
    "not_interested",
    "report",
)
RATE_OF = {
    "complete": "completions",
    "like": "likes",
    "share": "shares",
    "save": "saves",
    "comment": "comments",
    "follow": "follows",
}
REPORT_PER_NOT_INTERESTED = 0.05
BOOST_FLOOR = 0.1


@dataclass(frozen=True)
class ScoringContext:
    catalog: Catalog
    config: Config
    now: float
    boosts: dict[int, float]  # video id -> weight of boosts in force


@dataclass(frozen=True)
class Scores:
    features: dict[str, F64]  # weighted contribution of each feature to the affinity z
    affinity: F64  # z
    p: dict[str, F64]  # P(action)
    value: dict[str, F64]  # value of each action
    base: F64  # Σ P × value
    multipliers: dict[str, F64]
    score: F64
    # Learned scoring only (engine.learned): each candidate's input row, its global-rate
    # logits per learned action, and the weights the pick used (for the receipt's terms).
    inputs: F64 | None = None
    rates: F64 | None = None
    weights: F64 | None = None


def _sigmoid(x: F64) -> F64:
    result: F64 = 1.0 / (1.0 + np.exp(-x))
    return result


def _logit(p: F64) -> F64:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    result: F64 = np.log(p / (1 - p))
    return result


def _lookup(table: dict[int, float], keys: npt.NDArray[np.integer], default: float = 0.0) -> F64:
    """``table[k]`` for each key (``default`` where absent), as one binary search."""
    if not table:
        return np.full(len(keys), default, dtype=np.float64)
    known = np.fromiter(table.keys(), dtype=np.int64, count=len(table))
    order = np.argsort(known)
    known = known[order]
    found = np.fromiter(table.values(), dtype=np.float64, count=len(table))[order]
    where = np.minimum(np.searchsorted(known, keys), len(known) - 1)
    result: F64 = np.where(known[where] == keys, found[where], default)
    return result


def raw_features(
    ids: I64, similarity: F64 | None, state: UserState, ctx: ScoringContext
) -> dict[str, F64]:
    """Each interpretable feature of each candidate, before any weight (see :func:`features`)."""
    v = ctx.catalog.world.videos
    tags = v.hashtags[ids]
    valid = tags != NO_ID
    tag_aff = np.where(valid, state.hashtag_affinity[np.where(valid, tags, 0)], 0.0)
    tag_mean = tag_aff.sum(axis=1) / np.maximum(valid.sum(axis=1), 1)
    creators = v.creator_id[ids]
    age_h = (ctx.now - v.published_at[ids]) / 3600.0
    fresh = age_h < ctx.config.sources.fresh_window_h
    followed = state.follows.mask(creators)
    # With no interests known yet, similarity says nothing either way.
    centred = similarity - SIMILARITY_CENTRE if similarity is not None else np.zeros(len(ids))
    return {
        "similarity": centred.astype(np.float64),
        "topic": state.topic_affinity[v.topic_id[ids]].astype(np.float64),
        "hashtags": tag_mean.astype(np.float64),
        "sound": _lookup(state.sound_affinity, v.sound_id[ids]),
        "creator": _lookup(state.creator_affinity, creators),
        "followed": followed.astype(np.float64),
        "new from followed": (followed & fresh).astype(np.float64),
        "language": (v.language[ids] == state.language).astype(np.float64),
        "country": (v.country[ids] == state.country).astype(np.float64),
        "freshness": fresh.astype(np.float64),
    }


WEIGHT_OF = {
    "similarity": "similarity",
    "topic": "topic_affinity",
    "hashtags": "hashtag_affinity",
    "sound": "sound_affinity",
    "creator": "creator_affinity",
    "followed": "followed",
    "new from followed": "followed_new",
    "language": "same_language",
    "country": "same_country",
    "freshness": "freshness",
}


def features(
    ids: I64, similarity: F64 | None, state: UserState, ctx: ScoringContext
) -> dict[str, F64]:
    """Each feature's weighted contribution to the affinity z (the config's hand-set weights)."""
    w = ctx.config.scoring
    raw = raw_features(ids, similarity, state, ctx)
    return {name: float(getattr(w, WEIGHT_OF[name])) * x for name, x in raw.items()}


def probabilities(ids: I64, z: F64, state: UserState, ctx: ScoringContext) -> dict[str, F64]:
    prior = ctx.config.scoring.prior_views
    engagement = ctx.catalog.engagement
    rates = engagement.rates(tuple(RATE_OF.values()), ids, prior)
    shifted = _sigmoid(_logit(rates) + z)
    p = dict(zip(RATE_OF, shifted, strict=True))
    followed = state.follows.mask(ctx.catalog.world.videos.creator_id[ids])
    p["follow"] = np.where(followed, 0.0, p["follow"])
    p["skip"] = 1.0 - p["complete"]
    p["not_interested"] = np.minimum(0.5, ctx.config.scoring.base_not_interested * np.exp(-z))
    p["report"] = p["not_interested"] * REPORT_PER_NOT_INTERESTED
    return p


def values(ids: I64, z: F64, ctx: ScoringContext) -> dict[str, F64]:
    r = ctx.config.reactions
    n = len(ids)
    duration = ctx.catalog.world.videos.duration_s[ids].astype(np.float64)
    const = {a: np.full(n, float(getattr(r, a))) for a in ACTIONS if a not in ("complete", "skip")}
    return {
        "complete": r.complete + r.complete_per_minute * duration / 60.0,
        # The less the affinity, the earlier the likely skip, the more negative it is.
        "skip": r.early_skip * _sigmoid(-z),
        **const,
    }


def multipliers(ids: I64, state: UserState, ctx: ScoringContext) -> dict[str, F64]:
    v = ctx.catalog.world.videos
    cfg = ctx.config.profile
    n = len(ids)
    slider = _lookup(state.topic_sliders, v.topic_id[ids], default=1.0)
    fade = np.ones(n)
    for scope, column in (("creator", v.creator_id), ("sound", v.sound_id), ("topic", v.topic_id)):
        strengths = negative_strengths(state, scope, ctx.now, cfg.negative_half_life_h)
        if strengths:
            fade *= 1.0 - _lookup(strengths, column[ids])
    return {
        "topic slider": slider,
        "not interested (fading)": fade,
        "boost": _lookup(ctx.boosts, ids, default=1.0),
    }


def score(ids: I64, similarity: F64 | None, state: UserState, ctx: ScoringContext) -> Scores:
    feats = features(ids, similarity, state, ctx)
    z = np.sum(list(feats.values()), axis=0) if len(ids) else np.zeros(0)
    p = probabilities(ids, z, state, ctx)
    return combine(ids, feats, z, p, values(ids, z, ctx), state, ctx)


def combine(
    ids: I64,
    feats: dict[str, F64],
    z: F64,
    p: dict[str, F64],
    vals: dict[str, F64],
    state: UserState,
    ctx: ScoringContext,
    **learned: F64,
) -> Scores:
    """Σ P × value, then the multipliers and boosts: the score of every P(action) model."""
    base = np.sum([p[a] * vals[a] for a in ACTIONS], axis=0) if len(ids) else np.zeros(0)
    mults = multipliers(ids, state, ctx)
    m = np.prod([mults["topic slider"], mults["not interested (fading)"]], axis=0)
    # A multiplier scales the distance above zero; a negative score is divided instead, so
    # "more of this topic" never makes a disliked video rank worse.
    final = np.where(base >= 0, base * m, base / np.maximum(m, 1e-6))
    # Heating must work on any video, so a boosted score first counts as at least BOOST_FLOOR.
    boost = mults["boost"]
    final = np.where(boost != 1.0, np.maximum(final, BOOST_FLOOR) * boost, final)
    return Scores(
        features=feats,
        affinity=z,
        p=p,
        value=vals,
        base=base,
        multipliers=mults,
        score=final,
        **learned,
    )


def popularity_scores(ids: I64, ctx: ScoringContext) -> F64:
    """The "popular" baseline: the global smoothed completion rate, nothing personal."""
    return ctx.catalog.engagement.rate("completions", ids, ctx.config.scoring.prior_views)
