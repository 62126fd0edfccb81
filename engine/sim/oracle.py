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

It records through the same API and tables as the engine (impressions with ``source = "oracle"``
and a receipt saying so; reactions through :meth:`Engine.record`). Because the engine has no
hook for an outside policy, :class:`OracleEngine` subclasses :class:`engine.Engine` and replaces
only ``next``; it reuses these engine internals, read-only except for the bookkeeping ``next``
itself does: ``_state``, ``_refresh_shared``, ``_keyword_blocked``, ``_log_impression``,
``_note_served`` and ``UserState.n_served``, plus ``catalog`` and ``pools``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from engine.api import Engine
from engine.filters import FilterContext, apply_filters
from engine.pipeline import Decision, NothingToRecommendError
from engine.profile import UserState
from engine.receipt import Funnel, Receipt
from engine.sim.persona import Persona
from engine.video import Recommendation

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
SLATE_SHOWN = 8


class OracleEngine(Engine):
    """An engine whose picks come from each attached persona's truth."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._personas: dict[int, Persona] = {}
        super().__init__(*args, **kwargs)

    def attach(self, user_id: int, persona: Persona) -> None:
        """Let the oracle read this viewer's truth."""
        self._personas[user_id] = persona

    def next(self, user_id: int) -> Recommendation:
        """Serve the allowed video with the highest true expected watch time.

        Raises:
            ValueError: no persona attached to this viewer.
            NothingToRecommendError: the engine's filters leave nothing.
        """
        persona = self._personas.get(user_id)
        if persona is None:
            raise ValueError(f"the oracle knows no persona for viewer {user_id}")
        state = self._state(user_id)
        now = self.clock()
        self._refresh_shared(now)
        ids, removed = self._allowed(state, now)
        if len(ids) == 0:
            raise NothingToRecommendError(f"nothing left to recommend to viewer {user_id}")
        value = persona.expected_watch_s(ids)
        order = np.argsort(-value, kind="stable")[:SLATE_SHOWN]
        best = int(order[0])
        video_id = int(ids[best])
        position = state.n_served
        receipt = self._receipt(state, ids, value, order, removed, position)
        decision = Decision(
            video_id=video_id,
            source="oracle",
            score=float(value[best]),
            rank=0,
            propensity=1.0,
            receipt=receipt,
        )
        impression_id = self._log_impression(state, decision, position, now)
        self._note_served(state, video_id, position, impression_id)
        state.n_served += 1
        return Recommendation(
            video=self.video(video_id),
            impression_id=impression_id,
            position=position,
            source="oracle",
            score=decision.score,
            rank=0,
            propensity=1.0,
            receipt=receipt,
        )

    def _allowed(self, state: UserState, now: float) -> tuple[I64, dict[str, int]]:
        everything = np.arange(self.catalog.n, dtype=np.int64)
        context = FilterContext(self.catalog, self.config, now, self._keyword_blocked(state))
        keep, removed = apply_filters(everything, state, context)
        return everything[keep], removed

    def _receipt(
        self,
        state: UserState,
        ids: I64,
        value: F64,
        order: I64,
        removed: dict[str, int],
        position: int,
    ) -> Receipt:
        best = int(ids[order[0]])
        return Receipt(
            video_id=best,
            position=position,
            policy="oracle",
            source="oracle",
            sources=[],
            funnel=Funnel(
                proposed={"oracle": self.catalog.n},
                merged=self.catalog.n,
                removed=removed,
                kept=len(ids),
                diversity_blocked={},
                slate=len(ids),
            ),
            features={},
            affinity=0.0,
            terms={
                "expected watch (s)": {
                    "p": 1.0,
                    "value": float(value[order[0]]),
                    "contribution": float(value[order[0]]),
                }
            },
            base_score=float(value[order[0]]),
            multipliers={},
            author_penalty=1.0,
            score=float(value[order[0]]),
            rank=0,
            propensity=1.0,
            slate=[
                {
                    "video_id": int(ids[j]),
                    "score": float(value[j]),
                    "source": "oracle",
                    "probability": 1.0 if k == 0 else 0.0,
                }
                for k, j in enumerate(order.tolist())
            ],
            boost=None,
            context=self._context(state, best),
        )

    def _context(self, state: UserState, video_id: int) -> dict[str, Any]:
        """The names a receipt's telling uses, as the engine's own receipts carry them."""
        world = self.catalog.world
        v = world.videos
        return {
            "topic": world.topics.name[int(v.topic_id[video_id])],
            "creator": world.creators.handle[int(v.creator_id[video_id])],
            "sound": world.sounds.title[int(v.sound_id[video_id])],
            "country": world.countries[state.country] if state.country >= 0 else "?",
            "pool": int(self.pools.stage[video_id]) + 1,
            "pool_state": "oracle",
        }
