"""`foryou import`: real datasets (MovieLens, KuaiRand, a generic CSV) as worlds that open in the
feed, with their viewers' history imported and the later part held out.

The data is read in place from ``../shared/data`` (never copied into the repository: the
MovieLens licence allows redistribution only under its own terms); tests that want a small
sample copy the first lines into ``tmp_path``.
"""

from __future__ import annotations

import itertools
import json
import sqlite3
from pathlib import Path
from unittest import mock

import pytest
from click.testing import CliRunner

from engine import Engine, VirtualClock
from seed.importers import import_world
from tests.openers import READ, let_go, open_elsewhere, query, sidecars
from tui.cli import main

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
MOVIELENS = DATA / "movielens-latest-small"
FEATURES = DATA / "kuairand-pure" / "video_features_basic_pure.csv"
LIKE_HATE = DATA / "kuairand-27k-like-hate" / "likes_hates_kcore15.tsv"

ABSENT = f"the shared real-data folder {DATA} is absent"
needs_data = pytest.mark.skipif(not DATA.is_dir(), reason=ABSENT)


def head(source: Path, target: Path, lines: int) -> Path:
    """The first ``lines`` lines of a data file (header included) as a new file."""
    with source.open(encoding="utf-8") as text:
        target.write_text("".join(line for _, line in zip(range(lines), text, strict=False)))
    return target


def every(source: Path, target: Path, step: int) -> Path:
    """The header and every ``step``-th line of a data file (the like/hate file is sorted by
    label, so its head holds no hates)."""
    lines = source.read_text(encoding="utf-8").splitlines(keepends=True)
    target.write_text(lines[0] + "".join(lines[1::step]))
    return target


@pytest.fixture
def small_movielens(tmp_path: Path) -> Path:
    """The first 2,000 ratings of MovieLens with the movies they name and those movies' tags."""
    if not DATA.is_dir():
        pytest.skip(ABSENT)
    folder = tmp_path / "ml"
    folder.mkdir()
    ratings = head(MOVIELENS / "ratings.csv", folder / "ratings.csv", 2_001)
    rated = {line.split(",")[1] for line in ratings.read_text().splitlines()[1:]}
    for name in ("movies.csv", "tags.csv"):
        lines = (MOVIELENS / name).read_text(encoding="utf-8").splitlines(keepends=True)
        column = 0 if name == "movies.csv" else 1
        kept = [line for line in lines[1:] if line.split(",")[column] in rated]
        (folder / name).write_text(lines[0] + "".join(kept), encoding="utf-8")
    return folder


def rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


# -- MovieLens --------------------------------------------------------------------------------


def test_movielens_genres_become_topics_and_ratings_viewers(
    small_movielens: Path, tmp_path: Path
) -> None:
    out = tmp_path / "ml.db"
    code, output = run("import", "movielens", str(small_movielens), "--db", str(out))
    assert code == 0, output
    assert "imported viewers" in output
    topics = {name for (name,) in rows(out, "SELECT name FROM topics")}
    assert {"Comedy", "Drama", "Animation", "Sci-Fi"} <= topics
    toy_story = rows(out, "SELECT caption, t.name FROM videos v JOIN topics t ON t.id = v.topic_id "
                     "WHERE caption LIKE 'Toy Story (1995)%'")  # fmt: skip
    assert toy_story == [(toy_story[0][0], "Animation")]  # its rarest genre
    assert "#comedy" in str(toy_story[0][0])
    assert rows(out, "SELECT count(*) FROM users WHERE imported = 1 AND name LIKE 'ml-%'")[0][0] > 5
    assert rows(out, "SELECT DISTINCT source FROM impressions") == [("imported",)]
    # 2,000 ratings: 80% of each viewer's (rounded up) are history, the rest held out.
    (history,) = rows(out, "SELECT count(*) FROM impressions")[0]
    (heldout,) = rows(out, "SELECT count(*) FROM heldout")[0]
    assert history + heldout == 2_000
    assert 0.75 < history / 2_000 < 0.85
    meta = dict(rows(out, "SELECT key, value FROM foryou_meta"))
    assert meta["imported_from"] == "movielens"
    assert any("duration_s" in field for field in json.loads(meta["synthetic_fields"]))
    code, output = run("info", "--db", str(out))
    assert code == 0
    assert "Imported from movielens data" in " ".join(output.split())


