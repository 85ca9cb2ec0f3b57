import inspect
import sqlite3
import threading
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import func, select, text

from routing.places import Jurisdiction
from routing.storage.db import FeedbackRecord, session_factory
from routing.storage.repository import (
    get_prediction,
    iter_feedback_export,
    purge_text,
    record_feedback,
    record_predictions,
    stats,
    store_predictions,
)
from routing.suggest import Prediction, Suggestion
from routing.text import mask_personal_data

NIK = "3201234567890001"
PHONE = "081234567890"
T0 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def sessions(migrated):
    return session_factory(migrated)


def _prediction(
    top: str = "PUPR",
    decision: str = "auto",
    version: str = "v1",
    confidence: float = 0.9,
    reasons: list[dict] | None = None,
) -> Prediction:
    others = [a for a in ("PUPR", "PLN", "BPJS") if a != top]
    if reasons is None:  # a review always has a reason
        low = {"code": "low_confidence", "confidence": confidence, "threshold": 0.8}
        reasons = [] if decision == "auto" else [low]
    return Prediction(
        suggestions=[
            Suggestion(top, confidence),
            Suggestion(others[0], (1 - confidence) * 0.75),
            Suggestion(others[1], (1 - confidence) * 0.25),
        ],
        decision=decision,
        threshold=0.8,
        model_version=version,
        reasons=reasons,
    )


def _record(sessions, *predictions: Prediction, now: datetime = T0):
    with sessions() as session:
        return record_predictions(
            session, [(f"keluhan {i}", f"C{i}", p) for i, p in enumerate(predictions)], now=now
        )


def _feedback(sessions, prediction, agency: str, *, now: datetime, **kwargs):
    with sessions() as session:
        return record_feedback(session, prediction=prediction, agency=agency, now=now, **kwargs)


def _raw_rows(engine, tmp_path) -> str:
    """Every stored row as text, read past SQLAlchemy (plain sqlite3 for the SQLite file)."""
    if engine.dialect.name == "sqlite":
        with sqlite3.connect(tmp_path / "routing.db") as plain:
            return "\n".join(plain.iterdump())
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT p::text FROM predictions p")).all()
        rows += connection.execute(text("SELECT f::text FROM feedback f")).all()
    return "\n".join(row[0] for row in rows)


def test_recorded_predictions_read_back_unchanged(sessions):
    prediction = _prediction(confidence=np.float64(0.9))
    with sessions() as session:
        records = record_predictions(
            session, [("jalan rusak", "C1", prediction), ("lampu mati", None, _prediction("PLN"))]
        )
    assert len(records) == 2
    assert len({r.id for r in records}) == 2
    with sessions() as session:
        stored = get_prediction(session, records[0].id)
        assert get_prediction(session, "0" * 32) is None
    assert uuid.UUID(stored.id).hex == stored.id  # 32 hex digits
    assert uuid.UUID(stored.id).version == 4
    assert stored.complaint_id == "C1"
    assert stored.text_masked == "jalan rusak"
    assert stored.text_purged is False
    assert stored.suggestions == [
        {"agency": s.agency, "agency_code": None, "confidence": pytest.approx(s.confidence)}
        for s in prediction.suggestions
    ]
    assert (stored.top_agency, stored.top_confidence) == ("PUPR", pytest.approx(0.9))
    assert (stored.decision, stored.threshold, stored.model_version) == ("auto", 0.8, "v1")
    assert (stored.reasons, stored.reason_codes) == ([], "")
    assert stored.created_at.tzinfo is not None
    assert abs(datetime.now(UTC) - stored.created_at) < timedelta(minutes=1)


def test_reasons_are_stored_with_the_prediction(sessions):
    reasons = [
        {"code": "out_of_scope", "score": 0.7, "cutoff": 0.3},
        {"code": "low_confidence", "confidence": 0.4, "threshold": 0.8},
    ]
    [record] = _record(sessions, _prediction(decision="review", reasons=reasons))
    with sessions() as session:
        stored = get_prediction(session, record.id)
    assert stored.reasons == reasons
    assert stored.reason_codes == "low_confidence,out_of_scope"


