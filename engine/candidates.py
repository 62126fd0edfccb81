"""Candidate sources: who may propose a video for the next pick, each within its quota.

- starter: while nothing is known about the viewer, well-completed videos from every topic;
- interest: embedding similarity to a blend of the long- and short-term interest vectors
  (videos already seen are masked before the top-k so they cannot crowd it out), and within
  each liked topic the videos most worth watching (:func:`watch_prior`);
- follow: newest videos of followed creators;
- trending: engagement velocity in a recent window;
- fresh: new uploads in their staged test pools;
- co-engagement: what viewers who finished or liked the viewer's recent positives also finished
  or liked ("viewers who finished this also finished that", :mod:`engine.coengagement`);
- explore: recent videos from the topics whose Thompson draw (:mod:`engine.uncertainty`) is
  highest among those the viewer is not known to like: where the engine is least sure;
- locale: recent videos from the viewer's country;
- boosted: operator boosts in force (always disclosed in the receipt).

A video proposed by several sources is kept once, credited to the first in
:data:`engine.sources.PRIORITY`, the registry every source's name and words come from.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from types import ModuleType

import numpy as np
import numpy.typing as npt

from engine import kernels
from engine.batch import VIEWER_SHIFT, Batch
from engine.catalog import Catalog
from engine.coengagement import CoEngagement, recent_positives
from engine.config import Config
from engine.idset import in_sorted, stable_order, stable_order_of_ids
from engine.languages import followed
from engine.pick import uniform_positions, weighted_draw
from engine.pools import PoolView, PoolViewOnce, TestPools
from engine.profile import UserState, query_vector
from engine.retrieval import largest
from engine.sources import CODE, Source
from engine.trending import Trending
from engine.uncertainty import (
    PRIOR_MEAN,
    draw_topics_many,
    posterior_mean,
    settled,
    topic_prior,
)

I64 = npt.NDArray[np.int64]
F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
Mask = npt.NDArray[np.bool_]

BASELINE_POOL = 500  # candidates the popular baseline draws from
EXPLORE_TOPICS = 3
STARTED_SHARE = 0.5  # of the fresh quota, at most this share for videos whose pool started
RECENT_PER_TOPIC = 400
DEBUT_PROBES = 1  # of an explored topic's best probes, kept for new creators' uploads
RECENT_PER_COUNTRY = 2000
FOLLOW_PER_CREATOR = 5
INTEREST_TOPICS = 3  # liked topics that each get their own share of the interest quota
PER_TOPIC_SHARE = 0.3  # of the interest quota, split over those topics
# Within a liked topic, similarity to the interest query tells little about what will be
# watched (every video of the topic is near it); length and how often everyone liked it tell
# much more. The per-topic shares rank by watch_prior, similarity weighted this much.
PRIOR_SIMILARITY = 2.0


@dataclass(frozen=True)
class Candidates:
    ids: I64
    source: npt.NDArray[np.int8]  # engine.sources.CODE of the source credited
    proposed: dict[str, I64]  # every source's own proposals, for the receipt
    similarity: F32  # interest similarity of each candidate (0 when the query is unknown)
    query_known: bool
    # The pick's Thompson draw per topic (engine.uncertainty); None if the sources drew none.
    topic_draw: F64 | None = None
    # Co-engagement of each candidate with the viewer's recent positives (engine.coengagement).
    coengagement: F64 | None = None
    # How much viewers who share the viewer's positives engaged with each
    # (engine.similar_viewers).
    similar_viewers: F64 | None = None


@dataclass(frozen=True)
class SourceContext:
    catalog: Catalog
    trending: Trending
    pools: TestPools
    boosted: I64
    config: Config
    now: float
    coengagement: CoEngagement | None = None
    # The pools' lists as the batch's picks all read them (computed once per batch).
    pool_view: PoolViewOnce | None = None


def language_weight(ctx: SourceContext, state: UserState) -> F64 | None:
    """Per language, the log of the chance the viewer follows it (:mod:`engine.languages`)
    times ``[sources] followed_language``: what the sources add to a video's log promise.
    None when the config turns it off or the viewer has no belief (a bare state).

    The candidates held videos in a language the viewer follows no more often than the
    catalogue does (42%), so the scorer, however well it weighs language, chose among few of
    them. Weighed at the sources, 200 personas x 3 sessions x 3 replicates (persona seeds 0 /
    5 / 9) watched 497.7 s per session against 479.0 s; with the chance squared, 486.4 s
    (engine/sim/README.md, "Languages the viewer cannot follow").
    """
    power = ctx.config.sources.followed_language
    if power == 0 or not len(state.language_belief):
        return None
    weight: F64 = power * np.log(followed(state.language_belief).astype(np.float64))
    return weight


def _language_term(ctx: SourceContext, weight: F64 | None, ids: I64) -> F64 | float:
    """What each of ``ids`` adds to its log promise for its language (0 with no weight)."""
    if weight is None:
        return 0.0
    term: F64 = weight.take(ctx.catalog.world.videos.language[ids])
    return term


def _unseen(ids: I64, state: UserState) -> I64:
    unseen: I64 = ids[~state.seen.mask(ids)]
    return unseen


def cold_start(ctx: SourceContext, state: UserState, quota: int, rng: np.random.Generator) -> I64:
    """Nothing known yet: well-completed videos from every topic, so a new viewer meets the
    whole range quickly and the first reactions have something to tell apart."""
    per_topic = max(1, quota // len(ctx.catalog.popular_by_topic))
    topics = [ids for ids in ctx.catalog.popular_by_topic if len(ids)]
    published = ctx.catalog.world.videos.published_at
    ids = _choose_each(topics, per_topic, rng)
    return _unseen(ids[published[ids] <= ctx.now], state)


def interest(
    ctx: SourceContext,
    state: UserState,
    query: F32 | None,
    quota: int,
    draws: F64 | None = None,
) -> I64:
    """The interest source's proposals for one viewer (:func:`interest_many` of one)."""
    return interest_many(ctx, [state], [query], quota, [draws])[0]


