"""KuaiRand: the video features file and the like/hate impressions file.

* ``kuairand-features`` reads ``video_features_basic_pure.csv``: ``author_id`` → creator,
  ``music_id`` → sound, each of the 47 ``tag`` ids → a topic "Tag N" (a video's topic is its
  rarest tag, the others become hashtags), ``video_duration`` (ms) → seconds, ``upload_dt`` →
  publication date. It has no log: the world has no imported viewers.
* ``kuairand-log`` reads ``likes_hates_kcore15.tsv`` (tab-separated): each row an impression of
  ``video_id`` by ``user_id`` at ``time_ms`` with ``play_time_ms`` watched, ``label`` 1 (like)
  or 0 (hate = not interested), and ``is_follow``, ``is_comment``, ``is_forward``. Videos are ids
  only: durations are the median of their non-zero ``duration_ms`` and topics come from
  co-occurrence clusters (see :mod:`seed.importers.assemble`).
"""

from __future__ import annotations

import calendar
import time
from pathlib import Path

import numpy as np

from seed.importers.source import Catalogue, Log, empty_log
from seed.importers.table import ImportFileError, Table, read_table

FEATURES_FILE = "video_features_basic_pure.csv"
FEATURE_COLUMNS = ("video_id", "author_id", "video_duration", "music_id", "tag", "upload_dt")
LOG_COLUMNS = ("user_id", "video_id", "time_ms", "play_time_ms", "duration_ms", "label")


def read_features(path: Path) -> tuple[Catalogue, Log]:
    """Read KuaiRand's video features (a folder holding the file, or the file itself).

    Raises:
        ImportFileError: the file is missing or bad.
    """
    file = path / FEATURES_FILE if path.is_dir() else path
    table = read_table(file, FEATURE_COLUMNS)
    keys = table.unique_ids("video_id")
    topics = []
    for row, text in enumerate(table.text("tag")):
        ids = [t.strip() for t in text.split(",") if t.strip()]
        if any(not t.isdigit() for t in ids):
            raise table.fail(row, f"tag {text!r} is not a list of tag ids")
        topics.append([f"Tag {t}" for t in ids])
    published = np.array(
        [_day(table, row, text) for row, text in enumerate(table.text("upload_dt"))]
    )
    catalogue = Catalogue(
        name="kuairand-features",
        key=keys,
        topics=topics,
        tags=[[] for _ in keys],
        creator=[str(int(float(a))) for a in table.text("author_id")],
        sound=[m.split(".")[0] or "none" for m in table.text("music_id")],
        duration_s=table.numbers("video_duration", blank=np.nan) / 1000.0,
        published_unix=published,
        language="zh",
        country="CN",
    )
    return catalogue, empty_log()


def _day(table: Table, row: int, text: str) -> float:
    if not text.strip():
        return float("nan")
    try:
        # Noon UTC of the day: the same world on every machine, whatever its time zone.
        return calendar.timegm(time.strptime(text.strip(), "%Y-%m-%d")) + 12 * 3600.0
    except ValueError:
        raise table.fail(row, f"upload_dt {text!r} is not a YYYY-MM-DD date") from None


def _median_per_item(item: np.ndarray, seconds: np.ndarray, count: int) -> np.ndarray:
    """Each item's median of its positive values (NaN for none): the file repeats a video's
    duration on every row and writes 0 where it was not logged."""
    known = seconds > 0
    order = np.lexsort((seconds[known], item[known]))
    items, values = item[known][order], seconds[known][order]
    starts = np.searchsorted(items, np.arange(count))
    ends = np.searchsorted(items, np.arange(count), side="right")
    median = np.full(count, np.nan)
    has = ends > starts
    low, high = (starts + ends - 1) // 2, (starts + ends) // 2
    median[has] = (values[low[has]] + values[high[has]]) / 2.0
    return median


def read_like_hate(path: Path) -> tuple[Catalogue, Log]:
    """Read the KuaiRand-27K like/hate file (tab-separated).

    Raises:
        ImportFileError: the file is missing or bad.
    """
    if path.is_dir():
        raise ImportFileError(f"{path}: a folder; give the .tsv file itself")
    table = read_table(path, LOG_COLUMNS, delimiter="\t")
    videos = table.integers("video_id")
    keys, item = np.unique(videos, return_inverse=True)
    users = table.integers("user_id")
    user_keys, user = np.unique(users, return_inverse=True)
    label = table.numbers("label")
    bad = np.flatnonzero((label != 0) & (label != 1))
    if bad.size:
        raise table.fail(int(bad[0]), f"label {label[bad[0]]:g} is not 0 or 1")
    reported = table.numbers("duration_ms") / 1000.0
    duration = _median_per_item(item, reported, keys.size)

    def flag(column: str) -> np.ndarray | None:
        return table.numbers(column) > 0 if table.has(column) else None

    catalogue = Catalogue(
        name="kuairand-log",
        key=keys.astype(np.int64),
        topics=[[] for _ in keys],
        tags=[[] for _ in keys],
        duration_s=duration,
        language="zh",
        country="CN",
    )
    log = Log(
        user_key=[str(k) for k in user_keys.tolist()],
        user=user.astype(np.int64),
        item=item.astype(np.int64),
        unix=table.numbers("time_ms") / 1000.0,
        label=label,
        watched_s=table.numbers("play_time_ms") / 1000.0,
        follow=flag("is_follow"),
        comment=flag("is_comment"),
        share=flag("is_forward"),
    )
    return catalogue, log
