"""One pick, stage by stage: candidates → filters → scores → re-rank → pick, plus the receipt.

Pure with respect to storage: it reads the viewer's state and the world and returns a
:class:`Decision`; the engine facade records it. The stages are separate functions so that a
staged policy (:class:`engine.policy.StagedPolicy`) can swap the sources or the scores and
keep the rest: :func:`propose` (sources, filters), :func:`engine_scores`, :func:`decide`
(re-rank, sampling, propensity, receipt).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt

from engine.candidates import Candidates, SourceContext, gather, gather_many
from engine.catalog import Catalog
from engine.coengagement import CoEngagement
from engine.config import Config
from engine.filters import FilterContext, apply_filters, apply_filters_many
from engine.learned import (
    INPUTS,
    LEARNED,
    OnlineLogit,
    learned_scores_of,
    receipt_terms,
    receipt_terms_many,
)
from engine.pick import Choice, choose, slate_probabilities, with_slot
from engine.pools import STATE_NAMES, TESTING, PoolViewOnce, TestPools
from engine.profile import UserState, query_vector
from engine.receipt import Funnel, Receipt
from engine.rerank import Slate, finishing_topics, rerank_many
from engine.scoring import ACTIONS, Scores, ScoringContext, ScoringRows, followed_of, score_of
from engine.sources import CODE, PRIORITY, Source
from engine.trending import Trending
from engine.uncertainty import draw_multiplier_rows, with_raised

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
SLATE_SHOWN = 8
# The most of one pick the debut slot takes, however far behind a viewer's feed is: a feed
# that owes new creators several videos pays them back one at a time, not in a run.
DEBUT_MASS_MAX = 0.5
# What a topic turned up with its slider is owed of the viewer's feed per step above neutral
# (slider 2: a tenth, 3: a fifth), and the most of one pick that slot takes.
RAISED_SHARE_PER_STEP = 0.1
RAISED_MASS_MAX = 0.3
WIDEN_CHUNK = 5000
_FOLLOWED = INPUTS.index("followed")  # its column of the learned inputs


@dataclass(frozen=True)
class Boost:
    id: int
    video_id: int
    weight: float
    starts: float
    until: float
    reason: str
    by: str


@dataclass(frozen=True)
class Shared:
    """Everything shared by all viewers that a pick reads."""

    catalog: Catalog
    config: Config
    trending: Trending
    pools: TestPools
    boosts: dict[int, Boost]  # in force now, by video
    now: float
    coengagement: CoEngagement | None = None  # learned from every viewer's positives
    pool_view: PoolViewOnce | None = None  # the pools' lists, computed once for a batch

    @cached_property
    def boosted_ids(self) -> I64:
        """The boosted videos, sorted."""
        return np.array(sorted(self.boosts), dtype=np.int64)


class NothingToRecommendError(RuntimeError):
    """Every candidate was filtered out (a viewer who has seen the whole world).

    Attributes:
        user_id: the viewer (None when not known): a batch names who stopped it.
    """

    def __init__(self, message: str, user_id: int | None = None) -> None:
        super().__init__(message)
        self.user_id = user_id


def _no_ids() -> I64:
    return np.zeros(0, dtype=np.int64)


def _no_probabilities() -> F64:
    return np.zeros(0, dtype=np.float64)


class Decision:
    """A policy's pick: the video, its source, score, rank in the slate and propensity, the
    receipt, and the whole slate in rank order with the policy's probability of each item
    (the receipt keeps only the top: off-policy evaluation weighs any logged video under this
    config).

    ``receipt`` is a :class:`Receipt` or a :class:`ReceiptDraft`, which writes it out when it
    is first read (the engine's own picks: a simulation with logging off never reads most of
    it); :attr:`inputs`, :attr:`rates` and :attr:`predicted` never need it written out.
    """

    __slots__ = (
        "_receipt",
        "propensity",
        "rank",
        "score",
        "slate_ids",
        "slate_probabilities",
        "source",
        "video_id",
    )

    def __init__(
        self,
        video_id: int,
        source: str,
        score: float,
        rank: int,
        propensity: float,
        receipt: Receipt | ReceiptDraft,
        slate_ids: I64 | None = None,
        slate_probabilities: F64 | None = None,
    ) -> None:
        self.video_id = video_id
        self.source = source
        self.score = score
        self.rank = rank
        self.propensity = propensity
        self._receipt = receipt
        self.slate_ids = _no_ids() if slate_ids is None else slate_ids
        self.slate_probabilities = (
            _no_probabilities() if slate_probabilities is None else slate_probabilities
        )

    @property
    def receipt(self) -> Receipt:
        """The pick's full receipt (written out on first read, then kept)."""
        receipt = self._receipt
        if isinstance(receipt, ReceiptDraft):
            receipt = self._receipt = receipt.build()
        return receipt

    @property
    def draft(self) -> ReceiptDraft | None:
        """The receipt still to write out, or None once written."""
        return self._receipt if isinstance(self._receipt, ReceiptDraft) else None

    def keep_receipt(self, receipt: Receipt) -> None:
        """Keep the receipt written out for this pick (by :func:`write_receipts`)."""
        self._receipt = receipt

    @property
    def inputs(self) -> dict[str, float]:
        """The learned model's input row at pick time (:attr:`Receipt.inputs`)."""
        return self._receipt.inputs

    @property
    def rates(self) -> dict[str, float]:
        """The global-rate logits at pick time (:attr:`Receipt.rates`)."""
        return self._receipt.rates

    @property
    def predicted(self) -> dict[str, float]:
        """The policy's P(action) of the pick, for each action it predicted (the ``p`` of
        the receipt's terms; empty for a policy that predicts none)."""
        receipt = self._receipt
        if isinstance(receipt, ReceiptDraft):
            return receipt.predicted
        return {a: float(term["p"]) for a, term in receipt.terms.items() if "p" in term}


