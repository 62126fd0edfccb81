"""What a logged simulation writes: each impression and event row says what the persona was
shown and did (the run's trace), column by column, and each receipt agrees with its row.

The writes of a logged round take shortcuts of their own (receipts written out for the whole
batch, a savepoint per event); a lost, shifted or swapped column shows here.
"""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import numpy as np
from sqlite_utils import Database

from engine.receipt import Receipt
from engine.sim.baselines import builtin_arm
from engine.sim.experiment import RunSpec, run_experiment
from engine.sim.trace import NO_NEGATIVE, SCOPE_CODE

SCOPES = {code: scope for scope, code in SCOPE_CODE.items()}
FLAGS = ("like", "share", "save", "comment", "follow", "report")


def test_logged_rows_say_what_each_persona_saw_and_did(world_path: Path) -> None:
    spec = RunSpec(db_path=world_path, users=6, sessions=2, seed=4, log=True, shard_size=6)
    trace = run_experiment(spec, [builtin_arm("engine")]).runs["engine"].trace
    db = Database(world_path)
    impressions = list(db.query("SELECT * FROM impressions WHERE source != 'revisit' ORDER BY id"))
    events = list(db.query("SELECT * FROM events ORDER BY id"))
    assert len(impressions) == len(trace) and len(events) > len(impressions)

    # Each persona's moments are its own: a (video, moment) names one viewing of the trace.
    viewing = {(int(r["video"]), float(r["world_t"])): r for r in trace}
    by_impression: dict[int, list[dict[str, object]]] = {}
    for event in events:
        by_impression.setdefault(int(event["impression_id"]), []).append(event)
    positions: Counter[int] = Counter()
    for row in impressions:
        seen = viewing[(row["video_id"], row["world_t"])]
        assert row["position"] == positions[row["user_id"]]  # served in order, from 0
        positions[row["user_id"]] += 1
        assert math.isclose(row["watched_s"], float(seen["watched_s"]), abs_tol=0.01)
        assert math.isclose(row["seen_end"] - row["seen_start"], row["watched_s"], abs_tol=1e-6)
        receipt = Receipt.from_json(row["receipt"])
        assert (receipt.video_id, receipt.position, receipt.source, receipt.rank) == (
            row["video_id"],
            row["position"],
            row["source"],
            row["rank"],
        )
        assert (receipt.score, receipt.propensity) == (row["score"], row["propensity"])
        assert row["source"] in receipt.sources  # the source credited proposed it
        # The learned terms of this pick (not a neighbour's in the batch): they add up to the
        # logit of its P(action).
        assert receipt.learned
        for action, terms in receipt.learned.items():
            p = receipt.terms[action]["p"]
            assert math.isclose(sum(terms.values()), math.log(p / (1 - p)), abs_tol=1e-6)

        own = by_impression.pop(row["id"])
        for event in own:
            assert (event["user_id"], event["session_id"], event["video_id"]) == (
                row["user_id"],
                row["session_id"],
                row["video_id"],
            )
            assert event["world_t"] == row["world_t"]
        kinds = Counter(str(e["kind"]) for e in own)
        closing = [e for e in own if e["kind"] in ("complete", "skip")]
        assert len(closing) == 1 and closing[0]["watched_s"] == row["watched_s"]
        assert closing[0]["at"] == row["seen_end"]
        assert (closing[0]["kind"] == "complete") == bool(seen["completed"])
        assert {f for f in FLAGS if kinds[f]} == {f for f in FLAGS if seen[f]}
        assert (kinds["rewatch"] > 0) == bool(seen["rewatch"])
        negatives = [e["scope"] for e in own if e["kind"] == "not_interested"]
        expected = [] if seen["negative"] == NO_NEGATIVE else [SCOPES[int(seen["negative"])]]
        assert negatives == expected
    assert by_impression == {}  # no event without its impression

    # The live counters add up what the events did (the world starts with none).
    likes = Counter(int(e["video_id"]) for e in events if e["kind"] == "like")
    stats = {r["video_id"]: r for r in db.query("SELECT * FROM video_stats_live")}
    assert {v: int(stats[v]["likes"]) for v in likes} == dict(likes)
    assert sum(int(r["likes"]) for r in stats.values()) == sum(likes.values())
    assert np.isin(trace["like"], [True]).sum() == sum(likes.values())
