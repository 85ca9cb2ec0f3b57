"""Batch inference on Ray Data: `routing predict` and `routing evaluate` over a Dataset.

A worker is an actor of a callable class that loads and verifies the bundle once, then
scores the batches it is given (`map_batches`); the bundle is never shipped per batch. The
driver receives the results in input order (`preserve_order`), a block at a time: JSON lines
to write for predict, a few numbers per complaint for evaluate.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from routing.jurisdiction import agency_id, ranked_agencies
from routing.predictions import prediction_lines
from routing.registry import load_model
from routing.suggest import suggest, suggest_proba

if TYPE_CHECKING:
    import ray.data

__all__ = ["TopSuggestions", "predict_lines", "score_top_suggestions"]


class _Predictor:
    """One worker of `predict_lines`: complaints (text, and id and location when given) →
    output lines."""

    def __init__(
        self, model: str, signing_key: str | None, top_k: int, explain: int, similar: int
    ) -> None:
        self.bundle = load_model(model, signing_key=signing_key)
        self.options = {"top_k": top_k, "explain": explain, "similar": similar}

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        ids = batch["id"].tolist() if "id" in batch else None
        locations = batch["location"].tolist() if "location" in batch else None
        lines = prediction_lines(
            self.bundle, batch["text"].tolist(), ids, locations=locations, **self.options
        )
        return {"line": np.asarray(lines, dtype=object)}


class _Scorer:
    """One worker of `score_top_suggestions`: labelled complaints → their top agency, its
    probability, whether the label is among the first three, and the decision.

    Rows with an empty text or label are kept, marked, and not scored, as the local engine
    skips them.
    """

    def __init__(self, model: str, signing_key: str | None) -> None:
        self.bundle = load_model(model, signing_key=signing_key)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        texts = batch["text"].tolist()
        authority = self.bundle.authority
        # compared as `routing evaluate` compares them: the agency's code, else as written
        labels = [agency_id(authority, str(y).strip()) for y in batch["label"].tolist()]
        locations = batch["location"].tolist() if "location" in batch else None
        kept = np.array([bool(t.strip() and y) for t, y in zip(texts, labels, strict=True)])
        n = len(texts)
        agency, confidence = np.full(n, "", dtype=object), np.full(n, np.nan)
        in_top3, auto = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
        rows = np.flatnonzero(kept)
        if len(rows):
            kept_texts = [texts[i] for i in rows]
            where = None if locations is None else [locations[i] or None for i in rows]
            proba = suggest_proba(self.bundle, kept_texts)
            # the decisions `suggest` makes (thresholds, out of scope, ambiguity, few-shot,
            # place)
            decisions = suggest(self.bundle, kept_texts, proba=proba, locations=where)
            auto[rows] = [p.decision == "auto" for p in decisions]
            ranked, confidence[rows] = ranked_agencies(
                authority,
                proba,
                self.bundle.router.classes_,
                [p.jurisdiction for p in decisions],
                self.bundle.router.normalizer_.transform(kept_texts),
            )
            agency[rows] = [agencies[0] for agencies in ranked]
            in_top3[rows] = [labels[i] in r[:3] for i, r in zip(rows, ranked, strict=True)]
        return {
            "label": np.asarray(labels, dtype=object),
            "kept": kept,
            "agency": agency,
            "confidence": confidence,
            "in_top3": in_top3,
            "auto": auto,
        }


def _workers(dataset: ray.data.Dataset, udf: type, kwargs: dict, cpus: int):
    import ray.data

    if not dataset.context.execution_options.preserve_order:
        raise ValueError("the Dataset must keep input order (made inside ray_session)")
    return dataset.map_batches(
        udf,
        fn_constructor_kwargs=kwargs,
        batch_size=None,  # a block at a time: the reader sized them
        batch_format="numpy",
        compute=ray.data.ActorPoolStrategy(size=cpus),
        num_cpus=1,
    )


def predict_lines(
    dataset: ray.data.Dataset,
    model: str,
    *,
    signing_key: str | None,
    cpus: int,
    top_k: int = 3,
    explain: int = 0,
    similar: int = 0,
) -> Iterator[list[str]]:
    """`routing.predictions.prediction_lines` of a Dataset with columns text (and id,
    location), in
    input order, a block at a time; `cpus` workers (a CPU each) score a block at a time."""
    kwargs = {
        "model": model,
        "signing_key": signing_key,
        "top_k": top_k,
        "explain": explain,
        "similar": similar,
    }
    scored = _workers(dataset, _Predictor, kwargs, cpus)
    for block in scored.iter_batches(batch_size=None, batch_format="numpy"):
        yield block["line"].tolist()


@dataclass(frozen=True)
class TopSuggestions:
    """What `evaluate_top_suggestions` needs of each scored complaint, in input order, and how
    many rows were skipped for an empty text or label."""

    labels: np.ndarray
    agency: np.ndarray
    confidence: np.ndarray
    in_top3: np.ndarray
    auto: np.ndarray
    skipped: int


def score_top_suggestions(
    dataset: ray.data.Dataset,
    model: str,
    *,
    signing_key: str | None,
    cpus: int,
) -> TopSuggestions:
    """The top agencies of a Dataset with columns text and label (and location), as the local
    engine's `routing evaluate` scores them (it strips labels and skips rows with an empty
    text or label: so here)."""
    kwargs = {"model": model, "signing_key": signing_key}
    scored = _workers(dataset, _Scorer, kwargs, cpus)
    parts: dict[str, list[np.ndarray]] = {}
    for block in scored.iter_batches(batch_size=None, batch_format="numpy"):
        for name, values in block.items():
            parts.setdefault(name, []).append(values)
    columns = {name: np.concatenate(values) for name, values in parts.items()}
    kept = columns["kept"].astype(bool)
    return TopSuggestions(
        labels=columns["label"][kept],
        agency=columns["agency"][kept],
        confidence=columns["confidence"][kept].astype(float),
        in_top3=columns["in_top3"][kept].astype(bool),
        auto=columns["auto"][kept].astype(bool),
        skipped=int((~kept).sum()),
    )
