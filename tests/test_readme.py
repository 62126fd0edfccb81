"""The README's Python example runs as written (against a test world)."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_python_api_example_runs(world_path: Path, tmp_path: Path) -> None:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    example = next(b for b in blocks if "Engine.open" in b)
    config = tmp_path / "ranking.toml"
    config.write_text('name = "readme"\n')
    code = example.replace('"foryou.db"', repr(str(world_path))).replace(
        '"ranking.toml"', repr(str(config))
    )
    exec(compile(code, "README.md", "exec"), {})


def test_comparison_example_runs(world_path: Path, tmp_path: Path) -> None:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    example = textwrap.dedent(next(b for b in blocks if "run_experiment" in b))
    config = tmp_path / "cool.toml"
    config.write_text('name = "cool"\n[pick]\ntemperature = 0.3\n')
    code = example.replace('"foryou.db"', repr(str(world_path))).replace(
        '"cool.toml"', repr(str(config))
    )
    exec(compile(code, "README.md", "exec"), {})
