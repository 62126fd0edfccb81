"""Policies: the one interface every ranker implements, built in or your own.

A policy is asked for a pick with a :class:`PickRequest` (the viewer's state, read-only, the
world's arrays, the world time, a seeded generator, and helpers that run the engine's sources
and filters) and answers with a :class:`~engine.pipeline.Decision`: the chosen video, its
propensity, the slate with each item's probability, and the receipt. It may learn from every
event the engine records (:meth:`Policy.observe`). Picks come in batches
(:meth:`Policy.pick_many`); :class:`PolicyBase` derives either form from the other, so a
policy writes whichever is natural and a later batched engine path can call the other.

Two levels, the way RecSim separates an agent from its parts:

- a whole :class:`Policy` (``random``: uniform over every allowed video; ``oracle``: a
  persona's truth, :mod:`engine.sim.oracle`; ``bandit``: Thompson sampling over topics,
  :mod:`engine.bandit`);
- only a :class:`Scorer` (scores for candidate ids) inside a :class:`StagedPolicy`, which
  keeps the engine's sources, filters, re-rank, sampling, propensities and receipts (the
  ``engine`` itself is ``StagedPolicy(EngineScorer())``; ``popular`` is a popularity scorer
  over its own source; ``itemknn``: item-item cosine over every viewer's positives,
  :mod:`engine.itemknn`).

Policies are named by a :class:`PolicySpec`: a built-in name (:data:`BUILTIN`) or
``path/to/file.py:ClassName`` / ``package.module:ClassName`` with keyword parameters. A spec
is a plain picklable value, so worker processes build their own instance from it.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import sys
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt
import tomli_w

from engine.candidates import Candidates, SourceContext, gather, popular
from engine.catalog import Catalog
from engine.config import Config
from engine.events import Event
from engine.filters import FilterContext, apply_filters
from engine.idset import IdSet
from engine.learned import Learner, OnlineLogit
from engine.pipeline import (
    Decision,
    NothingToRecommendError,
    Proposal,
    Shared,
    decide_many,
    engine_scores,
    engine_scores_many,
    propose,
    propose_many,
)
from engine.pools import STATE_NAMES
from engine.profile import UserState
from engine.receipt import Funnel, Receipt
from engine.scoring import Scores, ScoringContext, popularity_scores
from engine.sources import PRIORITY

__all__ = [
    "BUILTIN",
    "BrokenPolicyError",
    "CandidateSet",
    "Decision",
    "EngineScorer",
    "Event",
    "PickRequest",
    "Policy",
    "PolicyBase",
    "PolicyError",
    "PolicySpec",
    "PopularScorer",
    "RandomPolicy",
    "Scorer",
    "StagedPolicy",
    "as_policy",
    "picked_by",
]

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
SLATE_SHOWN = 8  # slate entries a receipt keeps

# Every built-in name and the class it stands for, loaded like any other spec (the oracle lives
# with the simulator that gives it personas; importing it lazily keeps engine.policy below it).
BUILTIN: dict[str, str] = {
    "engine": "engine.policy:EnginePolicy",
    "random": "engine.policy:RandomPolicy",
    "popular": "engine.policy:PopularPolicy",
    "oracle": "engine.sim.oracle:OraclePolicy",
    "bandit": "engine.bandit:BanditPolicy",
    "itemknn": "engine.itemknn:ItemKNNPolicy",
    "ceiling": "engine.sim.ceiling:CeilingPolicy",
}


FILE_MODULE = "foryou_policy_"  # the module name of a policy file starts so (_module_from_file)


class PolicyError(ValueError):
    """A policy spec that cannot be loaded: one line naming the spec."""


class BrokenPolicyError(PolicyError):
    """A policy that broke while the engine ran it (it raised, or returned what the engine
    must not serve): one line naming its class; nothing of that pick is stored."""


# -- what a policy is given ------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class CandidateSet:
    """Candidates the engine's sources proposed and its filters kept, ready to be scored.

    Attributes:
        ids: video ids (into the catalog's arrays), ascending.
        sources: the source credited with each (a name of :data:`engine.sources.PRIORITY`).
        similarity: cosine of each to the viewer's interest query; None while unknown.
        coengagement: how often viewers engaged with each alongside the viewer's recent
            positives (``engine.coengagement``), a feature for scorers; None if not computed.
        similar_viewers: how much viewers who share the viewer's positives engaged with each
            (``engine.similar_viewers``), a feature for scorers; None if not computed.
    """

    request: PickRequest
    proposal: Proposal
    model: OnlineLogit | None = None  # the learned P(action) engine_scores use, if any

    @property
    def ids(self) -> I64:
        return self.proposal.ids

    @property
    def sources(self) -> list[str]:
        return [PRIORITY[int(code)] for code in self.proposal.source]

    @property
    def similarity(self) -> F64 | None:
        return self.proposal.similarity

    @property
    def coengagement(self) -> F64 | None:
        """log(1 + co-engagement counts) of each candidate with the viewer's recent positives
        (completions, likes), from every viewer's events; None when not computed."""
        return self.proposal.coengagement

    @property
    def similar_viewers(self) -> F64 | None:
        """log(1 + the mean item-item cosine) of each candidate with the viewer's positives
        (shrunk for a short history), over every viewer's completions and likes
        (``engine.similar_viewers``); None when not computed."""
        return self.proposal.similar_viewers

    @cached_property
    def engine_scores(self) -> Scores:
        """The engine's own scores and their terms (computed once, on first use)."""
        r = self.request
        return engine_scores(r.world, r.state, self.proposal, self.model)

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True, eq=False)
class PickRequest:
    """Everything a policy may read to pick the next video for one viewer.

    Attributes:
        state: the viewer's live state (interests, follows, hides, seen...). Read it, never
            write it: the engine owns it and moves it on every event.
        world: what every viewer shares: ``catalog`` (the world's arrays), ``config``,
            ``trending``, ``pools``, ``boosts`` in force and ``now`` (world seconds).
        keyword_blocked: videos matching the viewer's keyword filters (sorted ids).
        rng: the pick's generator, seeded from the config's seed, the viewer's pick seed and
            the viewer's position: draw from it (only) and a pick replays exactly.
    """

    state: UserState
    world: Shared
    keyword_blocked: I64
    rng: np.random.Generator

    @property
    def viewer_id(self) -> int:
        return self.state.user_id

    @property
    def position(self) -> int:
        """How many videos this viewer was served before this pick."""
        return self.state.n_served

    @property
    def now(self) -> float:
        return self.world.now

    @property
    def catalog(self) -> Catalog:
        return self.world.catalog

    @property
    def config(self) -> Config:
        return self.world.config

    @property
    def seen(self) -> IdSet:
        """Videos the viewer has seen (read-only)."""
        return self.state.seen

    def allowed(self) -> tuple[I64, dict[str, int]]:
        """Every video of the catalog the engine's filters allow for this viewer now (published,
        unseen, not hidden, not dismissed, not spam, sensitive only if allowed...), and how many
        each filter removed."""
        everything = np.arange(self.catalog.n, dtype=np.int64)
        context = FilterContext(self.catalog, self.config, self.now, self.keyword_blocked)
        keep, removed = apply_filters(everything, self.state, context)
        return everything[keep], removed

    def candidates(
        self, sources: Callable[..., Candidates] = gather, model: OnlineLogit | None = None
    ) -> CandidateSet:
        """Run the engine's sources (or ``sources``) and filters; draws from :attr:`rng`.

        Args:
            model: a learned P(action) model for the candidates' ``engine_scores``.

        Raises:
            NothingToRecommendError: nothing in the world may be shown to this viewer.
        """
        proposal = propose(self.world, self.state, self.keyword_blocked, self.rng, sources)
        return CandidateSet(self, proposal, model)


