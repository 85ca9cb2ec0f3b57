"""Corrected labels: reviewed verdicts on past dispositions, and the labels they give.

A *review sheet* shows a reviewer the masked complaint and two unlabelled candidates (the
recorded agency and the router's), in a seeded random order, without confidences. Blind
protocol: the reviewer writes the responsible agency in ``agency`` (any agency, not only a
candidate) and leaves ``verdict`` empty, or writes ``both`` (both candidates defensible) or
``unclear``. `resolve_review` turns a filled sheet into a *corrections table*: one row per
complaint id, no text, with a verdict among `VERDICTS`:

- ``label_right``: the recorded agency is right;
- ``label_wrong``: ``agency`` is the right one;
- ``both``: the recorded agency and ``agency`` are both defensible;
- ``unclear``: the reviewer could not tell.

Corrections change labels in three ways, each in one function here: what the router learns
(`training_labels`), what it is judged against (`evaluation_labels`) and, when retraining, how
they meet the admins' decisions (`merge_with_feedback`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from routing.csvcells import escape_formula, unescape_formula
from routing.text import mask_personal_data

__all__ = [
    "CORRECTION_COLUMNS",
    "SHEET_COLUMNS",
    "VERDICTS",
    "CorrectedLabels",
    "Corrections",
    "CorrectionsError",
    "evaluation_labels",
    "id_digest",
    "load_corrections",
    "merge_with_feedback",
    "read_csv",
    "resolve_review",
    "review_sheet",
    "training_labels",
    "write_csv",
]

VERDICTS = ("label_right", "label_wrong", "both", "unclear")
CORRECTION_COLUMNS = ("id", "verdict", "agency", "reviewer", "reviewed_at", "reason")
SHEET_COLUMNS = (
    "id",
    "text",
    "candidate_a",
    "candidate_b",
    "verdict",
    "agency",
    "reviewer",
    "reviewed_at",
    "reason",
)
MAX_LISTED = 20  # problems listed one a line before the rest are only counted


class CorrectionsError(Exception):
    """A review sheet or corrections file that cannot be used; one line per problem."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        lines = self.problems[:MAX_LISTED]
        if len(self.problems) > MAX_LISTED:
            lines.append(f"… and {len(self.problems) - MAX_LISTED} more problems")
        super().__init__("\n".join(lines))


# --- files -------------------------------------------------------------------------------


def write_csv(frame: pd.DataFrame, path: str | Path) -> None:
    """Write a sheet or corrections table as UTF-8 CSV, formula cells escaped
    (`routing.csvcells`); `read_csv` gives it back unchanged."""
    frame.map(escape_formula).to_csv(path, index=False, encoding="utf-8")


