import pandas as pd
import pytest
from rich.console import Console
from rich.table import Table

from training.data import DataError, read_table
from training.split import stratified_folds, train_test_split_stratified
from training.validate import ValidationReport, validate

BASE = [
    ("Listrik mati sejak pagi", "PT PLN"),
    ("KTP elektronik belum jadi", "Kemendagri"),
    ("Tunggakan BPJS tidak bisa dibayar", "BPJS Kesehatan"),
    ("Paspor hilang di bandara", "Ditjen Imigrasi"),
]


def _frame(rows: list[tuple[object, object]], text: str = "text", label: str = "agency"):
    return pd.DataFrame(rows, columns=[text, label], dtype=object)


def _check_accounting(report: ValidationReport) -> None:
    assert sum(report.dropped.values()) == report.rows_read - report.rows_kept


@pytest.mark.parametrize(
    ("extra", "field", "count"),
    [
        ([("", "PT PLN"), ("   \n\t", "Polri"), (None, "OJK")], "empty_text", 3),
        ([("Jalan rusak", None), ("Jalan lubang", ""), ("Jalan gelap", " ")], "missing_label", 3),
        ([BASE[0], BASE[0], BASE[1]], "exact_duplicates", 3),
        ([("Listrik  MATI sejak pagi", "PT PLN"), ("listrik mati\nsejak PAGI", "PT PLN")],
         "normalized_duplicates", 2),
        ([("Listrik mati sejak pagi", "Kemendagri")], "conflicting_duplicates", 2),
    ],
)  # fmt: skip
def test_each_problem_is_dropped_and_counted_under_its_reason(extra, field, count):
    clean, report = validate(_frame(BASE + extra), "text", "agency")

    assert getattr(report, field) == count
    assert report.dropped == {field: count}
    assert report.rows_read == len(BASE) + len(extra)
    assert report.rows_kept == len(clean)
    _check_accounting(report)


def test_conflicting_labels_drop_every_copy_including_the_first():
    rows = [("Listrik mati", "PT PLN"), ("Jalan rusak", "Kemendagri"), ("listrik  MATI", "OJK")]
    rows += [("Listrik mati", "PT PLN"), ("Paspor hilang", "Ditjen Imigrasi")]

    clean, report = validate(_frame(rows), "text", "agency")

    assert report.conflicting_duplicates == 3
    assert report.exact_duplicates == 0
    assert clean["text"].tolist() == ["Jalan rusak", "Paspor hilang"]
    assert any("another agency" in w for w in report.warnings)


def test_normalized_duplicate_keeps_first_raw_text():
    rows = [*BASE, ("Listrik  MATI sejak pagi", "PT PLN")]

    clean, _ = validate(_frame(rows), "text", "agency")

    assert clean["text"].tolist()[0] == "Listrik mati sejak pagi"
    assert "Listrik  MATI sejak pagi" not in clean["text"].tolist()


def test_custom_normalizer_is_used_only_for_duplicate_keys():
    rows = [("Listrik mati!!!", "PT PLN"), ("Listrik mati", "PT PLN"), ("KTP", "Kemendagri")]

    clean, report = validate(
        _frame(rows), "text", "agency", normalize=lambda t: t.rstrip("!").casefold()
    )

    assert report.normalized_duplicates == 1
    assert clean["text"].tolist() == ["Listrik mati!!!", "KTP"]


def test_mixed_problems_sum_to_rows_read_minus_rows_kept():
    rows = [
        *BASE,
        ("", None),  # empty text wins over missing label: counted once
        ("Jalan rusak", None),
        BASE[2],
        ("paspor HILANG di bandara", "Ditjen Imigrasi"),
        ("KTP elektronik belum jadi", "Polri"),
    ]

    clean, report = validate(_frame(rows), "text", "agency")

    assert report.dropped == {
        "empty_text": 1,
        "missing_label": 1,
        "exact_duplicates": 1,
        "normalized_duplicates": 1,
        "conflicting_duplicates": 2,
    }
    assert report.rows_kept == len(clean) == 3
    _check_accounting(report)


