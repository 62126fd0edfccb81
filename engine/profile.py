"""What the engine believes about one viewer, and how each reaction moves it.

Two interest vectors in the embedding space: a slow long-term one and a fast short-term one (the
viewer's current state of mind). Sparse affinities in [-1, 1] for topics, hashtags, sounds and
creators. Negative memory ("not interested" per scope) fades with a half-life in world time, so
whether unwanted content comes back is a setting; hidden creators stay hidden until unhidden.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import numpy.typing as npt

from engine.catalog import Catalog
from engine.config import Config
from engine.config import Profile as ProfileConfig
from engine.idset import IdSet, SparseTable
from engine.languages import followed, fresh_belief
from engine.taste import QUERY_SHARE, empty_moments, taste_vector
from engine.uncertainty import REPEAT_WINDOW, seed_evidence
from engine.world import EMBED_DIM, NO_ID

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
RECENT_REACTIONS = 20
RECENTLY_SERVED = 256  # longest resurface_after the served-recently filter can honour


@dataclass
class NegativeMark:
    scope: str  # video | creator | sound | topic
    target: int
    world_t: float

    def strength(self, now: float, half_life_h: float) -> float:
        if half_life_h <= 0:
            return 0.0
        age_h = max(0.0, now - self.world_t) / 3600.0
        return math.pow(0.5, age_h / half_life_h)


@dataclass(frozen=True)
class VideoFeatures:
    """The parts of a video a reaction teaches the profile about."""

    video_id: int
    topic: int
    creator: int
    sound: int
    hashtags: tuple[int, ...]
    embedding: F32


@dataclass(eq=False)
class UserState:
    """A viewer's live state: learned interests, explicit choices and what they have seen."""

    user_id: int
    name: str
    language: int
    country: int
    interests: list[int]
    simulated: bool
    long_term: F32
    short_term: F32
    topic_affinity: F32
    hashtag_affinity: F32
    # Evidence per topic, hooked vs missed (engine.uncertainty): how sure the engine is.
    topic_hooked: F32 = field(default_factory=lambda: np.zeros(0, dtype=np.float32))
    topic_missed: F32 = field(default_factory=lambda: np.zeros(0, dtype=np.float32))
    # Log-odds that the viewer follows each language (engine.languages); empty: unknown.
    language_belief: F32 = field(default_factory=lambda: np.zeros(0, dtype=np.float32))
    # What held the viewer, regressed on the embedding (engine.taste): precision and moments.
    taste_precision: F64 = field(default_factory=lambda: empty_moments()[0])
    taste_moment: F64 = field(default_factory=lambda: empty_moments()[1])
    taste_mean: F64 | None = None  # the posterior mean's weights, None before any viewing
    sound_affinity: SparseTable = field(default_factory=SparseTable)
    creator_affinity: SparseTable = field(default_factory=SparseTable)
    follows: IdSet = field(default_factory=IdSet)
    hidden_creators: IdSet = field(default_factory=IdSet)
    hidden_on: dict[int, int] = field(default_factory=dict)  # creator -> video the hide was on
    negatives: list[NegativeMark] = field(default_factory=list)
    reported: IdSet = field(default_factory=IdSet)
    liked: set[int] = field(default_factory=set)
    saved: set[int] = field(default_factory=set)
    # Explicit feed controls (kept across a refresh).
    allow_sensitive: bool = False
    keyword_filters: list[str] = field(default_factory=list)
    topic_sliders: dict[int, float] = field(default_factory=dict)
    playback_speed: float = 1.0  # how fast the viewer plays videos, kept with the controls
    # Served vs seen.
    seen: IdSet = field(default_factory=IdSet)
    seen_roots: IdSet = field(default_factory=IdSet)
    served_at_position: dict[int, int] = field(default_factory=dict)  # video -> last position
    recently_served: deque[tuple[int, int]] = field(
        default_factory=lambda: deque(maxlen=RECENTLY_SERVED)
    )  # (position, video), newest last
    impression_of: dict[int, int] = field(default_factory=dict)  # video -> last impression id
    n_served: int = 0
    shown: deque[int] = field(default_factory=lambda: deque(maxlen=64))  # recently seen videos
    reactions: deque[tuple[str, int]] = field(
        default_factory=lambda: deque(maxlen=RECENT_REACTIONS)
    )
    closed: set[int] = field(default_factory=set)  # impression ids already closed once
    # Topics of the last viewings closed (in event order, so a resume or replay that re-applies
    # the events rebuilds them as they were): engine.uncertainty's "not now" skips.
    closed_topics: deque[int] = field(default_factory=lambda: deque(maxlen=REPEAT_WINDOW))
    loops: dict[int, int] = field(default_factory=dict)  # impression id -> rewatches so far
    revisits: set[int] = field(default_factory=set)  # impression ids of viewings gone back to
    session_id: int | None = None
    pick_seed: int | None = None  # key of the pick randomness; None: the viewer's id

    @classmethod
    def fresh(
        cls,
        *,
        user_id: int,
        name: str,
        language: int,
        country: int,
        interests: list[int],
        simulated: bool,
        n_topics: int,
        n_hashtags: int,
        n_languages: int = 0,
        english: int = NO_ID,
    ) -> UserState:
        return cls(
            user_id=user_id,
            name=name,
            language=language,
            country=country,
            interests=interests,
            simulated=simulated,
            long_term=np.zeros(EMBED_DIM, dtype=np.float32),
            short_term=np.zeros(EMBED_DIM, dtype=np.float32),
            topic_affinity=np.zeros(n_topics, dtype=np.float32),
            hashtag_affinity=np.zeros(n_hashtags, dtype=np.float32),
            topic_hooked=np.zeros(n_topics, dtype=np.float32),
            topic_missed=np.zeros(n_topics, dtype=np.float32),
            language_belief=fresh_belief(n_languages, language, english),
        )


