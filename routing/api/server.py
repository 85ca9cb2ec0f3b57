"""Running the service under uvicorn: start-up checks, a banner, clean shutdown on signals.

Everything that can be wrong with the configuration, the bundle or the database is checked
before uvicorn starts, so a bad start ends with one line and exit code 2 instead of a server
traceback. uvicorn handles Ctrl-C and SIGTERM: it stops accepting, finishes open requests and
runs the app's shutdown; a shutdown asked for by a signal that completes ends with exit code 0.
"""

from __future__ import annotations

import ipaddress
import logging
import shlex
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
from fastapi import FastAPI
from sqlalchemy import make_url
from sqlalchemy.exc import SQLAlchemyError

from routing.api.app import create_app
from routing.api.connections import header_timeout_protocol
from routing.api.deps import API_KEY_HEADER
from routing.api.observability import configure_logging
from routing.api.security import ConfigError, check_exposure, is_loopback, parse_api_keys
from routing.api.served import warm_up
from routing.bundle import Bundle
from routing.registry import load_model
from routing.settings import Settings
from routing.storage.db import upgrade

# The start-up banner's (and README's) curl example: one the sample model routes automatically
# (tests/cli/test_first_run.py checks it), so a first try shows an "auto" decision.
EXAMPLE_COMPLAINT = "Air PDAM di rumah saya di Kota Bandung tidak mengalir sudah tiga hari"
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)

logger = logging.getLogger("routing.service")


def safe_url(url: str) -> str:
    """The database URL without its password, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparseable URL is shown as given: it holds no usable password
        return url


def database_problem(url: str, exc: BaseException) -> str:
    """One line saying why the database at `url` cannot be used (no SQL, no password)."""
    original = getattr(exc, "orig", None) or exc
    reason = str(original).strip().splitlines()[0] if str(original).strip() else ""
    kind = type(original).__name__
    return f"database {safe_url(url)}: {kind}{': ' + reason if reason else ''}"


def check_database(url: str) -> None:
    """Open and migrate the database once, so a wrong URL stops start-up with one line."""
    try:
        upgrade(url)
    except (SQLAlchemyError, OSError, ImportError) as exc:
        raise ConfigError(database_problem(url, exc)) from None


def prepare(settings: Settings) -> tuple[FastAPI, Bundle]:
    """Check settings, keys, bundle and database, then build the app around the loaded bundle."""
    check_exposure(parse_api_keys(settings.api_keys_value()), settings.host)
    if settings.model is None:
        raise ConfigError("no model to serve: pass --model DIR or set ROUTING_MODEL")
    # a registry (models/) serves its current version
    bundle = load_model(
        settings.model,
        signing_key=settings.signing_key_value(),
        require_signed=settings.require_signed,
    )
    warm_up(bundle)  # a bundle that loads but cannot predict stops start-up with one line
    check_database(settings.db_url)
    return create_app(settings, bundle=bundle), bundle


def base_url(host: str, port: int) -> str:
    try:
        shown = f"[{host}]" if ipaddress.ip_address(host).version == 6 else host
    except ValueError:
        shown = host
    return f"http://{shown}:{port}"


def banner(settings: Settings, bundle: Bundle, *, open_mode: bool) -> list[str]:
    """What an operator needs to see at start-up: where, the docs, a curl to paste, warnings."""
    url = base_url(settings.host, settings.port)
    body = shlex.quote(f'{{"text": "{EXAMPLE_COMPLAINT}"}}')
    key = "" if open_mode else f" -H '{API_KEY_HEADER}: <integration key>'"
    lines = [
        f"routing: serving model {bundle.model_version} ({len(bundle.labels)} agencies) at {url}",
        f"  API docs: {url}/docs",
        f"  console:  {url}/console/" + ("" if open_mode else " (sign in with an admin key)"),
        f"  database: {safe_url(settings.db_url)}",
        f"  try:      curl -s -X POST {url}/v1/predict -H 'Content-Type: application/json'"
        f"{key} -d {body}",
    ]
    if open_mode:
        lines += [
            "",
            "  !!! WARNING: NO API KEYS CONFIGURED (ROUTING_API_KEYS). Every endpoint, admin ones",
            f"  !!! included, is open to anyone who can reach {settings.host}. This is allowed",
            "  !!! only on a loopback address; set ROUTING_API_KEYS before exposing it.",
            "",
        ]
    if not settings.signing_key_value() and not is_loopback(settings.host):
        lines += [
            "",
            "  !!! WARNING: NO SIGNING KEY (ROUTING_SIGNING_KEY). A model bundle runs code when it",
            f"  !!! is loaded: whoever can write {settings.model} controls this service. Sign",
            "  !!! bundles and set ROUTING_SIGNING_KEY (and ROUTING_REQUIRE_SIGNED=1); see",
            "  !!! docs/service.md, 'Model files run code'.",
            "",
        ]
    if settings.rate_limit:
        lines.append(f"  rate limit: {settings.rate_limit} requests per minute per key")
    return lines


def run(settings: Settings, *, echo: Callable[[str], None] = print) -> None:
    """Serve in the foreground until Ctrl-C or SIGTERM; raises ConfigError/BundleError first."""
    app, bundle = prepare(settings)
    configure_logging()
    for line in banner(settings, bundle, open_mode=app.state.keys.open):
        echo(line)
    with stop_signals_end_cleanly() as received:
        uvicorn.run(
            app,
            host=settings.host,
            port=settings.port,
            access_log=False,  # routing.access writes one structured line per request instead
            log_level="info",
            server_header=False,
            timeout_graceful_shutdown=10,
            **server_limits(settings),
        )
    if received:
        logger.info("stopped by %s: shut down cleanly", signal.Signals(received[0]).name)


def server_limits(settings: Settings) -> dict[str, Any]:
    """uvicorn's options that bound what clients can hold: connections, time, the queue."""
    return {
        "http": header_timeout_protocol(settings.header_timeout_s),
        "timeout_keep_alive": settings.keep_alive_timeout_s,
        "limit_concurrency": settings.limit_concurrency,
        "backlog": settings.backlog,
        # X-Forwarded-For is read by the app, from ROUTING_TRUSTED_PROXIES only: uvicorn's own
        # default would trust it from any local process
        "proxy_headers": False,
    }


@contextmanager
def stop_signals_end_cleanly() -> Iterator[list[int]]:
    """Record SIGINT/SIGTERM instead of dying of them; yields the signals received.

    uvicorn handles both while it serves, then restores the handlers it found and raises the
    signal again, so that an unhandled SIGTERM would end a clean shutdown with exit code 143.
    The handlers it finds are these, which only record the signal: a stop that was asked for
    and completed is a success for supervisors (systemd, Docker, Kubernetes).
    """
    received: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield received  # signals reach the main thread only; uvicorn does not catch them either
        return

    def record(signum: int, frame: object) -> None:
        received.append(signum)

    previous = {sig: signal.signal(sig, record) for sig in STOP_SIGNALS}
    try:
        yield received
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
