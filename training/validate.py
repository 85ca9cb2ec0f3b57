"""Clean a disposition table before training and say exactly what was dropped and why.

Every dropped row is counted under one reason, checked in this order: empty text, missing label,
conflicting labels, exact duplicate, normalized duplicate. Deduplication happens here, before any
split, so that no complaint text can be both trained on and tested on. Rare agencies are kept:
the router must cope with the long tail, so they only produce a warning.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd
from rich.table import Table

from training.data import DataError, require_columns

__all__ = ["ValidationReport", "default_normalize", "validate"]

_RARE_LISTED = 10  # agencies named in the rare-agency warning; the report holds them all


@dataclass
class ValidationReport:
    """What validation found in one table; counts only, never complaint text."""

    rows_read: int
    non_utf8_rows: int
    empty_text: int
    missing_label: int
    exact_duplicates: int
    normalized_duplicates: int
    conflicting_duplicates: int
    rare_agencies: dict[str, int] = field(default_factory=dict)
    min_examples: int = 5
    rows_kept: int = 0
    n_agencies: int = 0
    longest_text: int = 0
    too_long: int = 0  # kept texts longer than the service accepts
    max_text_chars: int | None = None

    @property
    def dropped(self) -> dict[str, int]:
        """Dropped rows by reason (non-zero reasons only); sums to rows_read - rows_kept."""
        counts = {
            "empty_text": self.empty_text,
            "missing_label": self.missing_label,
            "exact_duplicates": self.exact_duplicates,
            "normalized_duplicates": self.normalized_duplicates,
            "conflicting_duplicates": self.conflicting_duplicates,
        }
        return {reason: n for reason, n in counts.items() if n}

    @property
    def warnings(self) -> list[str]:
        """Problems worth a look that did not stop training."""
        notes: list[str] = []
        if self.non_utf8_rows:
            notes.append(
                f"{self.non_utf8_rows} rows had bytes that are not valid UTF-8; they were decoded "
                "as cp1252/latin-1 and kept: check the file's encoding"
            )
        if self.conflicting_duplicates:
            notes.append(
                f"{self.conflicting_duplicates} rows share a text with rows of another agency; "
                "all copies were dropped: check the labels"
            )
        if self.too_long:
            notes.append(
                f"{self.too_long} texts are longer than the {self.max_text_chars:,} characters "
                "the service accepts (kept for training; the service refuses such a complaint)"
            )
        if self.rare_agencies:
            listed = ", ".join(
                f"{agency} ({n})" for agency, n in list(self.rare_agencies.items())[:_RARE_LISTED]
            )
            more = len(self.rare_agencies) - _RARE_LISTED
            if more > 0:
                listed += f" and {more} more"
            notes.append(
                f"{len(self.rare_agencies)} agencies have fewer than {self.min_examples} "
                f"examples (kept; their suggestions will be less reliable): {listed}"
            )
        return notes

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict, including the derived `dropped` and `warnings`."""
        data = asdict(self)
        data["dropped"] = self.dropped
        data["warnings"] = self.warnings
        return data

    def render(self) -> Table:
        """A table for the CLI: one line per check, with its count and what was done."""
        table = Table(title="Validation report")
        table.add_column("check")
        table.add_column("count", justify="right")
        table.add_column("action")
        rows = [
            ("rows read", self.rows_read, ""),
            ("non-UTF-8 bytes", self.non_utf8_rows, "kept, decoded as cp1252/latin-1"),
            ("empty or whitespace text", self.empty_text, "dropped"),
            ("missing label", self.missing_label, "dropped"),
            ("exact duplicates", self.exact_duplicates, "dropped, first copy kept"),
            ("normalized duplicates", self.normalized_duplicates, "dropped, first copy kept"),
            ("same text, conflicting labels", self.conflicting_duplicates, "dropped, all copies"),
            (
                f"agencies with < {self.min_examples} examples",
                len(self.rare_agencies),
                "kept, warning",
            ),
            ("rows kept", self.rows_kept, ""),
            ("agencies", self.n_agencies, ""),
            ("longest text (characters)", self.longest_text, ""),
            ("longer than the service accepts", self.too_long, "kept, warning"),
        ]
        for check, count, action in rows:
            table.add_row(check, f"{count:,}", action if count else "")
        return table


def default_normalize(text: str) -> str:
    """Collapse whitespace and casefold: the duplicate key when no normalizer is given."""
    return " ".join(text.split()).casefold()


