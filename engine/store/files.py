"""Opening foryou files safely: what a file is, which schema it has, and upgrading it.

A foryou file is marked by ``PRAGMA application_id`` and carries its schema version in
``PRAGMA user_version``, so a foreign SQLite file is never touched and a file written by newer
code is refused instead of misread. A damaged file (flipped bytes, a truncated copy) is refused
before anything reads or writes it, and a file this process may not write is opened read-only,
so that the commands that only read it still work.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.request import pathname2url

from sqlite_utils import Database

from engine.store import held, holders
from engine.store.schema import APPLICATION_ID, known_migrations, migrations

__all__ = [
    "APPLICATION_ID",
    "BUSY_TIMEOUT_S",
    "DamagedFileError",
    "IntactCheck",
    "NewerSchemaError",
    "NotAWorldError",
    "ReadOnlyError",
    "RecordingRefusedError",
    "StoreError",
    "WorldExistsError",
    "WorldInUseError",
    "check_target",
    "connect",
    "damage_message",
    "is_damage",
    "open_database",
    "refuse_if_open",
    "require_writable",
    "retiring",
    "upgrade",
    "writable",
]

BUSY_TIMEOUT_S = 30.0
# SQLite copies the write-ahead log into the file every 1,000 pages by default: every ~67
# logged viewings, ~7 ms inside whichever record() crossed the line (record()'s p99 was that
# copy). Ten times the pages makes it rare on the pick path; a session's end copies what
# accumulated (Store.end_session), and the last connection to close empties the log.
WAL_CHECKPOINT_PAGES = 10_000

# SQLite's own error, named here so that callers catching it (a damaged or read-only file met
# mid-command) need not import sqlite3 themselves: only this package touches SQLite.
DatabaseError = sqlite3.DatabaseError


class StoreError(Exception):
    """A database file that foryou cannot or must not use. The message is one line for the user."""


class NotAWorldError(StoreError):
    pass


class NewerSchemaError(StoreError):
    pass


class WorldExistsError(StoreError):
    pass


class WorldInUseError(StoreError):
    pass


class DamagedFileError(StoreError):
    pass


class ReadOnlyError(StoreError):
    pass


class RecordingRefusedError(ReadOnlyError):
    """A logging engine on a file this process may not write was asked to record.

    Attributes:
        path: the file (the command line names it in its own words).
    """

    def __init__(self, path: Path) -> None:
        super().__init__(
            f"{path} is read-only: this Engine reads it but cannot record; "
            "Engine.open(..., log=False) keeps new activity in memory"
        )
        self.path = path


_SQLITE_MAGIC = b"SQLite format 3\x00"
# What SQLite says when a file's bytes are not what its own structure promises.
_DAMAGE = ("malformed", "file is not a database", "database corrupt")


def is_damage(error: sqlite3.DatabaseError) -> bool:
    """Whether SQLite's error means the file itself is damaged (not locked, not read-only)."""
    return any(marker in str(error) for marker in _DAMAGE)


def damage_message(path: Path | str, reason: str) -> str:
    return (
        f"{path} is damaged ({reason}); foryou neither reads nor writes it: restore a copy "
        "or build a new world"
    )


def writable(path: Path) -> bool:
    """Whether this process may change the file: the file itself and, for SQLite's journal and
    WAL files beside it, its folder."""
    return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)


def require_writable(path: Path) -> None:
    """Refuse up front, before any work, what would fail at the first write.

    Raises:
        ReadOnlyError: the file or its folder may not be written.
    """
    if not writable(path):
        where = path if not os.access(path, os.W_OK) else f"{path} (its folder)"
        raise ReadOnlyError(f"{where} is read-only and this command writes to it")