# -- the interface ---------------------------------------------------------------------------


@runtime_checkable
class Policy(Protocol):
    """A ranker: picks for viewers, and may learn from what they do."""

    name: str

    def pick(self, request: PickRequest) -> Decision:
        """The decision for one viewer.

        Raises:
            NothingToRecommendError: nothing may be shown to this viewer.
        """
        ...

    def pick_many(self, requests: Sequence[PickRequest]) -> list[Decision]:
        """Decisions for several viewers at once, in order (one each)."""
        ...

    def observe(self, event: Event) -> None:
        """Called by the engine after each event it applies (recorded, or replayed when a
        viewer's history is loaded)."""
        ...


@runtime_checkable
class Scorer(Protocol):
    """The part of a staged policy that scores candidates: higher is better."""

    def score(self, request: PickRequest, candidates: CandidateSet) -> F64:
        """One finite score per candidate, in ``candidates.ids`` order."""
        ...


class PolicyBase:
    """A policy needs only ``pick`` or ``pick_many``: each is derived from the other."""

    name: str = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not cls.name:
            cls.name = cls.__name__

    def pick(self, request: PickRequest) -> Decision:
        if type(self).pick_many is PolicyBase.pick_many:
            raise NotImplementedError(
                f"{type(self).__name__} implements neither pick nor pick_many"
            )
        return self.pick_many([request])[0]

    def pick_many(self, requests: Sequence[PickRequest]) -> list[Decision]:
        return [self.pick(r) for r in requests]

    def observe(self, event: Event) -> None:
        """Learn nothing by default."""


