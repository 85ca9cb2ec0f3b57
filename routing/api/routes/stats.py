"""GET /v1/stats: how often admins accept the suggestions (admin only)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Query

from routing.api.deps import SessionDep, require_admin
from routing.api.schemas import StatsOut, error_responses
from routing.storage.repository import stats as repository_stats

router = APIRouter(
    prefix="/v1",
    tags=["stats"],
    dependencies=[Depends(require_admin)],
    responses=error_responses(401, 403, 422, 429, 503),
)


@router.get("/stats", summary="Acceptance of suggestions")
def stats(
    session: SessionDep,
    since: datetime | None = Query(
        default=None, description="Only predictions made at or after this time (ISO 8601)."
    ),
) -> StatsOut:
    """Predictions, decisions and acceptance, overall and by decision, agency and model."""
    return StatsOut.model_validate(repository_stats(session, since=since))
