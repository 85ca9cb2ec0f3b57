"""Large batches on every core: worker processes suggest part of each big batch.

Python runs one thread at a time, so without help a batch of 1,000 complaints uses one core
however many the machine has. A `BatchPool` keeps worker processes, each with its own copy of
the served bundle, loaded from the bundle's directory and checked against the served version.
A large batch is cut into parts by length (in characters): one for the calling thread and one
per free, ready worker, which sends its answers back in pieces; the parts come back in input
order (`suggest_parts`, so that the caller can store one while the workers compute the
next) and equal `routing.suggest.suggest` in one process. Storage stays in the server process;
each part brings its texts masked for it, masked where the part ran (that process has just
scanned them for personal data and holds the answers in its cache).

Workers are spawned, not forked (the server has threads). A worker that is still loading,
holds another version, is busy with another batch or fails is not waited for: its part is
computed in the server process, so a batch never fails or stalls because of the pool; a
worker that failed is replaced. Each worker holds a second copy of the model in memory.
"""

from __future__ import annotations

import itertools
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import sklearn

from routing.bundle import Bundle, BundleError, load_bundle
from routing.suggest import Prediction, suggest
from routing.text import mask_personal_data

__all__ = [
    "MIN_PARALLEL_ITEMS",
    "OWN_SHARE",
    "WORKER_PIECES",
    "BatchPool",
    "Part",
    "default_workers",
]

logger = logging.getLogger("routing.service")

MIN_PARALLEL_ITEMS = 32  # below this, handing work to another process costs more than it saves
# the calling thread's part, relative to a worker's. The caller also stores the batch, but a
# worker's share costs it more per complaint (texts and answers cross processes; it meets
# new words on its own): equal shares measured best on 2 cores (benchmarks/latency.py)
OWN_SHARE = 1.0
WORKER_PIECES = 2  # a worker's share comes back in this many pieces


class Part(NamedTuple):
    """Consecutive predictions of a batch, and their texts with personal data masked
    (`routing.text.mask_personal_data`), as storage wants them."""

    predictions: list[Prediction]
    masked: list[str]


