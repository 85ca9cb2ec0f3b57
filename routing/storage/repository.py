"""Reading and writing predictions and feedback: plain functions over a SQLAlchemy session.

Each write commits before it returns, so whatever the service acknowledges is on disk. Texts
and notes are always masked here, with the core's `mask_personal_data`, before they are stored:
callers pass them as they came. Only the latest feedback on a prediction counts as its
decision; earlier ones are kept as history.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Select, Subquery, case, func, insert, select, update
from sqlalchemy.orm import Session

from routing.storage.db import FeedbackRecord, PredictionRecord
from routing.suggest import Prediction
from routing.text import mask_personal_data

__all__ = [
    "EXPORT_BATCH_SIZE",
    "get_prediction",
    "iter_feedback_export",
    "latest_feedback",
    "purge_text",
    "record_feedback",
    "record_predictions",
    "stats",
    "store_predictions",
]

EXPORT_BATCH_SIZE = 1000
DECISIONS = ("auto", "review")

_T = TypeVar("_T")


def _now(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    return now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)


def _commit(session: Session, value: _T) -> _T:
    try:
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return value


def _insert(
    session: Session,
    items: Sequence[tuple[str, str | None, Prediction]],
    now: datetime | None,
    key_id: str | None,
) -> list[dict[str, Any]]:
    created_at = _now(now)
    rows = [
        {
            "id": uuid.uuid4().hex,
            "created_at": created_at,
            "complaint_id": complaint_id,
            "text_masked": mask_personal_data(text),
            "text_purged": False,
            # float(): confidences may be numpy floats, which JSON cannot hold.
            "suggestions": [
                {
                    "agency": s.agency,
                    "agency_code": s.agency_code,
                    "confidence": float(s.confidence),
                }
                for s in prediction.suggestions
            ],
            "top_agency": prediction.top.agency,
            "top_confidence": float(prediction.top.confidence),
            "decision": prediction.decision,
            "threshold": float(prediction.threshold),
            "model_version": prediction.model_version,
            "key_id": key_id,
            "reasons": prediction.reasons,
            "reason_codes": ",".join(sorted({r["code"] for r in prediction.reasons})),
            "jurisdiction": prediction.jurisdiction.code if prediction.jurisdiction else None,
        }
        for text, complaint_id, prediction in items
    ]
    if rows:
        # one multi-row INSERT, without the ORM's per-object bookkeeping
        session.execute(insert(PredictionRecord.__table__), rows)
    return _commit(session, rows)


def store_predictions(
    session: Session,
    items: Sequence[tuple[str, str | None, Prediction]],
    *,
    now: datetime | None = None,
    key_id: str | None = None,
) -> list[str]:
    """Store (raw text, complaint id, prediction) triples in one transaction, each text
    masked with `mask_personal_data`; returns their ids, in input order.

    `now` (default: the current UTC time) is the time given to all; `key_id` names the API
    key that asked (its id, never the key).
    """
    return [row["id"] for row in _insert(session, items, now, key_id)]


def record_predictions(
    session: Session,
    items: Sequence[tuple[str, str | None, Prediction]],
    *,
    now: datetime | None = None,
    key_id: str | None = None,
) -> list[PredictionRecord]:
    """`store_predictions`, returning the stored rows as (detached) records."""
    return [PredictionRecord(**row) for row in _insert(session, items, now, key_id)]


def get_prediction(session: Session, prediction_id: str) -> PredictionRecord | None:
    """The stored prediction with this id, or None."""
    return session.get(PredictionRecord, prediction_id)


def record_feedback(
    session: Session,
    *,
    prediction: PredictionRecord,
    agency: str,
    new_agency: bool = False,
    admin: str | None = None,
    note: str | None = None,
    jurisdiction: str | None = None,
    now: datetime | None = None,
    key_id: str | None = None,
) -> FeedbackRecord:
    """Store an admin's decision; it is accepted when the agency is the top suggestion.

    A later decision on the same prediction is stored beside the earlier ones and replaces
    them in `stats` and the export. The note is masked like complaint texts; `jurisdiction`
    is the Kemendagri code of the place the admin says the complaint is about; `key_id` names
    the API key that sent the decision (its id, never the key).
    """
    record = FeedbackRecord(
        id=uuid.uuid4().hex,
        prediction_id=prediction.id,
        created_at=_now(now),
        agency=agency,
        accepted=agency == prediction.top_agency,
        new_agency=new_agency,
        admin=admin,
        note=mask_personal_data(note) if note is not None else None,
        key_id=key_id,
        jurisdiction=jurisdiction,
    )
    session.add(record)
    return _commit(session, record)


def latest_feedback() -> Subquery:
    """Subquery of each prediction's latest feedback (ties broken by id, so it is one row)."""
    rank = (
        func.row_number()
        .over(
            partition_by=FeedbackRecord.prediction_id,
            order_by=(FeedbackRecord.created_at.desc(), FeedbackRecord.id.desc()),
        )
        .label("rank")
    )
    ranked = select(
        FeedbackRecord.id,
        FeedbackRecord.prediction_id,
        FeedbackRecord.created_at,
        FeedbackRecord.agency,
        FeedbackRecord.accepted,
        FeedbackRecord.jurisdiction,
        rank,
    ).subquery("ranked_feedback")
    return (
        select(
            ranked.c.id,
            ranked.c.prediction_id,
            ranked.c.created_at,
            ranked.c.agency,
            ranked.c.accepted,
            ranked.c.jurisdiction,
        )
        .where(ranked.c.rank == 1)
        .subquery("latest_feedback")
    )


