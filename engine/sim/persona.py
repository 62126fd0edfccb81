"""Simulated viewers: a hidden truth per persona, and the persona acting on one video at a time.

A :class:`Taste` is what the persona really likes and how it behaves; the engine never sees it,
it only sees what the persona does. A :class:`Persona` binds a taste to a world and to its own
random streams and reacts to one video at a time (:meth:`Persona.react`), which is all a driver
needs: the simulation runner, or the TUI's autopilot showing a viewer scrolling on its own.

    persona = Persona.draw(engine.catalog.world, np.random.SeedSequence(7))
    uid = engine.new_user(**persona.sign_up())
    rec = engine.next(uid)
    reaction = persona.react(rec.video)
    for kind, kwargs in reaction.actions:
        engine.record(uid, rec.video.id, kind, **kwargs)

Three random streams per persona, spawned from one ``SeedSequence``: the truth, the per-video
acts, and the schedule (session starts, gaps, the mood a session starts in). Keeping acts and
schedule apart means that position *k* of a persona's life uses the same random numbers under
any ranking config, whatever happened before.
"""

from __future__ import annotations

import weakref
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from engine.idset import in_sorted
from engine.sim.watch import (
    GLANCE_MIN_S,
    N_UNIFORMS,
    PARTIAL_CAP,
    SWIPE_S,
    U_COMMENT,
    U_FINISH,
    U_FOLLOW,
    U_GLANCE,
    U_HOOK,
    U_LEAVE,
    U_LIKE,
    U_NEGATIVE,
    U_PART,
    U_REPORT,
    U_REWATCH,
    U_REWATCH_LEN,
    U_SAVE,
    U_SCOPE,
    U_SHARE,
    U_TEXT,
    Behaviour,
    expected_watch_s,
    finish_probability,
    leave_hazard,
    not_interested_watch_s,
    partial_like_scale,
    rewatch_share,
    sigmoid,
)
from engine.video import Video
from engine.world import World

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
Bool = npt.NDArray[np.bool_]

SATIATION_WINDOW = 10  # recent videos in a session that make a repeated topic boring
MOOD_PERSISTENCE = 0.9  # AR(1) coefficient of the session's wandering interest, per video
ARRIVAL_WINDOW_S = 4 * 3600.0  # personas start their first session within these hours
COMMENTS = ("love this", "so good", "haha", "need more of this", "how?", "saving for later")
Action = tuple[str, dict[str, Any]]


@dataclass(frozen=True, eq=False)
class Taste:
    """A persona's hidden truth. Nothing here is ever shown to the engine."""

    topic: F64  # [T] taste per topic: loved ≈ 1, liked ≈ 0.5, indifferent ≈ 0, disliked ≈ −1
    loved: I64  # the loved topics: the persona's "true top topics"
    vector: F32  # [D] unit taste direction in the embedding space
    creators: I64  # favourite creators, sorted
    sounds: I64  # favourite sounds, sorted
    patience_s: float  # mean seconds before swiping away from what does not hook it
    like: float  # propensities: multipliers of the population rates (mean ≈ 1)
    share: float
    save: float
    comment: float
    follow: float
    satiation: float  # appeal lost per repeat of a topic among the last SATIATION_WINDOW videos
    mood_sd: float  # how far the session's interest in a topic wanders
    sensitive_tolerance: float  # 0 = upset by sensitive content, 1 = fine with it
    language: int  # index into World.languages
    understands_english: bool
    country: int  # index into World.countries
    onboarding: tuple[int, ...]  # topics named at sign-up (may be none)
    session_gap_s: float  # mean world seconds between sessions
    leave_scale: float  # multiplier of the base leave hazard


def draw_taste(world: World, rng: np.random.Generator) -> Taste:
    """Draw a hidden truth: a few loved topics, some liked, most indifferent, a few disliked.

    Loved topics follow topic popularity; liked ones lean toward the loved topics' relatives;
    favourite creators and sounds come from the loved topics' videos.
    """
    topic, loved = _topic_taste(world, rng)
    positive = np.clip(topic, 0.0, None) ** 2
    direction = positive @ world.topics.centroid.astype(np.float64)
    direction /= max(float(np.linalg.norm(direction)), 1e-9)
    style = rng.standard_normal(world.topics.centroid.shape[1])
    style /= float(np.linalg.norm(style))
    vector = direction + 0.35 * style
    creators, sounds = _favourites(world, loved, rng)
    propensity = rng.lognormal(-0.18, 0.6, 5)  # mean exp(-0.18 + 0.18) = 1
    language, english, country = _locale(world, rng)
    onboarding = _onboarding(loved, rng)
    return Taste(
        topic=topic,
        loved=loved,
        vector=(vector / np.linalg.norm(vector)).astype(np.float32),
        creators=creators,
        sounds=sounds,
        patience_s=float(rng.lognormal(np.log(1.6), 0.4)),
        like=float(propensity[0]),
        share=float(propensity[1]),
        save=float(propensity[2]),
        comment=float(propensity[3]),
        follow=float(propensity[4]),
        satiation=float(rng.uniform(0.08, 0.25)),
        mood_sd=float(rng.uniform(0.2, 0.6)),
        sensitive_tolerance=float(rng.beta(0.7, 1.5)),
        language=language,
        understands_english=english,
        country=country,
        onboarding=onboarding,
        session_gap_s=float(rng.lognormal(np.log(6 * 3600.0), 0.5)),
        leave_scale=float(rng.lognormal(0.0, 0.3)),
    )


