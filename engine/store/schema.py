"""The database schema, as an ordered set of ``sqlite_utils.Migrations``.

A foryou file is marked by ``PRAGMA application_id`` and carries its schema version in
``PRAGMA user_version`` (the number of migrations applied), so the plain ``sqlite3`` shell and
``file(1)`` can tell what it is, and the store can refuse a file written by newer code.
Append new migrations at the end; never edit one that has shipped.
"""

from __future__ import annotations

from sqlite_utils import Database, Migrations

APPLICATION_ID = 0x466F7259  # "ForY"

migrations = Migrations("foryou")


@migrations(name="m001_world")
def _world(db: Database) -> None:
    """The synthetic world: what exists, independent of anyone watching it."""
    db.table("foryou_meta").create({"key": str, "value": str}, pk="key")
    db.table("topics").create(
        {
            "id": int,
            "name": str,
            "slug": str,
            "popularity": float,
            "related": str,
            "motif": str,
        },
        pk="id",
        not_null={"name", "slug"},
    )
    db.table("topics").create_index(["slug"], unique=True)
    db.table("creators").create(
        {
            "id": int,
            "handle": str,
            "display_name": str,
            "locale": str,
            "country": str,
            "language": str,
            "home_topics": str,
            "joined_at": float,
            "cadence_per_week": float,
            "is_new": int,
        },
        pk="id",
        not_null={"handle"},
    )
    db.table("creators").create_index(["handle"], unique=True)
    db.table("hashtags").create(
        {"id": int, "tag": str, "topic_id": int, "kind": str, "trending": int},
        pk="id",
        foreign_keys=[("topic_id", "topics", "id")],
    )
    db.table("hashtags").create_index(["tag"], unique=True)
    db.table("sounds").create(
        {
            "id": int,
            "title": str,
            "artist": str,
            "bpm": int,
            "is_original": int,
            "creator_id": int,
            "topic_id": int,
            "trending": int,
        },
        pk="id",
        foreign_keys=[("creator_id", "creators", "id"), ("topic_id", "topics", "id")],
    )
    db.table("videos").create(
        {
            "id": int,
            "creator_id": int,
            "topic_id": int,
            "sound_id": int,
            "caption": str,
            "duration_s": float,
            "language": str,
            "country": str,
            "published_at": float,
            "quality": float,
            "spam": int,
            "sensitive": int,
            "duplicate_of": int,
            "motif": str,
            "palette": int,
            "motion": float,
            "visual_seed": int,
        },
        pk="id",
        foreign_keys=[
            ("creator_id", "creators", "id"),
            ("topic_id", "topics", "id"),
            ("sound_id", "sounds", "id"),
            ("duplicate_of", "videos", "id"),
        ],
    )
    db.table("videos").create_index(["creator_id"])
    db.table("videos").create_index(["topic_id"])
    db.table("video_hashtags").create(
        {"video_id": int, "position": int, "hashtag_id": int},
        pk=("video_id", "position"),
        foreign_keys=[("video_id", "videos", "id"), ("hashtag_id", "hashtags", "id")],
    )
    db.table("video_hashtags").create_index(["hashtag_id"])
    db.table("video_stats").create(
        {
            "video_id": int,
            "views": int,
            "completions": int,
            "likes": int,
            "shares": int,
            "comments": int,
            "saves": int,
            "follows": int,
        },
        pk="video_id",
        foreign_keys=[("video_id", "videos", "id")],
    )
    # The engine's scoring columns, column-wise in chunks, so a 1M-video world loads in one
    # pass instead of a million row fetches. Derived from the tables above at seed time.
    db.table("world_arrays").create(
        {"name": str, "part": int, "dtype": str, "shape": str, "crc32": int, "data": bytes},
        pk=("name", "part"),
    )


