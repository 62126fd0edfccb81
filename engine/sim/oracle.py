"""The oracle baseline: a feed that knows each persona's hidden truth.

Reports place the engine between random (0) and it (1) on watch time per session. For each pick
it takes every video the engine itself would allow (the engine's own filters: published, unseen,
not a duplicate, not hidden, not dismissed, not spam, sensitive only if allowed...) from the
*whole* catalog, and serves the one with the highest true expected watch time for that persona
right now (mood and satiation included, the moment's noise averaged out:
:func:`engine.sim.watch.expected_watch_s`). So it is a ceiling on expected watch time per
impression only. It is greedy (it does not plan for satiation or the leave hazard, so a policy
could beat it on watch time per session), and it optimises nothing else: on likes, diversity,
coverage or session depth it is a reference, not a bound.

It is a policy like any other (:mod:`engine.policy`): the simulation runner hands it to a plain
:class:`engine.Engine` and attaches each viewer's persona, so it records through the same API
and tables as the engine (impressions with ``source = "oracle"`` and a receipt saying so).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from engine.pipeline import Decision, NothingToRecommendError
from engine.policy import PickRequest, PolicyBase, plain_receipt
from engine.sim.persona import Persona

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
SLATE_SHOWN = 8


class OraclePolicy(PolicyBase):
    """Picks from each attached persona's truth (deterministic: propensity 1)."""

    name = "oracle"

    def __init__(self) -> None:
        self._personas: dict[int, Persona] = {}

    def attach(self, user_id: int, persona: Persona) -> None:
        """Let the oracle read this viewer's truth."""
        self._personas[user_id] = persona

    def pick(self, request: PickRequest) -> Decision:
        """Serve the allowed video with the highest true expected watch time.

        Raises:
            ValueError: no persona attached to this viewer.
            NothingToRecommendError: the engine's filters leave nothing.
        """
        persona = self._personas.get(request.viewer_id)
        if persona is None:
            raise ValueError(f"the oracle knows no persona for viewer {request.viewer_id}")
        ids, removed = request.allowed()
        if len(ids) == 0:
            raise NothingToRecommendError(
                f"nothing left to recommend to {request.state.name}", request.viewer_id
            )
        value = persona.expected_watch_s(ids)
        order = np.argsort(-value, kind="stable")[:SLATE_SHOWN]
        best = int(order[0])
        probabilities = np.zeros(len(order))
        probabilities[0] = 1.0
        receipt = plain_receipt(
            request,
            ids[order],
            value[order],
            probabilities,
            removed=removed,
            kept=len(ids),
            policy=self.name,
            pool_state="oracle",
            term="expected watch (s)",
        )
        return Decision(
            video_id=int(ids[best]),
            source="oracle",
            score=float(value[best]),
            rank=0,
            propensity=1.0,
            receipt=receipt,
            slate_ids=ids[order],
            slate_probabilities=probabilities,
        )
