"""Write admins' decisions (the latest per prediction) to CSV or JSON lines for retraining.

The rows come from `repository.iter_feedback_export`: texts were masked when stored and are
empty once purged. The file is written beside its destination and renamed into place, so a
reader never sees half an export. CSV cells that a spreadsheet would run as a formula are
escaped (`routing.csvcells`); `routing retrain` reads them back unescaped.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from routing.csvcells import escape_formula
from routing.storage.repository import iter_feedback_export

__all__ = ["EXPORT_COLUMNS", "export_feedback", "export_format", "write_feedback"]

EXPORT_COLUMNS = (
    "complaint_id",
    "prediction_id",
    "text",
    "suggested_agency",
    "agency",
    "accepted",
    "decision",
    "model_version",
    "decided_at",
    "predicted_at",
    "suggested_jurisdiction",
    "jurisdiction",
)
_FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}


def export_format(path: str | Path) -> str:
    """'csv' or 'jsonl' from the file suffix; ValueError for anything else."""
    suffix = Path(path).suffix.lower()
    try:
        return _FORMATS[suffix]
    except KeyError:
        raise ValueError(
            f"cannot tell the export format from {suffix or 'no suffix'!r}: "
            f"name the file {', '.join('*' + s for s in _FORMATS)}"
        ) from None


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return escape_formula(value)


def write_feedback(rows: Iterable[dict[str, Any]], out: str | Path) -> int:
    """Write export rows to `out` (format by suffix) atomically; returns how many were written."""
    out = Path(out)
    fmt = export_format(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.partial")
    count = 0
    try:
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            if fmt == "csv":
                writer = csv.writer(fh)
                writer.writerow(EXPORT_COLUMNS)
                for row in rows:
                    writer.writerow([_csv_cell(row.get(c)) for c in EXPORT_COLUMNS])
                    count += 1
            else:
                for row in rows:
                    record = {c: row.get(c) for c in EXPORT_COLUMNS}
                    fh.write(json.dumps(record, ensure_ascii=False) + "\n")
                    count += 1
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return count


def export_feedback(session: Session, out: str | Path, *, since: datetime | None = None) -> int:
    """Export each prediction's latest decision made at or after `since` to `out`."""
    export_format(out)  # refuse a bad suffix before querying
    return write_feedback(iter_feedback_export(session, since=since), out)
