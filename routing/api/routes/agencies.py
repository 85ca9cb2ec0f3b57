"""GET /v1/agencies: the agencies the served model can suggest."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from routing.api.deps import ModelDep, require_integration
from routing.api.schemas import AgenciesOut, AgencyOut, error_responses

router = APIRouter(
    prefix="/v1",
    tags=["model"],
    dependencies=[Depends(require_integration)],
    responses=error_responses(401, 403, 429),
)


@router.get("/agencies", summary="Agencies the model knows")
async def agencies(model: ModelDep) -> AgenciesOut:
    """The valid values of `agency` in /v1/feedback (others need `new_agency`)."""
    names = sorted(model.agencies)
    return AgenciesOut(
        model_version=model.bundle.model_version,
        count=len(names),
        agencies=[AgencyOut(agency=name) for name in names],
    )
