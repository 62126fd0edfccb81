"""Writing a real log's history into a new world: viewers, sessions, impressions, events, and the
held-out rows the engine never reads.

``foryou import`` turns a log (MovieLens ratings, KuaiRand impressions) into the rows a viewer
of this world would have left, marked ``imported`` (``users.imported``, ``sessions.imported``,
``impressions.source = 'imported'``), so opening such a viewer resumes them like anyone else.
The later part of each viewer's log goes to ``heldout`` instead: no engine code reads that
table, so an offline evaluation can ask what the engine would have picked before it saw them.
Ids are the rows' positions plus one, written in one transaction of the world's build.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from sqlite_utils import Database

IMPORTED = "imported"  # impressions.source of a viewing taken from a real log


class ImportedUser(NamedTuple):
    name: str
    language: str
    country: str


class ImportedSession(NamedTuple):
    user: int  # index into ImportedHistory.users
    started_at: float  # unix seconds (the log's own time)
    ended_at: float


class ImportedImpression(NamedTuple):
    session: int  # index into ImportedHistory.sessions
    video_id: int
    position: int  # the viewer's count of viewings before it (as the engine numbers a feed)
    at: float  # unix seconds when the viewing started (the log's timestamp)
    world_t: float
    watched_s: float


class ImportedEvent(NamedTuple):
    impression: int  # index into ImportedHistory.impressions
    kind: str
    at: float
    world_t: float
    watched_s: float | None  # on the closing event (skip / complete) only
    scope: str | None  # on not_interested only


class HeldOut(NamedTuple):
    user: int  # index into ImportedHistory.users
    video_id: int
    world_t: float
    at: float
    label: int | None  # 1 liked, 0 not interested / hated, None neither
    rating: float | None  # the log's rating when it has one (MovieLens: 0.5-5)
    watched_s: float | None
    complete: int  # 1 watched to the end
    like: int  # 1 liked
    kinds: str  # the events the history rule would have written, comma-separated


@dataclass(frozen=True)
class ImportedHistory:
    """A log split into what the engine may see (history) and what it may not (held out)."""

    users: list[ImportedUser] = field(default_factory=list)
    sessions: list[ImportedSession] = field(default_factory=list)
    impressions: list[ImportedImpression] = field(default_factory=list)
    events: list[ImportedEvent] = field(default_factory=list)
    heldout: list[HeldOut] = field(default_factory=list)


def _insert(
    db: Database, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    marks = ", ".join("?" * len(columns))
    db.conn.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)


def write_history(db: Database, history: ImportedHistory, *, created_at: float) -> None:
    """Insert the history's rows (inside the caller's transaction).

    Args:
        db: the world being built (tables created, no activity yet).
        history: what to write.
        created_at: the ``users.created_at`` of every imported viewer (unix seconds).
    """
    _insert(
        db,
        "users",
        ("id", "name", "created_at", "language", "country", "simulated", "imported"),
        (
            (i + 1, u.name, created_at, u.language, u.country, 0, 1)
            for i, u in enumerate(history.users)
        ),
    )
    _insert(
        db,
        "sessions",
        ("id", "user_id", "started_at", "ended_at", "simulated", "imported"),
        (
            (i + 1, s.user + 1, s.started_at, s.ended_at, 0, 1)
            for i, s in enumerate(history.sessions)
        ),
    )
    sessions = history.sessions
    _insert(
        db,
        "impressions",
        (
            "id",
            "user_id",
            "session_id",
            "video_id",
            "position",
            "served_at",
            "seen_start",
            "seen_end",
            "watched_s",
            "world_t",
            "source",
        ),
        (
            (
                i + 1,
                sessions[m.session].user + 1,
                m.session + 1,
                m.video_id,
                m.position,
                m.at,
                m.at,
                m.at + m.watched_s,
                m.watched_s,
                m.world_t,
                IMPORTED,
            )
            for i, m in enumerate(history.impressions)
        ),
    )
    impressions = history.impressions
    _insert(
        db,
        "events",
        (
            "id",
            "user_id",
            "session_id",
            "impression_id",
            "video_id",
            "kind",
            "at",
            "world_t",
            "watched_s",
            "scope",
        ),
        (
            (
                i + 1,
                sessions[impressions[e.impression].session].user + 1,
                impressions[e.impression].session + 1,
                e.impression + 1,
                impressions[e.impression].video_id,
                e.kind,
                e.at,
                e.world_t,
                e.watched_s,
                e.scope,
            )
            for i, e in enumerate(history.events)
        ),
    )
    _insert(
        db,
        "heldout",
        (
            "id",
            "user_id",
            "video_id",
            "world_t",
            "at",
            "label",
            "rating",
            "watched_s",
            "complete",
            "like",
            "kinds",
        ),
        ((i + 1, h.user + 1, *h[1:]) for i, h in enumerate(history.heldout)),
    )


def read_heldout(db: Database) -> list[dict[str, Any]]:
    """Every held-out row in viewer and time order, for offline evaluation only (no engine
    code calls this: the viewers' feeds never see these viewings). Each row has ``user_id``,
    ``video_id``, ``world_t``, ``complete`` and ``like`` (the fields of
    ``engine.offline.HeldOut``) plus ``at``, ``label``, ``rating``, ``watched_s`` and ``kinds``.
    """
    if "heldout" not in db.table_names():
        return []
    return list(db.query("SELECT * FROM heldout ORDER BY user_id, world_t, id"))
