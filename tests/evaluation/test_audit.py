"""Tests of the disposition audit: the library finds flipped labels, the CLI writes what it says."""

import csv
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from routing.cli import app, main
from routing.evaluation.audit import (
    audit_dispositions,
    find_suspects,
    irrelevant_probability,
    summarize_by_agency,
    suspected_pairs,
)
from tests.conftest import SAMPLE_CSV, SMALL_AGENCIES

PER_AGENCY = 40
NIK = "3201234567890001"
CLASSES = np.array(["A", "B", "C"], dtype=object)


def flipped_corpus() -> tuple[list[dict[str, str]], list[str], list[int]]:
    """5 agencies x 40 sample complaints; every 20th gets the next agency (10 flips)."""
    with SAMPLE_CSV.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    picked = [r for a in SMALL_AGENCIES for r in [x for x in rows if x["agency"] == a][:PER_AGENCY]]
    labels = [r["agency"] for r in picked]
    flipped = list(range(7, len(picked), 20))
    for i in flipped:
        labels[i] = SMALL_AGENCIES[(SMALL_AGENCIES.index(labels[i]) + 1) % len(SMALL_AGENCIES)]
    return picked, labels, flipped


@pytest.fixture(scope="module")
def corpus():
    return flipped_corpus()


@pytest.fixture(scope="module")
def suspects(corpus) -> pd.DataFrame:
    rows, labels, _ = corpus
    return audit_dispositions([r["text"] for r in rows], labels, seed=0)


# -- library ----------------------------------------------------------------------------------


def test_audit_finds_most_flipped_labels_with_few_false_alarms(corpus, suspects):
    """Precision is pooled over three seeds' folds: one partition decides a false alarm or two."""
    rows, labels, flipped = corpus
    found = set(suspects["row"]) & set(flipped)
    assert len(flipped) == 10
    assert len(found) >= 7
    for r in suspects.itertuples(index=False):
        if r.row in found:  # the suggestion points back to where the complaint came from
            assert r.suggested_agency == rows[r.row]["agency"]
    texts = [r["text"] for r in rows]
    runs = [suspects] + [audit_dispositions(texts, labels, seed=seed) for seed in (1, 2)]
    hits = sum(len(set(run["row"]) & set(flipped)) for run in runs)
    assert hits / sum(map(len, runs)) >= 0.7


def test_suspects_are_sorted_most_suspect_first_with_a_different_suggestion(suspects):
    assert list(suspects.columns) == ["row", "agency", "suggested_agency", "label_quality"]
    assert suspects["label_quality"].is_monotonic_increasing
    assert (suspects["agency"] != suspects["suggested_agency"]).all()


def test_find_suspects_flags_only_labels_the_probabilities_rule_out():
    # Rows 0-8 agree with their labels; row 9 is labelled A but looks like C;
    # row 10 is labelled B, looks like A, but B keeps a plausible 0.2: flagged only uncapped.
    proba = np.array([[0.9, 0.05, 0.05]] * 3 + [[0.05, 0.9, 0.05]] * 3 + [[0.05, 0.05, 0.9]] * 3)
    proba = np.vstack([proba, [[0.01, 0.04, 0.95]], [[0.75, 0.2, 0.05]]])
    labels = ["A"] * 3 + ["B"] * 3 + ["C"] * 3 + ["A", "B"]
    found = find_suspects(labels, proba, CLASSES, irrelevant_quantile=0.9)
    assert found["row"].tolist() == [9]
    assert found["suggested_agency"].tolist() == ["C"]
    assert found["label_quality"].tolist() == pytest.approx([0.01])
    uncapped = find_suspects(labels, proba, CLASSES, irrelevant_quantile=None)
    assert uncapped["row"].tolist() == [9, 10]  # most suspect first


def test_irrelevant_probability_ignores_recorded_and_top_agency():
    proba = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]])
    y = np.array([1, 0])  # the only irrelevant agencies: column 2 of row 0, column 1 of row 1
    assert irrelevant_probability(proba, y, 1.0) == pytest.approx(0.3)
    assert irrelevant_probability(proba, y, 0.0) == pytest.approx(0.1)


def test_find_suspects_rejects_inconsistent_inputs():
    proba = np.full((2, 3), 1 / 3)
    with pytest.raises(ValueError, match="not in classes"):
        find_suspects(["A", "Z"], proba, CLASSES)
    with pytest.raises(ValueError, match="shape"):
        find_suspects(["A"], proba, CLASSES)
    with pytest.raises(ValueError, match="filter_by"):
        find_suspects(["A", "B"], proba, CLASSES, filter_by="nope")


