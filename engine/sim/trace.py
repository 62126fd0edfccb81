"""What a simulated run leaves behind for the metrics: one row per impression, and the personas.

The engine's own tables hold the same activity (when logging is on); the trace adds what only
the simulator knows (the persona's unit index, its session, the moment's true appeal) and stays
in memory as one numpy structured array, so metrics never go back to SQLite.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from engine.sources import CODE
from engine.vocabulary import NotInterestedScope

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
Bool = npt.NDArray[np.bool_]

# Codes of the trace's int8 columns. The trace lives in memory (metrics never read it back from
# disk), so its codes are the registries' own and may change with them.
SOURCE_CODE = CODE
SCOPE_CODE: Mapping[str, int] = {name: code for code, name in enumerate(NotInterestedScope)}
NO_NEGATIVE = -1
# Actions whose predicted probability the trace keeps, to check calibration against what the
# persona did (engine.scoring names them; "not_interested" is observed as any scope).
PREDICTED = ("complete", "like", "share", "save", "comment", "follow", "not_interested")
# "No prediction" (random, oracle...): a negative number, not NaN, so that two runs' traces
# still compare equal with np.array_equal (NaN never equals itself).
NO_PREDICTION = -1.0

TRACE_DTYPE = np.dtype(
    [
        ("unit", np.int32),  # persona index within the whole run (replicates stacked)
        ("session", np.int16),  # the persona's session number, from 0
        ("depth", np.int32),  # position in the session, from 0
        ("life", np.int32),  # position in the persona's whole feed, from 0
        ("video", np.int32),
        ("world_t", np.float64),
        ("watched_s", np.float32),
        ("hooked", np.bool_),
        ("completed", np.bool_),
        ("like", np.bool_),
        ("share", np.bool_),
        ("save", np.bool_),
        ("comment", np.bool_),
        ("follow", np.bool_),
        ("rewatch", np.bool_),
        ("negative", np.int8),  # "not interested" scope code, NO_NEGATIVE when none
        ("report", np.bool_),
        ("source", np.int8),  # engine.sources.CODE, NO_CODE for a name it lacks
        ("appeal", np.float32),  # the moment's true appeal, noise included
        # What the policy predicted for the pick (its receipt's P(action)), or NO_PREDICTION.
        *((f"p_{action}", np.float32) for action in PREDICTED),
    ]
)
Trace = npt.NDArray[np.void]


def empty_trace() -> Trace:
    return np.zeros(0, dtype=TRACE_DTYPE)


@dataclass(frozen=True, eq=False)
class Population:
    """The personas of a run, aligned with the trace's ``unit`` column."""

    taste: npt.NDArray[np.float64]  # [P, T] hidden topic taste
    loved: Bool  # [P, T] the persona's true top topics
    accuracy: F64  # [P] rank correlation of the engine's topic affinity with the taste (NaN: none)
    sessions: I64  # [P] sessions completed
    onboarded: Bool | None = None  # [P] named topics at sign-up (None: unknown, taken as all)

    def groups(self) -> dict[str, Bool]:
        """Persona masks of the split every metric is also shown in: those who named topics at
        sign-up, and cold-start personas who named none."""
        onboarded = np.ones(self.size, bool) if self.onboarded is None else self.onboarded
        return {"onboarded": onboarded, "cold": ~onboarded}

    @property
    def size(self) -> int:
        return int(self.taste.shape[0])


def stack_populations(parts: list[Population]) -> Population:
    return Population(
        taste=np.concatenate([p.taste for p in parts]),
        loved=np.concatenate([p.loved for p in parts]),
        accuracy=np.concatenate([p.accuracy for p in parts]),
        sessions=np.concatenate([p.sessions for p in parts]),
        onboarded=np.concatenate([p.groups()["onboarded"] for p in parts]),
    )
