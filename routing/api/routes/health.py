"""GET /healthz, /readyz and /metrics: for orchestrators and Prometheus, no key needed."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST

from routing.api.schemas import ErrorOut, HealthOut, ReadyOut
from routing.storage.db import ping

router = APIRouter(tags=["health"])
logger = logging.getLogger("routing.service")


@router.get("/healthz", summary="The process is alive")
async def healthz() -> HealthOut:
    return HealthOut()


@router.get(
    "/readyz",
    response_model=ReadyOut,
    response_model_exclude_none=True,
    summary="The model is loaded and the database answers",
    responses={503: {"model": ErrorOut, "description": "Not ready; detail says why."}},
)
def readyz(request: Request) -> ReadyOut | JSONResponse:
    model = getattr(request.app.state, "model", None)
    if model is None:
        return _unready("no model loaded")
    try:
        ping(request.app.state.engine)
    except Exception as exc:  # any failure means "not ready", never a 500
        logger.warning("readiness: database unreachable (%s)", type(exc).__name__)
        return _unready(f"database unreachable ({type(exc).__name__})")
    # A refused reload leaves the previous model serving: still ready, but say why.
    reloader = getattr(request.app.state, "reloader", None)
    problem = reloader.last_error if reloader is not None else None
    version = model.bundle.model_version
    return ReadyOut(
        status="degraded" if problem else "ready",
        model_version=version,
        detail=problem or None,
        batch_workers=request.app.state.batch_pool.ready(version),
    )


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics(request: Request) -> Response:
    return Response(request.app.state.metrics.render(), media_type=CONTENT_TYPE_LATEST)


def _unready(reason: str) -> JSONResponse:
    return JSONResponse({"detail": f"not ready: {reason}", "status": "unready"}, status_code=503)
