"""Retraining: history + admins' decisions → validated data → challenger → compared with champion.

history (+ agency catalogue) ─┐
feedback export (latest decision per complaint) ─┴→ merge → validate (as `train`) → split off the
evaluation set → fit challenger → score challenger and champion on that same set → bundle with
the comparison in its manifest (what `routing promote` judges)

A decision overrides the historical label of the complaint with the same id; decisions on
complaints that are not in the history become new examples (with the export's masked text).
An agency the history never saw is only proposed: anyone with a key may send a new agency
name, so its decisions are held back until the operator accepts the name (`accept_new`) or the
agency catalogue knows it.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Collection, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from routing.authority import load_authority
from routing.bundle import Bundle
from routing.catalogue import Catalogue, LabelMapping
from routing.corrections import load_corrections, merge_with_feedback
from routing.csvcells import unescape_formula
from routing.evaluation.comparison import make_comparison, score_router
from routing.novelty import NoveltyDetector
from routing.policy import DEFAULT_BOUND_CONFIDENCE, DEFAULT_TARGET_PRECISION, Policy
from routing.registry import load_model, read_pointer
from routing.settings import MAX_TEXT_CHARS
from routing.text import near_duplicate_groups
from training.data import DataError, LoadedTable, detect_format, read_table, require_columns
from training.pipeline import (
    CorrectedTraining,
    catalogue_record,
    corrected_training,
    duplicate_key,
    fit_router,
    map_agencies,
    save_router_bundle,
)
from training.validate import ValidationReport, validate

__all__ = [
    "DEFAULT_HOLDOUT",
    "FEEDBACK_COLUMNS",
    "MergeReport",
    "RetrainResult",
    "holdout_mask",
    "latest_decisions",
    "merge_feedback",
    "retrain",
]

# Columns of `routing feedback export` that retraining needs.
FEEDBACK_COLUMNS = ("complaint_id", "prediction_id", "text", "agency", "decided_at")
DEFAULT_HOLDOUT = 0.2
# Held-out ids listed in the manifest up to this many (the manifest must stay small).
MAX_RECORDED_IDS = 50_000
Progress = Callable[[str], None]


@dataclass
class MergeReport:
    """What merging the admins' decisions into the history did (counts and agency names only)."""

    history_rows: int
    feedback_rows: int
    decisions: int
    relabelled: int
    confirmed: int
    added: int
    skipped_no_text: int
    new_agencies: list[str] = field(default_factory=list)  # accepted, now labels
    # agencies neither in the history nor accepted → their decisions, held back
    proposed_agencies: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class RetrainResult:
    bundle_path: Path
    model_version: str
    comparison: dict[str, Any]
    merge: MergeReport
    report: ValidationReport
    policy: Policy
    warnings: list[str] = field(default_factory=list)


