"""Each stage of a pick on the hand-built world of ``tests/tinyworld.py``, with worked answers.

These pin what a stage does in numbers a reader can check by hand, so a stage can be changed
without a seeded world; the seeded-world tests stay as integration tests.
"""

from __future__ import annotations

import math

import msgspec
import numpy as np
import pytest

from engine.config import Config
from engine.events import Event, apply_choice
from engine.filters import FilterContext, apply_filters
from engine.pick import choose, slate_probabilities
from engine.profile import VideoFeatures, learn, negative_strengths, seed_interests
from engine.reactions import reaction_value
from engine.rerank import finishing_topics, rerank, rerank_many
from engine.scoring import BOOST_FLOOR, ScoringContext, score
from tests.tinyworld import (
    ANA,
    BEN,
    CAT,
    COOKING,
    GAMING,
    NOW,
    PETS,
    tiny_catalog,
    viewer,
)


def _event(kind: str, video_id: int, *, scope: str | None = None) -> Event:
    return Event(user_id=1, video_id=video_id, kind=kind, world_t=NOW, scope=scope)


ALL = np.arange(12, dtype=np.int64)
NO_KEYWORDS = np.zeros(0, dtype=np.int64)


def _filters(config: Config | None = None, keyword_blocked: np.ndarray = NO_KEYWORDS):
    return FilterContext(tiny_catalog(), config or Config(), NOW, keyword_blocked)


def _features(video_id: int) -> VideoFeatures:
    v = tiny_catalog().world.videos
    return VideoFeatures(
        video_id=video_id,
        topic=int(v.topic_id[video_id]),
        creator=int(v.creator_id[video_id]),
        sound=int(v.sound_id[video_id]),
        hashtags=tuple(int(t) for t in v.hashtags[video_id] if t >= 0),
        embedding=v.embedding[video_id],
    )


# -- filters ---------------------------------------------------------------------------------


def test_each_filter_removes_its_videos_and_counts_them_once() -> None:
    state = viewer()
    state.seen.add(0)
    state.seen_roots.add(0)
    state.hidden_creators.add(BEN)  # videos 2, 3, 11
    apply_choice(
        state, _event("not_interested", 9, scope="topic"), tiny_catalog().world.videos
    )  # gaming: 6, 7, 8, 9
    keep, removed = apply_filters(ALL, state, _filters())
    assert ALL[keep].tolist() == [1, 4, 5]
    assert removed["not yet published"] == 1  # 10
    assert removed["already seen"] == 1  # 0
    assert removed["duplicate of a seen video"] == 1  # 8 re-uploads 0
    assert removed["hidden creator"] == 3
    assert removed["not interested"] == 3  # 6, 7, 9 (8 was counted as a duplicate)
    assert removed["spam"] == removed["sensitive"] == 0  # 6 and 7 were already gone
    assert sum(removed.values()) == 12 - 3


def test_spam_is_never_shown_and_sensitive_only_where_allowed() -> None:
    state = viewer()
    keep, _ = apply_filters(ALL, state, _filters())
    assert 6 not in ALL[keep] and 7 not in ALL[keep]
    state.allow_sensitive = True
    keep, _ = apply_filters(ALL, state, _filters())
    assert 6 not in ALL[keep] and 7 in ALL[keep]


@pytest.mark.parametrize(
    ("rule", "language", "expected_kept"),
    [
        ("any", 0, [0, 1, 2, 3, 4, 5, 8, 9, 11]),
        ("user", 0, [0, 1, 2, 3, 5, 8, 9]),  # English only
        ("user+en", 2, [0, 1, 2, 3, 5, 8, 9, 11]),  # French and English
        ("user", 2, [11]),  # French only
    ],
)
def test_language_filter(rule: str, language: int, expected_kept: list[int]) -> None:
    state = viewer()
    state.language = language
    config = msgspec.structs.replace(
        Config(), filters=msgspec.structs.replace(Config().filters, language=rule)
    )
    keep, _ = apply_filters(ALL, state, _filters(config))
    assert ALL[keep].tolist() == expected_kept  # never 6 (spam), 7 (sensitive), 10 (scheduled)


