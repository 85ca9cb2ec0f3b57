"""Evaluation report: one self-contained HTML page plus three figures, written to a folder.

The report is read by people deciding whether a model may auto-route complaints, so it shows
where the model fails (worst agencies first, most confident errors) rather than only averages.
Complaint texts are masked before they reach the page: reports get shared and archived.

Figures use matplotlib's object API (`Figure`, no pyplot), so no global backend or figure
registry is touched and nothing needs closing.
"""

from __future__ import annotations

import html
import math
import textwrap
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from routing.evaluation.metrics import (
    ECE_BINS,
    expected_calibration_error,
    operating_point,
    precision_coverage_curve,
)
from routing.text import mask_personal_data

MISSING = "–"
PRECISION_LINES: tuple[float, ...] = (0.95, 0.98, 0.99)
CONFUSION_PNG = "confusion_matrix.png"
RELIABILITY_PNG = "reliability.png"
PRECISION_COVERAGE_PNG = "precision_coverage.png"

# Common prefixes of Indonesian agency names, shortened so axis labels stay legible.
_ABBREVIATIONS: tuple[tuple[str, str], ...] = (
    ("Badan Penyelenggara Jaminan Sosial", "BPJS"),
    ("Pemerintah Kabupaten", "Pemkab"),
    ("Pemerintah Kota", "Pemkot"),
    ("Pemerintah Provinsi", "Pemprov"),
    ("Direktorat Jenderal", "Ditjen"),
    ("Kementerian", "Kemen."),
)
_LABEL_WIDTH = 22
_LABEL_LINES = 2

_SUMMARY_ROWS: tuple[tuple[str, str, str], ...] = (
    ("n", "Complaints evaluated", ""),
    ("accuracy", "Accuracy", "top suggestion is the disposed agency"),
    ("macro_f1", "Macro-F1", "mean F1 over agencies; small agencies count as much as large"),
    ("top3_accuracy", "Top-3 accuracy", "disposed agency among the three suggestions"),
    ("ece", "ECE", f"expected calibration error, {ECE_BINS} equal-width bins; lower is better"),
    (
        "threshold",
        "Auto-route threshold",
        "confidence at or above which a suggestion is auto-routed",
    ),
    ("threshold_precision", "Precision at threshold", "share of auto-routed that is correct"),
    ("threshold_coverage", "Coverage at threshold", "share of complaints auto-routed"),
)

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto;
       max-width: 1100px; padding: 0 1rem; color: #222; line-height: 1.4; }