def _cell(value: object) -> str:
    """A table cell as text: missing → "", integral floats without ".0" (ids read as numbers)."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _texts(column: pd.Series, *, strip: bool = False) -> pd.Series:
    values = [_cell(v) for v in column.tolist()]
    return pd.Series([v.strip() for v in values] if strip else values, dtype=object)


def latest_decisions(feedback: pd.DataFrame) -> pd.DataFrame:
    """The latest decision per complaint → columns key, complaint_id, text, agency, decided_at.

    A complaint is its complaint id, or its prediction id when the integration sent none.
    """
    require_columns(feedback, list(FEEDBACK_COLUMNS), None)
    frame = pd.DataFrame(
        {
            "complaint_id": _texts(feedback["complaint_id"], strip=True),
            "prediction_id": _texts(feedback["prediction_id"], strip=True),
            "text": _texts(feedback["text"]),
            "agency": _texts(feedback["agency"], strip=True),
            "decided_at": pd.to_datetime(
                [_cell(v) or None for v in feedback["decided_at"].tolist()],
                utc=True,
                format="ISO8601",
            ),
        }
    )
    frame["key"] = [
        cid or f"prediction:{pid}"
        for cid, pid in zip(frame["complaint_id"], frame["prediction_id"], strict=True)
    ]
    frame = frame[frame["agency"] != ""]
    ordered = frame.sort_values("decided_at", kind="stable", na_position="first")
    latest = ordered.drop_duplicates("key", keep="last")
    columns = ["key", "complaint_id", "text", "agency", "decided_at"]
    return latest.sort_index().reset_index(drop=True)[columns]


def merge_feedback(
    history: pd.DataFrame, decisions: pd.DataFrame, accept_new: Collection[str] = ()
) -> tuple[pd.DataFrame, MergeReport]:
    """History (columns text, agency, id) with `latest_decisions` applied → same columns.

    The decision's agency replaces the history's label of the same complaint id; other
    decisions are appended as new examples when their text was not purged. A decision for an
    agency that is neither in the history nor in `accept_new` is held back (not applied) and
    its agency listed in the report's `proposed_agencies`.
    """
    history_agencies = set(history["agency"])
    proposed = ~decisions["agency"].isin(history_agencies | set(accept_new))
    held_back = decisions.loc[proposed, "agency"].value_counts()
    decisions = decisions[~proposed]
    by_id = dict(zip(decisions["key"], decisions["agency"], strict=True))
    merged = history.copy()
    decided = merged["id"].map(by_id).astype(object)  # all missing (float) when no decision
    matched = decided.notna().to_numpy()
    changed = matched & (decided.fillna("").to_numpy(dtype=object) != merged["agency"].to_numpy())
    merged.loc[matched, "agency"] = decided[matched]
    known_ids = set(merged["id"])
    unmatched = decisions[~decisions["key"].isin(known_ids)]
    has_text = np.array([bool(str(t).strip()) for t in unmatched["text"]], dtype=bool)
    with_text = unmatched[has_text]
    added = pd.DataFrame(
        {
            "text": with_text["text"].to_numpy(dtype=object),
            "agency": with_text["agency"].to_numpy(dtype=object),
            "id": with_text["key"].to_numpy(dtype=object),
        }
    )
    merged = pd.concat([merged, added], ignore_index=True)
    report = MergeReport(
        history_rows=len(history),
        feedback_rows=0,
        decisions=len(decisions),
        relabelled=int(changed.sum()),
        confirmed=int(matched.sum() - changed.sum()),
        added=len(added),
        skipped_no_text=len(unmatched) - len(with_text),
        new_agencies=sorted(set(merged["agency"]) - history_agencies - {""}),
        proposed_agencies={str(a): int(n) for a, n in sorted(held_back.items())},
    )
    return merged, report


def holdout_mask(ids: Sequence[str], *, seed: int, fraction: float) -> np.ndarray:
    """True for complaints in the evaluation slice: a hash of (seed, id) below `fraction`.

    Hashing ids rather than shuffling rows keeps a complaint on the same side at every
    retrain, however the history grows, so successive challengers are judged on one set.
    """
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"holdout fraction must be in (0, 1), got {fraction}")
    cut = int(fraction * 2**64)
    return np.fromiter(
        (
            int.from_bytes(hashlib.sha256(f"{seed}:{i}".encode()).digest()[:8], "big") < cut
            for i in ids
        ),
        dtype=bool,
        count=len(ids),
    )


def _history(
    path: Path, text_col: str, label_col: str, id_col: str, catalogue: Catalogue | None
) -> tuple[LoadedTable, pd.DataFrame, LabelMapping | None]:
    table = read_table(path)
    require_columns(table.frame, [text_col, label_col, id_col], table.path)
    frame, mapping = table.frame, None
    if catalogue is not None:
        frame, mapping = map_agencies(frame, label_col, catalogue)
    history = pd.DataFrame(
        {
            "text": _texts(frame[text_col]),
            "agency": _texts(frame[label_col], strip=True),
            "id": _texts(frame[id_col], strip=True),
        }
    )
    return table, history, mapping


@dataclass(frozen=True)
class FeedbackFile:
    path: Path
    sha256: str
    rows: int
    non_utf8_rows: int
    decisions: pd.DataFrame


def read_feedback(path: Path, catalogue: Catalogue | None) -> FeedbackFile:
    """Read an export; one without decisions (header only, or empty) is valid: nothing to merge."""
    raw = path.read_bytes().strip() if path.is_file() else None
    if raw is not None and (not raw or (detect_format(path) == "csv" and b"\n" not in raw)):
        header = raw.decode("utf-8-sig", errors="replace")
        if header and set(FEEDBACK_COLUMNS) - {c.strip() for c in header.split(",")}:
            raise DataError(f"{path}: not a feedback export (its header lacks {FEEDBACK_COLUMNS})")
        empty = pd.DataFrame({c: pd.Series(dtype=object) for c in FEEDBACK_COLUMNS})
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        return FeedbackFile(path, digest, 0, 0, latest_decisions(empty))
    table = read_table(path)
    frame = table.frame.map(unescape_formula) if table.format == "csv" else table.frame
    try:
        decisions = latest_decisions(frame)
    except DataError as exc:
        raise DataError(f"{path}: not a feedback export ({exc})") from None
    if catalogue is not None:
        decisions, _ = map_agencies(decisions, "agency", catalogue)
    return FeedbackFile(path, table.sha256, len(table.frame), table.non_utf8_rows, decisions)


def _eval_file(
    path: Path, text_col: str, label_col: str, catalogue: Catalogue | None
) -> tuple[LoadedTable, list[str], list[str]]:
    table = read_table(path)
    require_columns(table.frame, [text_col, label_col], table.path)
    frame = table.frame
    if catalogue is not None:
        frame, _ = map_agencies(frame, label_col, catalogue)
    pairs = [
        (_cell(t), _cell(y).strip())
        for t, y in zip(frame[text_col].tolist(), frame[label_col].tolist(), strict=True)
    ]
    pairs = [(t, y) for t, y in pairs if t.strip() and y]
    if not pairs:
        raise DataError(f"{path}: no rows with both text and label to evaluate on")
    return table, [t for t, _ in pairs], [y for _, y in pairs]


def _champion(registry: Path | None, signing_key: str | None) -> Bundle | None:
    """The registry's current version, or None when there is no registry or nothing promoted."""
    if registry is None or not registry.is_dir():
        return None
    if read_pointer(registry) is None:
        return None
    return load_model(registry, signing_key=signing_key)