@migrations(name="m002_activity")
def _activity(db: Database) -> None:
    """Viewers and everything they do: the record researchers analyse."""
    db.table("users").create(
        {
            "id": int,
            "name": str,
            "created_at": float,
            "language": str,
            "country": str,
            "interests": str,
            "simulated": int,
            "settings": str,
        },
        pk="id",
        not_null={"name"},
        defaults={"simulated": 0, "settings": "{}", "interests": "[]"},
    )
    db.table("users").create_index(["name"], unique=True)
    db.table("configs").create(
        {"id": int, "name": str, "sha256": str, "toml": str, "created_at": float},
        pk="id",
    )
    db.table("configs").create_index(["sha256"], unique=True)
    db.table("sessions").create(
        {
            "id": int,
            "user_id": int,
            "config_id": int,
            "started_at": float,
            "ended_at": float,
            "simulated": int,
            "condition": str,
        },
        pk="id",
        foreign_keys=[("user_id", "users", "id"), ("config_id", "configs", "id")],
        defaults={"simulated": 0},
    )
    db.table("sessions").create_index(["user_id"])
    db.table("impressions").create(
        {
            "id": int,
            "user_id": int,
            "session_id": int,
            "video_id": int,
            "position": int,
            "served_at": float,
            "seen_start": float,
            "seen_end": float,
            "watched_s": float,
            "world_t": float,
            "source": str,
            "score": float,
            "rank": int,
            "propensity": float,
            "receipt": str,
        },
        pk="id",
        foreign_keys=[
            ("user_id", "users", "id"),
            ("session_id", "sessions", "id"),
            ("video_id", "videos", "id"),
        ],
    )
    db.table("impressions").create_index(["user_id", "video_id"])
    db.table("impressions").create_index(["session_id"])
    db.table("events").create(
        {
            "id": int,
            "user_id": int,
            "session_id": int,
            "impression_id": int,
            "video_id": int,
            "kind": str,
            "at": float,
            "world_t": float,
            "watched_s": float,
            "scope": str,
            "reason": str,
            "text": str,
        },
        pk="id",
        foreign_keys=[
            ("user_id", "users", "id"),
            ("session_id", "sessions", "id"),
            ("impression_id", "impressions", "id"),
            ("video_id", "videos", "id"),
        ],
        not_null={"kind"},
    )
    db.table("events").create_index(["user_id", "id"])
    db.table("events").create_index(["video_id"])
    db.table("events").create_index(["world_t"])
    db.table("profile_snapshots").create(
        {"id": int, "user_id": int, "session_id": int, "at": float, "profile": str},
        pk="id",
        foreign_keys=[("user_id", "users", "id"), ("session_id", "sessions", "id")],
    )
    db.table("profile_snapshots").create_index(["user_id"])
    # Engagement recorded live, on top of the background drawn at seed time (video_stats).
    db.table("video_stats_live").create(
        {
            "video_id": int,
            "views": int,
            "completions": int,
            "likes": int,
            "shares": int,
            "comments": int,
            "saves": int,
            "follows": int,
            "skips": int,
            "rewatches": int,
            "not_interested": int,
            "reports": int,
            "watched_s": float,
        },
        pk="video_id",
        foreign_keys=[("video_id", "videos", "id")],
    )
    db.table("video_pools").create(
        {
            "video_id": int,
            "pool": int,
            "state": str,
            "impressions": int,
            "completions": int,
            "likes": int,
            "updated_world_t": float,
        },
        pk="video_id",
        foreign_keys=[("video_id", "videos", "id")],
    )
    db.table("boosts").create(
        {
            "id": int,
            "video_id": int,
            "weight": float,
            "starts_world_t": float,
            "until_world_t": float,
            "reason": str,
            "created_by": str,
            "created_at": float,
        },
        pk="id",
        foreign_keys=[("video_id", "videos", "id")],
        not_null={"reason", "created_by"},
    )
    db.table("boosts").create_index(["video_id"])


