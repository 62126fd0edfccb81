"""A study, as researchers write it in TOML, validated into one self-contained value.

The file names conditions (a ranking config each, by path relative to the study file or as an
inline table, with optional heating and the feed controls participants get), the allocation,
the session length, consent text, pre- and post-questionnaires, debrief and completion code.
Like ranking configs, unknown keys, wrong types and out-of-range values are one-line errors
naming the key. :func:`parse_study` resolves every condition's config, so the :class:`Study`
it returns (and stores in the bundle as JSON) needs no other file.
"""

from __future__ import annotations

import hashlib
import math
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

import msgspec
import tomli_w

from engine.config import Config, ConfigError, load_config, parse_config

__all__ = [
    "CONTROLS",
    "Allocation",
    "Choice",
    "CompletionCode",
    "Condition",
    "Heating",
    "Item",
    "Likert",
    "SessionLength",
    "Study",
    "StudyError",
    "Text",
    "WorldSpec",
    "check_participant_id",
    "load_study",
    "parse_study",
]

# Feed controls a condition may offer; the engine records their effects, the interface shows
# only these.
Control = Literal[
    "not_interested",
    "hide_creator",
    "keyword_filters",
    "topic_sliders",
    "allow_sensitive",
    "refresh",
    "why",
]
CONTROLS: tuple[str, ...] = get_args(Control)
DEFAULT_CONTROLS: tuple[Control, ...] = ("not_interested", "hide_creator", "why")
PHASES = ("pre", "post")

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=80)]
Prompt = Annotated[str, msgspec.Meta(min_length=1, max_length=1000)]
# `\Z`, not `$`: msgspec searches the pattern, and `$` also matches before a final newline.
Key = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z][A-Za-z0-9_-]{0,39}\Z")]


class StudyError(ValueError):
    """A study that cannot be used or a step it does not allow; the message is one line."""


