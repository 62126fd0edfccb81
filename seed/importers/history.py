"""A real log as viewers' history: which reactions each row becomes, and the split by time.

**Rows to reactions.** Every log row is one viewing (an impression) closed by ``complete`` (the
whole video watched) or ``skip`` (with the seconds watched), with at most one opinion
(``like`` or ``not_interested``, scope video) and any flags before the close:

* the **opinion** is the row's **label** when it has one (KuaiRand like/hate: 1 → ``like``,
  0 → ``not_interested``), else its **rating** (MovieLens: ≥ 4.5 → ``like``, ≤ 1.5 →
  ``not_interested``), else none: a generic log with both columns takes the label, the
  viewer's own reaction, over the graded rating;
* the **play time** is the row's watched seconds when it has them, else the rating's (≥ 3.5
  the whole clip, ≤ 1.5 10% of it, otherwise rating / 5 of it), else the whole clip; it closes
  the viewing: ``complete`` when it reaches the duration, else ``skip`` with it;
* ``is_follow``, ``is_comment``, ``is_forward`` (KuaiRand) add ``follow``, ``comment`` and
  ``share``.

**Time.** ``at`` keeps the log's real Unix time (an impression and its events share the row's
timestamp; ``seen_end`` adds the seconds watched); ``world_t`` is that time minus the log's last
timestamp, so the log ends at world second 0, the moment the world is built, and the feed opened
afterwards continues from there. A viewer's rows more than 30 minutes apart start a new session;
impression positions count the viewer's viewings across sessions, as the engine numbers a feed.
Imported events move only their viewer, when the viewer is opened as in replay: trends, test
pools and live counters ignore them (the videos' background engagement already counts them).

**Split.** Each viewer's rows are sorted by time (ties keep file order); the first
``ceil(fraction × n)`` are history, the rest go to ``heldout`` (the engine never reads it).
"""

from __future__ import annotations

import math

import numpy as np

from engine.store.imported import (
    HeldOut,
    ImportedEvent,
    ImportedHistory,
    ImportedImpression,
    ImportedSession,
    ImportedUser,
)
from engine.text import printable
from engine.world import F32, F64, Bool
from seed.importers.source import Log

SESSION_GAP_S = 30 * 60.0
LIKE_RATING, COMPLETE_RATING, NOT_INTERESTED_RATING = 4.5, 3.5, 1.5
NOT_INTERESTED_WATCHED = 0.1  # share of the clip watched before a "not interested" on a rating


def split_by_time(log: Log, fraction: float) -> Bool:
    """Which rows are history: per user, the earliest ``ceil(fraction × n)`` rows by time."""
    order = np.lexsort((np.arange(len(log)), log.unix, log.user))
    counts = np.bincount(log.user, minlength=len(log.user_key))
    starts = np.cumsum(counts) - counts
    rank_in_user = np.arange(len(log)) - np.repeat(starts, counts)
    keep = np.ceil(fraction * counts - 1e-9).astype(np.int64)
    history = np.zeros(len(log), dtype=bool)
    history[order] = rank_in_user < np.repeat(keep, counts)
    return history


def reactions(log: Log, row: int, duration_s: float) -> tuple[list[str], float, bool]:
    """The reactions one log row becomes, the seconds watched and whether it completed."""
    rating = _cell(log.rating, row)
    watched = _cell(log.watched_s, row)
    kinds = _opinion(_cell(log.label, row), rating)
    for flag, kind in ((log.follow, "follow"), (log.comment, "comment"), (log.share, "share")):
        if flag is not None and bool(flag[row]):
            kinds.append(kind)
    if math.isnan(watched):
        watched = _watched_from_rating(rating, duration_s)
    completed = watched >= duration_s
    watched = min(max(watched, 0.0), duration_s)
    kinds.append("complete" if completed else "skip")
    return kinds, round(watched, 2), completed


def _cell(column: F64 | None, row: int) -> float:
    return math.nan if column is None else float(column[row])