def test_a_rating_becomes_reactions_by_the_documented_rule(
    small_movielens: Path, tmp_path: Path
) -> None:
    out = tmp_path / "ml.db"
    import_world("movielens", small_movielens, out, history_until=1.0)
    # User 1 rated movie 1 (Toy Story) 4.0: watched to the end, no like.
    kinds = rows(
        out,
        "SELECT e.kind FROM events e JOIN users u ON u.id = e.user_id JOIN videos v "
        "ON v.id = e.video_id WHERE u.name = 'ml-1' AND v.caption LIKE 'Toy Story (1995)%' "
        "ORDER BY e.id",
    )
    assert kinds == [("complete",)]
    by_rating = rows(
        out,
        "SELECT kinds, rating FROM heldout",
    )
    assert by_rating == []  # history_until 1.0 holds nothing out
    likes = rows(out, "SELECT count(*) FROM events WHERE kind = 'like'")[0][0]
    fives = sum(
        1 for line in (small_movielens / "ratings.csv").read_text().splitlines()[1:]
        if float(line.split(",")[2]) >= 4.5
    )  # fmt: skip
    assert likes == fives


def test_imported_world_opens_and_picks_for_an_imported_and_a_new_viewer(
    small_movielens: Path, tmp_path: Path
) -> None:
    out = tmp_path / "ml.db"
    import_world("movielens", small_movielens, out, history_until=0.5)
    held = {
        int(v)
        for (v,) in rows(
            out,
            "SELECT video_id FROM heldout h JOIN users u ON u.id = h.user_id WHERE u.name = 'ml-1'",
        )
    }
    watched = {int(v) for (v,) in rows(out, "SELECT video_id FROM impressions WHERE user_id = 1")}
    assert held and watched and not held & watched
    with Engine.open(out, clock=VirtualClock(0.0)) as eng:
        viewer = eng.user_id("ml-1")
        profile = eng.profile(viewer)
        # The engine resumed the imported history and nothing of the held-out part.
        assert profile.seen == len(watched)
        assert not held & set(profile.liked)
        pick = eng.next(viewer)
        assert pick.video.id not in watched
        newcomer = eng.new_user(["comedy"], name="newcomer", language="en", country="US")
        assert eng.next(newcomer).video.caption


def test_made_up_lengths_are_not_valued(
    small_movielens: Path, tmp_path: Path, world_path: Path
) -> None:
    """MovieLens has no lengths: each movie's clip length is drawn at import, so a finish is
    worth the same whatever the drawn length (valued per second, the drawn lengths ranked the
    catalogue: NDCG@10 0.373 against 0.545, README "Offline evaluation"). A world whose lengths
    are its own still values a finish per second."""

    def completion_values(path: Path) -> tuple[bool, dict[float, float]]:
        with Engine.open(path, clock=VirtualClock(0.0), log=False) as eng:
            viewer = eng.new_user(name="newcomer")
            picks = []
            for _ in range(12):
                pick = eng.next(viewer)
                eng.record(viewer, pick.video.id, "skip", watched_s=1.0)
                picks.append(pick)
            made_up = eng.catalog.world.durations_made_up
        return made_up, {p.video.duration_s: p.receipt.terms["complete"]["value"] for p in picks}

    out = tmp_path / "ml.db"
    import_world("movielens", small_movielens, out, history_until=0.5)
    made_up, values = completion_values(out)
    assert made_up and len(values) > 3
    assert len(set(values.values())) == 1  # every length, one value
    made_up, values = completion_values(world_path)
    assert not made_up and len(values) > 3
    by_length = sorted(values.items())
    assert all(a[1] < b[1] for a, b in itertools.pairwise(by_length) if a[0] < b[0])


# -- KuaiRand ---------------------------------------------------------------------------------


@needs_data
def test_kuairand_features_authors_music_and_tags(tmp_path: Path) -> None:
    sample = head(FEATURES, tmp_path / "video_features_basic_pure.csv", 401)
    out = tmp_path / "kf.db"
    code, output = run("import", "kuairand-features", str(sample), "--db", str(out))
    assert code == 0, output
    assert rows(out, "SELECT count(*) FROM videos")[0][0] == 400
    # Video 0: author 7349781, music 9155697141, tag 39, 87,433 ms.
    video = rows(
        out,
        "SELECT c.handle, s.title, t.name, v.duration_s FROM videos v "
        "JOIN creators c ON c.id = v.creator_id JOIN sounds s ON s.id = v.sound_id "
        "JOIN topics t ON t.id = v.topic_id WHERE v.id = 0",
    )
    assert video == [("author7349781", "track 9155697141", "Tag 39", pytest.approx(87.4))]
    assert rows(out, "SELECT count(*) FROM users")[0][0] == 0
    with Engine.open(out, clock=VirtualClock(0.0), log=False) as eng:
        viewer = eng.new_user([eng.topics()[0]], name="v", language="zh", country="CN")
        assert eng.next(viewer).video.language == "zh"


