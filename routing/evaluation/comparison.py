"""Champion against challenger: score both on the same complaints, then decide on promotion.

A challenger replaces the champion only when it is not worse, beyond a tolerance, on what
matters to the service: macro-F1 (every agency counts, small ones too) and the share of
complaints it can route automatically at the target precision. The comparison is a plain
dict, so `retrain` can record it in the challenger's manifest and `promote` can judge it
later without loading either model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from routing.evaluation.metrics import coverage_at_precision, evaluate_suggestions

__all__ = [
    "DEFAULT_TOLERANCE",
    "GATED",
    "SHOWN",
    "Verdict",
    "judge",
    "make_comparison",
    "score_router",
    "side_by_side",
]

DEFAULT_TOLERANCE = 0.005
# Metrics the promotion gate checks (higher is better), and those shown side by side.
GATED: tuple[str, ...] = ("macro_f1", "coverage")
SHOWN: tuple[str, ...] = ("macro_f1", "accuracy", "coverage", "ece")
LABELS = {
    "macro_f1": "macro-F1",
    "accuracy": "accuracy",
    "coverage": "coverage at target precision",
    "ece": "ECE (lower is better)",
}
_CHUNK = 1000


def score_router(
    router: Any,
    threshold: float,
    texts: Sequence[str],
    labels: Sequence[str],
    target_precision: float,
) -> dict[str, Any]:
    """The compared metrics of one router on labelled complaints (unknown agencies are errors)."""
    texts = list(texts)
    proba = np.vstack(
        [router.predict_proba(texts[i : i + _CHUNK]) for i in range(0, len(texts), _CHUNK)]
    )
    metrics = evaluate_suggestions(labels, proba, router.classes_, threshold)
    top = proba.argmax(axis=1)
    confidence = proba[np.arange(len(top)), top]
    correct = router.classes_[top] == np.asarray([str(y) for y in labels], dtype=object)
    return {
        "n": metrics["n"],
        "macro_f1": metrics["macro_f1"],
        "accuracy": metrics["accuracy"],
        "coverage": coverage_at_precision(confidence, correct, target_precision),
        "ece": metrics["ece"],
    }


def make_comparison(
    challenger: dict[str, Any],
    champion: dict[str, Any] | None,
    *,
    champion_version: str | None,
    eval_set: dict[str, Any],
    target_precision: float,
) -> dict[str, Any]:
    """The record stored in a challenger's manifest under "comparison"."""
    return {
        "eval_set": eval_set,
        "target_precision": float(target_precision),
        "challenger": dict(challenger),
        "champion": None if champion is None else {"model_version": champion_version, **champion},
    }


@dataclass(frozen=True)
class Verdict:
    """Whether the challenger may replace the current version, and every reason why not."""

    allowed: bool
    reasons: list[str] = field(default_factory=list)


def judge(
    comparison: dict[str, Any] | None, current_version: str | None, tolerance: float
) -> Verdict:
    """Judge a comparison against the registry's current version.

    Allowed when there is no current version (first promotion) or when the challenger is
    within `tolerance` of the champion, or better, on every GATED metric. A comparison against
    another version than the current one is stale and refused.
    """
    if tolerance < 0:
        raise ValueError(f"tolerance must not be negative, got {tolerance}")
    if current_version is None:
        return Verdict(True, ["the registry has no current version: first promotion"])
    if not comparison or not isinstance(comparison.get("challenger"), dict):
        return Verdict(
            False,
            [
                "the bundle records no comparison with the champion (retrain records one); "
                "pass --eval DATA to compare them now"
            ],
        )
    champion = comparison.get("champion")
    compared_with = champion.get("model_version") if isinstance(champion, dict) else None
    if compared_with != current_version:
        return Verdict(
            False,
            [
                f"the recorded comparison is against {compared_with or 'no champion'}, but the "
                f"current version is {current_version}; pass --eval DATA to compare them now"
            ],
        )
    reasons = []
    challenger = comparison["challenger"]
    for metric in GATED:
        mine, theirs = float(challenger[metric]), float(champion[metric])
        if mine < theirs - tolerance:
            reasons.append(
                f"{LABELS[metric]} {mine:.4f} is below the champion's {theirs:.4f} by "
                f"{theirs - mine:.4f} (tolerance {tolerance:g})"
            )
    return Verdict(not reasons, reasons)


def side_by_side(comparison: dict[str, Any]) -> list[tuple[str, float, float | None]]:
    """(metric label, challenger value, champion value or None) for each SHOWN metric."""
    challenger = comparison["challenger"]
    champion = comparison.get("champion") or {}
    return [
        (LABELS[m], float(challenger[m]), float(champion[m]) if m in champion else None)
        for m in SHOWN
    ]