def read_csv(path: str | Path) -> pd.DataFrame:
    """A CSV written by `write_csv` (or edited in a spreadsheet): every cell a string, empty
    cells "", escaped formula cells unescaped."""
    try:
        frame = pd.read_csv(
            path, dtype=str, keep_default_na=False, encoding="utf-8-sig", na_filter=False
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise CorrectionsError(
            [f"{path}: not a readable CSV ({' '.join(str(exc).split())})"]
        ) from None
    return frame.map(unescape_formula)


# --- review sheet ----------------------------------------------------------------------------


def review_sheet(
    ids: Sequence[Any],
    texts: Sequence[str],
    first: Sequence[str],
    second: Sequence[str],
    *,
    seed: int,
) -> pd.DataFrame:
    """A blind review sheet (`SHEET_COLUMNS`): each complaint's masked text with `first[i]`
    and `second[i]` as candidate_a/candidate_b in a seeded random order, rows shuffled by the
    same seed, the reviewer's columns empty."""
    n = len(ids)
    if not len(texts) == len(first) == len(second) == n:
        raise ValueError("ids, texts, first and second must have the same length")
    rng = np.random.default_rng(seed)
    swap = rng.random(n) < 0.5
    first_, second_ = np.asarray(first, dtype=object), np.asarray(second, dtype=object)
    sheet = pd.DataFrame(
        {
            "id": [str(i) for i in ids],
            "text": [mask_personal_data(str(t)) for t in texts],
            "candidate_a": np.where(swap, second_, first_),
            "candidate_b": np.where(swap, first_, second_),
        }
    )
    for column in SHEET_COLUMNS[4:]:
        sheet[column] = ""
    return sheet.iloc[rng.permutation(n)].reset_index(drop=True)[list(SHEET_COLUMNS)]


def resolve_review(sheet: pd.DataFrame, recorded: Mapping[str, str]) -> pd.DataFrame:
    """A corrections table (`CORRECTION_COLUMNS`) from a filled blind sheet.

    `recorded` maps each id to its recorded agency. An ``agency`` equal to the recorded one
    (or a row marked label_right) is ``label_right``; another agency is ``label_wrong`` with
    it; ``both`` gets the candidate that is not the recorded agency; ``unclear`` keeps no
    agency; explicit label_right/label_wrong rows are kept. Raises `CorrectionsError` for rows
    with neither verdict nor agency, unknown verdicts and ids not in `recorded`.
    """
    missing = sorted(set(SHEET_COLUMNS) - {"text"} - set(sheet.columns))
    if missing:
        raise CorrectionsError([f"the review sheet lacks columns {', '.join(missing)}"])
    problems: list[str] = []
    rows = []
    for row in sheet.astype(str).itertuples(index=False):
        rid, verdict, agency = row.id.strip(), row.verdict.strip().lower(), row.agency.strip()
        if rid not in recorded:
            problems.append(f"id {rid}: not among the complaints (unknown id)")
            continue
        label = recorded[rid]
        if verdict == "" and agency == "":
            problems.append(f"id {rid}: missing verdict (neither verdict nor agency filled)")
            continue
        if verdict not in ("", *VERDICTS):
            problems.append(f"id {rid}: unknown verdict {verdict!r} (use {', '.join(VERDICTS)})")
            continue
        if verdict == "both":
            others = [c.strip() for c in (row.candidate_a, row.candidate_b) if c.strip() != label]
            agency = agency if agency and agency != label else (others[0] if others else "")
            if not agency:
                problems.append(f"id {rid}: 'both' but no candidate differs from the label")
                continue
        elif verdict == "unclear":
            agency = ""
        elif verdict == "":
            verdict = "label_right" if agency == label else "label_wrong"
        rows.append((rid, verdict, agency, row.reviewer, row.reviewed_at, row.reason))
    if problems:
        raise CorrectionsError(problems)
    return pd.DataFrame(rows, columns=list(CORRECTION_COLUMNS), dtype=object)


# --- loading -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Corrections:
    """Validated corrections: the latest review of each id (`CORRECTION_COLUMNS`, reasons
    masked) and the SHA-256 of the files' bytes, in the order they were given."""

    table: pd.DataFrame
    sha256: str
    files: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.table)

    @property
    def by_id(self) -> dict[str, tuple[str, str]]:
        """id → (verdict, agency)."""
        return {
            i: (v, a)
            for i, v, a in zip(
                self.table["id"], self.table["verdict"], self.table["agency"], strict=True
            )
        }

    def reviewed_at(self) -> dict[str, pd.Timestamp]:
        """id → when it was reviewed (UTC)."""
        return dict(zip(self.table["id"], _timestamps(self.table["reviewed_at"]), strict=True))

    def subset(self, keep: Collection[str]) -> Corrections:
        """The same corrections for the ids in `keep` only."""
        table = self.table[self.table["id"].isin(set(keep))].reset_index(drop=True)
        return Corrections(table, self.sha256, self.files)

    def record(self) -> dict[str, Any]:
        """What a bundle's manifest says about them: files, checksum, verdict counts."""
        counts = self.table["verdict"].value_counts()
        return {
            "files": list(self.files),
            "sha256": self.sha256,
            "rows": len(self.table),
            "verdicts": {v: int(counts.get(v, 0)) for v in VERDICTS},
        }


