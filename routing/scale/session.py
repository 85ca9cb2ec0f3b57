"""Connecting to Ray: a running cluster at an address, or a local Ray started for one run."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["LOCAL_OBJECT_STORE", "ray_session", "worker_count"]

# The object store of a local Ray: Ray spills to disk beyond it, and Ray's default (a share
# of the machine's memory) would reserve memory the workers need for the model.
LOCAL_OBJECT_STORE = 512 * 1024**2


@contextmanager
def ray_session(
    address: str | None = None,
    *,
    num_cpus: int | None = None,
    object_store_memory: int = LOCAL_OBJECT_STORE,
) -> Iterator[None]:
    """Ray connected for the block: to the cluster at `address`, or to a local Ray for
    `num_cpus` workers (None: a worker per CPU of this machine, less one) that is shut down
    afterwards.

    A Ray already connected in this process (a notebook, the tests) is used as it is and left
    running.
    """
    import ray
    import ray.data

    context = ray.data.DataContext.get_current()
    # a run reports its own progress; Ray's progress lines would bury it on stderr
    context.enable_progress_bars = False
    # a worker's user error (a bad file, a missing column) reaches the driver as itself,
    # inside Ray's task error, rather than as a generic "UDF failed"
    context.raise_original_map_exception = True
    # a failed task reaches the driver as an exception, with its traceback when it is a bug:
    # Ray's log of the same failure would print it twice, and a user error's one line once
    # among dozens
    logging.getLogger("ray.data").setLevel(logging.CRITICAL)
    if ray.is_initialized():
        yield
        return
    if address:
        ray.init(address=address, log_to_driver=False, logging_level=logging.WARNING)
    else:
        ray.init(
            num_cpus=None if num_cpus is None else num_cpus + 1,
            include_dashboard=False,
            object_store_memory=object_store_memory,
            log_to_driver=False,
            logging_level=logging.WARNING,
        )
    try:
        yield
    finally:
        ray.shutdown()


def worker_count() -> int:
    """Workers to start on the connected Ray: one per CPU but one, which is left to read the
    input (Ray Data's model workers hold their CPU for the whole run, and a read that waited
    for one would wait forever)."""
    import ray

    return max(1, int(ray.cluster_resources().get("CPU", 1)) - 1)