Propose = Callable[[SourceContext, UserState, np.random.Generator], Candidates]


@dataclass(frozen=True, eq=False)
class Proposal:
    """The candidates a pick's sources proposed and which of them every filter let through."""

    candidates: Candidates
    keep: npt.NDArray[np.bool_]
    removed: dict[str, int]  # how many each filter took out

    # Kept once read: every stage of a pick reads them.
    @cached_property
    def ids(self) -> I64:
        return self.candidates.ids[self.keep]

    @cached_property
    def source(self) -> npt.NDArray[np.int8]:
        return self.candidates.source[self.keep]

    @property
    def coengagement(self) -> F64 | None:
        """Co-engagement of each kept candidate with the viewer's recent positives
        (:mod:`engine.coengagement`); None when the sources computed none."""
        c = self.candidates
        return None if c.coengagement is None else c.coengagement[self.keep]

    @property
    def similar_viewers(self) -> F64 | None:
        """How much viewers who share the viewer's positives engaged with each kept candidate
        (:mod:`engine.similar_viewers`); None when the sources computed none."""
        c = self.candidates
        return None if c.similar_viewers is None else c.similar_viewers[self.keep]

    @property
    def similarity(self) -> F64 | None:
        """Interest similarity of the kept candidates; None while the viewer is unknown."""
        c = self.candidates
        return c.similarity[self.keep].astype(np.float64) if c.query_known else None


def propose(
    world: Shared,
    state: UserState,
    keyword_blocked: I64,
    rng: np.random.Generator,
    sources: Propose = gather,
) -> Proposal:
    """Run the sources, then the filters; widen to the whole catalog if nothing is left.

    Raises:
        NothingToRecommendError: nothing in the world may be shown to this viewer.
    """
    return propose_many([world], [state], [keyword_blocked], [rng], sources)[0]


def propose_many(
    worlds: Sequence[Shared],
    states: Sequence[UserState],
    keyword_blocked: Sequence[I64],
    rngs: Sequence[np.random.Generator],
    sources: Propose = gather,
) -> list[Proposal]:
    """:func:`propose` for several viewers: each viewer's sources (they draw from its own
    generator), then the filters over every viewer's candidates at once; each proposal is the
    same as alone. The worlds share one catalog and config.

    Raises:
        NothingToRecommendError: nothing in the world may be shown to one of the viewers (the
            first in order; its ``user_id`` says who).
    """
    contexts = [_source_context(w, w.boosted_ids) for w in worlds]
    if sources is gather:  # the engine's own sources: for the whole batch at once
        found = gather_many(contexts, states, rngs)
    else:
        found = [sources(c, s, rng) for c, s, rng in zip(contexts, states, rngs, strict=True)]
    filters = [
        FilterContext(w.catalog, w.config, w.now, blocked)
        for w, blocked in zip(worlds, keyword_blocked, strict=True)
    ]
    kept = apply_filters_many([c.ids for c in found], states, filters)
    proposals = []
    for world, state, candidates, context, (keep, removed) in zip(
        worlds, states, found, filters, kept, strict=True
    ):
        if not keep.any():
            candidates, keep, removed = _widen(world, state, context)
        proposals.append(Proposal(candidates, keep, removed))
    return proposals