@needs_data
def test_kuairand_like_hate_log_becomes_likes_and_not_interested(tmp_path: Path) -> None:
    sample = every(LIKE_HATE, tmp_path / "likes.tsv", 14)
    out = tmp_path / "kl.db"
    import_world("kuairand-log", sample, out, history_until=1.0)
    labels = [line.split("\t")[14] for line in sample.read_text(encoding="utf-8").splitlines()[1:]]
    kinds = dict(rows(out, "SELECT kind, count(*) FROM events GROUP BY kind"))
    assert kinds["like"] == labels.count("1")
    assert kinds["not_interested"] == labels.count("0")
    assert kinds["complete"] + kinds["skip"] == len(labels)
    assert rows(out, "SELECT count(*) FROM topics WHERE name LIKE 'Cluster %'")[0][0] >= 8
    with Engine.open(out, clock=VirtualClock(0.0), log=False) as eng:
        first_user = sample.read_text().splitlines()[1].split("\t")[0]
        assert eng.next(eng.user_id(f"kr-{first_user}")).video.id >= 0


# -- a generic CSV ----------------------------------------------------------------------------


def test_generic_csv_catalogue_and_log(tmp_path: Path) -> None:
    items = tmp_path / "items.csv"
    items.write_text(
        "id,genres,tags,creator,duration,title\n"
        "10,Cooking|Travel,pasta|italy,anna,30,Fresh pasta\n"
        "11,Cooking,knife,anna,,Knife skills\n"
        "12,Gaming,speedrun,bo,12.5,Any% in 12 minutes\n"
    )
    log = tmp_path / "log.csv"
    log.write_text(
        "user,item,timestamp,rating\nu1,10,1000,5\nu1,12,2000,1\nu2,11,1500,4\nu2,10,1600,3\n"
    )
    out = tmp_path / "g.db"
    code, output = run("import", "csv", str(items), "--log", str(log), "--db", str(out))
    assert code == 0, output
    assert rows(out, "SELECT handle FROM creators ORDER BY id") == [("authoranna",), ("authorbo",)]
    assert rows(out, "SELECT duration_s FROM videos WHERE id = 0") == [(30.0,)]
    assert rows(out, "SELECT count(*) FROM heldout")[0][0] == 0  # ceil(0.8 × 2) = 2 each
    # A log of watched seconds and like labels: completes where the watch reached the
    # duration (item 10 lasts 30 s), likes and "not interested" from the label.
    log.write_text("user,item,timestamp,watched_s,label\nu1,10,1000,31,1\nu1,12,2000,2,0\n")
    import_world("csv", items, tmp_path / "h.db", log=log, history_until=1.0)
    kinds = rows(tmp_path / "h.db", "SELECT kind, watched_s FROM events ORDER BY id")
    assert kinds == [("like", None), ("complete", 30.0), ("not_interested", None), ("skip", 2.0)]


