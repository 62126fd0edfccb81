"""Writing a world to a new file and loading it back as contiguous arrays.

Rows are the record (readable in ``sqlite3`` and Datasette); the columns the engine scores on are
also stored column-wise in ``world_arrays`` chunks, so loading a 1M-video world is a few large
BLOB reads instead of a million row fetches. Each chunk carries a CRC32 checked on load.
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import hashlib
import json
import os
import sqlite3
import tempfile
import time
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlite_utils import Database

from engine.store.files import (
    APPLICATION_ID,
    DamagedFileError,
    check_target,
    retiring,
    upgrade,
)
from engine.store.imported import ImportedHistory, write_history
from engine.world import (
    MADE_UP_DURATIONS,
    NO_ID,
    Creators,
    Hashtags,
    Sounds,
    Topics,
    Videos,
    VideoStats,
    World,
)

ARRAY_PART_BYTES = 16 * 1024 * 1024
CREATION_GRACE_S = 1.0  # a builder locks its new temporary file well within this
BUILD_CACHE_KIB = 256 * 1024
_BULK_TABLES = ("videos", "video_hashtags", "video_stats", "creators", "hashtags", "sounds")
Progress = Callable[[str, float], None]


# -- writing a world ------------------------------------------------------------------------


def write_world(
    path: str | Path,
    world: World,
    *,
    force: bool = False,
    progress: Progress | None = None,
    history: ImportedHistory | None = None,
    meta: Mapping[str, str] | None = None,
    finish: Callable[[Path], None] | None = None,
) -> Path:
    """Write ``world`` to ``path`` atomically: built in a temporary file, renamed at the end.

    An interrupted build (Ctrl+C, a crash) leaves no file that looks like a world, and
    ``--force`` keeps the old world intact until the new one is complete. The temporary file
    has a unique name and is locked while its builder lives, so a build that was killed outright
    (``kill -9``, a power cut) leaves a file that the next build beside it removes. The new
    file and its directory are flushed to disk before and after the rename.

    ``history`` (an imported log's viewers and held-out rows, :mod:`engine.store.imported`)
    and extra ``meta`` facts (where an imported world came from, which fields are synthetic)
    are written in the same build. ``finish`` is called with the complete temporary file before
    the rename: what it writes there (a study bundle's rows) appears with the world or not at all.

    Raises:
        NotAWorldError: ``path`` exists and is not a foryou world (it is never touched).
        WorldExistsError: ``path`` is a foryou world and ``force`` is false.
        WorldInUseError: another connection has the world at ``path`` open, before or after
            the build (the old file is kept as it is, the new one removed).
        StoreError: the directory is not writable.
    """
    path = Path(path)
    check_target(path, force=force)
    remove_stale_builds(path)
    fd, name = tempfile.mkstemp(prefix=_temp_prefix(path), dir=path.parent)
    tmp = Path(name)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # held until this process ends: "a builder is alive"
        os.fchmod(fd, 0o666 & ~_umask())  # what a plain sqlite3 file would get, not 0600
        _build(tmp, world, progress or (lambda stage, done: None), history, meta or {})
        if finish is not None:
            finish(tmp)
        os.fsync(fd)
        with retiring(path):  # a feed opened during the build is refused here, not lost
            os.replace(tmp, path)
        _fsync_directory(path.parent)
    finally:
        _remove_build_files(tmp)
        os.close(fd)
    return path


def _temp_prefix(path: Path) -> str:
    return f".{path.name}.tmp-"


def remove_stale_builds(path: Path) -> list[Path]:
    """Delete the temporary files of builds of ``path`` whose builder died (no one holds their
    lock); a build still running beside this one keeps its file. Returns what was removed."""
    removed = []
    for tmp in path.parent.glob(f"{glob.escape(_temp_prefix(path))}*"):
        if tmp.name.endswith(("-journal", "-wal", "-shm")):
            continue
        _wait_past_creation(tmp)
        try:
            fd = os.open(tmp, os.O_RDONLY)
        except OSError:  # gone meanwhile, or not ours to read
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue  # a live builder holds it
        finally:
            os.close(fd)
        _remove_build_files(tmp)
        removed.append(tmp)
    return removed


def _wait_past_creation(tmp: Path) -> None:
    """A builder locks its file just after creating it, before writing anything: an empty file
    from the last second may be in that instant, so wait until it is a second old (a live
    builder has locked it by then; a killed one never will) before asking whether it is held."""
    try:
        stat = tmp.stat()
    except FileNotFoundError:
        return
    age = time.time() - stat.st_mtime
    if stat.st_size == 0 and 0 <= age < CREATION_GRACE_S:
        time.sleep(CREATION_GRACE_S - age)


def _remove_build_files(tmp: Path) -> None:
    for leftover in (tmp, Path(f"{tmp}-journal"), Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
        with contextlib.suppress(FileNotFoundError):
            leftover.unlink()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync_directory(folder: Path) -> None:
    """Make the rename itself durable (a crash after it must not bring the old file back)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _build(
    tmp: Path,
    world: World,
    progress: Progress,
    history: ImportedHistory | None,
    meta: Mapping[str, str],
) -> None:
    db = Database(sqlite3.connect(str(tmp)), execute_plugins=False)
    try:
        # The file is private until renamed, so durability mid-build buys nothing.
        db.execute("PRAGMA journal_mode = OFF")
        db.execute("PRAGMA synchronous = OFF")
        # A 1M-video world's indexes do not fit SQLite's default 2 MB page cache: every row
        # would evict and re-read index pages.
        db.execute(f"PRAGMA cache_size = -{BUILD_CACHE_KIB}")
        db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        upgrade(db)
        with db.atomic():
            indexes = _drop_indexes(db, _BULK_TABLES)
            _write_meta(db, world, meta)
            _write_catalog(db, world)
            progress("writing videos", 0.0)
            _write_videos(db, world, progress)
            if history is not None:
                write_history(db, history, created_at=world.epoch_unix)
            progress("writing arrays", 0.9)
            write_arrays(db, world_arrays(world))
            progress("indexing", 0.95)
            for sql in indexes:
                db.execute(sql)
        db.execute("PRAGMA journal_mode = WAL")
        progress("done", 1.0)
    finally:
        db.close()


def _drop_indexes(db: Database, tables: Sequence[str]) -> list[str]:
    """Drop the migrations' secondary indexes on ``tables`` and return the SQL that recreates
    them: an index built once over sorted rows costs a fraction of one kept up to date through
    a million random-order inserts."""
    marks = ", ".join("?" * len(tables))
    rows = db.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
        f"AND tbl_name IN ({marks})",
        list(tables),
    ).fetchall()
    for name, _ in rows:
        db.execute(f"DROP INDEX [{name}]")
    return [sql for _, sql in rows]


def _bulk(db: Database, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    # Millions of seed rows: executemany over tuples on sqlite-utils' connection is several
    # times faster than insert_all's per-row dicts; the schema itself comes from migrations.
    cols = ", ".join(columns)
    marks = ", ".join("?" * len(columns))
    db.conn.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", rows)


def _ids_or_null(ids: npt.NDArray[Any]) -> list[int | None]:
    return [None if i == NO_ID else i for i in ids.tolist()]


def _write_meta(db: Database, world: World, extra: Mapping[str, str]) -> None:
    meta = {
        "format": "foryou world",
        "world_seed": str(world.seed),
        "epoch_unix": repr(world.epoch_unix),
        "built_at": repr(time.time()),
        "languages": json.dumps(world.languages),
        "countries": json.dumps(world.countries),
        "videos": str(len(world.videos)),
        "creators": str(len(world.creators)),
        **extra,
    }
    _bulk(db, "foryou_meta", ("key", "value"), meta.items())


def _write_catalog(db: Database, world: World) -> None:
    t, h, s, c = world.topics, world.hashtags, world.sounds, world.creators
    _bulk(
        db,
        "topics",
        ("id", "name", "slug", "popularity", "related", "motif"),
        zip(
            range(len(t)),
            t.name,
            t.slug,
            t.popularity.tolist(),
            [json.dumps(r) for r in t.related],
            t.motif,
            strict=True,
        ),
    )
    home = [[x for x in row if x != NO_ID] for row in c.home_topics.tolist()]
    _bulk(
        db,
        "creators",
        (
            "id",
            "handle",
            "display_name",
            "locale",
            "country",
            "language",
            "home_topics",
            "joined_at",
            "cadence_per_week",
            "is_new",
        ),
        zip(
            range(len(c)),
            c.handle,
            c.display_name,
            c.locale,
            [world.countries[i] for i in c.country.tolist()],
            [world.languages[i] for i in c.language.tolist()],
            [json.dumps(x) for x in home],
            c.joined_at.tolist(),
            c.cadence_per_week.tolist(),
            c.is_new.astype(int).tolist(),
            strict=True,
        ),
    )
    _bulk(
        db,
        "hashtags",
        ("id", "tag", "topic_id", "kind", "trending"),
        zip(
            range(len(h)),
            h.tag,
            _ids_or_null(h.topic_id),
            h.kind,
            h.trending.astype(int).tolist(),
            strict=True,
        ),
    )
    _bulk(
        db,
        "sounds",
        ("id", "title", "artist", "bpm", "is_original", "creator_id", "topic_id", "trending"),
        zip(
            range(len(s)),
            s.title,
            s.artist,
            s.bpm.tolist(),
            s.is_original.astype(int).tolist(),
            _ids_or_null(s.creator_id),
            _ids_or_null(s.topic_id),
            s.trending.astype(int).tolist(),
            strict=True,
        ),
    )


def _write_videos(db: Database, world: World, progress: Progress) -> None:
    n = len(world.videos)
    if world.captions is None:
        raise ValueError("a world must carry its captions to be written")
    chunk = 100_000
    for start in range(0, n, chunk):
        stop = min(n, start + chunk)
        _write_video_rows(db, world, start, stop)
        progress("writing videos", 0.9 * stop / n)
    stats = world.stats
    _bulk(
        db,
        "video_stats",
        ("video_id", *VideoStats.FIELDS),
        zip(range(n), *(getattr(stats, f).tolist() for f in VideoStats.FIELDS), strict=True),
    )


def _write_video_rows(db: Database, world: World, start: int, stop: int) -> None:
    v = world.videos
    sl = slice(start, stop)
    assert world.captions is not None
    motifs = world.topics.motif
    _bulk(
        db,
        "videos",
        (
            "id",
            "creator_id",
            "topic_id",
            "sound_id",
            "caption",
            "duration_s",
            "language",
            "country",
            "published_at",
            "quality",
            "spam",
            "sensitive",
            "duplicate_of",
            "motif",
            "palette",
            "motion",
            "visual_seed",
        ),
        zip(
            range(start, stop),
            v.creator_id[sl].tolist(),
            v.topic_id[sl].tolist(),
            v.sound_id[sl].tolist(),
            world.captions[sl],
            v.duration_s[sl].astype(np.float64).round(2).tolist(),
            [world.languages[i] for i in v.language[sl].tolist()],
            [world.countries[i] for i in v.country[sl].tolist()],
            v.published_at[sl].tolist(),
            v.quality[sl].astype(np.float64).round(4).tolist(),
            v.spam[sl].astype(int).tolist(),
            v.sensitive[sl].astype(int).tolist(),
            _ids_or_null(v.duplicate_of[sl]),
            [motifs[t] for t in v.topic_id[sl].tolist()],
            v.palette[sl].tolist(),
            v.motion[sl].astype(np.float64).round(3).tolist(),
            v.visual_seed[sl].tolist(),
            strict=True,
        ),
    )
    tags = v.hashtags[sl]
    rows, positions = np.nonzero(tags != NO_ID)
    _bulk(
        db,
        "video_hashtags",
        ("video_id", "position", "hashtag_id"),
        zip(
            (rows + start).tolist(),
            positions.tolist(),
            tags[rows, positions].tolist(),
            strict=True,
        ),
    )


# -- the world as arrays --------------------------------------------------------------------

_ARRAY_GROUPS: dict[str, type] = {
    "topics": Topics,
    "hashtags": Hashtags,
    "sounds": Sounds,
    "creators": Creators,
    "videos": Videos,
    "stats": VideoStats,
}


def world_arrays(world: World) -> dict[str, npt.NDArray[Any]]:
    """Every numpy column of the world, keyed "group.field"."""
    arrays: dict[str, npt.NDArray[Any]] = {}
    for group in _ARRAY_GROUPS:
        obj = getattr(world, group)
        for f in fields(obj):
            value = getattr(obj, f.name)
            if isinstance(value, np.ndarray):
                arrays[f"{group}.{f.name}"] = value
    return arrays


def write_arrays(db: Database, arrays: dict[str, npt.NDArray[Any]]) -> None:
    rows = []
    for name, array in arrays.items():
        flat = np.ascontiguousarray(array)
        raw = flat.tobytes()
        row_bytes = max(1, flat.itemsize * int(np.prod(flat.shape[1:], dtype=np.int64)))
        rows_per_part = max(1, ARRAY_PART_BYTES // row_bytes)
        step = rows_per_part * row_bytes
        for part, offset in enumerate(range(0, max(len(raw), 1), step)):
            data = raw[offset : offset + step]
            rows.append(
                (name, part, flat.dtype.str, json.dumps(flat.shape), zlib.crc32(data), data)
            )
    _bulk(db, "world_arrays", ("name", "part", "dtype", "shape", "crc32", "data"), rows)


def read_arrays(db: Database) -> dict[str, npt.NDArray[Any]]:
    """Read every stored array, checking each chunk's CRC32.

    Raises:
        DamagedFileError: a chunk does not match its checksum (the file was damaged).
    """
    parts: dict[str, list[bytes]] = {}
    layout: dict[str, tuple[str, tuple[int, ...]]] = {}
    cursor = db.execute(
        "SELECT name, dtype, shape, crc32, data FROM world_arrays ORDER BY name, part"
    )
    # Closed even on a refusal: an open statement keeps the connection (and its -wal and -shm
    # files) alive after the store is closed.
    with contextlib.closing(cursor):
        for name, dtype, shape, crc, data in cursor:
            if zlib.crc32(data) != crc:
                raise DamagedFileError(f"world array {name!r} failed its checksum")
            parts.setdefault(name, []).append(data)
            layout[name] = (dtype, tuple(json.loads(shape)))
    arrays = {}
    for name, chunks in parts.items():
        dtype, shape = layout[name]
        buffer = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        arrays[name] = np.frombuffer(buffer, dtype=np.dtype(dtype)).reshape(shape)
    return arrays


def _strings(db: Database, sql: str) -> list[str]:
    return [row[0] for row in db.execute(sql)]


def load_world(db: Database, *, captions: bool = False) -> World:
    """Assemble a :class:`World` from the arrays plus the (small) text columns."""
    arrays = read_arrays(db)
    meta = {row[0]: row[1] for row in db.execute("SELECT key, value FROM foryou_meta")}

    def group(prefix: str, cls: type, **text: object) -> Any:
        values = {f.name: arrays[f"{prefix}.{f.name}"] for f in fields(cls) if f.name not in text}
        return cls(**values, **text)

    topics = group(
        "topics",
        Topics,
        name=_strings(db, "SELECT name FROM topics ORDER BY id"),
        slug=_strings(db, "SELECT slug FROM topics ORDER BY id"),
        related=[json.loads(r) for r in _strings(db, "SELECT related FROM topics ORDER BY id")],
        motif=_strings(db, "SELECT motif FROM topics ORDER BY id"),
    )
    hashtags = group(
        "hashtags",
        Hashtags,
        tag=_strings(db, "SELECT tag FROM hashtags ORDER BY id"),
        kind=_strings(db, "SELECT kind FROM hashtags ORDER BY id"),
    )
    sounds = group(
        "sounds",
        Sounds,
        title=_strings(db, "SELECT title FROM sounds ORDER BY id"),
        artist=_strings(db, "SELECT artist FROM sounds ORDER BY id"),
    )
    creators = group(
        "creators",
        Creators,
        handle=_strings(db, "SELECT handle FROM creators ORDER BY id"),
        display_name=_strings(db, "SELECT display_name FROM creators ORDER BY id"),
        locale=_strings(db, "SELECT locale FROM creators ORDER BY id"),
    )
    return World(
        seed=int(meta["world_seed"]),
        epoch_unix=float(meta["epoch_unix"]),
        languages=json.loads(meta["languages"]),
        countries=json.loads(meta["countries"]),
        topics=topics,
        hashtags=hashtags,
        sounds=sounds,
        creators=creators,
        videos=group("videos", Videos),
        stats=group("stats", VideoStats),
        captions=_strings(db, "SELECT caption FROM videos ORDER BY id") if captions else None,
        durations_made_up=MADE_UP_DURATIONS in json.loads(meta.get("synthetic_fields", "[]")),
    )


# -- describing a world ---------------------------------------------------------------------

WORLD_TABLES = (
    "topics",
    "hashtags",
    "sounds",
    "creators",
    "videos",
    "video_hashtags",
    "video_stats",
    "world_arrays",
)
_VOLATILE_META = ("built_at", "epoch_unix")


def content_hash(db: Database) -> str:
    """SHA-256 over every world table's rows in primary-key order (build time excluded)."""
    digest = hashlib.sha256()
    meta = db.execute(
        "SELECT key, value FROM foryou_meta WHERE key NOT IN (?, ?) ORDER BY key", _VOLATILE_META
    )
    digest.update(repr(meta.fetchall()).encode())
    for table in WORLD_TABLES:
        pks = ", ".join(db.table(table).pks)
        for row in db.execute(f"SELECT * FROM {table} ORDER BY {pks}"):
            digest.update(repr(row).encode())
    return digest.hexdigest()
