"""Corrected labels: review sheet, resolving a blind review, loading and applying corrections."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest

from routing.corrections import (
    CORRECTION_COLUMNS,
    SHEET_COLUMNS,
    Corrections,
    CorrectionsError,
    evaluation_labels,
    id_digest,
    load_corrections,
    merge_with_feedback,
    read_csv,
    resolve_review,
    review_sheet,
    training_labels,
    write_csv,
)

IDS = [f"C{i}" for i in range(6)]
RECORDED = {"C0": "PLN", "C1": "ESDM", "C2": "Kemensos", "C3": "PLN", "C4": "Polri", "C5": "OJK"}
LABELS = sorted(set(RECORDED.values()) | {"Kemendikbud"})


def _corrections(tmp_path: Path, rows: list[dict], name: str = "c.csv") -> Path:
    path = tmp_path / name
    frame = pd.DataFrame(rows, columns=list(CORRECTION_COLUMNS)).fillna("")
    write_csv(frame, path)
    return path


def _row(rid: str, verdict: str, agency: str = "", at: str = "2026-01-05T10:00:00Z", **kw):
    row = {"id": rid, "verdict": verdict, "agency": agency, "reviewer": "r1", "reviewed_at": at}
    return row | {"reason": ""} | kw


# --- review sheet ----------------------------------------------------------------------------


def test_review_sheet_masks_text_hides_which_candidate_is_recorded_and_is_seeded():
    texts = [f"keluhan {i} hubungi 081234567890" for i in range(40)]
    first = ["PLN"] * 40
    second = ["ESDM"] * 40
    sheet = review_sheet([f"C{i}" for i in range(40)], texts, first, second, seed=3)
    assert tuple(sheet.columns) == SHEET_COLUMNS
    assert not sheet["text"].str.contains("081234567890").any()
    # each row keeps its own pair, in either order, and both orders occur
    assert set(map(frozenset, zip(sheet["candidate_a"], sheet["candidate_b"], strict=True))) == {
        frozenset({"PLN", "ESDM"})
    }
    assert 0 < (sheet["candidate_a"] == "PLN").sum() < 40
    assert sheet["id"].tolist() != [f"C{i}" for i in range(40)]  # shuffled
    assert (sheet[["verdict", "agency", "reviewer", "reviewed_at", "reason"]] == "").all().all()
    again = review_sheet([f"C{i}" for i in range(40)], texts, first, second, seed=3)
    pd.testing.assert_frame_equal(sheet, again)
    other = review_sheet([f"C{i}" for i in range(40)], texts, first, second, seed=4)
    assert not sheet.equals(other)


def test_a_sheet_and_its_formula_cells_survive_the_csv_round_trip(tmp_path):
    texts = ['=HYPERLINK("http://x")', "+62 lapor", "-", "@here", "'=already quoted", "biasa"]
    sheet = review_sheet(IDS, texts, ["PLN"] * 6, ["=cmd|' /C calc'!A0"] * 6, seed=0)
    sheet.loc[0, "reason"] = "=1+1"
    path = tmp_path / "sheet.csv"
    write_csv(sheet, path)
    raw = path.read_text(encoding="utf-8")
    assert ",=" not in raw and ",+" not in raw and ",@" not in raw  # escaped on disk
    pd.testing.assert_frame_equal(read_csv(path), sheet.astype(str))


# --- resolving a blind review ------------------------------------------------------------------


def _sheet(rows: list[tuple[str, str, str, str, str]]) -> pd.DataFrame:
    """rows of (id, candidate_a, candidate_b, verdict, agency)."""
    frame = pd.DataFrame(rows, columns=["id", "candidate_a", "candidate_b", "verdict", "agency"])
    frame["text"] = "t"
    frame["reviewer"] = "r1"
    frame["reviewed_at"] = "2026-01-05"
    frame["reason"] = ""
    return frame[list(SHEET_COLUMNS)]


def test_resolve_review_turns_blind_answers_into_verdicts():
    sheet = _sheet(
        [
            ("C0", "ESDM", "PLN", "", "PLN"),  # the recorded agency → label_right
            ("C1", "PLN", "ESDM", "", "PLN"),  # another agency → label_wrong
            ("C2", "Kemensos", "Kemendikbud", "both", ""),  # the non-recorded candidate
            ("C3", "PLN", "ESDM", "unclear", "ESDM"),  # unclear keeps no agency
            ("C4", "Polri", "OJK", "label_wrong", "OJK"),  # explicit verdicts are kept
            ("C5", "OJK", "Polri", "Label_Right", ""),
        ]
    )
    table = resolve_review(sheet, RECORDED)
    assert tuple(table.columns) == CORRECTION_COLUMNS
    got = dict(zip(table["id"], zip(table["verdict"], table["agency"], strict=True), strict=True))
    assert got == {
        "C0": ("label_right", "PLN"),
        "C1": ("label_wrong", "PLN"),
        "C2": ("both", "Kemendikbud"),
        "C3": ("unclear", ""),
        "C4": ("label_wrong", "OJK"),
        "C5": ("label_right", ""),
    }


def test_resolve_review_names_every_row_left_without_an_answer():
    sheet = _sheet(
        [
            ("C0", "ESDM", "PLN", "", ""),
            ("C1", "PLN", "ESDM", "", "PLN"),
            ("C2", "Kemensos", "Kemendikbud", "maybe", ""),
            ("X9", "PLN", "ESDM", "", "PLN"),
        ]
    )
    with pytest.raises(CorrectionsError) as err:
        resolve_review(sheet, RECORDED)
    lines = str(err.value).splitlines()
    assert len(lines) == 3
    assert "C0" in lines[0] and "missing verdict" in lines[0]
    assert "C2" in lines[1] and "unknown verdict" in lines[1]
    assert "X9" in lines[2] and "unknown id" in lines[2]


def test_a_long_list_of_problems_is_cut_and_counted():
    sheet = _sheet([(f"X{i}", "PLN", "ESDM", "", "PLN") for i in range(50)])
    with pytest.raises(CorrectionsError) as err:
        resolve_review(sheet, RECORDED)
    assert len(err.value.problems) == 50
    lines = str(err.value).splitlines()
    assert len(lines) < 50 and "more" in lines[-1]


# --- loading ----------------------------------------------------------------------------------


def test_load_corrections_masks_reasons_and_records_the_files_checksum(tmp_path):
    path = _corrections(
        tmp_path,
        [
            _row("C0", "label_wrong", "ESDM", reason="telepon 081234567890 dia"),
            _row("C1", "unclear"),
        ],
    )
    corrections = load_corrections([path], ids=IDS, labels=LABELS)
    assert len(corrections) == 2
    assert "081234567890" not in " ".join(corrections.table["reason"])
    assert corrections.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert corrections.record()["verdicts"] == {
        "label_right": 0,
        "label_wrong": 1,
        "both": 0,
        "unclear": 1,
    }


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        (_row("X1", "label_right"), "unknown id"),
        (_row("C0", ""), "missing verdict"),
        (_row("C0", "wrong"), "unknown verdict"),
        (_row("C0", "label_wrong", "Kemenkeu"), "not among the training labels"),
        (_row("C0", "label_wrong", ""), "needs an agency"),
        (_row("C0", "both", ""), "needs an agency"),
        (_row("C0", "label_right", at="yesterday"), "not an ISO 8601 time"),
        (_row("C0", "label_right", at=""), "not an ISO 8601 time"),
    ],
)
def test_each_kind_of_bad_row_is_refused_with_its_own_line(tmp_path, row, problem):
    path = _corrections(tmp_path, [_row("C1", "label_right"), row])
    with pytest.raises(CorrectionsError) as err:
        load_corrections([path], ids=IDS, labels=LABELS)
    assert err.value.problems == [str(err.value)]  # one problem, one line
    assert problem in str(err.value) and "c.csv:3" in str(err.value)


def test_ids_written_as_digests_name_the_data_s_complaints(tmp_path):
    path = _corrections(
        tmp_path,
        [_row(id_digest("C0"), "label_wrong", "ESDM"), _row(id_digest("C5"), "label_right")],
    )
    corrections = load_corrections([path], ids=IDS, labels=LABELS)
    assert corrections.by_id == {"C0": ("label_wrong", "ESDM"), "C5": ("label_right", "")}
    assert id_digest("C0") == "sha256:" + hashlib.sha256(b"C0").hexdigest()
    stranger = _corrections(tmp_path, [_row(id_digest("X9"), "label_right")], "x.csv")
    with pytest.raises(CorrectionsError, match="unknown id"):
        load_corrections([stranger], ids=IDS, labels=LABELS)


def test_a_file_without_the_columns_is_refused(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("id,verdict\nC0,label_right\n", encoding="utf-8")
    with pytest.raises(CorrectionsError, match="lacks columns agency"):
        load_corrections([path], ids=IDS, labels=LABELS)


def test_the_latest_review_wins_and_a_tie_goes_to_the_file_named_later(tmp_path):
    early = _corrections(
        tmp_path,
        [
            _row("C0", "label_wrong", "ESDM", at="2026-03-01T00:00:00+07:00"),
            _row("C1", "label_wrong", "PLN", at="2026-01-01"),
            _row("C2", "unclear", at="2026-01-01"),
        ],
        "a.csv",
    )
    late = _corrections(
        tmp_path,
        [
            _row("C0", "label_right", at="2026-02-28T16:00:00Z"),  # 23:00 in +07:00: earlier
            _row("C1", "label_right", at="2026-01-02"),
            _row("C2", "label_wrong", "Kemendikbud", at="2026-01-01T00:00:00Z"),  # a tie
        ],
        "b.csv",
    )
    got = load_corrections([early, late], ids=IDS, labels=LABELS).by_id
    assert got == {
        "C0": ("label_wrong", "ESDM"),
        "C1": ("label_right", ""),
        "C2": ("label_wrong", "Kemendikbud"),
    }
    swapped = load_corrections([late, early], ids=IDS, labels=LABELS).by_id
    assert swapped["C2"] == ("unclear", "")


# --- applying ---------------------------------------------------------------------------------


@pytest.fixture
def corrections(tmp_path) -> Corrections:
    path = _corrections(
        tmp_path,
        [
            _row("C0", "label_right"),
            _row("C1", "label_wrong", "PLN"),
            _row("C2", "both", "Kemendikbud"),
            _row("C3", "unclear"),
            _row("C5", "both", "Polri"),
        ],
    )
    return load_corrections([path], ids=IDS, labels=LABELS)


def test_training_learns_corrected_agencies_and_leaves_unclear_rows_out(corrections):
    recorded = [RECORDED[i] for i in IDS]
    labels, keep = training_labels(IDS, recorded, corrections)
    assert labels.tolist() == ["PLN", "PLN", "Kemensos", "PLN", "Polri", "OJK"]
    assert keep.tolist() == [True, True, True, False, True, True]
    other, _ = training_labels(IDS, recorded, corrections, both="other")
    assert other.tolist() == ["PLN", "PLN", "Kemendikbud", "PLN", "Polri", "Polri"]
    unchanged, kept = training_labels(IDS, recorded, None)
    assert unchanged.tolist() == recorded and kept.all()


def test_evaluation_gives_both_rows_the_router_s_choice_when_it_is_one_of_the_pair(corrections):
    recorded = [RECORDED[i] for i in IDS]
    top = ["ESDM", "PLN", "Kemendikbud", "ESDM", "Polri", "Kemensos"]
    corrected = evaluation_labels(IDS, recorded, top, corrections)
    # C2: router chose the other defensible agency; C5: router chose neither → recorded
    assert corrected.labels.tolist() == ["PLN", "PLN", "Kemendikbud", "PLN", "Polri", "OJK"]
    assert (corrected.reviewed, corrected.changed, corrected.unclear) == (5, 2, 1)


def test_the_later_of_a_decision_and_a_review_wins(corrections):
    decided = {
        "C0": pd.Timestamp("2026-01-06", tz="UTC"),  # decided after the review: decision wins
        "C1": pd.Timestamp("2026-01-04", tz="UTC"),  # decided before: the correction wins
        "C2": pd.Timestamp("2026-01-05T10:00:00Z"),  # a tie: the correction wins
        "C4": pd.Timestamp("2026-01-01", tz="UTC"),  # no correction: nothing to settle
    }
    kept, overruled = merge_with_feedback(corrections, decided)
    assert set(kept.by_id) == {"C1", "C2", "C3", "C5"}
    assert overruled == {"C1", "C2"}
    assert kept.sha256 == corrections.sha256
