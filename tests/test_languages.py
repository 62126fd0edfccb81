"""The feed learns which languages a viewer follows from what the viewer watches."""

from __future__ import annotations

from pathlib import Path

import msgspec
import numpy as np
import pytest

from engine import Engine, VirtualClock
from engine.config import Config
from engine.languages import PRIOR_ENGLISH, PRIOR_OTHER, followed, fresh_belief, note_viewing


def test_a_new_viewer_follows_its_own_language_perhaps_english_hardly_another(
    world_path: Path,
) -> None:
    with Engine.open(world_path, clock=VirtualClock(0.0)) as eng:
        spanish = eng.profile(eng.new_user(language="es", country="ES")).languages_followed
        english = eng.profile(eng.new_user(language="en", country="US")).languages_followed
    assert spanish["es"] == pytest.approx(1.0)
    assert spanish["en"] == pytest.approx(PRIOR_ENGLISH)
    others = [v for k, v in spanish.items() if k not in ("es", "en")]
    assert others and others == pytest.approx([PRIOR_OTHER] * len(others))
    assert english["en"] == pytest.approx(1.0)
    assert max(v for k, v in english.items() if k != "en") == pytest.approx(PRIOR_OTHER)


def test_viewings_that_hold_raise_a_language_and_swipes_lower_it() -> None:
    belief = fresh_belief(3, own=0, english=1)
    for _ in range(8):
        note_viewing(belief, 1, own=0, held=True)
        note_viewing(belief, 2, own=0, held=False)
        note_viewing(belief, 0, own=0, held=False)  # the account's own is not in question
    chance = followed(belief)
    assert chance[0] == pytest.approx(1.0)
    assert chance[1] > 0.9
    assert chance[2] < 0.02


def test_a_language_swiped_thousands_of_times_keeps_a_finite_weight() -> None:
    belief = fresh_belief(3, own=0, english=1)
    for _ in range(3000):
        note_viewing(belief, 2, own=0, held=False)
    chance = followed(belief)
    assert 0.0 < chance[2] < 1e-12
    assert np.isfinite(np.log(chance)).all()


def _watch_english_skip_the_rest(eng: Engine, uid: int, n: int) -> list[str]:
    """A Spanish-account viewer who watches English videos through and swipes the others."""
    languages = []
    for _ in range(n):
        rec = eng.next(uid)
        languages.append(rec.video.language)
        if rec.video.language in ("en", "es"):
            eng.record(uid, rec.video.id, "complete", watched_s=rec.video.duration_s)
        else:
            eng.record(uid, rec.video.id, "skip", watched_s=1.0)
    return languages


def test_the_feed_learns_the_languages_a_viewer_watches_and_keeps_it_on_resume(
    world_path: Path,
) -> None:
    with Engine.open(world_path, clock=VirtualClock(0.0)) as eng:
        uid = eng.new_user(language="es", country="ES")
        shown = _watch_english_skip_the_rest(eng, uid, 60)
        learned = eng.profile(uid).languages_followed
    assert learned["en"] > 0.9
    swiped = set(shown) - {"en", "es"}
    assert swiped and all(learned[k] < PRIOR_OTHER for k in swiped)
    # A language never shown keeps its prior: the sources rarely propose one so unlikely.
    unseen = set(learned) - set(shown) - {"en", "es"}
    assert all(learned[k] == pytest.approx(PRIOR_OTHER) for k in unseen)
    followed_share = [
        np.mean([lang in ("en", "es") for lang in part]) for part in (shown[:20], shown[40:])
    ]
    assert followed_share[1] > followed_share[0]
    with Engine.open(world_path, clock=VirtualClock(0.0)) as eng:
        assert eng.profile(uid).languages_followed == learned


def test_a_refresh_forgets_the_languages_learned(world_path: Path) -> None:
    with Engine.open(world_path, clock=VirtualClock(0.0)) as eng:
        uid = eng.new_user(language="es", country="ES")
        _watch_english_skip_the_rest(eng, uid, 30)
        assert eng.profile(uid).languages_followed["en"] > 0.9
        eng.refresh(uid)
        assert eng.profile(uid).languages_followed["en"] == pytest.approx(PRIOR_ENGLISH)


def _followed_share(world_path: Path, power: float) -> float:
    """The share of 30 picks in the account's language or English, for a Spanish, an English
    and a German account that skip every video at 3 s (nothing learned about topics)."""
    sources = msgspec.structs.replace(Config().sources, followed_language=power)
    shares = []
    for language, country in (("es", "ES"), ("en", "US"), ("de", "DE")):
        with Engine.open(
            world_path, config=Config(sources=sources), clock=VirtualClock(0.0), log=False
        ) as eng:
            uid = eng.new_user(language=language, country=country)
            shown = []
            for _ in range(30):
                rec = eng.next(uid)
                shown.append(rec.video.language in (language, "en"))
                eng.record(uid, rec.video.id, "skip", watched_s=3.0)
        shares.append(float(np.mean(shown)))
    return float(np.mean(shares))


def test_the_sources_propose_what_the_viewer_likely_follows(world_path: Path) -> None:
    # Weighed by the chance the viewer follows its language, a source's video in a language
    # it hardly follows needs to promise far more to be proposed (0.69 against 0.57 of the
    # picks on the test world).
    with_languages, without = _followed_share(world_path, 1.0), _followed_share(world_path, 0.0)
    assert with_languages > without + 0.1