def seed_interests(state: UserState, centroids: F32, config: ProfileConfig) -> None:
    """Onboarding: chosen interests start as mild affinities, a long-term direction and some
    evidence of being hooked; no choice starts with no evidence at all."""
    seed_evidence(state)
    if not state.interests:
        return
    chosen = np.array(state.interests, dtype=np.int64)
    state.topic_affinity[chosen] = config.onboarding_strength
    direction = centroids[chosen].mean(axis=0)
    state.long_term[:] = direction * config.onboarding_strength


def forget_learned(state: UserState, centroids: F32, config: ProfileConfig) -> None:
    """Refresh: as if newly signed up; follows, hides, reports and feed controls are kept."""
    state.long_term[:] = 0.0
    state.short_term[:] = 0.0
    state.topic_affinity[:] = 0.0
    state.hashtag_affinity[:] = 0.0
    state.sound_affinity.clear()
    state.creator_affinity.clear()
    state.negatives = [m for m in state.negatives if m.scope == "video"]
    state.taste_precision, state.taste_moment = empty_moments()
    state.taste_mean = None
    seed_interests(state, centroids, config)


def _toward(affinity: float, weight: float, rate: float) -> float:
    """Move an affinity toward +1 or -1 by |weight|·rate, staying inside [-1, 1]."""
    target = 1.0 if weight > 0 else -1.0
    return affinity + rate * abs(weight) * (target - affinity)


def _move_sparse(table: dict[int, float], key: int, weight: float, rate: float) -> None:
    table[key] = _toward(table.get(key, 0.0), weight, rate)