def test_a_large_batch_gets_distinct_random_ids_and_exact_suggestions(sessions):
    odd = Prediction(
        suggestions=[
            Suggestion("Dinas Pendidikan – Kab. Bantaeng ü", 0.1 + 0.2),
            Suggestion("PLN", 5e-324, agency_code="PLN"),
        ],
        decision="review",
        threshold=0.8,
        model_version="v1",
    )
    items = [(f"keluhan {i}", None, odd if i == 7 else _prediction()) for i in range(1000)]
    with sessions() as session:
        ids = store_predictions(session, items)
    assert len(set(ids)) == 1000
    parsed = [uuid.UUID(i) for i in ids]
    assert {u.version for u in parsed} == {4}
    assert {u.variant for u in parsed} == {uuid.RFC_4122}
    assert [u.hex for u in parsed] == ids
    with sessions() as session:
        stored = get_prediction(session, ids[7])
    # JSON keeps the name and every float exactly (not rounded, not escaped away)
    assert stored.suggestions == [
        {
            "agency": "Dinas Pendidikan – Kab. Bantaeng ü",
            "agency_code": None,
            "confidence": 0.1 + 0.2,
        },
        {"agency": "PLN", "agency_code": "PLN", "confidence": 5e-324},
    ]


def test_predictions_are_stored_in_input_order_with_one_time(sessions):
    items = [
        ("jalan rusak", "C1", _prediction()),
        ("lampu mati", "C2", _prediction("PLN")),
        (f"NIK {NIK} banjir", "C3", _prediction("BPJS", decision="review")),
    ]
    with sessions() as session:
        ids = store_predictions(session, items, now=T0)
    assert len(set(ids)) == 3
    with sessions() as session:
        stored = [get_prediction(session, i) for i in ids]
    assert [(r.complaint_id, r.top_agency) for r in stored] == [
        ("C1", "PUPR"),
        ("C2", "PLN"),
        ("C3", "BPJS"),
    ]
    assert stored[2].text_masked == "NIK [NIK] banjir"
    assert all(r.created_at == T0 for r in stored)


def test_every_stored_text_is_masked_whatever_the_caller_passes(sessions):
    assert "masked" not in inspect.signature(store_predictions).parameters
    assert "masked" not in inspect.signature(record_predictions).parameters
    already = mask_personal_data(f"NIK {NIK} banjir")
    with sessions() as session:
        [kept, raw] = store_predictions(
            session, [(already, "C1", _prediction()), (f"apa adanya {PHONE}", "C2", _prediction())]
        )
    with sessions() as session:
        assert get_prediction(session, kept).text_masked == "NIK [NIK] banjir"
        assert get_prediction(session, raw).text_masked == "apa adanya [TELEPON]"


def test_personal_data_is_never_stored(migrated, sessions, tmp_path):
    raw = f"NIK saya {NIK}, hubungi {PHONE}, listrik padam"
    with sessions() as session:
        [record] = record_predictions(session, [(raw, "C1", _prediction())])
    _feedback(sessions, record, "PLN", now=T0, note=f"warga {NIK} telp {PHONE}")
    with sessions() as session:
        stored = get_prediction(session, record.id)
        note = session.scalar(select(FeedbackRecord.note))
    assert stored.text_masked == "NIK saya [NIK], hubungi [TELEPON], listrik padam"
    assert note == "warga [NIK] telp [TELEPON]"
    dump = _raw_rows(migrated, tmp_path)
    assert "listrik padam" in dump  # the dump does hold the stored rows
    assert NIK not in dump
    assert PHONE not in dump


def test_feedback_is_accepted_only_for_the_top_suggestion(sessions):
    [record] = _record(sessions, _prediction("PUPR"))
    accepted = _feedback(sessions, record, "PUPR", now=T0, admin="budi")
    rejected = _feedback(sessions, record, "PLN", now=T0 + timedelta(minutes=1), new_agency=True)
    assert (accepted.accepted, accepted.new_agency, accepted.admin) == (True, False, "budi")
    assert (rejected.accepted, rejected.new_agency, rejected.admin) == (False, True, None)
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(FeedbackRecord)) == 2


