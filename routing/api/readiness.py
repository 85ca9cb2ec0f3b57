"""Readiness: can the service answer and store requests now, and if not, why.

`/readyz` needs no key, so it shows states only ("database not writable"); the reasons behind
them (exception kinds, a refused bundle's path and error) go to admins at
`/v1/admin/readiness`. The database must take a write, not only a read: a database that answers
`SELECT 1` but refuses writes would turn every prediction into a 503 while looking ready.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Literal

from sqlalchemy import Engine

from routing.storage.db import ping, probe_write

__all__ = ["WRITE_CHECK_INTERVAL_S", "Readiness", "WriteCheck", "readiness"]

# A write check takes the database's write lock for a moment: often enough for an orchestrator
# polling every few seconds, rarely enough to cost writers nothing.
WRITE_CHECK_INTERVAL_S = 5.0

Status = Literal["ready", "degraded", "unready"]


@dataclass(frozen=True)
class Readiness:
    """The service's state: `problem` is safe for anyone, `reason` is for admins only."""

    status: Status
    model_version: str | None = None
    batch_workers: int = 0
    problem: str | None = None
    reason: str | None = None


class WriteCheck:
    """`probe_write` at most once every `interval` seconds; in between, its last outcome.

    Calling it answers None when the database took the write, else what went wrong.
    """

    def __init__(
        self,
        interval: float = WRITE_CHECK_INTERVAL_S,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.interval = interval
        self._clock = clock
        self._lock = threading.Lock()
        self._checked_at: float | None = None
        self._outcome: str | None = None

    def __call__(self, engine: Engine) -> str | None:
        with self._lock:  # concurrent readiness requests share one probe
            now = self._clock()
            if self._checked_at is None or now - self._checked_at >= self.interval:
                self._outcome = _failure(probe_write, engine)
                self._checked_at = now
            return self._outcome


def readiness(state: Any) -> Readiness:
    """Check the app's model, database and last reload (blocking: run it off the event loop)."""
    model = getattr(state, "model", None)
    if model is None:
        return Readiness("unready", problem="no model loaded")
    version = model.bundle.model_version
    workers = state.batch_pool.ready(version)
    unready = Readiness("unready", version, workers)
    failure = _failure(ping, state.engine)
    if failure is not None:
        return replace(unready, problem="database unreachable", reason=failure)
    failure = state.write_check(state.engine)
    if failure is not None:
        return replace(unready, problem="database not writable", reason=failure)
    # A refused reload leaves the previous model serving: still ready, but degraded.
    refused = state.reloader.last_error
    if refused:
        return Readiness("degraded", version, workers, "last reload refused", refused)
    return Readiness("ready", version, workers)


def _failure(check: Callable[[Engine], None], engine: Engine) -> str | None:
    try:
        check(engine)
    except Exception as exc:  # any failure means "not ready", never a 500
        original = getattr(exc, "orig", None) or exc
        text = " ".join(str(original).split())
        return f"{type(original).__name__}: {text}" if text else type(original).__name__
    return None