def interest_many(
    ctx: SourceContext,
    states: Sequence[UserState],
    queries: Sequence[F32 | None],
    quota: int,
    draws: Sequence[F64 | None],
    languages: Sequence[F64 | None] | None = None,
) -> list[I64]:
    """The interest source's proposals for each viewer: the videos nearest its query, and
    the best of each of its own topics (:func:`_own_topics`).

    The similarities of the topics several viewers read (or may read: their first topics by
    bound, their own topics) are computed first, topic by topic for all the viewers that read
    it, so a block is read from memory once for them
    (:meth:`engine.retrieval.TopicIndex.sims_many`); each viewer's search then runs on them
    as it would alone, computing the topics only it reads.
    """
    found = [np.zeros(0, dtype=np.int64)] * len(states)
    asking = [i for i in range(len(states)) if quota and queries[i] is not None]
    if not asking:
        return found
    index = ctx.catalog.index
    rows = [query for query in queries if query is not None] if quota else []
    excluded = [index.exclusion(states[i].seen) for i in asking]
    bounds = [index.bound(query) for query in rows]
    own = [_own_topics(states[i], draws[i]) for i in asking]
    known: list[dict[int, F32]] = [{}]  # alone, every topic is computed when read
    if len(rows) > 1:
        # The topics each viewer reads or may read (its search stops early when the first
        # topics settle it): those another viewer reads too are computed ahead.
        reading = [
            [*dict.fromkeys([*index.probed(b), *t])] for b, t in zip(bounds, own, strict=True)
        ]
        readers = Counter(t for topics in reading for t in topics)
        wanted = [[t for t in topics if readers[t] > 1] for topics in reading]
        known = index.sims_many(rows, excluded, wanted)
    if languages is None:
        languages = [language_weight(ctx, state) for state in states]
    for j, i in enumerate(asking):
        found[i] = _interest_of(
            ctx, rows[j], excluded[j], bounds[j], own[j], known[j], quota, languages[i]
        )
    return found


def _interest_of(
    ctx: SourceContext,
    query: F32,
    excluded: I64,
    bound: F64,
    own: list[int],
    known: dict[int, F32],
    quota: int,
    languages: F64 | None,
) -> I64:
    """One viewer's interest proposals, from the similarities already ``known`` (a liked
    topic's share weighed by the viewer's ``languages``, :func:`language_weight`)."""
    per_topic = int(quota * PER_TOPIC_SHARE / INTEREST_TOPICS)
    index = ctx.catalog.index
    k = min(quota - per_topic * INTEREST_TOPICS, ctx.catalog.n - 1)
    nearest, scanned = index.search(query, k, excluded, known=known, bound=bound)
    found = [nearest]
    for t in own:
        ids = ctx.catalog.by_topic[t]
        sims = scanned.get(t)
        if sims is None:
            sims = known[t] if t in known else index.topic_sims(t, query, excluded)
        n = min(per_topic, len(ids))
        if n:
            prior = ctx.catalog.topic_watch_prior(t, *_prior_key(ctx))
            found.append(ids[_best_of_topic(ctx, t, sims, prior, languages, n)])
    return np.concatenate(found).astype(np.int64)


