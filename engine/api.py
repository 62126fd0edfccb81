"""The engine's public facade: what the TUI, simulations, notebooks and outside harnesses call.

    eng = Engine.open("world.db", config="ranking.toml")
    uid = eng.new_user(interests=["cooking", "pets"], language="en", country="US")
    rec = eng.next(uid)
    eng.record(uid, rec.video.id, "complete", watched_s=14.2)

Data flow per reaction: event → store → profile update; per pick: candidates → filters →
scores → re-rank → pick (+ receipt, + propensity) → store. Everything is written as it happens
(``log=False`` keeps it in memory, for fast simulations), and opening the same file later
resumes every viewer by replaying their recorded events.

The engine is assembled from parts, not varied by subclasses: the policy that picks
(:mod:`engine.policy`), the recorder its activity goes to (:mod:`engine.recorder`), the state
it starts from (:mod:`engine.start`), the clock (:mod:`engine.clock`) and boosts of its own
(:mod:`engine.heating`). What one event does to a viewer is :mod:`engine.update`; re-living
recorded history (:mod:`engine.replay`) drives an engine through the public methods under
"re-living history" below.
"""

from __future__ import annotations

import json
import math
import os
import re
import time
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from threadpoolctl import threadpool_limits

from engine import kernels, writers
from engine.arguments import as_callable, as_flag, as_items, as_number, as_text, as_words
from engine.catalog import Catalog
from engine.claims import VIEWER_BYTES, ClaimedError, Claims, ViewerClaimedError
from engine.clock import Clock, WallClock, finite_time
from engine.coengagement import CoEngagement
from engine.config import Config, load_config
from engine.controls import apply_settings, settings_of
from engine.events import Event, check_undo
from engine.guard import PolicyGuard
from engine.pipeline import Boost, Decision, NothingToRecommendError, Shared, write_receipts
from engine.policy import PickRequest, Policy, PolicySpec, as_policy, picked_by
from engine.pools import GRADUATED, STATE_NAMES, STOPPED, PoolViewOnce, TestPools
from engine.profile import Profile, UserState, seed_interests, snapshot
from engine.ranking import Ranking, learned_rows
from engine.reactions import check_event
from engine.receipt import Receipt
from engine.recorder import Recorder, SqliteRecorder, recorder_for
from engine.start import FileStart, Start
from engine.store import Store
from engine.store.activity import LIVE_STAT_FIELDS, REVISIT
from engine.store.files import writable
from engine.store.ids import as_id
from engine.text import check_free_text, check_storable
from engine.trending import Discover, Trend, Trending
from engine.update import Effects, effects_of, note_revisit, note_seen, note_served, update_viewer
from engine.video import Recommendation, Video, describe, describe_many
from engine.world import NO_ID, World

__all__ = ["Discover", "Engine", "NothingToRecommendError", "PoolStatus", "Ranking", "Trend"]

I64 = npt.NDArray[np.int64]


_LANGUAGE = re.compile(r"[a-z]{2}")
_COUNTRY = re.compile(r"[A-Z]{2}")
MAX_PLAYBACK_SPEED = 16.0
KEYWORD_SETS_KEPT = 64  # distinct sets of keyword filters whose blocked videos are kept


@dataclass(frozen=True)
class PoolStatus:
    """Where one video stands in the staged test pools (:mod:`engine.pools`).

    Attributes:
        video_id: The video.
        state: "testing", "stopped" (it did not beat its pool), "graduated" (it passed the
            last pool), or "none" (it was never in a pool: not a new upload).
        stage: The pool it is in (or stopped or graduated in), 0 for the first.
        viewers: Viewers its current pool has counted so far (0 again after a promotion).
        sizes: Each pool's size for the active audience now.
    """

    video_id: int
    state: str
    stage: int
    viewers: int
    sizes: tuple[int, ...]


