"""Masking benchmark: how long `find_personal_data` takes on complaints and on hostile texts.

    python benchmarks/masking.py                # sample corpus, LAPOR-10 when present
    python benchmarks/masking.py --repeats 5 --no-results

Times the scan on every complaint of data/sample/complaints.csv (and of LAPOR-10 when
../shared/data is there), then on 20,000-character texts built to make a careless regex
backtrack (digits between separators, endless "(at)" and "(dot)", "rek" over and over). The
scan is called uncached, so every repeat scans again. Prints Markdown tables and writes them to
benchmarks/results/masking.md (`benchmarks/record.py`); no complaint text is printed.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.record import add_results_arguments, recorded  # noqa: E402
from routing.text import _scan  # noqa: E402  (the scan without the cache around it)

SAMPLE_DATA = ROOT / "data" / "sample" / "complaints.csv"
LAPOR10 = ROOT.parent / "shared" / "data" / "lapor10" / "lapor10.csv"
HOSTILE_CHARS = 20_000


def hostile_texts(size: int = HOSTILE_CHARS) -> dict[str, str]:
    """Texts of `size` characters that would make a backtracking pattern take quadratic or
    exponential time."""
    rng = random.Random(0)

    def repeat(unit: str) -> str:
        return (unit * (size // len(unit) + 1))[:size]

    return {
        "random digits and separators": "".join(rng.choices("0123456789 ./-()", k=size)),
        "1 / 1 / 1 ...": repeat("1 / "),
        "0 ( 0 ( ...": repeat("0 ( "),
        "(at)(at)...": repeat("(at)"),
        "a (at) a (at) ...": repeat("a (at) "),
        "x@a (dot) a (dot) ...": "x@" + repeat("a (dot) "),
        "a at a dot a at ...": repeat("a at a dot "),
        "rek 1 rek 1 ...": repeat("rek 1 "),
        "(+62 (0 (+62 ...": repeat("(+62 (0 "),
        "081234567 ... (one digit short)": repeat("081234567 "),
        "digits joined by zero-width spaces": repeat("1\u200b"),
        "full-width digits": repeat("１２ "),
        "3273/3273/...": repeat("3273/"),
    }


def best_seconds(texts: list[str], repeats: int) -> float:
    """The fastest of `repeats` scans of all `texts`."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for text in texts:
            _scan(text)
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="the fastest repeat is shown")
    add_results_arguments(parser)
    args = parser.parse_args(argv)
    with recorded("masking", argv, args.results):
        run(args)


def run(args: argparse.Namespace) -> None:
    print("| complaints | texts | median characters | µs per text | total s |")
    print("|---|---|---|---|---|")
    for name, path in [("sample corpus", SAMPLE_DATA), ("LAPOR-10", LAPOR10)]:
        if not path.exists():
            continue
        texts = pd.read_csv(path, usecols=["text"])["text"].astype(str).tolist()
        seconds = best_seconds(texts, args.repeats)
        median = statistics.median(len(text) for text in texts)
        print(
            f"| {name} | {len(texts)} | {median:.0f} | {seconds / len(texts) * 1e6:.0f} | "
            f"{seconds:.2f} |"
        )
    print()
    print(f"| hostile text ({HOSTILE_CHARS:,} characters) | ms |")
    print("|---|---|")
    for name, text in hostile_texts().items():
        print(f"| {name} | {best_seconds([text], args.repeats) * 1e3:.1f} |")


if __name__ == "__main__":
    main()
