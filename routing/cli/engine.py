"""`--engine local|ray` and its options, shared by predict, evaluate and audit."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer

from routing.cli.common import fail

ENGINES = ("local", "ray")

EngineOpt = typer.Option(
    "local",
    "--engine",
    metavar="ENGINE",
    help="local (this process) or ray (Ray workers: a local Ray, or the cluster at "
    "--ray-address; needs the `scale` extra). The answers are the same.",
)
RayAddressOpt = typer.Option(
    None,
    "--ray-address",
    metavar="ADDRESS",
    help="Ray cluster to run on (e.g. ray://head:10001 or auto); default: start a local Ray.",
)
NumCpusOpt = typer.Option(
    None,
    "--num-cpus",
    min=1,
    metavar="N",
    help="CPUs of the local Ray that --engine ray starts: a worker each, reading the input "
    "included (default: all of this machine's CPUs).",
)


def check_engine(engine: str, ray_address: str | None, num_cpus: int | None) -> bool:
    """Whether the run uses Ray; fails on unknown engines and options that do not apply."""
    if engine not in ENGINES:
        raise fail(f"--engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    if engine == "local" and (ray_address or num_cpus):
        raise fail("--ray-address and --num-cpus apply to --engine ray only")
    if ray_address and num_cpus:
        raise fail("--num-cpus sizes a local Ray; a cluster at --ray-address has its own CPUs")
    if engine == "ray":
        from routing.scale import RayMissing, require_ray

        try:
            require_ray()
        except RayMissing as exc:
            raise fail(str(exc)) from None
    return engine == "ray"


@contextmanager
def ray_workers(ray_address: str | None, num_cpus: int | None) -> Iterator[int]:
    """Ray connected for the block; gives the number of workers, a CPU each, to start on it:
    one per CPU of the cluster, or of the local Ray of `num_cpus` CPUs (reading the input
    claims none, `routing.scale.dataset`)."""
    from routing.scale.session import cluster_cpus, ray_session

    with ray_session(ray_address, num_cpus=num_cpus):
        yield cluster_cpus()


@contextmanager
def ray_errors() -> Iterator[None]:
    """A user error (a bad file, a missing column) raised in a Ray task leaves the block as
    itself, so the CLI prints its one line; Ray re-raises a task's exception wrapped in its own.
    """
    from routing.bundle import BundleError
    from training.data import DataError

    try:
        yield
    except Exception as exc:
        seen: BaseException | None = exc
        while seen is not None:
            if type(seen) in (DataError, BundleError):
                # Ray appends its retry advice to the message; these errors are one line
                raise type(seen)(str(seen).splitlines()[0]) from None
            seen = getattr(seen, "cause", None) or seen.__cause__
        raise