def connect(path: str | Path, *, read_only: bool = False) -> Database:
    """Open a connection with the settings every foryou connection needs.

    A busy timeout lets a simulation, a viewer and a second lab station share one file
    without "database is locked" errors; WAL lets readers run beside one writer. A read-only
    connection cannot write even by mistake (see :func:`_read_only_uri`).
    """
    path = Path(path)
    if read_only:
        with held.lock:
            conn = held.open_connection(
                _read_only_uri(path), path, uri=True, timeout=BUSY_TIMEOUT_S
            )
    else:
        conn = held.open_connection(str(path), path, timeout=BUSY_TIMEOUT_S)
    db = Database(conn, execute_plugins=False)
    db.execute("PRAGMA foreign_keys = ON")
    db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
    return db


def _read_only_uri(path: Path) -> str:
    uri = f"file:{pathname2url(str(path.absolute()))}?mode=ro"
    if not Path(f"{path}-wal").exists() and not held.held(path):
        # No writer has the file open (a writer keeps a -wal file), so reading it as immutable
        # is safe, and it is what lets SQLite read a WAL file without creating the -shm index
        # (impossible in a read-only folder, litter in a writable one). Not beside another
        # connection of this process: an immutable one would drop its locks (see held.py).
        uri += "&immutable=1"
    return uri


def inspect_file(path: Path) -> str:
    """Classify a path: 'missing', 'foryou', 'empty' (a fresh SQLite file), 'damaged' (a
    foryou file cut short, or an SQLite header cut short) or 'foreign'.

    It reads the 100-byte SQLite header itself instead of connecting: a connection to a file in
    WAL mode may leave ``-wal`` and ``-shm`` files behind, and this runs before anything is
    known about the file. A file this process already has a connection to is asked through
    SQLite instead: closing our own descriptor of it would drop that connection's locks.
    """
    if not path.exists():
        return "missing"
    if path.is_dir():
        return "foreign"
    with held.lock:
        try:
            size = path.stat().st_size
            if size > 0 and held.held(path):
                return _inspect_held(path)
            with path.open("rb") as file:
                header = file.read(100)
        except OSError:
            return "foreign"
    if size == 0:
        return "empty"
    if not header.startswith(_SQLITE_MAGIC):
        return "foreign"
    if len(header) < 100:
        return "damaged"
    if int.from_bytes(header[68:72], "big") != APPLICATION_ID:
        return "foreign"
    return "damaged" if _cut_short(path, header, size) else "foryou"


def _inspect_held(path: Path) -> str:
    """:func:`inspect_file` for a file this process has open: SQLite already reads it, so only
    its mark is in question."""
    uri = f"file:{pathname2url(str(path.absolute()))}?mode=ro"
    conn = held.open_connection(uri, path, uri=True, timeout=BUSY_TIMEOUT_S)
    try:
        mark = conn.execute("PRAGMA application_id").fetchone()[0]
    except sqlite3.DatabaseError:
        return "foreign"
    finally:
        conn.close()
    return "foryou" if mark == APPLICATION_ID else "foreign"


def _cut_short(path: Path, header: bytes, size: int) -> bool:
    """Whether the file is shorter than its own header says (a truncated copy or download).

    The header's page count is only trusted when SQLite marks it valid, and not while a ``-wal``
    file exists: a writer's checkpoint may be growing the file at this moment.
    """
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    valid = header[24:28] == header[92:96]
    if not valid or Path(f"{path}-wal").exists():
        return False
    return pages * page_size > size


def check_intact(db: Database, path: Path) -> None:
    """Refuse a file whose pages do not hold together (``PRAGMA quick_check``: every b-tree page
    read once, ~0.1 s per 100k videos), so no command reads garbage or writes into it.

    Raises:
        DamagedFileError: the check found a problem, or SQLite could not even read the pages.
    """
    problem = _quick_check_problem(db)
    if problem is not None:
        raise DamagedFileError(damage_message(path, problem))


def _quick_check_problem(db: Database) -> str | None:
    try:
        problems = [row[0] for row in db.execute("PRAGMA quick_check(1)").fetchall()]
    except sqlite3.DatabaseError as exc:
        if not is_damage(exc):
            raise
        problems = [str(exc)]
    if problems == ["ok"]:
        return None
    # SQLite heads a report with "*** in database main ***": the line after it says what.
    report = str(problems[0])
    lines = [line for line in report.splitlines() if not line.startswith("*** in database")]
    return lines[0] if lines else report.strip()


