"""Connecting to Ray: a running cluster at an address, or a local Ray started for one run."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["LOCAL_OBJECT_STORE", "cluster_cpus", "ray_session"]

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
    """Ray connected for the block: to the cluster at `address`, or to a local Ray with
    `num_cpus` CPUs (None: all of this machine's) that is shut down afterwards.

    A Ray already connected in this process (a notebook, the tests) is used as it is and left
    running.
    """
    import ray
    import ray.data

    # a Dataset keeps the settings current when it is made: set before any is
    context = ray.data.DataContext.get_current()
    # results come back in input order
    context.execution_options.preserve_order = True
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
            num_cpus=num_cpus,
            include_dashboard=False,
            object_store_memory=object_store_memory,
            log_to_driver=False,
            logging_level=logging.WARNING,
        )
    try:
        yield
    finally:
        ray.shutdown()


def cluster_cpus() -> int:
    """CPUs of the connected Ray."""
    import ray

    return max(1, int(ray.cluster_resources().get("CPU", 1)))
