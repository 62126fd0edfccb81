"""Simulated viewers on their own: their hidden truth, how they watch, and their random streams."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine import Engine, VirtualClock
from engine.reactions import CLOSING
from engine.sim.persona import Persona, _counts_of, child, draw_taste
from engine.store import Store
from engine.world import World


@pytest.fixture(scope="module")
def world(world_template: Path) -> World:
    with Store.open(world_template) as store:
        return store.load_world()


def personas(world: World, n: int, root: int = 5) -> list[Persona]:
    return [Persona.draw(world, np.random.SeedSequence(root, spawn_key=(0, i))) for i in range(n)]


def videos_of_topic(world: World, topic: int, count: int = 40) -> list[int]:
    ids = np.flatnonzero((world.videos.topic_id == topic) & ~world.videos.spam)
    return ids[:count].tolist()


def test_a_truth_has_a_few_loved_topics_some_liked_and_a_few_disliked(world: World) -> None:
    for persona in personas(world, 20):
        taste = persona.taste
        assert 1 <= len(taste.loved) <= 3
        assert np.all(taste.topic[taste.loved] > 0.75)
        liked = (taste.topic > 0.2) & (taste.topic < 0.75)
        assert 1 <= liked.sum() <= 6
        assert 1 <= (taste.topic < -0.6).sum() <= 3
        assert abs(float(np.linalg.norm(taste.vector)) - 1.0) < 1e-5
        assert len(taste.creators) >= 1
        # Favourite creators post in the loved topics.
        loved_creators = world.videos.creator_id[np.isin(world.videos.topic_id, taste.loved)]
        assert np.isin(taste.creators, loved_creators).all()


def test_loved_topics_are_watched_longer_than_disliked_ones(world: World) -> None:
    watched = {"loved": [], "disliked": []}
    for persona in personas(world, 12):
        loved = int(persona.taste.loved[0])
        disliked = int(np.argmin(persona.taste.topic))
        for video in videos_of_topic(world, loved, 15):
            watched["loved"].append(persona.react(video).watched_s)
        persona.end_session()
        for video in videos_of_topic(world, disliked, 15):
            watched["disliked"].append(persona.react(video).watched_s)
        persona.end_session()
    assert np.mean(watched["loved"]) > 2 * np.mean(watched["disliked"])


def test_every_reaction_closes_the_impression_exactly_once(world: World) -> None:
    persona = personas(world, 1)[0]
    for video in range(0, 600, 3):
        reaction = persona.react(video)
        closing = [(k, kw) for k, kw in reaction.actions if k in CLOSING]
        assert len(closing) == 1
        kind, kwargs = closing[0]
        duration = float(world.videos.duration_s[video])
        assert kwargs["watched_s"] >= 0
        assert (kind == "complete") == reaction.completed
        if kind == "skip":
            assert kwargs["watched_s"] < duration
        if reaction.leaves:
            persona.end_session()


def test_the_engine_accepts_everything_a_persona_does(world_path: Path) -> None:
    clock = VirtualClock(0.0)
    with Engine.open(world_path, clock=clock, log=True) as engine:
        persona = Persona.draw(engine.catalog.world, 3)
        user = engine.new_user(**persona.sign_up())
        kinds: set[str] = set()
        for _ in range(150):
            rec = engine.next(user)
            reaction = persona.react(rec.video)
            for kind, kwargs in reaction.actions:
                engine.record(user, rec.video.id, kind, **kwargs)
                kinds.add(kind)
            clock.advance(reaction.watched_s + 1)
        assert {"skip", "complete"} <= kinds
        assert engine.users()[-1]["simulated"] == 1


def test_same_seed_same_behaviour_other_seed_other_behaviour(world: World) -> None:
    def watch(seed: int) -> list[float]:
        persona = Persona.draw(world, seed)
        return [persona.react(v).watched_s for v in range(100, 160)]

    assert watch(11) == watch(11)
    assert watch(11) != watch(12)


def test_position_k_meets_the_same_random_numbers_whatever_came_before(world: World) -> None:
    """Common random numbers: a different first video must not shift the second one's draws."""
    topic = int(world.videos.topic_id[0])
    same_topic = videos_of_topic(world, topic, 3)
    first = Persona.draw(world, 99)
    second = Persona.draw(world, 99)
    first.react(same_topic[0])
    second.react(same_topic[1])  # another video, same topic: satiation and mood stay alike
    a, b = first.react(same_topic[2]), second.react(same_topic[2])
    assert a.appeal == pytest.approx(b.appeal)
    assert a.watched_s == pytest.approx(b.watched_s)


