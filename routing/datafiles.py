"""The data files people edit in ``data/``: lexicon, stop list, agency catalogue, authority rules.

A checkout reads them where they are edited, in ``data/`` at the top of the repository (an
editable install or ``PYTHONPATH`` runs the checkout's code). A wheel ships the same files
inside the package as ``routing/data/``: ``pyproject.toml`` maps that package to ``data/``, so
git holds one copy. Only the top of ``data/`` is shipped (``*.tsv``, ``*.csv``, ``*.txt``), not
``data/sample/``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

__all__ = ["DATA_DIR", "data_file", "read_table"]

_PACKAGE = Path(__file__).resolve().parent

# Decided by the layout, not per file: in a wheel a missing file fails naming the wheel's path,
# never falls back to a data/ folder that happens to sit beside the package.
DATA_DIR: Path = _PACKAGE / "data" if (_PACKAGE / "data").is_dir() else _PACKAGE.parent / "data"


def data_file(name: str) -> Path:
    """The path of the shipped data file `name`, e.g. ``data_file("agencies.csv")``."""
    return DATA_DIR / name


def read_table(
    text: str,
    required: Sequence[str],
    *,
    source: str,
    error: type[Exception],
    columns: Sequence[str] | None = None,
) -> csv.DictReader:
    """A reader of a data file's CSV text whose header (names stripped of spaces) holds every
    `required` column; else `error` names the missing ones and the file's `columns`."""
    reader = csv.DictReader(io.StringIO(text))
    header = [c.strip() for c in reader.fieldnames or []]
    missing = [c for c in required if c not in header]
    if missing:
        raise error(
            f"{source}: missing column {', '.join(missing)}; "
            f"columns are {', '.join(columns or required)}"
        )
    reader.fieldnames = header
    return reader
