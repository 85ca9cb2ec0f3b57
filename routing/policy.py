"""Decision policy: which suggestions may be routed automatically and which need an admin.

A threshold is chosen on held-out (out-of-fold) calibration scores so that the promise holds
on new complaints, not only on the calibration ones: among the complaints a threshold would
auto-route, k of n right, the one-sided Clopper–Pearson lower bound on precision at
`bound_confidence` must reach the target,

    lower(k, n) = Beta.ppf(1 - bound_confidence, k, n - k + 1)  ≥  target_precision,

and the threshold is the lowest confidence for which it does. A threshold of 1.0 means that
no threshold reached the target and every complaint goes to review.

With per-agency thresholds each agency gets the rule on the complaints whose top suggestion
it is; a complaint is then held to the threshold of its top agency (`Policy.threshold_for`).

A complaint goes to review for one or more reasons (`review_reasons`), each a JSON object
with a `code`; a complaint without any reason is routed automatically:

    out_of_scope    unlike the training history (`routing.novelty`): {score, cutoff}
    few_shot        the first suggestion is a few-shot agency ranked up (`routing.fewshot`),
                    not the router's own: {agency}
    ambiguous       the top two agencies are close: within AMBIGUOUS_GAP of each other and
                    together at least AMBIGUOUS_MASS, so one of them is very likely right
                    but not which: {agencies: [first, second]}
    low_confidence  the top confidence is below its threshold: {confidence, threshold}
    no_jurisdiction the top suggestion is a local role (`routing.authority`) and the place
                    that would name its office is missing, ambiguous or contradicted:
                    {role, candidates: [agency codes]} (candidates only where there are some)
    location_conflict  the location given with the complaint contradicts the place its text
                    names (`routing.places`): {location: code, text: code}

The list is open: later codes join it without changing the others.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
from scipy.stats import beta

from routing.evaluation.metrics import precision_coverage_curve

Decision = Literal["auto", "review"]
Reason = dict[str, Any]  # {"code": ..., details}; see the module docstring
DEFAULT_TARGET_PRECISION = 0.99
DEFAULT_BOUND_CONFIDENCE = 0.9
NEVER_AUTO = 1.0
# The ambiguity rule. Fixed rather than fitted; benchmarks/out_of_scope.py reports, out of
# fold, how often the right agency is one of the two when it holds.
AMBIGUOUS_GAP = 0.1
AMBIGUOUS_MASS = 0.8


def precision_lower_bound(
    hits: np.ndarray | float, n: np.ndarray | float, confidence: float
) -> np.ndarray:
    """One-sided Clopper–Pearson lower bound on precision after `hits` right of `n` (0 when
    nothing is right); the true precision is at least this with probability `confidence`."""
    hits, n = np.asarray(hits, dtype=float), np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore"):
        bound = beta.ppf(1.0 - confidence, hits, n - hits + 1.0)
    return np.where(hits > 0, bound, 0.0)


@dataclass(frozen=True)
class Policy:
    """When a suggestion is auto-routed, and how that threshold did on the calibration scores.

    `threshold`: confidence at or above which the top suggestion is routed automatically.
    `target_precision`: the precision the threshold was chosen for, with `bound_confidence`.
    `precision` (None when nothing passes) and `coverage`: what auto-routing achieved on the
    `n_calibration` held-out complaints; `threshold_lower_bound` (None when nothing passes):
    the lower bound on precision there; `reached`: whether the bound met the target.
    `thresholds` (None: one global threshold): the threshold of each agency, which replaces
    `threshold` for complaints whose top suggestion it is; the figures above are then those
    of all agencies' thresholds together.
    """

    threshold: float
    target_precision: float
    precision: float | None
    coverage: float
    reached: bool
    n_calibration: int
    threshold_lower_bound: float | None = None
    bound_confidence: float = DEFAULT_BOUND_CONFIDENCE
    thresholds: dict[str, float] | None = None

    def threshold_for(self, agency: str) -> float:
        """The threshold applied to a complaint whose top suggestion is `agency`."""
        if self.thresholds is None:
            return self.threshold
        return self.thresholds.get(agency, NEVER_AUTO)

    def decide(self, confidence: float, agency: str) -> Decision:
        """The decision for a top suggestion of `agency` with this confidence."""
        return decide(confidence, self.threshold_for(agency))

    def auto(self, confidence: np.ndarray, agencies: Sequence[str]) -> np.ndarray:
        """Whether each top suggestion (its confidence, its agency) is routed automatically."""
        limit = np.array([self.threshold_for(str(a)) for a in agencies], dtype=float)
        return (np.asarray(confidence, dtype=float) >= limit) & (limit < NEVER_AUTO)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Policy:
        """The policy `to_dict` wrote; KeyError, TypeError or ValueError when it is not one.

        A policy written before the lower bound existed reads with `threshold_lower_bound`
        None: its threshold was chosen on the calibration precision alone.
        """
        precision, bound = data["precision"], data.get("threshold_lower_bound")
        thresholds = data.get("thresholds")
        return cls(
            threshold=float(data["threshold"]),
            target_precision=float(data["target_precision"]),
            precision=None if precision is None else float(precision),
            coverage=float(data["coverage"]),
            reached=bool(data["reached"]),
            n_calibration=int(data["n_calibration"]),
            threshold_lower_bound=None if bound is None else float(bound),
            bound_confidence=float(data.get("bound_confidence", DEFAULT_BOUND_CONFIDENCE)),
            thresholds=None
            if thresholds is None
            else {str(k): float(v) for k, v in dict(thresholds).items()},
        )

    def describe(self) -> str:
        promise = (
            f"precision {self.target_precision:.3f} with confidence {self.bound_confidence:.2f}"
        )
        if not self.reached:
            return (
                f"no threshold reaches {promise} on {self.n_calibration} calibration "
                "complaints: threshold set to 1.0, every suggestion goes to review"
            )
        which = (
            f"per-agency thresholds ({sum(t < NEVER_AUTO for t in self.thresholds.values())} "
            f"of {len(self.thresholds)} agencies auto-routed)"
            if self.thresholds is not None
            else f"threshold {self.threshold:.4f}"
        )
        bound = self.threshold_lower_bound
        return (
            f"{which} auto-routes {self.coverage:.1%} of {self.n_calibration} calibration "
            f"complaints at precision {self.precision:.4f}, at least {bound:.4f} with "
            f"confidence {self.bound_confidence:.2f} (target {self.target_precision:.3f})"
        )


def _check(target_precision: float, bound_confidence: float) -> None:
    if not 0.0 < target_precision <= 1.0:
        raise ValueError(f"target precision must be in (0, 1], got {target_precision}")
    if not 0.0 < bound_confidence < 1.0:
        raise ValueError(f"bound confidence must be in (0, 1), got {bound_confidence}")


def _lowest_threshold(
    confidence: np.ndarray, correct: np.ndarray, target: float, bound_confidence: float
) -> float:
    """The lowest threshold whose auto-routed complaints' precision bound reaches `target`."""
    if not len(confidence):
        return NEVER_AUTO
    thresholds, precision, coverage = precision_coverage_curve(confidence, correct)
    n = np.rint(coverage * len(confidence))
    lower = precision_lower_bound(np.rint(precision * n), n, bound_confidence)
    ok = (lower >= target - 1e-12) & (thresholds < NEVER_AUTO)
    # thresholds descend: the last ok is the lowest
    return float(thresholds[np.nonzero(ok)[0][-1]]) if ok.any() else NEVER_AUTO