def validate(
    frame: pd.DataFrame,
    text_col: str,
    label_col: str,
    *,
    id_col: str | None = None,
    min_examples: int = 5,
    normalize: Callable[[str], str] | None = None,
    non_utf8_rows: int = 0,
    max_text_chars: int | None = None,
) -> tuple[pd.DataFrame, ValidationReport]:
    """Return the clean rows (columns "text", "agency", "id") and a report of what was dropped.

    Texts are kept raw; `normalize` only builds the key for duplicate detection. Labels are
    stripped of surrounding whitespace. Ids come from `id_col`, or are the 0-based input row
    number. Input order is kept. Kept texts longer than `max_text_chars` are counted. Raises
    `DataError` when a column is missing, when no text has a letter (a column of numbers or
    codes), when no rows are left, or when fewer than 2 agencies remain.
    """
    if min_examples < 0:
        raise ValueError(f"min_examples must be >= 0, got {min_examples}")
    require_columns(frame, [text_col, label_col] + ([id_col] if id_col else []), None)
    normalize = normalize or default_normalize

    texts = [_as_text(v) for v in frame[text_col].tolist()]
    labels = [_as_text(v).strip() for v in frame[label_col].tolist()]
    if id_col:
        ids = [_as_text(v) for v in frame[id_col].tolist()]
    else:
        ids = [str(i) for i in range(len(frame))]

    has_text = [i for i in range(len(texts)) if texts[i].strip()]
    if has_text and not any(c.isalpha() for i in has_text for c in texts[i]):
        raise DataError(
            f"column {text_col!r} has no letters in any row: numbers or codes, not complaint texts"
        )
    has_label = [i for i in has_text if labels[i]]

    keys = {i: normalize(texts[i]) for i in has_label}
    labels_by_key: dict[str, set[str]] = {}
    for i in has_label:
        labels_by_key.setdefault(keys[i], set()).add(labels[i])
    consistent = [i for i in has_label if len(labels_by_key[keys[i]]) == 1]

    seen_pairs: set[tuple[str, str]] = set()
    unique_exact: list[int] = []
    for i in consistent:
        pair = (texts[i], labels[i])
        if pair not in seen_pairs:
            seen_pairs.add(pair)
            unique_exact.append(i)
    seen_keys: set[str] = set()
    kept: list[int] = []
    for i in unique_exact:
        if keys[i] not in seen_keys:
            seen_keys.add(keys[i])
            kept.append(i)

    clean = pd.DataFrame(
        {
            "text": pd.Series([texts[i] for i in kept], dtype=object),
            "agency": pd.Series([labels[i] for i in kept], dtype=object),
            "id": pd.Series([ids[i] for i in kept], dtype=object),
        }
    )
    counts = clean["agency"].value_counts()
    rare = {str(a): int(n) for a, n in counts.items() if n < min_examples}
    report = ValidationReport(
        rows_read=len(texts),
        non_utf8_rows=non_utf8_rows,
        empty_text=len(texts) - len(has_text),
        missing_label=len(has_text) - len(has_label),
        exact_duplicates=len(consistent) - len(unique_exact),
        normalized_duplicates=len(unique_exact) - len(kept),
        conflicting_duplicates=len(has_label) - len(consistent),
        rare_agencies=dict(sorted(rare.items(), key=lambda item: (item[1], item[0]))),
        min_examples=min_examples,
        rows_kept=len(kept),
        n_agencies=len(counts),
        longest_text=max((len(t) for t in clean["text"]), default=0),
        too_long=0
        if max_text_chars is None
        else sum(len(t) > max_text_chars for t in clean["text"]),
        max_text_chars=max_text_chars,
    )

    if not kept:
        reasons = ", ".join(f"{reason}: {n}" for reason, n in report.dropped.items())
        raise DataError(
            f"no rows left after cleaning {report.rows_read} rows ({reasons or 'no rows read'})"
        )
    if report.n_agencies < 2:
        names = ", ".join(str(a) for a in counts.index)
        raise DataError(
            f"need at least 2 agencies to train a router; found {report.n_agencies}: {names}"
        )
    return clean, report


def _as_text(value: object) -> str:
    """Cell → str; missing (None/NaN/NA) → ""; integral floats lose their ".0" (ids, codes)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        if value.is_integer():
            return str(int(value))
    return value if isinstance(value, str) else str(value)