def test_repeating_a_topic_gets_boring(world: World) -> None:
    persona = Persona.draw(world, 4)
    persona.start_session()
    topic = int(persona.taste.loved[0])
    videos = np.array(videos_of_topic(world, topic, 12))
    before = persona.appeal_mean(videos[-1:])[0]
    for video in videos[:-1]:
        persona.react(int(video))
    after = persona.appeal_mean(videos[-1:])[0]
    # Mood wanders a little between videos; boredom after 10 repeats outweighs it.
    assert after < before - 5 * persona.taste.satiation


def test_expected_watch_prefers_what_the_persona_loves(world: World) -> None:
    persona = Persona.draw(world, 8)
    loved = np.array(videos_of_topic(world, int(persona.taste.loved[0])), dtype=np.int64)
    disliked = np.array(videos_of_topic(world, int(np.argmin(persona.taste.topic))), dtype=np.int64)
    per_second = persona.expected_watch_s(loved) / world.videos.duration_s[loved]
    per_second_disliked = persona.expected_watch_s(disliked) / world.videos.duration_s[disliked]
    assert per_second.mean() > 2 * per_second_disliked.mean()


def test_children_are_rebuilt_from_their_key_like_spawn() -> None:
    root = np.random.SeedSequence(42, spawn_key=(1,))
    spawned = np.random.SeedSequence(42).spawn(2)[1].spawn(3)
    for k in range(3):
        assert (child(root, k).generate_state(4) == spawned[k].generate_state(4)).all()
    # ... and any number of times (spawn would hand out new children).
    assert (child(root, 0).generate_state(4) == child(root, 0).generate_state(4)).all()


def test_tastes_are_drawn_from_the_world_not_from_global_state(world: World) -> None:
    np.random.seed(0)
    a = draw_taste(world, np.random.default_rng(3))
    np.random.seed(1)
    b = draw_taste(world, np.random.default_rng(3))
    assert np.array_equal(a.topic, b.topic)
    assert np.array_equal(a.creators, b.creators)


def test_favourites_and_locale_come_from_the_worlds_videos(world: World) -> None:
    """Favourite creators and sounds make videos of the loved topics, and the country has
    videos in the language (the counts behind the draw are taken once per world)."""
    v = world.videos
    for seed in range(40):
        taste = draw_taste(world, np.random.default_rng(seed))
        of_loved = np.isin(v.topic_id, taste.loved)
        assert set(taste.creators.tolist()) <= set(v.creator_id[of_loved].tolist())
        assert set(taste.sounds.tolist()) <= set(v.sound_id[of_loved].tolist())
        spoken = v.language == taste.language
        assert taste.country in set(v.country[spoken].tolist())
    counts = _counts_of(world)
    for topic in (0, len(world.topics) - 1):
        assert np.array_equal(
            counts.creators_by_topic[topic],
            np.bincount(v.creator_id[v.topic_id == topic], minlength=len(world.creators)),
        )
    languages = np.bincount(v.language, minlength=len(world.languages))
    assert np.array_equal(counts.countries_by_language.sum(axis=1), languages)


def test_a_persona_understands_its_own_language_and_maybe_english_only(world: World) -> None:
    english = world.languages.index("en")
    personas = [Persona.draw(world, seed) for seed in range(40)]
    ids = np.arange(len(world.videos.language), dtype=np.int64)
    language = world.videos.language[ids]
    for persona in personas:
        understood = persona.understands(ids)
        own = language == persona.taste.language
        assert understood[own].all()
        if not own[language == english].all():
            assert (understood[language == english] == persona.taste.understands_english).all()
        assert not understood[~own & (language != english)].any()
    # Some of those who speak another language follow English, some do not.
    abroad = [p.taste.understands_english for p in personas if p.taste.language != english]
    assert any(abroad) and not all(abroad)
