"""Study files: what a valid one gives, one-line errors naming the key, and allocation."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.store import Store
from engine.study import StudyError, allocation_sequence, load_study, open_bundle, parse_study
from engine.study.definition import Choice, Likert, Text, check_participant_id
from tests.studykit import STUDY, make_bundle, write_study
from tui.cli import main


@pytest.fixture
def study_file(tmp_path: Path, world_template: Path) -> Path:
    return write_study(tmp_path, world_template)


def test_a_study_file_resolves_every_condition_config(study_file: Path) -> None:
    study = load_study(study_file)
    control, heated = study.conditions
    assert control.config.name == "control"  # an inline table is named after its condition
    assert control.config.reactions.like == 2.0
    assert heated.config.name == "heated" and heated.config.rerank.slate == 12  # from the file
    assert heated.boost is not None and not heated.boost.disclosed
    assert control.boost is None
    assert heated.controls == ("why", "topic_sliders")
    assert study.session.videos == 8 and study.session.minutes is None
    assert [i.id for i in study.items("pre")] == ["age", "hours"]
    assert isinstance(study.items("post")[0], Likert)
    # The resolved study stands alone: it round-trips without the config file.
    (study_file.parent / "heated.toml").unlink()
    assert type(study).from_json(study.to_json()) == study


BAD = [
    ("consent = ", "consnt = ", "unknown field `consnt`"),
    ("[session]\nvideos = 8", "[session]\nvideos = 8\nminutes = 5", "$.session"),
    ("[session]\nvideos = 8", "[session]\nvideos = 0", "$.session.videos"),
    ("block_size = 2", "block_size = 3", "allocation.block_size"),
    ('controls = ["why", "topic_sliders"]', 'controls = ["why", "mute"]', "$.conditions[1]"),
    ("weight = 40.0", "weight = -1.0", "$.conditions[1].boost.weight"),
    ("like = 2.0", "likes = 2.0", "conditions[0].config"),
    ('config = "heated.toml"', 'config = "missing.toml"', "conditions[1].config"),
    ('name = "heated"\nconfig', 'name = "control"\nconfig', "duplicate condition name"),
    ("scale = 7", "scale = 1", "$.post[0].scale"),
    ('anchors = ["none", "more than 3"]', 'anchors = ["none"]', "$.pre[1].anchors"),
    ('kind = "text"', 'kind = "essay"', "$.post[1]"),
    ('id = "notes"', 'id = "enjoy"', "duplicate item id 'enjoy'"),
    ('id = "notes"', 'id = "notes\\n"', "$.post[1].id"),  # `$` matched before the newline
    ('completion_code = "FYP-7Q2"\n', "", "completion_code"),
    ("boost = { videos = [", "boost = { videos = [3000, ", "$.conditions[1].boost.videos"),
    # TOML has inf and nan, the bundle's JSON copy of the study does not.
    (
        "weight = 40.0",
        "weight = inf",
        "finite `float`, got inf - at `$.conditions[1].boost.weight`",
    ),
    ("weight = 40.0", "weight = -inf", "got -inf - at `$.conditions[1].boost.weight`"),
    ("like = 2.0", "like = nan", "got nan - at `$.conditions[0].config.reactions.like`"),
]


@pytest.mark.parametrize(("old", "new", "named"), BAD)
def test_invalid_study_files_get_one_line_naming_the_key(
    study_file: Path, old: str, new: str, named: str
) -> None:
    text = study_file.read_text()
    assert old in text
    with pytest.raises(StudyError) as caught:
        parse_study(text.replace(old, new, 1), "study.toml", base_dir=study_file.parent)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("study.toml")
    assert named in message


def test_study_init_refuses_an_invalid_file_and_writes_nothing(
    study_file: Path, tmp_path: Path
) -> None:
    study_file.write_text(study_file.read_text().replace("[session]", "[sesion]"))
    db = tmp_path / "study.db"
    result = CliRunner().invoke(main, ["study", "init", str(study_file), "--db", str(db)])
    assert result.exit_code != 0
    assert result.output.count("\n") == 1
    assert "unknown field `sesion`" in result.output
    assert not db.exists()


def test_study_init_refuses_an_infinite_boost_weight_and_writes_nothing(
    study_file: Path, tmp_path: Path
) -> None:
    """It once built a bundle that nothing could open (a msgspec traceback on `study status`)."""
    study_file.write_text(study_file.read_text().replace("weight = 40.0", "weight = inf"))
    db = tmp_path / "study.db"
    result = CliRunner().invoke(main, ["study", "init", str(study_file), "--db", str(db)])
    assert result.exit_code == 1
    assert result.output == (
        f"Error: {study_file}: Expected finite `float`, got inf - at "
        "`$.conditions[1].boost.weight`\n"
    )
    assert not db.exists()


def test_a_bundle_made_with_an_infinite_weight_is_refused_in_one_line(
    world_path: Path, tmp_path: Path
) -> None:
    """Bundles an older foryou built that way hold null where the weight was."""
    path = make_bundle(world_path, tmp_path)
    with Store.open(path) as store:
        store.db.execute(
            "UPDATE studies SET resolved = replace(resolved, '\"weight\":40.0', '\"weight\":null')"
        )
        store.db.conn.commit()
    result = CliRunner().invoke(main, ["study", "status", "--db", str(path)])
    assert result.exit_code == 1
    assert result.output.count("\n") == 1
    assert "its study definition cannot be read" in result.output
    assert "study init" in result.output


def test_allocation_is_balanced_in_every_block_and_reproducible(study_file: Path) -> None:
    text = study_file.read_text()
    three = text.replace("block_size = 2", "block_size = 6") + (
        '\n[[conditions]]\nname = "third"\n'
    )
    study = parse_study(three, base_dir=study_file.parent)
    sequence = allocation_sequence(study, 60)
    for start in range(0, 60, 6):
        assert Counter(sequence[start : start + 6]) == {"control": 2, "heated": 2, "third": 2}
    assert sequence == allocation_sequence(study, 60)
    blocks = {tuple(sequence[i : i + 6]) for i in range(0, 60, 6)}
    assert len(blocks) > 1  # not the same order every block: nobody can predict the next
    reseeded = parse_study(three.replace("seed = 2024", "seed = 7"), base_dir=study_file.parent)
    assert allocation_sequence(reseeded, 60) != sequence


def test_default_block_is_twice_the_conditions() -> None:
    study = parse_study(
        STUDY.format(heated=[1]).replace("block_size = 2\n", "").replace('"heated.toml"', "{}")
    )
    assert study.block_size == 4
    assert Counter(allocation_sequence(study, 4)) == {"control": 2, "heated": 2}


def test_study_init_builds_the_bundle_the_file_describes(
    study_file: Path, tmp_path: Path, world_template: Path
) -> None:
    db = tmp_path / "study.db"
    runner = CliRunner()
    result = runner.invoke(main, ["study", "init", str(study_file), "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "study 'heating-pilot', 2 conditions (control, heated), 3,000 videos (seed 7)" in (
        result.output
    )
    with open_bundle(db) as bundle, Store.open(world_template) as template:
        assert bundle.study == load_study(study_file)
        assert bundle.store.content_hash() == template.content_hash()  # [world] seed 7
        configs = {r["name"] for r in bundle.store.db.query("SELECT name FROM configs")}
        assert configs == {"control", "heated"}
    again = runner.invoke(main, ["study", "init", str(study_file), "--db", str(db)])
    assert again.exit_code != 0 and "pass --force" in again.output
    assert list(tmp_path.glob(".study.db*")) == []


@pytest.mark.parametrize("participant", ["P001", "S12", "A3F9", "7f3a9c", "p-017", "lab_b-12"])
def test_pseudonymous_codes_are_accepted(participant: str) -> None:
    assert check_participant_id(participant) == participant


@pytest.mark.parametrize(
    "participant",
    [
        "maria.garcia1",  # a name with a dot
        "John1",  # a first name and a digit
        "Smith2024",
        "jdoe7",  # four letters in a row
        "j.doe@example.org",
        "P 017",
        "P.017",
        "P017!",
        "-P017",
        "ABC",  # no digit: initials
        "",
        "P" + "1" * 40,  # 41 characters
        "P018\n",  # stored with its newline, it could never be continued or forgotten
        "P017\t",
    ],
)
def test_what_could_be_a_name_or_address_is_refused_saying_what_an_id_may_be(
    participant: str,
) -> None:
    with pytest.raises(StudyError) as refused:
        check_participant_id(participant)
    message = str(refused.value)
    assert "\n" not in message and f"{participant!r}" in message
    assert "letters, digits, '-' or '_'" in message and "never four letters in a row" in message


def test_an_id_with_a_trailing_newline_is_never_enrolled(world_path: Path, tmp_path: Path) -> None:
    """Stored as 'P018\n', it could not be continued, forgotten as P018, or exported whole."""
    path = make_bundle(world_path, tmp_path)
    with open_bundle(path) as bundle:
        with pytest.raises(StudyError, match=r"participant id 'P018\\n' is not a pseudonymous"):
            bundle.enrol("P018\n")
        assert bundle.store.db.execute("SELECT count(*) FROM participants").fetchone()[0] == 0


def test_an_id_recorded_under_the_older_rule_can_still_be_forgotten(
    world_path: Path, tmp_path: Path
) -> None:
    """Bundles from before the rule tightened may hold such ids: they must stay erasable."""
    path = make_bundle(world_path, tmp_path)
    with open_bundle(path) as bundle:
        bundle._log.record_decline(
            study_id=bundle.study_id, participant="Smith2024", station=None, at=0.0
        )
        with pytest.raises(StudyError, match="declined consent earlier"):
            bundle.enrol("Smith2024")  # found, not refused as a malformed id
        assert bundle.forget("Smith2024")["participants"] == 1
        with pytest.raises(StudyError, match="not a pseudonymous code"):
            bundle.enrol("Smith2024")  # gone: a new id again, under today's rule


def readme_items() -> str:
    """The questionnaire example of the README's study section."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme[readme.index("Every item needs `kind`") :]
    return section.split("```toml\n", 1)[1].split("```", 1)[0]


def test_the_readme_items_parse_with_the_defaults_it_documents(study_file: Path) -> None:
    text = study_file.read_text()
    without = text[: text.index("[[pre]]")]  # the study's own items give way to the README's
    study = parse_study(without + readme_items(), "study.toml", base_dir=study_file.parent)
    (age,), (enjoy, notes) = study.pre, study.post
    assert [item.required for item in (age, enjoy, notes)] == [True, True, False]
    assert isinstance(enjoy, Likert) and enjoy.anchors == ["not at all", "very much"]
    assert isinstance(age, Choice) and not age.multiple
    assert isinstance(notes, Text) and notes.max_chars == 2000


@pytest.mark.parametrize("key", ["kind", "id", "text"])
def test_an_item_without_a_needed_key_is_refused_naming_it(study_file: Path, key: str) -> None:
    text = study_file.read_text()
    without = text[: text.index("[[pre]]")]
    items = "\n".join(
        line for line in readme_items().splitlines() if not line.startswith(f"{key} = ")
    )
    with pytest.raises(StudyError) as refused:
        parse_study(without + items, "study.toml", base_dir=study_file.parent)
    assert str(refused.value) == (
        f"study.toml: Object missing required field `{key}` - at `$.pre[0]`"
    )
