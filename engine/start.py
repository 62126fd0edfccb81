"""What an engine restores when it opens: the world's shared state as earlier runs left it.

Live engagement counters, test-pool rows, boosts, recent trending events, the learned P(action)
model, the active audience (who sizes the test pools) and co-engagement (learned from every
viewer's completions and likes) belong to every viewer of a world, so an engine starts from them
rather than from the world as built. Where
they come from is a part passed to the engine: :class:`FileStart` reads the file (what a
normal open does; ``activity=False`` sees the world as built, which replay re-lives from),
and a simulation hands every shard the same frozen
:class:`engine.sim.snapshot.StartState` so that shards never see each other's writes.
"""

from __future__ import annotations

from typing import Any, Protocol

from engine.learned import MODEL_NAME
from engine.store import Store
from engine.store.activity import BUILT_MODEL

__all__ = ["FileStart", "Start"]


class Start(Protocol):
    """The restore-time reads of an engine (rows as :class:`engine.store.Store` returns them)."""

    def live_stats(self) -> list[tuple[Any, ...]]: ...

    def pools(self) -> list[tuple[Any, ...]]: ...

    def boosts(self) -> list[dict[str, Any]]:
        """The boosts table, read again whenever :meth:`data_version` changes."""
        ...

    def recent_events(self, since_world_t: float) -> list[tuple[float, int, str]]: ...

    def recent_viewers(self, since_world_t: float) -> list[tuple[int, float]]:
        """(viewer, world time of their last closed viewing) since a world time."""
        ...

    def positive_events(self) -> list[tuple[int, int, str]]:
        """(viewer, video, kind) of every completion and like, in recorded order."""
        ...

    def data_version(self) -> int:
        """Changes when another connection wrote to the file (boosts may have changed)."""
        ...

    def learned_model(self, name: str) -> str | None:
        """The stored state of a learned P(action) model (:mod:`engine.learned`)."""
        ...

    def learning_history(self, limit: int) -> list[dict[str, Any]]:
        """Recent logged picks a learned model without a stored state is fitted on."""
        ...


class FileStart:
    """The file's own state, read when asked.

    Args:
        activity: False to see no recorded activity (no live counters, pool rows or recent
            events): the world as built, with its operator boosts.
        operator_boosts: False to see no boosts table: a study feed applies its condition's
            heating only, or an operator's ``foryou boost`` would heat every condition.
    """

    def __init__(
        self, store: Store, *, activity: bool = True, operator_boosts: bool = True
    ) -> None:
        self.store = store
        self.activity = activity
        self.operator_boosts = operator_boosts

    def live_stats(self) -> list[tuple[Any, ...]]:
        return self.store.live_stats() if self.activity else []

    def pools(self) -> list[tuple[Any, ...]]:
        return self.store.pools() if self.activity else []

    def boosts(self) -> list[dict[str, Any]]:
        return self.store.boosts() if self.operator_boosts else []

    def recent_events(self, since_world_t: float) -> list[tuple[float, int, str]]:
        return self.store.recent_events(since_world_t) if self.activity else []

    def recent_viewers(self, since_world_t: float) -> list[tuple[int, float]]:
        return self.store.recent_viewers(since_world_t) if self.activity else []

    def positive_events(self) -> list[tuple[int, int, str]]:
        return self.store.positive_events() if self.activity else []

    def data_version(self) -> int:
        return self.store.data_version()

    def learned_model(self, name: str) -> str | None:
        # Seen as built, the engine's model is the one the world was built with, if any.
        if self.activity:
            return self.store.learned_model(name)
        return self.store.learned_model(BUILT_MODEL) if name == MODEL_NAME else None

    def learning_history(self, limit: int) -> list[dict[str, Any]]:
        return self.store.learning_history(limit) if self.activity else []
