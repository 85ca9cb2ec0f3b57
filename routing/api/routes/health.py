"""GET /healthz, /readyz and /metrics: for orchestrators and Prometheus, no key needed."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST

from routing.api.readiness import readiness
from routing.api.schemas import ErrorOut, HealthOut, ReadyOut

router = APIRouter(tags=["health"])
logger = logging.getLogger("routing.service")


@router.get("/healthz", summary="The process is alive")
async def healthz() -> HealthOut:
    return HealthOut()


@router.get(
    "/readyz",
    response_model=ReadyOut,
    summary="The model is loaded and the database takes writes",
    responses={503: {"model": ErrorOut, "description": "Not ready; detail says what is down."}},
)
def readyz(request: Request) -> ReadyOut | JSONResponse:
    """States only: admins read the reasons at /v1/admin/readiness."""
    state = readiness(request.app.state)
    if state.status == "unready":
        because = f" ({state.reason})" if state.reason else ""
        logger.warning("not ready: %s%s", state.problem, because)
        return JSONResponse(
            {"detail": f"not ready: {state.problem}", "status": "unready"}, status_code=503
        )
    return ReadyOut(
        status=state.status,
        model_version=state.model_version or "",
        batch_workers=state.batch_workers,
    )


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics(request: Request) -> Response:
    return Response(request.app.state.metrics.render(), media_type=CONTENT_TYPE_LATEST)
