"""Retraining from feedback: latest decisions, merge into history, held-out slice, challenger."""

from __future__ import annotations

import csv
import warnings
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from routing.bundle import load_bundle, read_manifest
from routing.cli import app
from routing.registry import promote, read_pointer
from routing.storage.feedback_export import write_feedback
from training.data import DataError
from training.retrain import (
    _evaluation_set,
    holdout_mask,
    latest_decisions,
    merge_feedback,
    read_feedback,
)

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample" / "complaints.csv"
CATALOGUE = ROOT / "data" / "agencies.csv"
OJK = "OTORITAS JASA KEUANGAN"
POLRI = "KEPOLISIAN NEGARA REPUBLIK INDONESIA"
N_NEW = 12
runner = CliRunner()


def decision(complaint_id, agency, decided_at, text="", prediction_id=None, suggested="X"):
    return {
        "complaint_id": complaint_id,
        "prediction_id": prediction_id or f"p-{complaint_id}-{decided_at}",
        "text": text,
        "suggested_agency": suggested,
        "agency": agency,
        "accepted": agency == suggested,
        "decision": "review",
        "model_version": "rt-000000000001",
        "decided_at": decided_at,
        "predicted_at": "2024-05-01T00:00:00+00:00",
    }


def test_latest_decisions_keep_the_newest_per_complaint_whatever_the_file_order():
    frame = pd.DataFrame(
        [
            decision("C1", "B", "2024-05-03T10:00:00+00:00"),
            decision("C1", "A", "2024-05-02T10:00:00+00:00"),
            decision(None, "D", "2024-05-01T10:00:00+00:00", prediction_id="p9"),
            decision("C2", "", "2024-05-04T10:00:00+00:00"),  # no agency: not a decision
        ]
    )
    latest = latest_decisions(frame)
    assert dict(zip(latest["key"], latest["agency"], strict=True)) == {
        "C1": "B",
        "prediction:p9": "D",
    }


def test_merge_overrides_history_labels_and_adds_new_complaints():
    history = pd.DataFrame(
        {"text": ["t1", "t2", "t3"], "agency": ["A", "A", "B"], "id": ["1", "2", "3"]}
    )
    decisions = pd.DataFrame(
        {
            "key": ["1", "3", "9", "10"],
            "complaint_id": ["1", "3", "9", "10"],
            "text": ["masked 1", "masked 3", "new complaint [nik]", ""],
            "agency": ["C", "B", "C", "A"],
        }
    )
    merged, report = merge_feedback(history, decisions, accept_new=["C"])
    assert merged["agency"].tolist() == ["C", "A", "B", "C"]
    assert merged["text"].tolist() == ["t1", "t2", "t3", "new complaint [nik]"]  # history text kept
    assert merged["id"].tolist() == ["1", "2", "3", "9"]
    assert (report.relabelled, report.confirmed, report.added, report.skipped_no_text) == (
        1,
        1,
        1,
        1,
    )
    assert report.new_agencies == ["C"]
    assert report.proposed_agencies == {}


def test_merge_holds_back_decisions_for_agencies_nobody_accepted():
    # any key holder may send new_agency: true; the name must not become a label by itself
    history = pd.DataFrame({"text": ["t1", "t2"], "agency": ["A", "B"], "id": ["1", "2"]})
    decisions = pd.DataFrame(
        {
            "key": ["1", "9", "10", "2"],
            "complaint_id": ["1", "9", "10", "2"],
            "text": ["masked 1", "new [nik]", "other", "masked 2"],
            "agency": ["=EVIL()", "=EVIL()", "C", "A"],
        }
    )
    merged, report = merge_feedback(history, decisions, accept_new=["C"])
    # complaint 1 keeps its label, complaint 2 takes the accepted correction
    assert merged["agency"].tolist() == ["A", "A", "C"]
    assert merged["id"].tolist() == ["1", "2", "10"]
    assert report.new_agencies == ["C"]
    assert report.proposed_agencies == {"=EVIL()": 2}
    assert (report.relabelled, report.added) == (1, 1)


def test_a_csv_export_escapes_formulas_and_reads_back_to_the_same_values(tmp_path):
    hostile = ['=HYPERLINK("http://x")', "+1", "-2", "@SUM(A1)", "\tx", "\rx", "'=already", "'ok"]
    rows = [
        decision(f"C{i}", value, f"2024-05-01T00:00:0{i}+00:00", text=value)
        for i, value in enumerate(hostile)
    ]
    out = tmp_path / "feedback.csv"
    write_feedback(rows, out)
    with out.open(encoding="utf-8", newline="") as fh:
        cells = [r["agency"] for r in csv.DictReader(fh)]
    # no cell starts as a formula (an apostrophe in front, as the console's export)
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert cells[-1] == "'ok"
    decisions = read_feedback(out, None).decisions
    assert decisions["agency"].tolist() == [v.strip() for v in hostile]  # names are stripped
    assert decisions["text"].tolist() == hostile


