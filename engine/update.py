"""The event → profile step: what one event does to a viewer, and what it asks of the world.

RecSim's user model has ``update_state(doc, response)``; this is ours, kept apart from the
engine so that it can be read and tested on a hand-built world. It is deterministic and does no
I/O: :func:`effects_of` reads the viewer's state and returns the event's :class:`Effects`
(what the world's live counters and test pools must change, whether a viewing closes, how much
the profile learns) without changing anything; :func:`update_viewer` then moves the viewer's
state, and nothing else. The engine writes the effects between the two, so a failed write
leaves the viewer as they were; :func:`apply_event` does both at once.

Also here: what serving, revisiting and seeing a video note in the viewer's state.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from engine.catalog import Catalog
from engine.config import Config
from engine.events import STAT_OF_KIND, Event, apply_choice
from engine.languages import fresh_belief, note_viewing
from engine.profile import UserState, VideoFeatures, forget_learned, learn
from engine.reactions import CLOSING, reaction_value
from engine.taste import note_close
from engine.uncertainty import held, note_outcome
from engine.world import NO_ID

__all__ = [
    "REWATCH_FADE",
    "Effects",
    "apply_event",
    "effects_of",
    "features",
    "note_revisit",
    "note_seen",
    "note_served",
    "stat_deltas",
    "update_viewer",
]

# Each further loop of one viewing teaches half the one before (see :func:`effects_of`).
REWATCH_FADE = 0.5


@dataclass(frozen=True)
class Effects:
    """What one event changes, decided before anything is changed.

    Attributes:
        viewing: the impression the event belongs to (0: none, as for a refresh).
        closes: the event ends its viewing (a skip or a completion): the video is seen.
        first_close: it is the viewing's first close, the one the counters count.
        stat_deltas: increments of the video's live counters (views, likes, ...).
        pool_view: a new viewer for the video's test pool (a first close, not of a revisit).
        value: how far the profile moves toward (or away from) the video.
        refresh: the event is a refresh: learned interests are forgotten.
    """

    viewing: int = 0
    closes: bool = False
    first_close: bool = False
    stat_deltas: Mapping[str, float] = field(default_factory=dict)
    pool_view: bool = False
    value: float = 0.0
    refresh: bool = False


def effects_of(state: UserState, event: Event, catalog: Catalog, config: Config) -> Effects:
    """What ``event`` would change, reading ``state`` only.

    A rewatch teaches less with every loop of one viewing: a short clip left on screen keeps
    looping (a presenter talking over it, a participant who looked away), and at full weight
    every loop would outweigh everything else the viewer did. The rows are all kept; only what
    the profile learns from them fades.
    """
    if event.kind == "refresh" or event.video_id is None:
        return Effects(refresh=event.kind == "refresh")
    video_id, kind = event.video_id, event.kind
    watched = event.watched_s or 0.0
    viewing = event.impression_id or state.impression_of.get(video_id, 0)
    first_close = kind in CLOSING and viewing not in state.closed
    duration = float(catalog.world.videos.duration_s[video_id])
    value = reaction_value(kind, config.reactions, watched_s=watched, duration_s=duration)
    if kind == "rewatch":
        value *= REWATCH_FADE ** state.loops.get(viewing, 0)
    return Effects(
        viewing=viewing,
        closes=kind in CLOSING,
        first_close=first_close,
        stat_deltas=stat_deltas(kind, watched, first_close=first_close),
        # A test pool counts viewers: a viewer going back to a video is not a new one.
        pool_view=first_close and viewing not in state.revisits,
        value=value,
    )


def update_viewer(
    state: UserState, event: Event, effects: Effects, catalog: Catalog, config: Config
) -> None:
    """Move the viewer's state by an event whose effects were computed by :func:`effects_of`."""
    if effects.refresh:
        forget_learned(state, catalog.world.topics.centroid, config.profile)
        english = catalog.language_index.get("en", NO_ID)
        n_languages = len(state.language_belief)
        state.language_belief = fresh_belief(n_languages, state.language, english)
        return
    if event.video_id is None:
        return
    video_id = event.video_id
    if event.kind == "rewatch":
        state.loops[effects.viewing] = state.loops.get(effects.viewing, 0) + 1
    learn(state, features(catalog, video_id), effects.value, config.profile)
    topic = int(catalog.world.videos.topic_id[video_id])
    note_outcome(
        state,
        topic,
        event.kind,
        watched_s=event.watched_s or 0.0,
        duration_s=float(catalog.world.videos.duration_s[video_id]),
        first_close=effects.first_close,
        scope=event.scope,
        repeats=state.closed_topics.count(topic),
    )
    if effects.first_close:  # a skip or a completion, the viewing's first
        watched_s = event.watched_s or 0.0
        duration_s = float(catalog.world.videos.duration_s[video_id])
        completed = event.kind == "complete"
        note_close(
            state,
            catalog.world.videos.embedding[video_id],
            completed=completed,
            watched_s=watched_s,
            duration_s=duration_s,
            repeats=state.closed_topics.count(topic),
        )
        note_viewing(
            state.language_belief,
            int(catalog.world.videos.language[video_id]),
            state.language,
            held=held(watched_s, duration_s, completed=completed),
        )
        state.closed_topics.append(topic)
    apply_choice(state, event, catalog.world.videos)
    state.reactions.append((event.kind, video_id))
    if effects.closes:
        note_seen(state, video_id, catalog)
        state.closed.add(effects.viewing)


def apply_event(state: UserState, event: Event, catalog: Catalog, config: Config) -> Effects:
    """Apply one event to a viewer (:func:`effects_of`, then :func:`update_viewer`).

    Returns:
        What the world's counters and test pools must change for it.
    """
    effects = effects_of(state, event, catalog, config)
    update_viewer(state, event, effects, catalog, config)
    return effects


def stat_deltas(kind: str, watched_s: float, *, first_close: bool) -> dict[str, float]:
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
        name, delta = STAT_OF_KIND[kind]
        return {name: delta}
    return {}


def features(catalog: Catalog, video_id: int) -> VideoFeatures:
    """What the profile learns from about a video."""
    v = catalog.world.videos
    return VideoFeatures(
        video_id=video_id,
        topic=int(v.topic_id[video_id]),
        creator=int(v.creator_id[video_id]),
        sound=int(v.sound_id[video_id]),
        hashtags=tuple(t for t in v.hashtags[video_id].tolist() if t != NO_ID),
        embedding=v.embedding[video_id],
    )


def note_served(state: UserState, video_id: int, position: int, impression_id: int) -> None:
    """A pick was served at ``position``: events on the video belong to this impression."""
    state.served_at_position[video_id] = position
    state.recently_served.append((position, video_id))
    state.impression_of[video_id] = impression_id


def note_revisit(state: UserState, video_id: int, impression_id: int) -> None:
    """A viewing gone back to: later events on the video belong to it. It is no pick, so
    the pick count (and with it the pick randomness) and the recently-served list stay."""
    state.impression_of[video_id] = impression_id
    state.revisits.add(impression_id)


def note_seen(state: UserState, video_id: int, catalog: Catalog) -> None:
    """The video reached the viewer's screen: it (and its re-uploads) is not shown again."""
    if video_id not in state.seen:
        state.seen.add(video_id)
        state.seen_roots.add(int(catalog.dup_root[video_id]))
        state.shown.append(video_id)