def id_digest(complaint_id: str) -> str:
    """`sha256:<hex>` of a complaint id: a corrections file may name complaints this way, so
    that a file shipped apart from the data (data/corrections/) copies none of its ids."""
    return "sha256:" + hashlib.sha256(str(complaint_id).encode("utf-8")).hexdigest()


def load_corrections(
    paths: Sequence[str | Path],
    *,
    ids: Collection[str],
    labels: Collection[str],
    agency_of: Callable[[str], str] | None = None,
) -> Corrections:
    """Read and validate corrections files; the latest review of an id by ``reviewed_at``
    wins, on a tie the file named later (within a file, the later row).

    `ids` are the complaints' ids and `labels` the agencies training knows (after any
    catalogue mapping): corrections never add an agency. Raises `CorrectionsError` with one
    line per problem: a missing column, an unknown id, a missing or unknown verdict, an
    agency that is missing (label_wrong, both) or not among `labels`, a bad ``reviewed_at``.
    An id written as its `id_digest` stands for the complaint id with that digest.
    `agency_of` maps a written agency to the label training knows it as (an agency catalogue's
    `label_of`), before it is checked.
    """
    known_ids, known_labels = {str(i) for i in ids}, set(labels)
    by_digest: dict[str, str] | None = None  # built only when a file names digests
    problems: list[str] = []
    digest = hashlib.sha256()
    frames = []
    for order, path in enumerate(map(Path, paths)):
        try:
            digest.update(path.read_bytes())
        except OSError as exc:
            raise CorrectionsError([f"{path}: cannot read ({exc.strerror or exc})"]) from None
        frame = read_csv(path)
        missing = [c for c in CORRECTION_COLUMNS if c not in frame.columns]
        if missing:
            problems.append(f"{path}: lacks columns {', '.join(missing)}")
            continue
        frame = frame[list(CORRECTION_COLUMNS)].map(str.strip)
        frame["verdict"] = frame["verdict"].str.lower()
        if agency_of is not None:
            frame["agency"] = [agency_of(a) if a else a for a in frame["agency"]]
        if frame["id"].str.startswith("sha256:").any():
            by_digest = by_digest or {id_digest(i): i for i in known_ids}
            frame["id"] = [by_digest.get(i, i) for i in frame["id"]]
        problems += _problems(path.name, frame, known_ids, known_labels)
        frame["_when"] = _timestamps(frame["reviewed_at"])
        frame["_order"] = order
        frames.append(frame)
    if problems:
        raise CorrectionsError(problems)
    if not frames:
        table = pd.DataFrame({c: pd.Series(dtype=object) for c in CORRECTION_COLUMNS})
        return Corrections(table, digest.hexdigest(), tuple(str(p) for p in paths))
    everything = pd.concat(frames, ignore_index=True)
    latest = everything.sort_values(["_when", "_order"], kind="stable").drop_duplicates(
        "id", keep="last"
    )
    table = latest.sort_index()[list(CORRECTION_COLUMNS)].reset_index(drop=True)
    table["reason"] = [mask_personal_data(r) for r in table["reason"]]
    return Corrections(table, digest.hexdigest(), tuple(Path(p).name for p in paths))


def _problems(name: str, frame: pd.DataFrame, ids: set[str], labels: set[str]) -> list[str]:
    problems = []
    for line, row in enumerate(frame.itertuples(index=False), start=2):
        where = f"{name}:{line}: id {row.id}"
        if row.id not in ids:
            problems.append(f"{where}: unknown id")
        if row.verdict == "":
            problems.append(f"{where}: missing verdict")
        elif row.verdict not in VERDICTS:
            problems.append(f"{where}: unknown verdict {row.verdict!r}")
        if row.agency == "" and row.verdict in ("label_wrong", "both"):
            problems.append(f"{where}: {row.verdict} needs an agency")
        elif row.agency and row.agency not in labels:
            problems.append(
                f"{where}: agency {row.agency!r} is not among the training labels "
                "(corrections never add an agency)"
            )
        if pd.isna(_timestamp(row.reviewed_at)):
            problems.append(f"{where}: reviewed_at {row.reviewed_at!r} is not an ISO 8601 time")
    return problems


