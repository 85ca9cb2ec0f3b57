import numpy as np
import pytest

from routing.evaluation.metrics import (
    PRECISION_TARGETS,
    coverage_at_precision,
    evaluate_suggestions,
    expected_calibration_error,
    operating_point,
    precision_coverage_curve,
)
from tests.conftest import METRICS_KEYS

CLASSES = ["A", "B", "C", "D"]


def test_ece_is_zero_when_confidence_matches_accuracy():
    # Two bins: 0.75 confident and right 3 times in 4; 0.5 confident and right 1 time in 2.
    confidence = np.array([0.75, 0.75, 0.75, 0.75, 0.5, 0.5])
    correct = np.array([1, 1, 1, 0, 1, 0])
    assert expected_calibration_error(confidence, correct) == pytest.approx(0.0, abs=1e-12)


def test_ece_of_overconfident_model_is_the_gap():
    confidence = np.full(10, 0.9)
    correct = np.array([1, 0] * 5)
    assert expected_calibration_error(confidence, correct) == pytest.approx(0.4)


def test_ece_weights_bins_by_their_share_of_complaints():
    # Bin of 0.9 (3 complaints, all right: gap 0.1) and bin of 0.2 (1 complaint, right: gap 0.8).
    confidence = np.array([0.9, 0.9, 0.9, 0.2])
    correct = np.array([1, 1, 1, 1])
    assert expected_calibration_error(confidence, correct) == pytest.approx(0.75 * 0.1 + 0.25 * 0.8)


def test_ece_of_nothing_is_zero():
    assert expected_calibration_error(np.array([]), np.array([])) == 0.0


def test_coverage_at_precision_takes_most_confident_first():
    confidence = np.array([0.99, 0.95, 0.9, 0.8, 0.7])
    correct = np.array([1, 1, 1, 0, 1])
    assert coverage_at_precision(confidence, correct, 1.0) == pytest.approx(0.6)
    # 4 of the 5 right: precision 0.8 at full coverage.
    assert coverage_at_precision(confidence, correct, 0.8) == pytest.approx(1.0)
    assert coverage_at_precision(confidence, correct, 0.76) == pytest.approx(1.0)


def test_coverage_at_precision_keeps_ties_together():
    # Cutting between the two 0.8s would give 2/2 right; ties must go together: 2/3.
    confidence = np.array([0.9, 0.8, 0.8, 0.5])
    correct = np.array([1, 1, 0, 1])
    assert coverage_at_precision(confidence, correct, 1.0) == pytest.approx(0.25)


def test_coverage_at_precision_does_not_depend_on_the_order_of_ties():
    confidence = np.array([0.9, 0.8, 0.8, 0.5])
    a = coverage_at_precision(confidence, np.array([1, 1, 0, 1]), 1.0)
    b = coverage_at_precision(confidence, np.array([1, 0, 1, 1]), 1.0)
    assert a == b == pytest.approx(0.25)


def test_coverage_at_precision_is_zero_when_target_unreachable():
    confidence = np.array([0.9, 0.8, 0.7])
    correct = np.array([0, 1, 1])
    assert coverage_at_precision(confidence, correct, 0.95) == 0.0


def test_precision_coverage_curve_has_one_point_per_distinct_confidence():
    thresholds, precision, coverage = precision_coverage_curve(
        np.array([0.5, 0.9, 0.8, 0.8]), np.array([1, 1, 1, 0])
    )
    np.testing.assert_allclose(thresholds, [0.9, 0.8, 0.5])
    np.testing.assert_allclose(precision, [1.0, 2 / 3, 0.75])
    np.testing.assert_allclose(coverage, [0.25, 0.75, 1.0])


def test_operating_point_counts_confidences_at_the_threshold_as_auto():
    precision, coverage = operating_point(np.array([0.9, 0.8, 0.7]), np.array([1, 0, 1]), 0.8)
    assert precision == pytest.approx(0.5)
    assert coverage == pytest.approx(2 / 3)


def _proba(rows: list[list[float]]) -> np.ndarray:
    return np.asarray(rows, dtype=float)


