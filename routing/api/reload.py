"""Hot reload: load the model the source now names, off the request path, then swap it in.

The source is a bundle directory or a registry (routing.registry), whose CURRENT pointer a
background task polls. A new bundle is verified (checksums, signature), loaded and warmed up
in a worker thread while the old model keeps serving; then `app.state.model` is replaced by
one attribute assignment. A request holds the ServedModel it took at its start, so in-flight
requests finish on the old model and none fails. A bundle that fails any step is not served:
the old model stays, the reason is logged and `/readyz` reports it until a reload succeeds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool

from routing.api.served import ServedModel, warm_up
from routing.bundle import BundleError, read_manifest
from routing.registry import POINTER_FILE, is_registry, load_model, resolve_bundle_dir

__all__ = ["ModelReloader", "ReloadOutcome"]

logger = logging.getLogger("routing.service")


@dataclass(frozen=True)
class ReloadOutcome:
    """What one reload did: the version now served, the one before, and why it failed."""

    model_version: str | None
    previous_version: str | None
    reloaded: bool
    error: str | None = None


class ModelReloader:
    """Reloads `source` (a bundle directory or a registry) into an app's state on demand.

    Parameters
    ----------
    source : Path
        What the service serves: a bundle directory or a registry directory.
    signing_key : str or None
        Key the bundle's signature must match, as at start-up.
    interval : float
        Seconds between polls of a registry's CURRENT; 0 turns the watcher off.
    """

    def __init__(self, source: Path, *, signing_key: str | None, interval: float) -> None:
        self.source = Path(source)
        self.signing_key = signing_key
        self.interval = interval
        self.last_error: str | None = None
        self._lock = threading.Lock()
        self._seen_pointer: bytes | None = None

    @property
    def watches(self) -> bool:
        return self.interval > 0 and is_registry(self.source)

    def reload(self, state: Any) -> ReloadOutcome:
        """Load what the source names now and swap it in if it is another version (blocking)."""
        with self._lock:  # one reload at a time; a second caller then finds nothing to do
            served: ServedModel | None = state.model
            before = served.bundle.model_version if served else None
            try:
                directory = resolve_bundle_dir(self.source)
                version = read_manifest(directory, signing_key=self.signing_key)["model_version"]
                if version == before:
                    self.last_error = None
                    return ReloadOutcome(before, before, False)
                bundle = load_model(directory, signing_key=self.signing_key)
                warm_up(bundle)
            except Exception as exc:  # whatever went wrong, the old model keeps serving
                reason = str(exc) if isinstance(exc, BundleError) else _describe(exc)
                self.last_error = f"reload refused, still serving {before}: {reason}"
                logger.warning("model reload refused (still serving %s): %s", before, reason)
                return ReloadOutcome(before, before, False, reason)
            state.model = ServedModel.from_bundle(bundle)  # the swap: one assignment
            pool = getattr(state, "batch_pool", None)
            if pool is not None:
                pool.start(bundle)  # new batch workers load it; the old ones finish and stop
            self.last_error = None
            logger.info("model reloaded: now serving %s (was %s)", bundle.model_version, before)
            return ReloadOutcome(bundle.model_version, before, True)

    def pointer_changed(self) -> bool:
        """True when the registry's CURRENT differs from the last look (first look included)."""
        try:
            raw = (self.source / POINTER_FILE).read_bytes()
        except OSError:
            return False
        if raw == self._seen_pointer:
            return False
        self._seen_pointer = raw
        return True

    async def _watch(self, state: Any) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                if await run_in_threadpool(self.pointer_changed):
                    await run_in_threadpool(self.reload, state)
            except Exception:  # the watcher must outlive any one bad look
                logger.exception("model watcher: checking %s failed", self.source)

    @contextlib.asynccontextmanager
    async def watching(self, state: Any) -> AsyncIterator[None]:
        """Poll the registry's pointer in the background while the block runs."""
        if not self.watches:
            yield
            return
        task = asyncio.create_task(self._watch(state), name="routing-model-watcher")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def _describe(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
