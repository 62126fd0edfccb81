"""Deleting everything recorded about one study participant, for good.

Rows go in one transaction, children first. ``secure_delete`` makes SQLite overwrite the freed
bytes with zeros and a truncating WAL checkpoint drops the old page images, so the id cannot
be recovered from the file afterwards either. Aggregate counters (``video_stats_live``) are
decremented by the participant's share, computed by the caller from the rows being deleted;
a counter row left at zero is deleted, since it would still say that someone watched.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlite_utils import Database

from engine.store.activity import LIVE_STAT_FIELDS

# (table, the column that ties a row to the participant: "user" or "participant").
_OWNED = (
    ("answers", "participant_id", "participant"),
    ("feed_runs", "participant_id", "participant"),
    ("participants", "id", "participant"),
    ("user_origins", "user_id", "user"),
    ("events", "user_id", "user"),
    ("impressions", "user_id", "user"),
    ("profile_snapshots", "user_id", "user"),
    ("sessions", "user_id", "user"),
    ("users", "id", "user"),
)


def forget_participant(
    db: Database,
    *,
    participant_id: int,
    user_id: int | None,
    stat_deltas: Mapping[int, Mapping[str, float]],
) -> dict[str, int]:
    """Delete a participant's rows everywhere and subtract their live-stat contributions.

    Args:
        participant_id: the participants row id.
        user_id: their viewer (None if they never reached the feed).
        stat_deltas: video id -> increments of ``video_stats_live`` columns to subtract.

    Returns:
        Rows deleted per table.
    """
    ids = {"participant": participant_id, "user": user_id}
    deleted: dict[str, int] = {}
    db.execute("PRAGMA secure_delete = ON")
    with db.atomic():
        for table, column, owner in _OWNED:
            if ids[owner] is None:
                continue
            cursor = db.execute(f"DELETE FROM {table} WHERE {column} = ?", [ids[owner]])
            deleted[table] = cursor.rowcount
        sets = ", ".join(f"{f} = {f} - ?" for f in LIVE_STAT_FIELDS)
        zero = " AND ".join(f"abs({f}) < 1e-9" for f in LIVE_STAT_FIELDS)
        for video_id, deltas in stat_deltas.items():
            values = [deltas.get(f, 0) for f in LIVE_STAT_FIELDS]
            db.execute(
                f"UPDATE video_stats_live SET {sets} WHERE video_id = ?", [*values, video_id]
            )
            db.execute(f"DELETE FROM video_stats_live WHERE video_id = ? AND {zero}", [video_id])
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return deleted
