"""Suggestions for complaints: router probabilities + jurisdiction + decision policy
(+ explanations).

This is the one path from a bundle to suggestions; the CLI's `predict`, `evaluate` and the
HTTP service all go through it, so they always measure and serve the same model and policy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from routing.bundle import Bundle
from routing.fewshot import few_shot_agencies, rank_with_few_shot
from routing.jurisdiction import find_places, place_suggestions, place_trouble
from routing.places import Jurisdiction
from routing.policy import Decision, Reason, review_reasons
from routing.router import top_k_from_proba

MAX_TOP_K = 10
EXPLAIN_WORDS = 5  # words behind each suggestion in the service's answers


@dataclass(frozen=True)
class Suggestion:
    """One agency suggested for a complaint.

    `agency` is the agency's name when the bundle's catalogue has one for the suggested class
    at the complaint's place, else the class as the model learned it; `agency_code` its
    catalogue code (None: not in the catalogue, or a role whose place is not decided).
    """

    agency: str
    confidence: float
    explanation: list[str] = field(default_factory=list)
    # ranked by similarity to the agency's few past complaints (routing.fewshot); the
    # confidence is still the router's calibrated probability
    few_shot: bool = False
    agency_code: str | None = None


@dataclass(frozen=True)
class Prediction:
    """Suggestions for one complaint, best first, and what the policy decided."""

    suggestions: list[Suggestion]
    decision: Decision
    threshold: float  # the one applied to the top agency (`Policy.threshold_for`)
    model_version: str
    similar: list[dict] | None = None  # past complaints {id, agency, similarity, snippet}
    reasons: list[Reason] = field(default_factory=list)  # why "review"; empty for "auto"
    # the complaint's place (the given location's, when it contradicts the text); None: no
    # place found, or a bundle without authority
    jurisdiction: Jurisdiction | None = None

    @property
    def top(self) -> Suggestion:
        return self.suggestions[0]


def suggest_proba(
    bundle: Bundle, texts: Sequence[str], *, embeddings: np.ndarray | None = None
) -> np.ndarray:
    """Calibrated probabilities of the bundle's router, columns in `bundle.labels` order.

    `embeddings` are the router's embedder's vectors of `texts`, when already computed.
    """
    return bundle.router.predict_proba(list(texts), embeddings=embeddings)


WARM_WORDS = 50_000  # vocabulary entries analysed ahead by warm_caches, most frequent first


def warm_caches(bundle: Bundle, limit: int = WARM_WORDS) -> int:
    """Analyse the router's own vocabulary (the words and word pairs of its training
    complaints, most frequent first) into the per-word caches that predictions fill as they
    meet words: character n-grams, explanation forms. Predictions are unchanged; the first
    complaints after a start or reload no longer pay for their common words. Returns the
    number of vocabulary entries analysed."""
    router = bundle.router
    word = router.vectorizer_.transformer_list[0][1]
    order = np.argsort(word.idf_, kind="stable") if hasattr(word, "idf_") else slice(None)
    grams = word.get_feature_names_out()[order][:limit].tolist()
    router.vectorizer_.named_transformers["char"].analyzer.warm(grams)
    bundle.explainer.remember(g for g in grams if " " not in g)
    return len(grams)


def _encode_once(
    bundle: Bundle, texts: list[str], use_index: bool
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Query embeddings for the similar index and for the router, each text encoded once.

    (for the index, for the router): the router reuses the index's vectors when both hold
    the same encoder (the same model id); otherwise it encodes on its own, as without index.
    """
    index = bundle.similar
    if not use_index or index is None or "embedding" not in index.terms or index.embedder is None:
        return None, None
    E = np.asarray(index.embedder.encode(texts), dtype=np.float32)
    own = getattr(bundle.router, "embedder", None)
    same = own is not None and own.model_id == index.embedder.model_id
    return E, (E if same else None)


