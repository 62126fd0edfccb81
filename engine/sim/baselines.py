"""The built-in arms: the engine's defaults, and the references every report places it between.

- ``random``: uniform over every video the filters allow (:class:`engine.policy.RandomPolicy`);
- ``popular``: the ``popular`` policy, ranking by the global smoothed completion rate;
- ``oracle``: knows each persona's truth (:mod:`engine.sim.oracle`), the ceiling on watch time
  (greedy); on every other metric a reference, not a bound;
- ``bandit``: Thompson sampling over topics with watch-weighted popularity inside the topic
  (:mod:`engine.bandit`), the simple learner issue 14 asks the engine to beat;
- ``itemknn``: item-item cosine over every viewer's positives (:mod:`engine.itemknn`), the
  textbook collaborative baseline of issue 17;
- ``ceiling``: knows the simulator's model but not the persona's truth and learns each viewer's
  loved topics from its reactions alone (:mod:`engine.sim.ceiling`), the ceiling of how fast
  a learner can find them (``PolicySpec("ceiling", {"objective": "watch"})``: of how much
  watch time it can hold);
- ``engine``: the default config.

Anything else names a ranking TOML file (its arm is called after the file's stem) or a policy
class, ``FILE.py:Class`` or ``package.module:Class`` (called after the class), which picks with
the default config.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from engine.config import Config, load_config
from engine.policy import PolicySpec
from engine.sim.runner import Arm

BUILTIN = ("engine", "random", "popular", "oracle", "bandit", "itemknn", "ceiling")
REFERENCES = ("random", "oracle")  # the floor and the ceiling of every report


def builtin_arm(name: str) -> Arm:
    """Raises: ValueError for a name that is not built in."""
    if name == "engine":
        return Arm("engine", Config())
    if name in ("random", "popular"):
        return Arm(name, Config(name=name, policy=name))  # type: ignore[arg-type]
    if name in ("oracle", "bandit", "itemknn", "ceiling"):
        return Arm(name, Config(name=name), PolicySpec(name))
    raise ValueError(f"unknown built-in arm {name!r}; expected one of {', '.join(BUILTIN)}")


def resolve_arm(spec: str, policy_params: str | Path | None = None) -> Arm:
    """A built-in name, the path of a ranking TOML file, or a policy class.

    Args:
        policy_params: a TOML file of keyword parameters for a policy class.

    Raises:
        ConfigError: the file is missing or invalid.
        PolicyError: a policy class that cannot be loaded.
    """
    if spec in BUILTIN:
        return builtin_arm(spec)
    if is_policy_spec(spec):
        policy = PolicySpec.parse(spec, policy_params)
        policy.build()  # fail here, naming the spec, rather than in a worker
        return Arm(policy.label, Config(name=policy.label), policy)
    path = Path(spec)
    return Arm(path.stem, load_config(path))


def is_policy_spec(spec: str) -> bool:
    """``FILE.py:Class`` or ``package.module:Class`` rather than a config file."""
    where, sep, attr = spec.rpartition(":")
    return bool(sep and where and attr) and not spec.endswith(".toml")


def resolve_arms(specs: Sequence[str], policy_params: str | Path | None = None) -> list[Arm]:
    """Arms for several specs; two files with one stem get their parent folder in the name.

    Raises:
        ConfigError: a file is missing or invalid.
        ValueError: the same arm twice.
    """
    arms = [resolve_arm(s, policy_params) for s in specs]
    names = [a.name for a in arms]
    for i, (spec, arm) in enumerate(zip(specs, arms, strict=True)):
        if names.count(arm.name) > 1 and arm.name not in BUILTIN:
            path = Path(spec.rpartition(":")[0] if arm.policy else spec)
            arms[i] = replace(arm, name=f"{path.parent.name}/{path.stem}")
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
