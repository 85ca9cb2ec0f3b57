"""AdaptiveTemperature: keeps the head's top agency, calibrates, and its gradient is exact."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import approx_fprime
from scipy.special import softmax

from routing.calibration import AdaptiveTemperature
from routing.evaluation.metrics import expected_calibration_error


def _synthetic(n: int, k: int, sharpness: float, seed: int):
    """Scores whose true class probabilities are softmax(logits); the scores the calibrator
    sees are the logits times `sharpness` (> 1: overconfident, < 1: underconfident)."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(0.0, 2.0, size=(n, k))
    truth = softmax(logits, axis=1)
    # one draw per row from its true distribution
    y = (rng.random((n, 1)) > np.cumsum(truth, axis=1)).sum(axis=1).clip(0, k - 1)
    lengths = rng.integers(20, 3000, size=n)
    return logits * sharpness, y, lengths


def _ece(proba: np.ndarray, y: np.ndarray) -> float:
    return expected_calibration_error(proba.max(axis=1), proba.argmax(axis=1) == y)


@pytest.mark.parametrize("shape", [(1, 2), (7, 2), (50, 3), (200, 10), (31, 25)])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_top_agency_never_changes(shape, seed):
    rng = np.random.default_rng(seed)
    fit_scores, y, lengths = _synthetic(300, shape[1], 3.0, seed)
    cal = AdaptiveTemperature().fit(fit_scores, y, lengths)
    scores = rng.normal(0.0, rng.uniform(0.1, 10.0), size=shape)
    proba = cal.predict_proba(scores, rng.integers(1, 5000, size=shape[0]))
    assert np.array_equal(proba.argmax(axis=1), scores.argmax(axis=1))
    assert np.allclose(proba.sum(axis=1), 1.0)


def test_ties_stay_ties_and_the_first_of_them_stays_on_top():
    fit_scores, y, lengths = _synthetic(300, 4, 3.0, 0)
    cal = AdaptiveTemperature().fit(fit_scores, y, lengths)
    scores = np.array([[2.0, 2.0, -1.0, 0.0], [0.0, 0.0, 0.0, 0.0], [-1.0, 3.0, 3.0, 3.0]])
    proba = cal.predict_proba(scores, np.array([100, 10, 1000]))
    assert np.array_equal(proba.argmax(axis=1), scores.argmax(axis=1))
    assert proba[0, 0] == pytest.approx(proba[0, 1])
    assert proba[1] == pytest.approx(np.full(4, 0.25))
    assert proba[2, 1] == pytest.approx(proba[2, 3])


@pytest.mark.parametrize("sharpness", [4.0, 0.3])
def test_calibrated_confidences_are_closer_to_the_truth_than_the_raw_scores(sharpness):
    scores, y, lengths = _synthetic(8000, 5, sharpness, 0)
    train, test = slice(0, 4000), slice(4000, None)
    cal = AdaptiveTemperature().fit(scores[train], y[train], lengths[train])
    raw = _ece(softmax(scores[test], axis=1), y[test])
    calibrated = _ece(cal.predict_proba(scores[test], lengths[test]), y[test])
    assert raw > 0.08  # the raw softmax is clearly miscalibrated
    assert calibrated < raw / 3
    assert calibrated < 0.03


def test_the_analytic_gradient_matches_finite_differences():
    scores, y, lengths = _synthetic(400, 6, 2.0, 3)
    cal = AdaptiveTemperature(l2=0.01)
    design = cal._design(scores, lengths)
    rng = np.random.default_rng(0)
    for _ in range(5):
        w = rng.normal(0.0, 0.3, size=design.shape[1])
        _, grad = cal._loss(w, scores, y, design)
        numeric = approx_fprime(w, lambda v: cal._loss(v, scores, y, design)[0], 1e-6)
        assert grad == pytest.approx(numeric, rel=1e-4, abs=1e-6)
