"""Suggestions for agencies with only a handful of past complaints.

A linear head needs many examples per agency, and its calibrator needs more: an agency with
3-5 dispositions gets probabilities near zero however close a new complaint is to them. Its
examples are still informative one by one, so each agency is also scored by how similar a
complaint is to its own past complaints (nearest-neighbour evidence):

    sim_a(x)  = similarity of x to the centroid of agency a's examples ("centroid"), or the
                mean of its `top_m` largest similarities to them one by one ("nearest")
    q(a | x)  = softmax_a(sim_a(x) / temperature)
    p(a | x)  = (1 - weight) * router(a | x) + weight * q(a | x)

Similarities come from `routing.similar.SimilarIndex` (TF-IDF, embeddings or both), so this
works from the text alone. `NearestAgencyClassifier` is the similarity side on its own, for
data where no router can be trained (hundreds of offices with one to three complaints each).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from routing.router import as_texts
from routing.similar import SimilarIndex

__all__ = [
    "NearestAgencyClassifier",
    "agency_scores",
    "agency_similarity",
    "blend",
    "blend_router",
    "similarity_proba",
]

# Chosen on LAPOR-10 with one agency cut to 4 examples (benchmarks/semantic.py, table f):
# its complaints reach the top-3 two to three times as often, overall accuracy is unchanged.
# Cosines of related complaints differ by a few hundredths, hence the small temperature.
DEFAULT_TEMPERATURE = 0.02
DEFAULT_TOP_M = 1
DEFAULT_WEIGHT = 0.5
# Centroids beat the nearest example on hellosarkar (benchmarks/semantic.py, table c).
DEFAULT_AGGREGATE = "centroid"
AGGREGATES = ("centroid", "nearest")


def agency_similarity(
    similarity: np.ndarray,
    item_agencies: Sequence[str],
    classes: Sequence[str],
    *,
    top_m: int = DEFAULT_TOP_M,
) -> np.ndarray:
    """(n_queries, n_classes): per agency, the mean of its `top_m` best similarities.

    `similarity` is (n_queries, n_items) as returned by `SimilarIndex.similarity`; an agency
    with fewer than `top_m` examples averages those it has; an agency without examples
    scores 0. Negative entries (excluded items) are ignored.
    """
    if top_m < 1:
        raise ValueError(f"top_m must be positive, got {top_m}")
    S = np.asarray(similarity, dtype=np.float64)
    items = np.asarray([str(a) for a in item_agencies], dtype=object)
    out = np.zeros((S.shape[0], len(classes)))
    for c, agency in enumerate(classes):
        cols = np.flatnonzero(items == str(agency))
        if len(cols) == 0:
            continue
        best = -np.sort(-S[:, cols], axis=1)[:, : min(top_m, len(cols))]
        valid = best >= 0
        out[:, c] = np.where(valid, best, 0.0).sum(axis=1) / np.maximum(valid.sum(axis=1), 1)
    return out


def similarity_proba(agency_sim: np.ndarray, *, temperature: float = DEFAULT_TEMPERATURE):
    """Softmax of per-agency similarities: rows sum to 1."""
    if temperature <= 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    z = np.asarray(agency_sim, dtype=np.float64) / temperature
    z -= z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def blend(
    router_proba: np.ndarray,
    agency_sim: np.ndarray,
    *,
    weight: float = DEFAULT_WEIGHT,
    temperature: float = DEFAULT_TEMPERATURE,
) -> np.ndarray:
    """(1 - weight) * router probabilities + weight * similarity softmax, same columns.

    The result ranks agencies; it is not calibrated like the router's probabilities, so the
    auto-routing threshold should keep being applied to the router's own probability.
    """
    if not 0.0 <= weight <= 1.0:
        raise ValueError(f"weight must be in [0, 1], got {weight}")
    P = np.asarray(router_proba, dtype=np.float64)
    if P.shape != np.shape(agency_sim):
        raise ValueError(f"router_proba {P.shape} and agency_sim {np.shape(agency_sim)} differ")
    return (1.0 - weight) * P + weight * similarity_proba(agency_sim, temperature=temperature)


def agency_scores(
    index: SimilarIndex,
    texts: Sequence[str],
    classes: Sequence[str],
    *,
    aggregate: str = DEFAULT_AGGREGATE,
    top_m: int = DEFAULT_TOP_M,
    embeddings: np.ndarray | None = None,
    proba: np.ndarray | None = None,
) -> np.ndarray:
    """(len(texts), len(classes)) similarity of each text to each agency's past complaints."""
    if aggregate == "centroid":
        return index.centroid_similarity(texts, classes, embeddings=embeddings, proba=proba)
    if aggregate == "nearest":
        S = index.similarity(texts, embeddings=embeddings, proba=proba)
        return agency_similarity(S, index.agencies_, classes, top_m=top_m)
    raise ValueError(f"aggregate must be one of {', '.join(AGGREGATES)}, got {aggregate!r}")


