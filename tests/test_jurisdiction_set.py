"""The place-finding annotation sample is fixed by its seed: the annotated ids depend on it."""

import numpy as np
import pandas as pd
import pytest

from routing.corrections import id_digest
from training.jurisdiction_set import annotated_rows, annotation_sample, main


def test_sample_is_seeded_sorted_and_distinct() -> None:
    rows = annotation_sample(7_000, 400, seed=0)
    assert len(rows) == 400 and len(set(rows.tolist())) == 400
    assert np.all(np.diff(rows) > 0) and rows.max() < 7_000
    assert np.array_equal(rows, annotation_sample(7_000, 400, seed=0))
    assert not np.array_equal(rows, annotation_sample(7_000, 400, seed=1))


def test_sample_of_a_small_table_takes_every_row() -> None:
    assert annotation_sample(10, 400).tolist() == list(range(10))


def test_a_later_round_is_disjoint_from_the_earlier_one() -> None:
    first = annotation_sample(1_000, 400, seed=0)
    second = annotation_sample(1_000, 400, seed=1, exclude=first)
    assert len(second) == 400
    assert not set(first) & set(second)
    assert annotation_sample(500, 400, seed=1, exclude=np.arange(400)).min() >= 400


def test_annotated_rows_are_the_complaints_a_file_names(tmp_path) -> None:
    ids = pd.Series([f"C-{i}" for i in range(6)])
    path = tmp_path / "round.csv"
    pd.DataFrame({"id": [id_digest("C-1"), id_digest("C-4"), id_digest("elsewhere")]}).to_csv(
        path, index=False
    )
    assert annotated_rows(ids, [path]).tolist() == [1, 4]


def test_a_round_drawn_excluding_annotated_files_shares_no_complaint(tmp_path) -> None:
    table = tmp_path / "table.csv"
    pd.DataFrame(
        {
            "id": [f"C-{i}" for i in range(30)],
            "text": [f"keluhan nomor {i} tentang layanan publik" for i in range(30)],
            "agency": ["A", "B", "C"] * 10,
        }
    ).to_csv(table, index=False)
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    main([str(table), "--out", str(first), "--n", "12", "--seed", "0"])
    drawn = pd.read_csv(first, dtype=str)
    drawn["id"] = drawn["id"].map(id_digest)
    drawn[["id"]].to_csv(first, index=False)
    main(
        [
            str(table),
            "--out",
            str(second),
            "--n",
            "12",
            "--seed",
            "1",
            "--exclude-annotated",
            str(first),
        ]
    )
    again = pd.read_csv(second, dtype=str)["id"].map(id_digest)
    assert len(again) == 12 and not set(again) & set(drawn["id"])


def test_an_annotation_file_without_ids_is_refused(tmp_path) -> None:
    path = tmp_path / "round.csv"
    pd.DataFrame({"code": ["32.73"]}).to_csv(path, index=False)
    with pytest.raises(SystemExit, match="no id column"):
        annotated_rows(pd.Series(["C-1"]), [path])
