import json

import numpy as np
import pytest

from routing.policy import NEVER_AUTO, Policy, choose_threshold, decide

# Most confident first: right, right, right, wrong, right, right, wrong.
CONFIDENCE = np.array([0.97, 0.93, 0.90, 0.85, 0.80, 0.70, 0.60])
CORRECT = np.array([1, 1, 1, 0, 1, 1, 0])


def test_choose_threshold_picks_lowest_threshold_reaching_target():
    # Precision by cut: 1, 1, 1, 3/4, 4/5, 5/6, 5/7. Target 0.8 -> lowest cut is 0.70 (5/6).
    choice = choose_threshold(CONFIDENCE, CORRECT, 0.8)
    assert choice.threshold == pytest.approx(0.70)
    assert choice.precision == pytest.approx(5 / 6)
    assert choice.coverage == pytest.approx(6 / 7)
    assert choice.reached is True
    assert choice.n_calibration == 7


def test_choose_threshold_with_strict_target_stops_before_first_error():
    choice = choose_threshold(CONFIDENCE, CORRECT, 1.0)
    assert choice.threshold == pytest.approx(0.90)
    assert choice.precision == pytest.approx(1.0)
    assert choice.coverage == pytest.approx(3 / 7)


def test_choose_threshold_keeps_ties_together():
    confidence = np.array([0.9, 0.8, 0.8, 0.5])
    correct = np.array([1, 1, 0, 1])
    choice = choose_threshold(confidence, correct, 1.0)
    assert choice.threshold == pytest.approx(0.9)
    assert choice.coverage == pytest.approx(0.25)


def test_unreachable_target_sends_everything_to_review():
    choice = choose_threshold(np.array([0.9, 0.8]), np.array([0, 1]), 0.99)
    assert choice.threshold == NEVER_AUTO == 1.0
    assert choice.reached is False
    assert choice.precision is None
    assert choice.coverage == 0.0
    assert "every suggestion goes to review" in choice.describe()
    assert decide(0.9, choice.threshold) == "review"


def test_no_calibration_scores_is_unreachable():
    choice = choose_threshold(np.array([]), np.array([]), 0.9)
    assert choice.threshold == 1.0
    assert choice.reached is False
    assert choice.n_calibration == 0


def test_describe_reports_coverage_and_precision_when_reached():
    text = choose_threshold(CONFIDENCE, CORRECT, 0.8).describe()
    assert "0.7000" in text
    assert "85.7%" in text
    assert "review" not in text


@pytest.mark.parametrize("target", [0.8, 0.99])
def test_to_dict_round_trips_through_json(target):
    policy = choose_threshold(CONFIDENCE, CORRECT, target)
    assert Policy.from_dict(json.loads(json.dumps(policy.to_dict()))) == policy


@pytest.mark.parametrize("data", [{}, {"threshold": 0.5}, None, ["threshold"]])
def test_from_dict_refuses_what_is_not_a_policy(data):
    with pytest.raises((KeyError, TypeError, ValueError)):
        Policy.from_dict(data)


@pytest.mark.parametrize("target", [0.0, -0.1, 1.5, float("nan")])
def test_invalid_target_precision_is_refused(target):
    with pytest.raises(ValueError, match="target precision"):
        choose_threshold(CONFIDENCE, CORRECT, target)


@pytest.mark.parametrize(
    ("confidence", "expected"),
    [(0.81, "auto"), (0.8, "auto"), (0.79999, "review"), (0.0, "review")],
)
def test_decide_at_above_and_below_threshold(confidence, expected):
    assert decide(confidence, 0.8) == expected


@pytest.mark.parametrize("confidence", [0.0, 0.5, 0.999999999, 1.0])
def test_threshold_one_never_auto_routes(confidence):
    assert decide(confidence, 1.0) == "review"