def suggest(
    bundle: Bundle,
    texts: Sequence[str],
    *,
    top_k: int = 3,
    explain_words: int = 0,
    similar: int = 0,
    proba: np.ndarray | None = None,
    locations: Sequence[str | None] | None = None,
) -> list[Prediction]:
    """Top-k suggestions and a decision for each complaint.

    `explain_words` > 0 adds up to that many words from the complaint behind each
    suggestion; `similar` > 0 adds that many similar past complaints (when the bundle has
    an index), retrieved from the text alone, whatever the suggestion. `proba` may be
    passed when the probabilities were already computed.

    With the bundle's authority (`routing.jurisdiction`) each complaint's place is found once,
    from its text and its `locations` item (LAPOR!'s location field: free text or a
    Kemendagri code, which wins over the text), and each suggested class becomes the agency
    that handles it there; its confidence and threshold stay the class's. Two classes that
    resolve to one agency are suggested once, the first (`place_suggestions` says why).

    When the bundle's index holds few-shot agencies, they are ranked with similarity to
    their past complaints and a complaint whose first suggestion thereby changes goes to
    review (the rule is in `routing.fewshot`); confidences stay the router's.

    A complaint goes to review for the reasons of `routing.policy.review_reasons` (out of
    scope by the bundle's `routing.novelty` detector, few-shot, ambiguous, low confidence,
    a local role without a decided place, a location that contradicts the text), listed in
    its `reasons`, and is routed automatically when there is none.
    """
    if not 1 <= top_k <= MAX_TOP_K:
        raise ValueError(f"top_k must be between 1 and {MAX_TOP_K}, got {top_k}")
    if not texts:
        return []
    texts, index, classes = list(texts), bundle.similar, bundle.router.classes_
    few = few_shot_agencies(index, classes) if index is not None else None
    embeddings, router_embeddings = _encode_once(bundle, texts, similar > 0 or few is not None)
    features = None
    # normalized once, for the router, the novelty detector and (when it normalizes alike)
    # the similar index
    own_normalized = normalized = bundle.router.normalizer_.transform(texts)
    if proba is None:
        proba, features = bundle.router.predict_proba_with_features(
            texts, embeddings=router_embeddings, normalized=normalized
        )
    if index is None or not index.shares_normalization(bundle.router.normalizer_):
        normalized = None
    ranks = max(top_k, 2)  # the ambiguity rule reads the second agency, shown or not
    authority = bundle.authority
    findings = find_places(authority, texts, locations)
    # every class is ranked when classes may resolve to one agency, so that top_k remain
    depth = ranks if authority is None else len(classes)
    if few is None:
        ranked, rerouted = top_k_from_proba(proba, classes, depth), np.zeros(len(texts), bool)
    else:
        ranked, rerouted = rank_with_few_shot(
            index, texts, classes, proba, few, depth, embeddings=embeddings
        )
    placed = [
        place_suggestions(authority, pairs, finding and finding.jurisdiction, text, limit=ranks)
        for pairs, finding, text in zip(ranked, findings, own_normalized, strict=True)
    ]
    novelty = _novelty(bundle, own_normalized, proba)
    few_names = set(classes[few]) if few is not None else set()
    neighbours = (
        index.query(texts, similar, embeddings=embeddings, proba=proba, normalized=normalized)
        if similar > 0 and index is not None
        else [None] * len(texts)
    )
    policy = bundle.policy
    explanations = bundle.explainer.explain_batch(
        texts,
        [[p.label for p in places[:top_k]] for places in placed],
        explain_words,
        features=features,
    )
    out = []
    for i, (places, words) in enumerate(zip(placed, explanations, strict=True)):
        suggestions = [
            Suggestion(
                p.agency,
                p.confidence,
                explanation,
                few_shot=p.label in few_names,
                agency_code=p.agency_code,
            )
            for p, explanation in zip(places[:top_k], words, strict=True)
        ]
        threshold = policy.threshold_for(places[0].label)
        unplaced, conflict = place_trouble(authority, places[0], findings[i], own_normalized[i])
        reasons = review_reasons(
            [(p.agency, p.confidence) for p in places[:2]],
            threshold,
            novelty=novelty[i],
            few_shot=bool(rerouted[i]),
            unplaced=unplaced,
            conflict=conflict,
        )
        out.append(
            Prediction(
                suggestions=suggestions,
                decision="review" if reasons else "auto",
                threshold=threshold,
                model_version=bundle.model_version,
                similar=neighbours[i],
                reasons=reasons,
                jurisdiction=findings[i].jurisdiction if findings[i] is not None else None,
            )
        )
    return out


def _novelty(
    bundle: Bundle, normalized: Sequence[str], proba: np.ndarray
) -> list[tuple[float, float] | None]:
    """(novelty score, cutoff) per complaint from the bundle's detector. A bundle without
    one (written before it existed) flags only empty complaints, which have no evidence
    whatever the priors say."""
    detector = bundle.novelty
    if detector is not None:
        cutoff = detector.cutoff_
        scores = detector.score(normalized, proba, at_most=cutoff)
        return [(float(s), cutoff) for s in scores]
    return [(1.0, 0.0) if not t.strip() else None for t in normalized]
