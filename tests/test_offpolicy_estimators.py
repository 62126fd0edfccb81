"""The estimators on hand-made inputs with known answers, and on a two-armed bandit."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine.offpolicy import METHODS, Bandit, estimate, session_estimates

TRUE_RATE = np.array([0.3, 0.7])
LOGGING = np.array([0.2, 0.8])
TARGET = np.array([0.9, 0.1])
TARGET_VALUE = float(TARGET @ TRUE_RATE)  # 0.34


def hand_made() -> Bandit:
    """Four decisions in two sessions, weights 2, 0.5, 1, 0."""
    return Bandit(
        reward=np.array([1.0, 0.0, 1.0, 1.0]),
        logging=np.array([0.25, 0.5, 0.5, 0.5]),
        target=np.array([0.5, 0.25, 0.5, 0.0]),
        cluster=np.array([1, 1, 2, 2], dtype=np.int64),
        model_logged=np.array([0.5, 0.5, 0.5, 0.5]),
        model_target=np.array([0.6, 0.6, 0.6, 0.6]),
    )


def test_every_estimator_on_hand_made_decisions() -> None:
    result = estimate(hand_made(), METHODS, tau=1.0, shrinkage=1.0)
    values = {m: e.value for m, e in result.methods.items()}
    assert values["DM"] == pytest.approx(0.6)
    assert values["IPS"] == pytest.approx((2 + 0 + 1 + 0) / 4)
    assert values["SNIPS"] == pytest.approx(3 / 3.5)
    # DR: 0.6 + w (r - 0.5) = 0.6 + [1, -0.25, 0.5, 0]
    assert values["DR"] == pytest.approx(0.6 + (1 - 0.25 + 0.5) / 4)
    # SWITCH-DR at tau 1: the weight-2 decision falls back on the model
    assert values["SWITCH-DR"] == pytest.approx(0.6 + (-0.25 + 0.5) / 4)
    # DRos at lambda 1: w -> w / (w² + 1): 0.4, 0.4, 0.5, 0
    assert values["DRos"] == pytest.approx(0.6 + (0.4 * 0.5 - 0.4 * 0.5 + 0.5 * 0.5) / 4)
    assert result.effective_sample_size == pytest.approx(3.5**2 / 5.25)
    assert result.mean_weight == pytest.approx(0.875)


def test_clipping_caps_the_weights() -> None:
    clipped = estimate(hand_made(), ["IPS"], clip=1.0)
    assert clipped.ips.value == pytest.approx((1 + 0 + 1 + 0) / 4)
    assert clipped.clip == 1.0


def test_poor_support_and_a_thin_sample_are_warned_about() -> None:
    ones = np.ones(100)
    target = np.zeros(100)
    target[:5] = 1.0  # the target picks only 5 of the logged decisions, the rest elsewhere
    thin = estimate(Bandit(ones, ones, target, np.arange(100, dtype=np.int64)))
    assert any("effective sample size" in w for w in thin.warnings)
    assert any("could not make" in w for w in thin.warnings)
    fine = estimate(Bandit(ones, ones, ones, np.arange(100, dtype=np.int64)))
    assert fine.warnings == ()


def test_bad_requests_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown estimator"):
        estimate(hand_made(), ["MAGIC"])
    with pytest.raises(ValueError, match="clip"):
        estimate(hand_made(), ["IPS"], clip=0.0)
    no_model = Bandit(np.ones(2), np.ones(2), np.ones(2), np.arange(2, dtype=np.int64))
    with pytest.raises(ValueError, match="reward model"):
        estimate(no_model, ["DM"])


@pytest.mark.parametrize("method", METHODS)
def test_every_estimator_recovers_a_two_armed_bandit(method: str) -> None:
    rng = np.random.default_rng(11)
    n = 40_000
    arm = rng.choice(2, size=n, p=LOGGING)
    reward = (rng.random(n) < TRUE_RATE[arm]).astype(float)
    model = np.array([0.25, 0.75])  # a slightly wrong reward model
    data = Bandit(
        reward=reward,
        logging=LOGGING[arm],
        target=TARGET[arm],
        cluster=np.arange(n, dtype=np.int64),
        model_logged=model[arm],
        model_target=np.full(n, float(TARGET @ model)),
    )
    result = estimate(data, [method], tau=10.0)
    est = result.methods[method]
    if method == "DM":  # only as right as the model: 0.9·0.25 + 0.1·0.75 = 0.30
        assert est.value == pytest.approx(0.30, abs=1e-9)
    else:
        assert est.value == pytest.approx(TARGET_VALUE, abs=0.02)
        assert abs(est.value - TARGET_VALUE) <= 3 * est.std_error  # one seed: 3 SE, not 95%


def test_session_estimates_on_a_hand_made_session() -> None:
    # One session of three positions (given out of order), weights 2, 0.5, 1.
    data = Bandit(
        reward=np.array([1.0, 0.0, 1.0]),
        logging=np.array([0.5, 0.25, 0.5]),
        target=np.array([0.5, 0.5, 0.25]),
        cluster=np.zeros(3, dtype=np.int64),
    )
    position = np.array([2, 0, 1], dtype=np.int64)  # in order: w 2 (r 0), 0.5 (r 1), 1 (r 1)
    result = session_estimates(data, position)
    assert result["independent"].value == pytest.approx(0 + 0.5 + 1)
    assert result["cascade"].value == pytest.approx(2 * 0 + 1 * 1 + 1 * 1)
    assert result["pseudo-inverse"].value == pytest.approx(2 * (3.5 - 3 + 1))
    assert result["session-IPS"].value == pytest.approx(2 * 1.0)
    assert math.isnan(result["cascade"].std_error)  # one session: no interval


def test_cascade_recovers_a_session_length_the_target_changes() -> None:
    """Viewers leave after an arm-0 pick with probability 0.5, never after arm 1; sessions
    last at most 4 picks. The target's expected length is computed exactly; the per-position
    products must find it, the per-decision sum (independent) must not."""
    rng = np.random.default_rng(3)
    leave = np.array([0.5, 0.0])
    rows = []
    for session in range(30_000):
        for position in range(4):
            arm = int(rng.choice(2, p=LOGGING))
            rows.append((session, position, arm))
            if rng.random() < leave[arm]:
                break
    session, position, arm = (np.array(c, dtype=np.int64) for c in zip(*rows, strict=True))
    data = Bandit(np.ones(len(arm)), LOGGING[arm], TARGET[arm], session)
    stay = float(TARGET @ (1 - leave))  # the target's chance of a viewer staying after a pick
    truth = sum(stay**k for k in range(4))
    result = session_estimates(data, position, ["independent", "cascade"])
    assert result["cascade"].low <= truth <= result["cascade"].high
    assert not result["independent"].low <= truth <= result["independent"].high


def test_the_pseudo_inverse_goes_below_zero_when_the_target_seldom_makes_the_logged_picks() -> None:
    """Swaminathan et al.'s form: R (Σ w − K + 1); with weights summing under K − 1 a positive
    session total gets a negative estimate, which the output must explain, not hide."""
    data = Bandit(
        reward=np.ones(4),
        logging=np.full(4, 0.5),
        target=np.full(4, 0.1),  # w = 0.2 at each of 4 positions: Σ w = 0.8 < 3
        cluster=np.zeros(4, dtype=np.int64),
    )
    result = session_estimates(data, np.arange(4, dtype=np.int64), ["pseudo-inverse"])
    assert result["pseudo-inverse"].value == pytest.approx(4 * (0.8 - 4 + 1))
    from tui.cli_eval import SESSION_NOTE

    assert "below 0 by design" in SESSION_NOTE
