"""User studies: a definition in TOML, a bundle file, and the steps a participant goes through.

The interactive flow (consent, questionnaires, onboarding, the timed feed, debrief, code) is
the interface's; everything it records and reads goes through :class:`StudyBundle`.
"""

from engine.study.allocation import allocate, allocation_sequence
from engine.study.bundle import Enrolment, StudyBundle, open_bundle
from engine.study.create import create_bundle
from engine.study.debrief import Debrief, TrajectoryPoint
from engine.study.definition import (
    CONTROLS,
    Choice,
    CompletionCode,
    Condition,
    Heating,
    Item,
    Likert,
    SessionLength,
    Study,
    StudyError,
    Text,
    load_study,
    parse_study,
)
from engine.study.feed import Feed, Remaining
from engine.study.merge import merge_bundles
from engine.study.status import ConditionStatus, StudyStatus

__all__ = [
    "CONTROLS",
    "Choice",
    "CompletionCode",
    "Condition",
    "ConditionStatus",
    "Debrief",
    "Enrolment",
    "Feed",
    "Heating",
    "Item",
    "Likert",
    "Remaining",
    "SessionLength",
    "Study",
    "StudyBundle",
    "StudyError",
    "StudyStatus",
    "Text",
    "TrajectoryPoint",
    "allocate",
    "allocation_sequence",
    "create_bundle",
    "load_study",
    "merge_bundles",
    "open_bundle",
    "parse_study",
]