def _source_context(world: Shared, boosted: I64) -> SourceContext:
    return SourceContext(
        world.catalog,
        world.trending,
        world.pools,
        boosted,
        world.config,
        world.now,
        world.coengagement,
        world.pool_view,
    )


def engine_scores(
    world: Shared, state: UserState, proposal: Proposal, model: OnlineLogit | None = None
) -> Scores:
    """The engine's scores of the kept candidates (what every staged receipt explains):
    P(action) from the learned ``model`` if given, else from the hand-set formula."""
    return engine_scores_many([world], [state], [proposal], model)[0]


def engine_scores_many(
    worlds: Sequence[Shared],
    states: Sequence[UserState],
    proposals: Sequence[Proposal],
    model: OnlineLogit | None = None,
) -> list[Scores]:
    """:func:`engine_scores` of several viewers' picks at once: every step of the formula is
    one numpy call for the whole batch (:mod:`engine.batch`), and each viewer's scores are
    the same as alone. The worlds share one catalog and config."""
    drawn = [p.candidates.topic_draw is not None for p in proposals]
    if any(drawn) and not all(drawn):  # sources that drew for some viewers only: two batches
        parts = {
            flag: engine_scores_many(
                [w for w, d in zip(worlds, drawn, strict=True) if d == flag],
                [s for s, d in zip(states, drawn, strict=True) if d == flag],
                [p for p, d in zip(proposals, drawn, strict=True) if d == flag],
                model,
            )
            for flag in (True, False)
        }
        return [parts[flag].pop(0) for flag in drawn]
    contexts = [
        ScoringContext(w.catalog, w.config, w.now, {v: b.weight for v, b in w.boosts.items()})
        for w in worlds
    ]
    rows = ScoringRows.of(
        [p.ids for p in proposals],
        [p.similarity for p in proposals],
        states,
        contexts,
        [p.coengagement for p in proposals],
        [p.similar_viewers for p in proposals],
    )
    scores = score_of(rows) if model is None else learned_scores_of(rows, model)
    if not all(drawn):
        return rows.split(scores)
    return rows.split(with_topic_draw(scores, _draw_multipliers(rows, proposals, scores)))


def _draw_multipliers(rows: ScoringRows, proposals: Sequence[Proposal], scores: Scores) -> F64:
    """Each candidate's ``topic draw`` multiplier from its viewer's Thompson draws."""
    drawn = [p.candidates.topic_draw for p in proposals]
    draws: F64 = rows.batch.stacked(drawn)  # type: ignore[arg-type, assignment]
    raised: F64 = rows.batch.stacked(  # type: ignore[assignment]
        [
            with_raised(d, [t for t, m in sorted(s.topic_sliders.items()) if m > 1.0])
            for d, s in zip(draws, rows.states, strict=True)
        ]
    )
    videos = rows.ctx.catalog.world.videos
    viewer = rows.batch.viewer
    multiplier = draw_multiplier_rows(raised, viewer, videos.topic_id[rows.ids])
    # Following is an explicit choice too: a followed creator's videos draw as high as the
    # best topic, so an unsure topic elsewhere never buries what the viewer asked for.
    # The learned scores hold it among their inputs: no second lookup in the follow sets.
    inputs = scores.inputs
    followed = followed_of(rows) if inputs is None else inputs[:, _FOLLOWED] == 1.0
    if followed.any():
        best = draw_multiplier_rows(draws, np.arange(len(draws)), np.argmax(draws, axis=1))
        multiplier = np.where(followed, np.maximum(multiplier, best[viewer]), multiplier)
    # Heating promises the operator's weight on any video: the draw leaves boosted ones alone.
    return np.where(scores.multipliers["boost"] != 1.0, 1.0, multiplier)


