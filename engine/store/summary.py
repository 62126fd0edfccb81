"""What `foryou info` shows about a world: counts, topics, durations, locales and flags."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlite_utils import Database

from engine.store.world_io import WORLD_TABLES


def _rows(db: Database, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
    return list(db.query(sql, params))


def world_summary(db: Database) -> dict[str, Any]:
    """What `foryou info` shows: counts, topics, durations, locales and flags."""
    one = db.execute
    summary: dict[str, Any] = {
        "counts": {t: one(f"SELECT count(*) FROM {t}").fetchone()[0] for t in WORLD_TABLES[:-1]},
        "meta": dict(one("SELECT key, value FROM foryou_meta").fetchall()),
        "topics": _rows(
            db,
            "SELECT t.name AS topic, count(v.id) AS videos, t.popularity AS popularity "
            "FROM topics t LEFT JOIN videos v ON v.topic_id = t.id "
            "GROUP BY t.id ORDER BY videos DESC",
        ),
        "durations": _rows(
            db,
            "SELECT CASE WHEN duration_s < 5 THEN 'under 5 s' WHEN duration_s < 10 THEN '5-10 s' "
            "WHEN duration_s < 15 THEN '10-15 s' "
            "WHEN duration_s < 30 THEN '15-30 s' WHEN duration_s < 60 THEN '30-60 s' "
            "WHEN duration_s < 120 THEN '60-120 s' WHEN duration_s <= 180 THEN '120-180 s' "
            "ELSE 'over 180 s' END AS bucket, "
            "count(*) AS videos, min(duration_s) AS lo FROM videos GROUP BY bucket ORDER BY lo",
        ),
        "languages": _rows(
            db,
            "SELECT language, count(*) AS videos FROM videos GROUP BY language "
            "ORDER BY videos DESC",
        ),
        "countries": _rows(
            db,
            "SELECT country, count(*) AS videos FROM videos GROUP BY country ORDER BY videos DESC",
        ),
        "flags": one(
            "SELECT sum(spam), sum(sensitive), sum(duplicate_of IS NOT NULL), "
            "sum(published_at > 0), count(*) FROM videos"
        ).fetchone(),
        "new_creators": one("SELECT sum(is_new) FROM creators").fetchone()[0],
        "median_duration_s": one(
            "SELECT duration_s FROM videos ORDER BY duration_s "
            "LIMIT 1 OFFSET (SELECT count(*) / 2 FROM videos)"
        ).fetchone()[0],
    }
    return summary