def is_builtin(code: object) -> bool:
    """Whether an object's class is the engine's own code."""
    return type(code).__module__.partition(".")[0] == "engine"


def named(code: object) -> str:
    """``Class`` for the engine's own code, ``Class (file.py)`` for a ranker from a file."""
    return f"{type(code).__name__}{source_of(code)}"


def source_of(code: object) -> str:
    """`` (file.py)`` for a ranker's class from a file; empty for the engine's own code."""
    source = getattr(sys.modules.get(type(code).__module__), "__file__", None)
    return "" if source is None or is_builtin(code) else f" ({source.rsplit('/', 1)[-1]})"


class StagedPolicy(PolicyBase):
    """The engine's pipeline with another scorer (and optionally other sources).

    Args:
        scorer: scores the filtered candidates; if it has ``observe(event)``, it gets events.
        sources: proposes candidates (default: the engine's sources within their quotas).
        name: what receipts call it (default: the scorer's class name).
    """

    def __init__(
        self,
        scorer: Scorer,
        *,
        sources: Callable[[SourceContext, UserState, np.random.Generator], Candidates] = gather,
        name: str | None = None,
    ) -> None:
        self.scorer = scorer
        self.sources = sources
        self.name = name or type(scorer).__name__

    @property
    def learner(self) -> Learner | None:
        """The scorer's learned P(action) model and its bookkeeping, if it has one."""
        learner = getattr(self.scorer, "learner", None)
        return learner if isinstance(learner, Learner) else None

    def pick(self, request: PickRequest) -> Decision:
        return self.pick_many([request])[0]

    def pick_many(self, requests: Sequence[PickRequest]) -> list[Decision]:
        """Each viewer's sources and filters, then the engine's scores of every viewer's
        candidates as one batch (:func:`engine.pipeline.engine_scores_many`), then each
        viewer's scorer, re-rank and pick. A viewer's decision is the same in any batch.

        Raises:
            NothingToRecommendError: nothing may be shown to one of the viewers (its
                ``user_id`` says who); no decision is returned for the others.
        """
        return self.candidates_and_decisions(requests)[1]

    def candidates_and_decisions(
        self, requests: Sequence[PickRequest]
    ) -> tuple[list[CandidateSet], list[Decision]]:
        """:meth:`pick_many`, with each viewer's scored candidates beside its decision (for
        diagnostics that read what the engine saw)."""
        if not requests:
            return [], []
        learner = self.learner
        model = None if learner is None else learner.ready(requests[0].config)
        sets = candidates_many(requests, self.sources, model)
        score_candidates(sets, model)
        finals = [self._final(r, c) for r, c in zip(requests, sets, strict=True)]
        decisions = decide_many(
            [r.world for r in requests],
            [r.state for r in requests],
            [c.proposal for c in sets],
            [c.engine_scores for c in sets],
            finals,
            [r.rng for r in requests],
            self.name,
        )
        return sets, decisions

    def _final(self, request: PickRequest, candidates: CandidateSet) -> F64:
        """The scorer's score of each candidate, checked.

        Raises:
            BrokenPolicyError: not one number per candidate, or one that is NaN or infinite.
        """
        scores = self.scorer.score(request, candidates)
        label = f"policy {self.name}{source_of(self.scorer)}"  # as the guard names it
        try:
            final = np.asarray(scores, dtype=np.float64)
        except (TypeError, ValueError) as error:
            raise BrokenPolicyError(
                f"{label}: score() returned {type(scores).__name__}, not numbers ({error})"
            ) from None
        if final.shape != candidates.ids.shape:
            raise BrokenPolicyError(
                f"{label}: score() must return one number per candidate "
                f"(shape {candidates.ids.shape}), got shape {final.shape}"
            )
        bad = (~np.isfinite(final)).nonzero()[0]
        if len(bad):
            k = int(bad[0])
            raise BrokenPolicyError(
                f"{label}: score() returned {final[k]} at candidate index {k} "
                f"(video {int(candidates.ids[k])}; {len(bad)} of {len(final)} not finite): "
                "every score must be a finite number"
            )
        return final

    def observe(self, event: Event) -> None:
        learn = getattr(self.scorer, "observe", None)
        if learn is not None:
            learn(event)