class Engine:
    """A live recommender over one world file, assembled from its parts.

    Args:
        store: the world file (its arrays, captions and viewers are read from it).
        config: the engine's configuration.
        clock: world time source; defaults to the wall clock from the world's epoch.
        recorder: where activity goes; default the file (:class:`SqliteRecorder`).
        start: the shared state to restore; default the file's (:class:`FileStart`).
        world: the world's arrays if already loaded (a simulation shares one per process).
        condition: a study condition recorded with each session.
        policy: who picks (see :meth:`open`); default the config's.
        boosts: boosts of this engine only, never written to the file (study heating).
        of_logged_run: internal to :mod:`engine.sim`: this engine is one of a logged
            simulation's own, whose parent has the file alone (:mod:`engine.writers`), so it
            takes no writer's share of it.

    Raises:
        WorldInUseError: (a StoreError) the engine writes the file and a logged simulation
            has it alone.
        ValueError: a boost names a video outside the world.
    """

    def __init__(
        self,
        store: Store,
        config: Config,
        *,
        clock: Clock | None = None,
        recorder: Recorder | None = None,
        start: Start | None = None,
        world: World | None = None,
        condition: str | None = None,
        policy: object = None,
        boosts: Iterable[Boost] = (),
        of_logged_run: bool = False,
    ) -> None:
        self.store = store
        self.recorder: Recorder = recorder or SqliteRecorder(store)
        # The world first: a damaged file is refused before anything (a lock file) is made.
        world = world or store.load_world()
        # Its writer's share of the file and the viewers it serves; refused before the state
        # is read when a logged simulation has the file alone.
        self._claims = Claims(writers.lock_path(store.path))
        if self.recorder.writes and not of_logged_run and writable(store.path):
            writers.share(self._claims, store.path)
        try:
            self._assemble(config, clock, start, world, condition, policy, boosts)
        except BaseException:
            self._claims.release()
            raise

    def _assemble(
        self,
        config: Config,
        clock: Clock | None,
        start: Start | None,
        world: World,
        condition: str | None,
        policy: object,
        boosts: Iterable[Boost],
    ) -> None:
        """Everything but the recorder, the world's loading and the claims (see the class's
        arguments)."""
        store = self.store
        self.config = config
        # Who picks: any policy, scorer or spec; the config's policy name by default. Sessions
        # record it with the config when it is another (engine.config.recorded_toml).
        self.picked_by = picked_by(policy, config)
        self.policy: Policy = as_policy(config.policy if policy is None else policy)
        self.guard = PolicyGuard(self.policy)  # checks its picks before they are served
        self.start: Start = start or FileStart(store)
        self.condition = condition
        self.catalog = Catalog(world)
        self.clock: Clock = clock or WallClock(world.epoch_unix)
        self.trending = Trending(self.catalog, config.sources.trending_window_h)
        self.pools = self._new_pools()
        self.coengagement = CoEngagement(world.videos.creator_id)
        self._users: dict[int, UserState] = {}
        self._keywords: dict[str, I64] = {}
        # What each viewer's set of keyword filters blocks, sorted: numpy's unique took 0.4 ms
        # at every pick of a viewer filtering two common words.
        self._blocked: dict[tuple[str, ...], I64] = {}
        self._boosts: list[Boost] = []  # this engine's own: study heating, or not recorded
        self._stored_boosts: list[Boost] = []  # the file's boosts table
        self._file_version = 0
        self._closed = False  # close() was called: every call is refused, by name
        self._batching = False  # inside batch()
        self._save_waits = False  # a session ended inside batch(): the model is stored at its end
        self.heat(boosts)
        # One pick is a single matrix-vector product: BLAS worker threads parked between picks
        # cost ~5 ms to wake, ten times the product itself, so the engine computes on one.
        self._blas = threadpool_limits(limits=1, user_api="blas")
        self._restore()
        # A policy with a learned model resumes it from the file (engine.learned).
        self.learner = getattr(self.policy, "learner", None)
        if self.learner is not None:
            sink = store if self.recorder.writes else None
            self.learner.resume(self.start, config, sink=sink)

    @classmethod
    def open(
        cls,
        path: str | Path,
        config: str | Path | Config | None = None,
        *,
        clock: Clock | None = None,
        log: bool = True,
        recorder: Recorder | None = None,
        condition: str | None = None,
        policy: object = None,
        boosts: Iterable[Boost] = (),
        operator_boosts: bool = True,
    ) -> Engine:
        """Open a world file.

        Args:
            path: the world's SQLite file.
            config: a TOML file, a :class:`Config`, or None for the built-in defaults.
            clock: world time source; defaults to the wall clock from the world's epoch.
            log: write everything to the file (False keeps new activity in memory only: a
                :class:`engine.recorder.MemoryRecorder`).
            recorder: where activity goes (:mod:`engine.recorder`); overrides ``log``.
            condition: a study condition recorded with each session.
            policy: who picks (:mod:`engine.policy`): a policy or scorer object, a built-in
                name, ``"file.py:Class"`` or a :class:`PolicySpec`; default the config's.
            boosts: boosts applied by this engine only, never written (study heating,
                :func:`engine.heating.condition_boosts`).
            operator_boosts: apply the file's boosts table (False: a study condition's engine,
                whose only heating is its own ``boosts``).

        Raises:
            StoreError: the file is missing, foreign or from a newer foryou, or a logged
                simulation has it alone (WorldInUseError; only when ``log`` is True).
            ConfigError: the config is invalid.
            PolicyError: the policy cannot be loaded.
            ValueError: a boost names a video outside the world; a path that is no path, a
                clock that cannot be called, a condition that is no text, boosts that are not
                :class:`Boost`.
        """
        if not isinstance(path, (str, os.PathLike)):
            kind = type(path).__name__
            raise ValueError(f"path must be a world file's path, got {kind} {path!r}")
        cfg = config if isinstance(config, Config) else load_config(config)
        if clock is not None:
            as_callable(clock, "clock")
        as_text(condition, "condition", optional=True)
        boosts = as_items(boosts, Boost, "boosts")
        # Checked before the file is opened; built by the engine (which records the spec).
        chosen = PolicySpec.parse(policy) if isinstance(policy, str) else policy
        # The integrity check runs while the arrays load; it is waited for before the engine
        # is handed out, so nothing is written to a damaged file.
        store = Store.open(path, background=True)
        try:
            engine = cls(
                store,
                cfg,
                clock=clock,
                recorder=recorder or recorder_for(store, log=log),
                condition=condition,
                policy=chosen,
                boosts=boosts,
                start=FileStart(store, operator_boosts=operator_boosts),
            )
        except BaseException:
            try:
                store.wait_intact()  # on a damaged file, that is the error to report
            finally:
                store.close()
            raise
        try:
            store.wait_intact()
        except BaseException:
            engine.close()
            raise
        return engine

    @property
    def log(self) -> bool:
        """Whether activity is written to the file (see :mod:`engine.recorder`)."""
        return self.recorder.writes

    def _restore(self) -> None:
        """Bring back what earlier runs left: live stats, pools, boosts, recent trends."""
        for row in self.start.live_stats():
            video_id, *values = row
            self.catalog.engagement.add(
                int(video_id), dict(zip(LIVE_STAT_FIELDS, values, strict=True))
            )
        self.pools.load(self.start.pools())
        self._reload_boosts(force=True)
        now = self.clock()
        for world_t, video_id, kind in self.start.recent_events(now - self.trending.window_s):
            self.trending.observe(world_t, video_id, kind)
        self.pools.load_viewers(self.start.recent_viewers(now - self.pools.audience_window_s))
        self.coengagement.load(self.start.positive_events())
        self._refresh_shared(now, force=True)

    def _reload_boosts(self, *, force: bool = False) -> None:
        """Read the boosts table again if another connection has written to the file since:
        an operator's ``foryou boost`` reaches feeds already open at their next pick."""
        version = self.start.data_version()
        if force or version != self._file_version:
            self._file_version = version
            self._stored_boosts = [_boost_of(row) for row in self.start.boosts()]

    def heat(self, boosts: Iterable[Boost]) -> None:
        """Apply these boosts in this engine only, never writing them (study heating).

        Raises:
            ValueError: a boost names a video outside the world.
        """
        for boost in as_items(boosts, Boost, "boosts"):
            self.catalog.check_video(boost.video_id)
            self._boosts.append(boost)

    def _refresh_due(self, now: float) -> bool:
        return now - self.trending.computed_at >= 600.0

    def _refresh_shared(self, now: float, *, force: bool = False) -> None:
        if force or self._refresh_due(now):
            self.trending.refresh(now, force=True)
            self.pools.admit(now)

    # -- viewers -----------------------------------------------------------------------------

    def new_user(
        self,
        interests: list[str] | tuple[str, ...] = (),
        language: str = "en",
        country: str = "US",
        *,
        name: str | None = None,
        allow_sensitive: bool | None = None,
        simulated: bool = False,
        pick_seed: int | None = None,
    ) -> int:
        """Create a viewer; onboarding interests (topic names or slugs) may be empty.

        Args:
            pick_seed: Key of the viewer's pick randomness (with the config's seed); default
                the viewer's id. A simulation gives each persona its number in the run, so
                its feed never depends on which ids the database hands out.

        Raises:
            ValueError: an unknown topic, a malformed language or country code, a taken name,
                an empty name or one with control characters.
        """
        self._check_open()
        if as_text(name, "name", optional=True) is not None:
            check_free_text(name, "name", multiline=False)  # names are shown on terminals
        topic_ids = [self.catalog.topic_id(t) for t in as_words(interests, "interests")]
        if not (isinstance(language, str) and _LANGUAGE.fullmatch(language)):
            raise ValueError(f"language must be an ISO 639-1 code like 'en', got {language!r}")
        if not (isinstance(country, str) and _COUNTRY.fullmatch(country)):
            raise ValueError(f"country must be an ISO 3166-1 code like 'US', got {country!r}")
        slugs = [self.catalog.world.topics.slug[t] for t in topic_ids]
        sensitive = (
            self.config.filters.allow_sensitive
            if allow_sensitive is None
            else as_flag(allow_sensitive, "allow_sensitive")
        )
        settings = {"allow_sensitive": sensitive, "keyword_filters": [], "topic_sliders": {}}
        if name is not None:
            check_storable("name", name)
        added = self.recorder.add_user(
            name=name,
            language=language,
            country=country,
            interests=slugs,
            simulated=simulated,
            settings=settings,
            pick_seed=pick_seed,
        )
        if added is None:
            raise ValueError(f"a viewer named {name!r} already exists")
        user_id, chosen = added
        state = self._fresh_state(user_id, chosen, language, country, topic_ids, simulated)
        state.allow_sensitive = sensitive
        state.pick_seed = pick_seed
        self._users[user_id] = state
        return user_id

    def _fresh_state(
        self,
        user_id: int,
        name: str,
        language: str,
        country: str,
        topic_ids: list[int],
        simulated: bool,
    ) -> UserState:
        world = self.catalog.world
        state = UserState.fresh(
            user_id=user_id,
            name=name,
            language=self.catalog.language_index.get(language, NO_ID),
            country=self.catalog.country_index.get(country, NO_ID),
            interests=topic_ids,
            simulated=simulated,
            n_topics=len(world.topics),
            n_hashtags=len(world.hashtags),
            n_languages=len(world.languages),
            english=self.catalog.language_index.get("en", NO_ID),
        )
        seed_interests(state, world.topics.centroid, self.config.profile)
        return state

    def user_id(self, name: str) -> int:
        """The id of the viewer with this name.

        Raises:
            ValueError: no such viewer.
        """
        self._check_open()
        for state in self._users.values():
            if state.name == name:
                return state.user_id
        found = self.store.user_id_by_name(name)
        if found is None:
            raise ValueError(f"unknown viewer {name!r}")
        return found

    def users(self) -> list[dict[str, Any]]:
        """Every recorded viewer: id, name, language, country, simulated, watched."""
        self._check_open()
        return self.store.users()

    def claim_viewer(self, user_id: int) -> None:
        """Serve and record this viewer from this engine's process only, until :meth:`close`.

        Every logged call about a viewer claims them (once per engine, not per pick); call
        this to be refused before anything else happens. Engines whose recorder keeps nothing
        (``log=False``) serve from memory and claim nothing.

        Raises:
            ViewerClaimedError: (a ValueError) another process, or another engine of this
                process, is serving or recording them.
            ValueError: the id is not a whole number.
        """
        self._check_open()
        user_id = as_id(user_id, "user id")
        if not self.recorder.writes or self._claims.holds(VIEWER_BYTES + user_id):
            return
        if not writable(self.store.path):
            return  # nothing can be written through this engine, so nothing to protect
        if self._claims.held_here(VIEWER_BYTES + user_id):
            # Two engines of one process would repeat each other's videos and count likes
            # twice just as two processes would, and the kernel's lock cannot tell them apart.
            raise ViewerClaimedError(
                f"viewer {self._viewer_name(user_id)} is being watched through another Engine "
                "on this file in this process; close it first"
            )
        try:
            self._claims.claim(VIEWER_BYTES + user_id)
        except ClaimedError as held:
            pid = f" (pid {held.pid})" if held.pid else ""
            raise ViewerClaimedError(
                f"viewer {self._viewer_name(user_id)} is being watched in another process{pid}; "
                "close it there first"
            ) from None

    def _viewer_name(self, user_id: int) -> str:
        row = self.store.user_row(user_id)
        return str(row["name"]) if row else str(user_id)

    def _state(self, user_id: int) -> UserState:
        self._check_open()
        user_id = as_id(user_id, "user id")
        # Two processes serving one viewer repeat each other's videos and count likes twice.
        self.claim_viewer(user_id)
        state = self._users.get(user_id)
        if state is None:
            state = self._load_user(user_id)
            self._users[user_id] = state
        return state

    def _load_user(self, user_id: int) -> UserState:
        row = self.store.user_row(user_id)
        if row is None:
            raise ValueError(f"unknown user id {user_id}")
        interests = [self.catalog.topic_id(t) for t in json.loads(row["interests"] or "[]")]
        state = self._fresh_state(
            user_id, row["name"], row["language"], row["country"], interests, bool(row["simulated"])
        )
        self._apply_settings(state, json.loads(row["settings"] or "{}"))
        state.pick_seed = row.get("pick_seed")
        impressions, events = self.store.history(user_id)
        for imp in impressions:
            video_id, impression_id = int(imp["video_id"]), int(imp["id"])
            if imp["source"] == REVISIT:
                note_revisit(state, video_id, impression_id)
            else:
                note_served(state, video_id, int(imp["position"]), impression_id)
                state.n_served += 1
            if imp["seen_start"] is not None or imp["seen_end"] is not None:
                note_seen(state, video_id, self.catalog)
        for ev in events:
            self._apply(state, ev, live=False, reliving=True)
        return state

    # -- picking -----------------------------------------------------------------------------

    def next(self, user_id: int) -> Recommendation:
        """Pick the next video for a viewer (served; it is *seen* once :meth:`seen` or a
        closing event says so).

        Raises:
            ValueError: unknown user.
            NothingToRecommendError: every candidate is filtered out.
        """
        return self.next_many([user_id])[0]

    def next_many(
        self, user_ids: Sequence[int], *, at: Sequence[float] | None = None
    ) -> list[Recommendation]:
        """Pick the next video for several viewers at once, computed as one batch (the
        policy's :meth:`~engine.policy.Policy.pick_many`): the same picks as :meth:`next`
        for each in turn, since each viewer's draws depend only on the config's seed, its
        pick seed and its position.

        Args:
            user_ids: the viewers, each at most once.
            at: the world time of each viewer's pick (default: the clock's now for all); a
                simulation's personas each live on their own timeline. The picks are those of
                :meth:`next` for each in turn with the clock at its time: trends and test
                pools refresh where one at a time they would (the batch is cut there).

        Raises:
            ValueError: unknown user, a viewer twice, ``at`` of another length or holding a
                time that is not a finite number.
            NothingToRecommendError: every candidate is filtered out for one of them (its
                ``user_id`` says who); nothing is served to any of them.
        """
        states = [self._state(u) for u in user_ids]
        if len({id(s) for s in states}) != len(states):
            raise ValueError("next_many: a viewer appears more than once in the batch")
        times = (
            [self.clock()] * len(states)
            if at is None
            else [finite_time(t, f"next_many: at[{k}]") for k, t in enumerate(at)]
        )
        if len(times) != len(states):
            raise ValueError(f"next_many: {len(times)} times for {len(states)} viewers")
        if not states:
            return []
        if len(states) > 1:  # a batch (not next()): where compiled kernels pay (engine.kernels)
            kernels.load()
        self._reload_boosts()
        decisions: list[Decision] = []
        pending: list[UserState] = []
        for k, (state, now) in enumerate(zip(states, times, strict=True)):
            # Trends and pools move at a refresh: the viewers before it are picked first, as
            # one at a time they would have been (what replay and evaluation re-live).
            if pending and self._refresh_due(now):
                decisions += self._pick_batch(pending, times[k - len(pending) : k])
                pending = []
            self._refresh_shared(now)
            pending.append(state)
        decisions += self._pick_batch(pending, times[len(times) - len(pending) :])
        if self.recorder.writes:  # every receipt is stored: written out for the batch at once
            write_receipts(decisions)
        picked = [d.video_id for d in decisions]
        captions = self.store.captions(picked)
        videos = describe_many(self.catalog, picked, [captions[v] for v in picked])
        sessions = [state.session_id for state in states]
        try:
            with self._transaction():
                return [
                    self._serve(state, decision, now, video)
                    for state, decision, now, video in zip(
                        states, decisions, times, videos, strict=True
                    )
                ]
        except BaseException:
            self._unserve(states, sessions)
            raise

    def _unserve(self, states: Sequence[UserState], sessions: Sequence[int | None]) -> None:
        """A batch whose writes failed (a full disk, Ctrl+C) was rolled back in the file, so
        its viewers are read back from the file as they stood before it, each with the session
        it had open: the picks already served in memory and a session started by the failed
        write (its row rolled back: every later impression failed on it) are gone."""
        if not self.recorder.writes:
            return  # memory is the only record: there is nothing to disagree with
        for state, session_id in zip(states, sessions, strict=True):
            self._users.pop(state.user_id, None)
            try:
                again = self._load_user(state.user_id)
            except Exception:  # unreadable now: the viewer's next call reads the file again
                continue
            again.session_id = session_id
            self._users[state.user_id] = again

    def _serve(
        self, state: UserState, decision: Decision, now: float, video: Video
    ) -> Recommendation:
        position = state.n_served
        impression_id = self._log_impression(state, decision, position, now)
        note_served(state, decision.video_id, position, impression_id)
        state.n_served += 1
        if self.learner is not None:
            self.learner.served(state.user_id, decision.video_id, decision.inputs, decision.rates)
        return Recommendation(
            video=video,
            impression_id=impression_id,
            position=position,
            source=decision.source,
            score=decision.score,
            rank=decision.rank,
            propensity=decision.propensity,
            predicted=decision.predicted,
            _receipt_of=lambda: decision.receipt,
        )

    def _pick_batch(self, states: Sequence[UserState], times: Sequence[float]) -> list[Decision]:
        requests = self._pick_requests(states, times, [_pick_key(s) for s in states])
        return self.guard.pick_many(requests)

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Group the writes of several calls into one transaction when logging (a
        simulation's round: its events, then the sessions that end).

        The learned model is then stored once, as the block ends, rather than at each session
        end inside it: the file holds the same state once the transaction commits, and no
        other reader ever saw the states in between. Nested blocks join the outer one.

        A call inside that fails (a full disk, Ctrl+C) wrote nothing and left the engine as it
        was; the calls before it stay, in the file as in the engine: the block commits them,
        then the error goes on (rolled back with it, they would live on in the engine alone).
        """
        self._check_open()
        if self._batching:
            yield
            return
        self._batching, self._save_waits = True, False
        failed: BaseException | None = None
        try:
            with self._transaction():
                try:
                    yield
                except BaseException as error:
                    failed = error
                if self._save_waits and self.learner is not None:
                    self.learner.save()
        finally:
            self._batching = False
        if failed is not None:
            raise failed

    def _transaction(self) -> AbstractContextManager[object]:
        """One transaction around a batch's writes (each write keeps its own savepoint)."""
        return self.store.db.atomic() if self.recorder.writes else nullcontext()

    def _decide(
        self,
        state: UserState,
        now: float,
        *,
        seed_id: int,
        extra_boosts: Collection[Boost] = (),
    ) -> Decision:
        """The pipeline's pick for a viewer at ``now``. Its random draws depend only on the
        config's seed, ``seed_id`` (the viewer's pick seed, see :func:`_pick_key`) and how many
        picks the viewer had, so a replay of the same events draws the same.

        Raises:
            NothingToRecommendError: every candidate is filtered out.
        """
        return self.guard.pick_many([self._pick_request(state, now, seed_id, extra_boosts)])[0]

    def _pick_request(
        self, state: UserState, now: float, seed_id: int, extra_boosts: Collection[Boost] = ()
    ) -> PickRequest:
        """What the policy is given for one pick (see :meth:`_decide` for the seeding)."""
        self._refresh_shared(now)
        self._reload_boosts()
        return self._pick_requests([state], [now], [seed_id], extra_boosts)[0]

    def _pick_requests(
        self,
        states: Sequence[UserState],
        times: Sequence[float],
        seed_ids: Sequence[int],
        extra_boosts: Collection[Boost] = (),
    ) -> list[PickRequest]:
        """What the policy is given for each viewer's pick (trends, pools and boosts as they
        stand), one shared view of the world per distinct time."""
        worlds: dict[float, Shared] = {}
        requests = []
        pool_view = PoolViewOnce(self.pools)  # the pools do not change during a batch
        for state, now, seed_id in zip(states, times, seed_ids, strict=True):
            world = worlds.get(now)
            if world is None:
                world = worlds[now] = self._shared(now, extra_boosts, pool_view)
            rng = np.random.default_rng(
                np.random.SeedSequence(
                    self.config.seed, spawn_key=(seed_id % 2**32, state.n_served)
                )
            )
            requests.append(PickRequest(state, world, self._keyword_blocked(state), rng))
        return requests

    def _shared(
        self,
        now: float,
        extra_boosts: Collection[Boost] = (),
        pool_view: PoolViewOnce | None = None,
    ) -> Shared:
        boosts = (*self._stored_boosts, *self._boosts, *extra_boosts)
        return Shared(
            catalog=self.catalog,
            config=self.config,
            trending=self.trending,
            pools=self.pools,
            boosts={b.video_id: b for b in boosts if b.starts <= now < b.until},
            now=now,
            coengagement=self.coengagement,
            pool_view=pool_view,
        )

    def rank(self, user_id: int, video_ids: Iterable[int]) -> Ranking:
        """The policy's scores of given videos for a viewer now, and (for the engine's own
        scorer) its P(action) for each: without serving, logging or moving anything.

        Trends and test pools are used as they stand (never refreshed here) and the policy
        draws from a throwaway generator, so the viewer's next picks are the same with or
        without this call. Videos are scored as given: filters (seen, hidden) do not apply.

        Raises:
            ValueError: an unknown viewer or video id.
        """
        state = self._state(user_id)
        ids = self.catalog.check_videos(video_ids)
        throwaway = np.random.default_rng(
            np.random.SeedSequence(self.config.seed, spawn_key=(_pick_key(state) % 2**32, 2**31))
        )
        request = PickRequest(
            state, self._shared(self.clock()), self._keyword_blocked(state), throwaway
        )
        return self.guard.rank(request, ids)

    def _session(self, state: UserState) -> int:
        """The viewer's session, started by the first impression that needs one."""
        if state.session_id is None:
            state.session_id = self.recorder.start_session(
                user_id=state.user_id,
                config=self.config,
                simulated=state.simulated,
                condition=self.condition,
                picked_by=self.picked_by,
            )
        return state.session_id

    def _log_impression(
        self, state: UserState, decision: Decision, position: int, now: float
    ) -> int:
        session_id = self._session(state)
        return self.recorder.add_impression(
            {
                "user_id": state.user_id,
                "session_id": session_id,
                "video_id": decision.video_id,
                "position": position,
                "served_at": time.time(),
                "world_t": now,
                "source": decision.source,
                "score": decision.score,
                "rank": decision.rank,
                "propensity": decision.propensity,
                # A recorder that keeps nothing never reads it: the receipt is then written
                # out only if someone asks for it (why, a notebook), not at every pick.
                "receipt": decision.receipt.to_json() if self.recorder.writes else None,
            }
        )

    def revisit(self, user_id: int, video_id: int) -> int:
        """The viewer went back to a video served earlier: a viewing of its own.

        It gets an impression row of its own (``source = "revisit"``, the position and receipt
        of the pick it returns to, no score, rank or propensity: the viewer chose it, not the
        policy), so the first viewing's ``watched_s`` and ``seen_end`` stay as they were.
        Events on the video from now on, :meth:`seen` included, belong to this viewing.
        Replay does not decide it again and off-policy evaluation leaves it out.

        Returns:
            The new impression's id.

        Raises:
            ValueError: unknown user or video, or a video never served to this viewer.
        """
        state = self._state(user_id)
        video_id = self.catalog.check_video(video_id)
        first = self._served_impression(state, video_id)
        impression_id = self.recorder.add_revisit(
            first, session_id=self._session(state), served_at=time.time(), world_t=self.clock()
        )
        note_revisit(state, video_id, impression_id)
        return impression_id

    def video(self, video_id: int) -> Video:
        """The public description of a video, with its current counts.

        Raises:
            ValueError: unknown video id.
        """
        self._check_open()
        video_id = self.catalog.check_video(video_id)
        return describe(self.catalog, video_id, self.store.caption(video_id))

    def seen(self, user_id: int, video_id: int) -> None:
        """The served video is now on the viewer's screen.

        Raises:
            ValueError: unknown user or video, or a video never served to this viewer.
        """
        state = self._state(user_id)
        video_id = self.catalog.check_video(video_id)
        impression_id = self._served_impression(state, video_id)
        self.recorder.mark_seen(impression_id, time.time())
        note_seen(state, video_id, self.catalog)

    # -- reactions ---------------------------------------------------------------------------

    def record(
        self,
        user_id: int,
        video_id: int,
        kind: str,
        *,
        watched_s: float | None = None,
        scope: str | None = None,
        reason: str | None = None,
        text: str | None = None,
    ) -> int:
        """Record a reaction; returns once it is committed (the event id).

        Raises:
            ValueError: an unknown kind, user or video, a video never served to this viewer,
                a missing argument, or an undo of something not done. Nothing is written.
        """
        check_event(kind, watched_s=watched_s, scope=scope, reason=reason, text=text)
        state = self._state(user_id)
        video_id = self.catalog.check_video(video_id)
        impression_id = self._served_impression(state, video_id)
        check_undo(state, video_id, int(self.catalog.world.videos.creator_id[video_id]), kind)
        event = {
            "user_id": state.user_id,
            "session_id": state.session_id,
            "impression_id": impression_id,
            "video_id": video_id,
            "kind": kind,
            "at": time.time(),
            "world_t": self.clock(),
            "watched_s": watched_s,
            "scope": scope,
            "reason": reason,
            "text": text,
        }
        return self._apply(state, event, live=True)

    def record_many(self, events: Iterable[tuple[int, int, str, Mapping[str, Any]]]) -> list[int]:
        """Record several reactions in order, as :meth:`record` would one by one, in one
        transaction when logging (one commit for the batch, not one per event).

        Args:
            events: ``(user_id, video_id, kind, details)`` each, ``details`` the keyword
                arguments of :meth:`record` (``watched_s``, ``scope``, ``reason``, ``text``).

        Returns:
            The event ids, in order.

        Raises:
            ValueError: as :meth:`record`, or an entry that is not such a tuple; the events
                before the refused one are recorded (and committed), it and those after it
                are not. So with any other error of an event's write (a full disk): the
                engine counted those before it.
        """
        ids: list[int] = []
        refused: BaseException | None = None
        with self._transaction():
            for entry in events:
                try:
                    user_id, video_id, kind, details = _event_entry(entry)
                    ids.append(self.record(user_id, video_id, kind, **details))
                except Exception as error:  # nothing of it was written: keep those before
                    refused = error
                    break
        if refused is not None:
            raise refused
        return ids

    def _served_impression(self, state: UserState, video_id: int) -> int:
        impression_id = state.impression_of.get(video_id)
        if impression_id is None:
            raise ValueError(f"video {video_id} was never served to viewer {state.user_id}")
        return impression_id

    def _apply(
        self,
        state: UserState,
        row: Mapping[str, Any],
        *,
        live: bool,
        reliving: bool = False,
        history: bool = False,
    ) -> int:
        """Apply one event row to the file (live only), then to the viewer and the world.

        The write comes first: when it fails (a full disk, a locked file), the viewer's
        profile, the live counters, trends and test pools are as they were before the call.
        ``reliving``: the row is the viewer's recorded history, re-lived as the engine opens
        them (a ranker failing on it is told so). ``history``: the row is an imported log's,
        re-lived in time order (replay, offline evaluation, an import learning its model): its
        videos' counts are the world's background already, but who engaged with what beside
        what is not, so co-engagement learns it as a live event's.
        """
        event = Event.of(row, state.user_id)
        effects = effects_of(state, event, self.catalog, self.config)
        event_id = self._commit(row, event, effects) if live else int(row.get("id") or 0)
        update_viewer(state, event, effects, self.catalog, self.config)
        try:
            if reliving:
                self.guard.relive(event, state.name)
            else:
                self.guard.observe(event, saved=live and self.recorder.writes)
        finally:
            # The event is in the file and the viewer moved: the world's counts follow even
            # when a ranker's observe() raised, so the engine still matches the file.
            if live and event.video_id is not None:
                self.catalog.engagement.add(event.video_id, dict(effects.stat_deltas))
                self.trending.observe(event.world_t, event.video_id, event.kind)
                if effects.closes:
                    self.pools.note_viewer(state.user_id, event.world_t)
            if (live or history) and event.video_id is not None:
                self.coengagement.observe(state.user_id, event.video_id, event.kind)
        return event_id

    def _commit(self, row: Mapping[str, Any], event: Event, effects: Effects) -> int:
        """Write a live event with the test-pool row it changes; a failed write leaves the
        pools as they were."""
        if event.video_id is None:
            return self.recorder.add_event(row, close=None, stat_deltas={}, pool=None)
        video_id = event.video_id
        before = self.pools.checkpoint(video_id)
        pool_changed = False
        if effects.pool_view:
            pool_changed = self.pools.on_view(video_id, completed=event.kind == "complete")
        elif event.kind == "like":
            pool_changed = self.pools.on_like(video_id)
        pool = self.pools.row(video_id, event.world_t) if pool_changed else None
        watched = event.watched_s or 0.0
        close = (float(row["at"]), watched) if effects.closes else None
        try:
            return self.recorder.add_event(
                row, close=close, stat_deltas=effects.stat_deltas, pool=pool
            )
        except BaseException:
            self.pools.restore(before)
            raise

    # -- feed controls -----------------------------------------------------------------------

    def set_controls(
        self,
        user_id: int,
        *,
        allow_sensitive: bool | None = None,
        keyword_filters: list[str] | None = None,
        topic_sliders: dict[str, float] | None = None,
        playback_speed: float | None = None,
    ) -> None:
        """Change a viewer's feed controls (kept across refresh and restarts).

        Args:
            topic_sliders: topic name -> multiplier in [0, 3] (1 = neutral, 0 = none).
            playback_speed: how fast the viewer plays videos, in (0, 16]; the engine only
                keeps it for the feed (``Profile.playback_speed``), picks do not use it.

        Raises:
            ValueError: unknown user or topic, a slider outside [0, 3], an empty keyword, a
                speed outside (0, 16].
        """
        state = self._state(user_id)
        settings = settings_of(state, self.catalog)
        if allow_sensitive is not None:
            settings["allow_sensitive"] = as_flag(allow_sensitive, "allow_sensitive")
        if keyword_filters is not None:
            words = [w.strip().lower() for w in as_words(keyword_filters, "keyword_filters")]
            if any(not w for w in words):
                raise ValueError("keyword filters must be non-empty words")
            for word in words:
                check_storable("keyword_filters", word)
            settings["keyword_filters"] = sorted(set(words))
        if topic_sliders is not None:
            settings["topic_sliders"] = self._sliders(topic_sliders)
        if playback_speed is not None:
            playback_speed = as_number(playback_speed, "playback speed")
            if not 0.0 < playback_speed <= MAX_PLAYBACK_SPEED:  # also refuses nan
                raise ValueError(f"playback speed must be within (0, 16], got {playback_speed}")
            settings.pop("playback_speed", None)
            if playback_speed != 1.0:  # 1× is the default and stays unwritten
                settings["playback_speed"] = float(playback_speed)
        self.recorder.save_settings(state.user_id, settings)
        self._apply_settings(state, settings)

    def _sliders(self, topic_sliders: Mapping[str, float]) -> dict[str, float]:
        if not isinstance(topic_sliders, Mapping):
            raise ValueError(
                "topic_sliders must be a dict of topic -> multiplier, "
                f"got {type(topic_sliders).__name__} {topic_sliders!r}"
            )
        sliders: dict[str, float] = {}
        for topic, multiplier in topic_sliders.items():
            self.catalog.topic_id(topic)
            m = as_number(multiplier, f"slider for {topic!r}")
            if not 0.0 <= m <= 3.0:
                raise ValueError(f"slider for {topic!r} must be within [0, 3], got {m}")
            sliders[topic] = m
        return sliders

    def _apply_settings(self, state: UserState, settings: dict[str, Any]) -> None:
        apply_settings(state, settings, self.catalog)

    def _keyword_blocked(self, state: UserState) -> I64:
        if not state.keyword_filters:
            return np.zeros(0, dtype=np.int64)
        words = tuple(state.keyword_filters)
        blocked = self._blocked.get(words)
        if blocked is None:
            for word in words:
                if word not in self._keywords:
                    matching = self.store.videos_matching(word)
                    self._keywords[word] = np.array(matching, dtype=np.int64)
            blocked = np.unique(np.concatenate([self._keywords[w] for w in words]))
            blocked.setflags(write=False)  # shared by every pick of these filters
            if len(self._blocked) >= KEYWORD_SETS_KEPT:
                self._blocked.clear()
            self._blocked[words] = blocked
        return blocked

    def refresh(self, user_id: int) -> None:
        """Forget learned interests as if newly signed up; keep follows, hides and filters."""
        state = self._state(user_id)
        event = {
            "user_id": state.user_id,
            "session_id": state.session_id,
            "impression_id": None,
            "video_id": None,
            "kind": "refresh",
            "at": time.time(),
            "world_t": self.clock(),
            "watched_s": None,
            "scope": None,
            "reason": None,
            "text": None,
        }
        self._apply(state, event, live=True)

    # -- re-living history ------------------------------------------------------------------
    # What :mod:`engine.replay` drives an engine with (a memory recorder, a start state
    # without activity, a virtual clock): recorded rows are noted as they happened, and the
    # engine's own pick is asked for without being served.

    def decide(
        self, user_id: int, *, seed_id: int | None = None, boosts: Collection[Boost] = ()
    ) -> Decision:
        """What the policy picks for the viewer now, without serving or recording it.

        Args:
            seed_id: the id the viewer's pick randomness is keyed by when they have no pick
                seed of their own (default their id; replay passes the id they were recorded
                under, if a merge renumbered them).
            boosts: boosts in force for this pick only, besides the engine's.

        Raises:
            ValueError: unknown user.
            NothingToRecommendError: every candidate is filtered out.
        """
        request = self.pick_request(user_id, seed_id=seed_id, boosts=boosts)
        return self.guard.pick_many([request])[0]

    def pick_request(
        self, user_id: int, *, seed_id: int | None = None, boosts: Collection[Boost] = ()
    ) -> PickRequest:
        """What the policy is given for the viewer's next pick now (see :meth:`decide` for the
        arguments): to call a policy directly, as its tests do.

        Raises:
            ValueError: unknown user.
        """
        state = self._state(user_id)
        key = (seed_id or state.user_id) if state.pick_seed is None else state.pick_seed
        return self._pick_request(state, self.clock(), key, boosts)

    def adopt(self, user: Mapping[str, Any]) -> int:
        """Serve a recorded viewer (a ``users`` row) as they signed up: onboarding interests
        and stored settings, none of their history (replay re-lives it step by step).

        Returns:
            The viewer's id.
        """
        self._check_open()
        interests = [self.catalog.topic_id(t) for t in json.loads(user["interests"] or "[]")]
        state = self._fresh_state(
            int(user["id"]),
            str(user["name"]),
            str(user["language"]),
            str(user["country"]),
            interests,
            bool(user["simulated"]),
        )
        self._apply_settings(state, json.loads(user["settings"] or "{}"))
        state.pick_seed = user.get("pick_seed")
        self._users[state.user_id] = state
        return state.user_id

    def serve_recorded(self, user_id: int, impression: Mapping[str, Any]) -> None:
        """Note a recorded impression (an ``impressions`` row) as served now: a pick at its
        position, or a revisit. Nothing is recorded.

        Raises:
            ValueError: unknown user.
        """
        state = self._state(user_id)
        video_id, impression_id = int(impression["video_id"]), int(impression["id"])
        if impression.get("source") == REVISIT:
            note_revisit(state, video_id, impression_id)
            return
        self._refresh_shared(self.clock())  # as the recorded pick did
        position = int(impression["position"])
        note_served(state, video_id, position, impression_id)
        state.n_served = position + 1
        if self.learner is not None and impression.get("receipt"):
            # The learned model learns the viewing from the row its receipt logged, as the
            # recording engine did.
            logged = Receipt.from_json(impression["receipt"])
            self.learner.served(user_id, video_id, logged.inputs, logged.rates)

    def learning_rows(
        self, viewings: Sequence[tuple[int, int, float]]
    ) -> list[tuple[dict[str, float], dict[str, float]]]:
        """The learned model's row (inputs, global-rate logits) of each (viewer, video, world
        time) as the viewer stands now: what the receipt would log if the engine served that
        video then (:func:`engine.ranking.learned_rows`; an import learns its log from them,
        :mod:`engine.imported_model`).

        Raises:
            ValueError: unknown user.
        """
        unused = np.random.default_rng(0)  # rows draw nothing
        requests = []
        for user_id, _, world_t in viewings:
            state = self._state(user_id)
            shared = self._shared(world_t)
            requests.append(PickRequest(state, shared, self._keyword_blocked(state), unused))
        return learned_rows(requests, [video for _, video, _ in viewings])

    def apply_recorded(
        self, user_id: int, event: Mapping[str, Any], *, history: bool = False
    ) -> None:
        """Apply a recorded event (an ``events`` row) as if it happened now: the viewer, the
        live counters, trends and test pools move; the recorder is given it.

        Args:
            history: the event comes from an imported log (``foryou import``): only the viewer
                moves, as when an engine opens that viewer (their videos' engagement is already
                the world's background).

        Raises:
            ValueError: unknown user.
        """
        self._apply(self._state(user_id), event, live=not history, history=history)

    def _new_pools(self) -> TestPools:
        sources = self.config.sources
        return TestPools(
            self.catalog,
            self.config.pools,
            sources.fresh_window_h,
            audience_window_h=sources.trending_window_h,
        )

    def reopen(self) -> None:
        """Restore what a newly opened engine would from the file now: the test-pool rows as
        written (a pool's running averages are in memory only, so they start over), then a
        forced refresh of trends and pools. The learned model's open viewings are lost, as
        with the engine that closed."""
        self._check_open()
        if self.learner is not None:
            self.learner.forget_pending()
        now = self.clock()
        old = self.pools
        written = (old.stage > 0) | (old.state == STOPPED) | (old.state == GRADUATED)
        written |= (old.impressions > 0) | (old.likes > 0)
        self.pools = self._new_pools()
        self.pools.load([old.row(int(v), now)[:6] for v in np.flatnonzero(written)])
        # Every closing event is in the file, so the audience it would count is the same.
        self.pools.load_viewers(old.active_viewers())
        self._refresh_shared(now, force=True)

    # -- reading -----------------------------------------------------------------------------

    def profile(self, user_id: int) -> Profile:
        """What the engine believes about a viewer right now."""
        return snapshot(self._state(user_id), self.catalog, self.clock(), self.config)

    def topics(self) -> list[str]:
        """Topic slugs, accepted wherever a topic is named (display names work too)."""
        self._check_open()
        return list(self.catalog.world.topics.slug)

    def explain(self, impression_id: int) -> Receipt:
        """The stored receipt of an impression; a revisit's is the receipt of the pick it went
        back to (:meth:`revisited_pick`).

        Raises:
            ValueError: unknown impression id.
        """
        self._check_open()
        impression_id = as_id(impression_id, "impression id")
        row = self.store.impression(impression_id)
        if row is None:
            raise ValueError(f"unknown impression id {impression_id}")
        if row["receipt"] is None:  # a viewing imported from a real log: no engine picked it
            raise ValueError(
                f"impression {impression_id} has no receipt: it was imported from a real log "
                "(foryou import), not picked by the engine"
            )
        return Receipt.from_json(row["receipt"])

    def revisited_pick(self, impression_id: int) -> int | None:
        """The impression id of the pick a revisit went back to (:meth:`revisit`), None when
        the impression is not a revisit or is unknown."""
        self._check_open()
        return self.store.revisited_pick(as_id(impression_id, "impression id"))

    def topic_labels(self) -> dict[str, str]:
        """Topic slug -> display name (e.g. "booktok" -> "BookTok")."""
        self._check_open()
        topics = self.catalog.world.topics
        return dict(zip(topics.slug, topics.name, strict=True))

    def locales(self) -> tuple[list[str], list[str]]:
        """The world's language codes and country codes."""
        self._check_open()
        world = self.catalog.world
        return list(world.languages), list(world.countries)

    def discover(self, n: int = 10, *, buckets: int = 12, bucket_s: float = 600.0) -> Discover:
        """What is trending: top hashtags and sounds by velocity, with their recent engagement
        per bucket (the world's background activity, and every reaction recorded here on top)."""
        self._check_open()
        now = self.clock()
        self.trending.refresh(now, force=True)
        world = self.catalog.world
        tag_series = self.trending.hashtag_series(now, buckets=buckets, bucket_s=bucket_s)
        sound_series = self.trending.sound_series(now, buckets=buckets, bucket_s=bucket_s)
        hashtags = [
            Trend(f"#{world.hashtags.tag[i]}", v, tag_series[i].tolist())
            for i, v in self.trending.top_hashtags(n)
        ]
        sounds = [
            Trend(
                f"{world.sounds.title[i]} - {world.sounds.artist[i]}", v, sound_series[i].tolist()
            )
            for i, v in self.trending.top_sounds(n)
        ]
        videos = [int(v) for v in self.trending.top_videos[:n]]
        return Discover(hashtags=hashtags, sounds=sounds, videos=videos, bucket_s=bucket_s)

    def pool_status(self, video_id: int) -> PoolStatus:
        """Where a video stands in the staged test pools, as the fresh source sees it now.

        Raises:
            ValueError: unknown video id.
        """
        self._check_open()
        video_id = self.catalog.check_video(video_id)
        pools = self.pools
        return PoolStatus(
            video_id=video_id,
            state=STATE_NAMES.get(int(pools.state[video_id]), "none"),
            stage=int(pools.stage[video_id]),
            viewers=int(pools.impressions[video_id]),
            sizes=tuple(pools.size(k) for k in range(len(pools.sizes))),
        )

    @property
    def now(self) -> float:
        return self.clock()

    # -- operators ---------------------------------------------------------------------------

    def boost(
        self,
        video_id: int,
        *,
        weight: float,
        until: float,
        reason: str,
        by: str = "operator",
        starts: float | None = None,
    ) -> int:
        """Boost ("heat") a video until a world time; every receipt it appears in says so.

        Raises:
            ValueError: unknown video, weight <= 0, an end not after the start, no reason, a
                reason or name with control characters.
        """
        self._check_open()
        video_id = self.catalog.check_video(video_id)
        start = self.clock() if starts is None else starts
        if not (math.isfinite(weight) and weight > 0):
            raise ValueError(f"boost weight must be a finite positive number, got {weight}")
        if not (math.isfinite(start) and math.isfinite(until)):
            raise ValueError("a boost's start and end must be finite world times")
        if until <= start:
            raise ValueError("a boost must end after it starts")
        if not reason.strip():
            raise ValueError("a boost needs a reason")
        check_free_text(reason, "the boost's reason", multiline=False)  # every viewer sees it
        check_free_text(by, "the boost's by=", multiline=False)
        row = {
            "video_id": video_id,
            "weight": weight,
            "starts_world_t": start,
            "until_world_t": until,
            "reason": reason,
            "created_by": by,
            "created_at": time.time(),
        }
        boost_id = self.recorder.add_boost(row)
        # Written, it is a row of the boosts table like any other; else this engine's own.
        kept = self._stored_boosts if self.recorder.writes else self._boosts
        kept.append(_boost_of({"id": boost_id, **row}))
        return boost_id

    # -- sessions ----------------------------------------------------------------------------

    def end_session(self, user_id: int) -> None:
        """Close the viewer's session and store a snapshot of their profile (a viewer without
        an open session: nothing to do).

        Raises:
            ValueError: unknown user.
        """
        self._check_open()
        user_id = as_id(user_id, "user id")
        state = self._users.get(user_id)
        if state is None and self.store.user_row(user_id) is None:
            raise ValueError(f"unknown user id {user_id}")
        if state is None or state.session_id is None:
            return
        self.recorder.end_session(
            state.session_id, user_id, lambda: self.profile(user_id).as_dict()
        )
        state.session_id = None
        if self._batching:
            self._save_waits = True
        elif self.learner is not None:
            self.learner.save()

    def checkpoint(self) -> None:
        """Copy what the file's write-ahead log holds into the file now (nothing to do when
        the engine writes no file, or inside :meth:`batch`, whose writes are not in the log
        until the block commits).

        SQLite copies the log on its own once it reaches ``WAL_CHECKPOINT_PAGES`` pages
        (:mod:`engine.store.files`), inside whichever write crosses that line: a ``next()``
        or ``record()`` of 35-80 ms about once in 600 viewings on a 100k world. Called while
        nobody waits (the feed calls it while a video plays), the copy is a few pages and no
        pick is the one that pays.
        """
        self._check_open()
        if self.recorder.writes and not self._batching:
            self.store.checkpoint()

    def close(self) -> None:
        """End every open session (a profile snapshot each), store the learned model and let
        the file and the viewers go. Closing again does nothing; any other call afterwards
        raises ``ValueError``."""
        if self._closed:
            return
        for user_id in list(self._users):
            self.end_session(user_id)
        if self.learner is not None:
            self.learner.save()
        self.store.close()
        self._claims.release()
        self._blas.restore_original_limits()
        self._closed = True

    def _check_open(self) -> None:
        # Rather than SQLite's "Cannot operate on a closed database." from deep inside, or an
        # answer from memory that no longer matches a file others go on writing.
        if self._closed:
            raise ValueError(
                f"this Engine on {self.store.path} is closed; open the file again with Engine.open"
            )

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _event_entry(entry: object) -> tuple[int, int, str, Mapping[str, Any]]:
    """One entry of :meth:`Engine.record_many`, checked inside its loop: a malformed one
    unpacked by the loop itself rolled back the events before it in the file while the
    engine kept them."""
    if isinstance(entry, (tuple, list)) and len(entry) == 4 and isinstance(entry[3], Mapping):
        user_id, video_id, kind, details = entry
        return user_id, video_id, kind, details
    raise ValueError(
        f"record_many: each event is (user_id, video_id, kind, details: dict), got {entry!r}"
    )


def _boost_of(row: dict[str, Any]) -> Boost:
    return Boost(
        id=int(row["id"]),
        video_id=int(row["video_id"]),
        weight=float(row["weight"]),
        starts=float(row["starts_world_t"]),
        until=float(row["until_world_t"]),
        reason=str(row["reason"]),
        by=str(row["created_by"]),
    )


def _pick_key(state: UserState) -> int:
    """What a viewer's pick randomness is keyed by: its pick seed, else its id."""
    return state.user_id if state.pick_seed is None else state.pick_seed
