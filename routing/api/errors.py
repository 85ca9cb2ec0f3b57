"""JSON error responses: every error is ``{"detail": "<one readable reason>", ...}``.

Validation errors name the field as a client would write it (``items[3].text: empty text``)
and never echo the input back: the input is a complaint and may carry personal data. What an
error does repeat of the request (a field name, an agency) is clipped to `MAX_ECHO_CHARS`, so a
huge field name cannot make the answer huge. A
database that cannot be reached answers 503, so a client knows its write was not stored and
can retry; it is never reported as success.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse

logger = logging.getLogger("routing.service")

DB_UNAVAILABLE = "database unavailable: the request was not stored; retry later"
_RETRY_AFTER_DB = "5"
_MAX_LISTED = 10
MAX_ECHO_CHARS = 100
_LOCATIONS = ("body", "query", "path", "header", "cookie")
_NOT_AN_OBJECT = {
    "missing": "request body is required (a JSON object)",
    "model_attributes_type": "request body must be a JSON object (Content-Type: application/json)",
    "model_type": "request body must be a JSON object (Content-Type: application/json)",
}


def clip(value: str, limit: int = MAX_ECHO_CHARS) -> str:
    """`value` cut to `limit` characters, marked with an ellipsis when cut."""
    return value if len(value) <= limit else value[:limit] + "…"


def error_location(loc: Sequence[Any]) -> str:
    """('body', 'items', 3, 'text') -> 'items[3].text'; each name clipped (it may be input)."""
    parts = list(loc)
    if parts and parts[0] in _LOCATIONS:
        parts = parts[1:]
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            name = clip(str(part))
            out += f".{name}" if out else name
    return out


def error_message(error: dict[str, Any]) -> str:
    kind = error.get("type", "")
    if kind == "json_invalid":
        reason = (error.get("ctx") or {}).get("error", "")
        return f"request body is not valid JSON ({reason})" if reason else "invalid JSON"
    if kind == "value_error" and "error" in (error.get("ctx") or {}):
        return str(error["ctx"]["error"])
    return str(error.get("msg", "invalid value"))


def describe_validation_errors(errors: Sequence[dict[str, Any]]) -> list[dict[str, str]]:
    described = []
    for error in errors:
        loc = error.get("loc", ())
        if error.get("type") == "json_invalid":
            loc = ("body",)
        elif tuple(loc) == ("body",) and error.get("type") in _NOT_AN_OBJECT:
            described.append({"loc": "", "msg": _NOT_AN_OBJECT[error["type"]], "type": "body"})
            continue
        described.append(
            {
                "loc": error_location(loc),
                "msg": error_message(error),
                "type": str(error.get("type", "")),
            }
        )
    return described


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = describe_validation_errors(exc.errors())
    reasons = [f"{e['loc']}: {e['msg']}" if e["loc"] else e["msg"] for e in errors]
    detail = "; ".join(reasons[:_MAX_LISTED])
    if len(reasons) > _MAX_LISTED:
        detail += f"; … and {len(reasons) - _MAX_LISTED} more"
    return JSONResponse({"detail": detail, "errors": errors[:100]}, status_code=422)


async def http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    return JSONResponse(
        {"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers or None
    )


async def database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    # the exception text holds SQL and parameters: log its kind only
    original = getattr(exc, "orig", None)
    logger.error(
        "database error on %s: %s%s",
        request.url.path,
        type(exc).__name__,
        f" ({type(original).__name__})" if original is not None else "",
    )
    return JSONResponse(
        {"detail": DB_UNAVAILABLE}, status_code=503, headers={"Retry-After": _RETRY_AFTER_DB}
    )


async def internal_error(request: Request, exc: Exception) -> JSONResponse:
    logger.error("unhandled %s on %s", type(exc).__name__, request.url.path, exc_info=exc)
    return JSONResponse({"detail": "internal error"}, status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(HTTPException, http_error)
    # connection-level failures (server down, locked, pool exhausted): retryable
    for error in (OperationalError, InterfaceError, DisconnectionError, PoolTimeoutError):
        app.add_exception_handler(error, database_unavailable)
    app.add_exception_handler(Exception, internal_error)