def test_an_empty_feedback_export_leaves_the_history_as_it_is():
    # what bootstrapping a registry with `retrain` and no feedback yet does
    history = pd.DataFrame({"text": ["t1", "t2"], "agency": ["A", "B"], "id": ["1", "2"]})
    empty = pd.DataFrame(columns=["key", "complaint_id", "text", "agency"], dtype=object)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # pandas warns of what it will refuse in a later version
        merged, report = merge_feedback(history, empty)
    assert merged.to_dict("list") == history.to_dict("list")
    assert (report.relabelled, report.confirmed, report.added) == (0, 0, 0)


CAMPAIGN = "Token listrik pelanggan {} belum masuk, hp 0813{}. Mohon dibantu."


def _history_with_campaign() -> pd.DataFrame:
    """200 distinct complaints and a campaign of 20 identical but for their numbers."""
    # distinct in their letters ("hal 3" and "hal 4" would be near duplicates)
    words = ["".join(chr(ord("a") + int(d)) for d in str(i)) for i in range(200)]
    texts = [f"keluhan jalan rusak kode{w}" for w in words]
    texts += [CAMPAIGN.format(530000000 + 7 * i, 1000000 + i) for i in range(20)]
    return pd.DataFrame(
        {"text": texts, "agency": ["PU"] * 200 + ["PLN"] * 20, "id": [f"L-{i}" for i in range(220)]}
    )


def test_held_out_slice_and_eval_file_take_a_campaign_s_near_duplicates_along(tmp_path):
    clean = _history_with_campaign()
    campaign = clean["agency"].to_numpy() == "PLN"
    by_id = holdout_mask(clean["id"].tolist(), seed=0, fraction=0.2)
    assert 0 < by_id[campaign].sum() < campaign.sum()  # the ids alone would split the campaign
    in_eval, texts, _, _ = _evaluation_set(
        clean, str.lower, None, "text", "agency", None, seed=0, holdout=0.2
    )
    assert in_eval[campaign].all() and len(texts) == in_eval.sum() < len(clean)

    # one campaign complaint in an evaluation file keeps the whole campaign out of training
    eval_path = tmp_path / "eval.csv"
    clean.iloc[[0, 210]].to_csv(eval_path, index=False)
    in_eval, texts, _, record = _evaluation_set(
        clean, str.lower, eval_path, "text", "agency", None, seed=0, holdout=0.2
    )
    assert len(texts) == 2
    assert in_eval.tolist() == [True] + [False] * 199 + [True] * 20
    assert record["training_rows_excluded"] == 21


def test_holdout_is_a_fixed_function_of_seed_and_id():
    ids = [f"L-{i}" for i in range(2000)]
    mask = holdout_mask(ids, seed=3, fraction=0.2)
    assert 0.15 < mask.mean() < 0.25
    # a complaint stays on its side when the history grows or is reordered
    grown = holdout_mask([*ids[::-1], "L-new"], seed=3, fraction=0.2)
    assert (grown[:-1][::-1] == mask).all()
    assert (holdout_mask(ids, seed=4, fraction=0.2) != mask).any()
    with pytest.raises(ValueError, match="fraction"):
        holdout_mask(ids, seed=0, fraction=1.0)


def _sample_rows(agency: str, start: int, stop: int) -> list[dict[str, str]]:
    with SAMPLE.open(encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["agency"] == agency]
    return rows[start:stop]


@pytest.fixture(scope="module")
def feedback_file(tmp_path_factory, small_corpus) -> Path:
    """An export: a corrected and a confirmed history complaint, 12 complaints of a new agency."""
    first_pln, second_pln = small_corpus.ids[0], small_corpus.ids[1]
    rows = [
        decision(first_pln, POLRI, "2024-05-03T00:00:00+00:00", "masked"),
        decision(first_pln, "BPJS KESEHATAN", "2024-05-02T00:00:00+00:00", "masked"),
        decision(second_pln, small_corpus.labels[1], "2024-05-02T00:00:00+00:00", "masked"),
        decision("PURGED-1", OJK, "2024-05-04T00:00:00+00:00", ""),
    ]
    rows += [
        decision(f"NEW-{i}", OJK, f"2024-05-05T00:00:{i:02d}+00:00", r["text"])
        for i, r in enumerate(_sample_rows(OJK, 0, N_NEW))
    ]
    out = tmp_path_factory.mktemp("feedback") / "feedback.csv"
    write_feedback(rows, out)
    return out


@pytest.fixture(scope="module")
def registry(tmp_path_factory, trained_bundle) -> Path:
    root = tmp_path_factory.mktemp("registry") / "models"
    promote(root, trained_bundle)
    return root