def test_summaries_count_suspects_per_recorded_agency_and_pair():
    found = pd.DataFrame(
        {
            "row": [0, 1, 2],
            "agency": ["A", "A", "B"],
            "suggested_agency": ["C", "C", "A"],
            "label_quality": [0.01, 0.02, 0.03],
        }
    )
    by_agency = summarize_by_agency(["A"] * 4 + ["B"] * 2 + ["C"] * 3, found)
    assert by_agency[["agency", "audited", "suspected"]].values.tolist() == [
        ["A", 4, 2],
        ["B", 2, 1],
        ["C", 3, 0],
    ]
    assert by_agency["share"].tolist() == pytest.approx([0.5, 0.5, 0.0])
    pairs = suspected_pairs(found)
    assert pairs.values.tolist() == [["A", "C", 2], ["B", "A", 1]]


# -- command line -----------------------------------------------------------------------------


def write_input(path: Path, corpus) -> Path:
    """The flipped corpus with an extra column, a NIK in each flipped text, an empty and a
    duplicated row (both dropped by validation)."""
    rows, labels, flipped = corpus
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "channel", "text", "agency"])
        for i, (row, label) in enumerate(zip(rows, labels, strict=True)):
            text = f"{row['text']} NIK saya {NIK}" if i in flipped else row["text"]
            # a flipped row's channel starts as a spreadsheet formula would
            channel = f"=web-{i}" if i in flipped else f"web-{i}"
            writer.writerow([row["id"], channel, text, label])
        writer.writerow(["X-empty", "web", "   ", SMALL_AGENCIES[0]])
        writer.writerow(["X-dup", "web", rows[0]["text"], labels[0]])
    return path


def test_cli_audit_writes_only_masked_suspects_with_all_input_columns(tmp_path, corpus):
    rows, _, flipped = corpus
    data, out = write_input(tmp_path / "history.csv", corpus), tmp_path / "out" / "suspects.csv"
    result = CliRunner().invoke(
        app,
        [
            *("audit", str(data), "--text-col", "text", "--label-col", "agency"),
            *("--out", str(out), "--id-col", "id", "--seed", "0"),
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert "2 dropped by validation" in result.output
    assert "recorded agency" in result.output  # the per-agency summary table

    written = pd.read_csv(out, dtype=str, keep_default_na=False)
    input_columns = ["id", "channel", "text", "agency"]
    assert list(written.columns) == [*input_columns, "suggested_agency", "label_quality"]
    flipped_ids = {rows[i]["id"] for i in flipped}
    assert len(set(written["id"]) & flipped_ids) >= 7
    assert len(written) <= 14  # only suspects, not all 200 audited rows
    quality = written["label_quality"].astype(float)
    assert quality.is_monotonic_increasing
    assert (written["agency"] != written["suggested_agency"]).all()
    # other columns come through as they are, formulas escaped as the console's export does
    channels = written["channel"]
    assert channels.str.startswith("web-").sum() + channels.str.startswith("'=web-").sum() == len(
        written
    )
    assert channels.str.startswith("'=web-").sum() >= 7
    assert NIK not in out.read_text(encoding="utf-8")
    masked = written.loc[written["id"].isin(flipped_ids), "text"]
    assert masked.str.contains("[NIK]", regex=False).all()


def run_main(monkeypatch, capsys, *args) -> tuple[int, str]:
    monkeypatch.setattr(sys, "argv", ["routing", *(str(a) for a in args)])
    with pytest.raises(SystemExit) as exc:
        main()
    return exc.value.code, capsys.readouterr().err


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (["--label-col", "disposition"], "missing column 'disposition'"),
        (["--label-col", "agency", "--id-col", "nomor"], "missing column 'nomor'"),
        (["--label-col", "agency", "--folds", "1"], "--folds must be at least 2"),
    ],
)
def test_cli_audit_user_errors_exit_2_with_one_line(monkeypatch, capsys, tmp_path, extra, fragment):
    out = tmp_path / "suspects.csv"
    code, err = run_main(
        monkeypatch, capsys, "audit", SAMPLE_CSV, "--text-col", "text", "--out", out, *extra
    )
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ") and fragment in lines[0]
    assert not out.exists()