def _topic_taste(world: World, rng: np.random.Generator) -> tuple[F64, I64]:
    n = len(world.topics)
    popularity = world.topics.popularity.astype(np.float64)
    n_loved = int(rng.choice([1, 2, 3], p=[0.3, 0.45, 0.25]))
    loved = rng.choice(n, size=n_loved, replace=False, p=popularity / popularity.sum())
    weight = popularity.copy()
    for t in loved.tolist():
        weight[world.topics.related[t]] *= 3.0
    weight[loved] = 0.0
    liked = rng.choice(n, size=int(rng.integers(2, 6)), replace=False, p=weight / weight.sum())
    rest = np.setdiff1d(np.arange(n), np.concatenate([loved, liked]))
    disliked = rng.choice(rest, size=int(rng.integers(1, 4)), replace=False)
    topic = np.clip(rng.normal(-0.1, 0.15, n), -0.45, 0.2)  # indifferent: near zero
    topic[liked] = rng.normal(0.5, 0.1, len(liked))
    topic[loved] = rng.normal(1.0, 0.08, len(loved))
    topic[disliked] = rng.normal(-1.0, 0.1, len(disliked))
    return np.clip(topic, -1.0, 1.0), np.sort(loved).astype(np.int64)


def _favourites(world: World, loved: I64, rng: np.random.Generator) -> tuple[I64, I64]:
    counts = _counts_of(world)
    # The loved topics are distinct: their rows add up to the counts over their videos.
    creator_weight = counts.creators_by_topic[loved].sum(axis=0, dtype=np.int64)
    sound_weight = counts.sounds_by_topic[loved].sum(axis=0, dtype=np.int64)
    return (
        _weighted_pick(creator_weight, int(rng.integers(3, 9)), rng),
        _weighted_pick(sound_weight, int(rng.integers(2, 6)), rng),
    )


def _weighted_pick(weight: npt.NDArray[np.int64], k: int, rng: np.random.Generator) -> I64:
    candidates = np.flatnonzero(weight)
    if len(candidates) == 0:
        return np.zeros(0, dtype=np.int64)
    p = weight[candidates] / weight[candidates].sum()
    picked = rng.choice(candidates, size=min(k, len(candidates)), replace=False, p=p)
    return np.sort(picked).astype(np.int64)


def _locale(world: World, rng: np.random.Generator) -> tuple[int, bool, int]:
    """A language in proportion to the videos made in it, and a country that speaks it."""
    counts = _counts_of(world)
    per_language = counts.countries_by_language.sum(axis=1, dtype=np.int64).astype(float)
    language = int(rng.choice(len(per_language), p=per_language / per_language.sum()))
    countries = counts.countries_by_language[language].astype(float)
    country = int(rng.choice(len(countries), p=countries / countries.sum()))
    english = world.languages[language] == "en" or bool(rng.random() < 0.5)
    return language, english, country


@dataclass(frozen=True, eq=False)
class _WorldCounts:
    """How many videos each topic has per creator and per sound, and each language per
    country: what every persona's draw weighs its favourites and its locale by, counted once
    per world instead of over every video for each persona."""

    creators_by_topic: npt.NDArray[np.int32]  # (topics, creators)
    sounds_by_topic: npt.NDArray[np.int32]  # (topics, sounds)
    countries_by_language: npt.NDArray[np.int64]  # (languages, countries)


_COUNTS: weakref.WeakKeyDictionary[World, _WorldCounts] = weakref.WeakKeyDictionary()