def _retrain(out: Path, history: Path, feedback: Path, *extra) -> object:
    args = [
        "retrain",
        "--history",
        history,
        "--feedback",
        feedback,
        "--text-col",
        "text",
        "--label-col",
        "agency",
        "--id-col",
        "id",
        "--out",
        out,
        *extra,
    ]
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def test_retrain_learns_corrections_and_a_new_agency_and_records_the_comparison(
    tmp_path, small_csv, feedback_file, registry, trained_bundle
):
    champion = read_manifest(trained_bundle)["model_version"]
    out = tmp_path / "challenger"
    # labels as written, like the champion's (the shipped catalogue would know OJK)
    result = _retrain(
        out, small_csv, feedback_file, "--registry", registry, "--accept-new-agency", OJK,
        "--agencies", "none",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert f"new agencies: {OJK}" in result.output
    assert "macro-F1" in result.output and champion in result.output

    manifest = read_manifest(out)
    assert OJK in manifest["labels"]
    feedback = manifest["training_data"]["feedback"]
    assert feedback["relabelled"] == 1 and feedback["confirmed"] == 1
    assert feedback["added"] == N_NEW and feedback["skipped_no_text"] == 1
    comparison = manifest["comparison"]
    assert comparison["champion"]["model_version"] == champion
    assert set(comparison["challenger"]) >= {"macro_f1", "accuracy", "coverage", "ece"}
    eval_set = comparison["eval_set"]
    assert eval_set["source"] == "holdout" and eval_set["n"] == len(eval_set["ids"]) > 0
    # the held-out slice is not trained on
    kept = manifest["training_data"]["validation_report"]["rows_kept"]
    assert manifest["training_data"]["rows_used"] + eval_set["n"] == kept

    # promote judges the recorded comparison against the registry's current version
    promoted = runner.invoke(
        app, ["promote", str(out), "--registry", str(registry), "--tolerance", "1"]
    )
    assert promoted.exit_code == 0, promoted.output
    assert read_pointer(registry).version == manifest["model_version"]


def test_retrain_on_a_fixed_eval_set_with_a_catalogue(
    tmp_path, small_csv, heldout_csv, feedback_file
):
    # five history complaints also sit in the evaluation set: they must not be trained on
    history = pd.read_csv(small_csv, dtype=str)
    evaluation = pd.concat([pd.read_csv(heldout_csv, dtype=str), history.iloc[:5]])
    eval_path = tmp_path / "eval.csv"
    evaluation.to_csv(eval_path, index=False)
    out = tmp_path / "challenger"

    result = _retrain(
        out,
        small_csv,
        feedback_file,
        "--eval",
        eval_path,
        "--agencies",
        CATALOGUE,
        "--registry",
        tmp_path / "empty",
    )
    assert result.exit_code == 0, result.output
    manifest = read_manifest(out)
    # the Bandung water company is learned as its role
    assert manifest["labels"] == sorted(["PLN", "BPJS-KES", "IMIGRASI", "POLRI", "PDAM", "OJK"])
    comparison = manifest["comparison"]
    assert comparison["champion"] is None
    assert comparison["eval_set"]["source"] == "file"
    assert comparison["eval_set"]["training_rows_excluded"] == 5
    # the evaluation labels went through the catalogue too, or nothing would be right
    assert comparison["challenger"]["accuracy"] > 0.6
    assert manifest["training_data"]["catalogue"]["unknown"] == {}


def test_retrain_lists_a_new_agency_it_was_not_told_to_accept(tmp_path, small_csv, feedback_file):
    out = tmp_path / "challenger"
    result = _retrain(
        out, small_csv, feedback_file, "--registry", tmp_path / "empty", "--agencies", "none"
    )
    assert result.exit_code == 0, result.output
    assert f"{OJK} ({N_NEW + 1})" in result.output and "--accept-new-agency" in result.output
    manifest = read_manifest(out)
    assert OJK not in manifest["labels"]
    assert manifest["training_data"]["feedback"]["proposed_agencies"] == {OJK: N_NEW + 1}


def test_retrain_accepts_what_the_shipped_catalogue_knows_by_default(
    tmp_path, small_csv, feedback_file
):
    out = tmp_path / "challenger"
    result = _retrain(out, small_csv, feedback_file, "--registry", tmp_path / "empty")
    assert result.exit_code == 0, result.output
    manifest = read_manifest(out)
    assert "OJK" in manifest["labels"] and "PDAM" in manifest["labels"]
    assert manifest["training_data"]["feedback"]["proposed_agencies"] == {}
    assert load_bundle(out).authority is not None


def test_retrain_refuses_a_file_that_is_not_a_feedback_export(tmp_path, small_csv):
    with pytest.raises(DataError, match="not a feedback export"):
        _retrain(tmp_path / "out", small_csv, small_csv)
    assert not (tmp_path / "out").exists()