def learn(state: UserState, video: VideoFeatures, value: float, config: ProfileConfig) -> None:
    """Move the profile by one reaction of the given value (like = 1)."""
    weight = max(-1.0, min(1.0, value / config.max_step_value))
    if weight == 0.0:
        return
    emb = video.embedding
    if weight > 0:
        state.long_term += config.long_term_rate * weight * (emb - state.long_term)
        state.short_term += config.short_term_rate * weight * (emb - state.short_term)
    else:
        # Moving away from a disliked video removes what the vectors share with it; pointing
        # them at its opposite would invent an interest in whatever lies there.
        for vector, rate in (
            (state.long_term, config.long_term_rate),
            (state.short_term, config.short_term_rate),
        ):
            vector -= rate * abs(weight) * max(float(vector @ emb), 0.0) * emb
    rate = config.affinity_rate
    t = video.topic
    state.topic_affinity[t] = _toward(float(state.topic_affinity[t]), weight, rate)
    for tag in video.hashtags:
        state.hashtag_affinity[tag] = _toward(float(state.hashtag_affinity[tag]), weight, rate / 2)
    if video.sound != NO_ID:
        _move_sparse(state.sound_affinity, video.sound, weight, rate)
    _move_sparse(state.creator_affinity, video.creator, weight, rate)


def query_vector(state: UserState, config: ProfileConfig) -> F32 | None:
    """The retrieval query: a blend of long- and short-term interests, turned toward the
    viewer's taste (:mod:`engine.taste`) by :data:`engine.taste.QUERY_SHARE`; None while no
    interest is known (a viewer who has only skipped still gets the starter source)."""
    blend = (1.0 - config.short_term_weight) * state.long_term
    blend = blend + config.short_term_weight * state.short_term
    norm = _length(blend)
    if norm < 1e-6:
        return None
    interests: F32 = (blend / norm).astype(np.float32)
    taste = taste_vector(state)
    size = 0.0 if taste is None else _length(taste)
    if taste is None or size < 1e-9:
        return interests
    turned = interests + ((QUERY_SHARE / size) * taste).astype(np.float32)
    length = _length(turned)
    if length < 1e-6:  # the taste points exactly away from the interests: keep those
        return interests
    result: F32 = (turned / length).astype(np.float32)
    return result


def _length(vector: npt.NDArray[np.floating]) -> float:
    """``float(np.linalg.norm(vector))`` of a vector by norm's own steps (sqrt of the dot, in
    the vector's dtype): a pick's query takes three, and norm's checks cost twice the product."""
    return float(np.sqrt(vector.dot(vector)))


def negative_strengths(
    state: UserState, scope: str, now: float, half_life_h: float
) -> dict[int, float]:
    """Current (faded) strength of each "not interested" target of one scope."""
    strengths: dict[int, float] = {}
    for mark in state.negatives:
        if mark.scope == scope:
            s = mark.strength(now, half_life_h) if scope != "video" else 1.0
            strengths[mark.target] = max(strengths.get(mark.target, 0.0), s)
    return strengths


@dataclass(frozen=True)
class Profile:
    """A read-only view of what the engine believes about a viewer (``Engine.profile``)."""

    user_id: int
    name: str
    language: str
    country: str
    interests: list[str]  # onboarding choices (topic slugs)
    long_term_topics: list[tuple[str, float]]  # topic slug, cosine of the long-term vector
    short_term_topics: list[tuple[str, float]]  # same for the short-term vector
    topic_affinity: dict[str, float]  # explicit-signal affinity per topic slug
    top_hashtags: list[tuple[str, float]]
    top_creators: list[tuple[str, float]]
    top_sounds: list[tuple[str, float]]
    follows: list[str]  # creator handles
    hidden_creators: list[str]
    # A hidden creator's handle -> the video the hide was recorded on: record "unhide_creator"
    # on that video to let the creator back in.
    hidden_on: dict[str, int]
    # scope, target, name (topic slug, creator handle or sound title; None for a video),
    # strength now, and active: still strong enough that the feed keeps the target out
    not_interested: list[dict[str, Any]]
    reported: list[int]
    liked: list[int]  # video ids currently liked
    saved: list[int]  # video ids currently saved
    keyword_filters: list[str]
    topic_sliders: dict[str, float]
    allow_sensitive: bool
    seen: int
    served: int
    recent_reactions: list[tuple[str, int]]
    playback_speed: float = 1.0  # the viewer's chosen speed in the feed (1×, 2×, ...)
    # The chance the viewer follows each language, learned from its viewings (engine.languages)
    languages_followed: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """What :func:`dataclasses.asdict` gives (every list, tuple and dict a copy), without
        its deep copy of each string and number (immutable): every session end writes one."""
        return {f.name: _copied(getattr(self, f.name)) for f in fields(self)}


