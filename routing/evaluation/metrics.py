"""Evaluation metrics for a router's suggestions.

Everything here is a pure function of labels, predictions and confidences, so the same code
scores a held-out split, cross-validation folds and the `routing evaluate` command.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.metrics import precision_recall_fscore_support

PRECISION_TARGETS: tuple[str, ...] = ("0.95", "0.98", "0.99")
ECE_BINS = 15


def expected_calibration_error(
    confidence: np.ndarray, correct: np.ndarray, n_bins: int = ECE_BINS
) -> float:
    """Expected calibration error of the top suggestion over equal-width confidence bins."""
    confidence = np.asarray(confidence, dtype=float)
    correct = np.asarray(correct, dtype=float)
    if confidence.size == 0:
        return 0.0
    # Bin i holds (edge_i, edge_i+1]; a confidence of exactly 0 joins the first bin.
    bins = np.clip(np.ceil(confidence * n_bins).astype(int) - 1, 0, n_bins - 1)
    ece = 0.0
    for b in range(n_bins):
        in_bin = bins == b
        if in_bin.any():
            gap = abs(correct[in_bin].mean() - confidence[in_bin].mean())
            ece += in_bin.mean() * gap
    return float(ece)


def _cumulative_precision(confidence: np.ndarray, correct: np.ndarray):
    """Precision and coverage for every cut between distinct confidences, most confident first.

    Ties are kept together: a threshold cannot auto-route one of two equally confident
    complaints and not the other.
    """
    order = np.argsort(-confidence, kind="stable")
    conf_sorted = confidence[order]
    hits = np.cumsum(correct[order])
    counts = np.arange(1, len(order) + 1)
    # Valid cut positions: the last index of each run of equal confidences.
    last_of_run = np.append(conf_sorted[1:] != conf_sorted[:-1], True)
    idx = np.nonzero(last_of_run)[0]
    precision = hits[idx] / counts[idx]
    coverage = counts[idx] / len(order)
    return conf_sorted[idx], precision, coverage


def coverage_at_precision(confidence: np.ndarray, correct: np.ndarray, target: float) -> float:
    """Largest fraction auto-routable, most confident first, keeping precision ≥ target."""
    confidence = np.asarray(confidence, dtype=float)
    correct = np.asarray(correct, dtype=float)
    if confidence.size == 0:
        return 0.0
    _, precision, coverage = _cumulative_precision(confidence, correct)
    ok = precision >= target - 1e-12
    return float(coverage[ok].max()) if ok.any() else 0.0


def precision_coverage_curve(
    confidence: np.ndarray, correct: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(thresholds, precision, coverage) for auto-routing everything at or above each threshold."""
    return _cumulative_precision(np.asarray(confidence, float), np.asarray(correct, float))


def operating_point(
    confidence: np.ndarray, correct: np.ndarray, threshold: float
) -> tuple[float | None, float]:
    """Precision (None when nothing passes) and coverage of auto-routing at `threshold`."""
    confidence = np.asarray(confidence, dtype=float)
    correct = np.asarray(correct, dtype=float)
    auto = confidence >= threshold if threshold < 1.0 else np.zeros(len(confidence), bool)
    if not auto.any():
        return None, 0.0
    return float(correct[auto].mean()), float(auto.mean())


def evaluate_suggestions(
    y_true: Sequence[str],
    proba: np.ndarray,
    classes: Sequence[str],
    threshold: float,
    *,
    auto: Sequence[bool] | np.ndarray | None = None,
) -> dict:
    """The `routing evaluate` metrics for calibrated probabilities `proba` (columns = `classes`).

    `threshold_precision` and `threshold_coverage` are those of the complaints decided
    "auto": `auto` holds each complaint's decision (True: auto) as `routing.suggest` made it
    (per-agency thresholds, out-of-scope and ambiguous complaints); without it, a complaint
    is auto when its top confidence reaches `threshold`. Labels the model does not know count
    as errors and enter the macro average with zero precision and recall.
    """
    y_true = np.asarray([str(y) for y in y_true], dtype=object)
    classes = np.asarray(classes, dtype=object)
    proba = np.asarray(proba, dtype=float)
    n = len(y_true)
    if n == 0:
        raise ValueError("cannot evaluate on zero complaints")
    top = np.argsort(-proba, axis=1, kind="stable")
    y_pred = classes[top[:, 0]]
    confidence = proba[np.arange(n), top[:, 0]]
    correct = (y_pred == y_true).astype(float)
    top3 = np.array([y_true[i] in set(classes[top[i, :3]]) for i in range(n)])

    labels = sorted(set(classes) | set(y_true))
    p, r, f, s = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, average=None, zero_division=0
    )
    present = [i for i, lab in enumerate(labels) if s[i] > 0 or lab in set(y_pred)]
    per_class = {
        labels[i]: {
            "precision": float(p[i]),
            "recall": float(r[i]),
            "f1": float(f[i]),
            "support": int(s[i]),
        }
        for i in present
    }
    if auto is None:
        thr_precision, thr_coverage = operating_point(confidence, correct, threshold)
    else:
        auto = np.asarray(auto, dtype=bool)
        if auto.shape != (n,):
            raise ValueError(f"{len(auto)} decisions for {n} complaints")
        thr_precision = float(correct[auto].mean()) if auto.any() else None
        thr_coverage = float(auto.mean())
    return {
        "n": int(n),
        "accuracy": float(correct.mean()),
        "macro_f1": float(np.mean([per_class[k]["f1"] for k in per_class])),
        "top3_accuracy": float(top3.mean()),
        "ece": expected_calibration_error(confidence, correct),
        "coverage_at_precision": {
            t: coverage_at_precision(confidence, correct, float(t)) for t in PRECISION_TARGETS
        },
        "threshold": float(threshold),
        "threshold_precision": thr_precision,
        "threshold_coverage": thr_coverage,
        "per_class": per_class,
    }
