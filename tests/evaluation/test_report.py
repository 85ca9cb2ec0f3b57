import html
import re
from pathlib import Path

import numpy as np
import pytest

from routing.evaluation.report import (
    _axis_labels,
    most_confident_errors,
    plot_confusion_matrix,
    plot_precision_coverage,
    plot_reliability,
    snippet,
    write_report,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
NIK = "3201234567890001"
PHONE = "081234567890"
AGENCIES = ["BPJS Kesehatan", "Kementerian Pendidikan dan Kebudayaan", "PT PLN"]


def _metrics(per_class: dict[str, float], **overrides) -> dict:
    """A metrics dict shaped like `routing evaluate --json`, with chosen F1 per agency."""
    metrics = {
        "n": 8,
        "accuracy": 0.625,
        "macro_f1": 0.61234,
        "top3_accuracy": 0.875,
        "ece": 0.0712,
        "coverage_at_precision": {"0.95": 0.25, "0.98": 0.125, "0.99": 0.0},
        "threshold": 0.9,
        "threshold_precision": 1.0,
        "threshold_coverage": 0.25,
        "per_class": {
            name: {"precision": f1, "recall": f1, "f1": f1, "support": 3}
            for name, f1 in per_class.items()
        },
    }
    metrics.update(overrides)
    return metrics


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> tuple[Path, str, list[str]]:
    texts = [
        "Listrik padam sejak kemarin di desa kami.",
        f"Kartu BPJS saya ditolak, NIK {NIK}, hubungi {PHONE}. Tolong dibantu segera.",
        "Sekolah memungut biaya seragam <script>alert('x')</script> tanpa dasar.",
        "Tagihan listrik naik dua kali lipat bulan ini.",
        "Klaim rawat inap belum dibayar rumah sakit.",
        "Guru honorer belum menerima gaji tiga bulan.",
        "Meteran listrik rusak dan belum diganti petugas.",
        "Pendaftaran peserta BPJS mandiri ditolak kantor cabang.",
    ]
    y_true = [
        "PT PLN",
        "BPJS Kesehatan",
        "Kementerian Pendidikan dan Kebudayaan",
        "PT PLN",
        "BPJS Kesehatan",
        "Kementerian Pendidikan dan Kebudayaan",
        "PT PLN",
        "BPJS Kesehatan",
    ]
    y_pred = [
        "PT PLN",
        "PT PLN",  # the most confident error: holds the NIK and phone
        "BPJS Kesehatan",  # holds markup
        "PT PLN",
        "BPJS Kesehatan",
        "Kementerian Pendidikan dan Kebudayaan",
        "BPJS Kesehatan",
        "BPJS Kesehatan",
    ]
    confidence = np.array([0.97, 0.95, 0.60, 0.91, 0.80, 0.75, 0.40, 0.55])
    metrics = _metrics(
        {"BPJS Kesehatan": 0.6667, "Kementerian Pendidikan dan Kebudayaan": 0.6667, "PT PLN": 0.5},
        threshold_precision=None,
    )
    out = tmp_path_factory.mktemp("report")
    index = write_report(
        out,
        metrics,
        y_true=y_true,
        y_pred=y_pred,
        confidence=confidence,
        texts=texts,
        model_version="lapor10-2024.06.01",
    )
    return index, index.read_text(encoding="utf-8"), texts


def test_write_report_writes_index_and_valid_pngs(report):
    index, page, _ = report
    assert index.name == "index.html"
    for name in ("confusion_matrix.png", "reliability.png", "precision_coverage.png"):
        png = index.parent / name
        data = png.read_bytes()
        assert data.startswith(PNG_MAGIC), name
        assert len(data) > 5_000, name
        assert f'src="{name}"' in page


def test_report_names_every_agency_and_formats_macro_f1(report):
    _, page, _ = report
    for agency in AGENCIES:
        assert agency in page
    assert "0.612" in page
    assert "lapor10-2024.06.01" in page


def test_report_shows_masked_snippet_of_most_confident_error(report):
    _, page, texts = report
    assert html.escape(snippet(texts[1], 300)) in page
    errors = page.split("Most confident errors")[1]
    # The 0.95 error is listed before the 0.60 and 0.40 ones.
    assert errors.index("0.950") < errors.index("0.600") < errors.index("0.400")


def test_report_never_contains_personal_data(report):
    _, page, _ = report
    assert NIK not in page
    assert PHONE not in page


def test_report_escapes_markup_from_complaint_texts(report):
    _, page, _ = report
    assert "<script>" not in page
    assert "&lt;script&gt;" in page


def test_undefined_metric_renders_as_dash(report):
    _, page, _ = report
    assert re.search(r"Precision at threshold</th><td class='num'>–</td>", page)


def test_per_agency_table_lists_worst_f1_first(report):
    _, page, _ = report
    table = page.split("Per agency")[1].split("</table>")[0]
    assert table.index("PT PLN") < table.index("BPJS Kesehatan")


def test_unknown_true_agency_is_reported_as_error(tmp_path):
    y_true = ["PT PLN", "Dinas Baru", "OJK"]
    y_pred = ["PT PLN", "OJK", "OJK"]
    metrics = _metrics({"PT PLN": 1.0, "OJK": 0.6667, "Dinas Baru": 0.0}, n=3)
    index = write_report(
        tmp_path,
        metrics,
        y_true=y_true,
        y_pred=y_pred,
        confidence=np.array([0.9, 0.8, 0.7]),
        texts=["a", "b", "c"],
        model_version="v1",
        labels=["OJK", "PT PLN"],  # the model's classes: "Dinas Baru" is unknown to it
    )
    errors = index.read_text(encoding="utf-8").split("Most confident errors")[1]
    assert "<td>Dinas Baru</td><td>OJK</td>" in errors
    assert (tmp_path / "confusion_matrix.png").read_bytes().startswith(PNG_MAGIC)


@pytest.mark.parametrize("n_classes", [2, 15])
def test_report_handles_few_and_many_agencies(tmp_path, n_classes):
    rng = np.random.default_rng(0)
    agencies = [f"Pemerintah Kabupaten Contoh Nomor {i} Provinsi Panjang" for i in range(n_classes)]
    y_true = [agencies[i % n_classes] for i in range(60)]
    y_pred = [a if rng.random() < 0.7 else agencies[0] for a in y_true]
    metrics = _metrics({a: 0.5 for a in agencies}, n=60)
    index = write_report(
        tmp_path,
        metrics,
        y_true=y_true,
        y_pred=y_pred,
        confidence=rng.uniform(0.2, 1.0, size=60),
        texts=[f"aduan {i}" for i in range(60)],
        model_version="v1",
    )
    page = index.read_text(encoding="utf-8")
    assert all(a in page for a in agencies)
    assert len((tmp_path / "confusion_matrix.png").read_bytes()) > 5_000


def test_confusion_matrix_grows_with_number_of_agencies(tmp_path):
    def png_width(path: Path) -> int:
        return int.from_bytes(path.read_bytes()[16:20], "big")

    small, large = tmp_path / "small.png", tmp_path / "large.png"
    plot_confusion_matrix(["a", "b"], ["a", "a"], None, small)
    many = [f"agency {i}" for i in range(15)]
    plot_confusion_matrix(many, many[::-1], None, large)
    assert png_width(large) > png_width(small)


def test_axis_labels_keep_similar_long_agency_names_apart():
    names = [
        "BADAN PENYELENGGARA JAMINAN SOSIAL KESEHATAN",
        "BADAN PENYELENGGARA JAMINAN SOSIAL KETENAGAKERJAAN",
        "Pemerintah Kabupaten Bandung Barat Provinsi Jawa Barat Nomor 1",
        "Pemerintah Kabupaten Bandung Barat Provinsi Jawa Barat Nomor 2",
    ]
    short = _axis_labels(names)
    assert len(set(short)) == len(names)
    assert all(len(line) <= 22 for label in short for line in label.split("\n"))
    assert all(label.count("\n") <= 1 for label in short)


def test_snippet_truncates_with_ellipsis_after_masking():
    text = f"NIK {NIK} " + "kata " * 200
    cut = snippet(text, 50)
    assert len(cut) <= 50
    assert cut.endswith("…")
    assert NIK not in cut
    assert snippet("pendek", 50) == "pendek"


def test_most_confident_errors_skips_correct_and_respects_limit():
    y_true = ["a", "b", "c", "d"]
    y_pred = ["a", "x", "x", "x"]
    confidence = np.array([0.99, 0.5, 0.9, 0.7])
    assert most_confident_errors(y_true, y_pred, confidence, 2) == [2, 3]


def test_plots_accept_all_correct_and_no_threshold(tmp_path):
    confidence = np.array([0.0, 0.5, 1.0])
    correct = np.array([True, True, True])
    plot_reliability(confidence, correct, tmp_path / "r.png")
    plot_precision_coverage(confidence, correct, tmp_path / "p.png", threshold=None)
    assert (tmp_path / "r.png").read_bytes().startswith(PNG_MAGIC)
    assert (tmp_path / "p.png").read_bytes().startswith(PNG_MAGIC)


def test_write_report_rejects_misaligned_inputs(tmp_path):
    with pytest.raises(ValueError, match="equal length"):
        write_report(
            tmp_path,
            _metrics({"a": 1.0}),
            y_true=["a", "a"],
            y_pred=["a"],
            confidence=np.array([0.9]),
            texts=["x"],
            model_version="v1",
        )