def with_topic_draw(scores: Scores, multiplier: F64) -> Scores:
    """The scores with the pick's Thompson draw of each candidate's topic as one more
    multiplier (``topic draw``, 1 where the engine knows nothing): a negative score is divided
    by it, as every multiplier does, so an unsure topic never makes a disliked video rank
    better."""
    final = scores.score
    adjusted = np.where(final >= 0, final * multiplier, final / multiplier)
    multipliers = {**scores.multipliers, "topic draw": multiplier}
    return Scores(  # dataclasses.replace's result, built directly (it cost 10 us a pick)
        features=scores.features,
        affinity=scores.affinity,
        p=scores.p,
        value=scores.value,
        base=scores.base,
        multipliers=multipliers,
        score=adjusted,
        inputs=scores.inputs,
        rates=scores.rates,
        weights=scores.weights,
    )


def decide(
    world: Shared,
    state: UserState,
    proposal: Proposal,
    scores: Scores,
    final: F64,
    rng: np.random.Generator,
    policy: str,
) -> Decision:
    """Re-rank by ``final`` (one score per kept candidate), sample the slate, write the receipt."""
    return decide_many([world], [state], [proposal], [scores], [final], [rng], policy)[0]


def decide_many(
    worlds: Sequence[Shared],
    states: Sequence[UserState],
    proposals: Sequence[Proposal],
    scores: Sequence[Scores],
    finals: Sequence[F64],
    rngs: Sequence[np.random.Generator],
    policy: str,
) -> list[Decision]:
    """:func:`decide` for several viewers: the re-rank over every viewer's candidates at once
    (:func:`engine.rerank.rerank_many`), then each viewer's draw from its own generator and
    its receipt; each decision is the same as alone. The worlds share one catalog and config."""
    world = worlds[0]
    explore = [p.source == CODE[Source.EXPLORE] for p in proposals]
    debut = [
        _debut(w, state, p, s)
        for w, state, p, s in zip(worlds, states, proposals, scores, strict=True)
    ]
    raised = [_raised(w, state, p) for w, state, p in zip(worlds, states, proposals, strict=True)]
    slates = rerank_many(
        [p.ids for p in proposals],
        finals,
        explore,
        [list(s.shown) for s in states],
        world.catalog,
        world.config.rerank,
        [slot.mask for slot in debut],
        [slot.mask for slot in raised],
        _finishing(world, states),
    )
    return [
        _decided(w, state, proposal, scored, new, turned_up, slate, rng, policy)
        for w, state, proposal, scored, new, turned_up, slate, rng in zip(
            worlds, states, proposals, scores, debut, raised, slates, rngs, strict=True
        )
    ]


def _decided(
    world: Shared,
    state: UserState,
    proposal: Proposal,
    scores: Scores,
    debut: Slot,
    raised: Slot,
    slate: Slate,
    rng: np.random.Generator,
    policy: str,
) -> Decision:
    """One viewer's draw from its slate (``debut``: :func:`_debut` of its candidates), and
    the receipt."""
    config = world.config
    candidates, ids, source = proposal.candidates, proposal.ids, proposal.source
    is_explore = source == CODE[Source.EXPLORE]
    slate_scores = slate.adjusted[slate.order]
    share = explore_share(config, len(state.seen))
    is_debut = debut.mask[slate.order]
    is_raised = raised.mask[slate.order]
    probs = slate_probabilities(
        slate_scores, is_explore[slate.order], config.pick, share, is_debut, debut.mass
    )
    if raised.mass > 0:
        probs = with_slot(probs, is_raised, raised.mass)
    choice = choose(probs, rng)
    i = int(slate.order[choice.index])
    funnel = Funnel(
        proposed={name: len(ids) for name, ids in candidates.proposed.items()},
        merged=len(candidates.ids),
        removed=proposal.removed,
        kept=len(ids),
        diversity_blocked=slate.blocked,
        slate=len(slate.order),
    )
    slot = debut if is_debut[choice.index] and debut.mass > 0 else None
    turned_up = raised if is_raised[choice.index] and raised.mass > 0 else None
    receipt = ReceiptDraft(
        world, state, proposal, scores, slate, choice, i, funnel, policy, slot, turned_up
    )
    return Decision(
        video_id=int(ids[i]),
        source=PRIORITY[int(source[i])],
        score=float(slate.adjusted[i]),
        rank=choice.index,
        propensity=choice.propensity,
        receipt=receipt,
        slate_ids=ids[slate.order],
        slate_probabilities=choice.probabilities,
    )


