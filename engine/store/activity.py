"""Recording what viewers do, and reading it back to resume them.

Every write is one short transaction that starts with a write statement, so several processes
can share a file (a simulation beside a viewer, two lab stations) under the busy timeout
without "database is locked" errors. A call returns only after its transaction has committed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from sqlite_utils import Database

from engine.store.ids import row_by_id

REVISIT = "revisit"  # impressions.source of a viewing the viewer went back to
# learned_models.name of the model a world was built with (an import's, learned from its log:
# engine.imported_model): where engines that see the world as built (replays, evaluations)
# start, and where a refit starts when the engine's own model was dropped.
BUILT_MODEL = "engine (as built)"
_IN_CHUNK = 500  # ids per IN (...) list: well under SQLite's limit on bound parameters

LIVE_STAT_FIELDS = (
    "views",
    "completions",
    "likes",
    "shares",
    "comments",
    "saves",
    "follows",
    "skips",
    "rewatches",
    "not_interested",
    "reports",
    "watched_s",
)
_UPSERT_STATS = (
    f"INSERT INTO video_stats_live (video_id, {', '.join(LIVE_STAT_FIELDS)}) "
    f"VALUES (?{', ?' * len(LIVE_STAT_FIELDS)}) ON CONFLICT(video_id) DO UPDATE SET "
    + ", ".join(f"{f} = {f} + excluded.{f}" for f in LIVE_STAT_FIELDS)
)
_UPSERT_POOL = (
    "INSERT INTO video_pools (video_id, pool, state, impressions, completions, likes, "
    "updated_world_t) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(video_id) DO UPDATE SET "
    "pool = excluded.pool, state = excluded.state, impressions = excluded.impressions, "
    "completions = excluded.completions, likes = excluded.likes, "
    "updated_world_t = excluded.updated_world_t"
)


# The savepoint that makes an event's statements one inside a batch's transaction. One fixed
# name (SQLite lets savepoints of one name nest: a name means the innermost) keeps its two
# statements prepared in the connection's cache; sqlite-utils' atomic() names each savepoint
# anew, so every event prepared two statements of its own (~25 us of a logged event's write).
_EVENT_SAVEPOINT = "foryou_event"


@contextmanager
def _as_one(db: Database) -> Iterator[None]:
    """The statements inside commit or fail together: a transaction of their own, or a
    savepoint of the transaction already open (what ``db.atomic()`` does, cheaper)."""
    conn = db.conn
    if not conn.in_transaction:
        with db.atomic():
            yield
        return
    conn.execute(f"SAVEPOINT {_EVENT_SAVEPOINT}")
    try:
        yield
    except BaseException:
        if conn.in_transaction:  # an error may have ended the whole transaction already
            conn.execute(f"ROLLBACK TO {_EVENT_SAVEPOINT}")
            conn.execute(f"RELEASE {_EVENT_SAVEPOINT}")
        raise
    conn.execute(f"RELEASE {_EVENT_SAVEPOINT}")


class ActivityLog:
    """Reads and writes of the activity tables (users, sessions, impressions, events, ...)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # -- users ------------------------------------------------------------------------------

    def add_user(
        self,
        *,
        name: str,
        language: str,
        country: str,
        interests: list[str],
        simulated: bool,
        settings: Mapping[str, Any],
        pick_seed: int | None = None,
    ) -> int | None:
        """Insert a viewer; None if the name is taken (checked by the insert itself, so two
        engines on one file that both found the name free cannot both have it)."""
        with self.db.atomic():
            cursor = self.db.execute(
                "INSERT INTO users (name, created_at, language, country, interests, simulated, "
                "settings, pick_seed) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(name) DO NOTHING",
                [
                    name,
                    time.time(),
                    language,
                    country,
                    json.dumps(interests),
                    int(simulated),
                    json.dumps(dict(settings)),
                    pick_seed,
                ],
            )
        return int(cursor.lastrowid or 0) if cursor.rowcount == 1 else None

    def user_row(self, user_id: int) -> dict[str, Any] | None:
        return row_by_id(self.db, "SELECT * FROM users WHERE id = ?", user_id)

    def user_id_by_name(self, name: str) -> int | None:
        row = self.db.execute("SELECT id FROM users WHERE name = ?", [name]).fetchone()
        return None if row is None else int(row[0])

    def users(self, *, simulated: bool | None = None) -> list[dict[str, Any]]:
        sql = (
            "SELECT u.id, u.name, u.language, u.country, u.simulated, u.created_at, "
            "(SELECT count(*) FROM impressions i WHERE i.user_id = u.id "
            "AND i.seen_end IS NOT NULL) AS watched FROM users u"
        )
        params: list[Any] = []
        if simulated is not None:
            sql += " WHERE u.simulated = ?"
            params.append(int(simulated))
        return list(self.db.query(sql + " ORDER BY u.id", params))

    def save_settings(self, user_id: int, settings: Mapping[str, Any]) -> None:
        with self.db.atomic():
            self.db.execute(
                "UPDATE users SET settings = ? WHERE id = ?", [json.dumps(dict(settings)), user_id]
            )

    # -- configs and sessions ----------------------------------------------------------------

    def ensure_config(self, *, name: str, sha256: str, toml: str) -> int:
        with self.db.atomic():
            self.db.execute(
                "INSERT INTO configs (name, sha256, toml, created_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(sha256) DO NOTHING",
                [name, sha256, toml, time.time()],
            )
        row = self.db.execute("SELECT id FROM configs WHERE sha256 = ?", [sha256]).fetchone()
        return int(row[0])

    def start_session(
        self, *, user_id: int, config_id: int, simulated: bool, condition: str | None
    ) -> int:
        with self.db.atomic():
            cursor = self.db.execute(
                "INSERT INTO sessions (user_id, config_id, started_at, simulated, condition) "
                "VALUES (?, ?, ?, ?, ?)",
                [user_id, config_id, time.time(), int(simulated), condition],
            )
        return int(cursor.lastrowid or 0)

    def end_session(self, session_id: int, profile: Mapping[str, Any], user_id: int) -> None:
        now = time.time()
        with self.db.atomic():
            self.db.execute("UPDATE sessions SET ended_at = ? WHERE id = ?", [now, session_id])
            self.db.execute(
                "INSERT INTO profile_snapshots (user_id, session_id, at, profile) "
                "VALUES (?, ?, ?, ?)",
                [user_id, session_id, now, json.dumps(dict(profile))],
            )
        self.checkpoint()  # a batch's session end leaves it to the batch

    def checkpoint(self) -> None:
        """Copy the write-ahead log into the file now (nothing inside a transaction, whose
        writes are not in the log yet). Passive: it copies what no reader still needs and
        never waits for a reader or a writer."""
        if not self.db.conn.in_transaction:
            self.db.execute("PRAGMA wal_checkpoint(PASSIVE)")

    # -- impressions and events --------------------------------------------------------------

    def any_simulated(self, session_ids: Sequence[int] = ()) -> bool:
        """Whether any of these sessions (none given: any session at all) was simulated."""
        where = f"id IN ({', '.join('?' * len(session_ids))}) AND " if session_ids else ""
        row = self.db.execute(
            f"SELECT count(*) FROM sessions WHERE {where}simulated = 1", list(session_ids)
        ).fetchone()
        return bool(row[0])

    def add_impression(self, row: Mapping[str, Any]) -> int:
        columns = ", ".join(row)
        marks = ", ".join("?" * len(row))
        insert = f"INSERT INTO impressions ({columns}) VALUES ({marks})"
        if self.db.conn.in_transaction:
            # Inside the pick's (or a batch's) transaction: one statement is atomic alone
            # (SQLite backs a failed statement out and keeps the transaction), so a savepoint
            # around it only added two statements and a random name to every pick.
            return int(self.db.execute(insert, list(row.values())).lastrowid or 0)
        with self.db.atomic():
            cursor = self.db.execute(insert, list(row.values()))
        return int(cursor.lastrowid or 0)

    def add_revisit(
        self, of_impression: int, *, session_id: int, served_at: float, world_t: float
    ) -> int:
        """A new impression of an impression's video, marked ``source = 'revisit'``: the same
        position and receipt, no score, rank or propensity (the viewer chose it, not the
        policy)."""
        with self.db.atomic():
            cursor = self.db.execute(
                "INSERT INTO impressions (user_id, session_id, video_id, position, served_at, "
                "world_t, source, receipt) SELECT user_id, ?, video_id, position, ?, ?, ?, "
                "receipt FROM impressions WHERE id = ?",
                [session_id, served_at, world_t, REVISIT, of_impression],
            )
        return int(cursor.lastrowid or 0)

    def mark_seen(self, impression_id: int, at: float) -> None:
        with self.db.atomic():
            self.db.execute(
                "UPDATE impressions SET seen_start = ? WHERE id = ? AND seen_start IS NULL",
                [at, impression_id],
            )

    def add_event(
        self,
        event: Mapping[str, Any],
        *,
        close: tuple[float, float] | None,
        stat_deltas: Mapping[str, float],
        pool: tuple[Any, ...] | None,
    ) -> int:
        """Write one event with everything it changes, in one transaction.

        Args:
            event: the events row.
            close: ``(seen_end, watched_s)`` when the event closes its impression.
            stat_deltas: increments of ``video_stats_live`` columns.
            pool: the video's new ``video_pools`` row, if its test pool changed.
        """
        columns = ", ".join(event)
        marks = ", ".join("?" * len(event))
        with _as_one(self.db):
            cursor = self.db.execute(
                f"INSERT INTO events ({columns}) VALUES ({marks})", list(event.values())
            )
            if close is not None:
                seen_end, watched_s = close
                self.db.execute(
                    "UPDATE impressions SET seen_end = ?, watched_s = ?, "
                    "seen_start = COALESCE(seen_start, ?) WHERE id = ?",
                    [seen_end, watched_s, seen_end - watched_s, event["impression_id"]],
                )
            if stat_deltas:
                values = [stat_deltas.get(f, 0) for f in LIVE_STAT_FIELDS]
                self.db.execute(_UPSERT_STATS, [event["video_id"], *values])
            if pool is not None:
                self.db.execute(_UPSERT_POOL, list(pool))
        return int(cursor.lastrowid or 0)

    def history(self, user_id: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """A user's impressions and events, in the order they happened."""
        impressions = list(
            self.db.query(
                "SELECT id, session_id, video_id, position, served_at, seen_start, seen_end, "
                "watched_s, world_t, source FROM impressions WHERE user_id = ? ORDER BY id",
                [user_id],
            )
        )
        events = list(
            self.db.query(
                "SELECT id, impression_id, video_id, kind, at, world_t, watched_s, scope, "
                "reason, text FROM events WHERE user_id = ? ORDER BY id",
                [user_id],
            )
        )
        return impressions, events

    def learned_model(self, name: str) -> str | None:
        """The stored state of a learned model (engine.learned), None if never saved."""
        rows = list(self.db.query("SELECT state FROM learned_models WHERE name = ?", [name]))
        return str(rows[0]["state"]) if rows else None

    def save_learned_model(self, name: str, state: str, updates: int) -> None:
        # atomic(), not the connection's own context: a save that falls inside a batch's
        # transaction (record_many) must stay a savepoint of it, not commit it half-way.
        with self.db.atomic():
            self.db.execute(
                "INSERT OR REPLACE INTO learned_models (name, state, updates, saved_at) "
                "VALUES (?, ?, ?, ?)",
                [name, state, updates, time.time()],
            )

    def drop_learned_models(self) -> int:
        """Delete every stored learned model but the world's as built (the next engine refits
        on the logged history, from that one)."""
        if not self.db["learned_models"].exists():
            return 0
        with self.db.atomic():
            return int(
                self.db.execute(
                    "DELETE FROM learned_models WHERE name != ?", [BUILT_MODEL]
                ).rowcount
            )

    def learning_history(self, limit: int) -> list[dict[str, Any]]:
        """The ``limit`` most recent picks with a receipt, oldest first, each with the kinds
        of its events: ``{"id", "receipt", "events": [kind, ...]}``."""
        rows = list(
            self.db.query(
                "SELECT id, receipt FROM impressions WHERE receipt IS NOT NULL "
                "AND (source IS NULL OR source != ?) ORDER BY id DESC LIMIT ?",
                [REVISIT, limit],
            )
        )
        if not rows:
            return []
        rows.reverse()
        kinds: dict[int, list[str]] = {int(r["id"]): [] for r in rows}
        cursor = self.db.execute(
            "SELECT impression_id, kind FROM events WHERE impression_id BETWEEN ? AND ? "
            "ORDER BY id",
            [int(rows[0]["id"]), int(rows[-1]["id"])],
        )
        for impression_id, kind in cursor:
            if impression_id in kinds:
                kinds[impression_id].append(str(kind))
        return [{**r, "events": kinds[int(r["id"])]} for r in rows]

    def impression(self, impression_id: int) -> dict[str, Any] | None:
        return row_by_id(self.db, "SELECT * FROM impressions WHERE id = ?", impression_id)

    def revisited_pick(self, impression_id: int) -> int | None:
        """The pick a revisit went back to, None when the impression is no revisit: the
        viewer's latest impression of the video before it that is no revisit itself (a revisit
        of a revisit copied the same receipt, so its pick is that one's)."""
        row = row_by_id(
            self.db,
            "SELECT pick.id FROM impressions AS revisit JOIN impressions AS pick "
            "ON pick.user_id = revisit.user_id AND pick.video_id = revisit.video_id "
            f"AND pick.id < revisit.id AND pick.source IS NOT '{REVISIT}' "
            f"WHERE revisit.id = ? AND revisit.source = '{REVISIT}' "
            "ORDER BY pick.id DESC LIMIT 1",
            impression_id,
        )
        return None if row is None else int(row["id"])

    def _live_events(self) -> str:
        """The events an engine's shared state is rebuilt from: all but those of a log imported
        by ``foryou import``, which move their viewer only (as replay re-lives them; their
        videos' engagement is the world's background)."""
        if "imported" not in self.db.table("sessions").columns_dict:
            return "events"
        return (
            "(SELECT * FROM events WHERE session_id IS NULL OR session_id NOT IN "
            "(SELECT id FROM sessions WHERE imported = 1))"
        )

    def recent_events(self, since_world_t: float) -> list[tuple[float, int, str]]:
        """(world_t, video_id, kind) of every live event on a video since a world time, for
        trending (a ``refresh`` is about the viewer, not a video: it has none)."""
        cursor = self.db.execute(
            f"SELECT world_t, video_id, kind FROM {self._live_events()} "
            "WHERE world_t >= ? AND video_id IS NOT NULL ORDER BY id",
            [since_world_t],
        )
        return [(float(t), int(v), str(k)) for t, v, k in cursor]

    def recent_viewers(self, since_world_t: float) -> list[tuple[int, float]]:
        """(user_id, world_t of their last closed viewing) of every viewer who closed a live
        one since a world time: the active audience test pools are sized by."""
        cursor = self.db.execute(
            f"SELECT user_id, MAX(world_t) FROM {self._live_events()} WHERE world_t >= ? "
            "AND kind IN ('skip', 'complete') GROUP BY user_id ORDER BY user_id",
            [since_world_t],
        )
        return [(int(u), float(t)) for u, t in cursor]

    def positive_events(self) -> list[tuple[int, int, str]]:
        """(user_id, video_id, kind) of every completion and like, in the order they happened:
        what co-engagement (engine.coengagement) is rebuilt from. An imported log's count too:
        the world's background holds each video's counts, not who engaged with what beside
        what. They come first, by their time in the log, as replay re-lives them (the import
        wrote them viewer by viewer); live events follow in recorded order."""
        positive = "kind IN ('complete', 'like') AND video_id IS NOT NULL"
        live = self._live_events()
        imported: list[tuple[int, int, str]] = []
        if live != "events" and self._holds_imported():
            imported = self.db.execute(
                f"SELECT user_id, video_id, kind FROM events WHERE {positive} AND session_id IN "
                "(SELECT id FROM sessions WHERE imported = 1) ORDER BY at, id"
            ).fetchall()
        cursor = self.db.execute(
            f"SELECT user_id, video_id, kind FROM {live} WHERE {positive} ORDER BY id"
        )
        return [(int(u), int(v), str(k)) for u, v, k in [*imported, *cursor]]

    def _holds_imported(self) -> bool:
        """Whether ``foryou import`` wrote a log into the file (a synthetic world's events are
        all live: one pass over them, not two)."""
        found = self.db.execute("SELECT 1 FROM sessions WHERE imported = 1 LIMIT 1").fetchone()
        return found is not None

    # -- world-wide live state ---------------------------------------------------------------

    def live_stats(self) -> list[tuple[Any, ...]]:
        cursor = self.db.execute(
            f"SELECT video_id, {', '.join(LIVE_STAT_FIELDS)} FROM video_stats_live"
        )
        return list(cursor)

    def pools(self) -> list[tuple[Any, ...]]:
        cursor = self.db.execute(
            "SELECT video_id, pool, state, impressions, completions, likes FROM video_pools"
        )
        return list(cursor)

    def add_boost(self, row: Mapping[str, Any]) -> int:
        columns = ", ".join(row)
        marks = ", ".join("?" * len(row))
        with self.db.atomic():
            cursor = self.db.execute(
                f"INSERT INTO boosts ({columns}) VALUES ({marks})", list(row.values())
            )
        return int(cursor.lastrowid or 0)

    def boosts(self) -> list[dict[str, Any]]:
        return list(self.db.query("SELECT * FROM boosts ORDER BY id"))

    def last_ids(self) -> dict[str, int]:
        """The highest id of each table an engine adds rows to (0 for an empty one)."""
        return {
            table: int(self.db.execute(f"SELECT coalesce(max(id), 0) FROM {table}").fetchone()[0])
            for table in ("users", "sessions", "impressions", "events", "boosts")
        }

    def data_version(self) -> int:
        """Changes whenever another connection commits to the file (never for our own)."""
        row = self.db.execute("PRAGMA data_version").fetchone()
        return int(row[0])

    # -- text lookups ------------------------------------------------------------------------

    def caption(self, video_id: int) -> str:
        row = self.db.execute("SELECT caption FROM videos WHERE id = ?", [video_id]).fetchone()
        if row is None:
            raise KeyError(video_id)
        return str(row[0])

    def captions(self, video_ids: Sequence[int]) -> dict[int, str]:
        """:meth:`caption` of several videos in one query.

        Raises:
            KeyError: a video that does not exist.
        """
        wanted = sorted(set(video_ids))
        found: dict[int, str] = {}
        for start in range(0, len(wanted), _IN_CHUNK):
            part = wanted[start : start + _IN_CHUNK]
            marks = ",".join("?" * len(part))
            rows = self.db.execute(f"SELECT id, caption FROM videos WHERE id IN ({marks})", part)
            found.update((int(row[0]), str(row[1])) for row in rows)
        for video_id in wanted:
            if video_id not in found:
                raise KeyError(video_id)
        return found

    def videos_matching(self, word: str) -> list[int]:
        """Ids of videos whose caption or hashtags contain ``word`` (case-insensitive)."""
        pattern = "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        cursor = self.db.execute(
            "SELECT id FROM videos WHERE caption LIKE ? ESCAPE '\\'", [pattern]
        )
        return [int(row[0]) for row in cursor]
