"""Taking a logged simulation back out of the file when it does not finish.

A logged run writes from several processes (one engine per shard, each its own connection), so
its writes cannot share one transaction that a failure rolls back. Instead the parent marks the
file before the run and, if the run fails or is interrupted, deletes what the run wrote: its
viewers and every row tied to them (as ``study forget`` deletes a participant), and the shared
rows the run changed in place put back as they were at the mark (the live counters and test
pools of the videos it touched, the stored learned models), plus the config rows it added and
nothing else uses. The mark's copy of those tables lives in TEMP tables of the parent's own
connection: never in the file, gone when the connection closes.

Putting those rows back is safe only because nobody else wrote them meanwhile: a feed's like or
a participant's view of a video the run also touched, or another engine's saved model, would
be put back to the mark with the run's. So a logged run has the file alone (its parent holds
the file's writers claim exclusively from before the mark until the undo has committed, and
every other engine that writes holds it shared, :mod:`engine.writers`); ``RunMark`` is not for
a file others may write while it is held.

What a failed run leaves can then only be a run's worth of rows whose parent was killed outright
(``kill -9``), which nothing in the process can clean up.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection

from sqlite_utils import Database

from engine.store.files import StoreError

__all__ = ["RunMark"]

# Tables whose rows belong to one viewer, children first (as engine.store.forget deletes them).
_VIEWER_ROWS = ("user_origins", "events", "impressions", "profile_snapshots", "sessions")
# Shared tables the engines update in place: (table, key column), restored per touched video.
_PER_VIDEO = (("video_stats_live", "video_id"), ("video_pools", "video_id"))


class RunMark:
    """The file's state before a logged run, kept to undo the run's writes."""

    def __init__(self, db: Database) -> None:
        """Copy the rows a run changes in place (into this connection's TEMP tables)."""
        self.db = db
        with db.atomic():  # one snapshot of all of them
            for table, _ in _PER_VIDEO:
                self._copy(table)
            self._copy("learned_models")
            row = db.execute("SELECT coalesce(max(id), 0) FROM configs").fetchone()
        self.last_config = int(row[0])

    def _copy(self, table: str) -> None:
        self.db.execute(f"DROP TABLE IF EXISTS temp.before_{table}")
        if self.db[table].exists():
            self.db.execute(f"CREATE TEMP TABLE before_{table} AS SELECT * FROM main.{table}")

    def undo(self, viewers: Collection[int]) -> None:
        """Delete ``viewers`` and everything of theirs, and put back the shared rows the run
        changed, in one transaction: the file holds all of the run or none of it.

        Raises:
            StoreError: the file could not be written (locked, read-only, full): the run's
                rows are all still in it.
        """
        try:
            self._undo(viewers)
        except sqlite3.Error as exc:
            raise StoreError(
                f"its {len(viewers)} simulated viewers and their rows could not be taken back "
                f"out of the file ({exc})"
            ) from None

    def _undo(self, viewers: Collection[int]) -> None:
        db = self.db
        with db.atomic():
            db.execute("DROP TABLE IF EXISTS temp.run_viewers")
            db.execute("CREATE TEMP TABLE run_viewers (id INTEGER PRIMARY KEY)")
            db.conn.executemany("INSERT INTO temp.run_viewers VALUES (?)", [(v,) for v in viewers])
            self._restore_touched_videos()
            for table in _VIEWER_ROWS:
                if db[table].exists():
                    db.execute(
                        f"DELETE FROM main.{table} WHERE user_id IN (SELECT id FROM run_viewers)"
                    )
            db.execute("DELETE FROM main.users WHERE id IN (SELECT id FROM run_viewers)")
            self._restore("learned_models", "1")
            db.execute(
                "DELETE FROM main.configs WHERE id > ? "
                "AND id NOT IN (SELECT config_id FROM main.sessions WHERE config_id IS NOT NULL)",
                [self.last_config],
            )
            db.execute("DROP TABLE temp.run_viewers")

    def _restore_touched_videos(self) -> None:
        """Put back the counters and pool rows of every video the run served or reacted to
        (before its impressions and events, which say which those are, are deleted)."""
        touched = (
            "SELECT video_id FROM main.impressions WHERE user_id IN (SELECT id FROM run_viewers) "
            "UNION SELECT video_id FROM main.events WHERE user_id IN (SELECT id FROM run_viewers)"
        )
        for table, key in _PER_VIDEO:
            self._restore(table, f"{key} IN ({touched})")

    def _restore(self, table: str, where: str) -> None:
        if not self.db[table].exists():
            return
        self.db.execute(f"DELETE FROM main.{table} WHERE {where}")
        if self.db.execute(
            "SELECT 1 FROM sqlite_temp_master WHERE name = ?", [f"before_{table}"]
        ).fetchone():
            self.db.execute(
                f"INSERT INTO main.{table} SELECT * FROM temp.before_{table} WHERE {where}"
            )

    def drop(self) -> None:
        """Forget the copies (the run finished: its writes stay)."""
        for table in (*(t for t, _ in _PER_VIDEO), "learned_models"):
            self.db.execute(f"DROP TABLE IF EXISTS temp.before_{table}")
