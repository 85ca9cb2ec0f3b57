"""POST /v1/predict and /v1/predict/batch: suggest agencies and store each prediction.

The handlers are async and hand the blocking work (model, then database) to a worker thread in
one piece: one thread hand-off per request instead of four (a sync session dependency's enter
and exit, a sync handler, and its response validation), each of which can wait for a time slice
on a busy machine.
"""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from routing.api.batch_pool import BatchPool
from routing.api.deps import (
    BatchPoolDep,
    CallerDep,
    MetricsDep,
    ModelDep,
    ServedModel,
    SessionsDep,
    require_integration,
)
from routing.api.observability import ServiceMetrics, annotate
from routing.api.schemas import (
    SIMILAR_DEFAULT,
    BatchPredictOut,
    BatchPredictRequest,
    JurisdictionOut,
    PredictionOut,
    PredictRequest,
    ReasonOut,
    SimilarOut,
    SuggestionOut,
    error_responses,
)
from routing.storage.repository import store_predictions
from routing.suggest import EXPLAIN_WORDS, Prediction

router = APIRouter(
    prefix="/v1",
    tags=["predict"],
    dependencies=[Depends(require_integration)],
    responses=error_responses(400, 401, 403, 413, 422, 429, 503),
)


@router.post("/predict", summary="Suggest agencies for one complaint", response_model=PredictionOut)
async def predict(
    body: PredictRequest,
    request: Request,
    caller: CallerDep,
    model: ModelDep,
    sessions: SessionsDep,
    metrics: MetricsDep,
    pool: BatchPoolDep,
) -> Response:
    """Top-k agencies with confidences and explaining words, and the policy's decision.

    The prediction is stored (text masked) before the answer is sent; keep `prediction_id`
    to send the admin's decision to /v1/feedback.
    """
    [result] = await run_in_threadpool(
        _predict_and_store,
        model,
        sessions,
        metrics,
        pool,
        [(body.text, body.complaint_id, body.location)],
        body.top_k,
        SIMILAR_DEFAULT if body.include_similar else 0,
        caller.key_id,
    )
    annotate(
        request,
        prediction_id=result.prediction_id,
        decision=result.decision,
        model_version=result.model_version,
    )
    return _json(result)


@router.post(
    "/predict/batch",
    summary="Suggest agencies for up to 1,000 complaints",
    response_model=BatchPredictOut,
)
async def predict_batch(
    body: BatchPredictRequest,
    request: Request,
    caller: CallerDep,
    model: ModelDep,
    sessions: SessionsDep,
    metrics: MetricsDep,
    pool: BatchPoolDep,
) -> Response:
    """Like /v1/predict for each item, results in input order, all stored in one transaction.

    Large batches are shared with the service's batch workers (ROUTING_BATCH_WORKERS).
    """
    items = [(i.text, i.complaint_id, i.location) for i in body.items]
    results = await run_in_threadpool(
        _predict_and_store,
        model,
        sessions,
        metrics,
        pool,
        items,
        body.top_k,
        SIMILAR_DEFAULT if body.include_similar else 0,
        caller.key_id,
    )
    auto = sum(r.decision == "auto" for r in results)
    annotate(
        request,
        prediction_ids=[r.prediction_id for r in results],
        decisions={"auto": auto, "review": len(results) - auto},
        model_version=model.bundle.model_version,
    )
    return _json(BatchPredictOut(results=results))


def _json(body: PredictionOut | BatchPredictOut) -> Response:
    """The body built and validated by our own models, serialized once: returning the model
    would make FastAPI validate it a second time (documented by `response_model`)."""
    return Response(content=body.model_dump_json(), media_type="application/json")


def _predict_and_store(
    model: ServedModel,
    sessions: sessionmaker[Session],
    metrics: ServiceMetrics,
    pool: BatchPool,
    items: Sequence[tuple[str, str | None, str | None]],
    top_k: int,
    similar: int = 0,
    key_id: str | None = None,
) -> list[PredictionOut]:
    """`items` are (text, complaint id, location) triples."""
    texts = [text for text, _, _ in items]
    locations = [location for _, _, location in items]
    predictions = pool.suggest(
        model.bundle,
        texts,
        top_k=top_k,
        explain_words=EXPLAIN_WORDS,
        similar=similar,
        locations=locations if any(locations) else None,
    )
    with sessions() as session:
        ids = store_predictions(
            session,
            [(t, c, p) for (t, c, _), p in zip(items, predictions, strict=True)],
            key_id=key_id,
        )
    metrics.count_predictions(predictions)
    return [
        _answer(prediction_id, complaint_id, prediction)
        for prediction_id, (_, complaint_id, _), prediction in zip(
            ids, items, predictions, strict=True
        )
    ]


def _answer(prediction_id: str, complaint_id: str | None, prediction: Prediction) -> PredictionOut:
    """The answer for one stored prediction."""
    suggestions = [
        SuggestionOut(
            agency=s.agency,
            agency_code=s.agency_code,
            confidence=float(s.confidence),
            explanation=s.explanation,
        )
        for s in prediction.suggestions
    ]
    place = prediction.jurisdiction
    similar = None
    if prediction.similar is not None:
        similar = [SimilarOut(**item) for item in prediction.similar]
    return PredictionOut(
        prediction_id=prediction_id,
        complaint_id=complaint_id,
        suggestions=suggestions,
        decision=prediction.decision,
        threshold=prediction.threshold,
        reasons=[ReasonOut(**reason) for reason in prediction.reasons],
        jurisdiction=None if place is None else JurisdictionOut(**place.to_dict()),
        model_version=prediction.model_version,
        similar=similar,
    )
