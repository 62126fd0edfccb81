"""The tour's crowd: simulated viewers watching their own feeds beside the presenter's.

A new upload climbs the staged test pools (:mod:`engine.pools`) only as other viewers see it,
and trends move only as other viewers react, so a one-person demo would show neither. The crowd
is a few dozen of the simulator's personas (:class:`engine.sim.Persona`, calibrated behaviour),
each signed up as a simulated viewer (``tour-crowd-N``, reused by later tours) on the same open
engine: every pick goes through ``Engine.next`` and every reaction through ``Engine.record``,
exactly as ``foryou simulate`` drives them, so their rows are marked simulated and the pools,
trends and live counts move as they would with that many people watching.

Threading: the engine and its SQLite connection belong to the app's thread (see
:mod:`tui.session`), so the crowd watches in small batches on the app's timer: about 5 ms a
pick and its rows on the 20k world, :data:`PICKS_PER_STEP` per step.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from engine import Engine, NothingToRecommendError, Recommendation
from engine.sim import Persona

CROWD = 30  # viewers; pools are sized by the active audience, at least 5 viewers each
PICKS_PER_STEP = 6
SEED_BASE = 1000  # persona seeds: tour-crowd-N is persona SEED_BASE + N, every tour


@dataclass
class Viewer:
    """One member of the crowd."""

    user_id: int
    persona: Persona


class Crowd:
    """Simulated viewers that each watch one video per turn when :meth:`step` is called."""

    def __init__(
        self,
        engine: Engine,
        size: int = CROWD,
        *,
        on_pick: Callable[[Recommendation], None] | None = None,
    ) -> None:
        """Sign the crowd up (or find it from an earlier tour).

        Args:
            engine: The open engine the presenter's feed uses.
            size: How many viewers.
            on_pick: Told of every pick served to the crowd.
        """
        self.engine = engine
        self.on_pick = on_pick
        self.viewers = [self._viewer(k) for k in range(size)]
        self.picks = 0
        self._turn = 0

    def _viewer(self, k: int) -> Viewer:
        persona = Persona.draw(self.engine.catalog.world, SEED_BASE + k)
        name = f"tour-crowd-{k}"
        try:
            user_id = self.engine.user_id(name)
        except ValueError:
            user_id = self.engine.new_user(**persona.sign_up(), name=name)
        return Viewer(user_id, persona)

    def step(self, picks: int = PICKS_PER_STEP) -> None:
        """Let the next `picks` viewers in turn watch one video each."""
        for _ in range(picks):
            viewer = self.viewers[self._turn % len(self.viewers)]
            self._turn += 1
            self._watch(viewer)

    def _watch(self, viewer: Viewer) -> None:
        engine, persona = self.engine, viewer.persona
        if not persona.in_session:
            persona.start_session()
        try:
            rec = engine.next(viewer.user_id)
        except NothingToRecommendError:
            return
        self.picks += 1
        reaction = persona.react(rec.video.id)
        for kind, kwargs in reaction.actions:
            engine.record(viewer.user_id, rec.video.id, kind, **kwargs)
        if reaction.leaves:
            engine.end_session(viewer.user_id)
            persona.end_session()
        if self.on_pick is not None:
            self.on_pick(rec)

    def close(self) -> None:
        """End every crowd viewer's session."""
        for viewer in self.viewers:
            self.engine.end_session(viewer.user_id)
