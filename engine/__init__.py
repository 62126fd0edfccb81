"""foryou's recommender engine: a live, explainable short-video feed over a synthetic world.

The public API is :class:`Engine` (see the README's "Python API"); everything else is the
machinery behind it, one module per stage of a pick.
"""

from engine.api import Discover, Engine, NothingToRecommendError, Trend
from engine.clock import VirtualClock, WallClock
from engine.config import Config, ConfigError, load_config, parse_config
from engine.profile import Profile
from engine.receipt import Receipt
from engine.store import StoreError
from engine.video import Recommendation, Video

__all__ = [
    "Config",
    "ConfigError",
    "Discover",
    "Engine",
    "NothingToRecommendError",
    "Profile",
    "Receipt",
    "Recommendation",
    "StoreError",
    "Trend",
    "Video",
    "VirtualClock",
    "WallClock",
    "load_config",
    "parse_config",
]
