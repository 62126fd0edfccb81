"""Opening foryou files safely: what a file is, which schema it has, and upgrading it.

A foryou file is marked by ``PRAGMA application_id`` and carries its schema version in
``PRAGMA user_version``, so a foreign SQLite file is never touched and a file written by newer
code is refused instead of misread.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from sqlite_utils import Database

from engine.store.schema import APPLICATION_ID, known_migrations, migrations

__all__ = [
    "APPLICATION_ID",
    "BUSY_TIMEOUT_S",
    "NewerSchemaError",
    "NotAWorldError",
    "StoreError",
    "WorldExistsError",
    "check_target",
    "connect",
    "open_database",
    "upgrade",
]

BUSY_TIMEOUT_S = 30.0


class StoreError(Exception):
    """A database file that foryou cannot or must not use. The message is one line for the user."""


class NotAWorldError(StoreError):
    pass


class NewerSchemaError(StoreError):
    pass


class WorldExistsError(StoreError):
    pass


def connect(path: str | Path) -> Database:
    """Open a connection with the settings every foryou connection needs.

    A busy timeout lets a simulation, a viewer and a second lab station share one file
    without "database is locked" errors; WAL lets readers run beside one writer.
    """
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_S)
    db = Database(conn, execute_plugins=False)
    db.execute("PRAGMA foreign_keys = ON")
    db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
    return db


def inspect_file(path: Path) -> str:
    """Classify a path: 'missing', 'foryou', 'empty' (a fresh SQLite file) or 'foreign'."""
    if not path.exists():
        return "missing"
    if path.is_dir():
        return "foreign"
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S)
        try:
            app_id = conn.execute("PRAGMA application_id").fetchone()[0]
            tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        return "foreign"
    if app_id == APPLICATION_ID:
        return "foryou"
    return "empty" if tables == 0 and path.stat().st_size == 0 else "foreign"


def check_version(db: Database, path: Path) -> None:
    """Refuse a file written by newer foryou code: we could corrupt what we do not understand."""
    known = known_migrations()
    version = db.execute("PRAGMA user_version").fetchone()[0]
    applied = [m.name for m in migrations.applied(db)]
    unknown = [name for name in applied if name not in known]
    if version > len(known) or unknown:
        raise NewerSchemaError(
            f"{path} was written by a newer foryou (schema version {version}, "
            f"this code knows {len(known)}); upgrade foryou to open it"
        )


def upgrade(db: Database) -> None:
    """Apply pending migrations and record the schema version in the file header."""
    migrations.apply(db)
    db.execute(f"PRAGMA user_version = {len(migrations.applied(db))}")


def check_target(path: Path, *, force: bool) -> None:
    """Refuse to write a world where it would destroy something (see :func:`write_world`)."""
    kind = inspect_file(path)
    if kind in ("foreign", "empty"):
        raise NotAWorldError(f"{path} exists and is not a foryou world; refusing to overwrite it")
    if kind == "foryou" and not force:
        raise WorldExistsError(f"{path} is already a foryou world; pass --force to rebuild it")
    if kind == "foryou":
        _check_replaceable(path)
    if not path.parent.is_dir():
        raise StoreError(f"cannot write {path}: directory {path.parent} does not exist")
    if not os.access(path.parent, os.W_OK):
        raise StoreError(f"cannot write {path}: directory {path.parent} is not writable")


def _check_replaceable(path: Path) -> None:
    """--force rebuilds a world, but never silently destroys what it cannot know or must keep:
    a file from a newer foryou, or a study's participants (research data)."""
    db = connect(path)
    try:
        check_version(db, path)
        if db["participants"].exists() and (n := db["participants"].count):
            raise WorldExistsError(
                f"{path} holds a study with {n} participant(s); refusing to replace it even "
                "with --force (export it, then delete the file yourself if you mean to)"
            )
    finally:
        db.conn.close()


def open_database(path: Path) -> Database:
    """Open an existing foryou file, upgrading an older schema in place.

    Raises:
        NotAWorldError: the path is missing or is not a foryou database.
        NewerSchemaError: the file was written by a newer version of foryou.
    """
    kind = inspect_file(path)
    if kind == "missing":
        raise NotAWorldError(f"{path}: no such world (build it with `foryou seed --db {path}`)")
    if kind != "foryou":
        raise NotAWorldError(f"{path} is not a foryou world; refusing to touch it")
    db = connect(path)
    try:
        check_version(db, path)
        if migrations.pending(db):
            upgrade(db)
        db.execute("PRAGMA journal_mode = WAL")
        # In WAL mode NORMAL survives a killed process (not a power cut) without an fsync per
        # commit, which is what keeps record() under a millisecond.
        db.execute("PRAGMA synchronous = NORMAL")
    except BaseException:
        db.close()
        raise
    return db