def _set_aside_by(champion: Bundle, eval_set: dict[str, Any]) -> bool:
    """Whether the champion kept the same held-out slice out of its training (retrain did)."""
    if eval_set["source"] != "holdout":
        return True  # a --eval file: the caller vouches that no model trained on it
    theirs = (champion.manifest.get("comparison") or {}).get("eval_set") or {}
    return (
        theirs.get("source") == "holdout"
        and theirs.get("seed") == eval_set["seed"]
        and theirs.get("fraction") == eval_set["fraction"]
    )


def _evaluation_set(
    clean: pd.DataFrame,
    key: Callable[[str], str],
    eval_path: str | Path | None,
    text_col: str,
    label_col: str,
    catalogue: Catalogue | None,
    *,
    seed: int,
    holdout: float,
) -> tuple[np.ndarray, list[str], list[str], dict[str, Any]]:
    """(rows of `clean` not to train on, evaluation texts, labels, what to record about them)."""
    if eval_path is not None:
        eval_table, eval_texts, eval_labels = _eval_file(
            Path(eval_path), text_col, label_col, catalogue
        )
        eval_keys = {key(t) for t in eval_texts}
        in_eval = np.array([key(t) in eval_keys for t in clean["text"]], dtype=bool)
        # near duplicates of evaluation complaints are not trained on either
        groups = near_duplicate_groups([*eval_texts, *clean["text"]])
        in_eval |= np.isin(groups[len(eval_texts) :], groups[: len(eval_texts)])
        eval_set: dict[str, Any] = {
            "source": "file",
            "file": eval_table.path.name,
            "sha256": eval_table.sha256,
            "n": len(eval_texts),
            "training_rows_excluded": int(in_eval.sum()),
        }
    else:
        in_eval = holdout_mask(clean["id"].tolist(), seed=seed, fraction=holdout)
        # a held-out complaint takes its near duplicates along, so none is trained on
        groups = near_duplicate_groups(clean["text"].tolist())
        in_eval = np.isin(groups, groups[in_eval])
        eval_texts = clean.loc[in_eval, "text"].tolist()
        eval_labels = clean.loc[in_eval, "agency"].tolist()
        held_ids = sorted(str(i) for i in clean.loc[in_eval, "id"])
        eval_set = {
            "source": "holdout",
            "method": "sha256(f'{seed}:{id}') below fraction, with its near duplicates",
            "seed": seed,
            "fraction": holdout,
            "n": len(eval_texts),
            "ids_sha256": hashlib.sha256("\n".join(held_ids).encode()).hexdigest(),
        }
        if len(held_ids) <= MAX_RECORDED_IDS:  # beyond, seed + fraction + hash identify them
            eval_set["ids"] = held_ids
        if not eval_texts:
            raise DataError("the held-out slice is empty: pass --eval DATA or more history")
    return in_eval, eval_texts, eval_labels, eval_set