def _counts_of(world: World) -> _WorldCounts:
    counts = _COUNTS.get(world)
    if counts is None:
        counts = _COUNTS[world] = _WorldCounts(
            _pair_counts(
                world.videos.topic_id,
                len(world.topics),
                world.videos.creator_id,
                len(world.creators),
            ).astype(np.int32),
            _pair_counts(
                world.videos.topic_id, len(world.topics), world.videos.sound_id, len(world.sounds)
            ).astype(np.int32),
            _pair_counts(
                world.videos.language,
                len(world.languages),
                world.videos.country,
                len(world.countries),
            ),
        )
    return counts


def _pair_counts(
    rows: npt.NDArray[np.integer], n_rows: int, columns: npt.NDArray[np.integer], n_columns: int
) -> I64:
    """(n_rows, n_columns) counts of each (row, column) pair among the videos."""
    flat = rows.astype(np.int64) * n_columns + columns.astype(np.int64)
    counts: I64 = np.bincount(flat, minlength=n_rows * n_columns).reshape(n_rows, n_columns)
    return counts


def _onboarding(loved: I64, rng: np.random.Generator) -> tuple[int, ...]:
    """Half the personas name one or two of their loved topics at sign-up, as people do."""
    if rng.random() >= 0.5:
        return ()
    named = rng.choice(loved, size=min(len(loved), int(rng.integers(1, 3))), replace=False)
    return tuple(sorted(int(t) for t in named))


def sign_up(taste: Taste, world: World) -> dict[str, Any]:
    """What a persona says when it signs up: onboarding topics, locale, the sensitive switch."""
    return {
        "interests": [world.topics.slug[t] for t in taste.onboarding],
        "language": world.languages[taste.language],
        "country": world.countries[taste.country],
        "allow_sensitive": taste.sensitive_tolerance > 0.6,
        "simulated": True,
    }


def child(sequence: np.random.SeedSequence, key: int) -> np.random.SeedSequence:
    """The ``key``-th child ``sequence.spawn`` would give, rebuilt from its key.

    ``spawn`` counts the children it has handed out, so a sequence pickled to another process
    would spawn different ones; building the child from its key gives the same stream in any
    process, any number of times.
    """
    return np.random.SeedSequence(
        sequence.entropy, spawn_key=(*sequence.spawn_key, key), pool_size=sequence.pool_size
    )


@dataclass(frozen=True)
class Reaction:
    """What a persona did with one video, in the order a person would do it.

    ``actions`` are ``(kind, kwargs)`` pairs for :meth:`engine.Engine.record`; exactly one of
    them closes the impression (``complete`` or ``skip`` with ``watched_s``).
    """

    video_id: int
    watched_s: float
    actions: list[Action]
    hooked: bool
    completed: bool
    appeal: float  # the moment's appeal, noise included (for analysis; the engine never sees it)
    leaves: bool  # the persona ends its session after this video


@dataclass
class _Session:
    """A persona's short-term state inside one session."""

    mood: F64
    recent: deque[int] = field(default_factory=lambda: deque(maxlen=SATIATION_WINDOW))
    recent_count: F64 | None = None
    depth: int = 0
    minutes: float = 0.0
    unhooked_run: int = 0


