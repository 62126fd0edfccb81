"""The engine's public facade: what the TUI, simulations, notebooks and outside harnesses call.

    eng = Engine.open("world.db", config="ranking.toml")
    uid = eng.new_user(interests=["cooking", "pets"], language="en", country="US")
    rec = eng.next(uid)
    eng.record(uid, rec.video.id, "complete", watched_s=14.2)

Data flow per reaction: event → store → profile update; per pick: candidates → filters →
scores → re-rank → pick (+ receipt, + propensity) → store. Everything is written as it happens
(``log=False`` keeps it in memory, for fast simulations), and opening the same file later
resumes every viewer by replaying their recorded events.
"""

from __future__ import annotations

import json
import math
import re
import secrets
import time
from collections.abc import Collection
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from threadpoolctl import threadpool_limits

from engine.catalog import Catalog
from engine.claims import VIEWER_BYTES, ClaimedError, Claims, ViewerClaimedError
from engine.clock import Clock, WallClock
from engine.config import Config, config_hash, effective_toml, load_config
from engine.controls import apply_settings, settings_of
from engine.events import STAT_OF_KIND, apply_choice, check_undo, loop_weight
from engine.pipeline import Boost, Decision, NothingToRecommendError, Shared
from engine.policy import Event, PickRequest, Policy, as_policy
from engine.pools import TestPools
from engine.profile import (
    Profile,
    UserState,
    VideoFeatures,
    forget_learned,
    learn,
    seed_interests,
    snapshot,
)
from engine.reactions import CLOSING, check_event, reaction_value
from engine.receipt import Receipt
from engine.store import Store
from engine.store.activity import LIVE_STAT_FIELDS, REVISIT
from engine.text import check_free_text, check_storable
from engine.trending import Discover, Trend, Trending
from engine.uncertainty import note_outcome
from engine.video import Recommendation, Video, describe
from engine.world import NO_ID

__all__ = ["Discover", "Engine", "NothingToRecommendError", "Trend"]

I64 = npt.NDArray[np.int64]


_LANGUAGE = re.compile(r"^[a-z]{2}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")