def _best_of_topic(
    ctx: SourceContext, topic: int, sims: F32, prior: F64, languages: F64 | None, n: int
) -> I64:
    """Where the ``n`` videos of a liked topic that promise the viewer most sit in it (its
    similarity, watch prior and language), any order; seen videos (similarity -inf) never."""
    compiled = kernels.loaded()
    if compiled is not None:  # the same sums in one pass, no value array
        at: I64 = compiled.topic_best(
            sims,
            prior,
            ctx.catalog.topic_languages(topic),
            _NO_DRAWS if languages is None else languages,
            languages is not None,
            PRIOR_SIMILARITY,
            n,
        )
        return at
    value = PRIOR_SIMILARITY * sims + prior
    if languages is not None:
        # take: indexing by the int8 languages cast them first, at twice the cost
        value += languages.take(ctx.catalog.topic_languages(topic))
    best = largest(value, n)
    finite: I64 = best[np.isfinite(value[best])]
    return finite


def _own_topics(state: UserState, draws: F64 | None) -> list[int]:
    """The topics that get their own share of the interest quota: one vector finds the
    nearest interest, so the viewer's other liked topics each get a share too (diversity
    rules that cap the first still leave the second), and so does a topic the viewer turned
    up with its slider ("more of this" must find some)."""
    raised = [t for t, m in sorted(state.topic_sliders.items()) if m > 1.0]
    return [*dict.fromkeys([*liked_topics(state, draws), *raised])]


def watch_prior(ctx: SourceContext, ids: I64) -> F64:
    """What a video promises in watch time before anything personal is known, on a log scale:
    a length term + logit of its smoothed global like rate.

    Expected watch grows with length as far as the video holds its viewers, and the like
    rate is the global counter that says so at every length (a long video's raw completion
    rate mostly measures its length). The length term follows the scorer's completion prior:
    log(duration / 30 s), or with ``completion_prior = "length"`` log(expected seconds / 30 s)
    from the completion rate of videos of its length. The rates are shrunk toward the
    background ones; the catalogue keeps every video's prior up to date
    (:meth:`engine.catalog.Catalog.watch_prior`), so the thousands of videos a pick weighs
    are read, not computed.
    """
    prior: F64 = ctx.catalog.watch_prior(*_prior_key(ctx))[0][ids]
    return prior


def _prior_key(ctx: SourceContext) -> tuple[float, str]:
    """Which of the catalogue's kept watch priors the config reads."""
    scoring = ctx.config.scoring
    return scoring.prior_views, scoring.completion_prior


def follow(ctx: SourceContext, state: UserState, quota: int) -> I64:
    if not state.follows or quota == 0:
        return np.zeros(0, dtype=np.int64)
    newest = [
        ctx.catalog.by_creator.newest(c, ctx.now, FOLLOW_PER_CREATOR)
        for c in state.follows.array().tolist()
    ]
    ids: I64 = np.concatenate(newest)
    keep = ~state.seen.mask(ids)
    ids, published = ids[keep], ctx.catalog.world.videos.published_at[ids[keep]]
    newest_first: I64 = ids[(-published).argsort(kind="stable")][:quota]
    return newest_first


def trending(ctx: SourceContext, state: UserState, quota: int) -> I64:
    return _unseen(ctx.trending.top_videos, state)[:quota]


def fresh(
    ctx: SourceContext,
    state: UserState,
    quota: int,
    rng: np.random.Generator,
    draws: F64 | None = None,
) -> I64:
    """:func:`_fresh` with the viewer's :func:`language_weight`."""
    return _fresh(ctx, state, quota, rng, draws, language_weight(ctx, state))