def test_a_row_with_a_rating_and_a_label_is_one_viewing_with_one_opinion(tmp_path: Path) -> None:
    """A row with both once wrote two likes for one viewing (video_stats: 1 view, 2 likes), or
    two "not interested". The label decides the opinion, watched seconds the play time."""
    items = tmp_path / "items.csv"
    items.write_text("id,duration\n1,30\n2,40\n3,50\n")
    log = tmp_path / "log.csv"
    log.write_text(
        "user,item,timestamp,watched_s,rating,label\n"
        "u1,1,1700000000,30,5,1\n"  # like + complete
        "u1,2,1700000100,,1,0\n"  # not interested + skip after 10% (the rating's play time)
        "u1,3,1700000200,,5,0\n"  # the label wins: not interested, yet watched to the end
        "u2,1,1700000000,6,1,1\n"  # the label wins: like, after the 6 s watched
        "u2,2,1700000100,12,1,\n"  # no label: the rating's not interested, 12 s watched
    )
    out = tmp_path / "g.db"
    code, output = run("import", "csv", str(items), "--log", str(log), "--history-until", "1",
                       "--db", str(out))  # fmt: skip
    assert code == 0, output
    events = rows(
        out,
        "SELECT u.name, v.id, group_concat(e.kind || ifnull(':' || e.watched_s, ''), ' ') "
        "FROM events e JOIN users u ON u.id = e.user_id JOIN videos v ON v.id = e.video_id "
        "GROUP BY e.impression_id ORDER BY u.name, e.at",
    )
    assert events == [
        ("csv-u1", 0, "like complete:30.0"),
        ("csv-u1", 1, "not_interested skip:4.0"),
        ("csv-u1", 2, "not_interested complete:50.0"),
        ("csv-u2", 0, "like skip:6.0"),
        ("csv-u2", 1, "not_interested skip:12.0"),
    ]
    stats = rows(out, "SELECT video_id, views, likes, completions FROM video_stats ORDER BY 1")
    assert stats == [(0, 2, 2, 1), (1, 2, 0, 0), (2, 1, 0, 1)]


def test_evaluate_on_a_log_with_no_propensity_says_so_at_once(tmp_path: Path) -> None:
    """An imported log has no propensities: evaluate re-lived all of it (minutes on MovieLens)
    before saying there was nothing to weigh."""
    items = tmp_path / "items.csv"
    items.write_text("id,topic\n10,Cooking\n11,Gaming\n")
    log = tmp_path / "log.csv"
    log.write_text("user,item,timestamp,rating\nu1,10,1000,5\nu1,11,2000,1\n")
    out = tmp_path / "g.db"
    assert run("import", "csv", str(items), "--log", str(log), "--db", str(out))[0] == 0
    config = tmp_path / "c.toml"
    config.write_text('name = "c"\n')
    with mock.patch("engine.counterfactual.relive", side_effect=AssertionError("re-lived")):
        code, output = run("--db", str(out), "evaluate", "--config", str(config))
    assert code == 1
    assert output.startswith("Error: no watched impressions with a logged propensity"), output
    assert len(output.strip().splitlines()) == 1


# -- refusals ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("log", "expected"),
    [
        ("user,item,timestamp,rating\nu1,10,1000,9\n", "log.csv:2: rating '9' is outside 0-5"),
        ("user,item,timestamp,label\nu1,10,1000,7\n", "log.csv:2: label '7' is outside 0-1"),
        ("user,item,timestamp,label\nu1,10,1000,0.5\n",
         "log.csv:2: label '0.5' is not 1 (like) or 0 (not interested)"),
        ("user,item,timestamp,watched_s\nu1,10,1000,-3\n",
         "log.csv:2: watched_s '-3' is outside 0-inf"),
    ],
)  # fmt: skip
def test_a_generic_log_value_out_of_its_range_is_refused(
    tmp_path: Path, log: str, expected: str
) -> None:
    """A rating of 9 on the documented 0-5 scale became a like, a label of 7 too, and a
    negative watch was clamped to 0, all without a word."""
    items = tmp_path / "items.csv"
    items.write_text("id,topic\n10,Cooking\n")
    (tmp_path / "log.csv").write_text(log)
    out = tmp_path / "g.db"
    code, output = run("import", "csv", str(items), "--log", str(tmp_path / "log.csv"), "--db",
                       str(out))  # fmt: skip
    assert (code, output) == (1, f"Error: {expected}\n")
    assert not out.exists()


def test_a_catalogue_of_ids_and_titles_alone_imports_and_opens(tmp_path: Path) -> None:
    """README: ``id`` plus any of the other columns. Without topics, tags or a log the import
    failed with numpy's "a must be a positive integer unless no samples are taken"."""
    items = tmp_path / "i.csv"
    items.write_text("id,title\n1,a\n2,b\n")
    out = tmp_path / "i.db"
    code, output = run("import", "csv", str(items), "--db", str(out))
    assert code == 0, output
    assert "2 videos" in output
    with Engine.open(out, clock=VirtualClock(0.0), log=False) as eng:
        viewer = eng.new_user([], name="v")
        assert eng.next(viewer).video.caption.split(" #")[0] in ("a", "b")


