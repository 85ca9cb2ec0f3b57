"""Mistakes in what the CLI is given end in one line and exit code 2, before any long work.

A bundle is never replaced without --force; with it, the old one is kept in DIR.previous.
Outputs that cannot be written as asked (a directory for a file or the reverse, a path under a
file, a directory the user may not write in) are refused before a model is fitted or loaded,
and nothing is left behind.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pandas as pd
import pytest

from routing.bundle import MANIFEST, read_manifest
from routing.cli.outputs import partial_file
from tests.cli.helpers import assert_user_error, run_main, tree

COLUMNS = ("--text-col", "text", "--label-col", "agency")


@pytest.fixture
def no_long_work(monkeypatch):
    """Fitting, loading or auditing a model fails the test: mistakes must be found before."""

    def started(*args, **kwargs):
        raise AssertionError("the long work started before the output was checked")

    for target in (
        "training.pipeline.train",
        "training.retrain.retrain",
        "routing.registry.load_model",
        "routing.evaluation.audit.audit_dispositions",
    ):
        monkeypatch.setattr(target, started)


@pytest.fixture
def bundle_copy(trained_bundle, tmp_path) -> Path:
    return Path(shutil.copytree(trained_bundle, tmp_path / "bundle"))


# -- a bundle is never replaced silently -------------------------------------------------------


def test_train_refuses_to_replace_a_bundle_without_force(
    monkeypatch, capsys, no_long_work, small_csv, bundle_copy, tmp_path
):
    manifest = (bundle_copy / MANIFEST).read_bytes()
    before = tree(tmp_path)
    code, _, err = run_main(
        monkeypatch, capsys, "train", small_csv, *COLUMNS, "--out", bundle_copy, "--quiet"
    )
    assert_user_error(code, err, "already holds a bundle", "--force", "bundle.previous")
    assert (bundle_copy / MANIFEST).read_bytes() == manifest
    assert tree(tmp_path) == before


def test_train_force_keeps_the_replaced_bundle_in_previous(
    monkeypatch, capsys, small_csv, bundle_copy, tmp_path
):
    replaced = read_manifest(bundle_copy)["model_version"]
    older = Path(shutil.copytree(bundle_copy, tmp_path / "bundle.previous"))
    (older / "older-marker").write_text("an older bundle")
    code, out, err = run_main(
        monkeypatch, capsys, "train", small_csv, *COLUMNS, "--out", bundle_copy, "--seed", "1",
        "--force",
    )  # fmt: skip
    assert code in (0, None), err
    assert read_manifest(bundle_copy)["seed"] == 1
    assert read_manifest(older)["model_version"] == replaced
    assert not (older / "older-marker").exists()
    assert str(older) in out
    assert {p.name for p in tmp_path.iterdir()} == {"bundle", "bundle.previous"}


def test_force_refuses_a_previous_path_that_is_not_a_bundle(
    monkeypatch, capsys, no_long_work, small_csv, bundle_copy, tmp_path
):
    (tmp_path / "bundle.previous").write_text("someone's notes")
    before = tree(tmp_path)
    code, _, err = run_main(
        monkeypatch, capsys, "train", small_csv, *COLUMNS, "--out", bundle_copy, "--force"
    )
    assert_user_error(code, err, "bundle.previous", "not a bundle")
    assert tree(tmp_path) == before


def test_train_refuses_a_directory_holding_other_files(
    monkeypatch, capsys, no_long_work, small_csv, tmp_path
):
    out = tmp_path / "reports"
    out.mkdir()
    (out / "notes.txt").write_text("not a model")
    code, _, err = run_main(
        monkeypatch, capsys, "train", small_csv, *COLUMNS, "--out", out, "--force"
    )
    assert_user_error(code, err, "not a bundle")
    assert tree(tmp_path) == {out, out / "notes.txt"}


def test_retrain_refuses_to_replace_a_bundle_without_force(
    monkeypatch, capsys, no_long_work, small_csv, bundle_copy, tmp_path
):
    before = tree(tmp_path)
    code, _, err = run_main(
        monkeypatch, capsys, "retrain", "--history", small_csv,
        "--feedback", tmp_path / "feedback.csv", *COLUMNS, "--id-col", "id",
        "--out", bundle_copy, "--registry", tmp_path / "models",
    )  # fmt: skip
    assert_user_error(code, err, "already holds a bundle", "--force")
    assert tree(tmp_path) == before


# -- data that cannot be trained on ------------------------------------------------------------


def test_a_numeric_text_column_is_a_user_error(monkeypatch, capsys, tmp_path):
    data = tmp_path / "numbers.parquet"
    agencies = ["PLN", "BPJS", "IMIGRASI"]
    pd.DataFrame(
        {"text": [float(i) for i in range(60)], "agency": [agencies[i % 3] for i in range(60)]}
    ).to_parquet(data)
    code, _, err = run_main(
        monkeypatch, capsys, "train", data, *COLUMNS, "--out", tmp_path / "bundle", "--quiet"
    )
    assert_user_error(code, err, "'text'", "no letters")
    assert tree(tmp_path) == {data}


def test_a_label_column_of_unique_values_is_a_user_error(
    monkeypatch, capsys, small_corpus, tmp_path
):
    data = tmp_path / "ids_as_labels.csv"
    labels = [f"row-{i}" for i in range(len(small_corpus.texts))]
    pd.DataFrame({"text": small_corpus.texts, "agency": labels}).to_csv(data, index=False)
    code, _, err = run_main(
        monkeypatch, capsys, "train", data, *COLUMNS, "--out", tmp_path / "bundle", "--quiet"
    )
    assert_user_error(code, err, "single complaint", "label column", "at least 2 complaints")
    assert tree(tmp_path) == {data}


# -- outputs that cannot be written as asked ---------------------------------------------------


def test_train_out_under_a_regular_file(monkeypatch, capsys, no_long_work, small_csv, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, _, err = run_main(
        monkeypatch, capsys, "train", small_csv, *COLUMNS, "--out", blocker / "bundle"
    )
    assert_user_error(code, err, f"{blocker} is a file, not a directory")
    assert tree(tmp_path) == {blocker}


def test_predict_out_naming_a_directory(
    monkeypatch, capsys, no_long_work, heldout_csv, trained_bundle, tmp_path
):
    out = tmp_path / "predictions"
    out.mkdir()
    code, _, err = run_main(
        monkeypatch, capsys, "predict", heldout_csv, "--model", trained_bundle,
        "--text-col", "text", "--out", out,
    )  # fmt: skip
    assert_user_error(code, err, "--out", "is a directory")
    assert tree(tmp_path) == {out}


def test_evaluate_report_naming_a_file(
    monkeypatch, capsys, no_long_work, heldout_csv, trained_bundle, tmp_path
):
    report = tmp_path / "report.html"
    report.write_text("an older report")
    code, _, err = run_main(
        monkeypatch, capsys, "evaluate", heldout_csv, "--model", trained_bundle, *COLUMNS,
        "--report", report,
    )  # fmt: skip
    assert_user_error(code, err, "--report", "is a file, not a directory")
    assert report.read_text() == "an older report"
    assert tree(tmp_path) == {report}


def test_evaluate_json_naming_a_directory(
    monkeypatch, capsys, no_long_work, heldout_csv, trained_bundle, tmp_path
):
    code, _, err = run_main(
        monkeypatch, capsys, "evaluate", heldout_csv, "--model", trained_bundle, *COLUMNS,
        "--json", tmp_path,
    )  # fmt: skip
    assert_user_error(code, err, "--json", "is a directory")
    assert tree(tmp_path) == set()


def test_audit_out_naming_a_directory(monkeypatch, capsys, no_long_work, small_csv, tmp_path):
    code, _, err = run_main(
        monkeypatch, capsys, "audit", small_csv, *COLUMNS, "--out", tmp_path, "--folds", "2"
    )
    assert_user_error(code, err, "--out", "is a directory")
    assert tree(tmp_path) == set()


def test_unwritable_out_names_the_directory_not_a_temporary_path(
    monkeypatch, capsys, no_long_work, small_csv, tmp_path
):
    # root may write anywhere, so the refusal is simulated where the permission is asked
    locked = tmp_path / "locked"
    locked.mkdir()
    access = os.access
    monkeypatch.setattr(
        os, "access", lambda path, mode, **kw: Path(path) != locked and access(path, mode, **kw)
    )
    code, _, err = run_main(
        monkeypatch, capsys, "train", small_csv, *COLUMNS, "--out", locked / "bundle"
    )
    line = assert_user_error(code, err, f"cannot write in {locked}", "permission denied")
    assert f"{os.sep}." not in line  # no hidden staging path
    assert tree(tmp_path) == {locked}


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write in any directory")
def test_unwritable_out_is_a_user_error(monkeypatch, capsys, no_long_work, small_csv, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    code, _, err = run_main(
        monkeypatch, capsys, "train", small_csv, *COLUMNS, "--out", locked / "bundle"
    )
    assert_user_error(code, err, f"cannot write in {locked}", "permission denied")
    assert tree(tmp_path) == {locked}


def test_a_failed_write_leaves_no_partial_file(tmp_path):
    out = tmp_path / "predictions.jsonl"
    with pytest.raises(RuntimeError), partial_file(out) as tmp:
        tmp.write_text("half of the rows\n")
        raise RuntimeError("interrupted")
    assert tree(tmp_path) == set()
    with partial_file(out) as tmp:
        tmp.write_text("all the rows\n")
    assert tree(tmp_path) == {out}
    assert out.read_text() == "all the rows\n"
