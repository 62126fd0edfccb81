"""The world file: determinism, integrity, arrays, migrations and refusals."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
from pathlib import Path

import numpy as np
import pytest
from sqlite_utils import Database

from engine.codebook import TABLES
from engine.store import (
    NewerSchemaError,
    NotAWorldError,
    Store,
    StoreError,
    WorldExistsError,
    connect,
)
from engine.store.schema import APPLICATION_ID, known_migrations, migrations
from seed.build import build_world
from tests.conftest import EPOCH


def test_same_seed_same_content_other_seed_differs(world_template: Path, tmp_path: Path) -> None:
    again = build_world(tmp_path / "again.db", videos=3000, seed=7, epoch_unix=EPOCH + 99)
    other = build_world(tmp_path / "other.db", videos=3000, seed=8, epoch_unix=EPOCH)
    with Store.open(world_template) as a, Store.open(again) as b, Store.open(other) as c:
        assert a.content_hash() == b.content_hash()
        assert a.content_hash() != c.content_hash()


def test_file_is_consistent_and_marked(world_template: Path) -> None:
    conn = sqlite3.connect(world_template)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(known_migrations())
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    # Every video's hashtags exist and every duplicate points at an earlier upload.
    orphans = conn.execute(
        "SELECT count(*) FROM video_hashtags vh LEFT JOIN hashtags h ON h.id = vh.hashtag_id "
        "WHERE h.id IS NULL"
    ).fetchone()[0]
    assert orphans == 0
    bad_dupes = conn.execute(
        "SELECT count(*) FROM videos v JOIN videos o ON o.id = v.duplicate_of "
        "WHERE o.published_at > v.published_at"
    ).fetchone()[0]
    assert bad_dupes == 0


def test_a_built_world_has_every_index_of_the_schema(world_template: Path, tmp_path: Path) -> None:
    # The build drops the bulk tables' indexes and recreates them after the rows: a world
    # must come out with exactly the indexes an upgraded empty file has, or its queries crawl.
    def indexes(db: Database) -> set[tuple[str, str, str]]:
        query = "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index'"
        return {tuple(row) for row in db.execute(query).fetchall()}

    empty = Database(tmp_path / "empty.db")
    migrations.apply(empty)
    world = Database(world_template)
    assert indexes(world) == indexes(empty)
    assert ("idx_videos_topic_id", "videos") in {(n, t) for n, t, _ in indexes(world)}


def test_plain_sqlite3_shell_reads_it(world_template: Path) -> None:
    sqlite3_cli = shutil.which("sqlite3")
    assert sqlite3_cli, "the sqlite3 shell is part of the supported toolset"
    out = subprocess.run(
        [sqlite3_cli, str(world_template), "SELECT count(*) FROM videos;"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "3000"


def test_arrays_match_the_rows(world_template: Path) -> None:
    with Store.open(world_template) as store:
        world = store.load_world()
        rows = list(store.db.query("SELECT * FROM videos ORDER BY id"))
        tags = store.db.execute(
            "SELECT video_id, position, hashtag_id FROM video_hashtags"
        ).fetchall()
    assert world.videos.embedding.dtype == np.float32
    assert world.videos.embedding.flags["C_CONTIGUOUS"]
    assert world.videos.topic_id.tolist() == [r["topic_id"] for r in rows]
    assert world.videos.creator_id.tolist() == [r["creator_id"] for r in rows]
    np.testing.assert_allclose(world.videos.duration_s, [r["duration_s"] for r in rows], atol=0.01)
    for video_id, position, hashtag_id in tags:
        assert world.videos.hashtags[video_id, position] == hashtag_id
    languages = [world.languages[i] for i in world.videos.language.tolist()]
    assert languages == [r["language"] for r in rows]


def test_damaged_array_chunk_is_reported(world_path: Path) -> None:
    db = Database(world_path)
    db.execute(
        "UPDATE world_arrays SET data = zeroblob(length(data)) WHERE name = 'videos.quality'"
    )
    db.close()
    with Store.open(world_path) as store, pytest.raises(StoreError, match="damaged"):
        store.load_world()


def _old_schema_world(world_path: Path) -> None:
    """Turn a world back into one written by a release that only knew the first migration."""
    db = Database(world_path)
    with db.atomic():
        for table in (
            "heldout",
            "user_origins",
            "feed_runs",
            "answers",
            "participants",
            "conditions",
            "studies",
            "users",
            "configs",
            "sessions",
            "impressions",
            "events",
            "profile_snapshots",
            "video_stats_live",
            "video_pools",
            "boosts",
            "learned_models",
        ):
            db.execute(f"DROP TABLE {table}")
        db.execute("DELETE FROM _sqlite_migrations WHERE name != 'm001_world'")
    db.execute("PRAGMA user_version = 1")
    db.close()


def test_older_schema_is_upgraded_in_place(world_path: Path) -> None:
    _old_schema_world(world_path)
    with Store.open(world_path) as store:
        assert "impressions" in store.db.table_names()
        assert [m.name for m in migrations.applied(store.db)] == known_migrations()
        assert store.db.execute("PRAGMA user_version").fetchone()[0] == len(known_migrations())
        assert store.db.execute("SELECT count(*) FROM videos").fetchone()[0] == 3000


def test_newer_schema_is_refused_untouched(world_path: Path) -> None:
    db = Database(world_path)
    db.table("_sqlite_migrations").insert(
        {"migration_set": "foryou", "name": "m999_future", "applied_at": "2030"}
    )
    db.execute(f"PRAGMA user_version = {len(known_migrations()) + 1}")
    db.close()
    before = world_path.read_bytes()
    with pytest.raises(NewerSchemaError, match="newer foryou"):
        Store.open(world_path)
    assert world_path.read_bytes() == before


def test_foreign_files_are_refused(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    Database(other).table("notes").insert({"text": "mine"})
    text = tmp_path / "notes.txt"
    text.write_text("not a database at all")
    for path in (other, text):
        before = path.read_bytes()
        with pytest.raises(NotAWorldError, match="not a foryou world"):
            Store.open(path)
        with pytest.raises(NotAWorldError, match="not a foryou world"):
            build_world(path, videos=100, seed=1, force=True)
        assert path.read_bytes() == before
    with pytest.raises(NotAWorldError, match="no such world"):
        Store.open(tmp_path / "missing.db")


def test_force_never_replaces_participants_or_a_newer_file(
    world_path: Path, tmp_path: Path
) -> None:
    from engine.study import open_bundle
    from tests.studykit import make_bundle

    bundle = make_bundle(world_path, tmp_path)
    study = open_bundle(bundle)
    study.record_consent("P001", agreed=True)
    study.close()
    before = bundle.read_bytes()
    with pytest.raises(WorldExistsError, match="1 participant"):
        build_world(bundle, videos=100, seed=1, force=True)
    assert bundle.read_bytes() == before
    newer = tmp_path / "newer.db"
    shutil.copy(world_path, newer)
    with sqlite3.connect(newer) as conn:
        conn.execute("PRAGMA user_version = 99")
    before = newer.read_bytes()
    with pytest.raises(NewerSchemaError, match="newer foryou"):
        build_world(newer, videos=100, seed=1, force=True)
    assert newer.read_bytes() == before


def test_existing_world_needs_force(world_path: Path) -> None:
    with Store.open(world_path) as store:
        before = store.content_hash()
    with pytest.raises(WorldExistsError, match="--force"):
        build_world(world_path, videos=100, seed=1)
    with Store.open(world_path) as store:
        assert store.content_hash() == before
    build_world(world_path, videos=100, seed=1, force=True)
    with Store.open(world_path) as store:
        assert store.db.execute("SELECT count(*) FROM videos").fetchone()[0] == 100


def test_interrupted_build_leaves_nothing(tmp_path: Path) -> None:
    def interrupt(stage: str, done: float) -> None:
        if stage == "writing videos":
            raise KeyboardInterrupt

    target = tmp_path / "w.db"
    with pytest.raises(KeyboardInterrupt):
        build_world(target, videos=500, seed=1, progress=interrupt)
    assert list(tmp_path.iterdir()) == []


def test_interrupted_rebuild_keeps_the_old_world(world_path: Path) -> None:
    with Store.open(world_path) as store:
        before = store.content_hash()

    def interrupt(stage: str, done: float) -> None:
        if stage == "writing arrays":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        build_world(world_path, videos=500, seed=1, force=True, progress=interrupt)
    with Store.open(world_path) as store:
        assert store.content_hash() == before
    assert sorted(p.name for p in world_path.parent.iterdir() if "tmp" in p.name) == []


def test_every_column_is_described(world_template: Path) -> None:
    db = connect(world_template)
    for table in db.table_names():
        if table.startswith("_"):
            continue
        assert table in TABLES, f"table {table} has no description"
        described = TABLES[table][1]
        for column in db.table(table).columns_dict:
            assert column in described, f"{table}.{column} has no description"


def test_meta_records_seed_and_code_lists(world_template: Path) -> None:
    with Store.open(world_template) as store:
        meta = store.meta()
    assert meta["world_seed"] == "7"
    assert float(meta["epoch_unix"]) == EPOCH
    assert "en" in json.loads(meta["languages"])