def default_workers() -> int:
    """One worker per CPU core the process may use, beyond the first."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(cores - 1, 0)


def _split(texts: Sequence[str], shares: Sequence[float]) -> list[tuple[int, int]]:
    """(start, end) of consecutive slices whose total lengths are in proportion to `shares`
    (fewer slices when there are too few texts)."""
    weights = np.cumsum([len(t) + 50 for t in texts])  # + a fixed cost per complaint
    fractions = np.cumsum(shares[:-1]) / sum(shares)
    cuts = np.searchsorted(weights, weights[-1] * fractions, side="right")
    bounds = [0, *sorted({int(c) for c in cuts if 0 < c < len(texts)}), len(texts)]
    return list(itertools.pairwise(bounds))


class _Worker:
    """One worker process and what the server knows of it."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self.executor = ProcessPoolExecutor(
            max_workers=1, mp_context=context, initializer=_follow, initargs=(os.getpid(),)
        )
        self.version: str | None = None  # the bundle version it holds, once loaded
        self.loads = 0  # loads asked of it; only the latest one's end makes it ready
        self.busy = threading.Lock()

    def close(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)


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
        self.signing_key = signing_key
        self._workers = [_Worker() for _ in range(workers)]
        self._lock = threading.Lock()
        self.parts_sent = 0  # batch parts handed to workers so far

    def ready(self, version: str) -> int:
        """Workers that hold `version` now."""
        return sum(w.version == version for w in self._workers)

    def prepare(self, bundle: Bundle) -> list[Future]:
        """Have every worker load `bundle` in the background (at start-up, after a reload)."""
        return [self._load(worker, bundle) for worker in list(self._workers)]

    def _load(self, worker: _Worker, bundle: Bundle) -> Future:
        version = bundle.model_version
        worker.version = None  # no batch part goes to it until the load is done
        worker.loads += 1
        load = worker.loads
        future = worker.executor.submit(_load, str(bundle.path), version, self.signing_key)

        def loaded(done: Future) -> None:
            error = done.exception()
            if error is None:
                if worker.loads == load:  # not when a later load is queued behind this one
                    worker.version = version
                    logger.info("batch worker ready with %s", version)
            else:
                logger.warning("batch worker could not load %s: %s", version, error)

        future.add_done_callback(loaded)
        return future

    def suggest(self, bundle: Bundle, texts: Sequence[str], **options: Any) -> list[Prediction]:
        """`routing.suggest.suggest(bundle, texts, **options)`, shared with free workers."""
        parts = self.suggest_parts(bundle, texts, **options)
        return [p for part in parts for p in part.predictions]

    def suggest_parts(self, bundle: Bundle, texts: Sequence[str], **options: Any) -> Iterator[Part]:
        """`suggest` in consecutive parts, in input order, each as soon as it is ready.

        The first part is the calling thread's own (`OWN_SHARE` of a worker's): whatever the
        caller does with it (the service stores it) overlaps the workers' parts, which come
        back in `WORKER_PIECES` pieces each. Close the iterator when not reading it to the end.
        """
        texts = list(texts)
        version = bundle.model_version
        helpers: list[_Worker] = []
        if len(texts) >= MIN_PARALLEL_ITEMS:
            for worker in list(self._workers):
                if worker.version == version and worker.busy.acquire(blocking=False):
                    helpers.append(worker)
        try:
            if not helpers:
                yield _part_here(bundle, texts, options)
                return
            # each worker's share in pieces, returned one by one: the caller stores a piece
            # while the worker computes the next
            pieces = [w for w in helpers for _ in range(WORKER_PIECES)]
            parts = _split(texts, [OWN_SHARE] + [1.0 / WORKER_PIECES] * len(pieces))
            futures = [
                (worker, worker.executor.submit(_suggest, version, texts[a:b], options))
                for worker, (a, b) in zip(pieces, parts[1:], strict=False)
            ]
            with self._lock:
                self.parts_sent += len(futures)
            a, b = parts[0]
            yield _part_here(bundle, texts[a:b], options)
            for (worker, future), (a, b) in zip(futures, parts[1:], strict=False):
                yield self._collect(worker, future, bundle, texts[a:b], options)
        finally:
            for worker in helpers:
                worker.busy.release()

    def _collect(
        self,
        worker: _Worker,
        future: Future,
        bundle: Bundle,
        texts: list[str],
        options: dict[str, Any],
    ) -> Part:
        try:
            return future.result()
        except BundleError:  # it moved on to another version meanwhile: nothing is wrong
            return _part_here(bundle, texts, options)
        except Exception as exc:  # whatever happened there, the batch is answered from here
            logger.warning("batch worker failed (%s); its part ran in the server", _name(exc))
            self._replace(worker, bundle)
            return _part_here(bundle, texts, options)

    def _replace(self, worker: _Worker, bundle: Bundle) -> None:
        with self._lock:
            if worker not in self._workers:
                return
            fresh = _Worker()
            self._workers[self._workers.index(worker)] = fresh
        threading.Thread(target=worker.close, daemon=True).start()
        self._load(fresh, bundle)

    def close(self) -> None:
        """Stop the workers (they finish the part they are on)."""
        workers, self._workers = self._workers, []
        for worker in workers:
            worker.close()


def _name(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _suggest_here(bundle: Bundle, texts: list[str], options: dict[str, Any]) -> list[Prediction]:
    # The inputs are the fitted model's own features and parameters; re-validating them on
    # each call is about 0.6 ms of a single prediction, with identical results.
    with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
        return suggest(bundle, texts, **options)


def _part_here(bundle: Bundle, texts: list[str], options: dict[str, Any]) -> Part:
    predictions = _suggest_here(bundle, texts, options)
    return Part(predictions, [mask_personal_data(text) for text in texts])


# --- in the worker process ---------------------------------------------------------------------

_served: Bundle | None = None
_PARENT_CHECK_S = 1.0


def _follow(parent: int) -> None:
    """Exit when the server is gone: a killed server (SIGKILL, OOM) runs no cleanup, and the
    worker's queue would keep it waiting forever."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(_PARENT_CHECK_S)
        os._exit(0)

    threading.Thread(target=watch, name="routing-parent-watch", daemon=True).start()


def _load(directory: str, version: str, signing_key: str | None) -> str:
    """Load and warm up the bundle in `directory`, which must be `version`."""
    global _served
    from routing.api import heap
    from routing.api.reload import warm_up

    bundle = load_bundle(Path(directory), signing_key=signing_key)
    if bundle.model_version != version:
        raise BundleError(f"{directory} holds {bundle.model_version}, expected {version}")
    warm_up(bundle)
    _served = bundle
    heap.settle()
    return version


def _suggest(version: str, texts: list[str], options: dict[str, Any]) -> Part:
    if _served is None or _served.model_version != version:
        held = _served.model_version if _served is not None else "nothing"
        raise BundleError(f"worker holds {held}, not {version}")
    return _part_here(_served, texts, options)
