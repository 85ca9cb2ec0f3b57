"""GET /v1/agencies: the agencies the served model can suggest."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from routing.api.deps import ModelDep, require_integration
from routing.api.schemas import AgenciesOut, AgencyOut, error_responses
from routing.catalogue import Agency

router = APIRouter(
    prefix="/v1",
    tags=["model"],
    dependencies=[Depends(require_integration)],
    responses=error_responses(401, 403, 429),
)


@router.get("/agencies", summary="Agencies the model knows")
async def agencies(model: ModelDep) -> AgenciesOut:
    """The valid values of `agency` in /v1/feedback, by name or code (others need
    `new_agency`), with their level, region and kind of office."""
    return AgenciesOut(
        model_version=model.bundle.model_version,
        count=len(model.listed),
        agencies=[_out(agency) for agency in model.listed],
    )


def _out(agency: Agency | str) -> AgencyOut:
    if isinstance(agency, str):
        return AgencyOut(agency=agency, agency_code=None, level=None, region=None, role=None)
    return AgencyOut(
        agency=agency.name,
        agency_code=agency.code,
        level=agency.level,
        region=agency.region,
        role=agency.role,
    )
