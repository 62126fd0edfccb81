"""Making a study bundle: a validated study written into a world file nobody has watched yet.

The definition as written is kept for the record; the resolved study (every condition's
effective config inlined) is what the bundle runs, so the bundle needs no other file. The
world's content hash is stored too: merging refuses bundles of different worlds.
"""

from __future__ import annotations

import time
from pathlib import Path

import msgspec

from engine.config import config_hash, effective_toml
from engine.store import Store
from engine.store.permissions import make_private
from engine.store.study_log import StudyLog
from engine.study.definition import Condition, Study, StudyError

__all__ = ["create_bundle"]


def create_bundle(path: str | Path, study: Study, definition: str) -> None:
    """Write a study into a world file that has no recorded viewers yet.

    Args:
        definition: the study TOML as written (kept for the record).

    Raises:
        StudyError: the file already holds a study or recorded viewers, or a heated video
            is not in its world.
        StoreError: the file is missing, foreign or from a newer foryou.
    """
    with Store.open(path) as store:
        log = StudyLog(store.db)
        if log.study() is not None:
            raise StudyError(f"{path} already holds a study; make a new bundle")
        if log.count_users():
            raise StudyError(f"{path} has recorded viewers; a study starts from a fresh world")
        videos = int(store.meta()["videos"])
        for condition in study.conditions:
            for video in condition.boost.videos if condition.boost else []:
                if video >= videos:
                    raise StudyError(
                        f"condition {condition.name!r} heats video {video}, but the world has "
                        f"{videos} videos (ids 0-{videos - 1})"
                    )
        # It will hold participants' data: owner-only from before its first study row on.
        make_private(Path(path))
        study_id = log.create_study(
            name=study.name,
            sha256=study.sha256(),
            definition=definition,
            resolved=study.to_json(),
            world_hash=store.content_hash(),
            world_seed=int(store.meta()["world_seed"]),
            created_at=time.time(),
        )
        for condition in study.conditions:
            _add_condition(store, log, study_id, condition)


def _add_condition(store: Store, log: StudyLog, study_id: int, condition: Condition) -> None:
    config = condition.config
    config_id = store.ensure_config(
        name=config.name, sha256=config_hash(config), toml=effective_toml(config)
    )
    boost = None if condition.boost is None else msgspec.to_builtins(condition.boost)
    log.add_condition(
        study_id=study_id,
        name=condition.name,
        config_id=config_id,
        controls=list(condition.controls),
        boost=boost,
    )