@pytest.mark.parametrize("duration", ["-5", "0"])
def test_a_duration_that_is_not_positive_is_refused(tmp_path: Path, duration: str) -> None:
    """A negative duration was silently replaced by a made-up one (listed as synthetic)."""
    items = tmp_path / "items.csv"
    items.write_text(f"id,title,duration\n1,a,30\n2,b,{duration}\n")
    out = tmp_path / "g.db"
    code, output = run("import", "csv", str(items), "--db", str(out))
    assert (code, output) == (
        1,
        f"Error: items.csv:3: duration '{duration}' is not a positive number of seconds\n",
    )
    assert not out.exists()


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("movies.csv", "movieId,name,genres\n1,x,Comedy\n", "movies.csv:1: missing column title"),
        # An unclosed quote swallowed the rest of the file into one cell: "2 fields" or "not a
        # number" lines later, or nothing at all.
        ("movies.csv", 'movieId,title,genres\n1,"Toy Story,Comedy\n2,b,Drama\n',
         'movies.csv:2: a quote (") opened in the row starting here is never closed'),
        ("ratings.csv", 'userId,movieId,rating,timestamp\n1,1,4.0,1\n1,"1,4.0,2\n',
         'ratings.csv:3: a quote (") opened in the row starting here is never closed'),
        ("movies.csv", 'movieId,title,genres\n1,"Toy" Story,Comedy\n',
         'movies.csv:2: text after a closing quote (inside a quoted cell, write a " as "")'),
        ("movies.csv", "movieId,title,genres\n1,a,Comedy\n1,b,Drama\n",
         "movies.csv:3: duplicate movieId 1 (first on line 2)"),
        ("movies.csv", "", "movies.csv: empty file"),
        ("movies.csv", "movieId,title,genres\n", "movies.csv: no rows after the header"),
        ("movies.csv", b"movieId,title,genres\n1,Caf\xe9,Comedy\n", "movies.csv:2: not UTF-8"),
        ("ratings.csv", "userId,movieId,rating,timestamp\n1,1,4.0,1\n1,1,four,2\n",
         "ratings.csv:3: rating 'four' is not a number"),
        ("ratings.csv", "userId,movieId,rating,timestamp\n1,1,4.0,1\n1,1,9,2\n",
         "ratings.csv:3: rating '9' is outside 0-5"),
        ("ratings.csv", "userId,movieId,rating,timestamp\n1,99,4.0,1\n",
         "ratings.csv:2: movieId 99 is not in movies.csv"),
        ("ratings.csv", "userId,movieId,rating,timestamp\n1,1,4.0\n",
         "ratings.csv:2: 3 fields, the header has 4"),
    ],
)  # fmt: skip
def test_bad_files_are_refused_in_one_line_naming_file_and_line(
    tmp_path: Path, name: str, content: str | bytes, expected: str
) -> None:
    folder = tmp_path / "ml"
    folder.mkdir()
    (folder / "movies.csv").write_text("movieId,title,genres\n1,Toy Story (1995),Comedy\n")
    (folder / "ratings.csv").write_text("userId,movieId,rating,timestamp\n1,1,4.0,964982703\n")
    target = folder / name
    target.write_bytes(content if isinstance(content, bytes) else content.encode())
    out = tmp_path / "out.db"
    code, output = run("import", "movielens", str(folder), "--db", str(out))
    assert code != 0
    assert output.startswith(f"Error: {expected}"), output
    assert len(output.strip().splitlines()) == 1
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out.db")] == []


@pytest.mark.parametrize(
    ("make", "expected"), [("folder", "a folder, not a file"), ("", "no such file")]
)
def test_a_catalogue_that_is_not_a_file_is_named_for_what_it_is(
    tmp_path: Path, make: str, expected: str
) -> None:
    items = tmp_path / "items.csv"
    if make:
        items.mkdir()
    out = tmp_path / "out.db"
    code, output = run("import", "csv", str(items), "--db", str(out))
    assert code == 1
    assert output.strip() == f"Error: {items}: {expected}"
    assert not out.exists()


def test_an_existing_world_is_kept_without_force(small_movielens: Path, tmp_path: Path) -> None:
    out = tmp_path / "ml.db"
    assert run("import", "movielens", str(small_movielens), "--db", str(out))[0] == 0
    before = out.read_bytes()
    code, output = run("import", "movielens", str(small_movielens), "--db", str(out))
    assert code != 0 and "--force" in output
    assert out.read_bytes() == before