def _training_part(corrected: CorrectedTraining, rows: np.ndarray) -> CorrectedTraining:
    """The corrected rows selected by the mask `rows`."""
    frame = corrected.frame[rows].reset_index(drop=True)
    return CorrectedTraining(frame, corrected.recorded[rows], corrected.corrections)


def retrain(
    history: str | Path,
    feedback: str | Path,
    text_col: str,
    label_col: str,
    id_col: str,
    out_dir: str | Path,
    *,
    eval_path: str | Path | None = None,
    registry: str | Path | None = None,
    agencies: str | Path | None = None,
    seed: int = 0,
    holdout: float = DEFAULT_HOLDOUT,
    target_precision: float = DEFAULT_TARGET_PRECISION,
    bound_confidence: float = DEFAULT_BOUND_CONFIDENCE,
    min_examples: int = 5,
    router_params: dict[str, Any] | None = None,
    signing_key: str | None = None,
    progress: Progress | None = None,
    accept_new_agencies: Collection[str] = (),
    corrections: Sequence[str | Path] = (),
) -> RetrainResult:
    """Train a challenger on history + feedback and compare it with the registry's champion.

    Decisions for agencies the history lacks count only for the names in
    `accept_new_agencies` and the classes of the agency catalogue (`Catalogue.labels`: codes,
    and roles of regional offices; see `merge_feedback`).

    `corrections` (reviewed corrections files, `routing.corrections`) apply after the
    feedback is merged; for a complaint with both, the later of ``decided_at`` and
    ``reviewed_at`` wins (`merge_with_feedback`). The challenger learns the corrected labels
    and its threshold counts precision against them; the evaluation set's labels are
    corrected as the training labels are (unclear complaints left out).

    The evaluation set is `eval_path` (its texts and their near duplicates are kept out of
    training), or else the complaints whose id hashes below `holdout` with `seed` (see
    `holdout_mask`) and their near duplicates, which the challenger does not train on either.
    The comparison is printed by the CLI and stored in the bundle's manifest under
    "comparison".
    """
    say = progress or (lambda _msg: None)
    # verified before anything is fitted: a champion that fails verification stops the run
    champion_bundle = _champion(Path(registry) if registry else None, signing_key)
    authority = load_authority(agencies) if agencies is not None else None
    catalogue = authority.catalogue if authority is not None else None
    say("reading history and feedback")
    history_table, history_frame, mapping = _history(
        Path(history), text_col, label_col, id_col, catalogue
    )
    feedback_file = read_feedback(Path(feedback), catalogue)
    accepted = set(accept_new_agencies) | (set(catalogue.labels()) if catalogue else set())
    decisions, reviewed = feedback_file.decisions, None
    if corrections:
        reviewed = load_corrections(
            corrections,
            ids=set(history_frame["id"]) | set(decisions["key"]),
            labels=set(history_frame["agency"]) - {""} | accepted,
            agency_of=catalogue.label_of if catalogue is not None else None,
        )
        decided_at = dict(zip(decisions["key"], decisions["decided_at"], strict=True))
        reviewed, overruled = merge_with_feedback(reviewed, decided_at)
        decisions = decisions[~decisions["key"].isin(overruled)]
    merged, merge_report = merge_feedback(history_frame, decisions, accepted)
    merge_report.feedback_rows = feedback_file.rows
    key = duplicate_key()
    clean, report = validate(
        merged,
        "text",
        "agency",
        id_col="id",
        min_examples=min_examples,
        normalize=key,
        non_utf8_rows=history_table.non_utf8_rows + feedback_file.non_utf8_rows,
        max_text_chars=MAX_TEXT_CHARS,
    )
    corrected = None
    if reviewed is not None:
        corrected = corrected_training(clean, reviewed)
        clean = corrected.frame
    in_eval, eval_texts, eval_labels, eval_set = _evaluation_set(
        clean, key, eval_path, text_col, label_col, catalogue, seed=seed, holdout=holdout
    )
    train_frame = clean[~in_eval]
    if train_frame["agency"].nunique() < 2:
        raise DataError("fewer than 2 agencies left to train on after setting the evaluation aside")
    say(f"fitting challenger on {len(train_frame)} complaints, {eval_set['n']} set aside")
    texts, labels = train_frame["text"].tolist(), train_frame["agency"].tolist()
    judged = None
    if corrected is not None:
        judged = _training_part(corrected, ~in_eval).judged_labels
    novelty = NoveltyDetector()
    router, policy, metrics = fit_router(
        texts,
        labels,
        seed=seed,
        target_precision=target_precision,
        bound_confidence=bound_confidence,
        router_params=router_params,
        novelty=novelty,
        judged_labels=judged,
    )
    say(f"scoring challenger and champion on {len(eval_texts)} complaints")
    challenger = score_router(router, policy.threshold, eval_texts, eval_labels, target_precision)
    champion = (
        None
        if champion_bundle is None
        else score_router(
            champion_bundle.router,
            champion_bundle.policy.threshold,
            eval_texts,
            eval_labels,
            target_precision,
        )
    )
    comparison = make_comparison(
        challenger,
        champion,
        champion_version=champion_bundle.model_version if champion_bundle else None,
        eval_set=eval_set,
        target_precision=target_precision,
    )
    warnings = list(report.warnings)
    if champion_bundle is not None and not _set_aside_by(champion_bundle, eval_set):
        note = (
            f"the champion {champion_bundle.model_version} did not set this held-out slice "
            "aside, so it may have trained on the evaluation complaints and its scores are "
            "flattered; bootstrap the registry with a retrained model (an empty feedback export "
            "will do) or compare on a fixed --eval set"
        )
        comparison["notes"] = [note]
        warnings.append(note)
    training: dict[str, Any] = {
        "file": history_table.path.name,
        "format": history_table.format,
        "sha256": history_table.sha256,
        "text_col": text_col,
        "label_col": label_col,
        "id_col": id_col,
        "rows_read": report.rows_read,
        "rows_used": len(train_frame),
        "validation_report": report.to_dict(),
        "feedback": {
            "file": feedback_file.path.name,
            "sha256": feedback_file.sha256,
            **merge_report.to_dict(),
        },
    }
    if agencies is not None and mapping is not None:
        training["catalogue"] = catalogue_record(agencies, mapping)
        warnings += mapping.warnings()
    if authority is not None:
        warnings += authority.warnings
    if corrected is not None:
        training["corrections"] = corrected.record("recorded")
    say("writing challenger bundle")
    bundle_path, version = save_router_bundle(
        out_dir,
        router,
        policy,
        metrics,
        labels,
        training=training,
        seed=seed,
        signing_key=signing_key,
        extra={"comparison": comparison},
        texts=texts,
        ids=train_frame["id"].tolist(),
        novelty=novelty,
        judged_labels=judged,
        authority=authority,
    )
    return RetrainResult(bundle_path, version, comparison, merge_report, report, policy, warnings)
