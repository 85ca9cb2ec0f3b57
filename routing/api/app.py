"""The application factory: settings in, a ready FastAPI app out.

Configuration that must stop the service (malformed keys, no keys on a public address, no
model) is checked here, before anything listens. The lifespan loads and verifies the bundle
(unless one is passed in, as `serve` does after checking it itself), opens the database and
migrates it, once per process; requests only read what it built.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import metadata

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline
from starlette.concurrency import run_in_threadpool
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from routing.api.batch_pool import BatchPool, default_workers
from routing.api.errors import install_error_handlers
from routing.api.limits import MAX_BODY_BYTES, BodySizeLimitMiddleware
from routing.api.observability import AccessLogMiddleware, ServiceMetrics
from routing.api.readiness import WriteCheck
from routing.api.reload import ModelReloader
from routing.api.routes import admin, agencies, console, feedback, health, model, predict, stats
from routing.api.security import ConfigError, RateLimiter, check_exposure, parse_api_keys
from routing.api.served import ServedModel, warm_up
from routing.bundle import Bundle
from routing.registry import load_model
from routing.settings import Settings, get_settings
from routing.storage.db import make_engine, session_factory, upgrade

DESCRIPTION = """
Suggests which government agency should handle a citizen complaint (SP4N-LAPOR!).

Send `X-API-Key` with every `/v1` request. Role **integration** may predict, send feedback and
read the agencies and the model; role **admin** may also read `/v1/stats`, reload the model
(`/v1/admin/reload`), read why the service is not ready (`/v1/admin/readiness`) and record a
new agency. `/healthz`, `/readyz` (states only), `/metrics` and these docs need no key.
"""


def create_app(settings: Settings | None = None, *, bundle: Bundle | None = None) -> FastAPI:
    """Build the service; raises ConfigError (one line) for settings it must not run with."""
    settings = settings or get_settings()
    keys = parse_api_keys(settings.api_keys_value())
    check_exposure(keys, settings.host)
    if bundle is None and settings.model is None:
        raise ConfigError("no model to serve: pass --model DIR or set ROUTING_MODEL")
    metrics = ServiceMetrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        served = bundle
        if served is None:
            # a registry serves its current version
            served = await run_in_threadpool(
                load_model, settings.model, signing_key=settings.signing_key_value()
            )
        # lookup tables and word caches are built here, not in the first requests
        await run_in_threadpool(warm_up, served)
        engine = make_engine(settings.db_url)
        try:
            await run_in_threadpool(upgrade, engine)
            app.state.engine = engine
            app.state.sessions = session_factory(engine)
            app.state.model = ServedModel.from_bundle(served)
            workers = settings.batch_workers
            app.state.batch_pool = BatchPool(
                default_workers() if workers is None else workers,
                signing_key=settings.signing_key_value(),
            )
            app.state.batch_pool.start(served)  # workers load it while serving starts
            async with app.state.reloader.watching(app.state):
                yield
        finally:
            app.state.model = None
            engine.dispose()
            await run_in_threadpool(app.state.batch_pool.close)

    # /docs loads Swagger UI from an installed package, not a CDN, so it works offline; ReDoc
    # is off: it fetches its logo from its own CDN whatever it is given
    app = FastAPIOffline(
        redoc_url=None,
        title="routing",
        version=_version(),
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.keys = keys
    app.state.limiter = RateLimiter(settings.rate_limit)
    app.state.key_failures = RateLimiter(settings.key_failures_per_minute)  # per client address
    app.state.metrics = metrics
    app.state.model = None
    app.state.batch_pool = BatchPool(0)  # replaced by the lifespan's
    app.state.write_check = WriteCheck()
    app.state.reloader = ModelReloader(
        settings.model if settings.model is not None else bundle.path,  # type: ignore[union-attr]
        signing_key=settings.signing_key_value(),
        interval=settings.reload_interval,
    )
    install_error_handlers(app)
    for module in (predict, feedback, agencies, model, stats, health):
        app.include_router(module.router)
    app.include_router(admin.router)
    app.include_router(console.router)  # /console: static admin page, no key to load
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=MAX_BODY_BYTES)
    app.add_middleware(AccessLogMiddleware, metrics=metrics)  # sees every answer
    if settings.trusted_proxies.strip():
        # outermost: the client address is settled before anything reads it
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
    return app


def _version() -> str:
    try:
        return metadata.version("routing")
    except metadata.PackageNotFoundError:
        return "0+unknown"