def candidates_many(
    requests: Sequence[PickRequest],
    sources: Callable[..., Candidates] = gather,
    model: OnlineLogit | None = None,
) -> list[CandidateSet]:
    """:meth:`PickRequest.candidates` of several viewers, their filters run as one batch
    (:func:`engine.pipeline.propose_many`); each set is the same as alone.

    Raises:
        NothingToRecommendError: nothing may be shown to one of the viewers.
    """
    proposals = propose_many(
        [r.world for r in requests],
        [r.state for r in requests],
        [r.keyword_blocked for r in requests],
        [r.rng for r in requests],
        sources,
    )
    return [CandidateSet(r, p, model) for r, p in zip(requests, proposals, strict=True)]


def score_candidates(sets: Sequence[CandidateSet], model: OnlineLogit | None) -> None:
    """Compute the engine's scores of several viewers' candidate sets as one batch and keep
    each set's own (what :attr:`CandidateSet.engine_scores` then returns without computing)."""
    if len(sets) < 2:
        return  # computed on first use, as one viewer's batch
    requests = [c.request for c in sets]
    scores = engine_scores_many(
        [r.world for r in requests], [r.state for r in requests], [c.proposal for c in sets], model
    )
    for candidates, own in zip(sets, scores, strict=True):
        # The cached property's slot: set directly, as functools.cached_property itself does.
        candidates.__dict__["engine_scores"] = own


# -- the built-ins ---------------------------------------------------------------------------


class EngineScorer:
    """The engine's own score: Σ P(action) × value, times multipliers (boosts, sliders...),
    with P(action) learned online from every viewer's outcomes (:mod:`engine.learned`).

    Args:
        learn: False keeps the hand-set formula of :mod:`engine.scoring` (no learning).
    """

    def __init__(self, *, learn: bool = True) -> None:
        self.learner: Learner | None = Learner() if learn else None

    def score(self, request: PickRequest, candidates: CandidateSet) -> F64:
        return candidates.engine_scores.score

    def observe(self, event: Event) -> None:
        if self.learner is not None:
            self.learner.observe(event.user_id, event.video_id, event.kind, event.watched_s)


