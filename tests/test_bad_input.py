"""Bad input, from the command line and the Python API: a one-line error naming the problem, a
non-zero exit, and the world file left exactly as it was."""

from __future__ import annotations

import hashlib
import math
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
import tomli_w
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import Engine, VirtualClock
from engine.config import Config, ConfigError, effective_toml, load_config, parse_config
from engine.reactions import KINDS, MAX_WATCHED_S
from tui.cli import main


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def sha1(path: Path) -> str:
    return hashlib.sha1(path.read_bytes()).hexdigest()


def count(path: Path, table: str) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    finally:
        conn.close()


# -- ranking configs ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        (
            "[scoring]\nsimilarity = inf\n",
            "Expected finite `float`, got inf - at `$.scoring.similarity`",
        ),
        (
            "[reactions]\nreport = -inf\n",
            "Expected finite `float`, got -inf - at `$.reactions.report`",
        ),
        ("[reactions]\nlike = nan\n", "Expected finite `float`, got nan - at `$.reactions.like`"),
        (
            "[pick]\ntemperature = inf\n",
            "Expected finite `float`, got inf - at `$.pick.temperature`",
        ),
        (
            "[rerank]\ncold_start_videos = nan\n",
            "Expected finite `float`, got nan - at `$.rerank.cold_start_videos`",
        ),
        ("[rerank]\nslate = 0\n", "Expected `int` >= 1 - at `$.rerank.slate`"),
        ("[rerank]\ntopic_cap = 0\n", "Expected `int` >= 1 - at `$.rerank.topic_cap`"),
        ("[rerank]\nauthor_floor = 0.0\n", "Expected `float` > 0.0 - at `$.rerank.author_floor`"),
        ("[scoring]\nprior_views = 0.0\n", "Expected `float` > 0.0 - at `$.scoring.prior_views`"),
        (
            "[profile]\nmax_step_value = 0.0\n",
            "Expected `float` > 0.0 - at `$.profile.max_step_value`",
        ),
    ],
)
def test_config_validate_refuses_values_that_break_runs(
    tmp_path: Path, toml: str, message: str
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(toml)
    code, out = run("config", "validate", str(path))
    assert code == 1
    assert out == f"Error: {path}: {message}\n"


def test_zero_is_still_fine_where_it_means_something() -> None:
    config = parse_config(
        "[pick]\ntemperature = 0.0\n[rerank]\nwindow = 0\n[sources]\nexplore = 0\n"
        "[profile]\nnegative_half_life_h = 0.0\n"
    )
    assert config.pick.temperature == 0 and config.rerank.window == 0
    assert parse_config(effective_toml(load_config(None))) == load_config(None)


def test_an_infinite_config_never_reaches_the_world(world_path: Path, tmp_path: Path) -> None:
    path = tmp_path / "inf.toml"
    path.write_text("[scoring]\nsimilarity = inf\n")
    before = sha1(world_path)
    code, out = run(
        "recommend", "--db", str(world_path), "--user", "ann", "--create", "--config", str(path)
    )
    assert code == 1
    assert out == f"Error: {path}: Expected finite `float`, got inf - at `$.scoring.similarity`\n"
    assert sha1(world_path) == before


@pytest.mark.parametrize(
    "args",
    [
        ["config", "validate", "{bad}"],
        ["config", "show", "{bad}"],
        ["recommend", "--db", "{world}", "--user", "ann", "--create", "--config", "{bad}"],
        ["simulate", "--db", "{world}", "--users", "1", "--out", "{out}", "--config", "{bad}"],
    ],
)
def test_a_config_that_is_not_utf8_is_named(
    world_path: Path, tmp_path: Path, args: list[str]
) -> None:
    bad = tmp_path / "latin1.toml"
    bad.write_bytes('name = "café"\n'.encode("latin-1"))
    out_dir = tmp_path / "report"
    before = sha1(world_path)
    filled = [a.format(bad=bad, world=world_path, out=out_dir) for a in args]
    code, out = run(*filled)
    assert code == 1
    assert out == f"Error: {bad}: not UTF-8 text (invalid continuation byte at byte 11)\n"
    assert sha1(world_path) == before
    assert not out_dir.exists()
    with pytest.raises(ConfigError, match="not UTF-8 text"):
        load_config(bad)


# -- events through the Python API ----------------------------------------------------------------


@pytest.fixture
def served(world_path: Path) -> Iterator[tuple[Engine, int, int, float]]:
    """An engine, a viewer and a video served to it, with the video's length."""
    eng = Engine.open(world_path, clock=VirtualClock(0.0))
    uid = eng.new_user()
    rec = eng.next(uid)
    yield eng, uid, rec.video.id, rec.video.duration_s
    eng.close()


@pytest.mark.parametrize(
    ("kind", "details", "message"),
    [
        ("report", {"reason": "boring"}, "report needs reason= one of spam, misleading, "),
        ("report", {}, "report needs reason= one of"),
        ("skip", {"watched_s": float("nan")}, "skip needs watched_s= between 0 and 86400"),
        ("skip", {"watched_s": float("inf")}, "skip needs watched_s= between 0 and 86400"),
        ("skip", {"watched_s": -1.0}, "skip needs watched_s= between 0 and 86400"),
        (
            "skip",
            {"watched_s": "3"},
            "skip needs watched_s= \\(seconds watched, a number\\), got str",
        ),
        ("skip", {"watched_s": True}, "got bool"),
        ("complete", {}, "complete needs watched_s= .*got nothing"),
        ("complete", {"watched_s": 1e9}, "complete needs watched_s= between 0 and 86400 seconds"),
        ("like", {"text": "hi"}, "text= belongs to comment events, not to like"),
        ("skip", {"watched_s": 1.0, "reason": "spam"}, "reason= belongs to report events"),
        ("hide_creator", {"scope": "creator"}, "scope= belongs to not_interested events"),
        ("like", {"watched_s": 3.0}, "watched_s= belongs to skip or complete events, not to like"),
        ("not_interested", {"scope": "vibes"}, "scope= one of video, creator, sound, topic"),
        ("comment", {"text": 42}, "comment needs text="),
        (["like"], {}, "unknown event kind"),
    ],
)
def test_a_bad_event_is_refused_and_nothing_changes(
    served: tuple[Engine, int, int, float],
    world_path: Path,
    kind: Any,
    details: dict[str, Any],
    message: str,
) -> None:
    eng, uid, video_id, _ = served
    profile = eng.profile(uid).as_dict()
    events = count(world_path, "events")
    with pytest.raises(ValueError, match=message):
        eng.record(uid, video_id, kind, **details)
    assert count(world_path, "events") == events
    assert eng.profile(uid).as_dict() == profile


def test_the_unknown_kind_error_lists_every_kind(served: tuple[Engine, int, int, float]) -> None:
    eng, uid, video_id, _ = served
    with pytest.raises(ValueError, match="unknown event kind 'dance'") as refused:
        eng.record(uid, video_id, "dance")
    listed = str(refused.value).split("expected one of ")[1].split(", ")
    assert sorted(listed) == sorted(KINDS)


def test_plausible_events_still_record(
    served: tuple[Engine, int, int, float], world_path: Path
) -> None:
    """Loops make a completion longer than the video; the simulator and the TUI rely on it."""
    eng, uid, video_id, duration = served
    eng.record(uid, video_id, "complete", watched_s=2.5 * duration)
    eng.record(uid, video_id, "skip", watched_s=0)
    eng.record(uid, video_id, "skip", watched_s=MAX_WATCHED_S)
    eng.record(uid, video_id, "report", reason="other", scope=None, text=None, watched_s=None)
    assert count(world_path, "events") == 4


# -- the command line --------------------------------------------------------------------------


def test_an_unknown_viewer_leaves_the_file_untouched(world_path: Path) -> None:
    before = sha1(world_path)
    code, out = run("recommend", "--db", str(world_path), "--user", "nobody")
    assert (code, out) == (1, "Error: unknown viewer 'nobody'\n")
    assert sha1(world_path) == before
    Engine.open(world_path).close()
    assert sha1(world_path) == before


def test_the_first_session_still_records_its_config(world_path: Path, tmp_path: Path) -> None:
    path = tmp_path / "likes.toml"
    path.write_text('name = "likes"\n[reactions]\nlike = 3.0\n')
    code, out = run(
        "recommend", "--db", str(world_path), "--user", "ann", "--create", "-n", "2",
        "--config", str(path),
    )  # fmt: skip
    assert code == 0, out
    conn = sqlite3.connect(world_path)
    stored = conn.execute(
        "SELECT c.name, c.toml FROM sessions s JOIN configs c ON c.id = s.config_id"
    ).fetchall()
    assert stored == [("likes", effective_toml(load_config(path)))]
    assert count(world_path, "configs") == 1


@pytest.mark.parametrize("n", ["0", "-3"])
def test_recommend_wants_at_least_one_pick(world_path: Path, n: str) -> None:
    before = sha1(world_path)
    code, out = run("recommend", "--db", str(world_path), "--user", "ann", "--create", "-n", n)
    assert code == 2
    assert f"Error: Invalid value for '-n': {n} is not in the range 1<=x<=1000." in out
    assert sha1(world_path) == before


def test_recommend_refuses_more_picks_than_a_page_at_once(world_path: Path) -> None:
    """-n 100000 ran for minutes, recording every pick as served; refused before the world
    is opened, in one line naming the ceiling."""
    before = sha1(world_path)
    code, out = run("recommend", "--db", str(world_path), "--user", "ann", "--create", "-n", "1001")
    assert (code, out) == (
        2,
        "Error: Invalid value for '-n': 1001 is not in the range 1<=x<=1000.\n",
    )
    assert sha1(world_path) == before
    code, out = run("recommend", "--help")
    assert "How many picks, at most 1,000." in " ".join(out.split())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["simulate", "--users", "100000000000"], "--users must be at most 100,000"),
        (["simulate", "--sessions", "100000000000"], "--sessions must be at most 1,000"),
        (["compare", "engine", "popular", "--seeds", "1000"], "--seeds must be at most 100"),
        (
            ["simulate", "--users", "100000", "--sessions", "11"],
            "--users × --sessions = 1,100,000 persona-sessions; at most 1,000,000",
        ),
        (
            ["compare", "engine", "random", "--users", "10000", "--sessions", "20", "--seeds", "6"],
            "--users × --sessions × --seeds = 1,200,000 persona-sessions",
        ),
    ],
)
def test_simulations_too_big_for_memory_are_refused(
    world_path: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    out_dir = tmp_path / "report"
    before = sha1(world_path)
    code, out = run(*args, "--db", str(world_path), "--out", str(out_dir))
    assert code == 2  # a usage error, as the README says of values out of range
    assert out.startswith(f"Error: {message}"), out
    assert len(out.strip().splitlines()) == 1
    assert sha1(world_path) == before
    assert not out_dir.exists()


# -- ranking configs at their bounds --------------------------------------------------------------


CONFIG_INFO = msgspec.inspect.type_info(Config)


def numeric_keys(
    struct: msgspec.inspect.Type = CONFIG_INFO, prefix: str = ""
) -> Iterator[tuple[str, msgspec.inspect.FloatType | msgspec.inspect.IntType]]:
    """Every numeric key of the config with its bounds, read from the config's own types (a key
    added later is swept too)."""
    assert isinstance(struct, msgspec.inspect.StructType)
    for field in struct.fields:
        name = f"{prefix}{field.name}"
        if isinstance(field.type, msgspec.inspect.StructType):
            yield from numeric_keys(field.type, f"{name}.")
        elif isinstance(field.type, msgspec.inspect.FloatType | msgspec.inspect.IntType):
            yield name, field.type


def config_toml(values: dict[str, Any]) -> str:
    """A TOML text setting these dotted keys."""
    sections: dict[str, dict[str, Any]] = {}
    top: dict[str, Any] = {}
    for key, value in values.items():
        section, _, name = key.rpartition(".")
        (sections.setdefault(section, {}) if section else top)[name] = value
    return tomli_w.dumps({**top, **sections})


def bound_values(kind: msgspec.inspect.FloatType | msgspec.inspect.IntType) -> st.SearchStrategy:
    """The bounds themselves (where the maths is most likely to overflow) and anything between."""
    low = kind.ge if kind.ge is not None else (kind.gt if kind.gt is not None else 0)
    high = kind.le
    assert high is not None, "every numeric config key needs an upper bound"
    if isinstance(kind, msgspec.inspect.IntType):
        return st.sampled_from([low, high]) | st.integers(low, high)
    ends = [high] if kind.gt is not None else [low, high]
    tiny = st.just(low + 1e-9) if kind.gt is not None else st.nothing()
    between = st.floats(low, high, exclude_min=kind.gt is not None)
    return st.sampled_from(ends) | tiny | between


NUMERIC_KEYS = dict(numeric_keys())
PLAY = [
    ("like", {}),
    ("complete", {"watched_s": 30.0}),
    ("follow", {}),
    ("not_interested", {"scope": "topic"}),
    ("skip", {"watched_s": 0.5}),
    ("hide_creator", {}),
]


@pytest.mark.parametrize("key", sorted(NUMERIC_KEYS))
def test_every_numeric_key_refuses_huge_finite_values(key: str) -> None:
    """1.7e308 is finite, so it passed; then two such terms made inf, and inf - inf NaN picks."""
    kind = NUMERIC_KEYS[key]
    huge = 10**30 if isinstance(kind, msgspec.inspect.IntType) else 1.7e308
    with pytest.raises(ConfigError, match=re.escape(key.rpartition(".")[2])):
        parse_config(config_toml({key: huge}))
    with pytest.raises(ConfigError):
        parse_config(config_toml({key: -huge}))


def test_a_huge_finite_config_never_reaches_the_world(world_path: Path, tmp_path: Path) -> None:
    """The reported case: NaN picks ("Probabilities contain NaN") after --create wrote a viewer."""
    path = tmp_path / "huge.toml"
    path.write_text("[reactions]\ncomplete = 1.7e308\ncomplete_per_minute = 1.7e308\n")
    before = sha1(world_path)
    code, out = run(
        "recommend", "--db", str(world_path), "--user", "ann", "--create", "--config", str(path)
    )
    assert (code, out) == (
        1,
        f"Error: {path}: Expected `float` <= 1000.0 - at `$.reactions.complete`\n",
    )
    assert sha1(world_path) == before


def test_pool_sizes_have_a_ceiling() -> None:
    with pytest.raises(ConfigError, match=r"pools\.sizes must be at most 1,000,000,000"):
        parse_config("[pools]\nsizes = [20, 100, 1000000000000]\n")


@st.composite
def bounded_configs(draw: st.DrawFn) -> Config:
    """A valid config with some numeric keys at or between their bounds."""
    keys = draw(st.lists(st.sampled_from(sorted(NUMERIC_KEYS)), unique=True, min_size=1))
    values: dict[str, Any] = {key: draw(bound_values(NUMERIC_KEYS[key])) for key in keys}
    values["pick.policy"] = draw(st.sampled_from(["softmax", "epsilon_greedy"]))
    return parse_config(config_toml(values))


def all_at(edge: str) -> Config:
    """Every numeric key at its upper (or lower) bound at once."""
    values: dict[str, float] = {}
    for key, kind in NUMERIC_KEYS.items():
        low = kind.ge if kind.ge is not None else (kind.gt or 0) + 1e-9
        values[key] = kind.le if edge == "high" else low  # type: ignore[assignment]
    return parse_config(config_toml(values))


def assert_finite_picks(world: Path, config: Config) -> None:
    eng = Engine.open(world, config=config, clock=VirtualClock(0.0), log=False)
    try:
        uid = eng.new_user(interests=["cooking", "gaming"])
        for kind, details in PLAY:
            rec = eng.next(uid)
            receipt = rec.receipt
            numbers = [receipt.score, receipt.base_score, receipt.affinity, receipt.propensity]
            numbers += [x["score"] for x in receipt.slate] + [
                x["probability"] for x in receipt.slate
            ]
            assert all(math.isfinite(x) for x in numbers), (config, receipt)
            assert 0 < receipt.propensity <= 1
            eng.record(uid, rec.video.id, kind, **details)
            eng.clock.advance(3600.0)  # type: ignore[attr-defined]
    finally:
        eng.close()


@pytest.mark.parametrize("edge", ["high", "low"])
def test_configs_at_every_bound_pick_finite_scores(world_template: Path, edge: str) -> None:
    assert_finite_picks(world_template, all_at(edge))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(config=bounded_configs())
def test_any_valid_config_picks_finite_scores(world_template: Path, config: Config) -> None:
    assert_finite_picks(world_template, config)


# -- where a command writes its files ----------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["offline-eval", "--plot", "/nonexistent/x.png"], "/nonexistent does not exist"),
        (["offline-eval", "--plot", "out.txt"], "give a file name ending in .png"),
        (["offline-eval", "--plot", "world.db/x.png"], "world.db is not a folder"),
        (["simulate", "--users", "2", "--out", "world.db/run"], "world.db is not a folder"),
        (["compare", "a.toml", "b.toml", "--out", "world.db/x/y"], "world.db is not a folder"),
        (["sweep", "a.toml", "--out", "world.db/run"], "world.db is not a folder"),
        (["export", "--out", "world.db/x"], "world.db is not a folder"),
        (["metadata", "--out", "/nonexistent/m.json"], "/nonexistent does not exist"),
    ],
)
def test_an_output_path_that_cannot_be_written_is_refused_before_any_work(
    world_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], message: str
) -> None:
    from engine.store import Store

    def never(*_: object, **__: object) -> None:
        raise AssertionError("the command opened the world before checking its output path")

    monkeypatch.setattr(Store, "open", never)
    code, output = run("--db", str(world_path), *args)
    assert code == 1
    assert output.startswith("Error: ") and output.count("\n") == 1, output
    assert message in output


