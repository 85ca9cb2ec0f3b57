"""Suggestions for complaints: router probabilities + decision policy (+ explanations).

This is the one path from a bundle to suggestions; the CLI's `predict`, `evaluate` and the
HTTP service all go through it, so they always measure and serve the same model and policy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from routing.bundle import Bundle
from routing.explain import explain_many
from routing.policy import Decision, decide
from routing.router import top_k_from_proba

MAX_TOP_K = 10


@dataclass(frozen=True)
class Suggestion:
    """One agency suggested for a complaint."""

    agency: str
    confidence: float
    explanation: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Prediction:
    """Suggestions for one complaint, best first, and what the policy decided."""

    suggestions: list[Suggestion]
    decision: Decision
    threshold: float
    model_version: str
    similar: list[dict] | None = None  # past complaints {id, agency, similarity, snippet}

    @property
    def top(self) -> Suggestion:
        return self.suggestions[0]


def suggest_proba(bundle: Bundle, texts: Sequence[str]) -> np.ndarray:
    """Calibrated probabilities of the bundle's router, columns in `bundle.labels` order."""
    return bundle.router.predict_proba(list(texts))


def suggest(
    bundle: Bundle,
    texts: Sequence[str],
    *,
    top_k: int = 3,
    explain_words: int = 0,
    similar: int = 0,
    proba: np.ndarray | None = None,
) -> list[Prediction]:
    """Top-k suggestions and a decision for each complaint.

    `explain_words` > 0 adds up to that many words from the complaint behind each
    suggestion; `similar` > 0 adds that many similar past complaints (when the bundle has
    an index), retrieved from the text alone, whatever the suggestion. `proba` may be
    passed when the probabilities were already computed.
    """
    if not 1 <= top_k <= MAX_TOP_K:
        raise ValueError(f"top_k must be between 1 and {MAX_TOP_K}, got {top_k}")
    if not texts:
        return []
    features = None
    if proba is None and explain_words:
        proba, features = bundle.router.predict_proba_with_features(list(texts))
    elif proba is None:
        proba = suggest_proba(bundle, texts)
    ranked = top_k_from_proba(proba, bundle.router.classes_, top_k)
    neighbours = (
        bundle.similar.query(list(texts), similar, proba=proba)
        if similar > 0 and bundle.similar is not None
        else [None] * len(texts)
    )
    threshold = bundle.threshold
    out = []
    for i, (text, pairs) in enumerate(zip(texts, ranked, strict=True)):
        agencies = [agency for agency, _ in pairs]
        row = features[i] if features is not None else None
        words = explain_many(bundle.router, text, agencies, explain_words, features=row)
        suggestions = [
            Suggestion(agency=agency, confidence=confidence, explanation=explanation)
            for (agency, confidence), explanation in zip(pairs, words, strict=True)
        ]
        out.append(
            Prediction(
                suggestions=suggestions,
                # an empty complaint has no evidence, whatever the priors say
                decision=decide(pairs[0][1], threshold) if text.strip() else "review",
                threshold=threshold,
                model_version=bundle.model_version,
                similar=neighbours[i],
            )
        )
    return out
