"""What every table and column means: the codebook researchers read.

One source for Datasette's metadata (``foryou metadata``) and for the codebook that ships with
exports. A test checks that every column in the schema is described here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from engine.sources import Source
from engine.vocabulary import EventKind, NotInterestedScope, ReportReason

WORLD_TIME = "world seconds (relative to the world's epoch; negative = before the world was built)"

TABLES: dict[str, tuple[str, dict[str, str]]] = {
    "foryou_meta": (
        "Facts about this file: the world's seed, epoch and language/country code lists; in a "
        "world built by `foryou import`, also imported_from (the format), "
        "imported_history_until (the share of each viewer's log kept as history), "
        "imported_log_end_unix (the log's last timestamp = world second 0) and "
        "synthetic_fields (JSON list of every column the data lacked and foryou made up).",
        {"key": "Name of the fact", "value": "Its value (text or JSON)"},
    ),
    "topics": (
        "Short-video categories and subcultures.",
        {
            "id": "Topic id",
            "name": "Display name, e.g. BookTok",
            "slug": "Engine-facing key used in configs and onboarding",
            "popularity": "Relative audience size (all topics sum to 1)",
            "related": "JSON list of related topic ids (closer in embedding space)",
            "motif": "Animation motif the renderer draws for this topic",
        },
    ),
    "creators": (
        "Accounts that upload videos.",
        {
            "id": "Creator id",
            "handle": "Unique @handle (without @)",
            "display_name": "Name shown on screen",
            "locale": "Faker locale the names were drawn from",
            "country": "ISO 3166-1 alpha-2 country",
            "language": "ISO 639-1 language",
            "home_topics": "JSON list of 1-3 topic ids the creator mostly posts in",
            "joined_at": f"When the account was created, {WORLD_TIME}",
            "cadence_per_week": "Typical uploads per week",
            "is_new": "1 if the account is brand new (no views before the world started)",
        },
    ),
    "hashtags": (
        "Hashtags: per-topic vocabulary plus cross-topic trending tags and challenges.",
        {
            "id": "Hashtag id",
            "tag": "The tag without '#'",
            "topic_id": "Owning topic; NULL for cross-topic tags",
            "kind": "topic, trending or challenge",
            "trending": "1 if trending when the world was built",
        },
    ),
    "sounds": (
        "Audio: creators' original sounds and shared tracks.",
        {
            "id": "Sound id",
            "title": "Track title, or 'original sound - <handle>'",
            "artist": "Artist name (the creator for original sounds)",
            "bpm": "Beats per minute",
            "is_original": "1 for a creator's original sound",
            "creator_id": "Owner of an original sound; NULL for shared tracks",
            "topic_id": "Scene a track belongs to; NULL for none",
            "trending": "1 if trending when the world was built",
        },
    ),
    "videos": (
        "The synthetic short videos.",
        {
            "id": "Video id",
            "creator_id": "Uploader",
            "topic_id": "Main topic",
            "sound_id": "Sound used",
            "caption": "Caption text including hashtags (at most 150 characters)",
            "duration_s": "Length in seconds (5-180)",
            "language": "ISO 639-1 language",
            "country": "ISO 3166-1 alpha-2 country of upload",
            "published_at": f"Publication time, {WORLD_TIME}; positive = scheduled",
            "quality": "Hidden quality 0-1 that drives simulated engagement; never ranked on",
            "spam": "1 if spam (never recommended)",
            "sensitive": "1 if sensitive (recommended only where allowed)",
            "duplicate_of": "Original video of a near-duplicate re-upload; NULL otherwise",
            "motif": "Animation motif",
            "palette": "Index of the colour palette",
            "motion": "Animation speed multiplier",
            "visual_seed": "Per-video variation of the animation",
        },
    ),
    "video_hashtags": (
        "Which hashtags each video carries, in caption order.",
        {
            "video_id": "Video",
            "position": "Order of the tag in the caption (0-based)",
            "hashtag_id": "Hashtag",
        },
    ),
    "video_stats": (
        "Background engagement drawn when the world was built (before any viewer here).",
        {
            "video_id": "Video",
            "views": "Views",
            "completions": "Views watched to the end",
            "likes": "Likes",
            "shares": "Shares",
            "comments": "Comments",
            "saves": "Saves (favourites)",
            "follows": "Follows of the creator gained from this video",
        },
    ),
    "world_arrays": (
        "The engine's scoring columns stored column-wise for fast loading (derived data).",
        {
            "name": "Array name, group.field",
            "part": "Chunk number",
            "dtype": "numpy dtype string",
            "shape": "JSON shape of the whole array",
            "crc32": "Checksum of this chunk's bytes",
            "data": "Raw little-endian bytes",
        },
    ),
    "users": (
        "Viewers: people and simulated personas.",
        {
            "id": "User id",
            "name": "Pseudonymous name or participant id",
            "created_at": "When the viewer was created (unix seconds)",
            "language": "Device language (ISO 639-1)",
            "country": "Account country (ISO 3166-1 alpha-2)",
            "interests": "JSON list of topic slugs chosen at onboarding",
            "simulated": "1 for a simulated persona",
            "settings": "JSON feed controls: sensitive content, keyword filters, topic sliders; "
            "playback speed once not 1×",
            "imported": "1 for a viewer taken from a real log by `foryou import`",
            "pick_seed": "Key of the viewer's pick randomness; empty: the id the viewer was "
            "created with (a simulated persona: its number in the run)",
        },
    ),
    "configs": (
        "Ranking configurations used by sessions (the effective TOML, de-duplicated by hash).",
        {
            "id": "Config id",
            "name": "Name given by the user or file",
            "sha256": "Hash of the TOML below",
            "toml": "The effective configuration; a session picked by another policy than its "
            "`policy` key (`--policy file.py:Class`) adds a `[picked_by]` table: `policy` (the "
            "file and class, or the name), `params` and `sha256` of the policy's file",
            "created_at": "First use (unix seconds)",
        },
    ),
    "sessions": (
        "Continuous viewing sessions.",
        {
            "id": "Session id",
            "user_id": "Viewer",
            "config_id": "Ranking config in force",
            "started_at": "Start (unix seconds)",
            "ended_at": "End (unix seconds); NULL while open or if its process died, except in "
            "a study: a feed run whose process died ends its session at the run's closed_at "
            "(feed_runs.crashed = 1)",
            "simulated": "1 for a simulated session",
            "condition": "Study condition, if any",
            "imported": "1 for a session rebuilt from a real log (rows 30 minutes apart split "
            "sessions); its config_id is empty",
        },
    ),
    "impressions": (
        "Every video served to a viewer: served is not seen until the viewer reaches it.",
        {
            "id": "Impression id",
            "user_id": "Viewer",
            "session_id": "Session",
            "video_id": "Video served",
            "position": "0-based position in the session's feed",
            "served_at": "When the engine picked it (unix seconds)",
            "seen_start": "When it appeared on screen (unix seconds); NULL if never seen",
            "seen_end": "When the viewer left it (unix seconds)",
            "watched_s": "Seconds of video watched (may exceed duration on rewatch); in the feed "
            "app, video played from seen_start on: at 2x two per second, none while paused",
            "world_t": f"World clock at serving, {WORLD_TIME}",
            "source": f"Source the pick is credited to ({', '.join(Source)}, or a developer "
            "policy's own name); revisit: the viewer went back to it (no score, rank or "
            "propensity); imported: a viewing from a real log (`foryou import`: served_at and "
            "seen_start are the log's timestamp, seen_end adds watched_s; no score, rank, "
            "propensity or receipt)",
            "score": "Final ranking score",
            "rank": "Rank after re-ranking (0 = top)",
            "propensity": "Probability the policy picked this video (for off-policy evaluation)",
            "receipt": "JSON explanation: sources, every score term, filters, boosts",
        },
    ),
    "events": (
        "Every reaction, in order.",
        {
            "id": "Event id (global order)",
            "user_id": "Viewer",
            "session_id": "Session",
            "impression_id": "Impression the reaction belongs to",
            "video_id": "Video",
            "kind": f"What happened: {', '.join(EventKind)}. An un... kind undoes the one it "
            "names; refresh (no video) forgets the viewer's learned interests",
            "at": "When (unix seconds)",
            "world_t": f"World clock, {WORLD_TIME}",
            "watched_s": "Seconds watched (skip and complete)",
            "scope": f"not_interested scope: {', '.join(NotInterestedScope)}",
            "reason": f"Report reason: {', '.join(ReportReason)}",
            "text": "Comment text",
        },
    ),
    "profile_snapshots": (
        "What the engine believed about a viewer at the end of a session.",
        {
            "id": "Snapshot id",
            "user_id": "Viewer",
            "session_id": "Session",
            "at": "When (unix seconds)",
            "profile": "JSON profile: interests, affinities, follows, hides, filters",
        },
    ),
    "video_stats_live": (
        "Engagement recorded here, on top of video_stats.",
        {
            "video_id": "Video",
            "views": "Impressions seen",
            "completions": "Watched to the end",
            "likes": "Net likes (unlikes subtract)",
            "shares": "Shares",
            "comments": "Comments",
            "saves": "Net saves",
            "follows": "Net follows gained",
            "skips": "Skips",
            "rewatches": "Rewatches",
            "not_interested": "'Not interested' marks",
            "reports": "Reports",
            "watched_s": "Total seconds watched",
        },
    ),
    "video_pools": (
        "Staged test pools for fresh uploads: a first small audience, promoted if it performs.",
        {
            "video_id": "Video",
            "pool": "Current pool stage (0 = first audience)",
            "state": "testing, promoted or stopped",
            "impressions": "Impressions in the current pool",
            "completions": "Completions in the current pool",
            "likes": "Likes in the current pool",
            "updated_world_t": f"Last change, {WORLD_TIME}",
        },
    ),
    "heldout": (
        "The later part of each imported viewer's real log (`foryou import "
        "--history-until`): what they went on to watch, for offline evaluation. The engine "
        "never reads this table, so these viewings are absent from the viewers' history.",
        {
            "id": "Row id (in each viewer's time order)",
            "user_id": "Imported viewer",
            "video_id": "Video they watched or rated",
            "world_t": f"When, {WORLD_TIME} (the log's last timestamp is second 0)",
            "at": "When, the log's real unix time",
            "label": "1 liked, 0 not interested (hated, or a rating of 1.5 or less), empty neither",
            "rating": "The log's rating (MovieLens 0.5-5); empty for a log without ratings",
            "watched_s": "Seconds watched: the log's play time, or the rating rule's share "
            "of the clip",
            "complete": "1 if watched to the end (play time reached the duration, or a "
            "rating of 3.5 or more)",
            "like": "1 if liked (a like label, or a rating of 4.5 or more)",
            "kinds": "The events the history rule would have written, comma-separated "
            "(like, not_interested, follow, comment, share, then complete or skip)",
        },
    ),
    "boosts": (
        "Operator boosts ('heating'): always disclosed in the receipt.",
        {
            "id": "Boost id",
            "video_id": "Boosted video",
            "weight": "Score multiplier",
            "starts_world_t": f"Start, {WORLD_TIME}",
            "until_world_t": f"End, {WORLD_TIME}",
            "reason": "Why",
            "created_by": "Who",
            "created_at": "When (unix seconds)",
        },
    ),
    "learned_models": (
        "The engine's learned P(action) model, resumed by the next engine to open the file.",
        {
            "name": "Which model: 'engine' (the live one), or 'engine (as built)' (an imported "
            "world's, learned from its log at import: where replays and evaluations start)",
            "state": "Weights per action and input, their learning sums and precisions (JSON)",
            "updates": "Viewings learned from",
            "saved_at": "When (unix seconds)",
        },
    ),
    "studies": (
        "The study this file belongs to (one row; `foryou study init`).",
        {
            "id": "Study id",
            "name": "Study name from the definition",
            "sha256": "Hash of the resolved definition: bundles merge only when it matches",
            "definition": "The study TOML as written",
            "resolved": "JSON definition with every condition's effective config inlined",
            "world_hash": "Content hash of the world the study runs on",
            "world_seed": "Seed the world was generated from",
            "created_at": "When the bundle was made (unix seconds)",
        },
    ),
    "conditions": (
        "Experimental conditions: a ranking config, heating and the feed controls offered.",
        {
            "id": "Condition id",
            "study_id": "Study",
            "name": "Condition name (never shown to participants)",
            "config_id": "Effective ranking config (configs.id)",
            "controls": "JSON list of feed controls participants get (not_interested, ...)",
            "boost": "JSON heating setting: videos, weight, reason; NULL for none",
            "boost_disclosed": "1 if participants are told about heated videos, 0 if not, "
            "NULL without heating",
        },
    ),
    "participants": (
        "Pseudonymous study participants: consent, allocation and progress.",
        {
            "id": "Participant row id",
            "participant": "Pseudonymous participant id (e.g. P017); never a name",
            "study_id": "Study",
            "station": "Lab station that ran the participant (set when bundles are merged)",
            "status": "declined; consented (in the pre-questionnaire or onboarding); in_feed "
            "(watching, or left in the middle of the feed); after_feed (the feed is over: in "
            "the post-questionnaire or the debrief); completed",
            "condition_id": "Allocated condition; NULL if consent was declined",
            "allocation_index": "Position in the station's allocation sequence (0-based)",
            "user_id": "The participant's viewer in the feed; NULL before onboarding",
            "consented_at": "Consent given (unix seconds)",
            "declined_at": "Consent declined (unix seconds); nothing else is recorded then",
            "feed_started_at": "First feed opened (unix seconds)",
            "feed_ended_at": "Feed over: its length reached or ended early (unix seconds)",
            "pre_submitted_at": "Pre-questionnaire submitted (unix seconds; first submission)",
            "post_submitted_at": "Post-questionnaire submitted (unix seconds; first submission)",
            "finished_at": "Study completed (unix seconds)",
            "completion_code": "Code shown at the end",
        },
    ),
    "answers": (
        "Questionnaire answers, one row per participant, phase and item.",
        {
            "id": "Answer id",
            "participant_id": "Participant (participants.id)",
            "phase": "pre or post",
            "item": "Item id from the study definition",
            "value": (
                "The answer as text: a Likert point, a single choice's option as plain text, "
                "several choices as a JSON list, or free text (each item: see questionnaire)"
            ),
            "answered_at": "When (unix seconds); a corrected answer keeps the latest",
        },
    ),
    "feed_runs": (
        "Each opening of a participant's feed (a resumed feed adds a run).",
        {
            "id": "Run id",
            "participant_id": "Participant (participants.id)",
            "user_id": "The participant's viewer",
            "session_id": "Session the run recorded; NULL if nothing was served",
            "opened_at": "Feed opened (unix seconds)",
            "opened_world_t": f"World clock when the engine opened, {WORLD_TIME}",
            "closed_at": "Feed closed (unix seconds); NULL while open. A run whose process died "
            "(crashed = 1) is closed by the participant's next run at its last sign of life: "
            "the latest of alive_at and its viewings' and reactions' times",
            "closed_world_t": f"World clock at closing (a crashed run: at its last sign of "
            f"life), {WORLD_TIME}; closed_world_t - opened_world_t is the feed time the run used",
            "alive_at": "Last note that the run was still running (unix seconds; the feed screen "
            "notes it about once a second); NULL if none was made",
            "alive_world_t": f"World clock at alive_at, {WORLD_TIME}",
            "crashed": "1: its process died (a closed terminal, a killed process) and the next "
            "run closed it; 0: closed by the run itself; NULL while open, or closed by a foryou "
            "from before this column",
        },
    ),
    "user_origins": (
        "Where each viewer of a merged file comes from (empty until bundles are merged).",
        {
            "user_id": "Viewer in this file",
            "station": "Lab station (bundle file) the viewer was recorded at",
            "original_id": "The viewer's id at that station (it seeds their picks in replay)",
        },
    ),
}


def datasette_metadata(table_names: Iterable[str], database_name: str) -> str:
    """Datasette metadata JSON describing the tables a file holds.

    Args:
        table_names: The tables present (:meth:`engine.store.Store.table_names`).
        database_name: The name Datasette gives the file (its stem).

    Returns:
        The metadata document, indented JSON.
    """
    present = set(table_names)
    tables = {
        name: {"description": description, "columns": columns}
        for name, (description, columns) in TABLES.items()
        if name in present
    }
    document = {
        "title": "foryou",
        "description": "A synthetic short-video world and everything viewers did in it.",
        "databases": {database_name: {"tables": tables}},
    }
    return json.dumps(document, indent=2)