def test_force_is_refused_while_another_process_reads_the_world(
    small_movielens: Path, tmp_path: Path
) -> None:
    out = tmp_path / "ml.db"
    assert run("import", "movielens", str(small_movielens), "--db", str(out))[0] == 0
    reader = open_elsewhere(out, READ)  # a Datasette, say
    try:
        before = out.read_bytes()
        code, output = run("import", "movielens", str(small_movielens), "--db", str(out), "--force")
        assert code != 0
        assert output.startswith(f"Error: {out} is open in another process (pid {reader.pid}, `")
        assert output.endswith("`): close it before --force\n") and output.count("\n") == 1
        assert out.read_bytes() == before
    finally:
        let_go(reader)
    code, output = run("import", "movielens", str(small_movielens), "--db", str(out), "--force")
    assert code == 0, output
    assert sidecars(out) == []
    assert query(out, "PRAGMA integrity_check") == "ok"


@needs_data
def test_a_bad_kuairand_label_is_refused(tmp_path: Path) -> None:
    sample = head(LIKE_HATE, tmp_path / "likes.tsv", 5)
    lines = sample.read_text().splitlines()
    fields = lines[3].split("\t")
    fields[14] = "2"
    lines[3] = "\t".join(fields)
    sample.write_text("\n".join(lines) + "\n")
    code, output = run("import", "kuairand-log", str(sample), "--db", str(tmp_path / "k.db"))
    assert code != 0
    assert output.strip() == "Error: likes.tsv:4: label 2 is not 0 or 1"


# -- the whole files --------------------------------------------------------------------------


@needs_data
@pytest.mark.slow
def test_full_movielens_import_opens_in_the_feed(tmp_path: Path) -> None:
    from tests.tuikit import screen_text
    from tui.app import make_app

    out = tmp_path / "ml.db"
    imported = import_world("movielens", MOVIELENS, out)  # its time: benchmarks/bench_validity
    assert len(imported.world.videos) == 9_742
    assert len(imported.history.impressions) + len(imported.history.heldout) == 100_836

    async def watch() -> str:
        app = make_app(out, "ml-1", live=False, world_clock=VirtualClock(0.0))
        async with app.run_test(size=(100, 34)) as pilot:
            await pilot.pause()
            return screen_text(app)

    import asyncio

    text = asyncio.run(watch())
    genres = ("Comedy", "Drama", "Action", "Thriller", "Romance", "Adventure", "Crime", "Sci-Fi",
              "Animation", "Fantasy", "Horror", "Mystery", "Children", "War", "Musical",
              "Documentary", "Western", "Film-Noir", "IMAX")  # fmt: skip
    assert any(genre in text for genre in genres), text


def test_the_same_files_and_seed_give_the_same_world(small_movielens: Path, tmp_path: Path) -> None:
    from engine.store import Store

    hashes = []
    for name in ("a.db", "b.db"):
        import_world("movielens", small_movielens, tmp_path / name, epoch_unix=1.0)
        with Store.open(tmp_path / name) as store:
            hashes.append(store.content_hash())
    assert hashes[0] == hashes[1]


def test_held_out_rows_read_as_offline_evaluation_wants_them(
    small_movielens: Path, tmp_path: Path
) -> None:
    from engine.store import Store
    from engine.store.imported import read_heldout

    out = tmp_path / "ml.db"
    import_world("movielens", small_movielens, out)
    with Store.open(out) as store:
        held = read_heldout(store.db)
    assert held
    for row in held:
        assert row["like"] == int(row["rating"] >= 4.5)
        assert row["complete"] == int(row["rating"] >= 3.5)
        assert row["world_t"] <= 0  # the log ends at world second 0


def test_explain_and_replay_say_an_imported_viewing_was_not_picked(
    small_movielens: Path, tmp_path: Path
) -> None:
    out = tmp_path / "ml.db"
    import_world("movielens", small_movielens, out)
    code, output = run("explain", "1", "--db", str(out))
    assert code != 0
    assert output.strip() == (
        "Error: impression 1 has no receipt: it was imported from a real log (foryou import), "
        "not picked by the engine"
    )
    code, output = run("replay", "1", "--db", str(out))
    assert code != 0
    assert output.startswith("Error: session 1 was imported from a real log")
    assert len(output.strip().splitlines()) == 1