class PopularScorer:
    """The global smoothed completion rate: nothing personal."""

    def score(self, request: PickRequest, candidates: CandidateSet) -> F64:
        context = ScoringContext(request.catalog, request.config, request.now, {})
        return popularity_scores(candidates.ids, context)


class EnginePolicy(StagedPolicy):
    """The default engine: its sources, filters, scores, re-rank and sampling.

    Args:
        learn: False scores with the hand-set formula instead of the learned P(action)
            (``--policy engine --policy-params`` a TOML with ``learn = false``).
    """

    def __init__(self, *, learn: bool = True) -> None:
        super().__init__(EngineScorer(learn=learn), name="engine")


class PopularPolicy(StagedPolicy):
    """The popular baseline: the most completed unseen videos, ranked by completion rate."""

    def __init__(self) -> None:
        super().__init__(PopularScorer(), sources=popular, name="popular")


class RandomPolicy(PolicyBase):
    """The floor: uniform over every video the filters allow, so its propensity is exact
    (1 / the number of allowed videos) and its slate is the whole allowed catalog."""

    name = "random"

    def pick(self, request: PickRequest) -> Decision:
        ids, removed = request.allowed()
        if len(ids) == 0:
            raise NothingToRecommendError(
                f"nothing left to recommend to {request.state.name}", request.viewer_id
            )
        index = int(request.rng.integers(len(ids)))
        probabilities = np.full(len(ids), 1.0 / len(ids))
        top = np.array([index, *[k for k in range(min(SLATE_SHOWN, len(ids))) if k != index]])
        receipt = plain_receipt(
            request,
            ids[top[:SLATE_SHOWN]],
            np.zeros(len(top[:SLATE_SHOWN])),
            probabilities[top[:SLATE_SHOWN]],
            removed=removed,
            kept=len(ids),
            policy=self.name,
            pool_state=None,
        )
        return Decision(
            video_id=int(ids[index]),
            source="random",
            score=0.0,
            rank=0,
            propensity=float(probabilities[index]),
            receipt=receipt,
            slate_ids=ids,
            slate_probabilities=probabilities,
        )


def plain_receipt(
    request: PickRequest,
    slate_ids: I64,
    slate_scores: F64,
    slate_probabilities: F64,
    *,
    removed: dict[str, int],
    kept: int,
    policy: str,
    pool_state: str | None,
    term: str | None = None,
) -> Receipt:
    """The receipt of a whole policy that ranks the allowed catalog on one number (the first
    slate entry is the pick): no sources, no engine terms.

    Args:
        term: the name of that number, shown as the receipt's one score term.
        pool_state: what to call the pick's test-pool state (None: its real state).
    """
    catalog = request.catalog
    video_id = int(slate_ids[0])
    value = float(slate_scores[0])
    stage = int(request.world.pools.stage[video_id])
    state_name = pool_state or STATE_NAMES.get(int(request.world.pools.state[video_id]), "outside")
    world = catalog.world
    v = world.videos
    country = request.state.country
    return Receipt(
        video_id=video_id,
        position=request.position,
        policy=policy,
        source=policy,
        sources=[],
        funnel=Funnel(
            proposed={policy: catalog.n},
            merged=catalog.n,
            removed=removed,
            kept=kept,
            diversity_blocked={},
            slate=kept,
        ),
        features={},
        affinity=0.0,
        terms={} if term is None else {term: {"p": 1.0, "value": value, "contribution": value}},
        base_score=value,
        multipliers={},
        author_penalty=1.0,
        score=value,
        rank=0,
        propensity=float(slate_probabilities[0]),
        slate=[
            {
                "video_id": int(slate_ids[k]),
                "score": float(slate_scores[k]),
                "source": policy,
                "probability": float(slate_probabilities[k]),
            }
            for k in range(len(slate_ids))
        ],
        boost=None,
        context={
            "topic": world.topics.name[int(v.topic_id[video_id])],
            "creator": world.creators.handle[int(v.creator_id[video_id])],
            "sound": world.sounds.title[int(v.sound_id[video_id])],
            "country": world.countries[country] if country >= 0 else "?",
            "pool": stage + 1,
            "pool_state": state_name,
        },
    )