def test_a_not_interested_topic_fades_back_in_after_its_half_life() -> None:
    state = viewer()
    apply_choice(state, _event("not_interested", 3, scope="topic"), tiny_catalog().world.videos)
    ctx_now = _filters()
    later = FilterContext(tiny_catalog(), Config(), NOW + 72 * 3600.0 + 1.0, NO_KEYWORDS)
    assert not apply_filters(np.array([4]), state, ctx_now)[0][0]  # strength 1 > 0.5
    assert apply_filters(np.array([4]), state, later)[0][0]  # just under 0.5 after 72 h
    assert negative_strengths(state, "topic", NOW + 72 * 3600.0, 72.0)[PETS] == pytest.approx(0.5)


def test_keyword_filter_removes_exactly_the_matching_videos() -> None:
    keep, removed = apply_filters(ALL, viewer(), _filters(keyword_blocked=np.array([1, 4])))
    assert 1 not in ALL[keep] and 4 not in ALL[keep]
    assert removed["keyword filter"] == 2


# -- scoring ---------------------------------------------------------------------------------


def _score(
    ids: list[int], state=None, boosts: dict[int, float] | None = None, config: Config | None = None
):
    ctx = ScoringContext(tiny_catalog(), config or Config(), NOW, boosts or {})
    return score(np.array(ids, dtype=np.int64), None, state or viewer(), ctx)


def test_completion_probability_is_the_smoothed_rate_shifted_by_affinity() -> None:
    # Global completion rate (30·11 + 90 + 1) / (1200 + 2); 50 prior views shrink toward it
    # (the overall prior; the default's length prior: tests/test_completion_prior.py).
    global_rate = (30 * 11 + 90 + 1) / (1200 + 2)
    rate_0 = (30 + 50 * global_rate) / 150
    rate_2 = (90 + 50 * global_rate) / 150
    overall = msgspec.structs.replace(
        Config(), scoring=msgspec.structs.replace(Config().scoring, completion_prior="overall")
    )
    scores = _score([0, 2], config=overall)
    # Same language and same country; nothing else known, nothing fresh.
    z = Config().scoring.same_language + Config().scoring.same_country
    assert scores.affinity.tolist() == pytest.approx([z, z])
    expected = [1 / (1 + math.exp(-(math.log(r / (1 - r)) + z))) for r in (rate_0, rate_2)]
    assert scores.p["complete"].tolist() == pytest.approx(expected)
    assert scores.p["skip"].tolist() == pytest.approx([1 - p for p in expected])


def test_a_longer_video_is_worth_more_to_finish() -> None:
    scores = _score([0, 9])  # 10 s and 120 s
    assert scores.value["complete"].tolist() == pytest.approx([2 + 10 / 60, 2 + 120 / 60])


def test_following_a_creator_raises_their_videos_and_most_their_new_ones() -> None:
    state = viewer()
    state.follows.add(CAT)
    scores = _score([4, 5, 3], state)  # cat (de), cat fresh (en), ben (en)
    followed = scores.features["followed"].tolist()
    assert followed == [2.5, 2.5, 0.0]
    assert scores.features["new from followed"].tolist() == [0.0, 2.0, 0.0]
    assert scores.features["freshness"].tolist() == [0.0, 0.3, 0.0]
    assert scores.p["follow"].tolist()[:2] == [0.0, 0.0]  # nobody follows twice


def test_score_is_the_sum_of_probability_times_value() -> None:
    scores = _score([0, 3, 9])
    total = sum(scores.p[a] * scores.value[a] for a in scores.p)
    assert scores.base.tolist() == pytest.approx(total.tolist())
    assert scores.score.tolist() == pytest.approx(scores.base.tolist())  # no multiplier yet


