"""Suggestions for agencies with only a handful of past complaints.

A linear head needs many examples per agency, and its calibrator needs more: an agency with
a handful of dispositions gets probabilities near zero however close a new complaint is to them. Its
examples are still informative one by one, so each agency is also scored by how similar a
complaint is to its own past complaints (nearest-neighbour evidence):

    sim_a(x)  = similarity of x to the centroid of agency a's examples ("centroid"), or the
                mean of its `top_m` largest similarities to them one by one ("nearest")
    q(a | x)  = softmax_a(sim_a(x) / temperature)
    p(a | x)  = (1 - weight) * router(a | x) + weight * q(a | x)

Similarities come from `routing.similar.SimilarIndex` (TF-IDF, embeddings or both), so this
works from the text alone. `NearestAgencyClassifier` is the similarity side on its own, for
data where no router can be trained (hundreds of offices with one to three complaints each).

In suggestions (`routing.suggest`, through `rank_with_few_shot`), for a bundle whose index
holds an agency with at most FEW_SHOT_MAX_EXAMPLES training complaints:

    - only few-shot agencies move, and only up: each is ranked by the larger of its router
      probability and its blended score p(a | x) above, every other agency by the router's
      probability, so their order among themselves is kept;
    - every suggestion shows the router's calibrated probability as its confidence (the
      blend only decides the order), so a few-shot agency may rank above an agency with a
      higher confidence; such suggestions are marked `few_shot`;
    - the decision is the router's ("auto" when its probability of the first suggestion
      reaches the threshold), except that a complaint whose first suggestion is not the
      router's own first agency always goes to "review": blending never routes automatically.

A bundle without few-shot agencies gets exactly the router's ranking, at no cost.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from routing.similar import SimilarIndex
from routing.text import as_texts

__all__ = [
    "FEW_SHOT_MAX_EXAMPLES",
    "NearestAgencyClassifier",
    "agency_scores",
    "agency_similarity",
    "blend",
    "blend_router",
    "few_shot_agencies",
    "rank_with_few_shot",
    "similarity_proba",
]

# Chosen by benchmarks/semantic.py, table f (one LAPOR-10 agency cut to 4 examples: how often
# its complaints reach the top-3, and accuracy over all; see benchmarks/results/semantic.md).
# Cosines of related complaints differ by a few hundredths, hence the small temperature.
DEFAULT_TEMPERATURE = 0.02
DEFAULT_TOP_M = 1
DEFAULT_WEIGHT = 0.5
# Centroids beat the nearest example on hellosarkar (benchmarks/semantic.py, table c).
DEFAULT_AGGREGATE = "centroid"
AGGREGATES = ("centroid", "nearest")
# Agencies with at most this many training complaints are ranked with similarity in
# suggestions. Chosen by benchmarks/semantic.py, table f (one LAPOR-10 agency cut to n
# complaints: how often its complaints reach the top-3, with and without the rule, what the
# other agencies' complaints lose, whether auto decisions change; see
# benchmarks/results/semantic.md): the rule is for agencies the router cannot yet rank, far
# below the hundreds per agency of LAPOR-10, whose bundles it leaves untouched.
FEW_SHOT_MAX_EXAMPLES = 20


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


def few_shot_agencies(
    index: SimilarIndex, classes: Sequence[str], *, max_examples: int = FEW_SHOT_MAX_EXAMPLES
) -> np.ndarray | None:
    """Mask over `classes` of the agencies with 1..max_examples complaints in `index`, or
    None when there is none (the router's ranking then stands unchanged)."""
    counts = index.agency_counts(classes)
    few = (counts >= 1) & (counts <= max_examples)
    return few if few.any() else None


def rank_with_few_shot(
    index: SimilarIndex,
    texts: Sequence[str],
    classes: Sequence[str],
    proba: np.ndarray,
    few: np.ndarray,
    k: int,
    *,
    embeddings: np.ndarray | None = None,
    weight: float = DEFAULT_WEIGHT,
    temperature: float = DEFAULT_TEMPERATURE,
) -> tuple[list[list[tuple[str, float]]], np.ndarray]:
    """Top-k agencies per complaint, few-shot agencies moved up by their blended score.

    Returns, per complaint, (agency, router probability) pairs best first, and whether the
    first of them is not the router's own top agency (such a complaint must be reviewed).
    `few` is the mask from `few_shot_agencies`; `proba` the router's probabilities
    (columns in `classes` order); `embeddings` the query embeddings, when already computed.
    """
    proba = np.asarray(proba, dtype=np.float64)
    sim = agency_scores(index, texts, classes, embeddings=embeddings, proba=proba)
    blended = blend(proba, sim, weight=weight, temperature=temperature)
    scores = np.where(few[None, :], np.maximum(proba, blended), proba)
    order = np.argsort(-scores, axis=1, kind="stable")[:, : max(1, min(int(k), proba.shape[1]))]
    own_top = np.argsort(-proba, axis=1, kind="stable")[:, 0]
    names = np.asarray([str(c) for c in classes], dtype=object)
    pairs = [
        [(str(names[j]), float(row[j])) for j in idx] for row, idx in zip(proba, order, strict=True)
    ]
    return pairs, order[:, 0] != own_top


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