def _copied(value: Any) -> Any:
    if isinstance(value, list):
        return [_copied(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_copied(v) for v in value)
    if isinstance(value, dict):
        return {k: _copied(v) for k, v in value.items()}
    return value


def _top(values: dict[int, float], names: list[str], n: int = 8) -> list[tuple[str, float]]:
    ranked = sorted(values.items(), key=lambda kv: -kv[1])[:n]
    return [(names[k], round(v, 4)) for k, v in ranked]


def snapshot(state: UserState, catalog: Catalog, now: float, config: Config) -> Profile:
    """The read-only :class:`Profile` of a viewer's current state."""
    world = catalog.world
    slugs = world.topics.slug
    centroids = world.topics.centroid

    def topic_cosines(vector: npt.NDArray[np.float32]) -> list[tuple[str, float]]:
        norm = float(np.linalg.norm(vector))
        if norm < 1e-9:
            return []
        cos = centroids @ (vector / norm)
        order = np.argsort(-cos)[:8]
        return [(slugs[i], round(float(cos[i]), 4)) for i in order]

    half_life = config.profile.negative_half_life_h
    names = {
        "topic": slugs,
        "creator": world.creators.handle,
        "sound": world.sounds.title,
    }
    marks = []
    for m in state.negatives:
        strength = negative_strengths(state, m.scope, now, half_life)[m.target]
        named = names.get(m.scope)
        marks.append(
            {
                "scope": m.scope,
                "target": m.target,
                "name": named[m.target] if named is not None else None,
                "strength": round(strength, 4),
                "active": strength > config.profile.negative_filter_above,
            }
        )
    language = world.languages[state.language] if state.language != NO_ID else "?"
    country = world.countries[state.country] if state.country != NO_ID else "?"
    return Profile(
        user_id=state.user_id,
        name=state.name,
        language=language,
        country=country,
        interests=[slugs[t] for t in state.interests],
        long_term_topics=topic_cosines(state.long_term),
        short_term_topics=topic_cosines(state.short_term),
        topic_affinity={slugs[t]: round(float(a), 4) for t, a in enumerate(state.topic_affinity)},
        top_hashtags=_top(dict(enumerate(state.hashtag_affinity.tolist())), world.hashtags.tag),
        top_creators=_top(state.creator_affinity, world.creators.handle),
        top_sounds=_top(state.sound_affinity, world.sounds.title),
        follows=[world.creators.handle[c] for c in sorted(state.follows)],
        hidden_creators=[world.creators.handle[c] for c in sorted(state.hidden_creators)],
        hidden_on={world.creators.handle[c]: v for c, v in sorted(state.hidden_on.items())},
        not_interested=marks,
        reported=sorted(state.reported),
        liked=sorted(state.liked),
        saved=sorted(state.saved),
        keyword_filters=list(state.keyword_filters),
        topic_sliders={slugs[t]: m for t, m in state.topic_sliders.items()},
        allow_sensitive=state.allow_sensitive,
        seen=len(state.seen),
        served=state.n_served,
        recent_reactions=list(state.reactions),
        playback_speed=state.playback_speed,
        languages_followed={
            world.languages[k]: round(float(p), 4)
            for k, p in enumerate(followed(state.language_belief).tolist())
        },
    )