# -- naming and loading policies -------------------------------------------------------------


@dataclass(frozen=True)
class PolicySpec:
    """How to build a policy: a built-in name, ``file.py:Class`` or ``package.module:Class``,
    with keyword parameters for the class. Plain and picklable: each worker builds its own."""

    target: str
    params: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str, params: str | Path | Mapping[str, Any] | None = None) -> PolicySpec:
        """A spec from the command line: a file path is made absolute (workers may start
        elsewhere), ``params`` is a TOML file of keyword parameters or a mapping.

        Raises:
            PolicyError: a malformed spec, or a parameters file that is missing or invalid.
        """
        target = text.strip()
        if target not in BUILTIN:
            where, sep, attr = target.rpartition(":")
            if not sep or not where or not attr.isidentifier():
                raise PolicyError(
                    f"policy {text!r}: expected a built-in ({', '.join(BUILTIN)}), "
                    "FILE.py:Class or package.module:Class"
                )
            if where.endswith(".py"):
                target = f"{Path(where).expanduser().resolve()}:{attr}"
        return cls(target, _params_of(text, params))

    @property
    def file(self) -> Path | None:
        """The file the class is loaded from, for a ``file.py:Class`` spec."""
        where = self.target.rpartition(":")[0]
        return Path(where) if self.target not in BUILTIN and where.endswith(".py") else None

    def record(self) -> dict[str, Any]:
        """What a session's config row keeps of this spec: ``policy`` (the target), ``params``
        when there are any, and ``sha256`` of the class's file (when it is one and is there)."""
        kept: dict[str, Any] = {"policy": self.target}
        if self.params:
            kept["params"] = _as_toml(dict(self.params))
        if self.file is not None and self.file.is_file():
            kept["sha256"] = hashlib.sha256(self.file.read_bytes()).hexdigest()
        return kept

    @property
    def label(self) -> str:
        """A short name for tables: the built-in name or the class name."""
        return self.target if self.target in BUILTIN else self.target.rpartition(":")[2]

    def build(self) -> Policy:
        """A fresh policy instance.

        Raises:
            PolicyError: the file or module is missing, the class is missing or not a policy,
                or it refuses the parameters.
        """
        attr = _load(self.target, self.label)
        if not callable(attr):
            raise PolicyError(f"policy {self.target!r}: {self.label} is not a class")
        params = dict(self.params)
        _check_parameters(attr, params, self.target)
        try:
            made = attr(**params)
        except Exception as error:
            raise PolicyError(
                f"policy {self.target!r}: {self.label} raised {type(error).__name__} in "
                f"__init__: {error}"
            ) from error
        return as_policy(made, what=self.target)


def picked_by(policy: object, config: Config) -> dict[str, Any] | None:
    """Who picks, as a session's config row records it (:func:`engine.config.recorded_toml`),
    when it is not the config's own ``policy``: None for the config's own.

    A spec (or its text) is recorded as given, with its parameters and the SHA-256 of its file;
    a policy object only by its class (its parameters are not known).
    """
    if policy is None:
        return None
    if isinstance(policy, str):
        policy = PolicySpec.parse(policy)
    if isinstance(policy, PolicySpec):
        if policy.target == config.policy and not policy.params:
            return None
        return policy.record()
    target = _target_of(policy)
    return None if target == config.policy else {"policy": target}


def _target_of(policy: object) -> str:
    """The spec target naming a policy object's class (a built-in's name, or the file or module
    its class, or a staged policy's scorer class, was loaded from)."""
    kind = type(policy)
    for name, target in BUILTIN.items():
        if target == f"{kind.__module__}:{kind.__qualname__}":
            return name
    author = type(policy.scorer) if isinstance(policy, StagedPolicy) else kind
    module = sys.modules.get(author.__module__)
    source = getattr(module, "__file__", None)
    if author.__module__.startswith(FILE_MODULE) and source is not None:
        return f"{source}:{author.__qualname__}"
    return f"{author.__module__}:{author.__qualname__}"


