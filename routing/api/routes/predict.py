"""POST /v1/predict and /v1/predict/batch: suggest agencies and store each prediction.

The handlers are async and hand the blocking work (model, then database) to a worker thread in
one piece: one thread hand-off per request instead of four (a sync session dependency's enter
and exit, a sync handler, and its response validation), each of which can wait for a time slice
on a busy machine.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import closing

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from routing.api.batch_pool import BatchPool, Part
from routing.api.deps import (
    BatchPoolDep,
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
    PredictionOut,
    PredictRequest,
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
        [(body.text, body.complaint_id)],
        body.top_k,
        SIMILAR_DEFAULT if body.include_similar else 0,
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
    model: ModelDep,
    sessions: SessionsDep,
    metrics: MetricsDep,
    pool: BatchPoolDep,
) -> Response:
    """Like /v1/predict for each item, results in input order, all stored in one transaction.

    Large batches are shared with the service's batch workers (ROUTING_BATCH_WORKERS).
    """
    items = [(i.text, i.complaint_id) for i in body.items]
    results = await run_in_threadpool(
        _predict_and_store,
        model,
        sessions,
        metrics,
        pool,
        items,
        body.top_k,
        SIMILAR_DEFAULT if body.include_similar else 0,
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
    items: Sequence[tuple[str, str | None]],
    top_k: int,
    similar: int = 0,
) -> list[PredictionOut]:
    texts = [text for text, _ in items]
    parts = pool.suggest_parts(
        model.bundle, texts, top_k=top_k, explain_words=EXPLAIN_WORDS, similar=similar
    )
    predictions: list[Prediction] = []
    bodies: list[tuple[list[SuggestionOut], list[SimilarOut] | None]] = []

    def stored(part: Part) -> list[tuple[str, str | None, Prediction]]:
        done = len(predictions)
        predictions.extend(part.predictions)
        # the answers' nested parts too are built while the workers compute the later parts
        bodies.extend(map(_body, part.predictions))
        complaint_ids = [c for _, c in items[done : len(predictions)]]
        return list(zip(part.masked, complaint_ids, part.predictions, strict=True))

    with closing(parts), sessions() as session:
        ids = store_predictions(session, map(stored, parts), masked=True)
    metrics.count_predictions(predictions)
    return [
        PredictionOut(
            prediction_id=prediction_id,
            complaint_id=complaint_id,
            suggestions=suggestions,
            decision=prediction.decision,
            threshold=prediction.threshold,
            model_version=prediction.model_version,
            similar=similar_out,
        )
        for prediction_id, (_, complaint_id), prediction, (suggestions, similar_out) in zip(
            ids, items, predictions, bodies, strict=True
        )
    ]


def _body(prediction: Prediction) -> tuple[list[SuggestionOut], list[SimilarOut] | None]:
    """The suggestions and similar complaints of a prediction's answer."""
    suggestions = [
        SuggestionOut(agency=s.agency, confidence=float(s.confidence), explanation=s.explanation)
        for s in prediction.suggestions
    ]
    if prediction.similar is None:
        return suggestions, None
    return suggestions, [SimilarOut(**item) for item in prediction.similar]
