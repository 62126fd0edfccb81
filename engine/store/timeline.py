"""Reading a file's recorded history back in the order it happened, for replay and evaluation.

Plain rows only: :mod:`engine.replay` turns them into the steps an engine re-lives.
"""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database

from engine.store.ids import row_by_id


class Timeline:
    """Read-only queries over the activity (and, when present, study) tables."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._study = "feed_runs" in db.table_names()

    def session(self, session_id: int) -> dict[str, Any] | None:
        """A session with its config's name and effective TOML."""
        return row_by_id(
            self.db,
            "SELECT s.*, c.name AS config_name, c.toml AS config_toml FROM sessions s "
            "LEFT JOIN configs c ON c.id = s.config_id WHERE s.id = ?",
            session_id,
        )

    def session_ids(self) -> list[int]:
        return [int(r[0]) for r in self.db.execute("SELECT id FROM sessions ORDER BY id")]

    def session_ends(self) -> dict[int, float | None]:
        """When each session ended (unix seconds; None while open or if its engine died)."""
        return {int(s): e for s, e in self.db.execute("SELECT id, ended_at FROM sessions")}

    def users(self) -> list[dict[str, Any]]:
        return list(self.db.query("SELECT * FROM users ORDER BY id"))

    def origins(self) -> dict[int, tuple[str, int]]:
        """Viewers of a merged file: user id -> (station, id at that station)."""
        if not self._study:
            return {}
        cursor = self.db.execute("SELECT user_id, station, original_id FROM user_origins")
        return {int(u): (str(s), int(o)) for u, s, o in cursor}

    def impressions(self) -> list[dict[str, Any]]:
        return list(
            self.db.query(
                "SELECT id, user_id, session_id, video_id, position, served_at, seen_start, "
                "seen_end, watched_s, world_t, source, propensity, receipt FROM impressions "
                "ORDER BY id"
            )
        )

    def events(self) -> list[dict[str, Any]]:
        """Every event in order; ``imported`` is 1 for one from a log imported by
        ``foryou import`` (it moves its viewer only, see :meth:`engine.Engine.apply_recorded`)."""
        imported = (
            "coalesce((SELECT s.imported FROM sessions s WHERE s.id = e.session_id), 0)"
            if "imported" in self.db.table("sessions").columns_dict
            else "0"
        )
        return list(
            self.db.query(
                "SELECT e.id, e.user_id, e.session_id, e.impression_id, e.video_id, e.kind, e.at, "
                f"e.world_t, e.watched_s, e.scope, e.reason, e.text, {imported} AS imported "
                "FROM events e ORDER BY e.id"
            )
        )

    def feed_opens(self) -> list[dict[str, Any]]:
        """Recorded engine openings (study feed runs): user, wall time and world time."""
        if not self._study:
            return []
        return list(
            self.db.query(
                "SELECT id, user_id, session_id, opened_at, opened_world_t FROM feed_runs "
                "ORDER BY id"
            )
        )