def _counts(predictions: int = 0, decisions: int = 0, accepted: int = 0) -> dict[str, Any]:
    return {
        "predictions": predictions,
        "decisions": decisions,
        "accepted": accepted,
        "acceptance_rate": accepted / decisions if decisions else None,
    }


def _add(into: dict[str, dict[str, Any]], key: str, counts: tuple[int, int, int]) -> None:
    old = into.get(key, _counts())
    into[key] = _counts(*(a + b for a, b in zip(_raw(old), counts, strict=True)))


def _raw(counts: dict[str, Any]) -> tuple[int, int, int]:
    return counts["predictions"], counts["decisions"], counts["accepted"]


def _stats_query(since: datetime | None) -> Select[Any]:
    latest = latest_feedback()
    query = (
        select(
            PredictionRecord.decision,
            PredictionRecord.reason_codes,
            PredictionRecord.top_agency,
            PredictionRecord.model_version,
            func.count(PredictionRecord.id),
            func.count(latest.c.id),
            func.coalesce(func.sum(case((latest.c.accepted.is_(True), 1), else_=0)), 0),
        )
        .outerjoin(latest, latest.c.prediction_id == PredictionRecord.id)
        .group_by(
            PredictionRecord.decision,
            PredictionRecord.reason_codes,
            PredictionRecord.top_agency,
            PredictionRecord.model_version,
        )
    )
    if since is not None:
        query = query.where(PredictionRecord.created_at >= _now(since))
    return query


def stats(session: Session, *, since: datetime | None = None) -> dict[str, Any]:
    """Predictions, decisions (predictions with feedback), accepted and acceptance rate.

    Overall and split by policy decision ("auto"/"review"), reason for review (a prediction
    counts under each of its reasons), top agency and model version; `since` keeps
    predictions created at or after it. The database counts per (decision, reasons, agency,
    version) group; only those few groups are added up here.
    """
    by_decision: dict[str, dict[str, Any]] = {decision: _counts() for decision in DECISIONS}
    by_reason: dict[str, dict[str, Any]] = {}
    by_agency: dict[str, dict[str, Any]] = {}
    by_version: dict[str, dict[str, Any]] = {}
    overall: dict[str, dict[str, Any]] = {"all": _counts()}
    for decision, codes, agency, version, n_pred, n_dec, n_acc in session.execute(
        _stats_query(since)
    ):
        counts = (int(n_pred), int(n_dec), int(n_acc))
        _add(overall, "all", counts)
        _add(by_decision, decision, counts)
        for code in (codes or "").split(","):
            if code:
                _add(by_reason, code, counts)
        _add(by_agency, agency, counts)
        _add(by_version, version, counts)
    return {
        **overall["all"],
        "by_decision": by_decision,
        "by_reason": dict(sorted(by_reason.items())),
        "by_agency": dict(sorted(by_agency.items())),
        "by_model_version": dict(sorted(by_version.items())),
    }


def purge_text(session: Session, *, older_than: timedelta, now: datetime | None = None) -> int:
    """Remove complaint texts and feedback notes of predictions made before `now - older_than`.

    Decisions, agencies and counts stay, so `stats` gives the same numbers afterwards (data
    retention under UU 27/2022). Returns how many predictions lost their text in this call.
    """
    if older_than < timedelta(0):
        raise ValueError(f"older_than must not be negative, got {older_than}")
    cutoff = _now(now) - older_than
    old_ids = select(PredictionRecord.id).where(PredictionRecord.created_at < cutoff)
    try:
        purged = session.execute(
            update(PredictionRecord)
            .where(PredictionRecord.created_at < cutoff, PredictionRecord.text_purged.is_(False))
            .values(text_masked=None, text_purged=True)
            .execution_options(synchronize_session=False)
        ).rowcount
        session.execute(
            update(FeedbackRecord)
            .where(FeedbackRecord.prediction_id.in_(old_ids), FeedbackRecord.note.is_not(None))
            .values(note=None)
            .execution_options(synchronize_session=False)
        )
    except BaseException:
        session.rollback()
        raise
    # Objects already loaded in this session would still show the old text.
    session.expire_all()
    return _commit(session, int(purged))


def iter_feedback_export(session: Session, *, since: datetime | None = None) -> Iterator[dict]:
    """Each prediction's latest decision with its prediction, oldest decision first.

    `suggested_jurisdiction` is the place code the prediction found, `jurisdiction` the one
    the decision gave (None: none given).

    For the learning loop: `since` keeps decisions made at or after it. Rows are streamed from
    the database in batches, never loaded all at once.
    """
    latest = latest_feedback()
    query = (
        select(
            PredictionRecord.complaint_id,
            PredictionRecord.id,
            PredictionRecord.text_masked,
            PredictionRecord.top_agency,
            latest.c.agency,
            latest.c.accepted,
            PredictionRecord.decision,
            PredictionRecord.model_version,
            latest.c.created_at,
            PredictionRecord.created_at,
            PredictionRecord.jurisdiction,
            latest.c.jurisdiction,
        )
        .join(latest, latest.c.prediction_id == PredictionRecord.id)
        .order_by(latest.c.created_at, PredictionRecord.id)
        .execution_options(yield_per=EXPORT_BATCH_SIZE)
    )
    if since is not None:
        query = query.where(latest.c.created_at >= _now(since))
    for row in session.execute(query):
        yield {
            "complaint_id": row[0],
            "prediction_id": row[1],
            "text": row[2],
            "suggested_agency": row[3],
            "agency": row[4],
            "accepted": bool(row[5]),
            "decision": row[6],
            "model_version": row[7],
            "decided_at": row[8].isoformat(),
            "predicted_at": row[9].isoformat(),
            "suggested_jurisdiction": row[10],
            "jurisdiction": row[11],
        }