class IntactCheck:
    """:func:`check_intact` on a connection of its own, in a thread, while the caller loads.

    SQLite runs the check without holding Python's lock, so on a 100k-video world its ~0.1 to
    0.3 s overlap with loading the arrays and starting the app instead of adding to them. The
    caller must :meth:`wait` before its first write, and before reporting any other error (on a
    damaged file, what the check found is the error worth showing). WAL gives the checking
    connection a consistent snapshot while the other one reads.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._problem: str | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="foryou-quick-check", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            db = connect(self.path)
            try:
                self._problem = _quick_check_problem(db)
            finally:
                db.close()
        except BaseException as exc:  # handed to the waiting thread
            self._error = exc

    def join(self) -> None:
        """Block until the check is done, without raising what it found."""
        self._thread.join()

    def wait(self) -> None:
        """Block until the check is done; safe to call more than once.

        Raises:
            DamagedFileError: the check found a problem.
        """
        self._thread.join()
        if self._error is not None:
            error = self._error
            if isinstance(error, sqlite3.DatabaseError) and is_damage(error):
                raise DamagedFileError(damage_message(self.path, str(error))) from None
            raise error
        if self._problem is not None:
            raise DamagedFileError(damage_message(self.path, self._problem))


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
    if kind == "damaged":
        raise DamagedFileError(
            damage_message(path, "cut short") + "; refusing to overwrite it (move it away first)"
        )
    if kind in ("foreign", "empty"):
        raise NotAWorldError(f"{path} exists and is not a foryou world; refusing to overwrite it")
    if kind == "foryou" and not force:
        raise WorldExistsError(f"{path} is already a foryou world; pass --force to rebuild it")
    if not path.parent.is_dir():
        raise StoreError(f"cannot write {path}: directory {path.parent} does not exist")
    if not os.access(path.parent, os.W_OK):
        raise ReadOnlyError(f"cannot write {path}: directory {path.parent} is not writable")
    if kind == "foryou":
        if not os.access(path, os.W_OK):
            raise ReadOnlyError(f"{path} is read-only; refusing to replace it")
        _check_replaceable(path)


def _check_replaceable(path: Path) -> None:
    """--force rebuilds a world, but never silently destroys what it cannot know or must keep:
    a damaged file, a file from a newer foryou, a study's participants (research data), or a
    file another process has open."""
    db = connect(path)
    try:
        check_intact(db, path)
        check_version(db, path)
        if db["participants"].exists() and (n := db["participants"].count):
            raise WorldExistsError(
                f"{path} holds a study with {n} participant(s); refusing to replace it even "
                "with --force (export it, then delete the file yourself if you mean to)"
            )
    except DamagedFileError as exc:
        raise DamagedFileError(
            f"{exc.args[0]}; refusing to overwrite it (move it away first)"
        ) from None
    finally:
        db.conn.close()
    refuse_if_open(path)  # after closing ours, which would count as open


def refuse_if_open(path: Path, before: str = "--force") -> None:
    """Refuse before any work what :func:`retiring` would refuse after it (a feed left open).

    Args:
        path: the file; this process must not have it open.
        before: what the holder must be closed before, for the message ("--force", "merging").

    Raises:
        WorldInUseError: another connection has the file open, naming its process.
    """
    conn = _take_exclusive(path, before)
    if conn is not None:
        conn.close()  # the last connection: it folds the log into the file, as any last close does


@contextlib.contextmanager
def retiring(path: Path) -> Iterator[None]:
    """Hold the old world at ``path`` for the caller to rename a new file over it.

    No other connection may have it open (its writes would go into the replaced file), and none
    of its sidecar files may stay: SQLite would apply an old ``-wal`` to the new file and
    find it damaged. Both hold until the rename, because the exclusive lock is held across it.

    Raises:
        WorldInUseError: another connection has the file open; nothing was changed.
    """
    conn = _take_exclusive(path)
    if conn is None:  # a new file, or removed meanwhile: nothing to retire
        yield
        return
    try:
        # Leaving WAL mode copies the log into the old file and deletes it. MEMORY rather than
        # DELETE: a -journal would stay beside the new file until this connection closes.
        mode = conn.execute("PRAGMA journal_mode = MEMORY").fetchone()[0]
        if mode != "memory":
            raise StoreError(f"cannot replace {path}: SQLite kept its journal mode {mode!r}")
        # Safe under the lock: every connection that maps the -shm index holds the file's lock.
        with contextlib.suppress(FileNotFoundError):
            Path(f"{path}-shm").unlink()
        yield
    finally:
        conn.close()


def _take_exclusive(path: Path, before: str = "--force") -> sqlite3.Connection | None:
    try:
        return holders.take(path)
    except sqlite3.OperationalError as exc:
        if not holders.is_busy(exc):
            raise
    raise WorldInUseError(in_use_message(path, before))


def in_use_message(path: Path, before: str = "--force") -> str:
    """``path is open in another process (pid N, `command`): close it before ...``."""
    pid = holders.database_holder(path)
    if pid == os.getpid():
        return f"{path} is open in this process: close it before replacing it"
    return f"{path} is open in {holder_words(pid)}: close it before {before}"


def holder_words(pid: int | None) -> str:
    """``another process (pid N, `command`)``, or ``another connection`` where the system does
    not say who."""
    if pid is None:
        return "another connection"
    command = holders.command_of(pid)
    return (
        f"another process (pid {pid}, `{command}`)" if command else f"another process (pid {pid})"
    )


def open_database(
    path: Path,
    *,
    check: bool = True,
    pending: IntactCheck | None = None,
    kind: str | None = None,
) -> Database:
    """Open an existing foryou file, upgrading an older schema in place. A file this process
    may not write is opened read-only (reads work; the first write raises
    ``sqlite3.OperationalError``, see :func:`writable`).

    Args:
        path: the file.
        check: run :func:`check_intact` (a process that opens a file already checked, like a
            simulation's shards, may skip it).
        pending: a check already running in the background (then ``check`` is not run
            again): an upgrade, the only write here, waits for it.
        kind: what :func:`inspect_file` already said of the file (it is not asked twice).

    Raises:
        NotAWorldError: the path is missing or is not a foryou database.
        DamagedFileError: the file is damaged.
        NewerSchemaError: the file was written by a newer version of foryou.
        ReadOnlyError: an older schema needs an upgrade but the file is read-only.
    """
    kind = kind or inspect_file(path)
    if kind == "missing":
        raise NotAWorldError(f"{path}: no such world (build it with `foryou seed --db {path}`)")
    if kind == "damaged":
        raise DamagedFileError(damage_message(path, "cut short"))
    if kind != "foryou":
        raise NotAWorldError(f"{path} is not a foryou world; refusing to touch it")
    read_only = not writable(path)
    db = connect(path, read_only=read_only)
    try:
        if check and pending is None:
            check_intact(db, path)
        check_version(db, path)
        if migrations.pending(db):
            if pending is not None:
                pending.wait()
            if read_only:
                raise ReadOnlyError(
                    f"{path} is read-only and needs an upgrade to this foryou's schema; "
                    "open it once where it can be written"
                )
            upgrade(db)
        if not read_only:
            db.execute("PRAGMA journal_mode = WAL")
            # In WAL mode NORMAL survives a killed process (not a power cut) without an fsync
            # per commit, which is what keeps record() under a millisecond.
            db.execute("PRAGMA synchronous = NORMAL")
            db.execute(f"PRAGMA wal_autocheckpoint = {WAL_CHECKPOINT_PAGES}")
    except sqlite3.DatabaseError as exc:
        db.close()
        if is_damage(exc):
            raise DamagedFileError(damage_message(path, str(exc))) from None
        raise
    except BaseException:
        db.close()
        raise
    return db
