"""`routing split`: a data file → a training file and a held-out test file, honestly apart.

Deduplicated first (validation's rules: empty texts, missing labels and duplicates under the
duplicate normalization are dropped), then split stratified by agency with complaints
identical but for their numbers on one side (`training.split`), fixed by the seed. The files
keep the input's columns and format, so `routing train` and `routing evaluate` read them as
they would the input.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from routing.text import near_duplicate_groups
from training.data import read_table, require_columns, write_table
from training.pipeline import duplicate_key
from training.split import train_test_split_stratified
from training.validate import ValidationReport, validate

__all__ = ["SplitFiles", "split_file"]


@dataclass(frozen=True)
class SplitFiles:
    """Where the two files went and how many rows each holds."""

    train: Path
    test: Path
    train_rows: int
    test_rows: int
    repeated_ids: int  # rows dropped because an earlier kept row had the same id
    report: ValidationReport


def split_file(
    path: str | Path,
    text_col: str,
    label_col: str,
    out_dir: str | Path,
    *,
    id_col: str | None = None,
    test_size: float = 0.2,
    seed: int = 0,
    format: str | None = None,
) -> SplitFiles:
    """Write `out_dir/train.<ext>` and `out_dir/test.<ext>` from the table at `path`.

    With `id_col`, a row whose id repeats an earlier kept row's is dropped too: one complaint
    must not sit on both sides.
    """
    table = read_table(path, format=format)
    require_columns(table.frame, [text_col, label_col, *([id_col] if id_col else [])], path)
    # without id_col, validation's ids are the input's row numbers: what is written below
    clean, report = validate(
        table.frame, text_col, label_col, min_examples=1, normalize=duplicate_key()
    )
    rows = clean["id"].astype(int).to_numpy()
    repeated = 0
    if id_col:
        ids = table.frame[id_col].iloc[rows].astype(str).str.strip()
        first = ~ids.duplicated().to_numpy()
        repeated = int((~first).sum())
        clean, rows = clean[first], rows[first]
    train, test = train_test_split_stratified(
        clean["agency"].tolist(),
        test_size=test_size,
        seed=seed,
        groups=near_duplicate_groups(clean["text"].tolist()),
    )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    suffix = table.path.suffix.lower() or f".{format}"  # a suffix-less file needs --format
    written = []
    for name, part in (("train", train), ("test", test)):
        target = out / f"{name}{suffix}"
        write_table(table.frame.iloc[np.sort(rows[part])], target, format=format)
        written.append(target)
    return SplitFiles(written[0], written[1], len(train), len(test), repeated, report)