@dataclass(frozen=True)
class Slot:
    """What one pick sets aside, whatever the scores, for a kind of candidates the feed owes a
    share to: new creators' uploads (:func:`_debut`), the videos of topics the viewer turned
    up with their sliders (:func:`_raised`).

    Attributes:
        mask: which candidates may take the slot.
        share: the share of the viewer's feed they are owed.
        mass: the share of the pick spread over those of them in the slate.
        seen: the viewer's recently seen videos counted (at most the last 64).
        had: how many of them were of that kind.
    """

    mask: npt.NDArray[np.bool_]
    share: float
    mass: float
    seen: int
    had: int

    @classmethod
    def owed(
        cls, mask: npt.NDArray[np.bool_], share: float, recent: npt.NDArray[np.bool_], most: float
    ) -> Slot:
        """The slot that takes what the feed still owes: ``share`` of the videos seen lately
        (``recent``: which of them were of the kind), this one included, less those it had,
        at most ``most`` of the pick."""
        seen, had = len(recent), int(np.count_nonzero(recent))
        return cls(mask, share, min(most, max(0.0, share * (seen + 1) - had)), seen, had)

    @classmethod
    def empty(cls, n: int) -> Slot:
        """No slot: nothing owed, no candidate marked."""
        return cls(np.zeros(n, bool), 0.0, 0.0, 0, 0)

    def as_context(self) -> dict[str, float]:
        """The receipt's words for the slot: the share owed, what the viewer had, the mass."""
        return {"share": self.share, "seen": self.seen, "had": self.had, "mass": self.mass}


def _debut(world: Shared, state: UserState, proposal: Proposal, scores: Scores) -> Slot:
    """Which candidates are new creators' uploads still in their test pools, in a topic that
    has hooked the viewer before and that the pick's Thompson draw does not hold below a typical
    one, and how much of the pick goes to them.

    New creators are owed ``debut_share`` of each viewer's feed: the slot takes what the feed
    still owes them (that share of the videos seen lately, this one included, less the new
    creators' uploads among them), at most :data:`DEBUT_MASS_MAX`. So their first audience
    does not hang on the ranker, which rates uploads nobody has seen below what it knows (the
    more viewers it learns from, the lower), nor on how many videos a viewer watches; a feed
    whose ranker already shows them their share gives up nothing. Before ``debut_after``
    videos the slot waits (the first ones learn the viewer), and an audience that may watch
    the uploads is one whose topics they are in (a cold viewer's learning picks are not spent
    on them)."""
    ids = proposal.ids
    r = world.config.rerank
    if r.debut_share <= 0 or len(state.seen) < r.debut_after:
        return Slot.empty(len(ids))
    # The feed's recent stretch, not its whole past: a viewer of thousands of videos is owed
    # nothing for last month's, and the creators new then are not new now.
    recent = np.fromiter(state.shown, dtype=np.int64, count=len(state.shown))
    had = world.pools.new_creators(recent, world.now)
    debut: npt.NDArray[np.bool_] = world.pools.state[ids] == TESTING
    debut &= world.pools.new_creators(ids, world.now)
    topics = world.catalog.world.videos.topic_id[ids]
    draw = scores.multipliers.get("topic draw")
    if draw is None or len(state.topic_hooked) == 0:
        debut &= state.topic_affinity.take(topics) > 0
    else:
        debut &= (state.topic_hooked.take(topics) > 0) & (draw >= 1.0)
    return Slot.owed(debut, r.debut_share, had, DEBUT_MASS_MAX)


