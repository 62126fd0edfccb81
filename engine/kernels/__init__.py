"""Compiled kernels (the optional ``foryou[fast]`` extra): where they load, and how to refuse them.

A pick is a few hundred small numpy calls, and per call the overhead, not the arithmetic, is
the cost. Where a whole stage can be fused into one compiled loop, :mod:`engine.kernels.compiled`
holds it as a numba function; the numpy code beside each use stays the reference, and a kernel
computes exactly what it does, bit for bit, so the picks are the same with or without them
(``tests/test_kernels.py``). The random draws stay numpy ``Generator`` calls: a kernel only
computes what they feed on.

Importing numba and loading the cached kernels costs about half a second, so nothing here
imports it by itself: :func:`loaded` answers without importing, and :func:`load` (called by
``Engine.next_many`` for a batch of two viewers or more: simulations and comparisons) imports
it once per process. The terminal feed, which picks one video at a time through
``Engine.next``, never pays for it; call :func:`load` to have ``next()`` use the kernels
too. Set ``FORYOU_KERNELS=numpy`` to keep every pick on the numpy path even with numba
installed.
"""

from __future__ import annotations

import importlib.util
import os
from types import ModuleType

ENV = "FORYOU_KERNELS"  # "numpy": never use the kernels
_state: dict[str, ModuleType | None] = {}


def refused() -> bool:
    """Whether the environment asks for the numpy path (``FORYOU_KERNELS=numpy``)."""
    return os.environ.get(ENV, "").strip().lower() == "numpy"


def load() -> ModuleType | None:
    """The compiled kernels, imported on the first call (numba's import and each kernel's
    cached machine code); None when numba is not installed or the numpy path is asked for."""
    if "module" not in _state:
        _state["module"] = None if refused() else _imported()
    return _state["module"]


def _imported() -> ModuleType | None:
    try:
        from engine.kernels import compiled
    except ImportError:  # numba missing (or too old for this numpy): numpy it is
        return None
    compiled.warm()
    return compiled


def loaded() -> ModuleType | None:
    """The kernels if :func:`load` has brought them in (never imports anything)."""
    return _state.get("module")


def unload() -> None:
    """Forget the kernels: picks take the numpy path until the next :func:`load` (tests and
    benchmarks compare the two in one process)."""
    _state.clear()


def available() -> bool:
    """Whether :func:`load` would bring the kernels in (numba installed and not refused),
    answered without importing numba."""
    return not refused() and importlib.util.find_spec("numba") is not None


def path() -> str:
    """Which path picks take now: ``"kernels"`` or ``"numpy"`` (for benchmarks to print)."""
    return "numpy" if loaded() is None else "kernels"
