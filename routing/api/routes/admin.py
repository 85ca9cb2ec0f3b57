"""Admin endpoints: reload the model, read why the service is not ready (admin role)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from starlette.concurrency import run_in_threadpool

from routing.api.deps import require_admin
from routing.api.observability import annotate
from routing.api.readiness import readiness
from routing.api.reload import ModelReloader
from routing.api.schemas import ErrorOut, ReadinessOut, ReloadOut, error_responses

router = APIRouter(
    prefix="/v1/admin",
    tags=["admin"],
    dependencies=[Depends(require_admin)],
    responses={
        **error_responses(401, 403, 429),
        409: {
            "model": ErrorOut,
            "description": "The bundle failed verification; the previous model keeps serving.",
        },
    },
)


@router.post("/reload", summary="Reload the model without downtime")
async def reload_model(request: Request) -> ReloadOut:
    """Verify, load and warm up the bundle the service's --model source names now (for a
    registry: its current version), then swap it in; requests keep being answered meanwhile.

    The service also notices a registry's new version by itself; this forces the check.
    """
    reloader: ModelReloader = request.app.state.reloader
    outcome = await run_in_threadpool(reloader.reload, request.app.state)
    annotate(request, model_version=outcome.model_version, reloaded=outcome.reloaded)
    if outcome.error is not None:
        raise HTTPException(
            status_code=409,
            detail=f"bundle refused, still serving {outcome.model_version}: {outcome.error}",
        )
    if outcome.model_version is None:  # nothing served and nothing loadable
        raise HTTPException(status_code=503, detail="no model loaded")
    return ReloadOut(
        model_version=outcome.model_version,
        previous_version=outcome.previous_version,
        reloaded=outcome.reloaded,
    )


@router.get("/readiness", summary="Readiness with the reasons behind it")
async def admin_readiness(request: Request) -> ReadinessOut:
    """What /readyz says, and why: the database's error, the refused bundle and its error."""
    state = await run_in_threadpool(readiness, request.app.state)
    return ReadinessOut(
        status=state.status,
        model_version=state.model_version,
        batch_workers=state.batch_workers,
        problem=state.problem,
        detail=state.reason,
    )
