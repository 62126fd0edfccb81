"""The built-in arms: the engine's defaults, and the references every report places it between.

- ``random``: the engine's pipeline with the ``random`` policy (uniform over the slate);
- ``popular``: the ``popular`` policy, ranking by the global smoothed completion rate;
- ``oracle``: knows each persona's truth (:mod:`engine.sim.oracle`), the ceiling on watch time
  (greedy); on every other metric a reference, not a bound;
- ``engine``: the default config.

Anything else names a ranking TOML file; its arm is called after the file's stem.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from engine.config import Config, load_config
from engine.sim.runner import Arm

BUILTIN = ("engine", "random", "popular", "oracle")
REFERENCES = ("random", "oracle")  # the floor and the ceiling of every report


def builtin_arm(name: str) -> Arm:
    """Raises: ValueError for a name that is not built in."""
    if name == "engine":
        return Arm("engine", Config())
    if name in ("random", "popular"):
        return Arm(name, Config(name=name, policy=name))  # type: ignore[arg-type]
    if name == "oracle":
        return Arm("oracle", Config(name="oracle"), oracle=True)
    raise ValueError(f"unknown built-in arm {name!r}; expected one of {', '.join(BUILTIN)}")


def resolve_arm(spec: str) -> Arm:
    """A built-in name, or the path of a ranking TOML file.

    Raises:
        ConfigError: the file is missing or invalid.
    """
    if spec in BUILTIN:
        return builtin_arm(spec)
    path = Path(spec)
    return Arm(path.stem, load_config(path))


def resolve_arms(specs: Sequence[str]) -> list[Arm]:
    """Arms for several specs; two files with one stem get their parent folder in the name.

    Raises:
        ConfigError: a file is missing or invalid.
        ValueError: the same arm twice.
    """
    arms = [resolve_arm(s) for s in specs]
    names = [a.name for a in arms]
    for i, (spec, arm) in enumerate(zip(specs, arms, strict=True)):
        if names.count(arm.name) > 1 and arm.name not in BUILTIN:
            path = Path(spec)
            arms[i] = Arm(f"{path.parent.name}/{path.stem}", arm.config, arm.oracle)
    final = [a.name for a in arms]
    if len(set(final)) != len(final):
        raise ValueError(f"each config may appear once, got {', '.join(specs)}")
    return arms


def with_references(arms: Sequence[Arm]) -> list[Arm]:
    """The arms plus random (first) and oracle (last), unless already there.

    Added references never write to the world file: they are yardsticks, not activity.
    """
    names = {a.name for a in arms}
    added = [replace(builtin_arm(n), log=False) for n in REFERENCES if n not in names]
    floor = [a for a in added if a.name == "random"]
    ceiling = [a for a in added if a.name == "oracle"]
    return [*floor, *arms, *ceiling]
