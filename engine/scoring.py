"""Scoring: score = Σ value(a) × P(a | viewer, video) over actions, every term kept.

P(a) is a transparent function: the video's smoothed global rate for the action (how this
video does with everyone) shifted on the logit scale by the viewer's *affinity* z, a weighted
sum of interpretable features (embedding similarity, topic/hashtag/sound/creator affinities,
follows, language and country, freshness). Follower counts are not an input.

Multipliers then apply the viewer's topic sliders, faded "not interested" marks below the
filter threshold, and operator boosts (which the receipt always discloses).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from engine import kernels
from engine.batch import Batch
from engine.catalog import Catalog
from engine.config import Config
from engine.languages import followed
from engine.profile import UserState, negative_strengths

F32 = npt.NDArray[np.float32]
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
# numpy sums a row of fewer than this many numbers one after the other (ndarray.sum's
# pairwise blocks start there): what the hashtag kernel repeats.
PAIRWISE_MIN = 8


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


def _column_one(values: Sequence[F64 | None] | None, n: int) -> F64:
    """A single pick's optional per-candidate column (0 where none was computed)."""
    own = None if values is None else values[0]
    return np.zeros(n) if own is None else np.asarray(own, dtype=np.float64)


def _column(values: Sequence[F64 | None] | None, ids: Sequence[I64]) -> F64:
    """A batch's optional per-candidate column, viewer after viewer (0 where none was
    computed)."""
    given = [None] * len(ids) if values is None else values
    each = [np.zeros(len(i)) if c is None else c for i, c in zip(ids, given, strict=True)]
    return np.concatenate(each).astype(np.float64) if each else np.zeros(0)


@dataclass(frozen=True, eq=False)
class ScoringRows:
    """The candidates of a batch of viewers to score, end to end (:mod:`engine.batch`): one
    viewer's pick is the batch of one, so there is one formula.

    Attributes:
        batch: the rows (video id and viewer of each).
        similarity: each row's interest similarity (0 where the viewer's query is unknown).
        known: whether the row's viewer has an interest query.
        coengagement: each row's co-engagement with its viewer's recent positives
            (:meth:`engine.coengagement.CoEngagement.scores`; 0 where none was computed).
        similar_viewers: each row's item-item cosine with its viewer's positives
            (:meth:`engine.similar_viewers.SimilarViewers.scores`; 0 where none was computed).
        states: the viewers, in batch order.
        contexts: each viewer's scoring context (they share the catalog and the config).
    """

    batch: Batch
    similarity: F64
    known: npt.NDArray[np.bool_]
    states: Sequence[UserState]
    contexts: Sequence[ScoringContext]
    coengagement: F64
    similar_viewers: F64

    @classmethod
    def of(
        cls,
        ids: Sequence[I64],
        similarity: Sequence[F64 | None],
        states: Sequence[UserState],
        contexts: Sequence[ScoringContext],
        coengagement: Sequence[F64 | None] | None = None,
        similar_viewers: Sequence[F64 | None] | None = None,
    ) -> ScoringRows:
        batch = Batch.of(ids)
        if len(ids) == 1:  # a single pick: its own arrays, without gathers over the batch
            only = similarity[0]
            flat_one = np.zeros(len(batch)) if only is None else np.asarray(only)
            known_one = np.full(len(batch), only is not None)
            return cls(
                batch,
                flat_one,
                known_one,
                states,
                contexts,
                _column_one(coengagement, len(batch)),
                _column_one(similar_viewers, len(batch)),
            )
        sims = [np.zeros(len(i)) if s is None else s for i, s in zip(ids, similarity, strict=True)]
        flat = np.concatenate(sims) if sims else np.zeros(0)
        known = batch.per_row(np.array([s is not None for s in similarity], dtype=bool))
        return cls(
            batch,
            flat,
            known.astype(bool),
            states,
            contexts,
            _column(coengagement, ids),
            _column(similar_viewers, ids),
        )

    @property
    def ids(self) -> I64:
        return self.batch.ids

    @property
    def ctx(self) -> ScoringContext:
        """What every viewer shares: the catalog and the config."""
        return self.contexts[0]

    def now(self) -> F64:
        """The world time of each row's pick."""
        if len(self.contexts) == 1:
            return np.full(len(self.ids), self.contexts[0].now)
        return self.batch.per_row(np.array([c.now for c in self.contexts], dtype=np.float64))  # type: ignore[return-value]

    def split(self, scores: Scores) -> list[Scores]:
        """Per viewer, its own :class:`Scores` (views into the batch's arrays)."""
        if self.batch.viewers == 1:
            return [scores]
        bounds = self.batch.bounds.tolist()
        viewers = range(self.batch.viewers)

        def parts(rows: F64) -> list[F64]:  # Batch.split's views, its bounds read once
            return [rows[bounds[k] : bounds[k + 1]] for k in viewers]

        def each(table: dict[str, F64]) -> list[dict[str, F64]]:
            columns = {name: parts(x) for name, x in table.items()}
            return [{n: c[k] for n, c in columns.items()} for k in range(self.batch.viewers)]

        optional = [None if x is None else parts(x) for x in (scores.inputs, scores.rates)]
        features, p, value, mults = (
            each(t) for t in (scores.features, scores.p, scores.value, scores.multipliers)
        )
        affinity, base, final = (parts(x) for x in (scores.affinity, scores.base, scores.score))
        return [
            Scores(
                features=features[k],
                affinity=affinity[k],
                p=p[k],
                value=value[k],
                base=base[k],
                multipliers=mults[k],
                score=final[k],
                inputs=None if optional[0] is None else optional[0][k],
                rates=None if optional[1] is None else optional[1][k],
                weights=scores.weights,
            )
            for k in range(self.batch.viewers)
        ]


