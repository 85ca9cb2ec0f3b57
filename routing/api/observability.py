"""Prometheus metrics and one structured JSON access-log line per request.

Each app owns its `CollectorRegistry`, so several apps (tests) never share counters. Route
handlers add what they know (prediction ids, decision, model version, caller role) with
`annotate`; the middleware writes the line once the response is sent. Nothing a citizen wrote
is ever put on the line: no complaint text, no complaint id, no API key.
"""

from __future__ import annotations

import collections
import json
import logging
import time
from collections.abc import Iterable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from routing.suggest import Prediction

ACCESS_LOGGER = "routing.access"
_FIELDS_KEY = "routing.log_fields"
_UNMATCHED = "unmatched"  # a fixed label for unknown paths keeps metrics cardinality bounded
_LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class ServiceMetrics:
    """The service's Prometheus metrics in a registry of their own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.latency = Histogram(
            "routing_request_duration_seconds",
            "Time to answer a request, by route template.",
            ["route", "method"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.requests = Counter(
            "routing_requests",
            "Requests answered, by route template and status code.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.predictions = Counter(
            "routing_predictions",
            "Predictions stored, by decision and top suggested agency.",
            ["decision", "agency"],
            registry=self.registry,
        )
        self.feedback = Counter(
            "routing_feedback",
            "Feedback decisions stored, by whether the top suggestion was accepted.",
            ["accepted"],
            registry=self.registry,
        )

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        self.latency.labels(route, method).observe(seconds)
        self.requests.labels(route, method, str(status)).inc()

    def count_predictions(self, predictions: Iterable[Prediction]) -> None:
        # one increment per (decision, agency), not per prediction: a batch has few of them
        counts = collections.Counter((p.decision, p.top.agency) for p in predictions)
        for (decision, agency), n in counts.items():
            self.predictions.labels(decision, agency).inc(n)

    def count_feedback(self, accepted: bool) -> None:
        self.feedback.labels("true" if accepted else "false").inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)


def annotate(request: Request, **fields: Any) -> None:
    """Add fields to this request's access-log line (never complaint text or keys)."""
    log_fields = request.scope.get(_FIELDS_KEY)
    if log_fields is not None:
        log_fields.update(fields)


def route_template(scope: Scope) -> str:
    route = scope.get("route")
    return getattr(route, "path", None) or _UNMATCHED


class AccessLogMiddleware:
    """Times every request, feeds the latency metrics and logs one JSON line for it."""

    def __init__(
        self, app: ASGIApp, metrics: ServiceMetrics, logger: logging.Logger | None = None
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.logger = logger or logging.getLogger(ACCESS_LOGGER)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        fields: dict[str, Any] = {}
        scope[_FIELDS_KEY] = fields
        status = 500  # what the client gets if the app raises before answering

        async def watched_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, watched_send)
        finally:
            seconds = time.perf_counter() - start
            route = route_template(scope)
            method = scope.get("method", "")
            self.metrics.observe_request(route, method, status, seconds)
            if self.logger.isEnabledFor(logging.INFO):
                line = {
                    "event": "request",
                    "method": method,
                    "route": route,
                    "status": status,
                    "latency_ms": round(seconds * 1000, 3),
                    **fields,
                }
                self.logger.info(json.dumps(line, ensure_ascii=False, separators=(",", ":")))


def configure_logging(stream: Any = None) -> None:
    """Access log as one JSON object a line, service messages as text; both to stderr."""
    access = logging.getLogger(ACCESS_LOGGER)
    if not access.handlers:
        handler = logging.StreamHandler(stream)
        handler.setFormatter(logging.Formatter("%(message)s"))
        access.addHandler(handler)
    access.setLevel(logging.INFO)
    access.propagate = False
    service = logging.getLogger("routing")
    if not service.handlers:
        handler = logging.StreamHandler(stream)
        handler.setFormatter(logging.Formatter("%(levelname)s:     %(name)s: %(message)s"))
        service.addHandler(handler)
    service.setLevel(logging.INFO)