def _fresh(
    ctx: SourceContext,
    state: UserState,
    quota: int,
    rng: np.random.Generator,
    draws: F64 | None,
    languages: F64 | None,
) -> I64:
    """New uploads in their test pools: first those whose pool has started (furthest along
    first), then new creators' uploads, then a random draw of the rest, so videos reach a
    decision (and the next pool) even when a small audience meets thousands of uploads, and a
    creator with no audience yet is not lost among established creators' uploads.

    New creators' uploads and the rest are drawn in proportion to what they promise this
    viewer (their :func:`watch_prior`, times the pick's Thompson draw of their topic when there
    is one): each still has its chance, and the first audience an upload meets is one that may
    watch it."""
    view = ctx.pools.view() if ctx.pool_view is None else ctx.pool_view.get()
    compiled = kernels.loaded()
    if compiled is not None:
        return _fresh_compiled(compiled, ctx, view, state, quota, rng, draws, languages)
    open_ = view.open_at(ctx.now)  # every viewer's pool now; this one's seen come out
    pool, debut_at = open_.ids, open_.debut
    # What each promises, element by element: the same numbers for the whole pool as for
    # what is left of it once the viewer's seen are out (then cut with the ids alone).
    promise = _promise(ctx, pool, draws, open_.topic)  # the debuts' too
    if languages is not None:  # exp of the language term, one exp per language, not per video
        promise *= np.exp(languages)[open_.language]
    gone = state.seen.positions_in(pool)  # ascending
    if len(gone):
        keep = np.ones(len(pool), dtype=bool)
        keep[gone] = False
        pool, promise = pool[keep], promise[keep]
        debut_at = debut_at[keep[debut_at]]
        debut_at = debut_at - gone.searchsorted(debut_at)  # where they sit once cut
    if len(pool) <= quota:
        return pool.copy()  # the proposals live on in the receipt: never the shared array
    ahead = view.started[(view.started_published <= ctx.now) & ~state.seen.mask(view.started)]
    ahead = ahead[: int(quota * STARTED_SHARE)]
    ahead_sorted = np.sort(ahead)
    debut_at = debut_at[~in_sorted(pool[debut_at], ahead_sorted)]
    return _in_turn(pool, promise, debut_at, ahead, quota, rng)


def _fresh_compiled(
    compiled: ModuleType,
    ctx: SourceContext,
    view: PoolView,
    state: UserState,
    quota: int,
    rng: np.random.Generator,
    draws: F64 | None,
    languages: F64 | None,
) -> I64:
    """:func:`fresh` with its pass over the pools as one kernel
    (:func:`engine.kernels.compiled.fresh_pass`): the same videos, drawn the same way."""
    promise_of = ctx.catalog.watch_prior(*_prior_key(ctx))[1]
    pool, promise, debut_at, ahead = compiled.fresh_pass(
        view.testing,
        view.testing_published,
        view.testing_debut,
        view.testing_topic,
        view.started,
        view.started_published,
        state.seen.array(),
        ctx.now,
        view.window_s,
        promise_of,
        _NO_DRAWS if draws is None else draws,
        draws is not None,
        view.testing_language,
        _NO_DRAWS if languages is None else np.exp(languages),
        languages is not None,
        int(quota * STARTED_SHARE),
    )
    if len(pool) <= quota:
        # A copy: the kernel's pool is the head of an array as long as the pools, and the
        # proposals live on in the receipt.
        return pool.copy()  # type: ignore[no-any-return]
    return _in_turn(pool, promise, debut_at, ahead, quota, rng)


def _in_turn(
    pool: I64, promise: F64, debut_at: I64, ahead: I64, quota: int, rng: np.random.Generator
) -> I64:
    """The fresh source's proposals: the uploads ``ahead`` (pools started), then new
    creators' uploads (``pool[debut_at]``), then the rest, each drawn by its promise."""
    debut = _promising(pool[debut_at], promise[debut_at], quota - len(ahead), rng)
    drawn = _promising(pool, promise, quota, rng)
    rest = drawn[~in_sorted(drawn, np.sort(np.concatenate([ahead, debut])))]
    return np.concatenate([ahead, debut, rest])[:quota].astype(np.int64)


_NO_DRAWS = np.ones(1, dtype=np.float64)


def _promise(ctx: SourceContext, ids: I64, draws: F64 | None, topics: I64) -> F64:
    """What each of ``ids`` (of the given ``topics``) promises the viewer:
    exp(:func:`watch_prior`) times the pick's draw of its topic (when drawn)."""
    weight: F64 = ctx.catalog.watch_prior(*_prior_key(ctx))[1][ids]
    if draws is not None:
        weight *= draws[topics]
    return weight


def _promising(ids: I64, promise: F64, size: int, rng: np.random.Generator) -> I64:
    """``size`` of ``ids`` drawn without replacement in proportion to ``promise`` (what each
    promises the viewer, :func:`_promise`)."""
    # (promise != 0) counted: the same count as count_nonzero of the floats, at a third of it
    size = min(size, int(np.count_nonzero(promise != 0)))
    if size <= 0:
        return ids[:0]
    drawn: I64 = ids[weighted_draw(rng, promise / promise.sum(), size)]
    return drawn


def liked_topics(state: UserState, draws: F64 | None) -> list[int]:
    """The viewer's liked topics the interest quota gives a share each: those with evidence of
    hooking the viewer, the highest Thompson draws first (by affinity without draws)."""
    if draws is None:
        liked = (-state.topic_affinity).argsort(kind="stable")[:INTEREST_TOPICS]
        return [int(t) for t in liked[state.topic_affinity[liked] > 0]]
    hooked = (state.topic_hooked > 0).nonzero()[0]
    ranked = hooked[(-draws[hooked]).argsort(kind="stable")][:INTEREST_TOPICS]
    return [int(t) for t in ranked if draws[t] > PRIOR_MEAN]


