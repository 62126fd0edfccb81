"""Merging the activity of several bundles of one study (lab stations) into one file.

Every row of a source file is copied with its ids shifted past the target's largest id, and
every reference shifted alike, so no id clashes; configs are matched by hash and conditions by
name. Live engagement counters are summed; a video's test-pool row keeps the first file's.
The caller checks beforehand that the files hold the same study and world.
"""

from __future__ import annotations

from pathlib import Path

from sqlite_utils import Database

from engine.store import held
from engine.store.activity import LIVE_STAT_FIELDS
from engine.store.files import BUSY_TIMEOUT_S, connect

# Tables copied row by row, parents first, with the tables their id columns point to.
_COPIED: dict[str, dict[str, str]] = {
    "users": {"id": "users"},
    "sessions": {"id": "sessions", "user_id": "users", "config_id": "configs"},
    "impressions": {"id": "impressions", "user_id": "users", "session_id": "sessions"},
    "events": {
        "id": "events",
        "user_id": "users",
        "session_id": "sessions",
        "impression_id": "impressions",
    },
    "profile_snapshots": {"id": "profile_snapshots", "user_id": "users", "session_id": "sessions"},
    "boosts": {"id": "boosts"},
    "participants": {
        "id": "participants",
        "user_id": "users",
        "condition_id": "conditions",
        "study_id": "studies",
    },
    "answers": {"id": "answers", "participant_id": "participants"},
    "feed_runs": {
        "id": "feed_runs",
        "participant_id": "participants",
        "user_id": "users",
        "session_id": "sessions",
    },
}
# References resolved by a natural key instead of an offset.
_BY_KEY = {
    "configs": "(SELECT m.id FROM main.configs m JOIN src.configs x ON x.sha256 = m.sha256 "
    "WHERE x.id = s.{column})",
    "conditions": "(SELECT m.id FROM main.conditions m JOIN src.conditions x "
    "ON x.name = m.name WHERE x.id = s.{column})",
    "studies": "(SELECT min(id) FROM main.studies)",
}


def copy_file(source: Path, target: Path) -> None:
    """A consistent copy of a live SQLite file (WAL included), via SQLite's backup API."""
    src = held.open_connection(f"file:{source}?mode=ro", source, uri=True, timeout=BUSY_TIMEOUT_S)
    dst = held.open_connection(str(target), target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()


def merge_files(sources: list[Path], target: Path, stations: list[str]) -> dict[str, int]:
    """Write ``target`` as a copy of the first source plus every row of the others.

    Returns:
        Rows per participant-level table in the result.
    """
    copy_file(sources[0], target)
    db = connect(target)
    try:
        _name_station(db, stations[0])
        for source, station in zip(sources[1:], stations[1:], strict=True):
            merge_from(db, source, station=station)
        return {
            t: int(db.execute(f"SELECT count(*) FROM {t}").fetchone()[0])
            for t in ("participants", "users", "sessions", "impressions", "events", "answers")
        }
    finally:
        db.close()


def _name_station(db: Database, station: str) -> None:
    """Participants and viewers without a station were recorded at this one."""
    with db.atomic():
        db.execute("UPDATE participants SET station = ? WHERE station IS NULL", [station])
        db.execute(
            "INSERT INTO user_origins (user_id, station, original_id) SELECT id, ?, id "
            "FROM users WHERE id NOT IN (SELECT user_id FROM user_origins)",
            [station],
        )


def merge_from(db: Database, source: Path, *, station: str) -> dict[str, int]:
    """Copy every activity and study row of ``source`` into ``db`` in one transaction.

    Returns:
        Rows copied per table.
    """
    offsets = {
        table: int(db.execute(f"SELECT coalesce(max(id), 0) FROM main.{table}").fetchone()[0])
        for table in _COPIED
    }
    db.execute("ATTACH DATABASE ? AS src", [str(source)])
    copied: dict[str, int] = {}
    try:
        with db.atomic():
            db.execute(
                "INSERT INTO main.configs (name, sha256, toml, created_at) "
                "SELECT name, sha256, toml, created_at FROM src.configs WHERE true "
                "ON CONFLICT(sha256) DO NOTHING"
            )
            for table, references in _COPIED.items():
                copied[table] = _copy_table(db, table, references, offsets, station)
            offset = offsets["users"]
            db.execute(
                "INSERT INTO main.user_origins (user_id, station, original_id) "
                f"SELECT user_id + {offset}, station, original_id FROM src.user_origins"
            )
            db.execute(
                "INSERT INTO main.user_origins (user_id, station, original_id) "
                f"SELECT id + {offset}, ?, id FROM src.users "
                "WHERE id NOT IN (SELECT user_id FROM src.user_origins)",
                [station],
            )
            fields = ", ".join(LIVE_STAT_FIELDS)
            db.execute(
                f"INSERT INTO main.video_stats_live (video_id, {fields}) "
                f"SELECT video_id, {fields} FROM src.video_stats_live WHERE true "
                "ON CONFLICT(video_id) DO UPDATE SET "
                + ", ".join(f"{f} = {f} + excluded.{f}" for f in LIVE_STAT_FIELDS)
            )
            db.execute(
                "INSERT INTO main.video_pools SELECT * FROM src.video_pools WHERE true "
                "ON CONFLICT(video_id) DO NOTHING"
            )
    finally:
        db.execute("DETACH DATABASE src")
    return copied


def _copy_table(
    db: Database,
    table: str,
    references: dict[str, str],
    offsets: dict[str, int],
    station: str,
) -> int:
    columns = [c.name for c in db.table(table).columns]
    expressions = []
    for column in columns:
        target = references.get(column)
        if target in _BY_KEY:
            expressions.append(_BY_KEY[target].format(column=column))
        elif target is not None:
            expressions.append(f"s.{column} + {offsets[target]}")
        elif table == "participants" and column == "station":
            expressions.append("coalesce(s.station, ?)")
        else:
            expressions.append(f's."{column}"')
    params = [station] if table == "participants" else []
    names = ", ".join(f'"{c}"' for c in columns)
    cursor = db.execute(
        f"INSERT INTO main.{table} ({names}) "
        f"SELECT {', '.join(expressions)} FROM src.{table} s ORDER BY s.id",
        params,
    )
    return cursor.rowcount
