"""foryou's synthetic world generator: ``generate_world(WorldSpec(...), epoch_unix=...)``.

Pure and in memory: it returns an ``engine.world.World`` and leaves writing it to the store.
"""

from seed.generate import generate_world
from seed.spec import WorldSpec

__all__ = ["WorldSpec", "generate_world"]