@needs_data
@pytest.mark.slow
def test_both_whole_kuairand_files_open_with_imported_and_new_viewers(tmp_path: Path) -> None:
    features = import_world("kuairand-features", FEATURES.parent, tmp_path / "kf.db")
    assert len(features.world.videos) == 7_583
    assert len(features.world.creators) == 6_510
    # The newest upload is a day old when the world opens: not all years in the past.
    assert -2 * 86_400 < features.world.videos.published_at.max() < 0
    likes = import_world("kuairand-log", LIKE_HATE, tmp_path / "kl.db")
    assert len(likes.world.videos) == 9_359
    assert len(likes.history.users) == 664
    assert len(likes.history.impressions) + len(likes.history.heldout) == 41_828
    for db in ("kf.db", "kl.db"):
        with Engine.open(tmp_path / db, clock=VirtualClock(0.0), log=False) as eng:
            viewer = eng.new_user([eng.topics()[0]], name="new", language="zh", country="CN")
            assert eng.next(viewer).video.language == "zh"
            if db == "kl.db":
                assert eng.next(eng.user_id("kr-111")).video.id >= 0


async def test_a_new_viewer_onboards_into_an_imported_world_and_sees_movies(
    small_movielens: Path, tmp_path: Path
) -> None:
    from textual.widgets import Input, SelectionList

    from tests.tuikit import screen_text
    from tui.app import make_app
    from tui.screens.feed import FeedScreen
    from tui.screens.onboarding import OnboardingScreen

    out = tmp_path / "ml.db"
    import_world("movielens", small_movielens, out)
    app = make_app(out, None, live=False, world_clock=VirtualClock(0.0))
    async with app.run_test(size=(110, 32)) as pilot:
        await pilot.press("enter")  # "New viewer" is first, above the imported ones
        assert isinstance(app.screen, OnboardingScreen)
        app.screen.query_one(SelectionList).select("animation")
        app.screen.query_one("#name", Input).value = "newcomer"
        await pilot.click("#start")
        assert isinstance(app.screen, FeedScreen)
        video = app.screen.session.video
        assert video is not None
        await pilot.pause()
        text = screen_text(app)
    # A movie: its title and year in the caption, its genre as the topic.
    assert video.caption.split(" #")[0].rstrip().endswith(")")
    assert video.topic_name in text


def test_a_long_tail_of_topics_keeps_the_200_most_frequent(tmp_path: Path) -> None:
    items = tmp_path / "items.csv"
    lines = ["id,topic"]
    lines += [f"{i},common|rare{i}" for i in range(300)]
    items.write_text("\n".join(lines) + "\n")
    out = tmp_path / "tail.db"
    import_world("csv", items, out)
    (topics,) = rows(out, "SELECT count(*) FROM topics")[0]
    assert topics == 200
    # A video whose rare label lost its topic still carries it as a hashtag.
    assert rows(out, "SELECT caption FROM videos WHERE id = 299")[0][0].endswith("#rare299")


def test_a_session_after_the_import_replays_exactly(small_movielens: Path, tmp_path: Path) -> None:
    """Imported events move only their viewer, in the feed as in replay: re-living them as
    live events (engagement, trends) made replay pick other videos than the feed had."""
    from engine.replay import replay_session

    out = tmp_path / "ml.db"
    import_world("movielens", small_movielens, out, history_until=1.0)
    clock = VirtualClock(60.0)  # a minute after the log's end: its last day is still "recent"
    with Engine.open(out, clock=clock) as eng:
        viewer = eng.user_id("ml-1")
        for _ in range(8):
            pick = eng.next(viewer)
            clock.now += pick.video.duration_s
            eng.record(viewer, pick.video.id, "complete", watched_s=pick.video.duration_s)
        eng.end_session(viewer)
    (session,) = rows(out, "SELECT max(id) FROM sessions")[0]
    replayed = replay_session(out, int(str(session)))
    assert [p.picked_video for p in replayed.picks] == [p.logged_video for p in replayed.picks]
    assert len(replayed.picks) == 8


@pytest.mark.slow
def test_offline_eval_scores_an_imported_world_on_its_held_out_viewings(
    small_movielens: Path, tmp_path: Path
) -> None:
    from engine.config import Config
    from engine.offline import offline_eval
    from engine.store import Store
    from engine.store.imported import read_heldout

    out = tmp_path / "ml.db"
    import_world("movielens", small_movielens, out)
    with Store.open(out) as store:
        held = read_heldout(store.db)
    report = offline_eval(out, Config(), negatives=20)
    assert report.held_out == len(held)  # the stored split, not a new one of the history
