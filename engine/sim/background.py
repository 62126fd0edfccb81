"""The model a synthetic world is built with: learned from simulated background viewers.

The learned P(action) (:mod:`engine.learned`) starts at the ``[scoring]`` formula, whose numbers
are no probabilities until evidence arrives: on a new world the first viewer's receipts said
"like it 63%" where simulated viewers like about 2% of what they see, and the calibration the
engine reaches in a simulation took thousands of impressions to learn. A synthetic world's
background engagement (``video_stats``) is drawn when it is built; so is, here, the model its
background viewers would have taught: :data:`BACKGROUND_USERS` personas watch
:data:`BACKGROUND_SESSIONS` sessions each through the default engine, in memory, and what the
model learned is stored as the world's model as built (:data:`engine.store.activity.BUILT_MODEL`,
which replay and evaluation start from) and as the engine's (which the first feed resumes).
Nothing else of theirs is kept: no viewer, impression or count.

Their personas come from the world's seed on a replicate no simulation draws
(:data:`BACKGROUND_REPLICATE`), so a simulation's personas are never the ones the model met.
Measured on the 20k benchmark world (issue 14's personas, engine arm, 200 x 3 sessions x 3
seeds, with and without the seed-42 background model): watch per session 503.1 -> 511.6 s, ECE
of P(complete) 0.022 -> 0.009 and of P(like) 0.003 -> 0.001; but cold personas' loved-topic share
of impressions 21-40 0.224 -> 0.189 and the scripted two-topic viewer's 0.738 -> 0.693 (its
target is 0.7): a model that knows how rarely viewers finish trusts one viewer's few finishes
less. So ``foryou seed`` runs it only when asked (``--background-viewers``).
"""

from __future__ import annotations

from pathlib import Path

from engine.api import Engine
from engine.clock import VirtualClock
from engine.config import Config
from engine.learned import store_as_built
from engine.recorder import recorder_for
from engine.sim.experiment import draw_tastes, persona_seed
from engine.sim.runner import Arm, Seat, ShardTask, watch
from engine.sim.watch import Behaviour
from engine.store import Store

__all__ = ["BACKGROUND_SESSIONS", "BACKGROUND_USERS", "learn_background"]

BACKGROUND_USERS = 64  # on 20,000 videos or more; one per 300 videos below, at least 8
BACKGROUND_SESSIONS = 2
BACKGROUND_REPLICATE = 1_000_000  # far beyond any run's replicates (--seeds)


def learn_background(
    path: Path, seed: int, users: int | None = None, sessions: int = BACKGROUND_SESSIONS
) -> int:
    """Let ``users`` background personas (default: by the world's size, see
    :data:`BACKGROUND_USERS`) watch the world at ``path`` and store the model they taught;
    returns how many viewings it learned from."""
    config = Config()
    store = Store.open(path, check=False)  # a build's own file, written just now
    try:
        world = store.load_world()
        if users is None:
            users = min(BACKGROUND_USERS, max(8, len(world.videos) // 300))
        clock = VirtualClock(0.0)
        engine = Engine(
            store, config, clock=clock, recorder=recorder_for(store, log=False), world=world
        )
    except BaseException:
        store.close()
        raise
    try:  # the engine closes the store
        tastes = draw_tastes(world, seed, BACKGROUND_REPLICATE, users)
        seats = tuple(
            Seat(i, taste, persona_seed(seed, BACKGROUND_REPLICATE, i))
            for i, taste in enumerate(tastes)
        )
        task = ShardTask(
            shard=0,
            arm=Arm("engine", config),
            seats=seats,
            sessions=sessions,
            log=False,
            condition=None,
            behaviour=Behaviour(),
            start_t=0.0,
        )
        watch(engine, clock, task)
        learner = engine.learner
        assert learner is not None  # the default policy learns
        model = learner.ready(config)
    finally:
        engine.close()
    return store_as_built(path, model)
