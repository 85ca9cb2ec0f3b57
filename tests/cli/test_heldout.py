"""Honest evaluation: `evaluate` says when it scores training data; `split` holds data out."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest

from routing.bundle import load_bundle
from tests.cli.helpers import assert_user_error, run_main
from tests.conftest import write_csv
from training.overlap import training_overlap


def _evaluate(monkeypatch, capsys, bundle: Path, data: Path, *extra) -> tuple[int, str, str]:
    return run_main(
        monkeypatch,
        capsys,
        *("evaluate", data, "--model", bundle, "--text-col", "text", "--label-col", "agency"),
        *extra,
    )


def test_evaluate_on_training_data_warns_and_the_report_has_a_banner(
    monkeypatch, capsys, tmp_path, trained_bundle, small_csv
):
    report = tmp_path / "report"
    code, _, err = _evaluate(monkeypatch, capsys, trained_bundle, small_csv, "--report", report)
    assert code in (0, None)
    assert "were in this model's training data" in err
    assert "(100.0%)" in err and "routing split" in err
    page = (report / "index.html").read_text(encoding="utf-8")
    assert 'class="warning"' in page and "(100.0%)" in page


def test_evaluate_on_held_out_data_says_nothing_of_training_data(
    monkeypatch, capsys, tmp_path, trained_bundle, heldout_csv
):
    report = tmp_path / "report"
    code, _, err = _evaluate(monkeypatch, capsys, trained_bundle, heldout_csv, "--report", report)
    assert code in (0, None)
    assert "training data" not in err
    assert 'class="warning"' not in (report / "index.html").read_text(encoding="utf-8")


def test_overlap_is_found_by_normalized_text_and_by_id(trained_bundle, small_corpus):
    bundle = load_bundle(trained_bundle)
    # reformatted copies of training texts: other case and spacing, still the same complaint
    texts = ["  " + t.upper().replace(" ", "   ") for t in small_corpus.texts[:3]]
    texts += ["tidak ada di data latih sama sekali"] * 7
    by_text = training_overlap(bundle, texts)
    assert (by_text.n, by_text.trained) == (10, 3) and by_text.flattered
    # an id of a training complaint counts even when its text was edited since
    ids = [small_corpus.ids[0]] + [f"NEW-{i}" for i in range(9)]
    other = ["teks baru"] * 10
    assert training_overlap(bundle, other, ids).trained == 1
    assert training_overlap(bundle, other).trained == 0
    assert not training_overlap(bundle, other).flattered


def _split(monkeypatch, capsys, data: Path, out: Path, *extra) -> tuple[int, str, str]:
    return run_main(
        monkeypatch,
        capsys,
        *("split", data, "--text-col", "text", "--label-col", "agency", "--out", out),
        *extra,
    )


@pytest.fixture
def with_duplicates(tmp_path, small_corpus) -> Path:
    """The small corpus, then a reformatted duplicate of its first complaint and a row that
    repeats the second complaint's id with another text."""
    path = write_csv(tmp_path / "data.csv", small_corpus)
    with path.open("a", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["DUP", small_corpus.texts[0].upper(), small_corpus.labels[0]])
        writer.writerow([small_corpus.ids[1], "teks lain sama id", small_corpus.labels[1]])
    return path


def test_split_deduplicates_stratifies_and_is_deterministic(
    monkeypatch, capsys, tmp_path, with_duplicates, small_corpus
):
    code, out, _ = _split(monkeypatch, capsys, with_duplicates, tmp_path / "a", "--id-col", "id")
    assert code in (0, None), out
    train = pd.read_csv(tmp_path / "a" / "train.csv", dtype=str)
    test = pd.read_csv(tmp_path / "a" / "test.csv", dtype=str)
    assert list(train.columns) == list(test.columns) == ["id", "text", "agency"]
    assert len(train) + len(test) == len(small_corpus.ids)  # both extra rows dropped
    assert not set(train["id"]) & set(test["id"])
    assert "DUP" not in set(train["id"]) | set(test["id"])
    assert len(test) == pytest.approx(0.2 * len(small_corpus.ids), abs=2)
    shares = test["agency"].value_counts() / len(test)
    assert shares.between(0.15, 0.25).all() and len(shares) == 5  # every agency, evenly

    _split(monkeypatch, capsys, with_duplicates, tmp_path / "b", "--id-col", "id")
    for name in ("train.csv", "test.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    _split(monkeypatch, capsys, with_duplicates, tmp_path / "c", "--id-col", "id", "--seed", "1")
    assert (tmp_path / "c" / "test.csv").read_bytes() != (tmp_path / "a" / "test.csv").read_bytes()


def test_split_keeps_the_input_format(monkeypatch, capsys, tmp_path, small_corpus):
    data = tmp_path / "data.jsonl"
    frame = pd.DataFrame(
        {"id": small_corpus.ids, "text": small_corpus.texts, "agency": small_corpus.labels}
    )
    frame.to_json(data, orient="records", lines=True, force_ascii=False)
    code, _, _ = _split(monkeypatch, capsys, data, tmp_path / "out", "--test-size", "0.3")
    assert code in (0, None)
    test = pd.read_json(tmp_path / "out" / "test.jsonl", lines=True, dtype=str)
    train = pd.read_json(tmp_path / "out" / "train.jsonl", lines=True, dtype=str)
    assert len(test) == pytest.approx(0.3 * len(frame), abs=2)
    assert sorted([*train["id"], *test["id"]]) == sorted(small_corpus.ids)


def test_split_refuses_a_bad_test_size(monkeypatch, capsys, tmp_path, small_csv):
    code, _, err = _split(monkeypatch, capsys, small_csv, tmp_path / "out", "--test-size", "1")
    assert_user_error(code, err, "--test-size")
    assert not (tmp_path / "out").exists()