def _raised(world: Shared, state: UserState, proposal: Proposal) -> Slot:
    """Which candidates are of a topic the viewer turned up with its slider, and how much of
    the pick goes to them: the feed owes such a topic :data:`RAISED_SHARE_PER_STEP` of the
    videos seen lately per step above neutral (all raised topics together), less those of them
    the viewer already had, at most :data:`RAISED_MASS_MAX`.

    The slider also multiplies the topic's scores, but a multiplier cannot bring in a topic
    whose videos the scorer rates far below the feed's (with the length-aware completion prior
    a topic of long, rarely finished videos scored several times lower than a slider of 3
    makes up). "More of this" is a request, so, like the debut slot, it gets a share of the
    pick whatever the score, and the receipt says so; a feed that already shows the topic
    that often gives up nothing."""
    ids = proposal.ids
    steps = {t: m - 1.0 for t, m in state.topic_sliders.items() if m > 1.0}
    if not steps:
        return Slot.empty(len(ids))
    topics = np.fromiter(sorted(steps), dtype=np.int64, count=len(steps))
    recent = np.fromiter(state.shown, dtype=np.int64, count=len(state.shown))
    topic_of = world.catalog.world.videos.topic_id
    share = RAISED_SHARE_PER_STEP * sum(steps.values())
    had = np.isin(topic_of[recent], topics)
    return Slot.owed(np.isin(topic_of[ids], topics), share, had, RAISED_MASS_MAX)


def _widen(
    world: Shared, state: UserState, filters: FilterContext
) -> tuple[Candidates, npt.NDArray[np.bool_], dict[str, int]]:
    """Every source came up empty after filtering (strict keyword filters, a viewer who has
    seen most of the world): search the whole catalog, newest first, a chunk at a time.

    Raises:
        NothingToRecommendError: nothing in the world may be shown to this viewer.
    """
    order = world.catalog.publish_order
    removed_total: dict[str, int] = {}
    for start in range(0, len(order), WIDEN_CHUNK):
        ids = np.sort(order[start : start + WIDEN_CHUNK])
        keep, removed = apply_filters(ids, state, filters)
        for name, count in removed.items():
            removed_total[name] = removed_total.get(name, 0) + count
        if keep.any():
            return catalog_candidates(world, state, ids), keep, removed_total
    raise NothingToRecommendError(f"nothing left to recommend to {state.name}", state.user_id)


def catalog_candidates(world: Shared, state: UserState, ids: I64) -> Candidates:
    """Given videos as the catalog source's candidates, with their similarity to the viewer."""
    query = query_vector(state, world.config.profile)
    similarity = (
        np.zeros(len(ids), np.float32) if query is None else world.catalog.embedding[ids] @ query
    )
    proposed: dict[str, I64] = {name: np.zeros(0, dtype=np.int64) for name in PRIORITY}
    proposed[Source.CATALOG] = ids
    return Candidates(
        ids=ids,
        source=np.full(len(ids), CODE[Source.CATALOG], dtype=np.int8),
        proposed=proposed,
        similarity=similarity,
        query_known=query is not None,
    )


def explore_share(config: Config, seen: int) -> float:
    """Exploration is strongest while little is known, then settles to the base share."""
    r = config.rerank
    young = r.cold_start_explore * math.exp(-seen / max(r.cold_start_videos, 1e-9))
    return min(1.0, r.explore_share + young)