def test_only_the_latest_feedback_counts(sessions):
    first, second = _record(sessions, _prediction("PUPR"), _prediction("PUPR"))
    # Stored out of time order: the later decision must win, not the last-written one.
    _feedback(sessions, first, "PUPR", now=T0 + timedelta(hours=2))
    _feedback(sessions, first, "PLN", now=T0 + timedelta(hours=1))
    _feedback(sessions, second, "PUPR", now=T0 + timedelta(hours=1))
    _feedback(sessions, second, "PLN", now=T0 + timedelta(hours=2))
    with sessions() as session:
        result = stats(session)
        exported = {row["prediction_id"]: row["agency"] for row in iter_feedback_export(session)}
    assert (result["decisions"], result["accepted"]) == (2, 1)
    assert exported == {first.id: "PUPR", second.id: "PLN"}


@pytest.fixture
def hand_built(sessions):
    """Six predictions over two versions, four of them decided; numbers in the tests below."""
    p1, p2, p3, p4 = _record(
        sessions,
        _prediction("PUPR", "auto", "v1"),
        _prediction("PUPR", "auto", "v1"),
        _prediction("PUPR", "auto", "v1"),
        _prediction(
            "PLN",
            "review",
            "v1",
            reasons=[
                {"code": "low_confidence", "confidence": 0.5, "threshold": 0.8},
                {"code": "ambiguous", "agencies": ["PLN", "PUPR"]},
            ],
        ),
    )
    p5, p6 = _record(
        sessions,
        _prediction("PUPR", "review", "v2"),
        _prediction("PUPR", "review", "v2"),
        now=T0 + timedelta(days=10),
    )
    later = T0 + timedelta(days=11)
    _feedback(sessions, p1, "PUPR", now=later)  # accepted
    _feedback(sessions, p2, "PLN", now=later)  # rejected
    _feedback(sessions, p4, "PLN", now=later)  # accepted
    _feedback(sessions, p5, "BPJS", now=later)  # rejected, then
    _feedback(sessions, p5, "PUPR", now=later + timedelta(minutes=5))  # accepted
    return [p1, p2, p3, p4, p5, p6]


def _counts(predictions, decisions, accepted, rate):
    return {
        "predictions": predictions,
        "decisions": decisions,
        "accepted": accepted,
        "acceptance_rate": pytest.approx(rate) if rate is not None else None,
    }


def test_stats_split_by_decision_agency_and_version(sessions, hand_built):
    with sessions() as session:
        result = stats(session)
    assert result == {
        **_counts(6, 4, 3, 0.75),
        "by_decision": {"auto": _counts(3, 2, 1, 0.5), "review": _counts(3, 2, 2, 1.0)},
        "by_reason": {"ambiguous": _counts(1, 1, 1, 1.0), "low_confidence": _counts(3, 2, 2, 1.0)},
        "by_agency": {"PLN": _counts(1, 1, 1, 1.0), "PUPR": _counts(5, 3, 2, 2 / 3)},
        "by_model_version": {"v1": _counts(4, 3, 2, 2 / 3), "v2": _counts(2, 1, 1, 1.0)},
    }


def test_stats_since_keeps_later_predictions_only(sessions, hand_built):
    with sessions() as session:
        result = stats(session, since=T0 + timedelta(days=5))
    assert _counts(2, 1, 1, 1.0).items() <= result.items()
    assert result["by_decision"]["auto"] == _counts(0, 0, 0, None)
    assert list(result["by_model_version"]) == ["v2"]


def test_stats_of_an_empty_database(sessions):
    with sessions() as session:
        result = stats(session)
    assert result == {
        **_counts(0, 0, 0, None),
        "by_decision": {"auto": _counts(0, 0, 0, None), "review": _counts(0, 0, 0, None)},
        "by_reason": {},
        "by_agency": {},
        "by_model_version": {},
    }


