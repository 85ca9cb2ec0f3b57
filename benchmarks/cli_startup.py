"""Start-up benchmark: how long `routing --help` and other instant commands take.

    python benchmarks/cli_startup.py                   # 10 runs of each command
    python benchmarks/cli_startup.py --repeats 3 --no-results

Each command runs in a fresh interpreter, as from a shell, through the same entry point as the
`routing` console script; the first row is the interpreter alone, for reference. Also counts
the modules each command leaves imported. tests/cli/test_conventions.py checks that --help
loads no model, web or database library; this measures what start-up costs. Prints a Markdown
table and writes it to benchmarks/results/cli_startup.md (`benchmarks/record.py`).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.record import add_results_arguments, recorded  # noqa: E402

# Runs `routing ARGS` as the console script does, then prints how many modules it imported.
ENTRY = """
import sys
from routing.cli import main
try:
    main()
finally:
    print(len(sys.modules), file=sys.stderr)
"""
COMMANDS = (
    ("python (interpreter alone)", None),
    ("routing --help", ["--help"]),
    ("routing --version", ["--version"]),
    ("routing train --help", ["train", "--help"]),
    ("routing serve --help", ["serve", "--help"]),
    ("routing feedback export --help", ["feedback", "export", "--help"]),
)


def run_once(args: list[str] | None) -> tuple[float, int | None]:
    """Wall seconds of one fresh run, and the modules it imported (None for the interpreter)."""
    command = [sys.executable, "-c", "pass"] if args is None else [sys.executable, "-c", ENTRY]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    start = time.perf_counter()
    proc = subprocess.run(
        [*command, *(args or [])], cwd=ROOT, env=env, capture_output=True, text=True
    )
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args or [])} failed ({proc.returncode}): {proc.stderr}")
    modules = int(proc.stderr.strip().splitlines()[-1]) if args is not None else None
    return seconds, modules


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=10, help="runs of each command")
    add_results_arguments(parser)
    args = parser.parse_args(argv)
    with recorded("cli_startup", argv, args.results):
        run(args.repeats)


def run(repeats: int) -> None:
    print(f"Fresh process per run, {repeats} runs of each command; wall-clock seconds.\n")
    print("| command | median s | min s | max s | modules imported |")
    print("|---|---:|---:|---:|---:|")
    for name, args in COMMANDS:
        runs = [run_once(args) for _ in range(repeats)]
        seconds = [s for s, _ in runs]
        modules = runs[-1][1]
        print(
            f"| `{name}` | {statistics.median(seconds):.2f} | {min(seconds):.2f} | "
            f"{max(seconds):.2f} | {'–' if modules is None else modules} |"
        )


if __name__ == "__main__":
    main()
