"""The place-finding annotation set: which LAPOR complaints to annotate, as one worksheet.

    python -m training.jurisdiction_set ../shared/data/lapor10/lapor10.csv --out WORK/sheet.csv

`annotation_sample` draws `n` complaints (400 by default) with `numpy.random.default_rng(seed)`
from the table as `routing train` reads it (deduplicated), in row order. The worksheet holds
each complaint's id and masked text with the annotator's columns empty (docs/jurisdiction-
annotation.md says how to fill them); it still holds complaint text: keep it out of the
repository. What the repository keeps is `data/jurisdiction/lapor10-places.csv`: ids as
`routing.corrections.id_digest`, codes, no text.

A later round leaves out the complaints already annotated: `--exclude-annotated FILE` (an
annotation file, repeatable) leaves out every complaint it names. `--exclude-seed S` leaves out
what seed S draws from the whole table, which is an earlier round's set only when that round
itself excluded nothing (round 1): rounds 3 to 5 were drawn that way and share some complaints
with the rounds before them (`benchmarks/jurisdiction.py` reports them apart).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from routing.corrections import id_digest, read_csv, write_csv
from routing.text import mask_personal_data
from training.pipeline import load_training_data

__all__ = ["ANNOTATION_COLUMNS", "annotated_rows", "annotation_sample"]

# status: place | none | ambiguous (docs/jurisdiction-annotation.md)
ANNOTATION_COLUMNS = ("id", "status", "code", "candidates", "annotator", "note")


def annotation_sample(
    n_rows: int, n: int = 400, seed: int = 0, exclude: np.ndarray | None = None
) -> np.ndarray:
    """Positions of the `n` complaints to annotate among `n_rows`, ascending.

    `exclude` (positions) are never drawn: a later round stays disjoint from an earlier one.
    """
    rng = np.random.default_rng(seed)
    pool = np.setdiff1d(np.arange(n_rows), exclude) if exclude is not None else n_rows
    size = min(n, n_rows if exclude is None else len(pool))
    return np.sort(rng.choice(pool, size=size, replace=False))


def annotated_rows(ids: pd.Series, files: Sequence[Path]) -> np.ndarray:
    """Positions of the complaints (`ids`, as the table has them) that the annotation `files`
    name by `id_digest`."""
    named: set[str] = set()
    for path in files:
        frame = read_csv(path)
        if "id" not in frame.columns:
            raise SystemExit(f"{path}: no id column; columns are {', '.join(frame.columns)}")
        named |= set(frame["id"])
    return np.flatnonzero(ids.astype(str).map(id_digest).isin(named).to_numpy())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", type=Path, help="disposition table (CSV, JSONL or Parquet)")
    parser.add_argument("--out", type=Path, required=True, help="the worksheet (CSV) to write")
    parser.add_argument("--text-col", default="text")
    parser.add_argument("--label-col", default="agency")
    parser.add_argument("--id-col", default="id")
    parser.add_argument("--n", type=int, default=400, help="complaints to draw")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--exclude-seed",
        type=int,
        action="append",
        default=[],
        help="leave out the complaints this seed draws (with --n) from the whole table; repeatable",
    )
    parser.add_argument(
        "--exclude-annotated",
        type=Path,
        action="append",
        default=[],
        help="leave out the complaints an annotation file names (ids as id_digest); repeatable",
    )
    args = parser.parse_args(argv)

    data = load_training_data(args.data, args.text_col, args.label_col, id_col=args.id_col)
    frame = data.frame
    earlier = [annotation_sample(len(frame), args.n, seed) for seed in args.exclude_seed]
    if args.exclude_annotated:
        earlier.append(annotated_rows(frame[args.id_col], args.exclude_annotated))
    # no exclusion at all draws from the row count, as round 1 did: the same seed, the same set
    exclude = np.concatenate(earlier) if earlier else None
    rows = annotation_sample(len(frame), args.n, args.seed, exclude)
    sheet = pd.DataFrame(
        {
            "id": frame[args.id_col].astype(str).to_numpy()[rows],
            "text": [mask_personal_data(str(frame[args.text_col].iloc[r])) for r in rows],
        }
    )
    for column in ANNOTATION_COLUMNS[1:]:
        sheet[column] = ""
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_csv(sheet, args.out)
    print(f"{len(sheet)} complaints → {args.out}")


if __name__ == "__main__":
    main()
