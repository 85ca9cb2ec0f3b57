"""Batch predict, evaluate and audit on Ray (`--engine ray`): the same code and answers as the
local engine, spread over the CPUs of one machine or a cluster (docs/scale.md).

Ray is an optional extra; these modules import it when they run, never at start-up.
"""

from __future__ import annotations

from importlib.util import find_spec

__all__ = ["INSTALL_HINT", "RayMissing", "require_ray"]

INSTALL_HINT = "pip install 'routing[scale]' (or: pip install 'ray[data]')"


class RayMissing(RuntimeError):
    """`--engine ray` in an environment without Ray."""


def require_ray() -> None:
    """Raise `RayMissing`, saying how to install Ray, when it is not installed."""
    if find_spec("ray") is None or find_spec("ray.data") is None:
        raise RayMissing(f"--engine ray needs Ray, which is not installed: {INSTALL_HINT}")
