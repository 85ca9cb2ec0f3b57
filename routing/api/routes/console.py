"""GET /console: the admins' web page, static files that call the public API from the browser.

The files need no key (the page asks for one and sends it with each API call). They are served
through one ordinary route rather than a mounted app, so `include_router` carries them on every
FastAPI version. The Content-Security-Policy lets the page load only its own files and talk only
to this origin: complaint texts are untrusted, and even a rendering slip cannot run a script or
send them elsewhere.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

CONSOLE_DIR = Path(__file__).resolve().parents[2] / "console"
CONSOLE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # a new release of the service must not meet an old page in the browser cache
    "Cache-Control": "no-cache",
}

router = APIRouter(tags=["console"], include_in_schema=False)
_files = StaticFiles(directory=CONSOLE_DIR, html=True, check_dir=False)


@router.api_route("/console", methods=["GET", "HEAD"])
async def console_root() -> RedirectResponse:
    """The page's relative links resolve against /console/, so send the slash-less URL there."""
    return RedirectResponse("/console/", status_code=308)


@router.api_route("/console/{path:path}", methods=["GET", "HEAD"])
async def console_file(path: str, request: Request) -> Response:
    """A file of the console; `StaticFiles` refuses paths outside CONSOLE_DIR."""
    response = await _files.get_response(path, request.scope)
    response.headers.update(CONSOLE_HEADERS)
    return response
