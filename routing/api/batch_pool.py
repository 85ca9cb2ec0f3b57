"""Large batches on every core: a process pool whose workers hold the served bundle.

Python runs one thread at a time, so without help a batch of 1,000 complaints uses one core
however many the machine has. A `BatchPool` keeps a `concurrent.futures.ProcessPoolExecutor`
whose initializer loads the served bundle in each worker (verified as in the server, checked to
be the served version). A batch of `MIN_PARALLEL_ITEMS` or more is cut into consecutive chunks
of equal size: the calling thread computes the first, the workers the others, all with
`routing.suggest.suggest`, and the answers are joined in input order. Storage stays with the
caller.

A hot reload starts a new executor for the new bundle; the old one finishes the chunks it was
given, then stops. A batch never waits for workers that are still loading: until one holds
the bundle, or when the batch is for another version, it is computed in the calling process.
A worker that dies breaks its executor (`BrokenProcessPool`): the chunks it held are computed
in the calling process and a new executor is started.

Workers are spawned, not forked (the server has threads); each holds a copy of the model.
A server stopped by a signal it handles (SIGTERM, Ctrl-C) stops its workers; one killed
outright leaves them to its supervisor (a container or a systemd unit stops them with it).
"""

from __future__ import annotations

import itertools
import logging
import multiprocessing
import os
import threading
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from functools import partial
from multiprocessing.sharedctypes import Synchronized
from pathlib import Path
from typing import Any

import sklearn

from routing.api.served import warm_up
from routing.bundle import Bundle, BundleError
from routing.registry import load_model
from routing.suggest import Prediction, suggest

__all__ = ["MIN_PARALLEL_ITEMS", "BatchPool", "default_workers"]

logger = logging.getLogger("routing.service")

MIN_PARALLEL_ITEMS = 32  # below this, handing work to another process costs more than it saves


def default_workers() -> int:
    """One worker per CPU core the process may use, beyond the first."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(cores - 1, 0)


@dataclass(frozen=True)
class _Executor:
    """An executor whose workers load the bundle `version` from `directory`."""

    version: str
    directory: Path
    executor: ProcessPoolExecutor
    loaded: Synchronized  # how many of its workers hold the bundle


class BatchPool:
    """`workers` processes that share large batches with the calling thread.

    Parameters
    ----------
    workers : int
        Worker processes; 0 makes `suggest` a plain call in this process.
    signing_key : str or None
        Key the bundle's signature must match when a worker loads it, as in the server.
    """

    def __init__(self, workers: int, *, signing_key: str | None = None) -> None:
        if workers < 0:
            raise ValueError(f"workers must be 0 or more, got {workers}")
        self.workers = workers
        self.signing_key = signing_key
        self.restarts = 0  # executors started again after one of their workers died
        self._lock = threading.Lock()
        self._current: _Executor | None = None

    def start(self, bundle: Bundle) -> None:
        """Serve `bundle` from new workers, which load it in the background; the previous
        workers, if any, finish the chunks they were given and stop."""
        if self.workers == 0:
            return
        fresh = self._executor(bundle.path, bundle.model_version)
        with self._lock:
            replaced, self._current = self._current, fresh
        _retire(replaced)

    def ready(self, version: str) -> int:
        """Workers that hold `version` now."""
        return _ready(self._current, version)

    def suggest(
        self,
        bundle: Bundle,
        texts: Sequence[str],
        locations: Sequence[str | None] | None = None,
        **options: Any,
    ) -> list[Prediction]:
        """`routing.suggest.suggest(bundle, texts, locations=locations, **options)`, shared
        with the workers."""
        texts = list(texts)
        with self._lock:  # the executor is not shut down while chunks are handed to it
            current = self._current
            helpers = (
                _ready(current, bundle.model_version) if len(texts) >= MIN_PARALLEL_ITEMS else 0
            )
            bounds = [len(texts) * i // (helpers + 1) for i in range(helpers + 2)]
            # each chunk with its own complaints' locations
            chunks = [
                (texts[a:b], options | ({} if locations is None else {"locations": locations[a:b]}))
                for a, b in itertools.pairwise(bounds)
            ]
            futures = [_submit(current, *chunk) for chunk in chunks[1:]]
        predictions = _suggest(bundle, *chunks[0])
        for future, chunk in zip(futures, chunks[1:], strict=True):
            try:
                predictions += future.result()
            except BrokenProcessPool:  # a worker died: its chunk is answered from here
                self._restart(current)
                predictions += _suggest(bundle, *chunk)
        return predictions

    def _executor(self, directory: Path, version: str) -> _Executor:
        """A new executor whose workers start loading the bundle now."""
        context = multiprocessing.get_context("spawn")
        loaded = context.Value("i", 0)
        executor = ProcessPoolExecutor(
            self.workers,
            mp_context=context,
            initializer=_load,
            initargs=(str(directory), version, self.signing_key, loaded),
        )
        # it starts a process per call submitted, up to its size: start them all now, so that
        # they load the bundle before the first batch comes
        for _ in range(self.workers):
            executor.submit(os.getpid).add_done_callback(partial(_report, version))
        return _Executor(version, directory, executor, loaded)

    def _restart(self, broken: _Executor) -> None:
        """Replace `broken` by a new executor for the same bundle, unless another batch or a
        reload replaced it already."""
        fresh = self._executor(broken.directory, broken.version)
        with self._lock:
            if self._current is broken:
                replaced, self._current = broken, fresh
                self.restarts += 1
            else:
                replaced = fresh
        if replaced is broken:
            logger.warning("a batch worker died; batch workers started again")
        _retire(replaced)

    def close(self) -> None:
        """Stop the workers (they finish the chunks they are on)."""
        with self._lock:
            current, self._current = self._current, None
        if current is not None:
            current.executor.shutdown(wait=True, cancel_futures=True)


def _ready(current: _Executor | None, version: str) -> int:
    return current.loaded.value if current is not None and current.version == version else 0


def _retire(replaced: _Executor | None) -> None:
    if replaced is not None:
        replaced.executor.shutdown(wait=False)  # the chunks it was given still complete


def _submit(current: _Executor, texts: list[str], options: dict[str, Any]) -> Future:
    try:
        return current.executor.submit(_suggest_served, texts, options)
    except BrokenProcessPool as exc:  # noticed before the chunk was handed over
        future: Future = Future()
        future.set_exception(exc)
        return future


def _report(version: str, started: Future) -> None:
    if not started.cancelled() and started.exception() is not None:
        logger.warning("batch workers could not load %s; batches run in the server", version)


def _suggest(bundle: Bundle, texts: list[str], options: dict[str, Any]) -> list[Prediction]:
    # The inputs are the fitted model's own features and parameters: scikit-learn's checks of
    # them on each call cost time and change nothing.
    with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
        return suggest(bundle, texts, **options)


# --- in the worker process ---------------------------------------------------------------------

_served: Bundle | None = None


def _load(directory: str, version: str, signing_key: str | None, loaded: Synchronized) -> None:
    """Load and warm up the bundle in `directory`, which must be `version` (the initializer)."""
    global _served
    bundle = load_model(directory, signing_key=signing_key)
    if bundle.model_version != version:
        raise BundleError(f"{directory} holds {bundle.model_version}, expected {version}")
    warm_up(bundle)
    _served = bundle
    with loaded.get_lock():
        loaded.value += 1


def _suggest_served(texts: list[str], options: dict[str, Any]) -> list[Prediction]:
    assert _served is not None  # the initializer loaded it, or the worker exited
    return _suggest(_served, texts, options)
