import json

import numpy as np
import pytest
from scipy.stats import binomtest

from routing.policy import (
    NEVER_AUTO,
    Policy,
    choose_threshold,
    decide,
    is_ambiguous,
    precision_lower_bound,
    review_reasons,
)

# Most confident first: right, right, right, wrong, right, right, wrong.
CONFIDENCE = np.array([0.97, 0.93, 0.90, 0.85, 0.80, 0.70, 0.60])
CORRECT = np.array([1, 1, 1, 0, 1, 1, 0])


def _calibration(seed: int = 0, n: int = 3000) -> tuple[np.ndarray, np.ndarray]:
    """Calibrated-looking scores: a complaint with confidence c is right with probability c."""
    rng = np.random.default_rng(seed)
    confidence = np.round(rng.beta(8, 1, n), 3)
    return confidence, rng.random(n) < confidence


def _lowest_kept_promise(confidence, correct, target, bound_confidence) -> float:
    """The rule written plainly: try every threshold, keep the lowest whose bound holds."""
    best = NEVER_AUTO
    for t in sorted(set(confidence.tolist()), reverse=True):
        auto = confidence >= t
        k, n = int(correct[auto].sum()), int(auto.sum())
        if precision_lower_bound(k, n, bound_confidence) >= target:
            best = t
    return best


@pytest.mark.parametrize(("k", "n"), [(1, 1), (5, 10), (99, 100), (229, 229), (950, 1000)])
@pytest.mark.parametrize("bound_confidence", [0.8, 0.9, 0.95])
def test_lower_bound_is_the_one_sided_clopper_pearson_bound(k, n, bound_confidence):
    # a one-sided bound at c is the lower end of the two-sided exact interval at 2c - 1
    expected = binomtest(k, n).proportion_ci(2 * bound_confidence - 1, "exact").low
    assert precision_lower_bound(k, n, bound_confidence) == pytest.approx(expected, abs=1e-9)


def test_lower_bound_of_nothing_right_is_zero():
    assert precision_lower_bound(0, 10, 0.9) == 0.0


@pytest.mark.parametrize("target", [0.9, 0.95, 0.99])
@pytest.mark.parametrize("bound_confidence", [0.5, 0.9])
def test_threshold_is_the_lowest_whose_precision_bound_reaches_the_target(target, bound_confidence):
    confidence, correct = _calibration()
    policy = choose_threshold(confidence, correct, target, bound_confidence=bound_confidence)
    expected = _lowest_kept_promise(confidence, correct, target, bound_confidence)
    assert policy.threshold == expected < NEVER_AUTO
    auto = confidence >= policy.threshold
    assert policy.coverage == pytest.approx(auto.mean())
    assert policy.precision == pytest.approx(correct[auto].mean())
    assert target <= policy.threshold_lower_bound < policy.precision
    assert policy.bound_confidence == bound_confidence
    assert policy.thresholds is None


def test_more_confidence_in_the_promise_costs_coverage():
    confidence, correct = _calibration()
    loose = choose_threshold(confidence, correct, 0.95, bound_confidence=0.5)
    strict = choose_threshold(confidence, correct, 0.95, bound_confidence=0.99)
    assert strict.threshold > loose.threshold
    assert strict.coverage < loose.coverage


def test_a_precision_reached_on_too_few_complaints_is_no_promise():
    # 100 of 100 right: precision 1.0, but a 0.99 bound needs about 230 at confidence 0.9
    confidence, correct = np.linspace(0.999, 0.9, 100), np.ones(100, bool)
    assert not choose_threshold(confidence, correct, 0.99).reached
    assert choose_threshold(confidence, correct, 0.95).reached


def test_choose_threshold_keeps_ties_together():
    # the second 0.8 is wrong: the first alone would keep the promise (501 of 501), but
    # cutting between the two 0.8s is not allowed, and with both (501 of 502) it is broken
    confidence = np.array([0.9] * 500 + [0.8, 0.8])
    correct = np.array([1] * 500 + [1, 0])
    assert precision_lower_bound(501, 501, 0.5) >= 0.998 > precision_lower_bound(501, 502, 0.5)
    choice = choose_threshold(confidence, correct, 0.998, bound_confidence=0.5)
    assert choice.threshold == pytest.approx(0.9)
    assert choice.coverage == pytest.approx(500 / 502)


def test_per_agency_thresholds_hold_each_agency_to_the_target():
    clean, _ = _calibration(1)
    confidence = np.concatenate([clean, clean])
    agencies = np.array(["A"] * len(clean) + ["B"] * len(clean), dtype=object)
    # A is always right; B is right only when very confident
    correct = np.concatenate([np.ones(len(clean), bool), clean > 0.97])
    policy = choose_threshold(confidence, correct, 0.99, agencies=agencies)
    assert set(policy.thresholds) == {"A", "B"}
    for agency in ("A", "B"):
        mine = agencies == agency
        expected = _lowest_kept_promise(confidence[mine], correct[mine], 0.99, 0.9)
        assert policy.thresholds[agency] == expected
        assert policy.threshold_for(agency) == expected
    assert policy.thresholds["A"] < policy.thresholds["B"]
    assert policy.threshold_for("an agency without calibration scores") == NEVER_AUTO
    limit = np.where(agencies == "A", policy.thresholds["A"], policy.thresholds["B"])
    auto = confidence >= limit
    assert policy.coverage == pytest.approx(auto.mean())
    assert policy.precision == pytest.approx(correct[auto].mean())
    assert policy.decide(policy.thresholds["A"], "A") == "auto"
    assert policy.decide(policy.thresholds["A"], "B") == "review"
    assert "per-agency thresholds" in policy.describe()