def choose_threshold(
    confidence: np.ndarray,
    correct: np.ndarray,
    target_precision: float,
    *,
    bound_confidence: float = DEFAULT_BOUND_CONFIDENCE,
    agencies: Sequence[str] | np.ndarray | None = None,
) -> Policy:
    """The lowest confidence threshold whose precision bound reaches `target_precision`.

    `confidence` and `correct`: the top suggestion's out-of-fold confidence and whether it
    was right, per calibration complaint. With `agencies` (the top suggestion of each), every
    agency gets its own threshold by the same rule, on its own complaints; an agency whose
    complaints cannot keep the promise is never auto-routed.
    """
    _check(target_precision, bound_confidence)
    confidence = np.asarray(confidence, dtype=float)
    correct = np.asarray(correct, dtype=bool)
    threshold = _lowest_threshold(confidence, correct, target_precision, bound_confidence)
    thresholds = None
    limit = np.full(len(confidence), threshold)
    if agencies is not None:
        agencies = np.asarray([str(a) for a in agencies], dtype=object)
        if agencies.shape != confidence.shape:
            raise ValueError(f"{len(agencies)} agencies for {len(confidence)} complaints")
        thresholds = {}
        for agency in sorted(set(agencies)):
            mine = agencies == agency
            thresholds[agency] = _lowest_threshold(
                confidence[mine], correct[mine], target_precision, bound_confidence
            )
            limit[mine] = thresholds[agency]
    auto = (confidence >= limit) & (limit < NEVER_AUTO)
    n, hits = int(auto.sum()), int(correct[auto].sum())
    return Policy(
        threshold=threshold,
        target_precision=float(target_precision),
        precision=hits / n if n else None,
        coverage=n / len(confidence) if len(confidence) else 0.0,
        reached=bool(n),
        n_calibration=len(confidence),
        threshold_lower_bound=float(precision_lower_bound(hits, n, bound_confidence))
        if n
        else None,
        bound_confidence=float(bound_confidence),
        thresholds=thresholds,
    )