def test_sliders_scale_positive_scores_and_divide_negative_ones() -> None:
    state = viewer()
    state.topic_affinity[GAMING] = -1.0
    state.creator_affinity[CAT] = -1.0
    plain = _score([0, 9], state)
    assert plain.score[0] > 0 > plain.score[1]  # a disliked topic and creator: negative
    state.topic_sliders = {COOKING: 3.0, GAMING: 2.0}
    slid = _score([0, 9], state)
    assert slid.score.tolist() == pytest.approx([3.0 * plain.score[0], plain.score[1] / 2.0])
    state.topic_sliders = {COOKING: 0.0}
    assert _score([0], state).score.tolist() == [0.0]  # "none of this topic"


def test_a_boost_multiplies_at_least_the_floor_and_is_kept_for_the_receipt() -> None:
    plain = _score([3])
    boosted = _score([3], boosts={3: 4.0})
    assert boosted.multipliers["boost"].tolist() == [4.0]
    assert boosted.score[0] == pytest.approx(max(plain.score[0], BOOST_FLOOR) * 4.0)


# -- re-rank ---------------------------------------------------------------------------------


def test_no_creator_or_sound_back_to_back_and_a_repeated_author_decays() -> None:
    ids = np.array([1, 2, 4, 8], dtype=np.int64)  # ana, ben, cat, ana
    scores = np.array([4.0, 3.0, 2.0, 1.0])
    slate = rerank(ids, scores, np.zeros(4, bool), [0], tiny_catalog(), Config().rerank)
    shown = ids[slate.order].tolist()
    assert shown == [2, 4]  # 1 and 8 are ana's, with ana's sound, right after ana's video 0
    assert slate.blocked["same creator or sound as the last video"] == 2
    assert slate.author_penalty.tolist() == [0.5, 1.0, 1.0, 0.5]
    assert slate.adjusted.tolist() == [2.0, 3.0, 2.0, 0.5]


def test_topic_cap_holds_a_topic_back_once_the_window_is_full_of_it() -> None:
    config = msgspec.structs.replace(Config().rerank, topic_cap=2)
    ids = np.array([5, 0], dtype=np.int64)  # pets, cooking
    slate = rerank(ids, np.array([9.0, 1.0]), np.zeros(2, bool), [4, 3], tiny_catalog(), config)
    assert ids[slate.order].tolist() == [0]
    assert slate.blocked["topic cap"] == 1


def test_the_topic_cap_yields_to_a_topic_the_viewer_finishes_every_time() -> None:
    """Three pets videos fill a window capped at 3: finished every time, pets gets one more
    (the cap is there against boredom, and this viewer is not bored); one skip among them and
    the cap holds again."""
    config = msgspec.structs.replace(Config().rerank, topic_cap=3, topic_cap_finishing=1)
    topic_id = tiny_catalog().world.videos.topic_id
    ids, scores = np.array([11, 0], dtype=np.int64), np.array([9.0, 1.0])  # pets, cooking
    finished = [("complete", 3), ("like", 3), ("complete", 4), ("complete", 5)]
    skipped_one = [("complete", 3), ("skip", 4), ("complete", 5)]
    assert finishing_topics(finished, topic_id, config) == [PETS]
    assert finishing_topics(skipped_one, topic_id, config) == []
    assert finishing_topics([("complete", 3)], topic_id, config) == []  # once is not a run

    def shown(reactions: list[tuple[str, int]]) -> list[int]:
        finishing = [finishing_topics(reactions, topic_id, config)]
        slate = rerank_many(
            [ids],
            [scores],
            [np.zeros(2, bool)],
            [[3, 4, 5]],
            tiny_catalog(),
            config,
            finishing=finishing,
        )[0]
        return ids[slate.order].tolist()

    assert shown(finished) == [11, 0]
    assert shown(skipped_one) == [0]
    no_yield = msgspec.structs.replace(config, topic_cap_finishing=0)
    assert rerank(
        ids, scores, np.zeros(2, bool), [3, 4, 5], tiny_catalog(), no_yield
    ).order.tolist() == [1]


def test_the_best_exploration_item_is_kept_in_a_full_slate() -> None:
    config = msgspec.structs.replace(Config().rerank, slate=2)
    ids = np.array([0, 3, 4, 9], dtype=np.int64)
    explore = np.array([False, False, False, True])
    slate = rerank(ids, np.array([4.0, 3.0, 2.0, 1.0]), explore, [], tiny_catalog(), config)
    assert ids[slate.order].tolist() == [0, 3, 9]


