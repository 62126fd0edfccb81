"""Every built-in policy, and the README's own ranker, keep the policy contract."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from engine import Engine
from engine.policy import PolicySpec, RandomPolicy, StagedPolicy
from engine.sim.oracle import OraclePolicy
from engine.sim.persona import Persona
from tests.policy_contract import PolicyContract

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_ranker(folder: Path) -> Path:
    """The README's "Write your own ranker" example, written to a file as a reader would."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Write your own ranker") :]
    block = re.search(r"```python\n(.*?)```", section, flags=re.S)
    assert block is not None, "the section has a python example"
    assert len(block.group(1).splitlines()) <= 40
    path = folder / "my_ranker.py"
    path.write_text(block.group(1), encoding="utf-8")
    return path


def readme_class(path: Path) -> str:
    match = re.search(r"^class (\w+)", path.read_text(encoding="utf-8"), flags=re.M)
    assert match is not None
    return match.group(1)


class TestEngine(PolicyContract):
    def make_policy(self) -> Any:
        return "engine"


class TestRandom(PolicyContract):
    def make_policy(self) -> Any:
        return RandomPolicy()


class TestPopular(PolicyContract):
    def make_policy(self) -> Any:
        return "popular"


class TestOracle(PolicyContract):
    def make_policy(self) -> Any:
        return OraclePolicy()

    def prepare(self, policy: Any, engine: Engine, user_id: int) -> None:
        persona = Persona.draw(engine.catalog.world, abs(user_id))
        persona.start_session()  # the oracle reads the session's mood
        policy.attach(user_id, persona)


class TestReadmeRanker(PolicyContract):
    spec: PolicySpec

    @pytest.fixture(autouse=True, scope="class")
    def _ranker(
        self, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
    ) -> None:
        path = readme_ranker(tmp_path_factory.mktemp("ranker"))
        request.cls.spec = PolicySpec.parse(f"{path}:{readme_class(path)}")

    def make_policy(self) -> Any:
        return self.spec.build()

    def test_it_is_a_scorer_inside_the_engine_stages(self) -> None:
        policy = self.make_policy()
        assert isinstance(policy, StagedPolicy)
        assert policy.name == readme_class(Path(self.spec.target.rpartition(":")[0]))


class TestBandit(PolicyContract):
    def make_policy(self) -> Any:
        return "bandit"


class TestItemKNN(PolicyContract):
    def make_policy(self) -> Any:
        return "itemknn"