class Engine:
    """A live recommender over one world file."""

    def __init__(
        self,
        store: Store,
        config: Config,
        clock: Clock | None,
        log: bool,
        condition: str | None,
        policy: object = None,
    ) -> None:
        self.store = store
        self.config = config
        # Who picks: any policy, scorer or spec; the config's policy name by default.
        self.policy: Policy = as_policy(config.policy if policy is None else policy)
        self.log = log
        self.condition = condition
        world = store.load_world()
        self.catalog = Catalog(world)
        self.clock: Clock = clock or WallClock(world.epoch_unix)
        self.trending = Trending(self.catalog, config.sources.trending_window_h)
        self.pools = TestPools(
            self.catalog,
            config.pools,
            config.sources.fresh_window_h,
            audience_window_h=config.sources.trending_window_h,
        )
        self._users: dict[int, UserState] = {}
        self._keywords: dict[str, I64] = {}
        self._boosts: list[Boost] = []  # this engine's own: study heating, or not logged
        self._stored_boosts: list[Boost] = []  # the file's boosts table
        self._file_version = 0
        self._next_memory_id = -1
        self._config_id = 0
        # One pick is a single matrix-vector product: BLAS worker threads parked between picks
        # cost ~5 ms to wake, ten times the product itself, so the engine computes on one.
        self._blas = threadpool_limits(limits=1, user_api="blas")
        self._viewers = Claims(Path(f"{store.path}.lock"))  # the viewers this engine serves
        self._restore()

    @classmethod
    def open(
        cls,
        path: str | Path,
        config: str | Path | Config | None = None,
        *,
        clock: Clock | None = None,
        log: bool = True,
        condition: str | None = None,
        policy: object = None,
    ) -> Engine:
        """Open a world file.

        Args:
            path: the world's SQLite file.
            config: a TOML file, a :class:`Config`, or None for the built-in defaults.
            clock: world time source; defaults to the wall clock from the world's epoch.
            log: write everything to the file (False keeps new activity in memory only).
            condition: a study condition recorded with each session.
            policy: who picks (:mod:`engine.policy`): a policy or scorer object, a built-in
                name, ``"file.py:Class"`` or a :class:`PolicySpec`; default the config's.

        Raises:
            StoreError: the file is missing, foreign or from a newer foryou.
            ConfigError: the config is invalid.
            PolicyError: the policy cannot be loaded.
        """
        cfg = config if isinstance(config, Config) else load_config(config)
        chosen = as_policy(cfg.policy if policy is None else policy)
        store = Store.open(path)
        try:
            return cls(store, cfg, clock, log, condition, chosen)
        except BaseException:
            store.close()
            raise

    def _restore(self) -> None:
        """Bring back what earlier runs left: live stats, pools, boosts, recent trends."""
        for row in self.store.live_stats():
            video_id, *values = row
            self.catalog.engagement.add(
                int(video_id), dict(zip(LIVE_STAT_FIELDS, values, strict=True))
            )
        self.pools.load(self.store.pools())
        self._reload_boosts(force=True)
        now = self.clock()
        for world_t, video_id, kind in self.store.recent_events(now - self.trending.window_s):
            self.trending.observe(world_t, video_id, kind)
        self.pools.load_viewers(self.store.recent_viewers(now - self.pools.audience_window_s))
        self._refresh_shared(now, force=True)

    def _stored_config_id(self) -> int:
        """The config's row in the file, written by the first session that needs it: an engine
        that is opened and then refuses (an unknown viewer, say) leaves the file untouched."""
        if not self._config_id:
            self._config_id = self.store.ensure_config(
                name=self.config.name,
                sha256=config_hash(self.config),
                toml=effective_toml(self.config),
            )
        return self._config_id

    def _reload_boosts(self, *, force: bool = False) -> None:
        """Read the boosts table again if another connection has written to the file since:
        an operator's ``foryou boost`` reaches feeds already open at their next pick."""
        version = self.store.data_version()
        if force or version != self._file_version:
            self._file_version = version
            self._stored_boosts = [_boost_of(row) for row in self.store.boosts()]

    def _refresh_shared(self, now: float, *, force: bool = False) -> None:
        if force or now - self.trending.computed_at >= 600.0:
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
                a name with control characters.
        """
        if name is not None:
            check_free_text(name, "name", multiline=False)  # names are shown on terminals
        topic_ids = [self.catalog.topic_id(t) for t in interests]
        if not _LANGUAGE.match(language):
            raise ValueError(f"language must be an ISO 639-1 code like 'en', got {language!r}")
        if not _COUNTRY.match(country):
            raise ValueError(f"country must be an ISO 3166-1 code like 'US', got {country!r}")
        slugs = [self.catalog.world.topics.slug[t] for t in topic_ids]
        sensitive = (
            self.config.filters.allow_sensitive if allow_sensitive is None else allow_sensitive
        )
        settings = {"allow_sensitive": sensitive, "keyword_filters": [], "topic_sliders": {}}
        if name is not None:
            check_storable("name", name)
        if self.log:
            chosen = name or f"viewer-{secrets.token_hex(3)}"
            added = self.store.add_user(
                name=chosen,
                language=language,
                country=country,
                interests=slugs,
                simulated=simulated,
                settings=settings,
                pick_seed=pick_seed,
            )
            if added is None:
                raise ValueError(f"a viewer named {chosen!r} already exists")
            user_id = added
        else:
            user_id, chosen = self._next_memory_id, name or f"memory-{-self._next_memory_id}"
            self._next_memory_id -= 1
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
        )
        seed_interests(state, world.topics.centroid, self.config.profile)
        return state

    def user_id(self, name: str) -> int:
        """The id of the viewer with this name.

        Raises:
            ValueError: no such viewer.
        """
        for state in self._users.values():
            if state.name == name:
                return state.user_id
        found = self.store.user_id_by_name(name)
        if found is None:
            raise ValueError(f"unknown viewer {name!r}")
        return found

    def users(self) -> list[dict[str, Any]]:
        """Every recorded viewer: id, name, language, country, simulated, watched."""
        return self.store.users()

    def claim_viewer(self, user_id: int) -> None:
        """Serve and record this viewer from this engine's process only, until :meth:`close`.

        Every logged call about a viewer claims them (once per engine, not per pick); call
        this to be refused before anything else happens. Engines with ``log=False`` serve from
        memory and claim nothing.

        Raises:
            ViewerClaimedError: (a ValueError) another process is serving or recording them.
        """
        if not self.log or user_id < 0 or self._viewers.holds(VIEWER_BYTES + user_id):
            return
        try:
            self._viewers.claim(VIEWER_BYTES + user_id)
        except ClaimedError as held:
            row = self.store.user_row(user_id)
            name = row["name"] if row else user_id
            pid = f" (pid {held.pid})" if held.pid else ""
            raise ViewerClaimedError(
                f"viewer {name} is being watched in another process{pid}; close it there first"
            ) from None

    def _state(self, user_id: int) -> UserState:
        # Two processes serving one viewer repeat each other's videos and count likes twice.
        self.claim_viewer(user_id)
        state = self._users.get(user_id)
        if state is None:
            state = self._load_user(user_id)
            self._users[user_id] = state
        return state

    def _load_user(self, user_id: int) -> UserState:
        row = self.store.user_row(user_id) if user_id >= 0 else None
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
                self._note_revisit(state, video_id, impression_id)
            else:
                self._note_served(state, video_id, int(imp["position"]), impression_id)
                state.n_served += 1
            if imp["seen_start"] is not None or imp["seen_end"] is not None:
                self._note_seen(state, video_id)
        for ev in events:
            self._apply(state, ev, live=False)
        return state

    # -- picking -----------------------------------------------------------------------------

    def next(self, user_id: int) -> Recommendation:
        """Pick the next video for a viewer (served; it is *seen* once :meth:`seen` or a
        closing event says so).

        Raises:
            ValueError: unknown user.
            NothingToRecommendError: every candidate is filtered out.
        """
        state = self._state(user_id)
        now = self.clock()
        decision = self._decide(state, now, seed_id=_pick_key(state))
        position = state.n_served
        impression_id = self._log_impression(state, decision, position, now)
        self._note_served(state, decision.video_id, position, impression_id)
        state.n_served += 1
        return Recommendation(
            video=self.video(decision.video_id),
            impression_id=impression_id,
            position=position,
            source=decision.source,
            score=decision.score,
            rank=decision.rank,
            propensity=decision.propensity,
            receipt=decision.receipt,
        )

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
        return self.policy.pick_many([self._pick_request(state, now, seed_id, extra_boosts)])[0]

    def _pick_request(
        self, state: UserState, now: float, seed_id: int, extra_boosts: Collection[Boost] = ()
    ) -> PickRequest:
        """What the policy is given for one pick (see :meth:`_decide` for the seeding)."""
        self._refresh_shared(now)
        self._reload_boosts()
        boosts = (*self._stored_boosts, *self._boosts, *extra_boosts)
        shared = Shared(
            catalog=self.catalog,
            config=self.config,
            trending=self.trending,
            pools=self.pools,
            boosts={b.video_id: b for b in boosts if b.starts <= now < b.until},
            now=now,
        )
        rng = np.random.default_rng(
            np.random.SeedSequence(self.config.seed, spawn_key=(seed_id % 2**32, state.n_served))
        )
        return PickRequest(state, shared, self._keyword_blocked(state), rng)

    def _observe(self, state: UserState, event: dict[str, Any]) -> None:
        """Tell the policy about an event the viewer's state now includes."""
        self.policy.observe(Event.of(event, state.user_id))

    def _log_impression(self, state: UserState, decision: Any, position: int, now: float) -> int:
        if not self.log:
            return -(state.n_served + 1)
        if state.session_id is None:
            state.session_id = self.store.start_session(
                user_id=state.user_id,
                config_id=self._stored_config_id(),
                simulated=state.simulated,
                condition=self.condition,
            )
        return self.store.add_impression(
            {
                "user_id": state.user_id,
                "session_id": state.session_id,
                "video_id": decision.video_id,
                "position": position,
                "served_at": time.time(),
                "world_t": now,
                "source": decision.source,
                "score": decision.score,
                "rank": decision.rank,
                "propensity": decision.propensity,
                "receipt": decision.receipt.to_json(),
            }
        )

    @staticmethod
    def _note_served(state: UserState, video_id: int, position: int, impression_id: int) -> None:
        state.served_at_position[video_id] = position
        state.recently_served.append((position, video_id))
        state.impression_of[video_id] = impression_id

    @staticmethod
    def _note_revisit(state: UserState, video_id: int, impression_id: int) -> None:
        """A viewing gone back to: later events on the video belong to it. It is no pick, so
        the pick count (and with it the pick randomness) and the recently-served list stay."""
        state.impression_of[video_id] = impression_id
        state.revisits.add(impression_id)

    def revisit(self, user_id: int, video_id: int) -> int:
        """The viewer went back to a video served earlier: a viewing of its own.

        It gets an impression row of its own (``source = "revisit"``, the position and receipt
        of the pick it returns to, no score, rank or propensity: the viewer chose it, not the
        policy), so the first viewing's ``watched_s`` and ``seen_end`` stay as they were.
        Events on the video from now on, :meth:`seen` included, belong to this viewing.
        Replay does not decide it again and off-policy evaluation leaves it out.

        Returns:
            The new impression's id (negative if not logged).

        Raises:
            ValueError: unknown user or video, or a video never served to this viewer.
        """
        state = self._state(user_id)
        self.catalog.check_video(video_id)
        first = self._served_impression(state, video_id)
        if self.log:
            if state.session_id is None:
                state.session_id = self.store.start_session(
                    user_id=state.user_id,
                    config_id=self._stored_config_id(),
                    simulated=state.simulated,
                    condition=self.condition,
                )
            impression_id = self.store.add_revisit(
                first, session_id=state.session_id, served_at=time.time(), world_t=self.clock()
            )
        else:
            impression_id = -(1 << 40) - len(state.revisits)  # apart from picks' -(n + 1)
        self._note_revisit(state, video_id, impression_id)
        return impression_id

    def _note_seen(self, state: UserState, video_id: int) -> None:
        if video_id not in state.seen:
            state.seen.add(video_id)
            state.seen_roots.add(int(self.catalog.dup_root[video_id]))
            state.shown.append(video_id)

    def video(self, video_id: int) -> Video:
        """The public description of a video, with its current counts.

        Raises:
            ValueError: unknown video id.
        """
        self.catalog.check_video(video_id)
        return describe(self.catalog, video_id, self.store.caption(video_id))

    def seen(self, user_id: int, video_id: int) -> None:
        """The served video is now on the viewer's screen."""
        state = self._state(user_id)
        impression_id = self._served_impression(state, video_id)
        if self.log:
            self.store.mark_seen(impression_id, time.time())
        self._note_seen(state, video_id)

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
        """Record a reaction; returns once it is committed (the event id, negative if not logged).

        Raises:
            ValueError: an unknown kind, user or video, a video never served to this viewer,
                a missing argument, or an undo of something not done. Nothing is written.
        """
        check_event(kind, watched_s=watched_s, scope=scope, reason=reason, text=text)
        state = self._state(user_id)
        self.catalog.check_video(video_id)
        impression_id = self._served_impression(state, video_id)
        check_undo(state, video_id, int(self.catalog.world.videos.creator_id[video_id]), kind)
        event = {
            "user_id": user_id,
            "session_id": state.session_id,
            "impression_id": impression_id if impression_id > 0 else None,
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

    def _served_impression(self, state: UserState, video_id: int) -> int:
        impression_id = state.impression_of.get(video_id)
        if impression_id is None:
            raise ValueError(f"video {video_id} was never served to viewer {state.user_id}")
        return impression_id

    def _apply(self, state: UserState, event: dict[str, Any], *, live: bool) -> int:
        """Apply one event to the file (live only), then to the viewer and the world.

        The write comes first: when it fails (a full disk, a locked file), the viewer's
        profile, the live counters, trends and test pools are as they were before the call.
        """
        kind, video_id = str(event["kind"]), event["video_id"]
        if kind == "refresh":
            event_id = self._log_event(event, live, close=None, deltas={}, pool=None)
            forget_learned(state, self.catalog.world.topics.centroid, self.config.profile)
            self._observe(state, event)
            return event_id
        watched = float(event["watched_s"] or 0.0)
        # In memory (log=False) impressions have negative ids stored as None: key them
        # by the viewer's own impression of the video so each one still closes once.
        impression_id = event["impression_id"] or state.impression_of.get(video_id, 0)
        first_close = kind in CLOSING and impression_id not in state.closed
        deltas = _stat_deltas(kind, watched, first_close=first_close)
        event_id = int(event.get("id") or 0)
        if live:
            close = (float(event["at"]), watched) if kind in CLOSING else None
            # A test pool counts viewers: a viewer going back to a video is not a new one.
            pool_view = first_close and impression_id not in state.revisits
            event_id = self._commit(event, close, deltas, pool_view=pool_view)
        duration = float(self.catalog.world.videos.duration_s[video_id])
        value = reaction_value(kind, self.config.reactions, watched_s=watched, duration_s=duration)
        if kind == "rewatch":
            value *= loop_weight(state, video_id, event)
        learn(state, self._features(video_id), value, self.config.profile)
        note_outcome(
            state,
            int(self.catalog.world.videos.topic_id[video_id]),
            kind,
            watched_s=watched,
            duration_s=duration,
            first_close=first_close,
            scope=event.get("scope"),
        )
        apply_choice(state, kind, video_id, event, self.catalog.world.videos)
        state.reactions.append((kind, video_id))
        if kind in CLOSING:
            self._note_seen(state, video_id)
            state.closed.add(impression_id)
        self._observe(state, event)
        if live:
            self.catalog.engagement.add(video_id, deltas)
            self.trending.observe(float(event["world_t"]), video_id, kind)
            if kind in CLOSING:
                self.pools.note_viewer(state.user_id, float(event["world_t"]))
        return event_id

    def _commit(
        self,
        event: dict[str, Any],
        close: tuple[float, float] | None,
        deltas: dict[str, float],
        *,
        pool_view: bool,
    ) -> int:
        """Write a live event with the test-pool row it changes; a failed write leaves the
        pools as they were.

        Args:
            pool_view: the event closes a viewing a test pool counts (a first one).
        """
        video_id, kind = int(event["video_id"]), str(event["kind"])
        before = self.pools.checkpoint(video_id)
        pool_changed = False
        if pool_view:
            pool_changed = self.pools.on_view(video_id, completed=kind == "complete")
        elif kind == "like":
            pool_changed = self.pools.on_like(video_id)
        pool = self.pools.row(video_id, float(event["world_t"])) if pool_changed else None
        try:
            return self._log_event(event, True, close=close, deltas=deltas, pool=pool)
        except BaseException:
            self.pools.restore(before)
            raise

    def _log_event(
        self,
        event: dict[str, Any],
        live: bool,
        *,
        close: tuple[float, float] | None,
        deltas: dict[str, float],
        pool: tuple[object, ...] | None,
    ) -> int:
        if not live or not self.log:
            return -1
        return self.store.add_event(event, close=close, stat_deltas=deltas, pool=pool)

    def _features(self, video_id: int) -> VideoFeatures:
        v = self.catalog.world.videos
        return VideoFeatures(
            video_id=video_id,
            topic=int(v.topic_id[video_id]),
            creator=int(v.creator_id[video_id]),
            sound=int(v.sound_id[video_id]),
            hashtags=tuple(t for t in v.hashtags[video_id].tolist() if t != NO_ID),
            embedding=v.embedding[video_id],
        )

    # -- feed controls -----------------------------------------------------------------------

    def set_controls(
        self,
        user_id: int,
        *,
        allow_sensitive: bool | None = None,
        keyword_filters: list[str] | None = None,
        topic_sliders: dict[str, float] | None = None,
    ) -> None:
        """Change a viewer's feed controls (kept across refresh and restarts).

        Args:
            topic_sliders: topic name -> multiplier in [0, 3] (1 = neutral, 0 = none).

        Raises:
            ValueError: unknown user or topic, a slider outside [0, 3], an empty keyword.
        """
        state = self._state(user_id)
        settings = settings_of(state, self.catalog)
        if allow_sensitive is not None:
            settings["allow_sensitive"] = bool(allow_sensitive)
        if keyword_filters is not None:
            words = [w.strip().lower() for w in keyword_filters]
            if any(not w for w in words):
                raise ValueError("keyword filters must be non-empty words")
            for word in words:
                check_storable("keyword_filters", word)
            settings["keyword_filters"] = sorted(set(words))
        if topic_sliders is not None:
            for topic, m in topic_sliders.items():
                self.catalog.topic_id(topic)
                if not 0.0 <= m <= 3.0:
                    raise ValueError(f"slider for {topic!r} must be within [0, 3], got {m}")
            settings["topic_sliders"] = dict(topic_sliders)
        if self.log and user_id >= 0:
            self.store.save_settings(user_id, settings)
        self._apply_settings(state, settings)

    def _apply_settings(self, state: UserState, settings: dict[str, Any]) -> None:
        apply_settings(state, settings, self.catalog)

    def _keyword_blocked(self, state: UserState) -> I64:
        if not state.keyword_filters:
            return np.zeros(0, dtype=np.int64)
        for word in state.keyword_filters:
            if word not in self._keywords:
                self._keywords[word] = np.array(self.store.videos_matching(word), dtype=np.int64)
        return np.unique(np.concatenate([self._keywords[w] for w in state.keyword_filters]))

    def refresh(self, user_id: int) -> None:
        """Forget learned interests as if newly signed up; keep follows, hides and filters."""
        state = self._state(user_id)
        event = {
            "user_id": user_id,
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

    # -- reading -----------------------------------------------------------------------------

    def profile(self, user_id: int) -> Profile:
        """What the engine believes about a viewer right now."""
        return snapshot(self._state(user_id), self.catalog, self.clock(), self.config)

    def topics(self) -> list[str]:
        """Topic slugs, accepted wherever a topic is named (display names work too)."""
        return list(self.catalog.world.topics.slug)

    def explain(self, impression_id: int) -> Receipt:
        """The stored receipt of an impression.

        Raises:
            ValueError: unknown impression id.
        """
        row = self.store.impression(impression_id)
        if row is None:
            raise ValueError(f"unknown impression id {impression_id}")
        return Receipt.from_json(row["receipt"])

    def topic_labels(self) -> dict[str, str]:
        """Topic slug -> display name (e.g. "booktok" -> "BookTok")."""
        topics = self.catalog.world.topics
        return dict(zip(topics.slug, topics.name, strict=True))

    def locales(self) -> tuple[list[str], list[str]]:
        """The world's language codes and country codes."""
        world = self.catalog.world
        return list(world.languages), list(world.countries)

    def discover(self, n: int = 10, *, buckets: int = 12, bucket_s: float = 600.0) -> Discover:
        """What is trending: top hashtags and sounds by velocity, with recent live activity."""
        now = self.clock()
        self.trending.refresh(now, force=True)
        world = self.catalog.world
        tag_series = self.trending.hashtag_series(now, buckets=buckets, bucket_s=bucket_s)
        sound_series = self.trending.sound_series(now, buckets=buckets, bucket_s=bucket_s)
        empty = [0.0] * buckets
        hashtags = [
            Trend(f"#{world.hashtags.tag[i]}", v, tag_series.get(i, np.array(empty)).tolist())
            for i, v in self.trending.top_hashtags(n)
        ]
        sounds = [
            Trend(
                f"{world.sounds.title[i]} - {world.sounds.artist[i]}",
                v,
                sound_series.get(i, np.array(empty)).tolist(),
            )
            for i, v in self.trending.top_sounds(n)
        ]
        videos = [int(v) for v in self.trending.top_videos[:n]]
        return Discover(hashtags=hashtags, sounds=sounds, videos=videos, bucket_s=bucket_s)

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
        self.catalog.check_video(video_id)
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
        if self.log:
            boost_id = self.store.add_boost(row)
            self._stored_boosts.append(_boost_of({"id": boost_id, **row}))
        else:
            boost_id = len(self._boosts) + 1
            self._boosts.append(_boost_of({"id": boost_id, **row}))
        return boost_id

    # -- sessions ----------------------------------------------------------------------------

    def end_session(self, user_id: int) -> None:
        """Close the viewer's session and store a snapshot of their profile."""
        state = self._users.get(user_id)
        if state is None or state.session_id is None:
            return
        if self.log:
            self.store.end_session(state.session_id, self.profile(user_id).as_dict(), user_id)
        state.session_id = None

    def close(self) -> None:
        for user_id in list(self._users):
            self.end_session(user_id)
        self.store.close()
        self._viewers.release()
        self._blas.restore_original_limits()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _stat_deltas(kind: str, watched_s: float, *, first_close: bool) -> dict[str, float]:
    """What an event adds to its video's live counters: a view and a completion or skip at the
    first close of an impression, one count per like, share, ... (minus one per undo)."""
    if kind in CLOSING:
        if not first_close:
            return {}
        return {
            "views": 1,
            "completions" if kind == "complete" else "skips": 1,
            "watched_s": watched_s,
        }
    if kind in STAT_OF_KIND:
        field, delta = STAT_OF_KIND[kind]
        return {field: delta}
    return {}


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