class Persona:
    """A simulated viewer: a hidden :class:`Taste` acting through its own random streams."""

    def __init__(
        self,
        taste: Taste,
        world: World,
        acts: np.random.Generator,
        schedule: np.random.Generator,
        behaviour: Behaviour | None = None,
    ) -> None:
        self.taste = taste
        self.world = world
        self.behaviour = behaviour or Behaviour()
        self._acts = acts
        self._schedule = schedule
        self._n_topics = len(world.topics)
        self._understands = np.array(
            [
                i == taste.language or (code == "en" and taste.understands_english)
                for i, code in enumerate(world.languages)
            ],
            dtype=bool,
        )
        self.follows: set[int] = set()
        self._follow_ids: I64 = np.zeros(0, dtype=np.int64)
        self._liked: set[int] = set()
        self._session: _Session | None = None

    @classmethod
    def draw(
        cls,
        world: World,
        seed: np.random.SeedSequence | int,
        behaviour: Behaviour | None = None,
        taste: Taste | None = None,
    ) -> Persona:
        """A persona from one seed: its truth (unless given), acts and schedule streams."""
        sequence = (
            seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
        )
        truth, acts, schedule = (np.random.default_rng(child(sequence, k)) for k in range(3))
        chosen = taste if taste is not None else draw_taste(world, truth)
        return cls(chosen, world, acts, schedule, behaviour)

    def sign_up(self) -> dict[str, Any]:
        """Keyword arguments for :meth:`engine.Engine.new_user`: what a person says at sign-up."""
        return sign_up(self.taste, self.world)

    # -- time --------------------------------------------------------------------------------

    def first_arrival_s(self) -> float:
        """World seconds after the simulation start when the first session begins."""
        return float(self._schedule.uniform(0.0, ARRIVAL_WINDOW_S))

    def session_gap_s(self) -> float:
        """World seconds between the end of a session and the start of the next."""
        return float(self._schedule.exponential(self.taste.session_gap_s))

    @property
    def in_session(self) -> bool:
        return self._session is not None

    @property
    def depth(self) -> int:
        """Videos watched in the current session."""
        return 0 if self._session is None else self._session.depth

    def start_session(self) -> None:
        """Begin a session in a fresh mood, with nothing repeated yet."""
        mood = self.taste.mood_sd * self._schedule.standard_normal(self._n_topics)
        self._session = _Session(mood=mood, recent_count=np.zeros(self._n_topics))

    def end_session(self) -> None:
        self._session = None

    # -- the truth, vectorised ---------------------------------------------------------------

    def appeal_mean(self, ids: I64) -> F64:
        """Appeal of each video right now, before the moment's noise (logit scale)."""
        b, t, v = self.behaviour, self.taste, self.world.videos
        topics = v.topic_id[ids]
        appeal = b.base_appeal + b.topic_weight * t.topic[topics]
        appeal += b.taste_weight * (v.embedding[ids] @ t.vector).astype(np.float64)
        appeal += b.quality_weight * (v.quality[ids].astype(np.float64) - 0.5)
        creators = v.creator_id[ids]
        appeal += b.creator_bonus * in_sorted(creators, t.creators)
        appeal += b.sound_bonus * in_sorted(v.sound_id[ids], t.sounds)
        if len(self._follow_ids):
            appeal += b.followed_bonus * in_sorted(creators, self._follow_ids)
        appeal -= b.foreign_penalty * ~self._understands[v.language[ids]]
        appeal -= b.sensitive_penalty * (1.0 - t.sensitive_tolerance) * v.sensitive[ids]
        appeal -= b.spam_penalty * v.spam[ids]
        session = self._session
        if session is not None and session.recent_count is not None:
            appeal += session.mood[topics] - t.satiation * session.recent_count[topics]
        result: F64 = appeal
        return result

    def understands(self, ids: I64) -> npt.NDArray[np.bool_]:
        """Whether the persona understands each video's language (its own; English for half
        of the others)."""
        understood: npt.NDArray[np.bool_] = self._understands[self.world.videos.language[ids]]
        return understood

    def expected_watch_s(self, ids: I64) -> F64:
        """The persona's true expected seconds watched for each video, right now."""
        duration = self.world.videos.duration_s[ids].astype(np.float64)
        return expected_watch_s(
            self.behaviour, self.appeal_mean(ids), duration, self.taste.patience_s
        )

    # -- acting ------------------------------------------------------------------------------

    def react(self, video: Video | int) -> Reaction:
        """Watch one video and react to it (starts a session if none is open).

        Always consumes the same number of random draws, whatever happens.
        """
        if self._session is None:
            self.start_session()
        session = self._session
        assert session is not None
        video_id = video if isinstance(video, int) else video.id
        u = self._acts.random(N_UNIFORMS)
        z = self._acts.standard_normal(1 + self._n_topics)
        appeal = float(self.appeal_mean(np.array([video_id]))[0])
        appeal += self.behaviour.noise_sd * float(z[0])
        hooked = bool(u[U_HOOK] < sigmoid(appeal))
        duration = float(self.world.videos.duration_s[video_id])
        if hooked:
            watched, completed, actions = self._hooked(video_id, appeal, duration, u)
        else:
            watched, completed, actions = self._unhooked(video_id, appeal, duration, u)
        leaves = self._after(session, video_id, watched, hooked, z, float(u[U_LEAVE]))
        return Reaction(video_id, watched, actions, hooked, completed, appeal, leaves)

    def _hooked(
        self, video_id: int, appeal: float, duration: float, u: F64
    ) -> tuple[float, bool, list[Action]]:
        b = self.behaviour
        finish = float(finish_probability(b, np.array([appeal]), np.array([duration]))[0])
        completed = bool(u[U_FINISH] < finish)
        # Leaving part-way is counted in seconds: after the first few, a long exponential tail.
        partial = b.partial_min_s + b.partial_mean_s * -np.log1p(-float(u[U_PART]))
        watched = duration if completed else min(PARTIAL_CAP * duration, partial)
        loops = completed and u[U_REWATCH] < b.rewatch_rate * float(sigmoid(appeal))
        extra = rewatch_share(b, float(u[U_REWATCH_LEN])) if loops else 0.0
        watched += duration * extra
        # A like takes a moment: seldom taken by a viewer who swipes the instant the video ends,
        # and only by one who leaves part-way after the like's moment (read off the watch as
        # recorded, to the hundredth, so the learning ceiling's likelihood is exact).
        if loops or completed:
            like_scale = 1.0 if loops else b.like_complete
        else:
            like_scale = partial_like_scale(b, round(watched, 2), duration)
        actions = self._positives(video_id, appeal, u, like_scale)
        actions.append(("complete" if completed else "skip", {"watched_s": round(watched, 2)}))
        # As in the feed, a rewatch is recorded per further loop watched to its end: most loops
        # are a moment of the video starting again before the swipe, and record none.
        actions += [("rewatch", {})] * int(extra)
        return watched, completed, actions

    def _positives(self, video_id: int, appeal: float, u: F64, like_scale: float) -> list[Action]:
        b, t = self.behaviour, self.taste
        warm = float(sigmoid(appeal - b.like_threshold))
        actions: list[Action] = []
        liking = b.like_rate * like_scale * t.like * warm
        if video_id not in self._liked and u[U_LIKE] < liking:
            self._liked.add(video_id)
            actions.append(("like", {}))
        if u[U_SHARE] < b.share_rate * t.share * warm:
            actions.append(("share", {}))
        if u[U_SAVE] < b.save_rate * t.save * warm:
            actions.append(("save", {}))
        if u[U_COMMENT] < b.comment_rate * t.comment * warm:
            text = COMMENTS[int(u[U_TEXT] * len(COMMENTS)) % len(COMMENTS)]
            actions.append(("comment", {"text": text}))
        creator = int(self.world.videos.creator_id[video_id])
        keen = float(sigmoid(appeal - b.follow_threshold))
        if creator not in self.follows and u[U_FOLLOW] < b.follow_rate * t.follow * keen:
            self.follows.add(creator)
            self._follow_ids = np.array(sorted(self.follows), dtype=np.int64)
            actions.append(("follow", {}))
        return actions

    def _unhooked(
        self, video_id: int, appeal: float, duration: float, u: F64
    ) -> tuple[float, bool, list[Action]]:
        b, t, v = self.behaviour, self.taste, self.world.videos
        actions: list[Action] = []
        if u[U_NEGATIVE] < b.not_interested_rate * float(sigmoid(-appeal - b.negative_threshold)):
            # Saying no takes a few seconds of watching first (U_PART: see engine.sim.watch).
            seen = not_interested_watch_s(b, float(u[U_PART]))
            actions.append(("not_interested", {"scope": self._scope(video_id, float(u[U_SCOPE]))}))
        else:
            seen = self.taste.patience_s * -np.log1p(-float(u[U_GLANCE])) + GLANCE_MIN_S
        watched = min(duration, seen)
        completed = watched >= duration
        offended = bool(v.spam[video_id]) or (
            bool(v.sensitive[video_id]) and t.sensitive_tolerance < 0.3
        )
        if offended and u[U_REPORT] < b.report_rate:
            reason = "spam" if v.spam[video_id] else "sensitive"
            actions.append(("report", {"reason": reason}))
        actions.append(("complete" if completed else "skip", {"watched_s": round(watched, 2)}))
        return watched, completed, actions

    def _scope(self, video_id: int, draw: float) -> str:
        """A disliked topic is dismissed as a topic; otherwise mostly the video, sometimes
        its creator."""
        if self.taste.topic[int(self.world.videos.topic_id[video_id])] < -0.5:
            return "topic"
        return "creator" if draw < 0.25 else "video"

    def _after(
        self, session: _Session, video_id: int, watched: float, hooked: bool, z: F64, u: float
    ) -> bool:
        """Move satiation and mood on, and decide whether to leave."""
        topic = int(self.world.videos.topic_id[video_id])
        counts = session.recent_count
        assert counts is not None
        if len(session.recent) == SATIATION_WINDOW:
            counts[session.recent[0]] -= 1
        session.recent.append(topic)
        counts[topic] += 1
        innovation = self.taste.mood_sd * np.sqrt(1.0 - MOOD_PERSISTENCE**2)
        session.mood = MOOD_PERSISTENCE * session.mood + innovation * z[1:]
        session.depth += 1
        session.minutes += (watched + SWIPE_S) / 60.0
        session.unhooked_run = 0 if hooked else session.unhooked_run + 1
        hazard = leave_hazard(
            self.behaviour, self.taste.leave_scale, session.minutes, session.unhooked_run
        )
        return u < hazard or session.depth >= self.behaviour.max_depth
