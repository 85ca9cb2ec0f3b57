"""Exporting admins' decisions: latest per prediction, masked text, CSV or JSONL by suffix."""

from __future__ import annotations

import csv
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from routing.cli import app, main
from routing.storage.db import make_engine, session_factory, upgrade
from routing.storage.feedback_export import EXPORT_COLUMNS, export_feedback
from routing.storage.repository import record_feedback, record_predictions
from routing.suggest import Prediction, Suggestion

NIK = "3204055807656587"
T0 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
runner = CliRunner()


def _prediction(top: str) -> Prediction:
    return Prediction(
        suggestions=[Suggestion(top, 0.7), Suggestion("KEMENTERIAN SOSIAL", 0.2)],
        decision="review",
        threshold=0.9,
        model_version="rt-000000000001",
    )


@pytest.fixture
def db_url(tmp_path) -> str:
    """A service database with three predictions: one corrected twice, one accepted, one open."""
    url = f"sqlite:///{tmp_path / 'service.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with session_factory(engine)() as session:
        corrected, accepted, _open = record_predictions(
            session,
            [
                (f"listrik padam NIK {NIK}", "LAPOR-1", _prediction("PT PLN (PERSERO)")),
                ("paspor belum jadi", "LAPOR-2", _prediction("DIREKTORAT JENDERAL IMIGRASI")),
                ("jalan rusak", "LAPOR-3", _prediction("PT PLN (PERSERO)")),
            ],
            now=T0,
        )
        record_feedback(session, prediction=corrected, agency="KEMENTERIAN SOSIAL", now=T0)
        record_feedback(
            session,
            prediction=corrected,
            agency="OTORITAS JASA KEUANGAN",
            new_agency=True,
            now=T0 + timedelta(days=2),
        )
        record_feedback(
            session,
            prediction=accepted,
            agency="DIREKTORAT JENDERAL IMIGRASI",
            now=T0 + timedelta(days=1),
        )
    engine.dispose()
    return url


def _export(url: str, out: Path, since: datetime | None = None) -> int:
    engine = make_engine(url)
    try:
        with session_factory(engine)() as session:
            return export_feedback(session, out, since=since)
    finally:
        engine.dispose()


def test_csv_export_holds_the_latest_decision_per_prediction_with_masked_text(db_url, tmp_path):
    out = tmp_path / "feedback.csv"
    assert _export(db_url, out) == 2
    with out.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        rows = list(reader)
    assert tuple(reader.fieldnames) == EXPORT_COLUMNS
    # oldest decision first: LAPOR-2 was decided on day 1, LAPOR-1's latest on day 2
    assert [r["complaint_id"] for r in rows] == ["LAPOR-2", "LAPOR-1"]
    accepted, corrected = rows
    assert accepted["accepted"] == "true"
    assert accepted["agency"] == accepted["suggested_agency"] == "DIREKTORAT JENDERAL IMIGRASI"
    assert corrected["agency"] == "OTORITAS JASA KEUANGAN"
    assert corrected["suggested_agency"] == "PT PLN (PERSERO)"
    assert corrected["accepted"] == "false"
    assert corrected["decision"] == "review"
    assert corrected["model_version"] == "rt-000000000001"
    assert NIK not in out.read_text(encoding="utf-8")
    assert corrected["text"].startswith("listrik padam")


def test_jsonl_export_and_since_keep_only_later_decisions(db_url, tmp_path):
    out = tmp_path / "feedback.jsonl"
    assert _export(db_url, out, since=T0 + timedelta(days=1, hours=12)) == 1
    [record] = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert set(record) == set(EXPORT_COLUMNS)
    assert record["complaint_id"] == "LAPOR-1"
    assert record["accepted"] is False
    assert datetime.fromisoformat(record["decided_at"]) == T0 + timedelta(days=2)


def test_cli_exports_by_suffix_and_filters_by_date(db_url, tmp_path):
    out = tmp_path / "out" / "feedback.jsonl"
    result = runner.invoke(
        app,
        ["feedback", "export", "--db", db_url, "--out", str(out), "--since", "2024-05-02"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert "exported 2 decisions" in result.output
    assert len(out.read_text(encoding="utf-8").splitlines()) == 2


def _main(monkeypatch, capsys, *args: str) -> tuple[int, str]:
    monkeypatch.setattr(sys, "argv", ["routing", *args])
    with pytest.raises(SystemExit) as exc:
        main()
    return exc.value.code, capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--out", "feedback.xlsx"], "cannot tell the export format"),
        (["--out", "feedback.csv", "--since", "yesterday"], "not an ISO 8601 date"),
    ],
)
def test_cli_refuses_bad_options_in_one_line(monkeypatch, capsys, db_url, tmp_path, args, message):
    args = [a if not a.startswith("feedback.") else str(tmp_path / a) for a in args]
    code, err = _main(monkeypatch, capsys, "feedback", "export", "--db", db_url, *args)
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert message in err


def test_cli_refuses_a_database_file_that_does_not_exist(monkeypatch, capsys, tmp_path):
    missing = tmp_path / "nowhere.db"
    code, err = _main(
        monkeypatch,
        capsys,
        "feedback",
        "export",
        "--db",
        f"sqlite:///{missing}",
        "--out",
        str(tmp_path / "f.csv"),
    )
    assert code == 2
    assert "database file not found" in err
    assert not missing.exists()