def decide(confidence: float, threshold: float) -> Decision:
    """'auto' when the top suggestion's confidence is at or above the threshold, else 'review'."""
    return "auto" if threshold < NEVER_AUTO and confidence >= threshold else "review"


def is_ambiguous(first: float, second: float) -> bool:
    """Whether the top two confidences are close enough, and together high enough, that an
    admin should choose between those two agencies."""
    return first - second <= AMBIGUOUS_GAP and first + second >= AMBIGUOUS_MASS


def review_reasons(
    top: Sequence[tuple[str, float]],
    threshold: float,
    *,
    novelty: tuple[float, float] | None = None,
    few_shot: bool = False,
    unplaced: tuple[str, Sequence[str]] | None = None,
    conflict: tuple[str | None, str | None] | None = None,
) -> list[Reason]:
    """Why a complaint goes to review; an empty list means it is routed automatically.

    `top`: its best suggestions (agency, confidence), best first (two for the ambiguity
    rule); `threshold`: the one its top agency is held to; `novelty`: (score, cutoff) from
    `routing.novelty`, when the bundle has a detector; `few_shot`: whether the first
    suggestion is a few-shot agency ranked above the router's own first agency; `unplaced`:
    (role, candidate agency codes) when the top suggestion is a local role without a decided
    place; `conflict`: (the location's code, the text's code) when they contradict each other.
    """
    agency, confidence = top[0]
    reasons: list[Reason] = []
    if novelty is not None and novelty[0] > novelty[1]:
        reasons.append({"code": "out_of_scope", "score": novelty[0], "cutoff": novelty[1]})
    if few_shot:
        reasons.append({"code": "few_shot", "agency": agency})
    if len(top) > 1 and is_ambiguous(confidence, top[1][1]):
        reasons.append({"code": "ambiguous", "agencies": [agency, top[1][0]]})
    if decide(confidence, threshold) == "review":
        reasons.append({"code": "low_confidence", "confidence": confidence, "threshold": threshold})
    if unplaced is not None:
        role, candidates = unplaced
        reasons.append(
            {"code": "no_jurisdiction", "role": role}
            | ({"candidates": list(candidates)} if candidates else {})
        )
    if conflict is not None:
        reasons.append({"code": "location_conflict", "location": conflict[0], "text": conflict[1]})
    return reasons
