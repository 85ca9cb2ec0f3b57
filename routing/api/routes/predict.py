"""POST /v1/predict and /v1/predict/batch: suggest agencies and store each prediction."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session

from routing.api.deps import (
    MetricsDep,
    ModelDep,
    ServedModel,
    SessionDep,
    require_integration,
)
from routing.api.limits import EXPLAIN_WORDS
from routing.api.observability import ServiceMetrics, annotate
from routing.api.schemas import (
    BatchPredictOut,
    BatchPredictRequest,
    PredictionOut,
    PredictRequest,
    SuggestionOut,
    error_responses,
)
from routing.repository import record_predictions
from routing.suggest import suggest

router = APIRouter(
    prefix="/v1",
    tags=["predict"],
    dependencies=[Depends(require_integration)],
    responses=error_responses(401, 403, 413, 422, 429, 503),
)


@router.post("/predict", summary="Suggest agencies for one complaint")
def predict(
    body: PredictRequest,
    request: Request,
    model: ModelDep,
    session: SessionDep,
    metrics: MetricsDep,
) -> PredictionOut:
    """Top-k agencies with confidences and explaining words, and the policy's decision.

    The prediction is stored (text masked) before the answer is sent; keep `prediction_id`
    to send the admin's decision to /v1/feedback.
    """
    [result] = _predict_and_store(
        model, session, metrics, [(body.text, body.complaint_id)], body.top_k
    )
    annotate(
        request,
        prediction_id=result.prediction_id,
        decision=result.decision,
        model_version=result.model_version,
    )
    return result


@router.post("/predict/batch", summary="Suggest agencies for up to 1,000 complaints")
def predict_batch(
    body: BatchPredictRequest,
    request: Request,
    model: ModelDep,
    session: SessionDep,
    metrics: MetricsDep,
) -> BatchPredictOut:
    """Like /v1/predict for each item, results in input order, all stored in one transaction."""
    results = _predict_and_store(
        model, session, metrics, [(i.text, i.complaint_id) for i in body.items], body.top_k
    )
    auto = sum(r.decision == "auto" for r in results)
    annotate(
        request,
        prediction_ids=[r.prediction_id for r in results],
        decisions={"auto": auto, "review": len(results) - auto},
        model_version=model.bundle.model_version,
    )
    return BatchPredictOut(results=results)


def _predict_and_store(
    model: ServedModel,
    session: Session,
    metrics: ServiceMetrics,
    items: Sequence[tuple[str, str | None]],
    top_k: int,
) -> list[PredictionOut]:
    texts = [text for text, _ in items]
    predictions = suggest(model.bundle, texts, top_k=top_k, explain_words=EXPLAIN_WORDS)
    records = record_predictions(
        session,
        [(text, cid, p) for (text, cid), p in zip(items, predictions, strict=True)],
    )
    metrics.count_predictions(predictions)
    return [
        PredictionOut(
            prediction_id=record.id,
            complaint_id=complaint_id,
            suggestions=[
                SuggestionOut(
                    agency=s.agency, confidence=float(s.confidence), explanation=s.explanation
                )
                for s in prediction.suggestions
            ],
            decision=prediction.decision,
            threshold=prediction.threshold,
            model_version=prediction.model_version,
        )
        for record, (_, complaint_id), prediction in zip(records, items, predictions, strict=True)
    ]