@migrations(name="m003_studies")
def _studies(db: Database) -> None:
    """User studies: a definition, its conditions, pseudonymous participants and their answers.

    The bundle is one file: the world, the effective configs, the study and every log.
    """
    db.table("studies").create(
        {
            "id": int,
            "name": str,
            "sha256": str,
            "definition": str,
            "resolved": str,
            "world_hash": str,
            "world_seed": int,
            "created_at": float,
        },
        pk="id",
        not_null={"name", "sha256", "resolved", "world_hash"},
    )
    db.table("conditions").create(
        {
            "id": int,
            "study_id": int,
            "name": str,
            "config_id": int,
            "controls": str,
            "boost": str,
            "boost_disclosed": int,
        },
        pk="id",
        foreign_keys=[("study_id", "studies", "id"), ("config_id", "configs", "id")],
        not_null={"name"},
        defaults={"controls": "[]"},
    )
    db.table("conditions").create_index(["study_id", "name"], unique=True)
    db.table("participants").create(
        {
            "id": int,
            "participant": str,
            "study_id": int,
            "station": str,
            "status": str,
            "condition_id": int,
            "allocation_index": int,
            "user_id": int,
            "consented_at": float,
            "declined_at": float,
            "feed_started_at": float,
            "feed_ended_at": float,
            "finished_at": float,
            "completion_code": str,
        },
        pk="id",
        foreign_keys=[
            ("study_id", "studies", "id"),
            ("condition_id", "conditions", "id"),
            ("user_id", "users", "id"),
        ],
        not_null={"participant", "status"},
    )
    db.table("participants").create_index(["participant"], unique=True)
    db.table("participants").create_index(["user_id"])
    db.table("answers").create(
        {
            "id": int,
            "participant_id": int,
            "phase": str,
            "item": str,
            "value": str,
            "answered_at": float,
        },
        pk="id",
        foreign_keys=[("participant_id", "participants", "id")],
        not_null={"phase", "item"},
    )
    db.table("answers").create_index(["participant_id", "phase", "item"], unique=True)
    # One row per opening of a participant's feed: replay needs the moment the engine computed
    # its shared state (trends, test pools), which no impression records.
    db.table("feed_runs").create(
        {
            "id": int,
            "participant_id": int,
            "user_id": int,
            "session_id": int,
            "opened_at": float,
            "opened_world_t": float,
            "closed_at": float,
            "closed_world_t": float,
        },
        pk="id",
        foreign_keys=[
            ("participant_id", "participants", "id"),
            ("user_id", "users", "id"),
            ("session_id", "sessions", "id"),
        ],
    )
    db.table("feed_runs").create_index(["participant_id"])
    # Filled by merging: the engine seeds each viewer's picks with their id, so replaying a
    # merged-in viewer needs the id they had at their own station.
    db.table("user_origins").create(
        {"user_id": int, "station": str, "original_id": int},
        pk="user_id",
        foreign_keys=[("user_id", "users", "id")],
        not_null={"station", "original_id"},
    )


@migrations(name="m004_questionnaire_submitted")
def _questionnaire_submitted(db: Database) -> None:
    """When each questionnaire was submitted: a questionnaire of optional items only is done
    when the participant moves on, which no answer row can show (they may answer nothing)."""
    participants = db.table("participants")
    participants.add_column("pre_submitted_at", float)
    participants.add_column("post_submitted_at", float)


@migrations(name="m005_pick_seed")
def _pick_seed(db: Database) -> None:
    """The key of each viewer's pick randomness, so a simulated persona's feed depends on its
    number in the run, never on which ids the database happened to hand out."""
    db.table("users").add_column("pick_seed", int)


@migrations(name="m006_learned_models")
def _learned_models(db: Database) -> None:
    """The engine's learned P(action) model (engine.learned), so a restart resumes it."""
    db.table("learned_models").create(
        {"name": str, "state": str, "updates": int, "saved_at": float}, pk="name"
    )


@migrations(name="m007_imported_history")
def _imported_history(db: Database) -> None:
    """Worlds imported from real data (``foryou import``): which viewers and sessions came from
    the log, and the log's later part, held out so the engine never sees it (offline evaluation
    reads it)."""
    db.table("users").add_column("imported", int, not_null_default=0)
    db.table("sessions").add_column("imported", int, not_null_default=0)
    db.table("heldout").create(
        {
            "id": int,
            "user_id": int,
            "video_id": int,
            "world_t": float,
            "at": float,
            "label": int,
            "rating": float,
            "watched_s": float,
            "complete": int,
            "like": int,
            "kinds": str,
        },
        pk="id",
        foreign_keys=[("user_id", "users", "id"), ("video_id", "videos", "id")],
    )
    db.table("heldout").create_index(["user_id", "world_t"])


@migrations(name="m008_feed_run_liveness")
def _feed_run_liveness(db: Database) -> None:
    """How long a study feed run whose process died lasted, and that it died: its screen notes
    every second that it is still running (``alive_at``), and the next run that closes it in
    its stead marks it ``crashed``. Runs closed before this column have ``crashed`` NULL."""
    runs = db.table("feed_runs")
    runs.add_column("alive_at", float)
    runs.add_column("alive_world_t", float)
    runs.add_column("crashed", int)


@migrations(name="m009_after_feed_status")
def _after_feed_status(db: Database) -> None:
    """A participant whose feed is over has status ``after_feed``; before, they stayed
    ``in_feed`` until they completed the study (only ``feed_ended_at`` told them apart)."""
    db.execute(
        "UPDATE participants SET status = 'after_feed' "
        "WHERE status = 'in_feed' AND feed_ended_at IS NOT NULL"
    )


def known_migrations() -> list[str]:
    """Names of every migration this code knows, in order."""
    # No plugins: loading them scans every installed package's entry points (~30 ms a start).
    return [m.name for m in migrations.pending(Database(memory=True, execute_plugins=False))]