def as_policy(obj: object, *, what: str | None = None) -> Policy:
    """A policy as given, a scorer wrapped in a :class:`StagedPolicy`, or a spec built.

    Raises:
        PolicyError: it is neither a policy nor a scorer, or its spec cannot be loaded.
    """
    if isinstance(obj, str):
        return PolicySpec.parse(obj).build()
    if isinstance(obj, PolicySpec):
        return obj.build()
    if callable(getattr(obj, "pick", None)) or callable(getattr(obj, "pick_many", None)):
        if not hasattr(obj, "observe") or not hasattr(obj, "pick_many"):
            raise PolicyError(
                f"policy {what or type(obj).__name__!r}: a policy needs pick, pick_many and "
                "observe (subclass engine.policy.PolicyBase)"
            )
        if not getattr(obj, "name", None):
            obj.name = type(obj).__name__  # type: ignore[attr-defined]
        return obj  # type: ignore[return-value]
    if callable(getattr(obj, "score", None)):
        return StagedPolicy(obj)  # type: ignore[arg-type]
    raise PolicyError(
        f"policy {what or type(obj).__name__!r}: {type(obj).__name__} is not a policy "
        "(needs pick/pick_many, or score for a scorer)"
    )


def _check_parameters(make: Callable[..., object], params: dict[str, Any], target: str) -> None:
    """Refuse parameters the class does not take, before any of its code runs (a TypeError
    raised inside ``__init__`` is the class's own error, not a bad parameter)."""
    try:
        signature = inspect.signature(make)
    except (TypeError, ValueError):
        return  # no signature to read (a C type): the call itself will say
    try:
        signature.bind(**params)
    except TypeError as error:
        given = ", ".join(params) or "none"
        raise PolicyError(f"policy {target!r}: bad parameters ({given}): {error}") from None


def _as_toml(params: dict[str, Any]) -> dict[str, Any] | str:
    """Parameters as TOML keeps them, or their repr when TOML cannot (given from Python)."""
    try:
        tomli_w.dumps({"params": params})
    except (TypeError, ValueError):
        return repr(params)
    return params


def _params_of(text: str, params: str | Path | Mapping[str, Any] | None) -> dict[str, Any]:
    if params is None:
        return {}
    if isinstance(params, Mapping):
        return dict(params)
    path = Path(params)
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PolicyError(f"policy {text!r}: no parameters file {str(path)!r}") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise PolicyError(f"policy {text!r}: parameters file {str(path)!r}: {error}") from None


def _load(target: str, label: str) -> object:
    """The attribute a target names, importing its file or module."""
    where, _, attr = BUILTIN.get(target, target).rpartition(":")
    if where.endswith(".py"):
        module = _module_from_file(target, Path(where))
    else:
        try:
            module = importlib.import_module(where)
        except ImportError as error:
            raise PolicyError(f"policy {target!r}: cannot import {where!r}: {error}") from None
    if not hasattr(module, attr):
        raise PolicyError(f"policy {target!r}: no class {attr!r} in {where}")
    return getattr(module, attr)


def _module_from_file(target: str, path: Path) -> Any:
    """Import a policy file once per process, under a name derived from its path (so classes
    defined in it pickle and compare the same wherever it is loaded)."""
    if not path.is_file():
        raise PolicyError(f"policy {target!r}: no file {str(path)!r}")
    digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:12]
    name = f"{FILE_MODULE}{path.stem}_{digest}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise PolicyError(f"policy {target!r}: cannot import {str(path)!r}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as error:
        del sys.modules[name]
        raise PolicyError(
            f"policy {target!r}: {type(error).__name__} while importing: {error}"
        ) from None
    return module
