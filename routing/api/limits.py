"""Input limits of the service, and the middleware that enforces the request-body limit.

The body limit is enforced before any parsing: a Content-Length above it is refused at once,
and a body sent without one (chunked) is counted as it streams in, so a client cannot make the
service buffer more than `MAX_BODY_BYTES` whatever headers it sends.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# defined beside the settings, where training reads it too (it warns about longer texts)
from routing.settings import MAX_TEXT_CHARS as MAX_TEXT_CHARS

MAX_BODY_BYTES = 1024 * 1024
MAX_BATCH_ITEMS = 1_000
MAX_LOCATION_CHARS = 200

_TOO_LARGE = f"request body is larger than {MAX_BODY_BYTES} bytes (1 MiB)"


class BodyTooLarge(HTTPException):
    """Raised from `receive` once the streamed body passes the limit."""

    def __init__(self) -> None:
        super().__init__(status_code=413, detail=_TOO_LARGE)


class BodySizeLimitMiddleware:
    """413 for request bodies over `max_bytes`, by Content-Length and by counting."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared == -1:
            await JSONResponse({"detail": "invalid Content-Length header"}, 400)(
                scope, receive, send
            )
            return
        if declared is not None and declared > self.max_bytes:
            await JSONResponse({"detail": _TOO_LARGE}, 413)(scope, receive, send)
            return

        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge()
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, watched_send)
        except BodyTooLarge:
            # FastAPI turns it into a JSON 413 itself; this covers bodies read elsewhere
            if started:
                raise
            await JSONResponse({"detail": _TOO_LARGE}, 413)(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    """The declared body length; None when absent, -1 when unparseable."""
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                length = int(value)
            except ValueError:
                return -1
            return length if length >= 0 else -1
    return None
