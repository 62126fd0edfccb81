"""The README's own ranker runs from the command line as documented: in `compare` (two worker
processes import it by path) and in `evaluate` (off-policy, on a simulation's logs)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.test_policy_contract import readme_class, readme_ranker

ROOT = Path(__file__).resolve().parents[1]


def foryou(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "COLUMNS": "200"},
        timeout=600,
    )


def test_readme_ranker_in_compare_and_evaluate(world_path: Path, tmp_path: Path) -> None:
    path = readme_ranker(tmp_path)
    spec = f"{path}:{readme_class(path)}"
    db = str(world_path)
    compared = foryou(
        "compare", "engine", spec, "--db", db, "--users", "20", "--seeds", "1", "--jobs", "2",
        "--sessions", "1", "--no-baselines", "--resamples", "99", "--out", str(tmp_path / "r"),
        cwd=tmp_path,
    )  # fmt: skip
    assert compared.returncode == 0, compared.stderr
    assert readme_class(path) in compared.stdout
    logged = foryou("simulate", "--db", db, "--users", "4", "--sessions", "1",
                    "--no-baselines", "--out", str(tmp_path / "s"), cwd=tmp_path)  # fmt: skip
    assert logged.returncode == 0, logged.stderr
    evaluated = foryou("evaluate", "--db", db, "--policy", spec, cwd=tmp_path)
    assert evaluated.returncode == 0, evaluated.stderr
    assert f"policy '{readme_class(path)}'" in evaluated.stdout
    assert "completion" in evaluated.stdout


def test_a_bad_policy_is_one_line_naming_it(world_path: Path, tmp_path: Path) -> None:
    path = readme_ranker(tmp_path)
    params = tmp_path / "p.toml"
    params.write_text("no_such_knob = 1\n")
    cases = {
        "missing.py:Foo": "no file",
        f"{path}:Nope": "no class 'Nope'",
        f"{path}:np": "not a class",
        f"{path}:{readme_class(path)}": "bad parameters",
    }
    for spec, message in cases.items():
        extra = ["--policy-params", str(params)] if "bad" in message else []
        run = foryou("recommend", "--db", str(world_path), "--user", "x", "--create",
                     "--policy", spec, *extra, cwd=tmp_path)  # fmt: skip
        assert run.returncode != 0
        lines = run.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: policy"), run.stderr
        assert message in lines[0] and spec.split(":")[-1] in lines[0]