def _opinion(label: float, rating: float) -> list[str]:
    """At most one of ``like`` and ``not_interested``: the label when the row has one (the
    viewer's own reaction), else the rating. A row with both once became two likes."""
    if label == 1:
        return ["like"]
    if label == 0:
        return ["not_interested"]
    if rating >= LIKE_RATING:
        return ["like"]
    if rating <= NOT_INTERESTED_RATING:
        return ["not_interested"]
    return []


def _watched_from_rating(rating: float, duration_s: float) -> float:
    """The play time a rating stands for, when the log has none (NaN: the whole clip)."""
    if math.isnan(rating) or rating >= COMPLETE_RATING:
        return duration_s
    if rating <= NOT_INTERESTED_RATING:
        return NOT_INTERESTED_WATCHED * duration_s
    return duration_s * rating / 5.0


def positive_weight(log: Log, row: int) -> float:
    """How strongly a row says "more like this", for co-occurrence and quality (the label
    before the rating, as in :func:`reactions`)."""
    label, rating = _cell(log.label, row), _cell(log.rating, row)
    if not math.isnan(label):
        return 1.5 if label == 1 else 0.25
    if not math.isnan(rating):
        return 1.5 if rating >= 4.0 else (0.25 if rating <= NOT_INTERESTED_RATING else 1.0)
    return 1.0


def build_history(
    log: Log,
    history_rows: Bool,
    duration_s: F32,
    *,
    end_unix: float,
    language: str,
    country: str,
    user_prefix: str,
) -> ImportedHistory:
    """Viewers, sessions, impressions and events of the history rows; held-out rows apart.

    Args:
        log: the log.
        history_rows: [R] from :func:`split_by_time`.
        duration_s: [N] the world's durations (a catalogue item's index is its video id).
        end_unix: the log's last timestamp (world second 0).
        language, country: every imported viewer's (the dataset has none per user).
        user_prefix: viewers are named ``<prefix>-<the dataset's user id>``.
    """
    history = ImportedHistory(
        users=[
            ImportedUser(printable(f"{user_prefix}-{key}"), language, country)
            for key in log.user_key
        ]
    )
    order = np.lexsort((np.arange(len(log)), log.unix, log.user))
    last_user, last_end = -1, -math.inf
    position = 0
    for row in order.tolist():
        user, unix = int(log.user[row]), float(log.unix[row])
        video = int(log.item[row])
        kinds, watched, completed = reactions(log, row, float(duration_s[video]))
        world_t = unix - end_unix
        if not history_rows[row]:
            label = _label(log, row, kinds)
            rating = None if log.rating is None or math.isnan(log.rating[row]) else log.rating[row]
            history.heldout.append(
                HeldOut(
                    user,
                    video,
                    world_t,
                    unix,
                    label,
                    None if rating is None else float(rating),
                    watched,
                    int(completed),
                    int("like" in kinds),
                    ",".join(kinds),
                )
            )
            continue
        if user != last_user:
            position = 0  # the engine numbers a viewer's feed across sessions ("#N in your feed")
        if user != last_user or unix - last_end > SESSION_GAP_S:
            history.sessions.append(ImportedSession(user, unix, unix))
        session = len(history.sessions) - 1
        end = unix + watched
        history.sessions[session] = history.sessions[session]._replace(ended_at=end)
        last_user, last_end = user, max(end, unix)
        impression = len(history.impressions)
        history.impressions.append(
            ImportedImpression(session, video, position, unix, world_t, watched)
        )
        position += 1
        # Stamped with the log's own time, not after the watch: ratings seconds apart would
        # otherwise interleave their reactions, and replay (ordered by time) would apply them
        # in another order than opening the viewer does (ordered by id).
        for kind in kinds:
            history.events.append(
                ImportedEvent(
                    impression,
                    kind,
                    unix,
                    world_t,
                    watched if kind in ("skip", "complete") else None,
                    "video" if kind == "not_interested" else None,
                )
            )
    return history


def _label(log: Log, row: int, kinds: list[str]) -> int | None:
    if log.label is not None and not math.isnan(float(log.label[row])):
        return int(log.label[row])
    if "like" in kinds:
        return 1
    if "not_interested" in kinds:
        return 0
    return None
