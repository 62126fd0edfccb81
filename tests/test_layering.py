"""The engine's privates stay private: variants of the engine are parts passed to it, not
subclasses or modules reaching into its underscored members (style.md, "Composition over
subclassing").

Read with :mod:`ast`, every module under ``engine/`` and ``tui/`` is held to three rules:

1. No ``x._name`` except on ``self`` or ``cls``: another object's private member is another
   module's business. The allow-list below is for the standard library and Textual only, each
   with its reason.
2. No class outside ``engine/api.py`` subclasses ``Engine``: a subclass's ``self._name``
   would be a reach into the engine that rule 1 cannot see.
3. Under ``engine/``, ``self._name`` names something its own module defines (an underscored
   member inherited from another module is a reach all the same).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("engine", "tui")
ENGINE_MODULE = "engine/api.py"

# (module, expression): standard-library names with a leading underscore that are the only way.
ALLOWED = {
    # os._exit is the documented way to end a forked worker without running cleanup handlers.
    ("engine/sim/backends.py", "os._exit"),
    # ProcessPoolExecutor has no public way to reach its workers before Python 3.14's
    # terminate_workers(); the function says so and does what that method does.
    ("engine/sim/backends.py", "pool._processes"),
    # Textual has no public hook for an error no handler caught; the apps override this one
    # to end with one line when the file refuses a write (tui/write_failure.py), and
    # tests/test_tui_feed.py fails if Textual stops calling it.
    ("tui/app.py", "super()._handle_exception"),
    ("tui/study_app.py", "super()._handle_exception"),
}


def _modules() -> Iterator[tuple[str, ast.Module]]:
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            name = path.relative_to(ROOT).as_posix()
            yield name, ast.parse(path.read_text(encoding="utf-8"), filename=name)


def _private(attr: str) -> bool:
    return attr.startswith("_") and not attr.startswith("__")


def _on_self(node: ast.Attribute) -> bool:
    return isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")


def _defined(tree: ast.Module) -> set[str]:
    """Every name a module defines: functions, classes, assigned names and attributes."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
    return names


def reaches(name: str, tree: ast.Module) -> list[str]:
    """The rule-breaking accesses of one module, as ``module:line: what``."""
    found = []
    own = _defined(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and name != ENGINE_MODULE:
            bases = [ast.unparse(b) for b in node.bases]
            if any(b == "Engine" or b.endswith(".Engine") for b in bases):
                found.append(f"{name}:{node.lineno}: class {node.name} subclasses Engine")
        if not isinstance(node, ast.Attribute) or not _private(node.attr):
            continue
        text = ast.unparse(node)
        if not _on_self(node):
            if (name, text) not in ALLOWED:
                found.append(f"{name}:{node.lineno}: {text}")
        elif name.startswith("engine/") and node.attr not in own:
            found.append(f"{name}:{node.lineno}: {text} is defined in another module")
    return found


def test_no_module_reaches_into_another_objects_privates() -> None:
    found = [hit for name, tree in _modules() for hit in reaches(name, tree)]
    assert found == [], "private members reached across modules:\n" + "\n".join(found)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("engine._users[1] = state", ["x.py:1: engine._users"]),
        ("self._users = {}\nself._users[1] = 2", []),
        (
            "class Replaying(Engine):\n    def f(self):\n        return self._decide()",
            [
                "x.py:1: class Replaying subclasses Engine",
                "x.py:3: self._decide is defined in another module",
            ],
        ),
    ],
)
def test_the_rule_catches_what_it_is_meant_to(source: str, expected: list[str]) -> None:
    hits = reaches("engine/x.py", ast.parse(source))
    assert [h.removeprefix("engine/") for h in hits] == expected