class ReceiptDraft:
    """A pick's receipt before it is written out: at the pick it copies what may change later
    (the viewer's position and topic affinity, the video's pool, its boost) and the picked
    row of the scores (not the candidates' arrays: a kept draft stays small); :meth:`build`
    writes the :class:`Receipt`, as it would have been at the pick."""

    def __init__(
        self,
        world: Shared,
        state: UserState,
        proposal: Proposal,
        scores: Scores,
        slate: Slate,
        choice: Choice,
        i: int,
        funnel: Funnel,
        policy: str,
        debut: Slot | None = None,
        raised: Slot | None = None,
    ) -> None:
        candidates, ids, source = proposal.candidates, proposal.ids, proposal.source
        video_id = int(ids[i])
        top = slate.order[:SLATE_SHOWN]
        self.catalog = world.catalog
        self.video_id, self.position, self.policy = video_id, state.n_served, policy
        self.source = PRIORITY[int(source[i])]
        self.proposed = candidates.proposed  # each source's own array: not a batch's
        self.funnel, self.rank, self.propensity = funnel, choice.index, choice.propensity
        self.boost = world.boosts.get(video_id)
        self.country = state.country
        topic = int(self.catalog.world.videos.topic_id[video_id])
        self.topic_affinity = float(state.topic_affinity[topic])
        self.pool = (int(world.pools.stage[video_id]), int(world.pools.state[video_id]))
        self.top = (ids[top], slate.adjusted[top], source[top], choice.probabilities[:SLATE_SHOWN])
        self.author_penalty = float(slate.author_penalty[i])
        self.score = float(slate.adjusted[i])
        # The picked row as Python numbers (item() reads one without a numpy scalar).
        self.features = {k: v.item(i) for k, v in scores.features.items()}
        self.multipliers = {k: v.item(i) for k, v in scores.multipliers.items()}
        self.p = {a: scores.p[a].item(i) for a in ACTIONS}
        self.value = {a: scores.value[a].item(i) for a in ACTIONS}
        self.affinity, self.base = scores.affinity.item(i), scores.base.item(i)
        self.learned_row = _learned_row(scores, i)
        # The debut slot that gave the pick part of its chance (None: it owed the pick nothing).
        self.debut = None if debut is None else debut.as_context()
        self.raised = None if raised is None else raised.as_context()  # the slider's likewise

    @cached_property
    def predicted(self) -> dict[str, float]:
        """P(action) of the pick for every action (:attr:`Decision.predicted`)."""
        return self.p

    @cached_property
    def inputs(self) -> dict[str, float]:
        inputs = self.learned_row.inputs
        return {} if inputs is None else dict(zip(INPUTS, inputs[0].tolist(), strict=True))

    @cached_property
    def rates(self) -> dict[str, float]:
        rates = self.learned_row.rates
        return {} if rates is None else dict(zip(LEARNED, rates[0].tolist(), strict=True))

    def build(
        self,
        sources: list[str] | None = None,
        learned: dict[str, dict[str, float]] | None = None,
    ) -> Receipt:
        """The receipt, as it stood at the pick (``sources`` and ``learned``: its proposers
        and learned terms when :func:`write_receipts` found them for a batch at once)."""
        video_id = self.video_id
        boost = self.boost
        top_ids, top_scores, top_sources, top_probabilities = self.top
        return Receipt(
            video_id=video_id,
            position=self.position,
            policy=self.policy,
            source=self.source,
            sources=_proposers(self.proposed, video_id) if sources is None else sources,
            funnel=self.funnel,
            features=self.features,
            affinity=self.affinity,
            terms={
                a: {
                    "p": self.p[a],
                    "value": self.value[a],
                    "contribution": self.p[a] * self.value[a],
                }
                for a in ACTIONS
            },
            base_score=self.base,
            multipliers=self.multipliers,
            author_penalty=self.author_penalty,
            score=self.score,
            rank=self.rank,
            propensity=self.propensity,
            slate=[
                {
                    "video_id": video,
                    "score": score,
                    "source": PRIORITY[code],
                    "probability": probability,
                }
                for video, score, code, probability in zip(
                    top_ids.tolist(),
                    top_scores.tolist(),
                    top_sources.tolist(),
                    top_probabilities.tolist(),
                    strict=True,
                )
            ],
            boost=None
            if boost is None
            else {
                "weight": boost.weight,
                "reason": boost.reason,
                "by": boost.by,
                "until": boost.until,
            },
            context=self._context(),
            learned=receipt_terms(self.learned_row, 0) if learned is None else learned,
            inputs=self.inputs,
            rates=self.rates,
        )

    def _context(self) -> dict[str, Any]:
        w = self.catalog.world
        v = w.videos
        stage, pool_state = self.pool
        return {
            "topic": w.topics.name[int(v.topic_id[self.video_id])],
            # The viewer's topic affinity when it was picked: "why" tells it in the profile's
            # terms.
            "topic_affinity": round(self.topic_affinity, 4),
            "creator": w.creators.handle[int(v.creator_id[self.video_id])],
            "sound": w.sounds.title[int(v.sound_id[self.video_id])],
            "country": w.countries[self.country],
            "pool": stage + 1,
            "pool_state": STATE_NAMES.get(pool_state, "outside"),
            **({} if self.debut is None else {"debut": self.debut}),
            **({} if self.raised is None else {"raised": self.raised}),
        }