def test_a_batch_of_slates_is_each_viewers_slate_alone() -> None:
    """Viewers re-ranked together keep their own recent videos, their own fallback when every
    candidate is blocked, and their own exploration item."""
    config = msgspec.structs.replace(Config().rerank, slate=2, topic_cap=2)
    cases = [
        (np.array([1, 2, 4, 8]), np.array([4.0, 3.0, 2.0, 1.0]), np.zeros(4, bool), [0]),
        (np.array([1, 8]), np.array([1.0, 2.0]), np.zeros(2, bool), [0]),  # all blocked
        (np.array([0, 3, 4, 9]), np.array([4.0, 3.0, -2.0, 1.0]), np.arange(4) == 3, []),
        (np.array([5, 0]), np.array([9.0, 1.0]), np.zeros(2, bool), [4, 3]),
    ]
    together = rerank_many(
        *(list(part) for part in zip(*cases, strict=True)), tiny_catalog(), config
    )
    for (ids, scores, explore, recent), slate in zip(cases, together, strict=True):
        alone = rerank(ids, scores, explore, recent, tiny_catalog(), config)
        assert slate.order.tolist() == alone.order.tolist()
        assert slate.adjusted.tolist() == alone.adjusted.tolist()
        assert slate.author_penalty.tolist() == alone.author_penalty.tolist()
        assert slate.blocked == alone.blocked
    assert together[1].order.tolist() == [1, 0]  # nothing eligible: the rules bend
    assert together[2].order.tolist() == [0, 1, 3]  # the exploration item is kept


def test_the_best_new_creators_upload_is_kept_in_a_full_slate() -> None:
    """A new creator's upload the ranker scores low still reaches the slate, so the debut
    share has something to give; one already on its score is not added twice."""
    config = msgspec.structs.replace(Config().rerank, slate=2)
    ids = np.array([0, 3, 4, 9], dtype=np.int64)
    none = np.zeros(4, bool)
    debut = np.array([False, False, True, True])
    scores = np.array([4.0, 3.0, 2.0, 1.0])
    slate = rerank(ids, scores, none, [], tiny_catalog(), config, debut)
    assert ids[slate.order].tolist() == [0, 3, 4]
    on_score = rerank(ids, scores, none, [], tiny_catalog(), config, np.arange(4) == 1)
    assert ids[on_score.order].tolist() == [0, 3]


# -- pick ------------------------------------------------------------------------------------


def test_new_creators_uploads_share_the_debut_share_whatever_their_score() -> None:
    pick = Config().pick
    scores = np.array([3.0, 2.0, -5.0, -6.0])  # the uploads nobody has seen score lowest
    debut = np.array([False, False, True, True])
    without = slate_probabilities(scores, np.zeros(4, bool), pick, 0.0)
    probs = slate_probabilities(scores, np.zeros(4, bool), pick, 0.0, debut, 0.05)
    assert without[debut].sum() < 1e-9
    assert probs[debut].tolist() == pytest.approx([0.025, 0.025], abs=1e-9)
    assert probs.sum() == pytest.approx(1.0)


def test_softmax_probabilities_and_exploration_share() -> None:
    pick = Config().pick  # softmax, temperature 0.15
    scores = np.array([0.3, 0.15, 0.0])
    probs = slate_probabilities(scores, np.zeros(3, bool), pick, 0.0)
    e = np.exp([0.0, -1.0, -2.0])
    assert probs.tolist() == pytest.approx((e / e.sum()).tolist())
    mixed = slate_probabilities(scores, np.array([False, False, True]), pick, 0.1)
    assert mixed.tolist() == pytest.approx((0.9 * e / e.sum() + [0, 0, 0.1]).tolist())
    assert mixed.sum() == pytest.approx(1.0)


