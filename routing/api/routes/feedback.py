"""POST /v1/feedback: an admin's decision on a stored prediction."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request, status

from routing.api.deps import CallerDep, MetricsDep, ModelDep, SessionDep, require_integration
from routing.api.errors import clip
from routing.api.observability import annotate
from routing.api.schemas import FeedbackOut, FeedbackRequest, error_responses
from routing.storage.repository import get_prediction, record_feedback

router = APIRouter(
    prefix="/v1",
    tags=["feedback"],
    dependencies=[Depends(require_integration)],
    responses=error_responses(400, 401, 403, 404, 413, 422, 429, 503),
)


@router.post(
    "/feedback", status_code=status.HTTP_201_CREATED, summary="Record the agency an admin chose"
)
def feedback(
    body: FeedbackRequest,
    request: Request,
    caller: CallerDep,
    model: ModelDep,
    session: SessionDep,
    metrics: MetricsDep,
) -> FeedbackOut:
    """Store which agency the complaint went to; stored before the 201 is sent.

    Several decisions on one prediction are all kept; the latest one counts. `agency` is any
    agency of /v1/agencies, by name or catalogue code (stored by name). An agency the model
    does not know is refused (422) unless `new_agency` is true, which only an admin key may
    send (403 otherwise): the learning loop may turn such a name into a label. `jurisdiction`
    corrects the place the complaint is about.
    """
    if body.new_agency and not caller.may("admin"):
        raise HTTPException(status_code=403, detail='only an admin key may send "new_agency": true')
    prediction = get_prediction(session, body.prediction_id)
    if prediction is None:
        raise HTTPException(status_code=404, detail="unknown prediction_id")
    annotate(request, prediction_id=prediction.id)  # only ids we issued reach the log
    agency = model.agencies.get(body.agency, body.agency)
    if body.agency not in model.agencies and not body.new_agency:
        raise HTTPException(
            status_code=422,
            detail=f"agency: {clip(body.agency)!r} is not an agency the model knows (see "
            "/v1/agencies); "
            'send "new_agency": true to record it anyway',
        )
    record = record_feedback(
        session,
        prediction=prediction,
        agency=agency,
        new_agency=body.new_agency,
        admin=body.admin,
        note=body.note,
        jurisdiction=body.jurisdiction,
        key_id=caller.key_id,
    )
    metrics.count_feedback(record.accepted)
    annotate(request, feedback_id=record.id, accepted=record.accepted)
    return FeedbackOut(feedback_id=record.id, accepted=record.accepted)