def _finishing(world: Shared, states: Sequence[UserState]) -> list[list[int]] | None:
    """Each viewer's topics the topic cap yields to (:func:`engine.rerank.finishing_topics`);
    None when the cap yields to none (``topic_cap_finishing`` = 0)."""
    config = world.config.rerank
    if not config.topic_cap_finishing:
        return None
    topic_id = world.catalog.world.videos.topic_id
    return [finishing_topics(s.reactions, topic_id, config) for s in states]


def write_receipts(decisions: Sequence[Decision]) -> None:
    """Write out the receipts of a batch's picks at once (a logging engine stores every one):
    the proposers of all the picks in one search, the learned terms of all in one pass. Each
    receipt is the one :attr:`Decision.receipt` would write alone."""
    drafts = [(d, draft) for d in decisions if (draft := d.draft) is not None]
    if not drafts:
        return
    sources = _proposers_many([r.proposed for _, r in drafts], [r.video_id for _, r in drafts])
    learned = _learned_terms_many([r.learned_row for _, r in drafts])
    for (decision, draft), proposers, terms in zip(drafts, sources, learned, strict=True):
        decision.keep_receipt(draft.build(proposers, terms))


def _learned_terms_many(rows: list[Scores]) -> list[dict[str, dict[str, float]]]:
    """:func:`engine.learned.receipt_terms` of each kept row, one pass per model's weights
    (a batch cut by a refresh may hold two)."""
    terms: list[dict[str, dict[str, float]]] = [{} for _ in rows]
    groups: dict[int, list[int]] = {}
    for k, row in enumerate(rows):
        if row.inputs is not None and row.rates is not None and row.weights is not None:
            groups.setdefault(id(row.weights), []).append(k)
    for members in groups.values():
        weights = rows[members[0]].weights
        assert weights is not None
        inputs = np.concatenate([rows[k].inputs for k in members])
        rates = np.concatenate([rows[k].rates for k in members])
        for k, written in zip(members, receipt_terms_many(weights, inputs, rates), strict=True):
            terms[k] = written
    return terms


def _proposers_many(
    proposed: Sequence[dict[str, I64]], video_ids: Sequence[int]
) -> list[list[str]]:
    """:func:`_proposers` of several picks (each its own proposals and video), in one search
    over every pick's proposals."""
    arrays = [ids for one in proposed for ids in one.values()]
    if not arrays:
        return [[] for _ in proposed]
    counts = [len(one) for one in proposed]
    lengths = np.array([len(ids) for ids in arrays], dtype=np.int64)
    wanted = np.repeat(np.repeat(np.asarray(video_ids, dtype=np.int64), counts), lengths)
    ends = lengths.cumsum()
    found = (np.concatenate(arrays) == wanted).nonzero()[0]
    segments = np.searchsorted(ends, found, side="right").tolist()  # increasing: dedupe in order
    firsts = np.cumsum([0, *counts]).tolist()  # each pick's first segment
    names = [list(one) for one in proposed]
    result: list[list[str]] = [[] for _ in proposed]
    pick = 0
    for segment in dict.fromkeys(segments):
        while segment >= firsts[pick + 1]:
            pick += 1
        result[pick].append(names[pick][segment - firsts[pick]])
    return result


def _proposers(proposed: dict[str, I64], video_id: int) -> list[str]:
    """The sources that proposed ``video_id``, in the order of ``proposed`` (one search over
    all their proposals: ``in`` on each array cost more than the rest of the receipt)."""
    return _proposers_many([proposed], [video_id])[0]


def _learned_row(scores: Scores, i: int) -> Scores:
    """Candidate ``i``'s learned-model row (inputs, rate logits, the batch's weights) as
    scores of one row, copied (a batch's scores are views of the batch's arrays: a kept row
    must not keep them); what :func:`engine.learned.receipt_terms` reads."""
    nothing = np.zeros(0)
    return Scores(
        features={},
        affinity=nothing,
        p={},
        value={},
        base=nothing,
        multipliers={},
        score=nothing,
        inputs=None if scores.inputs is None else scores.inputs[i, None].copy(),
        rates=None if scores.rates is None else scores.rates[i, None].copy(),
        weights=scores.weights,
    )
