"""How a study is going: participants per condition, completions and median duration."""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from engine.study.definition import Study

__all__ = ["ConditionStatus", "StudyStatus", "study_status"]


@dataclass(frozen=True)
class ConditionStatus:
    name: str
    allocated: int
    in_feed: int  # watching, or left in the middle of the feed
    after_feed: int  # the feed is over: in the post-questionnaire or the debrief
    completed: int
    median_duration_s: float | None  # consent to completion, completed participants


@dataclass(frozen=True)
class StudyStatus:
    study: str
    declined: int
    conditions: list[ConditionStatus]

    @property
    def completed(self) -> int:
        return sum(c.completed for c in self.conditions)


def study_status(study: Study, participants: Sequence[Mapping[str, Any]]) -> StudyStatus:
    """Summarise participant rows (with their condition's name as ``condition``)."""
    conditions = []
    for condition in study.conditions:
        mine = [r for r in participants if r["condition"] == condition.name]
        done = [r for r in mine if r["status"] == "completed"]
        durations = [r["finished_at"] - r["consented_at"] for r in done]
        conditions.append(
            ConditionStatus(
                name=condition.name,
                allocated=len(mine),
                in_feed=sum(r["status"] == "in_feed" for r in mine),
                after_feed=sum(r["status"] == "after_feed" for r in mine),
                completed=len(done),
                median_duration_s=statistics.median(durations) if durations else None,
            )
        )
    declined = sum(r["status"] == "declined" for r in participants)
    return StudyStatus(study=study.name, declined=declined, conditions=conditions)