def test_purge_removes_old_texts_and_notes_and_keeps_counts(sessions, hand_built):
    p1, p5 = hand_built[0], hand_built[4]
    now = T0 + timedelta(days=40)
    _feedback(sessions, p1, "PUPR", now=now, note="warga sudah lapor")
    _feedback(sessions, p5, "PUPR", now=now, note="benar")
    with sessions() as session:
        loaded = get_prediction(session, p1.id)
        before = stats(session)
        assert purge_text(session, older_than=timedelta(days=35), now=now) == 4
        assert loaded.text_masked is None  # objects already in the session are refreshed
        assert purge_text(session, older_than=timedelta(days=35), now=now) == 0
    with sessions() as session:
        after = stats(session)
        stored = [get_prediction(session, p.id) for p in hand_built]
        notes = dict(
            session.execute(
                select(FeedbackRecord.prediction_id, FeedbackRecord.note).where(
                    FeedbackRecord.created_at == now
                )
            ).all()
        )
    assert after == before
    assert [(r.text_masked, r.text_purged) for r in stored[:4]] == [(None, True)] * 4
    assert [(r.text_masked, r.text_purged) for r in stored[4:]] == [
        ("keluhan 0", False),
        ("keluhan 1", False),
    ]
    assert notes == {p1.id: None, p5.id: "benar"}


def test_purge_rejects_a_negative_age(sessions):
    with sessions() as session, pytest.raises(ValueError, match="negative"):
        purge_text(session, older_than=timedelta(days=-1))


def test_export_has_one_row_per_decided_prediction_in_decision_order(sessions, hand_built):
    with sessions() as session:
        rows = list(iter_feedback_export(session))
        since = list(iter_feedback_export(session, since=T0 + timedelta(days=11, minutes=1)))
    assert len(rows) == 4
    assert [r["decided_at"] for r in rows] == sorted(r["decided_at"] for r in rows)
    last = rows[-1]
    assert last == {
        "complaint_id": "C0",
        "prediction_id": last["prediction_id"],
        "text": "keluhan 0",
        "suggested_agency": "PUPR",
        "agency": "PUPR",
        "accepted": True,
        "decision": "review",
        "model_version": "v2",
        "decided_at": (T0 + timedelta(days=11, minutes=5)).isoformat(),
        "predicted_at": (T0 + timedelta(days=10)).isoformat(),
        "suggested_jurisdiction": None,
        "jurisdiction": None,
    }
    assert datetime.fromisoformat(last["decided_at"]).tzinfo is not None
    assert {(r["suggested_agency"], r["agency"], r["accepted"]) for r in rows[:3]} == {
        ("PUPR", "PUPR", True),
        ("PUPR", "PLN", False),
        ("PLN", "PLN", True),
    }
    assert since == [last]


def test_the_found_and_the_corrected_jurisdiction_are_stored_and_exported(sessions):
    place = Jurisdiction("32.73", "KOTA BANDUNG", "kabkota", "text", "Kota Bandung")
    found = replace(_prediction("PDAM"), jurisdiction=place)
    [record, nowhere] = _record(sessions, found, _prediction("PLN"))
    assert (record.jurisdiction, nowhere.jurisdiction) == ("32.73", None)
    _feedback(sessions, record, "PDAM", now=T0 + timedelta(hours=1), jurisdiction="32.04")
    _feedback(sessions, nowhere, "PLN", now=T0 + timedelta(hours=2))
    with sessions() as session:
        rows = list(iter_feedback_export(session))
    assert [(r["suggested_jurisdiction"], r["jurisdiction"]) for r in rows] == [
        ("32.73", "32.04"),
        (None, None),
    ]


def test_concurrent_feedback_writers_lose_nothing(migrated, sessions):
    [record] = _record(sessions, _prediction())
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def write(worker: int) -> None:
        barrier.wait()
        for i in range(50):
            try:
                with sessions() as session:
                    prediction = get_prediction(session, record.id)
                    record_feedback(
                        session, prediction=prediction, agency="PLN", note=f"{worker}-{i}"
                    )
            except BaseException as exc:
                errors.append(exc)

    threads = [threading.Thread(target=write, args=(worker,)) for worker in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with sessions() as session:
        notes = set(session.scalars(select(FeedbackRecord.note)))
    assert notes == {f"{worker}-{i}" for worker in range(4) for i in range(50)}