def _timestamp(value: str) -> pd.Timestamp:
    """A UTC time from ISO 8601 text (no zone: UTC); NaT when it is empty or not one."""
    try:
        return pd.to_datetime(value, utc=True, format="ISO8601") if value else pd.NaT
    except (ValueError, TypeError):
        return pd.NaT


def _timestamps(values: pd.Series) -> list[pd.Timestamp]:
    return [_timestamp(v) for v in values]


# --- applying them ---------------------------------------------------------------------------


def training_labels(
    ids: Sequence[str],
    labels: Sequence[str],
    corrections: Corrections | None,
    *,
    both: Literal["recorded", "other"] = "recorded",
) -> tuple[np.ndarray, np.ndarray]:
    """(labels to learn, rows to learn from): label_wrong rows take the corrected agency,
    unclear rows are left out, both rows keep their recorded label (``both="other"``: the
    other defensible agency)."""
    learned = np.asarray(labels, dtype=object).copy()
    keep = np.ones(len(learned), dtype=bool)
    reviewed = corrections.by_id if corrections is not None else {}
    for i, rid in enumerate(ids):
        verdict, agency = reviewed.get(str(rid).strip(), ("", ""))
        if verdict == "label_wrong" or (verdict == "both" and both == "other"):
            learned[i] = agency
        elif verdict == "unclear":
            keep[i] = False
    return learned, keep


@dataclass(frozen=True)
class CorrectedLabels:
    """Labels to judge predictions against, and how many rows the corrections touched."""

    labels: np.ndarray
    reviewed: int  # rows with a correction
    changed: int  # rows whose label differs from the recorded one
    unclear: int  # rows judged unclear (they keep their recorded label)


def evaluation_labels(
    ids: Sequence[str],
    labels: Sequence[str],
    top_agency: Sequence[str],
    corrections: Corrections | None,
) -> CorrectedLabels:
    """The corrected true labels of complaints whose top suggestions are `top_agency`.

    label_wrong → the corrected agency; both → the top suggestion when it is one of the two
    defensible agencies, else the recorded label; label_right and unclear → the recorded
    label (unclear rows are counted).
    """
    recorded = np.asarray(labels, dtype=object)
    corrected = recorded.copy()
    reviewed = corrections.by_id if corrections is not None else {}
    n_reviewed = n_unclear = 0
    for i, rid in enumerate(ids):
        verdict, agency = reviewed.get(str(rid).strip(), ("", ""))
        n_reviewed += verdict != ""
        n_unclear += verdict == "unclear"
        if verdict == "label_wrong" or (verdict == "both" and top_agency[i] == agency):
            corrected[i] = agency
    return CorrectedLabels(corrected, n_reviewed, int((corrected != recorded).sum()), n_unclear)


def merge_with_feedback(
    corrections: Corrections, decided_at: Mapping[str, pd.Timestamp]
) -> tuple[Corrections, set[str]]:
    """Corrections and admins' decisions (id → decided_at, UTC) on the same complaints: the
    later wins, a correction on a tie (corrections apply after the decisions).

    Returns the corrections that still apply and the ids whose decision a later review
    overrules (drop those decisions before merging the feedback).
    """
    reviewed = corrections.reviewed_at()
    overruled = {
        rid
        for rid, when in reviewed.items()
        if rid in decided_at and (pd.isna(decided_at[rid]) or when >= decided_at[rid])
    }
    superseded = {rid for rid in reviewed if rid in decided_at and rid not in overruled}
    return corrections.subset(set(reviewed) - superseded), overruled