h1 { margin-bottom: 0.2rem; }
.meta { color: #666; margin-top: 0; }
.warning { background: #fff3cd; border: 2px solid #d39e00; padding: 0.6rem 0.8rem;
           font-weight: 600; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; }
th, td { border: 1px solid #ddd; padding: 0.3rem 0.6rem; text-align: left; vertical-align: top; }
th { background: #f4f4f4; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.note { color: #666; font-size: 0.9em; }
td.snippet { font-size: 0.9em; max-width: 40rem; overflow-wrap: anywhere; }
figure { margin: 1rem 0 2rem; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #666; font-size: 0.9em; }
"""


def write_report(
    out_dir: str | Path,
    metrics: dict,
    *,
    y_true: Sequence[str],
    y_pred: Sequence[str],
    confidence: np.ndarray,
    texts: Sequence[str],
    model_version: str,
    labels: Sequence[str] | None = None,
    max_errors: int = 25,
    snippet_chars: int = 300,
    warning: str | None = None,
) -> Path:
    """Write index.html and the three figures into `out_dir`; return the index.html path.

    `metrics` is the dict from `routing.evaluation.metrics.evaluate_suggestions`; `y_true`,
    `y_pred`, `confidence` (top-suggestion probability) and `texts` (raw complaint texts) are
    aligned per complaint. `labels` orders the confusion matrix (default: sorted union of true
    and predicted agencies); agencies missing from it are appended rather than dropped.
    `warning` is shown as a banner above everything (scores flattered by training data).
    """
    y_true = [str(y) for y in y_true]
    y_pred = [str(y) for y in y_pred]
    confidence = np.asarray(confidence, dtype=float).reshape(-1)
    texts = list(texts)
    sizes = {len(y_true), len(y_pred), len(confidence), len(texts)}
    if len(sizes) != 1:
        raise ValueError(
            f"y_true, y_pred, confidence and texts must have equal length, got "
            f"{len(y_true)}, {len(y_pred)}, {len(confidence)}, {len(texts)}"
        )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    correct = np.array([t == p for t, p in zip(y_true, y_pred, strict=True)], dtype=bool)

    plot_confusion_matrix(y_true, y_pred, labels, out / CONFUSION_PNG)
    plot_reliability(confidence, correct, out / RELIABILITY_PNG)
    plot_precision_coverage(
        confidence, correct, out / PRECISION_COVERAGE_PNG, threshold=metrics.get("threshold")
    )

    errors = most_confident_errors(y_true, y_pred, confidence, max_errors)
    error_rows = [
        (float(confidence[i]), y_true[i], y_pred[i], snippet(texts[i], snippet_chars))
        for i in errors
    ]
    page = _render_html(
        metrics,
        error_rows=error_rows,
        n_errors=int((~correct).sum()),
        model_version=model_version,
        generated_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        warning=warning,
    )
    index = out / "index.html"
    index.write_text(page, encoding="utf-8")
    return index


def most_confident_errors(
    y_true: Sequence[str], y_pred: Sequence[str], confidence: np.ndarray, limit: int
) -> list[int]:
    """Indices of wrong suggestions, most confident first: the errors auto-routing would make."""
    wrong = [i for i, (t, p) in enumerate(zip(y_true, y_pred, strict=True)) if t != p]
    wrong.sort(key=lambda i: -float(confidence[i]))
    return wrong[: max(limit, 0)]


def snippet(text: str, max_chars: int) -> str:
    """Masked, whitespace-collapsed text cut to `max_chars` (ellipsis included).

    Masking comes before cutting so a cut can never leave a partial identifier unmasked.
    """
    masked = " ".join(mask_personal_data(str(text)).split())
    if len(masked) <= max_chars:
        return masked
    return masked[: max(max_chars - 1, 0)].rstrip() + "…"


def plot_confusion_matrix(
    y_true: Sequence[str], y_pred: Sequence[str], labels: Sequence[str] | None, path: str | Path
) -> None:
    """Row-normalised confusion matrix (colour = share of the true agency), counts annotated."""
    y_true = [str(y) for y in y_true]
    y_pred = [str(y) for y in y_pred]
    labels = _complete_labels(labels, y_true, y_pred)
    index = {label: i for i, label in enumerate(labels)}
    k = len(labels)
    counts = np.zeros((k, k), dtype=int)
    for t, p in zip(y_true, y_pred, strict=True):
        counts[index[t], index[p]] += 1
    row_totals = counts.sum(axis=1, keepdims=True)
    shares = np.divide(counts, row_totals, out=np.zeros(counts.shape), where=row_totals > 0)

    side = min(max(4.0, 0.55 * k + 3.0), 60.0)
    fig = Figure(figsize=(side + 1.2, side), layout="constrained")
    ax = fig.add_subplot()
    image = ax.imshow(shares, cmap="Blues", vmin=0.0, vmax=1.0)
    fig.colorbar(image, ax=ax, shrink=0.8, label="share of true agency")
    ticks = _axis_labels(labels)
    tick_size = 9 if k <= 12 else max(5, 9 - (k - 12) // 6)
    ax.set_xticks(range(k), ticks, rotation=60, ha="right", rotation_mode="anchor")
    ax.set_yticks(range(k), ticks)
    ax.tick_params(labelsize=tick_size)
    ax.set_xlabel("Suggested agency")
    ax.set_ylabel("Disposed (true) agency")
    ax.set_title(f"Confusion matrix ({len(y_true)} complaints, rows sum to 1)")
    for i in range(k):
        for j in range(k):
            if counts[i, j]:
                colour = "white" if shares[i, j] > 0.5 else "black"
                ax.text(
                    j,
                    i,
                    str(counts[i, j]),
                    ha="center",
                    va="center",
                    fontsize=tick_size,
                    color=colour,
                )
    fig.savefig(path, dpi=100)


def plot_reliability(
    confidence: np.ndarray, correct: np.ndarray, path: str | Path, n_bins: int = ECE_BINS
) -> None:
    """Accuracy per confidence bin against the diagonal, with a histogram of confidences."""
    confidence = np.asarray(confidence, dtype=float).reshape(-1)
    correct = np.asarray(correct, dtype=float).reshape(-1)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    # Same binning as routing.evaluation.metrics: bin i holds (edge_i, edge_i+1], 0 joins the
    # first bin.
    bins = np.clip(np.ceil(confidence * n_bins).astype(int) - 1, 0, n_bins - 1)
    counts = np.bincount(bins, minlength=n_bins)
    hits = np.bincount(bins, weights=correct, minlength=n_bins)
    filled = counts > 0
    accuracy = np.divide(hits, counts, out=np.zeros(n_bins), where=filled)
    centres = (edges[:-1] + edges[1:]) / 2
    width = 1.0 / n_bins
    ece = expected_calibration_error(confidence, correct, n_bins=n_bins)

    fig = Figure(figsize=(6.0, 7.0), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[3, 1])
    top.bar(
        centres[filled],
        accuracy[filled],
        width=width * 0.9,
        color="#4c72b0",
        edgecolor="#2a4a80",
        label="accuracy in bin",
    )
    top.plot([0, 1], [0, 1], "--", color="grey", label="perfect calibration")
    top.set_xlim(0, 1)
    top.set_ylim(0, 1.02)
    top.set_ylabel("Accuracy")
    top.set_title(f"Reliability of the top suggestion (ECE = {ece:.3f}, {n_bins} bins)")
    top.legend(loc="upper left")
    bottom.bar(centres, counts, width=width * 0.9, color="#999999")
    bottom.set_xlabel("Confidence of the top suggestion")
    bottom.set_ylabel("Complaints")
    fig.savefig(path, dpi=100)


def plot_precision_coverage(
    confidence: np.ndarray, correct: np.ndarray, path: str | Path, threshold: float | None = None
) -> None:
    """Precision against coverage when auto-routing the most confident complaints first."""
    confidence = np.asarray(confidence, dtype=float).reshape(-1)
    correct = np.asarray(correct, dtype=float).reshape(-1)
    fig = Figure(figsize=(7.0, 5.0), layout="constrained")
    ax = fig.add_subplot()
    low = 0.9
    if confidence.size:
        _, precision, coverage = precision_coverage_curve(confidence, correct)
        ax.step(
            np.r_[0.0, coverage],
            np.r_[precision[0], precision],
            where="pre",
            color="#4c72b0",
            label="auto-route most confident first",
        )
        low = min(low, float(precision.min()))
    else:
        ax.text(0.5, 0.5, "no complaints", ha="center", va="center", transform=ax.transAxes)
    for target in PRECISION_LINES:
        ax.axhline(target, color="grey", linestyle=":", linewidth=1)
        ax.text(
            1.0,
            target,
            f" {target:.2f}",
            va="center",
            ha="left",
            fontsize=8,
            color="grey",
            transform=ax.get_yaxis_transform(),
        )
    if threshold is not None and confidence.size:
        point_precision, point_coverage = operating_point(confidence, correct, float(threshold))
        if point_precision is not None:
            ax.plot(
                [point_coverage],
                [point_precision],
                "o",
                color="#c44e52",
                markersize=8,
                label=f"threshold {threshold:.3f}: precision {point_precision:.3f}, "
                f"coverage {point_coverage:.3f}",
            )
    ax.set_xlim(0, 1)
    ax.set_ylim(max(0.0, low - 0.02), 1.005)
    ax.set_xlabel("Coverage (share of complaints auto-routed)")
    ax.set_ylabel("Precision of auto-routed suggestions")
    ax.set_title("Precision–coverage")
    ax.legend(loc="lower left")
    fig.savefig(path, dpi=100)


def _complete_labels(
    labels: Sequence[str] | None, y_true: Sequence[str], y_pred: Sequence[str]
) -> list[str]:
    """`labels` plus any agency seen in the data but missing from it, so no complaint vanishes."""
    seen = set(y_true) | set(y_pred)
    if labels is None:
        return sorted(seen)
    ordered = [str(label) for label in dict.fromkeys(labels)]
    return ordered + sorted(seen - set(ordered))


def _axis_labels(labels: Sequence[str]) -> list[str]:
    """Short axis labels, numbered where two agencies would otherwise look the same."""
    short = [_short_label(label) for label in labels]
    seen: dict[str, int] = {}
    for label in short:
        seen[label] = seen.get(label, 0) + 1
    counter: dict[str, int] = {}
    numbered = []
    for label in short:
        if seen[label] > 1:
            counter[label] = counter.get(label, 0) + 1
            label = f"{label} ({counter[label]})"
        numbered.append(label)
    return numbered


def _short_label(name: str) -> str:
    """An agency name abbreviated and wrapped to at most two short lines for an axis.

    Overlong names keep their first and last words: the tail is what tells "BPJS Kesehatan"
    from "BPJS Ketenagakerjaan" or one Pemkab from another.
    """
    for long, short in _ABBREVIATIONS:
        if name.casefold().startswith(long.casefold()):
            prefix = name[: len(long)]
            name = (short.upper() if prefix.isupper() else short) + name[len(long) :]
            break
    lines = textwrap.wrap(name, _LABEL_WIDTH) or [name]
    if len(lines) <= _LABEL_LINES:
        return "\n".join(lines)
    tail: list[str] = []
    for word in reversed(" ".join(lines[1:]).split()):
        if len(" ".join([word, *tail])) > _LABEL_WIDTH - 1:
            break
        tail.insert(0, word)
    last = " ".join(tail) if tail else lines[-1][-(_LABEL_WIDTH - 1) :]
    return f"{lines[0]}\n…{last}"


def _fmt(value: object, digits: int = 3) -> str:
    """A metric for display; undefined values (None, NaN) become a dash."""
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return html.escape(str(value))
    return MISSING if math.isnan(number) else f"{number:.{digits}f}"


def _f1_sort_key(item: tuple[str, dict]) -> tuple[int, float, str]:
    """Worst F1 first; agencies with undefined F1 last."""
    name, scores = item
    f1 = scores.get("f1")
    undefined = f1 is None or (isinstance(f1, float) and math.isnan(f1))
    return (1 if undefined else 0, 0.0 if undefined else float(f1), name)


def _render_html(
    metrics: dict,
    *,
    error_rows: list[tuple[float, str, str, str]],
    n_errors: int,
    model_version: str,
    generated_at: str,
    warning: str | None = None,
) -> str:
    esc = html.escape
    banner = f'<p class="warning" role="alert">{esc(warning)}</p>\n' if warning else ""
    # With corrected labels every figure is shown beside the recorded-label one, never alone.
    corrected = metrics.get("corrected")
    both = [metrics] if corrected is None else [metrics, corrected]

    def cells(get) -> str:
        return "".join(f"<td class='num'>{_fmt(get(m))}</td>" for m in both)

    heads = (
        "<th>Value</th>"
        if corrected is None
        else "<th>Recorded labels</th><th>Corrected labels</th>"
    )
    summary = "\n".join(
        f"<tr><th>{esc(title)}</th>{cells(lambda m, key=key: m.get(key))}"
        f"<td class='note'>{esc(note)}</td></tr>"
        for key, title, note in _SUMMARY_ROWS
    )
    targets = metrics.get("coverage_at_precision") or {}
    coverage = "\n".join(
        f"<tr><td class='num'>{esc(str(target))}</td>"
        f"{cells(lambda m, t=target: (m.get('coverage_at_precision') or {}).get(t))}</tr>"
        for target in sorted(targets, key=float)
    )
    applied = (
        ""
        if corrected is None
        else f"<p>Corrected labels: reviewed corrections changed the true agency of "
        f"{_fmt(metrics.get('corrections_applied'))} complaints; the per-agency table, "
        "figures and errors use the recorded labels.</p>\n"
    )
    per_class = sorted((metrics.get("per_class") or {}).items(), key=_f1_sort_key)
    agencies = "\n".join(
        f"<tr><td>{esc(str(name))}</td>"
        f"<td class='num'>{_fmt(s.get('precision'))}</td>"
        f"<td class='num'>{_fmt(s.get('recall'))}</td>"
        f"<td class='num'>{_fmt(s.get('f1'))}</td>"
        f"<td class='num'>{_fmt(s.get('support'))}</td></tr>"
        for name, s in per_class
    )
    errors = "\n".join(
        f"<tr><td class='num'>{rank}</td><td class='num'>{conf:.3f}</td>"
        f"<td>{esc(true)}</td><td>{esc(pred)}</td><td class='snippet'>{esc(text)}</td></tr>"
        for rank, (conf, true, pred, text) in enumerate(error_rows, start=1)
    )
    if not error_rows:
        errors = "<tr><td colspan='5'>No errors.</td></tr>"
    version = esc(str(model_version))
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Evaluation report – {version}</title>
<style>{_CSS}</style>
</head>
<body>
<h1>Evaluation report</h1>
{banner}<p class="meta">Model version <strong>{version}</strong> · generated {esc(generated_at)}</p>

<h2>Summary</h2>
{applied}<table>
<tr><th>Metric</th>{heads}<th>Meaning</th></tr>
{summary}
</table>

<h2>Coverage at precision</h2>
<p>Largest share of complaints that can be auto-routed, most confident first, while the
auto-routed suggestions keep at least the target precision.</p>
<table>
<tr><th>Target precision</th>{heads.replace("Value", "Coverage")}</tr>
{coverage}
</table>

<h2>Per agency (worst F1 first)</h2>
<table>
<tr><th>Agency</th><th>Precision</th><th>Recall</th><th>F1</th><th>Support</th></tr>
{agencies}
</table>

<h2>Figures</h2>
<figure><img src="{CONFUSION_PNG}" alt="Confusion matrix, row-normalised">
<figcaption>Confusion matrix: rows are disposed agencies, columns suggested agencies; colour is
the share of the row, numbers are counts.</figcaption></figure>
<figure><img src="{RELIABILITY_PNG}" alt="Reliability diagram">
<figcaption>Reliability: bars on the diagonal mean confidence can be read as the chance the
suggestion is right.</figcaption></figure>
<figure><img src="{PRECISION_COVERAGE_PNG}" alt="Precision-coverage curve">
<figcaption>Precision against coverage when the most confident suggestions are auto-routed
first; the dot is the stored threshold.</figcaption></figure>

<h2>Most confident errors</h2>
<p>{len(error_rows)} of {n_errors} wrong suggestions, most confident first. Personal data is
masked and texts are truncated.</p>
<table>
<tr><th>#</th><th>Confidence</th><th>True agency</th><th>Suggested agency</th>
<th>Complaint (masked)</th></tr>
{errors}
</table>
</body>
</html>
"""
