"""One vocabulary: event kinds, scopes, report reasons and candidate sources are each listed once.

The enums in :mod:`engine.vocabulary` and the source registry in :mod:`engine.sources` are what
every checker, table and screen reads; these tests hold the readers to them and check that what
a viewer is told and what is stored did not change with them.
"""

from __future__ import annotations

import ast
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from textual.app import App, ComposeResult
from textual.widgets import Static

from engine import Engine, VirtualClock
from engine.events import STAT_OF_KIND
from engine.policy import BUILTIN
from engine.reactions import DETAIL_KINDS, KINDS, REPORT_REASONS, SCOPES, UNDO, check_event
from engine.receipt import Funnel, Receipt
from engine.scoring import ACTIONS, RATE_OF
from engine.sim import trace
from engine.sources import CODE, PRIORITY, WORDS, Source, receipt_sentence, short_words
from engine.study.feed import CONTROL_OF_KIND
from engine.trending import EVENT_WEIGHT
from engine.vocabulary import EventKind, NotInterestedScope, ReportReason
from tui.autopilot import KEYS
from tui.screens.study_debrief import sources_text
from tui.screens.why import ACTION_WORDS, pick_line
from tui.widgets.profile_panel import REACTION_WORDS
from tui.widgets.video_details import VideoDetails

ROOT = Path(__file__).resolve().parents[1]
# Every key Receipt.context holds: a receipt sentence may name any of them.
CONTEXT = {
    "topic": "Cooking",
    "creator": "ana",
    "sound": "a song",
    "country": "Portugal",
    "pool": 2,
    "pool_state": "testing",
}
NO_DETAILS: dict[str, Any] = {"watched_s": None, "scope": None, "reason": None, "text": None}


# -- event kinds, scopes, report reasons -----------------------------------------------------


def test_record_accepts_every_kind_but_refresh_and_stores_the_same_text(world_path: Path) -> None:
    details: dict[str, dict[str, Any]] = {
        "skip": {"watched_s": 1.0},
        "complete": {"watched_s": 30.0},
        "not_interested": {"scope": "video"},
        "report": {"reason": "spam"},
        "comment": {"text": "nice"},
    }
    with Engine.open(world_path, clock=VirtualClock(0.0)) as engine:
        uid = engine.new_user(["cooking"])
        video = engine.next(uid).video.id
        # Do before undo; the members themselves, as a caller holding the enum passes them.
        for kind in sorted(KINDS, key=lambda k: k.startswith("un")):
            engine.record(uid, video, kind, **details.get(kind, {}))
        with pytest.raises(ValueError, match="unknown event kind 'refresh'"):
            engine.record(uid, video, "refresh")
        engine.refresh(uid)
    with sqlite3.connect(world_path) as conn:
        stored = conn.execute("SELECT DISTINCT kind, typeof(kind) FROM events").fetchall()
    assert {kind for kind, _ in stored} == {str(k) for k in EventKind}
    assert {type_ for _, type_ in stored} == {"text"}
    assert set(EventKind) - {EventKind.REFRESH} == KINDS


@pytest.mark.parametrize("kind", ["vibes", "Like", "", 3, None])
def test_check_event_refuses_a_kind_outside_the_enum_as_it_always_did(kind: Any) -> None:
    listed = (
        "comment, complete, follow, hide_creator, like, not_interested, report, rewatch, save, "
        "share, skip, unfollow, unhide_creator, unlike, unsave"
    )
    with pytest.raises(ValueError, match="unknown event kind") as refused:
        check_event(kind, **NO_DETAILS)
    assert str(refused.value) == f"unknown event kind {kind!r}; expected one of {listed}"


def test_scopes_and_reasons_are_refused_with_the_enums_in_order() -> None:
    with pytest.raises(ValueError, match="needs scope=") as scope:
        check_event("not_interested", **NO_DETAILS | {"scope": "vibes"})
    assert str(scope.value) == (
        "not_interested needs scope= one of video, creator, sound, topic, got 'vibes'"
    )
    with pytest.raises(ValueError, match="needs reason=") as reason:
        check_event("report", **NO_DETAILS | {"reason": "boring"})
    assert str(reason.value) == (
        "report needs reason= one of spam, misleading, harmful, sensitive, hateful, other, "
        "got 'boring'"
    )
    assert tuple(NotInterestedScope) == SCOPES and tuple(ReportReason) == REPORT_REASONS
    # The trace's scope codes are the enum's order (the metrics read them).
    assert list(trace.SCOPE_CODE) == list(NotInterestedScope)


@pytest.mark.parametrize(
    ("table", "keys"),
    [
        ("events.STAT_OF_KIND", set(STAT_OF_KIND)),
        ("trending.EVENT_WEIGHT", set(EVENT_WEIGHT)),
        ("scoring.ACTIONS", set(ACTIONS) | set(RATE_OF)),
        ("reactions.UNDO", set(UNDO) | set(UNDO.values())),
        ("reactions.DETAIL_KINDS", {kind for kinds in DETAIL_KINDS.values() for kind in kinds}),
        ("study.CONTROL_OF_KIND", set(CONTROL_OF_KIND)),
        ("why.ACTION_WORDS", set(ACTION_WORDS)),
        ("profile_panel.REACTION_WORDS", set(REACTION_WORDS)),
        ("autopilot.KEYS", set(KEYS)),
    ],
)
def test_every_table_keyed_by_kind_names_real_kinds(table: str, keys: set[str]) -> None:
    assert keys <= set(EventKind), f"{table} names {sorted(keys - set(EventKind))}"


# -- candidate sources -----------------------------------------------------------------------