@pytest.mark.parametrize(
    "args",
    [
        ["simulate", "--users", "2"],
        ["compare", "engine", "random", "--users", "2"],
        ["sweep", "engine", "--grid", "pick.temperature=0.3"],
    ],
)
def test_a_finished_report_is_replaced_only_with_force(
    world_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    """`--out` into a folder holding an earlier run's report replaced it without a word (export
    already asked for --force); refused before the run, as the run may take an hour."""
    from engine.store import Store

    out = tmp_path / "report"
    out.mkdir()
    (out / "metrics.json").write_text("{}")

    def never(*_: object, **__: object) -> None:
        raise AssertionError("the command opened the world before checking its output folder")

    monkeypatch.setattr(Store, "open", never)
    code, output = run("--db", str(world_path), *args, "--out", str(out))
    assert (code, output) == (
        1,
        f"Error: {out / 'metrics.json'} exists; choose a new folder or pass --force\n",
    )
    assert (out / "metrics.json").read_text() == "{}"


def test_force_replaces_a_finished_report(world_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "report"
    out.mkdir()
    (out / "metrics.json").write_text("{}")
    args = ["simulate", "--users", "1", "--sessions", "1", "--no-baselines", "--no-log"]
    code, output = run("--db", str(world_path), *args, "--out", str(out), "--force")
    assert code == 0, output
    assert (out / "metrics.json").read_text() != "{}"


# -- ids beyond SQLite's 64-bit INTEGER ---------------------------------------------------------

HUGE = 10**30


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["explain", str(HUGE)], f"unknown impression id {HUGE}"),
        (["replay", str(HUGE)], f"unknown session {HUGE}"),
        (["evaluate", "--config", "b.toml", "--session", str(-HUGE)], f"unknown session {-HUGE}"),
    ],
)
def test_an_id_beyond_64_bits_is_an_unknown_id(
    world_path: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    (tmp_path / "b.toml").write_text("[pick]\ntemperature = 1.0\n", encoding="utf-8")
    before = sha1(world_path)
    code, output = run("--db", str(world_path), *args)
    assert (code, output) == (1, f"Error: {message}\n")
    assert sha1(world_path) == before


def test_the_api_refuses_ids_beyond_64_bits_as_unknown(world_path: Path) -> None:
    with Engine.open(world_path, log=False) as eng:
        uid = eng.new_user(name="ann")
        video = eng.next(uid).video.id
        with pytest.raises(ValueError, match=f"unknown user id {HUGE}"):
            eng.record(HUGE, video, "like")
        with pytest.raises(ValueError, match=f"unknown video id {HUGE}"):
            eng.record(uid, HUGE, "like")
        with pytest.raises(ValueError, match=f"unknown video id {HUGE}"):
            eng.rank(uid, [video, HUGE])
        with pytest.raises(ValueError, match=f"unknown impression id {-HUGE}"):
            eng.explain(-HUGE)
        assert len(eng.rank(uid, [video]).scores) == 1


# -- float options: nan and inf ------------------------------------------------------------------


def _commands(group: Any, ctx: Any) -> Iterator[tuple[str, Any]]:
    import click

    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        yield name, command
        if isinstance(command, click.Group):
            yield from ((f"{name} {n}", c) for n, c in _commands(command, ctx))


def test_every_float_option_refuses_nan_and_inf() -> None:
    import click

    from tui.cli_options import FiniteFloat

    ctx = click.Context(main)
    floats = {
        f"{name} {param.opts[0]}": type(param.type).__name__
        for name, command in _commands(main, ctx)
        for param in command.params
        if isinstance(param.type, click.types.FloatParamType)
    }
    assert "tour --pace" in floats and "boost --weight" in floats
    assert floats == dict.fromkeys(floats, FiniteFloat.__name__)


@pytest.mark.parametrize(
    "args",  # the refused option and its value last
    [
        ["tour", "--pace", "nan"],
        ["feed", "--autopilot-pace", "nan"],
        ["evaluate", "--config", "b.toml", "--clip", "nan"],
        ["evaluate", "--config", "b.toml", "--clip", "inf"],
        ["offline-eval", "--split", "nan"],
        ["boost", "5", "--until", "1h", "--reason", "x", "--weight", "-inf"],
    ],
)
def test_nan_or_inf_for_a_float_option_is_one_line(world_path: Path, args: list[str]) -> None:
    before = sha1(world_path)
    code, output = run("--db", str(world_path), *args)
    option, value = args[-2:]
    assert (code, output) == (1, f"Error: {option} {value}: give a finite number\n")
    assert sha1(world_path) == before


# -- command-line mistakes: one line, not click's usage block ------------------------------------


def _bounds(param: Any) -> tuple[float | None, float | None]:
    """The range an option is checked against while parsing: click's IntRange or FloatRange
    (FiniteFloat), or the ``bounded`` callback; (None, None) if none."""
    import inspect

    import click

    if isinstance(param.type, click.IntRange | click.FloatRange):
        return param.type.min, param.type.max
    if param.callback is not None and param.callback.__qualname__.startswith("bounded."):
        bounds = inspect.getclosurevars(param.callback).nonlocals
        return bounds["minimum"], bounds["at_most"]
    return None, None


def _out_of_range() -> dict[str, list[str]]:
    """A command line for each bound of every command's range-checked option, one beyond it."""
    import click

    lines = {}
    for name, command in _commands(main, click.Context(main)):
        for param in command.params:
            low, high = _bounds(param)
            option = param.opts[0]
            if low is not None:
                lines[f"{name} {option} below"] = [*name.split(), option, str(low - 1)]
            if high is not None:
                lines[f"{name} {option} above"] = [*name.split(), option, str(high + 1)]
    return lines


def test_the_walk_finds_the_range_checked_options() -> None:
    walked = set(_out_of_range())
    assert {"tour --pace below", "tour --pace above", "feed --autopilot-pace above"} <= walked
    assert {"recommend -n below", "simulate --users above", "evaluate --clip below"} <= walked
    assert {"offline-eval --split above", "compare --seeds above", "sweep --seeds below"} <= walked


@pytest.mark.parametrize("args", list(_out_of_range().values()), ids=list(_out_of_range()))
def test_every_out_of_range_option_is_one_line(tmp_path: Path, args: list[str]) -> None:
    world = tmp_path / "never-made.db"
    result = CliRunner().invoke(main, [*args, "--db", str(world)], catch_exceptions=False)
    assert result.exit_code == 2  # a usage error, as the README says, however it is checked
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stderr.startswith("Error: ") and args[-2] in result.stderr
    assert not world.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["tour", "--pace", "0"],
            "Invalid value for '--pace': 0.0 is not in the range 0.5<=x<=20.0.",
        ),
        (["tour", "--bogus"], "No such option '--bogus'."),
        (["explain"], "Missing argument 'IMPRESSION_ID'."),
        (["nosuchcommand"], "No such command 'nosuchcommand'."),
        (
            ["simulate", "--users", "many"],
            "Invalid value for '--users': 'many' is not a valid integer.",
        ),
        (["recommend", "-n", "1e3"], "Invalid value for '-n': '1e3' is not a valid integer."),
        (["simulate", "--users", "0"], "--users must be at least 1, got 0"),
        (["seed", "--videos", "-1"], "--videos must be at least 50, got -1"),
        (["seed", "--creators", "1"], "--creators must be at least 5, got 1"),
        (
            ["sweep", "engine", "--grid", "pick.temperature=1", "--random", "-1"],
            "--random must be at least 1, got -1",
        ),
        (
            ["import"],
            "Missing argument 'FORMAT'. Choose from movielens, kuairand-features, "
            "kuairand-log, csv.",
        ),
        (
            ["study", "merge", "a.db", "--outt", "b.db"],
            "No such option '--outt'. Did you mean '--out'?",
        ),
    ],
)
def test_a_wrong_command_line_is_one_line(args: list[str], message: str) -> None:
    result = CliRunner().invoke(main, args)
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", f"Error: {message}\n")


def test_help_still_shows_the_usage() -> None:
    result = CliRunner().invoke(main, ["tour", "--help"])
    assert result.exit_code == 0
    assert result.stdout.startswith("Usage: ") and "--pace" in result.stdout
    bare = CliRunner().invoke(main, ["study"])  # a group with no command shows its help
    assert "Usage: " in bare.stderr and "merge" in bare.stderr