def test_a_global_policy_applies_its_threshold_to_every_agency():
    policy = choose_threshold(*_calibration(), 0.95)
    assert policy.threshold_for("anything") == policy.threshold
    assert policy.decide(policy.threshold, "anything") == "auto"


def test_a_policy_written_before_the_bound_still_reads():
    old = {
        "threshold": 0.8,
        "target_precision": 0.99,
        "precision": 0.991,
        "coverage": 0.7,
        "reached": True,
        "n_calibration": 1000,
    }
    policy = Policy.from_dict(old)
    assert policy.threshold == 0.8
    assert policy.threshold_lower_bound is None
    assert policy.thresholds is None


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


def test_describe_reports_coverage_precision_and_bound_when_reached():
    policy = choose_threshold(*_calibration(), 0.95)
    text = policy.describe()
    assert f"{policy.threshold:.4f}" in text
    assert f"{policy.coverage:.1%}" in text
    assert f"at least {policy.threshold_lower_bound:.4f} with confidence 0.90" in text
    assert "review" not in text


@pytest.mark.parametrize("target", [0.8, 0.95, 0.99])
@pytest.mark.parametrize("per_agency", [False, True])
def test_to_dict_round_trips_through_json(target, per_agency):
    confidence, correct = _calibration()
    agencies = np.where(np.arange(len(confidence)) % 3, "A", "B") if per_agency else None
    policy = choose_threshold(confidence, correct, target, agencies=agencies)
    assert Policy.from_dict(json.loads(json.dumps(policy.to_dict()))) == policy


@pytest.mark.parametrize("data", [{}, {"threshold": 0.5}, None, ["threshold"]])
def test_from_dict_refuses_what_is_not_a_policy(data):
    with pytest.raises((KeyError, TypeError, ValueError)):
        Policy.from_dict(data)


@pytest.mark.parametrize("target", [0.0, -0.1, 1.5, float("nan")])
def test_invalid_target_precision_is_refused(target):
    with pytest.raises(ValueError, match="target precision"):
        choose_threshold(CONFIDENCE, CORRECT, target)


@pytest.mark.parametrize("bound_confidence", [0.0, 1.0, -0.5, float("nan")])
def test_invalid_bound_confidence_is_refused(bound_confidence):
    with pytest.raises(ValueError, match="bound confidence"):
        choose_threshold(CONFIDENCE, CORRECT, 0.9, bound_confidence=bound_confidence)


@pytest.mark.parametrize(
    ("confidence", "expected"),
    [(0.81, "auto"), (0.8, "auto"), (0.79999, "review"), (0.0, "review")],
)
def test_decide_at_above_and_below_threshold(confidence, expected):
    assert decide(confidence, 0.8) == expected


@pytest.mark.parametrize("confidence", [0.0, 0.5, 0.999999999, 1.0])
def test_threshold_one_never_auto_routes(confidence):
    assert decide(confidence, 1.0) == "review"


def test_a_confident_clear_in_scope_complaint_has_no_reason():
    assert review_reasons([("A", 0.95), ("B", 0.03)], 0.9, novelty=(0.1, 0.5)) == []


def test_each_reason_with_its_evidence():
    top = [("A", 0.48), ("B", 0.42)]
    reasons = review_reasons(top, 0.9, novelty=(0.7, 0.5), few_shot=True)
    assert reasons == [
        {"code": "out_of_scope", "score": 0.7, "cutoff": 0.5},
        {"code": "few_shot", "agency": "A"},
        {"code": "ambiguous", "agencies": ["A", "B"]},
        {"code": "low_confidence", "confidence": 0.48, "threshold": 0.9},
    ]


def test_place_reasons_with_their_evidence_and_never_auto():
    top = [("PDAM", 0.99), ("PLN", 0.01)]
    reasons = review_reasons(
        top, 0.5, unplaced=("PDAM", ["PEMKAB-32.04", "PDAM-BDG"]), conflict=("34.04", "32.73")
    )
    assert reasons == [
        {"code": "no_jurisdiction", "role": "PDAM", "candidates": ["PEMKAB-32.04", "PDAM-BDG"]},
        {"code": "location_conflict", "location": "34.04", "text": "32.73"},
    ]
    # no candidates: the key is left out, not an empty list
    assert review_reasons(top, 0.5, unplaced=("PDAM", [])) == [
        {"code": "no_jurisdiction", "role": "PDAM"}
    ]


def test_out_of_scope_is_never_routed_automatically_however_confident():
    reasons = review_reasons([("A", 0.999), ("B", 0.001)], 0.5, novelty=(0.6, 0.5))
    assert [r["code"] for r in reasons] == ["out_of_scope"]


def test_never_auto_threshold_is_a_low_confidence_reason():
    assert [r["code"] for r in review_reasons([("A", 0.99), ("B", 0.0)], NEVER_AUTO)] == [
        "low_confidence"
    ]


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [
        (0.45, 0.40, True),  # close, and 0.85 together
        (0.49, 0.40, True),  # gap just under 0.1
        (0.50, 0.35, False),  # gap 0.15
        (0.38, 0.37, False),  # close but 0.75 together: a third agency is likely
        (0.95, 0.04, False),
    ],
)
def test_ambiguity_rule(first, second, expected):
    assert is_ambiguous(first, second) is expected
