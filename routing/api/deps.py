"""Dependencies of the route handlers: settings, the served model, a DB session, the caller.

Everything a handler needs comes from the app's state, set once by `create_app` and its
lifespan; nothing is created per request except the (lazy) database session.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Security
from fastapi.security import APIKeyHeader
from sqlalchemy.orm import Session, sessionmaker

from routing.api.batch_pool import BatchPool
from routing.api.observability import ServiceMetrics, annotate
from routing.api.security import KeyRing, Principal, RateLimiter, Role
from routing.api.served import ServedModel
from routing.settings import Settings

API_KEY_HEADER = "X-API-Key"
api_key_header = APIKeyHeader(
    name=API_KEY_HEADER,
    auto_error=False,
    description="API key of an integration or an admin (ROUTING_API_KEYS).",
)


async def get_app_settings(request: Request) -> Settings:
    """The settings this app was created with (not re-read from the environment)."""
    return request.app.state.settings


async def get_metrics(request: Request) -> ServiceMetrics:
    return request.app.state.metrics


async def get_model(request: Request) -> ServedModel:
    model = getattr(request.app.state, "model", None)
    if model is None:
        raise HTTPException(status_code=503, detail="no model loaded")
    return model


async def get_batch_pool(request: Request) -> BatchPool:
    return request.app.state.batch_pool


async def get_sessions(request: Request) -> sessionmaker[Session]:
    """The session factory, for a handler that does all its blocking work in one worker thread.

    A sync generator dependency (`SessionDep`) costs two thread hand-offs per request on top of
    the handler's own; on a busy machine each one can wait for a time slice.
    """
    return request.app.state.sessions


def get_session(request: Request) -> Iterator[Session]:
    """A session for this request; a sync generator so opening and closing run off the loop."""
    with request.app.state.sessions() as session:
        yield session


def client_address(request: Request) -> str:
    """The caller's address: the peer's, or X-Forwarded-For's when the peer is a trusted
    proxy (ROUTING_TRUSTED_PROXIES; `create_app` installs the middleware that decides)."""
    return request.client.host if request.client else "unknown"


class RequireRole:
    """Let the request through when its X-API-Key belongs to a role granted `role`.

    401 for a missing or unknown key, 403 for a known key of a weaker role, 429 (with
    Retry-After) when the key used up its rate limit, or when the caller's address sent too
    many unknown keys (any key is then refused until it waits: guessing gains nothing).
    """

    def __init__(self, role: Role) -> None:
        self.role = role

    async def __call__(
        self, request: Request, api_key: str | None = Security(api_key_header)
    ) -> Principal:
        keys: KeyRing = request.app.state.keys
        failures: RateLimiter = request.app.state.key_failures
        address = client_address(request)
        wait = failures.wait(address)
        if wait:
            annotate(request, role=None)
            raise HTTPException(
                status_code=429,
                detail="too many unknown API keys from this address; retry later",
                headers={"Retry-After": str(wait)},
            )
        principal = keys.identify(api_key)
        if principal is None:
            annotate(request, role=None)
            if api_key:  # a wrong key is a guess; a missing one is not
                failures.check(address)
            raise HTTPException(
                status_code=401, detail=f"missing or unknown API key ({API_KEY_HEADER} header)"
            )
        annotate(request, role=principal.role, key_id=principal.key_id)
        if not principal.may(self.role):
            raise HTTPException(
                status_code=403, detail=f"this key's role ({principal.role}) may not do this"
            )
        limiter: RateLimiter = request.app.state.limiter
        wait = limiter.check(principal.key_id)
        if wait:
            raise HTTPException(
                status_code=429,
                detail=f"rate limit of {limiter.per_minute} requests per minute reached",
                headers={"Retry-After": str(wait)},
            )
        return principal


require_integration = RequireRole("integration")
require_admin = RequireRole("admin")

# The caller, for handlers that record who asked; FastAPI runs the check once per request even
# when the router declares it too.
CallerDep = Annotated[Principal, Depends(require_integration)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]
BatchPoolDep = Annotated[BatchPool, Depends(get_batch_pool)]
MetricsDep = Annotated[ServiceMetrics, Depends(get_metrics)]
ModelDep = Annotated[ServedModel, Depends(get_model)]
SessionDep = Annotated[Session, Depends(get_session)]
SessionsDep = Annotated[sessionmaker[Session], Depends(get_sessions)]
