"""The router's out-of-fold fits as Ray tasks, for `routing audit --engine ray`.

`Router` fits its folds through joblib; here joblib's Ray backend runs each fold's fit as a
task on a Ray worker, so the router is the same code and gives the same probabilities as
with local worker processes (LinearSVC is deterministic per process, see `Router.n_jobs`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["folds_on_ray"]


@contextmanager
def folds_on_ray(workers: int) -> Iterator[None]:
    """Within the block, joblib (the router's folds) runs on `workers` Ray workers, a fold a
    task; Ray must be connected (`routing.scale.session.ray_session`)."""
    from joblib import parallel_config
    from ray.util.joblib import register_ray

    register_ray()
    # the backend starts its workers before handing out tasks: never more than the CPUs
    with parallel_config(backend="ray", n_jobs=max(1, workers)):
        yield