def test_temperature_zero_is_a_deterministic_argmax() -> None:
    pick = msgspec.structs.replace(Config().pick, temperature=0.0)
    probs = slate_probabilities(np.array([1.0, 2.0]), np.array([True, False]), pick, 0.5)
    assert probs.tolist() == [0.0, 1.0]
    choice = choose(probs, np.random.default_rng(0))
    assert (choice.index, choice.propensity) == (1, 1.0)


def test_epsilon_greedy_spreads_epsilon_evenly() -> None:
    pick = msgspec.structs.replace(Config().pick, policy="epsilon_greedy", epsilon=0.2)
    probs = slate_probabilities(np.array([1.0, 3.0, 2.0, 0.0]), np.zeros(4, bool), pick, 0.0)
    assert probs.tolist() == pytest.approx([0.05, 0.85, 0.05, 0.05])


def test_the_propensity_is_the_probability_of_what_was_drawn() -> None:
    probs = np.array([0.7, 0.2, 0.1])
    draws = [choose(probs, np.random.default_rng(s)) for s in range(400)]
    assert all(d.propensity == probs[d.index] for d in draws)
    share = np.mean([d.index == 0 for d in draws])
    assert 0.6 < share < 0.8


# -- event → profile -------------------------------------------------------------------------


def test_a_like_moves_topic_affinity_by_a_third_of_the_rate() -> None:
    state = viewer()
    value = reaction_value("like", Config().reactions, watched_s=0.0, duration_s=10.0)
    learn(state, _features(3), value, Config().profile)
    # weight = like / max_step_value = 1/3; affinity step = 0.15 · 1/3 · (1 − 0)
    assert state.topic_affinity[PETS] == pytest.approx(0.05)
    assert state.creator_affinity[BEN] == pytest.approx(0.05)
    assert state.hashtag_affinity[PETS] == pytest.approx(0.025)  # hashtags learn at half rate
    expected_long = 0.04 / 3 * tiny_catalog().world.videos.embedding[3]
    assert np.allclose(state.long_term, expected_long)


def test_finishing_a_minute_long_video_is_a_full_step() -> None:
    state = viewer()
    value = reaction_value("complete", Config().reactions, watched_s=60.0, duration_s=60.0)
    assert value == pytest.approx(3.0)  # 2 + 1 per minute
    learn(state, _features(4), value, Config().profile)
    assert state.topic_affinity[PETS] == pytest.approx(0.15)


def test_an_early_skip_pushes_away_and_a_late_one_is_almost_a_completion() -> None:
    r = Config().reactions
    assert reaction_value("skip", r, watched_s=1.0, duration_s=30.0) == pytest.approx(-0.6)
    assert reaction_value("skip", r, watched_s=27.0, duration_s=30.0) == pytest.approx(0.48)


def test_not_interested_removes_only_what_the_vectors_share_with_the_video() -> None:
    state = viewer(interests=(COOKING,))
    seed_interests(state, tiny_catalog().world.topics.centroid, Config().profile)
    before = state.long_term.copy()
    value = reaction_value("not_interested", Config().reactions, watched_s=0.0, duration_s=10.0)
    learn(state, _features(9), value, Config().profile)  # gaming: orthogonal to cooking
    assert np.allclose(state.long_term, before)  # nothing shared, nothing removed
    assert state.topic_affinity[GAMING] == pytest.approx(-0.15)
    assert state.creator_affinity[CAT] == pytest.approx(-0.15)
    learn(state, _features(0), value, Config().profile)  # cooking: shares the cooking axis
    assert float(state.long_term @ tiny_catalog().world.videos.embedding[0]) < float(
        before @ tiny_catalog().world.videos.embedding[0]
    )
    assert state.topic_affinity[COOKING] == pytest.approx(0.6 + 0.15 * (-1 - 0.6))


def test_hide_creator_is_remembered_with_the_video_it_was_on() -> None:
    state = viewer()
    apply_choice(state, _event("hide_creator", 1), tiny_catalog().world.videos)
    assert ANA in state.hidden_creators and state.hidden_on[ANA] == 1
    apply_choice(state, _event("unhide_creator", 1), tiny_catalog().world.videos)
    assert ANA not in state.hidden_creators