def explore(
    ctx: SourceContext,
    state: UserState,
    quota: int,
    rng: np.random.Generator,
    draws: F64 | None = None,
) -> I64:
    """:func:`explore_many` of one viewer, with its :func:`language_weight`."""
    return explore_many([ctx], [state], quota, [rng], [draws], [language_weight(ctx, state)])[0]


def explore_many(
    contexts: Sequence[SourceContext],
    states: Sequence[UserState],
    quota: int,
    rngs: Sequence[np.random.Generator],
    draws: Sequence[F64 | None],
    languages: Sequence[F64 | None],
) -> list[I64]:
    """Recent videos from the topics the engine is least sure about (the highest Thompson
    draws among topics not already known to hook the viewer; with no draws, topics the viewer
    has shown no interest in, by popularity): of each, the unseen ones that promise the most
    watch to anyone (:func:`_best_each_many`, every viewer's topics in one pass), or with
    ``[sources] explore_pick = "random"`` a random few. Each viewer chooses its topics alone,
    from its own draws or generator."""
    empty = np.zeros(0, dtype=np.int64)
    if quota == 0:
        return [empty] * len(states)
    chosen = [
        _explore_topics(ctx, state, rng, d)
        for ctx, state, rng, d in zip(contexts, states, rngs, draws, strict=True)
    ]
    recents = [
        [ctx.catalog.by_topic.newest(int(t), ctx.now, RECENT_PER_TOPIC) for t in topics]
        for ctx, topics in zip(contexts, chosen, strict=True)
    ]
    if contexts[0].config.sources.explore_pick == "best":
        return _best_each_many(contexts, states, recents, quota, languages)
    return [
        _choose_each(topics, max(1, quota // len(topics)), rng) if topics else empty
        for topics, rng in zip(recents, rngs, strict=True)
    ]


def _explore_topics(
    ctx: SourceContext, state: UserState, rng: np.random.Generator, draws: F64 | None
) -> I64:
    """The topics one viewer's explore source probes."""
    if draws is None:
        return _unexplored(ctx, state, rng)
    # Topics whose own evidence already says "hooked" are the interest source's to serve.
    prior = topic_prior(ctx.catalog.world)
    hooked = (state.topic_hooked > 0) & (posterior_mean(state, prior) > prior.mean)
    open_topics = (~hooked).nonzero()[0]
    chosen: I64 = open_topics[(-draws[open_topics]).argsort(kind="stable")[:EXPLORE_TOPICS]]
    return chosen


def _best_each_many(
    contexts: Sequence[SourceContext],
    states: Sequence[UserState],
    populations: Sequence[Sequence[I64]],
    quota: int,
    languages: Sequence[F64 | None],
) -> list[I64]:
    """For each viewer, of each of its populations (an explored topic's recent videos, newest
    first) the unseen videos with the highest :func:`watch_prior` (plus the viewer's
    :func:`language_weight` of their language), ``quota`` split evenly over its populations:
    the :data:`DEBUT_PROBES` best new creators' uploads where it has any (and the config owes
    new creators a share), then the best of the other creators'. Equal promises go to the
    newer video. Every viewer's populations are weighed and cut in one pass (two stable sorts
    over all their videos), and a population's cut reads only its own rows, so a viewer's
    probes do not depend on who shares the batch.

    A topic is probed with what its audience watches most, so a skip says "not this topic"
    more than "not this video", and a probe that misses still costs the viewer little. Drawn
    at random from the topic's recent videos, the probes were mediocre on average: simulated
    personas (200 x 3 sessions x 3 replicates, persona seeds 0 / 5 / 9) watched 526 / 538 /
    520 s per session; probed with the best, 562 / 571 / 569 s (cold viewers 491 -> 539 s at
    seed 0). Drawn in proportion to the promise, 533 s at seed 0; to its cube, 552 s: the
    sharper, the better. But the best are established videos, so uploads of creators with no
    audience yet lost the explorers' views (new creators' share of a cooking fan's feed 11.7%
    -> 9.6% of the 10% owed); one place per topic keeps them a first audience among the
    viewers the feed is still learning, at no cost in watch beyond noise (re-fitted personas,
    seed 0: 472.7 -> 475.2 s per session). engine/sim/README.md has the figures.
    """
    ctx = contexts[0]
    probes = DEBUT_PROBES if ctx.config.rerank.debut_share > 0 else 0
    flat = [ids for own in populations for ids in own]
    if not flat:
        return [np.zeros(0, dtype=np.int64) for _ in populations]
    counts = [len(own) for own in populations]
    lengths = np.fromiter(map(len, flat), dtype=np.int64, count=len(flat))
    everyone = np.concatenate(flat).astype(np.int64, copy=False)
    segment = np.arange(len(flat), dtype=np.int64).repeat(lengths)
    alone = len(populations) == 1
    if alone:  # a single pick: its own seen set, no batch keys
        kept = ~states[0].seen.mask(everyone)
    else:
        owner = np.repeat(np.arange(len(populations), dtype=np.int64), counts)
        rows = Batch.of_rows(everyone, owner[segment], len(populations))
        kept = ~rows.member([state.seen for state in states], everyone)
    unseen, segment = everyone[kept], segment[kept]
    viewer = None if alone else owner[segment]
    prior = watch_prior(ctx, unseen) + _language_terms(ctx, languages, viewer, unseen)
    now = ctx.now if viewer is None else np.array([c.now for c in contexts])[viewer]
    new = ctx.pools.new_creators(unseen, now)
    size = np.repeat([max(1, quota // n) if n else 0 for n in counts], counts).astype(np.int64)
    compiled = kernels.loaded()
    if compiled is not None:
        bounds = np.searchsorted(segment, np.arange(len(flat) + 1))
        chosen = compiled.segment_tops(prior, new, bounds, probes, size)
    else:
        chosen = _segment_tops(prior, new, segment, probes, size)
    if viewer is None:
        return [unseen[chosen]]
    per_viewer = np.bincount(viewer[chosen], minlength=len(populations))
    return np.split(unseen[chosen], np.cumsum(per_viewer)[:-1])


def _segment_tops(prior: F64, new: Mask, segment: I64, probes: int, size: I64) -> I64:
    """Per segment (``segment``: each row's, ascending), the positions of its ``probes`` new
    rows with the highest ``prior``, then of its ``size[segment]`` less those others; each by
    ``prior`` descending, equal priors by position (one stable sort over every row)."""
    group = 2 * segment + ~new  # a segment's new rows first
    groups = 2 * len(size)
    order = stable_order(-prior, group)  # np.lexsort((-prior, group))'s order
    grouped = group[order]
    # Place within its group: where the group starts (one search per group, not per row).
    rank = np.arange(len(order)) - grouped.searchsorted(np.arange(groups))[grouped]
    debuts = np.minimum(probes, np.bincount(segment[new], minlength=len(size)))
    limit = np.empty(2 * len(size), dtype=np.int64)
    limit[0::2] = probes
    limit[1::2] = size - debuts
    chosen: I64 = order[rank < limit[grouped]]
    return chosen


def _language_terms(
    ctx: SourceContext, weights: Sequence[F64 | None], viewer: I64 | None, ids: I64
) -> F64 | float:
    """:func:`_language_term` of each of ``ids`` for its ``viewer`` (0 where it has none;
    ``viewer`` None: every id is the only viewer's)."""
    if all(w is None for w in weights):
        return 0.0
    if viewer is None:
        return _language_term(ctx, weights[0], ids)
    n = len(ctx.catalog.world.languages)
    table = np.stack([np.zeros(n) if w is None else w for w in weights])
    term: F64 = table[viewer, ctx.catalog.world.videos.language[ids]]
    return term


def _top(values: F64, at: I64, n: int) -> I64:
    """The ``n`` of positions ``at`` with the largest ``values`` (all of them if fewer)."""
    n = min(n, len(at))
    top: I64 = at[largest(values[at], n)] if n else at[:0]
    return top


def _choose_each(populations: list[I64], size: int, rng: np.random.Generator) -> I64:
    """``rng.choice(ids, min(size, len(ids)), replace=False)`` of each in turn, concatenated
    (the same draws, made in one pass: :func:`engine.pick.uniform_positions`)."""
    sizes = [min(size, len(ids)) for ids in populations]
    drawn = uniform_positions(rng, [len(ids) for ids in populations], sizes)
    starts = np.cumsum([0, *map(len, populations[:-1])])
    at = np.repeat(starts, sizes) + drawn
    chosen: I64 = np.concatenate(populations)[at].astype(np.int64)
    return chosen


def _unexplored(ctx: SourceContext, state: UserState, rng: np.random.Generator) -> I64:
    topics = ctx.catalog.world.topics
    unexplored = np.flatnonzero(state.topic_affinity <= 0.05)
    unexplored = unexplored[~in_sorted(unexplored, np.sort(np.asarray(state.interests, np.int64)))]
    if len(unexplored) == 0:
        return unexplored.astype(np.int64)
    weights = topics.popularity[unexplored].astype(np.float64)
    size = min(EXPLORE_TOPICS, len(unexplored))
    chosen: I64 = rng.choice(unexplored, size=size, replace=False, p=weights / weights.sum())
    return chosen


def locale(ctx: SourceContext, state: UserState, quota: int, rng: np.random.Generator) -> I64:
    recent = ctx.catalog.by_country.newest(state.country, ctx.now, RECENT_PER_COUNTRY)
    if len(recent) == 0 or quota == 0:
        return np.zeros(0, dtype=np.int64)
    return rng.choice(recent, size=min(quota, len(recent)), replace=False).astype(np.int64)


def popular(ctx: SourceContext, state: UserState, rng: np.random.Generator) -> Candidates:
    """The popular baseline's only source: the catalogue's most completed videos, unseen."""
    ranked = ctx.catalog.most_completed(ctx.config.scoring.prior_views, BASELINE_POOL * 4)
    proposed: dict[str, I64] = {Source.POPULAR: _unseen(ranked, state)[:BASELINE_POOL]}
    return _merge(proposed, ctx, query_vector(state, ctx.config.profile))


def own_proposals(
    ctx: SourceContext, state: UserState, proposed: dict[str, I64], limit: int
) -> Candidates:
    """A policy's own proposals (video ids per source name, best first), each cut to the first
    ``limit`` the viewer has not seen and merged the engine's way (the first source in
    PRIORITY is credited)."""
    unseen = {name: _unseen(ids, state)[:limit] for name, ids in proposed.items()}
    return _merge(unseen, ctx, query_vector(state, ctx.config.profile))


def gather(ctx: SourceContext, state: UserState, rng: np.random.Generator) -> Candidates:
    """Run every source within its quota and merge them (:func:`gather_many` of one)."""
    return gather_many([ctx], [state], [rng])[0]


def gather_many(
    contexts: Sequence[SourceContext],
    states: Sequence[UserState],
    rngs: Sequence[np.random.Generator],
) -> list[Candidates]:
    """:func:`gather` for several viewers (one context each, sharing one catalog and config):
    each source runs for every viewer in turn, so a viewer's generator is drawn from in the
    same order as alone, and the interest source searches for all of them at once
    (:func:`interest_many`). Each viewer's candidates are the same as alone.
    """
    ctx = contexts[0]
    quotas = ctx.config.sources
    queries = [query_vector(state, ctx.config.profile) for state in states]
    # Drawn first, before any source uses the generator: the draws decide the topics.
    prior = topic_prior(ctx.catalog.world)
    drawing = [k for k, state in enumerate(states) if len(state.topic_hooked)]
    draws: list[F64 | None] = [None] * len(states)
    if drawing:
        drawn = draw_topics_many([states[k] for k in drawing], [rngs[k] for k in drawing], prior)
        for k, viewer_draws in zip(drawing, drawn, strict=True):
            draws[k] = viewer_draws
    # What the scores rank topics by: the draws, or the posterior means once settled.
    after = ctx.config.rerank.settle_after
    ranked = [
        None if d is None else settled(state, d, after, prior)
        for state, d in zip(states, draws, strict=True)
    ]
    languages = [language_weight(ctx, state) for state in states]
    viewers = list(zip(contexts, states, rngs, draws, ranked, languages, strict=True))
    fresh_ = [_fresh(c, s, quotas.fresh, rng, r, w) for c, s, rng, _, r, w in viewers]
    locale_ = [locale(c, s, quotas.locale, rng) for c, s, rng, _, _, _ in viewers]
    explore_ = explore_many(contexts, states, quotas.explore, rngs, draws, languages)
    interest_ = interest_many(ctx, states, queries, quotas.interest, ranked, languages)
    # The recent positives the co-engagement sources and scores start from.
    seeds = [recent_positives(state.reactions) for state in states]
    proposed = []
    for k, (c, state, rng, _, _, _) in enumerate(viewers):
        own: dict[str, I64] = {
            Source.BOOSTED: _unseen(c.boosted, state)[: quotas.boosted],
            Source.FOLLOW: follow(c, state, quotas.follow),
            Source.FRESH: fresh_[k],
            Source.COENGAGEMENT: coengaged(c, state, quotas.coengagement, seeds[k]),
            Source.COCREATOR: coengaged_creators(c, state, quotas.coengaged_creators, seeds[k]),
            Source.TRENDING: trending(c, state, quotas.trending),
            Source.LOCALE: locale_[k],
            Source.EXPLORE: explore_[k],
            Source.INTEREST: interest_[k],
        }
        if queries[k] is None:
            own[Source.STARTER] = cold_start(c, state, quotas.interest, rng)
        proposed.append(own)
    merged = _merge_many(proposed, ctx, queries, ranked)
    if ctx.coengagement is None:
        return merged
    ids = [m.ids for m in merged]
    scores = ctx.coengagement.scores_many(ids, seeds)
    similar = ctx.coengagement.viewers.scores_many(ids, [state.user_id for state in states])
    return [
        replace(m, coengagement=own, similar_viewers=alike)
        for m, own, alike in zip(merged, scores, similar, strict=True)
    ]


def coengaged(
    ctx: SourceContext, state: UserState, quota: int, seeds: list[int] | None = None
) -> I64:
    """What viewers who finished or liked the viewer's recent positives (``seeds``, if already
    found) also finished or liked, whatever its topic: the strongest partners of each recent
    positive in turn."""
    if ctx.coengagement is None or quota == 0:
        return np.zeros(0, dtype=np.int64)
    if seeds is None:
        seeds = recent_positives(state.reactions)
    found = ctx.coengagement.neighbours(seeds, quota * 2)
    return _unseen(found, state)[:quota]


def coengaged_creators(
    ctx: SourceContext, state: UserState, quota: int, seeds: list[int] | None = None
) -> I64:
    """The newest unseen videos of the creators most co-engaged with the creators of the
    viewer's recent positives (``seeds``, if already found;
    :meth:`engine.coengagement.CoEngagement.partner_creators`)."""
    if ctx.coengagement is None or quota == 0:
        return np.zeros(0, dtype=np.int64)
    if seeds is None:
        seeds = recent_positives(state.reactions)
    creators = ctx.coengagement.partner_creators(seeds, quota)
    if not creators:
        return np.zeros(0, dtype=np.int64)
    per_creator = max(1, quota // len(creators)) + FOLLOW_PER_CREATOR
    newest = [ctx.catalog.by_creator.newest(c, ctx.now, per_creator) for c in creators]
    return _unseen(np.concatenate(newest), state)[:quota]


def _merge(
    proposed: dict[str, I64], ctx: SourceContext, query: F32 | None, draws: F64 | None = None
) -> Candidates:
    """One viewer's proposals merged (:func:`_merge_many` of one)."""
    return _merge_many([proposed], ctx, [query], [draws])[0]


def _merge_many(
    proposed: Sequence[dict[str, I64]],
    ctx: SourceContext,
    queries: Sequence[F32 | None],
    draws: Sequence[F64 | None],
) -> list[Candidates]:
    """Each viewer's proposals merged, every viewer's in one pass: a video proposed twice is
    kept once, credited to its first source in PRIORITY order."""
    ordered = [dict(sorted(p.items(), key=lambda item: CODE[item[0]])) for p in proposed]
    arrays = [ids for p in ordered for ids in p.values()]
    sizes = np.fromiter(map(len, arrays), dtype=np.int64, count=len(arrays))
    codes = np.fromiter((CODE[n] for p in ordered for n in p), dtype=np.int8, count=len(arrays))
    # Each viewer's proposals laid out in PRIORITY order, keyed by viewer: the first
    # occurrence of a key is the video's first source for that viewer.
    if len(ordered) == 1:  # a single pick: the key is the video
        ids, first = _first_of_each(np.concatenate(arrays).astype(np.int64))
        bounds = [0, len(ids)]
    else:
        viewer = np.repeat(np.arange(len(ordered), dtype=np.int64), [len(p) for p in ordered])
        keyed = (np.repeat(viewer, sizes) << VIEWER_SHIFT) | np.concatenate(arrays)
        keys, first = _first_of_each(keyed)
        ids = keys & _ID_MASK
        bounds = np.searchsorted(keys >> VIEWER_SHIFT, np.arange(len(ordered) + 1)).tolist()
    source = codes.repeat(sizes)[first]
    merged = []
    for k, (own, query) in enumerate(zip(ordered, queries, strict=True)):
        at = slice(bounds[k], bounds[k + 1])
        if query is None:
            similarity = np.zeros(at.stop - at.start, dtype=np.float32)
        else:
            similarity = ctx.catalog.embedding[ids[at]] @ query
        merged.append(
            Candidates(
                ids=ids[at],
                source=source[at],
                proposed=own,
                similarity=similarity,
                query_known=query is not None,
                topic_draw=draws[k],
            )
        )
    return merged


_ID_MASK = (1 << VIEWER_SHIFT) - 1


def _first_of_each(values: I64) -> tuple[I64, I64]:
    """``np.unique(values, return_index=True)`` without its generic overhead: the distinct
    values, ascending, and where each first occurs."""
    order = stable_order_of_ids(values)
    ordered = values[order]
    first = np.empty(len(values), dtype=bool)
    first[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    return ordered[first], order[first]