def test_output_has_text_agency_id_in_input_order_with_raw_text_and_stripped_labels():
    rows = [("  Listrik mati  ", " PT PLN "), ("", "OJK"), ("KTP hilang", "Kemendagri")]

    clean, _ = validate(_frame(rows), "text", "agency")

    assert list(clean.columns) == ["text", "agency", "id"]
    assert clean.to_dict("records") == [
        {"text": "  Listrik mati  ", "agency": "PT PLN", "id": "0"},
        {"text": "KTP hilang", "agency": "Kemendagri", "id": "2"},
    ]
    assert list(clean.index) == [0, 1]


def test_id_column_and_non_string_labels_become_str():
    frame = pd.DataFrame(
        {"body": ["a b", "c d", "e f"], "office": [10, 20, 10], "ref": [7, 8.0, "x9"]}
    )

    clean, _ = validate(frame, "body", "office", id_col="ref", min_examples=1)

    assert clean["agency"].tolist() == ["10", "20", "10"]
    assert clean["id"].tolist() == ["7", "8", "x9"]


def test_missing_column_error_lists_available_columns():
    with pytest.raises(DataError) as info:
        validate(_frame(BASE), "text", "label")

    assert str(info.value) == "missing column 'label'; available: text, agency"


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([("Listrik mati", "PT PLN"), ("Listrik padam", "PT PLN")], "found 1: PT PLN"),
        ([("", "PT PLN"), ("x", None)], "no rows left"),
    ],
)
def test_unusable_tables_raise_data_error(rows, message):
    with pytest.raises(DataError, match=message):
        validate(_frame(rows), "text", "agency")


def test_single_example_agency_is_kept_reported_rare_and_splittable():
    rows = [(f"listrik padam nomor {i}", "PT PLN") for i in range(6)]
    rows += [(f"ktp elektronik nomor {i}", "Kemendagri") for i in range(3)]
    rows += [("sertifikat tanah belum terbit", "BPN")]

    clean, report = validate(_frame(rows), "text", "agency", min_examples=5)

    assert "BPN" in clean["agency"].tolist()
    assert report.rare_agencies == {"BPN": 1, "Kemendagri": 3}
    assert report.dropped == {}
    assert any("fewer than 5" in w and "BPN (1)" in w for w in report.warnings)
    labels = clean["agency"].tolist()
    train, _ = train_test_split_stratified(labels, seed=0)
    assert labels.index("BPN") in train
    folds = stratified_folds(labels, n_splits=5, seed=0)
    assert sum(labels.index("BPN") in test for _, test in folds) == 1


def test_non_utf8_rows_are_reported_as_a_warning(tmp_path):
    path = tmp_path / "cp.csv"
    path.write_bytes(b"text,agency\ncaf\xe9 tutup,Polri\njalan rusak,Kemendagri\n")
    table = read_table(path)

    clean, report = validate(table.frame, "text", "agency", non_utf8_rows=table.non_utf8_rows)

    assert report.non_utf8_rows == 1
    assert clean["text"].tolist()[0] == "café tutup"
    assert any("UTF-8" in w for w in report.warnings)


def test_one_megabyte_text_validates(tmp_path):
    big = "listrik padam, " * 70_000
    path = tmp_path / "big.csv"
    pd.DataFrame({"text": [big, "ktp hilang"], "agency": ["PT PLN", "Kemendagri"]}).to_csv(
        path, index=False
    )

    clean, report = validate(read_table(path).frame, "text", "agency")

    assert clean["text"].tolist()[0] == big
    assert report.longest_text == len(big) > 1_000_000


def test_report_serializes_and_renders_without_complaint_text():
    rows = [*BASE, BASE[0], ("", "OJK")]
    _, report = validate(_frame(rows), "text", "agency", min_examples=2)

    data = report.to_dict()
    assert data["dropped"] == {"empty_text": 1, "exact_duplicates": 1}
    assert data["rows_kept"] == 4
    assert data["n_agencies"] == 4
    table = report.render()
    assert isinstance(table, Table)
    console = Console(width=120, record=True)
    console.print(table)
    text = console.export_text()
    assert "exact duplicates" in text
    assert "Listrik" not in text


def test_negative_min_examples_is_rejected():
    with pytest.raises(ValueError, match="min_examples"):
        validate(_frame(BASE), "text", "agency", min_examples=-1)
