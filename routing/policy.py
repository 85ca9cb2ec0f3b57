"""Decision policy: which suggestions may be routed automatically and which need an admin.

A threshold is chosen on held-out (out-of-fold) calibration scores: the lowest confidence at
which the auto-routed complaints still reach the target precision. A threshold of 1.0 means
that no threshold reached the target and every complaint goes to review.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np

from routing.evaluation.metrics import precision_coverage_curve

Decision = Literal["auto", "review"]
DEFAULT_TARGET_PRECISION = 0.99
NEVER_AUTO = 1.0


@dataclass(frozen=True)
class Policy:
    """When a suggestion is auto-routed, and how that threshold did on the calibration scores.

    `threshold`: confidence at or above which the top suggestion is routed automatically.
    `target_precision`: the precision the threshold was chosen for. `precision` (None when
    nothing passes) and `coverage`: what auto-routing at the threshold achieved on the
    `n_calibration` held-out complaints; `reached`: whether the target was met.
    """

    threshold: float
    target_precision: float
    precision: float | None
    coverage: float
    reached: bool
    n_calibration: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Policy:
        """The policy `to_dict` wrote; KeyError, TypeError or ValueError when it is not one."""
        precision = data["precision"]
        return cls(
            threshold=float(data["threshold"]),
            target_precision=float(data["target_precision"]),
            precision=None if precision is None else float(precision),
            coverage=float(data["coverage"]),
            reached=bool(data["reached"]),
            n_calibration=int(data["n_calibration"]),
        )

    def describe(self) -> str:
        if not self.reached:
            return (
                f"no threshold reaches precision {self.target_precision:.3f} on "
                f"{self.n_calibration} calibration complaints: threshold set to 1.0, every "
                "suggestion goes to review"
            )
        return (
            f"threshold {self.threshold:.4f} auto-routes {self.coverage:.1%} of "
            f"{self.n_calibration} calibration complaints at precision {self.precision:.4f} "
            f"(target {self.target_precision:.3f})"
        )


def choose_threshold(
    confidence: np.ndarray, correct: np.ndarray, target_precision: float
) -> Policy:
    """Lowest confidence threshold whose auto-routed precision is at least `target_precision`."""
    if not 0.0 < target_precision <= 1.0:
        raise ValueError(f"target precision must be in (0, 1], got {target_precision}")
    confidence = np.asarray(confidence, dtype=float)
    correct = np.asarray(correct, dtype=float)
    n = len(confidence)
    if n:
        thresholds, precision, coverage = precision_coverage_curve(confidence, correct)
        ok = (precision >= target_precision - 1e-12) & (thresholds < NEVER_AUTO)
        if ok.any():
            i = np.nonzero(ok)[0][-1]  # thresholds descend: the last ok is the lowest
            return Policy(
                threshold=float(thresholds[i]),
                target_precision=float(target_precision),
                precision=float(precision[i]),
                coverage=float(coverage[i]),
                reached=True,
                n_calibration=n,
            )
    return Policy(
        threshold=NEVER_AUTO,
        target_precision=float(target_precision),
        precision=None,
        coverage=0.0,
        reached=False,
        n_calibration=n,
    )


def decide(confidence: float, threshold: float) -> Decision:
    """'auto' when the top suggestion's confidence is at or above the threshold, else 'review'."""
    return "auto" if threshold < NEVER_AUTO and confidence >= threshold else "review"
