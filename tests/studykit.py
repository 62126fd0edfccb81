"""Helpers the study, export, replay and evaluation tests share: a two-condition study on the
3,000-video test world, and participants driven through it the way the study screens will."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np

from engine import VirtualClock
from engine.study import StudyBundle, create_bundle, load_study

STUDY = """\
name = "heating-pilot"
description = "Does disclosed heating change what people watch?"
consent = "You will watch synthetic short videos for a few minutes. Do you agree?"
completion_code = "FYP-7Q2"
debrief = true

[world]
videos = 3000
seed = 7

[session]
videos = 8

[allocation]
seed = 2024
block_size = 2

[[conditions]]
name = "control"
config = {{ seed = 1, reactions = {{ like = 2.0 }} }}
controls = ["not_interested", "hide_creator", "why"]

[[conditions]]
name = "heated"
config = "heated.toml"
controls = ["why", "topic_sliders"]
boost = {{ videos = {heated}, weight = 40.0, reason = "pilot heating", disclosed = false }}

[[pre]]
id = "age"
kind = "choice"
text = "Your age band"
options = ["18-24", "25-34", "35+"]

[[pre]]
id = "hours"
kind = "likert"
text = "How many hours a day do you watch short videos?"
scale = 5
anchors = ["none", "more than 3"]

[[post]]
id = "enjoy"
kind = "likert"
text = "How much did you enjoy the feed?"
scale = 7

[[post]]
id = "notes"
kind = "text"
text = "Anything else you noticed?"
"""

HEATED_CONFIG = 'name = "heated"\nseed = 2\n[rerank]\nslate = 12\n'


def heatable_videos(world: Path, n: int = 6) -> list[int]:
    """Published, harmless English videos: ones the engine may show to anyone."""
    conn = sqlite3.connect(world)
    try:
        rows = conn.execute(
            "SELECT id FROM videos WHERE spam = 0 AND sensitive = 0 AND published_at < -86400 "
            "AND duplicate_of IS NULL AND language = 'en' ORDER BY id LIMIT ?",
            [n],
        ).fetchall()
    finally:
        conn.close()
    return [int(r[0]) for r in rows]


def write_study(directory: Path, world: Path, text: str = STUDY) -> Path:
    """The study TOML (and its heated config) in ``directory``."""
    (directory / "heated.toml").write_text(HEATED_CONFIG)
    path = directory / "study.toml"
    path.write_text(text.format(heated=heatable_videos(world)))
    return path


def make_bundle(world: Path, directory: Path, text: str = STUDY) -> Path:
    """Turn a private copy of the test world into a study bundle."""
    definition = write_study(directory, world, text)
    create_bundle(world, load_study(definition), definition.read_text())
    return world


def watch(
    bundle: StudyBundle,
    participant: str,
    clock: VirtualClock,
    rng: np.random.Generator,
    *,
    videos: int | None = None,
    interests: tuple[str, ...] = ("cooking",),
    prefetch: bool = True,
) -> int:
    """Open the participant's feed and watch ``videos`` (default: until it is over).

    Watches like a person: sees each video, skips or completes it, sometimes likes it, and
    sometimes lets the app prefetch the next one. Returns the videos watched in this run.
    """
    watched = 0
    with bundle.open_feed(participant, interests=list(interests), clock=clock) as feed:
        while not feed.over() and (videos is None or watched < videos):
            rec = feed.next()
            if prefetch and rng.random() < 0.25:
                feed.next()
            feed.seen(rec.video.id)
            duration = rec.video.duration_s
            seconds = duration if rng.random() < 0.4 else float(rng.uniform(0.5, duration))
            kind = "complete" if seconds >= duration else "skip"
            feed.record(rec.video.id, kind, watched_s=seconds)
            if rng.random() < 0.3:
                feed.record(rec.video.id, "like")
            clock.advance(seconds + 0.5)
            watched += 1
    return watched


def complete(bundle: StudyBundle, participant: str, clock: VirtualClock, seed: int = 0) -> str:
    """One participant from consent to completion code."""
    bundle.record_consent(participant, agreed=True)
    bundle.record_answers(participant, "pre", {"age": "25-34", "hours": 3})
    watch(bundle, participant, clock, np.random.default_rng(seed))
    bundle.record_answers(participant, "post", {"enjoy": 6, "notes": "more cats please"})
    return bundle.finish(participant)