def blend_router(
    router: Any,
    index: SimilarIndex,
    texts: Sequence[str],
    *,
    proba: np.ndarray | None = None,
    embeddings: np.ndarray | None = None,
    weight: float = DEFAULT_WEIGHT,
    temperature: float = DEFAULT_TEMPERATURE,
    aggregate: str = DEFAULT_AGGREGATE,
    top_m: int = DEFAULT_TOP_M,
) -> np.ndarray:
    """Blended probabilities for a fitted Router and an index of its training complaints.

    Columns follow `router.classes_`. Pass `proba` (the router's) and `embeddings` when the
    caller already computed them. An index with a profile term uses `proba` too.
    """
    texts = as_texts(texts)
    if proba is None:
        proba = router.predict_proba(texts)
    sim = agency_scores(
        index,
        texts,
        router.classes_,
        aggregate=aggregate,
        top_m=top_m,
        embeddings=embeddings,
        proba=proba,
    )
    return blend(proba, sim, weight=weight, temperature=temperature)


class NearestAgencyClassifier(ClassifierMixin, BaseEstimator):
    """Few-shot classifier: an agency scores by its most similar past complaints.

    Works from one example per agency up; useful where a router cannot be calibrated.

    Parameters
    ----------
    mode : str
        Similarity of `SimilarIndex` without the profile term: "tfidf", "embedding", "hybrid".
    weights : dict or None
        Term shares for "hybrid" (see `routing.similar.DEFAULT_WEIGHTS`).
    embedder : Embedder or None
        Encoder for the embedding term (or pass `embeddings=` to fit and predict_proba).
    aggregate : str
        "centroid" (similarity to each agency's mean vector) or "nearest" (mean of the
        `top_m` best similarities to its complaints).
    top_m : int
        Best similarities averaged per agency by "nearest".
    temperature : float
        Softmax temperature turning similarities into probabilities.
    """

    def __init__(
        self,
        *,
        mode: str = "hybrid",
        weights: dict[str, float] | None = None,
        embedder: Any = None,
        aggregate: str = DEFAULT_AGGREGATE,
        top_m: int = DEFAULT_TOP_M,
        temperature: float = DEFAULT_TEMPERATURE,
    ):
        self.mode = mode
        self.weights = weights
        self.embedder = embedder
        self.aggregate = aggregate
        self.top_m = top_m
        self.temperature = temperature

    def fit(self, X, y, *, embeddings: np.ndarray | None = None) -> NearestAgencyClassifier:
        if "profile" in self.mode:
            raise ValueError("NearestAgencyClassifier has no router: profile modes do not apply")
        texts = as_texts(X)
        y = np.asarray([str(v) for v in y], dtype=object)
        if len(texts) != len(y):
            raise ValueError(f"{len(texts)} texts but {len(y)} labels")
        self.classes_ = np.unique(y)
        self.index_ = SimilarIndex(
            mode=self.mode, weights=self.weights, embedder=self.embedder
        ).fit(texts, y, embeddings=embeddings)
        return self

    def agency_similarity(self, X, *, embeddings: np.ndarray | None = None) -> np.ndarray:
        check_is_fitted(self, "index_")
        return agency_scores(
            self.index_,
            as_texts(X),
            self.classes_,
            aggregate=self.aggregate,
            top_m=self.top_m,
            embeddings=embeddings,
        )

    def predict_proba(self, X, *, embeddings: np.ndarray | None = None) -> np.ndarray:
        """Softmaxed agency similarities, columns in the order of `classes_`."""
        sim = self.agency_similarity(X, embeddings=embeddings)
        return similarity_proba(sim, temperature=self.temperature)

    def predict(self, X, *, embeddings: np.ndarray | None = None) -> np.ndarray:
        return self.classes_[self.predict_proba(X, embeddings=embeddings).argmax(axis=1)]
