"""The corrected-labels loop on the sample corpus, as the README runs it:
audit → review sheet → corrections resolve → train / evaluate / retrain / audit --corrections."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from routing.bundle import load_bundle
from routing.corrections import (
    CORRECTION_COLUMNS,
    SHEET_COLUMNS,
    evaluation_labels,
    id_digest,
    load_corrections,
    read_csv,
    write_csv,
)
from routing.policy import choose_threshold
from tests.cli.helpers import assert_user_error, run_main
from tests.conftest import Corpus
from tests.conftest import write_csv as write_corpus
from training.retrain import FEEDBACK_COLUMNS

COLS = ("--text-col", "text", "--label-col", "agency")
FLIPPED = range(0, 150, 15)  # every 15th complaint disposed to the next agency


@pytest.fixture(scope="module")
def mislabelled(tmp_path_factory, small_corpus) -> tuple[Path, dict[str, str]]:
    """The small corpus with some labels moved to another agency → (CSV, id → label)."""
    agencies = sorted(set(small_corpus.labels))
    labels = list(small_corpus.labels)
    for i in FLIPPED:
        labels[i] = agencies[(agencies.index(labels[i]) + 1) % len(agencies)]
    corpus = Corpus(small_corpus.texts, labels, small_corpus.ids)
    path = write_corpus(tmp_path_factory.mktemp("mislabelled") / "data.csv", corpus)
    return path, dict(zip(small_corpus.ids, labels, strict=True))


def _ok(code: int | None) -> bool:
    return code in (0, None)


def _fill(sheet: pd.DataFrame, recorded: dict[str, str]) -> pd.DataFrame:
    """A reviewer's answers: the first row `both`, the second `unclear`, the others the
    candidate that is not the recorded agency (the router's suggestion)."""
    filled = sheet.copy()
    for i, row in filled.iterrows():
        other = (
            row["candidate_b"] if row["candidate_a"] == recorded[row["id"]] else row["candidate_a"]
        )
        filled.loc[i, "verdict"] = {0: "both", 1: "unclear"}.get(i, "")
        filled.loc[i, "agency"] = "" if i < 2 else other
        filled.loc[i, "reviewer"] = "=reviewer@example"  # a formula cell on purpose
        filled.loc[i, "reviewed_at"] = "2026-01-05T10:00:00+07:00"
        filled.loc[i, "reason"] = "hubungi 081234567890"
    return filled


def test_the_corrected_labels_loop_runs_end_to_end(monkeypatch, capsys, tmp_path, mislabelled):
    data, recorded = mislabelled
    run = lambda *args: run_main(monkeypatch, capsys, *args)  # noqa: E731

    # 1. audit writes a blind review sheet of its suspects
    sheet_path = tmp_path / "review.csv"
    code, out, err = run(
        "audit", data, *COLS, "--id-col", "id", "--out", tmp_path / "suspects.csv",
        "--review-file", sheet_path,
    )  # fmt: skip
    assert _ok(code), err
    sheet = read_csv(sheet_path)
    assert tuple(sheet.columns) == SHEET_COLUMNS
    assert len(sheet) >= 3, "the flipped labels should be suspects"
    assert (sheet["verdict"] == "").all() and "review sheet of" in out
    assert all(
        recorded[i] in (a, b) for i, a, b in sheet[["id", "candidate_a", "candidate_b"]].values
    )

    # 2. a reviewer fills it; resolve turns it into a corrections file
    write_csv(_fill(sheet, recorded), sheet_path)
    corrections = tmp_path / "corrections.csv"
    code, out, err = run(
        "corrections", "resolve", sheet_path, "--data", data, "--label-col", "agency",
        "--id-col", "id", "--out", corrections,
    )  # fmt: skip
    assert _ok(code), err
    table = read_csv(corrections)
    assert tuple(table.columns) == CORRECTION_COLUMNS and "text" not in table.columns
    assert set(table["verdict"]) <= {"both", "unclear", "label_wrong", "label_right"}
    assert "both" in set(table["verdict"]) and "unclear" in set(table["verdict"])
    assert (table["reviewer"] == "=reviewer@example").all()  # read back unescaped
    assert "=reviewer" not in corrections.read_text(encoding="utf-8").replace("'=reviewer", "")

    # ... or with ids as digests (a file shipped apart from the data) meaning the same
    digested = tmp_path / "digested.csv"
    code, out, err = run(
        "corrections", "resolve", sheet_path, "--data", data, "--label-col", "agency",
        "--id-col", "id", "--out", digested, "--digest-ids",
    )  # fmt: skip
    assert _ok(code), err
    assert read_csv(digested)["id"].tolist() == table["id"].map(id_digest).tolist()
    labels = set(recorded.values())
    assert (
        load_corrections([digested], ids=recorded, labels=labels).by_id
        == load_corrections([corrections], ids=recorded, labels=labels).by_id
    )

    # 3. train with corrections: the threshold counts against corrected labels
    model = tmp_path / "model"
    code, out, err = run("train", data, *COLS, "--id-col", "id", "--out", model,
                         "--corrections", corrections)  # fmt: skip
    assert _ok(code), err
    assert "corrected labels" in out
    bundle = load_bundle(model)
    record = bundle.manifest["training_data"]["corrections"]
    loaded = load_corrections([corrections], ids=recorded, labels=set(recorded.values()))
    assert record["sha256"] == loaded.sha256 and record["threshold_labels"] == "corrected"
    assert record["rows"] == len(table)
    # the calibration scores count right against corrected labels, so retarget uses them
    unclear = set(table.loc[table["verdict"] == "unclear", "id"])
    kept = [i for i in recorded if i not in unclear]
    assert len(bundle.calibration.correct) == len(kept)
    top = bundle.router.classes_[bundle.router.oof_proba_.argmax(axis=1)]
    # trained with the shipped catalogue: labels and corrections as its classes
    label_of = bundle.authority.catalogue.label_of
    learned = load_corrections([corrections], ids=recorded, labels=set(top), agency_of=label_of)
    judged = evaluation_labels(kept, [label_of(recorded[i]) for i in kept], top, learned).labels
    np.testing.assert_array_equal(bundle.calibration.correct, top == judged)
    code, _, err = run("retarget", "--model", model, "--target-precision", "0.9")
    assert _ok(code), err
    expected = choose_threshold(bundle.calibration.confidence, top == judged, 0.9)
    assert load_bundle(model).policy.threshold == expected.threshold

    # 4. evaluate: today's keys against recorded labels, plus corrected and corrections_applied
    metrics_path = tmp_path / "metrics.json"
    report = tmp_path / "report"
    code, out, err = run(
        "evaluate", data, "--model", model, *COLS, "--id-col", "id", "--corrections",
        corrections, "--json", metrics_path, "--report", report,
    )  # fmt: skip
    assert _ok(code), err
    metrics = json.loads(metrics_path.read_text(encoding="utf-8"))
    plain = {k for k in metrics if k not in ("corrected", "corrections_applied")}
    assert set(metrics["corrected"]) == plain
    corrected = evaluation_labels(
        list(recorded), [label_of(y) for y in recorded.values()], _tops(model, data), learned
    )
    assert metrics["corrections_applied"] == corrected.changed > 0
    assert metrics["corrected"]["accuracy"] > metrics["accuracy"]
    page = (report / "index.html").read_text(encoding="utf-8")
    assert "Recorded labels" in page and "Corrected labels" in page

    # 5. retrain with corrections records them too
    feedback = tmp_path / "feedback.csv"
    feedback.write_text(",".join(FEEDBACK_COLUMNS) + "\n", encoding="utf-8")
    code, out, err = run(
        "retrain", "--history", data, "--feedback", feedback, *COLS, "--id-col", "id",
        "--out", tmp_path / "challenger", "--registry", tmp_path / "registry",
        "--corrections", corrections,
    )  # fmt: skip
    assert _ok(code), err
    manifest = load_bundle(tmp_path / "challenger").manifest
    assert manifest["training_data"]["corrections"]["sha256"] == loaded.sha256

    # 6. a new audit on corrected labels leaves the reviewed complaints out of its sheet
    again = tmp_path / "review2.csv"
    code, out, err = run(
        "audit", data, *COLS, "--id-col", "id", "--out", tmp_path / "suspects2.csv",
        "--review-file", again, "--corrections", corrections,
    )  # fmt: skip
    assert _ok(code), err
    assert not set(read_csv(again)["id"]) & set(table["id"])


def _tops(model: Path, data: Path) -> list[str]:
    """The bundle's top agency for each complaint of `data`, in file order."""
    from routing.suggest import suggest_proba

    bundle = load_bundle(model)
    texts = pd.read_csv(data, dtype=str)["text"].tolist()
    return bundle.router.classes_[suggest_proba(bundle, texts).argmax(axis=1)].tolist()


@pytest.mark.parametrize(
    "args",
    [
        ("train", "DATA", *COLS, "--out", "OUT/model", "--corrections", "C"),
        ("evaluate", "DATA", "--model", "OUT/model", *COLS, "--corrections", "C"),
        ("audit", "DATA", *COLS, "--out", "OUT/s.csv", "--corrections", "C"),
        ("audit", "DATA", *COLS, "--out", "OUT/s.csv", "--review-file", "OUT/r.csv"),
    ],
)
def test_corrections_and_review_sheets_need_the_id_column(
    monkeypatch, capsys, tmp_path, small_csv, args
):
    corrections = tmp_path / "c.csv"
    write_csv(pd.DataFrame(columns=list(CORRECTION_COLUMNS)), corrections)
    given = {"DATA": str(small_csv), "C": str(corrections)}
    args = [given.get(a, a.replace("OUT", str(tmp_path))) for a in args]
    code, _, err = run_main(monkeypatch, capsys, *args)
    assert_user_error(code, err, "names complaints by id", "--id-col")
    assert not (tmp_path / "model").exists()


def test_a_bad_corrections_file_stops_training_with_a_line_per_problem(
    monkeypatch, capsys, tmp_path, small_csv, small_corpus
):
    corrections = tmp_path / "c.csv"
    rows = [
        ("NOPE", "label_right", "", "r", "2026-01-01", ""),
        (small_corpus.ids[0], "label_wrong", "Kementerian Baru", "r", "2026-01-01", ""),
        (small_corpus.ids[1], "", "", "r", "2026-01-01", ""),
    ]
    write_csv(pd.DataFrame(rows, columns=list(CORRECTION_COLUMNS)), corrections)
    code, _, err = run_main(
        monkeypatch, capsys, "train", small_csv, *COLS, "--id-col", "id",
        "--out", tmp_path / "model", "--corrections", corrections,
    )  # fmt: skip
    assert code == 2 and "Traceback" not in err
    assert "unknown id" in err and "not among the training labels" in err
    assert "missing verdict" in err
    assert sum("c.csv:" in line for line in err.splitlines()) == 3
    assert not (tmp_path / "model").exists()


def test_retrain_applies_corrections_after_feedback_and_the_later_of_the_two_wins(
    tmp_path, small_csv, small_corpus, heldout_csv
):
    from training.retrain import retrain

    a, b, c = small_corpus.ids[:3]
    recorded = small_corpus.labels[0]
    other = next(y for y in small_corpus.labels if y != recorded)
    assert small_corpus.labels[1] == recorded  # the first rows share an agency
    feedback = tmp_path / "feedback.csv"
    pd.DataFrame(
        [
            {"complaint_id": a, "agency": other, "decided_at": "2026-02-01T00:00:00+00:00"},
            {"complaint_id": b, "agency": other, "decided_at": "2026-01-01T00:00:00+00:00"},
        ],
        columns=list(FEEDBACK_COLUMNS),
    ).assign(prediction_id=["p1", "p2"], text="").to_csv(feedback, index=False)
    corrections = tmp_path / "corrections.csv"
    rows = [
        (a, "label_right", "", "r", "2026-01-15", ""),  # before the decision: the decision wins
        (b, "label_right", "", "r", "2026-01-15", ""),  # after it: the recorded label stands
        (c, "unclear", "", "r", "2026-01-15", ""),  # left out of training
    ]
    write_csv(pd.DataFrame(rows, columns=list(CORRECTION_COLUMNS)), corrections)
    result = retrain(
        small_csv, feedback, "text", "agency", "id", tmp_path / "challenger",
        eval_path=heldout_csv, registry=tmp_path / "registry", corrections=[corrections],
    )  # fmt: skip
    index = load_bundle(result.bundle_path).similar
    learned = dict(zip(index.ids_, index.agencies_, strict=True))
    assert learned[a] == other and learned[b] == recorded and c not in learned
    assert result.merge.relabelled == 1  # only a's decision was merged
    record = load_bundle(result.bundle_path).manifest["training_data"]["corrections"]
    assert record["rows"] == 2 and record["verdicts"]["unclear"] == 1
