"""The picks of a fixed session, to show that a speed change left every one of them alone.

Five viewers (cold, onboarded, one with topic sliders, one with a keyword filter) react in a
fixed way to each of ``ROUNDS`` picks on the 20k and 100k benchmark worlds, once through
``next()`` one at a time and once through ``next_many``; every logged impression (video, source,
score, rank, propensity, receipt JSON, world time) is written to a JSON file with a digest per
run. Run it on main and on a branch, then compare the files (or the digests):

    python -m benchmarks.same_picks /tmp/main.json      # in main's checkout
    python -m benchmarks.same_picks /tmp/branch.json    # in the branch's
    cmp /tmp/main.json /tmp/branch.json

With numba installed the picks take the compiled kernels (``next()`` too: they are loaded
first); ``FORYOU_KERNELS=numpy`` runs the numpy path, which must give the same file.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
import sqlite3
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import world
from engine import Engine, VirtualClock, kernels

ROUNDS = 60
VIEWERS = 5
KINDS = ("complete", "skip", "like", "not_interested", "follow", "share")
LOGGED = "user_id, video_id, position, world_t, source, score, rank, propensity, receipt"


def session(path: Path, batched: bool) -> list[list[str]]:
    """Every impression the session logs, each column as its repr (floats bit for bit)."""
    clock = VirtualClock(0.0)
    with Engine.open(path, clock=clock) as eng:
        topics = eng.topics()
        users = [
            eng.new_user([] if k % 3 == 0 else topics[k : k + 2], pick_seed=7 + k)
            for k in range(VIEWERS)
        ]
        eng.set_controls(users[1], topic_sliders={topics[5]: 2.5, topics[6]: 0.5})
        eng.set_controls(users[2], keyword_filters=["cat"], allow_sensitive=True)
        for round_ in range(ROUNDS):
            recs = eng.next_many(users) if batched else [eng.next(u) for u in users]
            for k, (user, rec) in enumerate(zip(users, recs, strict=True)):
                react(eng, user, rec.video.id, np.random.default_rng([round_, k]))
            clock.advance(37.0)
    with sqlite3.connect(path) as db:
        rows = db.execute(f"SELECT {LOGGED} FROM impressions ORDER BY id").fetchall()
    return [[repr(value) for value in row] for row in rows]


def react(eng: Engine, user: int, video: int, rng: np.random.Generator) -> None:
    """A fixed function of the round and the viewer: maybe a reaction, then the close."""
    kind = KINDS[int(rng.integers(len(KINDS)))]
    if kind == "not_interested":
        eng.record(user, video, kind, scope="video")
    elif kind not in ("complete", "skip"):
        with contextlib.suppress(ValueError):  # following a creator already followed
            eng.record(user, video, kind)
    closing = "complete" if kind in ("complete", "like", "share") else "skip"
    eng.record(user, video, closing, watched_s=float(rng.uniform(1.0, 30.0)))


def main(out: Path) -> None:
    kernels.load()
    print(f"picks: {kernels.path()} path")
    result: dict[str, Any] = {}
    for videos in (20_000, 100_000):
        for batched in (False, True):
            name = f"{videos} videos, {'next_many' if batched else 'next'}"
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "world.db"
                shutil.copy(world(videos), path)
                rows = session(path, batched)
            digest = hashlib.sha256(json.dumps(rows).encode()).hexdigest()[:16]
            print(f"{name}: {len(rows)} impressions, digest {digest}")
            result[name] = rows
    out.write_text(json.dumps(result))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("Error: give the JSON file to write (python -m benchmarks.same_picks OUT.json)")
    main(Path(sys.argv[1]))
