"""End-to-end tests of the `routing` command line.

Successful runs go through typer's CliRunner; user errors go through `routing.cli.main` (the
console-script entry point, which turns them into exit code 2 and one line on stderr), and one
test runs the installed `routing` executable in a real subprocess.
"""

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from routing.bundle import MANIFEST, ROUTER_FILE, load_bundle, read_manifest
from routing.cli import app
from routing.evaluation.report import CONFUSION_PNG, PRECISION_COVERAGE_PNG, RELIABILITY_PNG
from routing.jurisdiction import agency_id
from tests.cli.helpers import assert_user_error, run_main
from tests.conftest import METRICS_KEYS

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

runner = CliRunner()


def invoke(*args) -> object:
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def write_rows(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture(scope="module")
def cli_bundle(tmp_path_factory, small_csv) -> Path:
    """A bundle written by `routing train` (do not modify; copy it first)."""
    out = tmp_path_factory.mktemp("cli") / "bundle"
    result = invoke(
        "train", small_csv, "--text-col", "text", "--label-col", "agency", "--id-col", "id",
        "--out", out,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert read_manifest(out)["model_version"] in result.stdout
    return out


@pytest.fixture
def bundle_copy(cli_bundle, tmp_path) -> Path:
    return Path(shutil.copytree(cli_bundle, tmp_path / "bundle"))


@pytest.fixture(scope="module")
def mixed_csv(tmp_path_factory, heldout_csv, sample_csv) -> Path:
    """Held-out complaints plus a few of an agency the model never saw (always wrong)."""
    rows = [[r["id"], r["text"], r["agency"]] for r in read_rows(heldout_csv)]
    unknown = [r for r in read_rows(sample_csv) if r["agency"] == "OTORITAS JASA KEUANGAN"][:5]
    rows += [[r["id"], r["text"], r["agency"]] for r in unknown]
    return write_rows(tmp_path_factory.mktemp("data") / "mixed.csv", ["id", "text", "agency"], rows)


def test_help_lists_the_verbs():
    result = invoke("--help")
    assert result.exit_code == 0
    for verb in ("train", "evaluate", "predict", "retarget"):
        assert verb in result.stdout


def test_train_help_documents_the_options():
    result = invoke("train", "--help")
    assert result.exit_code == 0
    for option in ("--text-col", "--label-col", "--out", "--target-precision", "--seed"):
        assert option in result.stdout


def test_train_writes_a_loadable_bundle(cli_bundle, small_csv):
    bundle = load_bundle(cli_bundle)
    assert len(bundle.labels) == 5
    assert bundle.manifest["training_data"]["file"] == small_csv.name
    assert bundle.manifest["training_data"]["id_col"] == "id"

    # the shipped catalogue by default: national agencies as codes, regional offices as roles
    assert bundle.labels == ["BPJS-KES", "IMIGRASI", "PDAM", "PLN", "POLRI"]
    assert bundle.authority is not None
    assert bundle.authority.catalogue.office("PDAM", "32.73").code == "PDAM-BDG"
    assert {"agencies.csv", "authority.csv"} <= set(bundle.manifest["artifacts"])
    assert bundle.manifest["training_data"]["catalogue"]["file"] == "agencies.csv"


def test_train_with_agencies_none_keeps_the_labels_as_written(small_csv, tmp_path):
    out = tmp_path / "plain"
    result = invoke(
        "train", small_csv, "--text-col", "text", "--label-col", "agency", "--out", out,
        "--agencies", "none", "--quiet",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    bundle = load_bundle(out)
    assert "PDAM TIRTAWENING KOTA BANDUNG" in bundle.labels
    assert bundle.authority is None
    assert "agencies.csv" not in bundle.manifest["artifacts"]


def test_train_with_parallel_folds_writes_the_same_model(cli_bundle, small_csv, tmp_path):
    out = tmp_path / "jobs2"
    result = invoke(
        "train", small_csv, "--text-col", "text", "--label-col", "agency", "--id-col", "id",
        "--out", out, "--jobs", "2", "--quiet",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    parallel, serial = read_manifest(out), read_manifest(cli_bundle)
    assert parallel["policy"] == serial["policy"]
    assert parallel["metrics"] == serial["metrics"]
    assert parallel["hyperparameters"] == serial["hyperparameters"]


def test_predict_similar_adds_past_complaints_from_the_bundle_index(
    cli_bundle, heldout_csv, tmp_path
):
    out = tmp_path / "similar.jsonl"
    result = invoke(
        "predict", heldout_csv, "--model", cli_bundle, "--text-col", "text", "--out", out,
        "--similar", "2",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    for line in read_jsonl(out):
        assert len(line["similar"]) == 2
        for case in line["similar"]:
            assert set(case) == {"id", "agency", "similarity", "snippet"}
            assert 0.0 <= case["similarity"] <= 1.0
        assert line["similar"][0]["similarity"] >= line["similar"][1]["similarity"]


def test_train_rejects_an_unknown_embedder(small_csv, tmp_path, monkeypatch, capsys):
    code, _, err = run_main(
        monkeypatch, capsys, "train", small_csv, "--text-col", "text", "--label-col", "agency",
        "--out", tmp_path / "b", "--embedder", "word2vec", "--quiet",
    )  # fmt: skip
    assert code == 2
    assert "unknown embedder" in err and "Traceback" not in err


def test_predict_writes_one_line_per_row_in_input_order(cli_bundle, heldout_csv, tmp_path):
    out = tmp_path / "pred" / "out.jsonl"
    result = invoke(
        "predict", heldout_csv, "--model", cli_bundle, "--text-col", "text", "--id-col", "id",
        "--out", out, "--top-k", "2",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = read_jsonl(out)
    rows = read_rows(heldout_csv)
    assert [line["id"] for line in lines] == [r["id"] for r in rows]
    version = read_manifest(cli_bundle)["model_version"]
    threshold = read_manifest(cli_bundle)["policy"]["threshold"]
    for line in lines:
        assert set(line) == {
            "id", "suggestions", "decision", "reasons", "jurisdiction", "model_version",
        }  # fmt: skip
        assert line["model_version"] == version
        assert len(line["suggestions"]) == 2
        for suggestion in line["suggestions"]:
            assert set(suggestion) == {"agency", "agency_code", "confidence"}
            assert 0.0 <= suggestion["confidence"] < 1.0
        top = line["suggestions"][0]["confidence"]
        if top < threshold:
            assert {"code": "low_confidence", "confidence": top, "threshold": threshold} in line[
                "reasons"
            ]
        assert (line["decision"] == "review") == bool(line["reasons"])
    assert not out.with_name(out.name + ".partial").exists()


def compared_labels(bundle: Path, labels: list[str]) -> list[str]:
    """The labels as evaluate compares them with a bundle trained with the default catalogue:
    the agencies' catalogue codes."""
    authority = load_bundle(bundle).authority
    return [agency_id(authority, label) for label in labels]


def top_agencies(lines: list[dict]) -> list[str]:
    """Each line's top agency as evaluate compares it: its code, else its name."""
    return [s["agency_code"] or s["agency"] for s in (line["suggestions"][0] for line in lines)]


def test_predict_routes_held_out_complaints(cli_bundle, heldout_csv, tmp_path):
    out = tmp_path / "out.jsonl"
    invoke("predict", heldout_csv, "--model", cli_bundle, "--text-col", "text", "--out", out)
    agencies = top_agencies(read_jsonl(out))
    labels = compared_labels(cli_bundle, [r["agency"] for r in read_rows(heldout_csv)])
    assert np.mean(np.array(agencies) == np.array(labels)) >= 0.8


def test_evaluate_json_has_exactly_the_contract_keys(cli_bundle, heldout_csv, tmp_path):
    out = tmp_path / "metrics.json"
    result = invoke(
        "evaluate", heldout_csv, "--model", cli_bundle, "--text-col", "text",
        "--label-col", "agency", "--json", out,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    metrics = json.loads(out.read_text(encoding="utf-8"))
    assert set(metrics) == METRICS_KEYS
    assert set(metrics["coverage_at_precision"]) == {"0.95", "0.98", "0.99"}
    assert metrics["n"] == len(read_rows(heldout_csv))
    assert metrics["threshold"] == read_manifest(cli_bundle)["policy"]["threshold"]


def test_evaluate_report_writes_html_and_three_figures(cli_bundle, heldout_csv, tmp_path):
    report = tmp_path / "report"
    result = invoke(
        "evaluate", heldout_csv, "--model", cli_bundle, "--text-col", "text",
        "--label-col", "agency", "--report", report, "--quiet",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "<html" in (report / "index.html").read_text(encoding="utf-8").lower()
    for name in (CONFUSION_PNG, RELIABILITY_PNG, PRECISION_COVERAGE_PNG):
        assert (report / name).read_bytes().startswith(PNG_MAGIC), name
    assert len(list(report.glob("*.png"))) == 3


def test_predict_and_evaluate_agree_on_accuracy(cli_bundle, mixed_csv, tmp_path):
    pred, metrics_path = tmp_path / "pred.jsonl", tmp_path / "metrics.json"
    invoke("predict", mixed_csv, "--model", cli_bundle, "--text-col", "text", "--out", pred)
    result = invoke(
        "evaluate", mixed_csv, "--model", cli_bundle, "--text-col", "text",
        "--label-col", "agency", "--json", metrics_path,
    )  # fmt: skip
    assert "unknown to the model" in result.stderr
    labels = compared_labels(cli_bundle, [r["agency"] for r in read_rows(mixed_csv)])
    predicted = top_agencies(read_jsonl(pred))
    accuracy = float(np.mean(np.array(predicted) == np.array(labels)))
    metrics = json.loads(metrics_path.read_text(encoding="utf-8"))
    assert accuracy < 1.0  # the unknown agency is always wrong
    assert metrics["accuracy"] == pytest.approx(accuracy, abs=1e-12)


def test_a_location_column_places_the_complaints_for_predict_and_evaluate(
    cli_bundle, heldout_csv, tmp_path
):
    rows = read_rows(heldout_csv)
    data = write_rows(
        tmp_path / "located.csv",
        ["id", "text", "agency", "lokasi"],
        [
            [r["id"], r["text"], r["agency"], "3273" if i % 2 else "Kota Bandung"]
            for i, r in enumerate(rows)
        ],
    )
    pred, metrics_path = tmp_path / "pred.jsonl", tmp_path / "metrics.json"
    result = invoke(
        "predict", data, "--model", cli_bundle, "--text-col", "text", "--location-col", "lokasi",
        "--out", pred, "--quiet",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = read_jsonl(pred)
    for i, line in enumerate(lines):
        place = line["jurisdiction"]
        assert (place["code"], place["name"], place["level"], place["source"]) == (
            "32.73", "KOTA BANDUNG", "kabkota", "location",
        )  # fmt: skip
        assert place["evidence"] == ("3273" if i % 2 else "Kota Bandung")
    pdam = [line for line, r in zip(lines, rows, strict=True) if "PDAM" in r["agency"]]
    assert pdam and {line["suggestions"][0]["agency_code"] for line in pdam} == {"PDAM-BDG"}
    assert {line["suggestions"][0]["agency"] for line in pdam} == {"PDAM TIRTAWENING KOTA BANDUNG"}
    result = invoke(
        "evaluate", data, "--model", cli_bundle, "--text-col", "text", "--label-col", "agency",
        "--location-col", "lokasi", "--json", metrics_path, "--quiet",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    labels = compared_labels(cli_bundle, [r["agency"] for r in rows])
    accuracy = float(np.mean(np.array(top_agencies(lines)) == np.array(labels)))
    metrics = json.loads(metrics_path.read_text(encoding="utf-8"))
    assert metrics["accuracy"] == pytest.approx(accuracy, abs=1e-12)
    assert accuracy >= 0.8
    assert "PDAM-BDG" in metrics["per_class"]


def test_a_missing_location_column_is_refused_with_one_line(
    cli_bundle, heldout_csv, tmp_path, monkeypatch, capsys
):
    code, _, err = run_main(
        monkeypatch, capsys, "predict", heldout_csv, "--model", cli_bundle, "--text-col", "text",
        "--location-col", "lokasi", "--out", tmp_path / "out.jsonl",
    )  # fmt: skip
    assert code != 0
    assert "'lokasi'" in err and "Traceback" not in err


def test_retarget_moves_the_threshold(bundle_copy):
    before = load_bundle(bundle_copy).policy
    result = invoke("retarget", "--model", bundle_copy, "--target-precision", "0.9")
    assert result.exit_code == 0, result.output
    after = load_bundle(bundle_copy).policy
    assert after.target_precision == 0.9
    assert after.threshold != before.threshold
    assert "threshold" in result.stdout


def test_train_reports_the_promise_and_can_give_each_agency_its_threshold(small_csv, tmp_path):
    out = tmp_path / "bundle"
    result = invoke(
        "train", small_csv, "--text-col", "text", "--label-col", "agency", "--out", out,
        "--target-precision", "0.9", "--bound-confidence", "0.8", "--per-agency-thresholds",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    policy = read_manifest(out)["policy"]
    assert policy["bound_confidence"] == 0.8
    assert policy["threshold_lower_bound"] >= 0.9
    assert set(policy["thresholds"]) == set(load_bundle(out).labels)
    assert "with confidence 0.80" in " ".join(result.stdout.split())
    # retarget keeps per-agency thresholds unless told otherwise
    assert invoke("retarget", "--model", out, "--target-precision", "0.85").exit_code == 0
    assert load_bundle(out).policy.thresholds is not None
    result = invoke("retarget", "--model", out, "--target-precision", "0.85", "--global-threshold")
    assert result.exit_code == 0, result.output
    assert load_bundle(out).policy.thresholds is None


@pytest.mark.parametrize("value", ["0", "1", "1.5"])
def test_bound_confidence_outside_zero_one_is_a_user_error(monkeypatch, capsys, bundle_copy, value):
    code, _, err = run_main(
        monkeypatch, capsys, "retarget", "--model", bundle_copy, "--target-precision", "0.9",
        "--bound-confidence", value,
    )  # fmt: skip
    assert code == 2
    assert "--bound-confidence must be in (0, 1)" in err


def test_evaluate_counts_the_decisions_predict_makes(bundle_copy, heldout_csv, tmp_path):
    assert invoke("retarget", "--model", bundle_copy, "--target-precision", "0.9").exit_code == 0
    pred, metrics = tmp_path / "pred.jsonl", tmp_path / "metrics.json"
    invoke("predict", heldout_csv, "--model", bundle_copy, "--text-col", "text", "--out", pred)
    result = invoke(
        "evaluate", heldout_csv, "--model", bundle_copy, "--text-col", "text",
        "--label-col", "agency", "--json", metrics,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = read_jsonl(pred)
    auto = [line["decision"] == "auto" for line in lines]
    assert any(auto) and not all(auto)  # both decisions are exercised
    assert json.loads(metrics.read_text(encoding="utf-8"))["threshold_coverage"] == pytest.approx(
        np.mean(auto)
    )


def test_missing_input_file_is_a_user_error(monkeypatch, capsys, cli_bundle, tmp_path):
    code, _, err = run_main(
        monkeypatch, capsys, "predict", tmp_path / "nope.csv", "--model", cli_bundle,
        "--text-col", "text", "--out", tmp_path / "out.jsonl",
    )  # fmt: skip
    assert_user_error(code, err, "file not found", "nope.csv")


def test_missing_model_is_a_user_error(monkeypatch, capsys, heldout_csv, tmp_path):
    code, _, err = run_main(
        monkeypatch, capsys, "predict", heldout_csv, "--model", tmp_path / "no-bundle",
        "--text-col", "text", "--out", tmp_path / "out.jsonl",
    )  # fmt: skip
    assert_user_error(code, err, "not a bundle")


def test_missing_column_lists_the_available_ones(monkeypatch, capsys, cli_bundle, heldout_csv):
    code, _, err = run_main(
        monkeypatch, capsys, "evaluate", heldout_csv, "--model", cli_bundle,
        "--text-col", "complaint", "--label-col", "agency",
    )  # fmt: skip
    assert_user_error(code, err, "'complaint'", "available: id, text, agency")


def test_error_text_with_brackets_is_printed_literally(monkeypatch, capsys, cli_bundle, tmp_path):
    # Column names and paths are user data: they must not be read as console markup.
    data = write_rows(tmp_path / "odd.csv", ["id", "[/note]", "[bold]isi"], [["1", "a", "b"]])
    code, _, err = run_main(
        monkeypatch, capsys, "predict", data, "--model", cli_bundle, "--text-col", "text",
        "--out", tmp_path / "out.jsonl",
    )  # fmt: skip
    assert_user_error(code, err, "available: id, [/note], [bold]isi")


def test_tampered_bundle_is_a_user_error(monkeypatch, capsys, bundle_copy, heldout_csv, tmp_path):
    path = bundle_copy / ROUTER_FILE
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    code, _, err = run_main(
        monkeypatch, capsys, "predict", heldout_csv, "--model", bundle_copy,
        "--text-col", "text", "--out", tmp_path / "out.jsonl",
    )  # fmt: skip
    assert_user_error(code, err, "checksum mismatch")
    assert not (tmp_path / "out.jsonl").exists()


def test_hand_edited_bundle_is_a_user_error(monkeypatch, capsys, bundle_copy, heldout_csv):
    manifest = json.loads((bundle_copy / MANIFEST).read_text(encoding="utf-8"))
    manifest["policy"]["threshold"] = 0.01
    (bundle_copy / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    code, _, err = run_main(
        monkeypatch, capsys, "evaluate", heldout_csv, "--model", bundle_copy,
        "--text-col", "text", "--label-col", "agency",
    )  # fmt: skip
    assert_user_error(code, err, "model_version")


@pytest.mark.parametrize("top_k", ["0", "11"])
def test_top_k_out_of_range_is_a_user_error(
    monkeypatch, capsys, cli_bundle, heldout_csv, tmp_path, top_k
):
    code, _, err = run_main(
        monkeypatch, capsys, "predict", heldout_csv, "--model", cli_bundle, "--text-col", "text",
        "--out", tmp_path / "out.jsonl", "--top-k", top_k,
    )  # fmt: skip
    assert_user_error(code, err, "--top-k", top_k)


def test_target_precision_above_one_is_a_user_error(monkeypatch, capsys, small_csv, tmp_path):
    code, _, err = run_main(
        monkeypatch, capsys, "train", small_csv, "--text-col", "text", "--label-col", "agency",
        "--out", tmp_path / "bundle", "--target-precision", "1.5",
    )  # fmt: skip
    assert_user_error(code, err, "--target-precision", "1.5")
    assert not (tmp_path / "bundle").exists()


def test_retarget_above_one_is_a_user_error(monkeypatch, capsys, bundle_copy):
    before = (bundle_copy / MANIFEST).read_bytes()
    code, _, err = run_main(
        monkeypatch, capsys, "retarget", "--model", bundle_copy, "--target-precision", "1.5"
    )
    assert_user_error(code, err, "--target-precision")
    assert (bundle_copy / MANIFEST).read_bytes() == before


def test_empty_file_is_a_user_error(monkeypatch, capsys, cli_bundle, tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    code, _, err = run_main(
        monkeypatch, capsys, "predict", empty, "--model", cli_bundle, "--text-col", "text",
        "--out", tmp_path / "out.jsonl",
    )  # fmt: skip
    assert_user_error(code, err, "empty")
    code, _, err = run_main(
        monkeypatch, capsys, "train", empty, "--text-col", "text", "--label-col", "agency",
        "--out", tmp_path / "bundle", "--quiet",
    )  # fmt: skip
    assert_user_error(code, err, "empty")


def test_training_on_one_agency_is_a_user_error(monkeypatch, capsys, small_corpus, tmp_path):
    rows = [[t, y] for t, y in zip(small_corpus.texts, small_corpus.labels, strict=True)]
    data = write_rows(tmp_path / "one.csv", ["text", "agency"], rows[:30])
    assert len({r[1] for r in rows[:30]}) == 1
    code, _, err = run_main(
        monkeypatch, capsys, "train", data, "--text-col", "text", "--label-col", "agency",
        "--out", tmp_path / "bundle", "--quiet",
    )  # fmt: skip
    assert_user_error(code, err, "at least 2 agencies")
    assert not (tmp_path / "bundle").exists()


def test_training_file_with_non_utf8_bytes_trains(small_csv, tmp_path):
    raw = small_csv.read_bytes()
    assert b"listrik" in raw
    latin = tmp_path / "latin.csv"
    latin.write_bytes(raw.replace(b"listrik", b"list\xe9rik"))  # cp1252 "é"
    result = invoke(
        "train", latin, "--text-col", "text", "--label-col", "agency", "--out", tmp_path / "b",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "not valid UTF-8" in result.stderr  # a warning: --quiet would hide it
    bundle = load_bundle(tmp_path / "b")
    assert bundle.manifest["training_data"]["rows_used"] == 150
    assert bundle.manifest["training_data"]["validation_report"]["non_utf8_rows"] > 0


def test_one_megabyte_complaint_predicts(cli_bundle, tmp_path):
    huge = ("listrik mati trs sejak kemarin, NIK 3201234567890001 hubungi 081234567890. " * 14000)[
        :1_000_000
    ]
    data = write_rows(tmp_path / "big.csv", ["id", "text"], [["big", huge], ["small", "air keruh"]])
    out = tmp_path / "out.jsonl"
    result = invoke(
        "predict", data, "--model", cli_bundle, "--text-col", "text", "--id-col", "id",
        "--out", out, "--quiet",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = read_jsonl(out)
    assert [line["id"] for line in lines] == ["big", "small"]
    top = lines[0]["suggestions"][0]
    assert (top["agency"], top["agency_code"]) == ("PT PLN (PERSERO)", "PLN")


def test_installed_executable_reports_user_errors_in_one_line(bundle_copy, heldout_csv, tmp_path):
    executable = Path(sys.executable).with_name("routing")
    assert executable.exists(), "the console script `routing` is not installed in the venv"
    (bundle_copy / ROUTER_FILE).write_bytes(b"not a skops file")
    env = {k: v for k, v in os.environ.items() if k != "ROUTING_SIGNING_KEY"}
    proc = subprocess.run(
        [str(executable), "predict", str(heldout_csv), "--model", str(bundle_copy),
         "--text-col", "text", "--out", str(tmp_path / "out.jsonl")],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert_user_error(proc.returncode, proc.stderr, "checksum mismatch", ROUTER_FILE)
    assert proc.stdout == ""