def test_every_source_has_receipt_text_and_both_word_sets() -> None:
    assert set(WORDS) == set(Source)
    for source in Source:
        words = WORDS[source]
        assert words.receipt.format(**CONTEXT).endswith("."), source
        assert words.why and words.short, source
        assert "{" not in receipt_sentence(source, CONTEXT)


def test_every_reader_of_sources_reads_the_registry() -> None:
    assert tuple(Source)[: len(PRIORITY)] == PRIORITY, "the enum's order is the priority"
    assert set(trace.SOURCE_CODE) == set(Source) and dict(trace.SOURCE_CODE) == dict(CODE)
    assert all(CODE[name] == code for code, name in enumerate(PRIORITY))
    assert max(CODE.values()) <= 127, "codes fit the int8 columns"
    told = sources_text(dict.fromkeys(Source, 1), heating_disclosed=True)
    assert all(WORDS[s].short in told for s in Source)


def test_a_pick_is_credited_to_its_first_source_in_priority_order(world_path: Path) -> None:
    with Engine.open(world_path, clock=VirtualClock(0.0), log=False) as engine:
        uid = engine.new_user(["cooking"])
        # Trending proposes it and a boost too: one pick with two sources, whatever the draws.
        top = int(engine.trending.top_videos[0])
        engine.boost(top, weight=1000.0, until=3600.0, reason="a second source for one pick")
        receipts = []
        for _ in range(12):
            rec = engine.next(uid)
            engine.record(uid, rec.video.id, "complete", watched_s=30.0)
            receipts.append(rec.receipt)
    assert any(len(r.sources) > 1 for r in receipts), "some pick had several sources"
    for receipt in receipts:
        assert receipt.source == min(receipt.sources, key=CODE.__getitem__)
        proposed = list(receipt.funnel.proposed)
        assert proposed == sorted(proposed, key=CODE.__getitem__)
        assert set(proposed) <= set(PRIORITY)


def test_receipts_and_the_why_screen_tell_every_source() -> None:
    sources = [str(s) for s in Source]
    receipt = Receipt(
        video_id=1,
        position=0,
        policy="engine",
        source="follow",
        sources=sources,
        funnel=Funnel(dict.fromkeys(sources, 1), 13, {}, 13, {}, 5),
        features={},
        affinity=0.0,
        terms={},
        base_score=1.0,
        multipliers={},
        author_penalty=1.0,
        score=1.0,
        rank=0,
        propensity=0.5,
        slate=[],
        boost=None,
        context=CONTEXT,
    )
    reasons = receipt.reasons()
    for source in Source:
        if source != Source.BOOSTED:  # told by the boost's own line
            assert WORDS[source].receipt.format(**CONTEXT) in reasons
    line = pick_line(receipt).plain
    assert all(WORDS[s].why in line for s in Source)


def test_why_says_a_whole_policys_pick_came_from_the_policy(world_path: Path) -> None:
    """A random pick proposes nothing through the engine's sources; the why screen used to say
    "Proposed by . Ranked #1 ..."."""
    with Engine.open(world_path, clock=VirtualClock(0.0), log=False, policy="random") as engine:
        receipt = engine.next(engine.new_user(["cooking"])).receipt
    assert pick_line(receipt).plain.startswith(f"Proposed by {WORDS[Source.RANDOM].why}. Ranked")


def test_a_developer_policys_own_source_is_told_by_its_name() -> None:
    assert short_words("my-ranker") == "my-ranker"
    assert receipt_sentence("my-ranker", CONTEXT) == "Proposed by my-ranker."


class DetailsApp(App[None]):
    def compose(self) -> ComposeResult:
        yield VideoDetails(scrolling=False)


async def test_the_video_details_say_where_every_source_came_from(world_path: Path) -> None:
    with Engine.open(world_path, clock=VirtualClock(0.0), log=False) as engine:
        video = engine.next(engine.new_user(["cooking"])).video
    app = DetailsApp()
    async with app.run_test() as pilot:
        details = app.query_one(VideoDetails)
        for source in Source:
            details.show(video, following=False, position=0, source=source)
            await pilot.pause()
            meta = str(details.query_one("#meta", Static).render())
            assert f"from {WORDS[source].short}" in meta, source


def test_no_module_keeps_its_own_list_of_sources() -> None:
    """A dict, list, tuple or set naming three or more sources, outside the registry, is a copy
    that will drift (the registry replaced six of them)."""
    # A whole policy credits its picks to its own name: a list of policies is not one of sources.
    names = {str(s) for s in Source} - set(BUILTIN)
    copies = []
    for path in [*ROOT.glob("engine/**/*.py"), *ROOT.glob("tui/**/*.py")]:
        if path.name == "sources.py" and path.parent.name == "engine":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            items = node.keys if isinstance(node, ast.Dict) else getattr(node, "elts", [])
            if not isinstance(node, ast.Dict | ast.List | ast.Tuple | ast.Set):
                continue
            found = {i.value for i in items if isinstance(i, ast.Constant)} & names
            if len(found) >= 3:
                copies.append(f"{path.relative_to(ROOT)}:{node.lineno} {sorted(found)}")
    assert not copies


def test_a_random_picks_tiny_chance_is_told_not_rounded_to_zero(world_path: Path) -> None:
    """A uniform pick among ~3,000 videos has a chance of about 0.03%; "0.0%" told the audience
    it could not have been shown."""
    with Engine.open(world_path, clock=VirtualClock(0.0), log=False, policy="random") as engine:
        receipt = engine.next(engine.new_user(["cooking"])).receipt
    chance = receipt.reasons()[-1].rsplit("chance of being shown: ", 1)[1].rstrip(".%")
    assert 0 < receipt.propensity < 0.001
    assert float(chance) == pytest.approx(100 * receipt.propensity, rel=0.05)
