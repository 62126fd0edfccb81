"""Reads and writes of the study tables: studies, conditions, participants, answers, feed runs.

Like the activity log, every write is one short transaction that starts with a write
statement, so two lab stations sharing one file enrol participants without racing: the
allocation index is counted inside the INSERT that claims it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from engine.store.files import DatabaseError, connect, inspect_file
from engine.store.ids import row_by_id

_ON_SCREEN = "(seen_start IS NOT NULL OR seen_end IS NOT NULL)"


def bundle_study(path: Path) -> dict[str, Any] | None:
    """The study a file holds (its ``studies`` row), None for a plain world.

    Read before a command opens the file, without writing to it, so that a command meant for
    plain worlds can refuse a study bundle before anything is written. A file the command's
    own opening will refuse (missing, foreign, damaged) is left to it: None.
    """
    if inspect_file(path) != "foryou":
        return None
    try:
        db = connect(path, read_only=True)
    except DatabaseError:
        return None
    try:
        return StudyLog(db).study()
    except DatabaseError:
        return None
    finally:
        db.conn.close()


class StudyLog:
    """The study tables of one open file."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # -- the study and its conditions ------------------------------------------------------

    def has_tables(self) -> bool:
        return "studies" in self.db.table_names()

    def create_study(
        self,
        *,
        name: str,
        sha256: str,
        definition: str,
        resolved: str,
        world_hash: str,
        world_seed: int,
        created_at: float,
    ) -> int:
        with self.db.atomic():
            cursor = self.db.execute(
                "INSERT INTO studies (name, sha256, definition, resolved, world_hash, world_seed, "
                "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [name, sha256, definition, resolved, world_hash, world_seed, created_at],
            )
        return int(cursor.lastrowid or 0)

    def add_condition(
        self,
        *,
        study_id: int,
        name: str,
        config_id: int,
        controls: list[str],
        boost: Mapping[str, Any] | None,
    ) -> int:
        disclosed = None if boost is None else int(bool(boost["disclosed"]))
        with self.db.atomic():
            cursor = self.db.execute(
                "INSERT INTO conditions (study_id, name, config_id, controls, boost, "
                "boost_disclosed) VALUES (?, ?, ?, ?, ?, ?)",
                [
                    study_id,
                    name,
                    config_id,
                    json.dumps(controls),
                    None if boost is None else json.dumps(dict(boost)),
                    disclosed,
                ],
            )
        return int(cursor.lastrowid or 0)

    def study(self) -> dict[str, Any] | None:
        if not self.has_tables():
            return None
        rows = list(self.db.query("SELECT * FROM studies ORDER BY id LIMIT 1"))
        return rows[0] if rows else None

    def conditions(self) -> list[dict[str, Any]]:
        return list(self.db.query("SELECT * FROM conditions ORDER BY id"))

    def condition_boost(self, name: str) -> dict[str, Any] | None:
        """The heating setting of a condition, by name (None: no such condition or no heating)."""
        if not self.has_tables():
            return None
        row = self.db.execute("SELECT boost FROM conditions WHERE name = ?", [name]).fetchone()
        if row is None or row[0] is None:
            return None
        result: dict[str, Any] = json.loads(row[0])
        return result

    def count_users(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM users").fetchone()[0])

    # -- participants ------------------------------------------------------------------------

    def participant(self, participant: str) -> dict[str, Any] | None:
        """A participant's row, with their condition's name as ``condition``."""
        rows = list(
            self.db.query(
                "SELECT p.*, c.name AS condition FROM participants p "
                "LEFT JOIN conditions c ON c.id = p.condition_id WHERE p.participant = ?",
                [participant],
            )
        )
        return rows[0] if rows else None

    def record_decline(
        self, *, study_id: int, participant: str, station: str | None, at: float
    ) -> int:
        with self.db.atomic():
            cursor = self.db.execute(
                "INSERT INTO participants (participant, study_id, station, status, declined_at) "
                "VALUES (?, ?, ?, 'declined', ?)",
                [participant, study_id, station, at],
            )
        return int(cursor.lastrowid or 0)

    def record_consent(
        self,
        *,
        study_id: int,
        participant: str,
        station: str | None,
        at: float,
        allocate: Callable[[int], int],
    ) -> int:
        """Insert a consenting participant and allocate a condition in one transaction.

        Args:
            allocate: allocation index (consenting participants before this one) -> the
                condition id to assign.

        Returns:
            The participant row id.
        """
        with self.db.atomic():
            cursor = self.db.execute(
                "INSERT INTO participants (participant, study_id, station, status, consented_at, "
                "allocation_index) VALUES (?, ?, ?, 'consented', ?, "
                "(SELECT count(*) FROM participants WHERE status != 'declined'))",
                [participant, study_id, station, at],
            )
            row_id = int(cursor.lastrowid or 0)
            index = self.db.execute(
                "SELECT allocation_index FROM participants WHERE id = ?", [row_id]
            ).fetchone()[0]
            self.db.execute(
                "UPDATE participants SET condition_id = ? WHERE id = ?",
                [allocate(int(index)), row_id],
            )
        return row_id

    def start_feed(self, participant_id: int, user_id: int, at: float) -> None:
        with self.db.atomic():
            self.db.execute(
                "UPDATE participants SET user_id = ?, status = 'in_feed', feed_started_at = ? "
                "WHERE id = ?",
                [user_id, at, participant_id],
            )

    def end_feed(self, participant_id: int, at: float) -> None:
        with self.db.atomic():
            self.db.execute(
                "UPDATE participants SET feed_ended_at = ?, status = 'after_feed' "
                "WHERE id = ? AND feed_ended_at IS NULL AND status = 'in_feed'",
                [at, participant_id],
            )

    def finish(self, participant_id: int, at: float, code: str) -> None:
        with self.db.atomic():
            self.db.execute(
                "UPDATE participants SET status = 'completed', finished_at = ?, "
                "completion_code = ? WHERE id = ?",
                [at, code, participant_id],
            )

    def names(self) -> tuple[set[str], set[str]]:
        """Every participant id and every viewer name in the file."""
        participants = {str(r[0]) for r in self.db.execute("SELECT participant FROM participants")}
        users = {str(r[0]) for r in self.db.execute("SELECT name FROM users")}
        return participants, users

    def participants(self) -> list[dict[str, Any]]:
        """Every participant with their condition's name, in enrolment order."""
        return list(
            self.db.query(
                "SELECT p.*, c.name AS condition FROM participants p "
                "LEFT JOIN conditions c ON c.id = p.condition_id ORDER BY p.id"
            )
        )

    # -- answers -----------------------------------------------------------------------------

    def save_answers(
        self, participant_id: int, phase: str, values: Mapping[str, str], at: float
    ) -> None:
        """Store answers and note the questionnaire as submitted, in one transaction; answering
        an item again replaces the earlier answer."""
        submitted = {"pre": "pre_submitted_at", "post": "post_submitted_at"}[phase]
        with self.db.atomic():
            self.db.execute(
                f"UPDATE participants SET {submitted} = coalesce({submitted}, ?) WHERE id = ?",
                [at, participant_id],
            )
            for item, value in values.items():
                self.db.execute(
                    "INSERT INTO answers (participant_id, phase, item, value, answered_at) "
                    "VALUES (?, ?, ?, ?, ?) ON CONFLICT(participant_id, phase, item) "
                    "DO UPDATE SET value = excluded.value, answered_at = excluded.answered_at",
                    [participant_id, phase, item, value, at],
                )

    def answers(self, participant_id: int, phase: str) -> dict[str, str]:
        cursor = self.db.execute(
            "SELECT item, value FROM answers WHERE participant_id = ? AND phase = ? ORDER BY id",
            [participant_id, phase],
        )
        return {str(item): str(value) for item, value in cursor}

    # -- feed runs ---------------------------------------------------------------------------

    def open_run(
        self, participant_id: int, user_id: int, opened_at: float, opened_world_t: float
    ) -> int:
        with self.db.atomic():
            cursor = self.db.execute(
                "INSERT INTO feed_runs (participant_id, user_id, opened_at, opened_world_t) "
                "VALUES (?, ?, ?, ?)",
                [participant_id, user_id, opened_at, opened_world_t],
            )
        return int(cursor.lastrowid or 0)

    def close_run(self, run_id: int, closed_at: float, closed_world_t: float) -> None:
        """Close a run and link it to the session it recorded (the user's first since opening)."""
        self._close_run(run_id, closed_at, closed_world_t, crashed=False)

    def keep_alive(self, run_id: int, at: float, world_t: float) -> None:
        """Note that an open run is still running: if its process dies, its time counts up to
        here (:meth:`close_dead_runs`)."""
        with self.db.atomic():
            self.db.execute(
                "UPDATE feed_runs SET alive_at = ?, alive_world_t = ? "
                "WHERE id = ? AND closed_at IS NULL",
                [at, world_t, run_id],
            )

    def _close_run(
        self, run_id: int, closed_at: float, closed_world_t: float, *, crashed: bool
    ) -> None:
        with self.db.atomic():
            self.db.execute(
                "UPDATE feed_runs SET closed_at = ?, closed_world_t = ?, crashed = ?, "
                "session_id = (SELECT min(s.id) FROM sessions s WHERE s.user_id = "
                "feed_runs.user_id AND s.started_at >= feed_runs.opened_at) WHERE id = ?",
                [closed_at, closed_world_t, int(crashed), run_id],
            )

    def close_dead_runs(self, participant_id: int) -> None:
        """Close the runs a dead process left open (a closed terminal, a killed process) at
        their last sign of life (the latest recorded viewing, reaction or ``alive_at``), so
        their time counts, mark them ``crashed`` and end their sessions there."""
        dead = list(
            self.db.query(
                "SELECT id, user_id, opened_at, opened_world_t, alive_at, alive_world_t "
                "FROM feed_runs WHERE participant_id = ? AND closed_at IS NULL",
                [participant_id],
            )
        )
        for run in dead:
            at, world_t = self._last_activity(run)
            self._close_run(int(run["id"]), at, world_t, crashed=True)
            with self.db.atomic():
                self.db.execute(
                    "UPDATE sessions SET ended_at = ? WHERE user_id = ? AND ended_at IS NULL "
                    "AND started_at >= ?",
                    [at, run["user_id"], run["opened_at"]],
                )

    def _last_activity(self, run: Mapping[str, Any]) -> tuple[float, float]:
        """(unix seconds, world seconds) of a run's last sign of life: its opening at least."""
        at, world_t = self.db.execute(
            "SELECT max(at), max(world_t) FROM ("
            "SELECT coalesce(seen_end, seen_start, served_at) AS at, world_t FROM impressions "
            "WHERE user_id = :user AND served_at >= :opened "
            "UNION ALL SELECT at, world_t FROM events WHERE user_id = :user AND at >= :opened "
            "UNION ALL SELECT :opened, :opened_world_t "
            "UNION ALL SELECT :alive_at, :alive_world_t)",
            {
                "user": run["user_id"],
                "opened": run["opened_at"],
                "opened_world_t": run["opened_world_t"],
                "alive_at": run["alive_at"],
                "alive_world_t": run["alive_world_t"],
            },
        ).fetchone()
        return float(at), float(world_t)

    def runs(self, participant_id: int) -> list[dict[str, Any]]:
        return list(
            self.db.query(
                "SELECT * FROM feed_runs WHERE participant_id = ? ORDER BY id", [participant_id]
            )
        )

    def seen_count(self, user_id: int) -> int:
        """Picks that reached the viewer's screen (closed, or on screen when a run died); going
        back to one is a viewing of its own, but no further video of the feed's length."""
        row = self.db.execute(
            f"SELECT count(*) FROM impressions WHERE user_id = ? AND {_ON_SCREEN} "
            "AND source IS NOT 'revisit'",
            [user_id],
        ).fetchone()
        return int(row[0])

    def sources_served(self, user_id: int) -> dict[str, int]:
        cursor = self.db.execute(
            f"SELECT source, count(*) FROM impressions WHERE user_id = ? AND {_ON_SCREEN} "
            "GROUP BY source ORDER BY count(*) DESC, source",
            [user_id],
        )
        return {str(source): int(n) for source, n in cursor}

    def boosted_seen(self, user_id: int) -> int:
        """Watched videos whose receipt names a boost."""
        row = self.db.execute(
            f"SELECT count(*) FROM impressions WHERE user_id = ? AND {_ON_SCREEN} "
            "AND json_extract(receipt, '$.boost') IS NOT NULL",
            [user_id],
        ).fetchone()
        return int(row[0])

    def feed_seconds(self, participant_id: int) -> float:
        """World seconds of every closed feed run of a participant."""
        row = self.db.execute(
            "SELECT coalesce(sum(closed_world_t - opened_world_t), 0) FROM feed_runs "
            "WHERE participant_id = ? AND closed_world_t IS NOT NULL",
            [participant_id],
        ).fetchone()
        return float(row[0])

    def user_row(self, user_id: int) -> dict[str, Any] | None:
        return row_by_id(self.db, "SELECT * FROM users WHERE id = ?", user_id)