def test_evaluate_suggestions_has_exactly_the_contract_keys():
    proba = _proba([[0.7, 0.1, 0.1, 0.1], [0.1, 0.6, 0.2, 0.1], [0.2, 0.2, 0.5, 0.1]])
    metrics = evaluate_suggestions(["A", "B", "D"], proba, CLASSES, 0.55)
    assert set(metrics) == METRICS_KEYS
    assert list(metrics["coverage_at_precision"]) == ["0.95", "0.98", "0.99"]
    assert tuple(metrics["coverage_at_precision"]) == PRECISION_TARGETS
    for entry in metrics["per_class"].values():
        assert set(entry) == {"precision", "recall", "f1", "support"}


def test_evaluate_suggestions_values_on_a_hand_case():
    proba = _proba(
        [
            [0.7, 0.1, 0.1, 0.1],  # A, right
            [0.1, 0.6, 0.2, 0.1],  # B, right
            [0.2, 0.2, 0.5, 0.1],  # C, truth D: wrong, D not in the top 3
            [0.3, 0.4, 0.2, 0.1],  # B, truth A: wrong, A second
        ]
    )
    metrics = evaluate_suggestions(["A", "B", "D", "A"], proba, CLASSES, 0.6)
    assert metrics["n"] == 4
    assert metrics["accuracy"] == pytest.approx(0.5)
    assert metrics["top3_accuracy"] == pytest.approx(0.75)
    # At 0.6 the two right answers (0.7, 0.6) are auto-routed.
    assert metrics["threshold"] == 0.6
    assert metrics["threshold_precision"] == pytest.approx(1.0)
    assert metrics["threshold_coverage"] == pytest.approx(0.5)
    assert metrics["per_class"]["A"] == pytest.approx(
        {"precision": 1.0, "recall": 0.5, "f1": 2 / 3, "support": 2}
    )
    assert metrics["per_class"]["B"]["precision"] == pytest.approx(0.5)
    assert metrics["per_class"]["D"]["support"] == 1
    assert metrics["coverage_at_precision"]["0.99"] == pytest.approx(0.5)


def test_evaluate_suggestions_counts_unknown_agencies_as_errors_in_macro_average():
    proba = _proba([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
    metrics = evaluate_suggestions(["A", "B", "NEW AGENCY"], proba, ["A", "B"], 0.5)
    assert metrics["accuracy"] == pytest.approx(2 / 3)
    unknown = metrics["per_class"]["NEW AGENCY"]
    assert unknown == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    # A: precision 1/2, recall 1 -> f1 2/3; B: f1 1; NEW AGENCY: 0.
    assert metrics["macro_f1"] == pytest.approx((2 / 3 + 1.0 + 0.0) / 3)


def test_evaluate_suggestions_with_threshold_one_auto_routes_nothing():
    proba = _proba([[0.999999, 0.000001], [0.2, 0.8]])
    metrics = evaluate_suggestions(["A", "B"], proba, ["A", "B"], 1.0)
    assert metrics["threshold_precision"] is None
    assert metrics["threshold_coverage"] == 0.0


def test_evaluate_suggestions_refuses_zero_complaints():
    with pytest.raises(ValueError, match="zero complaints"):
        evaluate_suggestions([], np.zeros((0, 2)), ["A", "B"], 0.5)


def test_evaluate_suggestions_counts_the_decisions_it_is_given():
    # all four reach the threshold, but only the first and last were decided "auto"
    proba = _proba([[0.9, 0.1], [0.95, 0.05], [0.1, 0.9], [0.2, 0.8]])
    labels = ["A", "B", "B", "A"]
    plain = evaluate_suggestions(labels, proba, ["A", "B"], 0.5)
    assert plain["threshold_coverage"] == 1.0
    decided = evaluate_suggestions(labels, proba, ["A", "B"], 0.5, auto=[1, 0, 0, 1])
    assert decided["threshold_coverage"] == pytest.approx(0.5)
    assert decided["threshold_precision"] == pytest.approx(0.5)
    nothing = evaluate_suggestions(labels, proba, ["A", "B"], 0.5, auto=[0, 0, 0, 0])
    assert nothing["threshold_precision"] is None
    with pytest.raises(ValueError, match="3 decisions for 4"):
        evaluate_suggestions(labels, proba, ["A", "B"], 0.5, auto=[1, 0, 0])