def raw_features_of(rows: ScoringRows) -> dict[str, F64]:
    """Each interpretable feature of every row of a batch, before any weight (see
    :func:`features_of`)."""
    ctx, states, batch, ids = rows.ctx, rows.states, rows.batch, rows.ids
    v = ctx.catalog.world.videos
    tag_mean = _hashtag_means(rows)
    creators = v.creator_id[ids]
    age_h = (rows.now() - v.published_at[ids]) / 3600.0
    fresh = age_h < ctx.config.sources.fresh_window_h
    followed = batch.member([s.follows for s in states], creators)
    # With no interests known yet, similarity says nothing either way.
    centred = np.where(rows.known, rows.similarity - SIMILARITY_CENTRE, 0.0)
    topic = batch.gather([s.topic_affinity for s in states], v.topic_id[ids])
    return {
        "similarity": centred.astype(np.float64, copy=False),
        "topic": topic.astype(np.float64),
        "hashtags": tag_mean,
        "sound": batch.lookup([s.sound_affinity for s in states], v.sound_id[ids], 0.0),
        "creator": batch.lookup([s.creator_affinity for s in states], creators, 0.0),
        "followed": followed.astype(np.float64),
        "new from followed": (followed & fresh).astype(np.float64),
        "language": _languages_followed(rows),
        "country": (v.country[ids] == batch.per_row([s.country for s in states])).astype(
            np.float64
        ),
        "freshness": fresh.astype(np.float64),
    }


def _languages_followed(rows: ScoringRows) -> F64:
    """The chance each row's viewer follows the video's language (:mod:`engine.languages`;
    a viewer without a belief follows its account's language only)."""
    world = rows.ctx.catalog.world
    n = len(world.languages)
    chances = [
        followed(s.language_belief) if len(s.language_belief) else _own_only(n, s.language)
        for s in rows.states
    ]
    found: F64 = rows.batch.gather(chances, world.videos.language[rows.ids]).astype(np.float64)
    return found


def _own_only(n_languages: int, own: int) -> F32:
    chance = np.zeros(n_languages, dtype=np.float32)
    if 0 <= own < n_languages:
        chance[own] = 1.0
    return chance


def _hashtag_means(rows: ScoringRows) -> F64:
    """Each row's mean affinity of its viewer for the video's hashtags, through the
    catalogue's slots (a missing tag reads the 0 appended to every viewer's vector): the same
    float32 rows to sum as masking the missing ones, and the same counts. With the kernels
    (:mod:`engine.kernels`), one pass without the (rows, tags) gather."""
    states, batch, ids = rows.states, rows.batch, rows.ids
    slots, counts = rows.ctx.catalog.hashtag_slots
    vectors = [s.hashtag_affinity for s in states]
    dtype = np.result_type(*vectors)  # float32, as gathering from their stack gives
    compiled = kernels.loaded()
    if compiled is not None and dtype == np.float32 and slots.shape[1] < PAIRWISE_MIN:
        affinities = np.zeros((batch.viewers, len(vectors[0]) + 1), np.float32)
        for k, vector in enumerate(vectors):
            affinities[k, :-1] = vector
        means: F64 = compiled.hashtag_means(affinities, batch.viewer, slots, counts, ids)
        return means
    if batch.viewers == 1:
        padded = np.concatenate((vectors[0], _MISSING_TAG))  # np.append's steps, 1.4 us less
        alone: F64 = padded.take(slots[ids]).sum(axis=1) / counts[ids]
        return alone
    affinities = np.zeros((batch.viewers, len(vectors[0]) + 1), dtype)
    for k, vector in enumerate(vectors):
        affinities[k, :-1] = vector
    found: F64 = affinities[batch.viewer[:, None], slots[ids]].sum(axis=1) / counts[ids]
    return found