class WorldSpec(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """The world `foryou study init` builds into the bundle."""

    videos: Annotated[int, msgspec.Meta(ge=50, le=2_000_000)] = 20_000
    seed: Annotated[int, msgspec.Meta(ge=0)] = 42
    creators: Annotated[int, msgspec.Meta(ge=1)] | None = None


class SessionLength(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """How long the feed runs: ``minutes`` or ``videos`` (exactly one)."""

    minutes: Annotated[float, msgspec.Meta(gt=0, le=600)] | None = None
    videos: Annotated[int, msgspec.Meta(ge=1, le=10_000)] | None = None


class Allocation(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """Balanced, seeded block randomisation over the conditions."""

    method: Literal["balanced"] = "balanced"
    seed: Annotated[int, msgspec.Meta(ge=0)] = 0
    block_size: Annotated[int, msgspec.Meta(ge=0)] = 0  # 0: twice the number of conditions


class Heating(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """Boosting ("heating") chosen videos for one condition's participants."""

    videos: Annotated[list[Annotated[int, msgspec.Meta(ge=0)]], msgspec.Meta(min_length=1)]
    weight: Annotated[float, msgspec.Meta(gt=0)] = 3.0
    reason: Name = "study heating"
    disclosed: bool = True  # whether participants are told (the interface honours it)


class ConditionSpec(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    name: Key
    config: str | dict[str, Any] = msgspec.field(default_factory=dict)
    controls: list[Control] = msgspec.field(default_factory=lambda: list(DEFAULT_CONTROLS))
    boost: Heating | None = None


class Condition(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """A resolved condition: its effective ranking config is part of it."""

    name: str
    config: Config
    controls: tuple[str, ...]
    boost: Heating | None = None


class _Question(
    msgspec.Struct, tag_field="kind", forbid_unknown_fields=True, frozen=True, kw_only=True
):
    """What every questionnaire item shares: its ``kind`` key says which one it is."""


class Likert(_Question, tag="likert", frozen=True):  # frozen restated for mypy
    id: Key
    text: Prompt
    scale: Annotated[int, msgspec.Meta(ge=2, le=11)] = 5
    anchors: list[str] = msgspec.field(default_factory=list)  # labels of the two ends
    required: bool = True


class Choice(_Question, tag="choice", frozen=True):  # frozen restated for mypy
    id: Key
    text: Prompt
    options: Annotated[list[Annotated[str, msgspec.Meta(min_length=1)]], msgspec.Meta(min_length=2)]
    multiple: bool = False
    required: bool = True


class Text(_Question, tag="text", frozen=True):  # frozen restated for mypy
    id: Key
    text: Prompt
    max_chars: Annotated[int, msgspec.Meta(ge=1, le=20_000)] = 2000
    required: bool = False


Item = Likert | Choice | Text


class CompletionCode(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """A code generated per participant (a plain string in the file is one code for all)."""

    prefix: Annotated[str, msgspec.Meta(max_length=20)] = ""
    length: Annotated[int, msgspec.Meta(ge=4, le=32)] = 8


class StudySpec(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """The study file as written."""

    name: Name
    consent: Annotated[str, msgspec.Meta(min_length=1)]
    session: SessionLength
    conditions: Annotated[list[ConditionSpec], msgspec.Meta(min_length=1)]
    completion_code: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] | CompletionCode
    description: str = ""
    debrief: bool = True
    world: WorldSpec = WorldSpec()
    allocation: Allocation = Allocation()
    pre: list[Item] = msgspec.field(default_factory=list)
    post: list[Item] = msgspec.field(default_factory=list)


class Study(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """A validated study with every condition's config resolved."""

    name: str
    description: str
    consent: str
    debrief: bool
    completion_code: str | CompletionCode
    world: WorldSpec
    session: SessionLength
    allocation: Allocation
    conditions: list[Condition]
    pre: list[Item]
    post: list[Item]

    def condition(self, name: str) -> Condition:
        """Raises:
        StudyError: no condition of that name."""
        for condition in self.conditions:
            if condition.name == name:
                return condition
        raise StudyError(f"study {self.name!r} has no condition {name!r}")

    def items(self, phase: str) -> list[Item]:
        """Raises:
        StudyError: a phase other than pre or post."""
        if phase not in PHASES:
            raise StudyError(f"phase must be 'pre' or 'post', got {phase!r}")
        return list(self.pre if phase == "pre" else self.post)

    @property
    def block_size(self) -> int:
        return self.allocation.block_size or 2 * len(self.conditions)

    def to_json(self) -> str:
        return msgspec.json.encode(self).decode()

    @classmethod
    def from_json(cls, text: str | bytes) -> Study:
        return msgspec.json.decode(text, type=cls)

    def sha256(self) -> str:
        """A digest of what the study does (layout and comments of the file do not count)."""
        return hashlib.sha256(self.to_json().encode()).hexdigest()


def load_study(path: str | Path) -> Study:
    """Read and validate a study file; config paths are relative to it.

    Raises:
        StudyError: the file is missing or invalid (one line naming the key).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise StudyError(f"{path}: cannot read study ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        raise StudyError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    return parse_study(text, str(path), base_dir=path.parent)


def parse_study(text: str, source: str = "study", *, base_dir: Path | None = None) -> Study:
    """Validate study TOML into a :class:`Study`.

    Raises:
        StudyError: malformed TOML, an unknown key, a wrong type, an out-of-range value, an
            invalid condition config or an inconsistent setting, naming the key.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise StudyError(f"{source}: malformed TOML: {exc}") from None
    _check_finite(data, source, "$")
    try:
        spec = msgspec.convert(data, StudySpec)
    except msgspec.ValidationError as exc:
        raise StudyError(f"{source}: {exc}") from None
    _check(spec, source)
    conditions = [
        _resolve(c, f"{source}: conditions[{i}].config", base_dir or Path.cwd())
        for i, c in enumerate(spec.conditions)
    ]
    return Study(
        name=spec.name,
        description=spec.description,
        consent=spec.consent,
        debrief=spec.debrief,
        completion_code=spec.completion_code,
        world=spec.world,
        session=spec.session,
        allocation=spec.allocation,
        conditions=conditions,
        pre=spec.pre,
        post=spec.post,
    )


def _check_finite(value: Any, source: str, where: str) -> None:
    """Refuse inf and nan anywhere: TOML allows them, but JSON (the bundle's copy of the study)
    has no way to write them, so the bundle could not be opened again."""
    if isinstance(value, float) and not math.isfinite(value):
        raise StudyError(f"{source}: Expected finite `float`, got {value} - at `{where}`")
    if isinstance(value, dict):
        for key, item in value.items():
            _check_finite(item, source, f"{where}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check_finite(item, source, f"{where}[{i}]")


def _check(spec: StudySpec, source: str) -> None:
    if (spec.session.minutes is None) == (spec.session.videos is None):
        raise StudyError(f"{source}: session: give either minutes or videos - at `$.session`")
    names = [c.name for c in spec.conditions]
    for i, name in enumerate(names):
        if name in names[:i]:
            raise StudyError(
                f"{source}: duplicate condition name {name!r} - at `$.conditions[{i}]`"
            )
    for i, condition in enumerate(spec.conditions):
        for video in condition.boost.videos if condition.boost else []:
            # Checked here, not after minutes of building the world the ids must be in.
            if video >= spec.world.videos:
                raise StudyError(
                    f"{source}: condition {condition.name!r} heats video {video}, but the world "
                    f"has {spec.world.videos} videos (ids 0-{spec.world.videos - 1}) "
                    f"- at `$.conditions[{i}].boost.videos`"
                )
    n = len(names)
    if spec.allocation.block_size % n:
        raise StudyError(
            f"{source}: allocation.block_size must be a multiple of the {n} conditions "
            "- at `$.allocation.block_size`"
        )
    for phase in PHASES:
        items: list[Item] = getattr(spec, phase)
        ids = [item.id for item in items]
        for i, item in enumerate(items):
            where = f"$.{phase}[{i}]"
            if item.id in ids[:i]:
                raise StudyError(f"{source}: duplicate item id {item.id!r} - at `{where}`")
            if isinstance(item, Likert) and len(item.anchors) not in (0, 2, item.scale):
                raise StudyError(
                    f"{source}: anchors must label both ends (2) or every point "
                    f"({item.scale}) - at `{where}.anchors`"
                )
            if isinstance(item, Choice) and len(set(item.options)) != len(item.options):
                raise StudyError(f"{source}: duplicate option - at `{where}.options`")


def _resolve(spec: ConditionSpec, where: str, base_dir: Path) -> Condition:
    try:
        if isinstance(spec.config, str):
            path = Path(spec.config)
            config = load_config(path if path.is_absolute() else base_dir / path)
        else:
            # An inline table gets exactly the checks of a config file.
            config = parse_config(tomli_w.dumps({"name": spec.name, **spec.config}), where)
    except ConfigError as exc:
        raise StudyError(str(exc) if str(exc).startswith(where) else f"{where}: {exc}") from None
    return Condition(name=spec.name, config=config, controls=tuple(spec.controls), boost=spec.boost)


# A pseudonymous code: letters, digits, '-' and '_', starting with a letter or digit.
_PARTICIPANT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,39}")
# Names and words have runs of letters; codes (P017, A3F9, 7f3a9c, lab_b-12) do not.
_LETTER_RUN = re.compile(r"[A-Za-z]{4}")
PARTICIPANT_ID_RULE = (
    "1-40 letters, digits, '-' or '_', with at least one digit and never four letters in a row "
    "(e.g. P017, S12, A3F9, 7f3a9c, p-017)"
)


def check_participant_id(participant: str) -> str:
    """Participant ids are pseudonymous codes (:data:`PARTICIPANT_ID_RULE`). The rule refuses
    what a name or an e-mail address needs: ``@``, ``.``, spaces, and four letters in a row
    ("maria.garcia1", "John1", "Smith2024"). A name of three letters or fewer with a digit
    ("Bo1") still passes: ids are the researcher's codes, not the participant's choice.

    Raises:
        StudyError: anything else, in one line saying what an id may look like.
    """
    # fullmatch: `match` with `$` would let "P018\n" through, stored with its newline.
    code = _PARTICIPANT.fullmatch(participant) and not _LETTER_RUN.search(participant)
    if not code or not any(c.isdigit() for c in participant):
        raise StudyError(
            f"participant id {participant!r} is not a pseudonymous code: use "
            f"{PARTICIPANT_ID_RULE}, never a name or an e-mail address"
        )
    return participant
