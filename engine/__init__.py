"""foryou's recommender engine: a live, explainable short-video feed over a synthetic world.

The public API is :class:`Engine` (see the README's "Python API"); everything else is the
machinery behind it, one module per stage of a pick.
"""

from engine.api import Engine, NothingToRecommendError
from engine.clock import VirtualClock, WallClock
from engine.config import Config, ConfigError, load_config, parse_config
from engine.profile import Profile
from engine.receipt import Receipt
from engine.store import StoreError
from engine.video import Recommendation, Video

__all__ = [
    "Config",
    "ConfigError",
    "Engine",
    "NothingToRecommendError",
    "Profile",
    "Receipt",
    "Recommendation",
    "StoreError",
    "Video",
    "VirtualClock",
    "WallClock",
    "load_config",
    "parse_config",
]