_MISSING_TAG = np.zeros(1, np.float32)  # what a missing tag's slot reads


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


def features_of(rows: ScoringRows) -> dict[str, F64]:
    """Each feature's weighted contribution to the affinity z of every row of a batch (the
    config's hand-set weights)."""
    w = rows.ctx.config.scoring
    raw = raw_features_of(rows)
    return {name: float(getattr(w, WEIGHT_OF[name])) * x for name, x in raw.items()}


def probabilities_of(rows: ScoringRows, z: F64) -> dict[str, F64]:
    """P(action) of every row of a batch, given its affinity z."""
    ctx, ids = rows.ctx, rows.ids
    prior = ctx.config.scoring.prior_views
    engagement = ctx.catalog.engagement
    by_length = ctx.config.scoring.completion_prior == "length"
    rates = engagement.rates(tuple(RATE_OF.values()), ids, prior, by_length=by_length)
    shifted = _sigmoid(_logit(rates) + z)
    p = dict(zip(RATE_OF, shifted, strict=True))
    followed = followed_of(rows)
    p["follow"] = np.where(followed, 0.0, p["follow"])
    p["skip"] = 1.0 - p["complete"]
    p["not_interested"] = np.minimum(0.5, ctx.config.scoring.base_not_interested * np.exp(-z))
    p["report"] = p["not_interested"] * REPORT_PER_NOT_INTERESTED
    return p


def followed_of(rows: ScoringRows) -> npt.NDArray[np.bool_]:
    """Whether each row's creator is followed by its viewer."""
    creators = rows.ctx.catalog.world.videos.creator_id[rows.ids]
    return rows.batch.member([s.follows for s in rows.states], creators)


def values(ids: I64, z: F64, ctx: ScoringContext) -> dict[str, F64]:
    r = ctx.config.reactions
    n = len(ids)
    duration = ctx.catalog.valued_duration[ids]
    fixed = [a for a in ACTIONS if a not in ("complete", "skip")]
    # One row each of one (actions, n) table: two calls, not one per action.
    table = np.empty((len(fixed), n))
    table[:] = np.array([float(getattr(r, a)) for a in fixed])[:, None]
    const = dict(zip(fixed, table, strict=True))
    return {
        "complete": r.complete + r.complete_per_minute * duration / 60.0,
        # The less the affinity, the earlier the likely skip, the more negative it is.
        "skip": r.early_skip * _sigmoid(-z),
        **const,
    }


def multipliers_of(rows: ScoringRows) -> dict[str, F64]:
    """The topic slider, the fading "not interested" marks and the boost of every row."""
    ctx, ids, batch, states = rows.ctx, rows.ids, rows.batch, rows.states
    v = ctx.catalog.world.videos
    cfg = ctx.config.profile
    slider = batch.lookup([s.topic_sliders for s in states], v.topic_id[ids], 1.0)
    fade = np.ones(len(ids))
    for scope, column in (("creator", v.creator_id), ("sound", v.sound_id), ("topic", v.topic_id)):
        strengths = [
            negative_strengths(s, scope, c.now, cfg.negative_half_life_h)
            for s, c in zip(states, rows.contexts, strict=True)
        ]
        if any(strengths):
            fade *= 1.0 - batch.lookup(strengths, column[ids], 0.0)
    return {
        "topic slider": slider,
        "not interested (fading)": fade,
        "boost": batch.lookup([c.boosts for c in rows.contexts], ids, 1.0),
    }


def score(ids: I64, similarity: F64 | None, state: UserState, ctx: ScoringContext) -> Scores:
    return score_of(ScoringRows.of([ids], [similarity], [state], [ctx]))


def score_of(rows: ScoringRows) -> Scores:
    """The hand-set formula's :class:`Scores` of every row of a batch (split per viewer with
    :meth:`ScoringRows.split`)."""
    feats = features_of(rows)
    z = np.sum(list(feats.values()), axis=0) if len(rows.ids) else np.zeros(0)
    p = probabilities_of(rows, z)
    return combine_of(rows, feats, z, p, values(rows.ids, z, rows.ctx))


def combine_of(
    rows: ScoringRows,
    feats: dict[str, F64],
    z: F64,
    p: dict[str, F64],
    vals: dict[str, F64],
    **learned: F64,
) -> Scores:
    """Σ P × value, then the multipliers and boosts, for every row of a batch: the score of
    every P(action) model."""
    base = np.sum([p[a] * vals[a] for a in ACTIONS], axis=0) if len(rows.ids) else np.zeros(0)
    mults = multipliers_of(rows)
    m = mults["topic slider"] * mults["not interested (fading)"]
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
