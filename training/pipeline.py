"""Training pipeline: data file → validated complaints → fitted router → policy → bundle.

read_table → validate (dedupe) → Router.fit (out-of-fold calibration scores)
→ choose_threshold → evaluate out-of-fold → save_bundle
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from routing.bundle import STOPWORDS_FILE, Calibration, read_manifest, save_bundle
from routing.catalogue import Catalogue, LabelMapping, load_catalogue
from routing.embeddings import without_cache
from routing.evaluation.metrics import evaluate_suggestions
from routing.policy import (
    DEFAULT_BOUND_CONFIDENCE,
    DEFAULT_TARGET_PRECISION,
    Policy,
    choose_threshold,
)
from routing.router import Router
from routing.similar import SimilarIndex
from routing.text import DEFAULT_LEXICON_PATH, TextNormalizer, load_stopwords
from training.data import DataError, LoadedTable, read_table, require_columns
from training.validate import ValidationReport, validate

Progress = Callable[[str], None]


@dataclass
class TrainingData:
    """Validated complaints ready for fitting, with where they came from."""

    frame: pd.DataFrame  # columns text, agency, id
    report: ValidationReport
    table: LoadedTable
    label_mapping: LabelMapping | None = None  # what the agency catalogue did, if one was given


@dataclass
class TrainResult:
    bundle_path: Path
    report: ValidationReport
    metrics: dict[str, Any]
    policy: Policy
    model_version: str
    label_mapping: LabelMapping | None = None


def load_training_data(
    path: str | Path,
    text_col: str,
    label_col: str,
    *,
    id_col: str | None = None,
    min_examples: int = 5,
    format: str | None = None,
    agencies: Catalogue | None = None,
) -> TrainingData:
    """Read and validate a disposition table; duplicates are detected on normalized text.

    With an agency catalogue, labels are mapped to its codes (renames and merges applied)
    before validation; labels it does not know are kept and reported in `label_mapping`.
    """
    table = read_table(path, format=format)
    columns = [text_col, label_col] + ([id_col] if id_col else [])
    require_columns(table.frame, columns, table.path)
    frame, mapping = table.frame, None
    if agencies is not None:
        frame, mapping = map_agencies(frame, label_col, agencies)
    clean, report = validate(
        frame,
        text_col,
        label_col,
        id_col=id_col,
        min_examples=min_examples,
        normalize=duplicate_key(),
        non_utf8_rows=table.non_utf8_rows,
    )
    return TrainingData(frame=clean, report=report, table=table, label_mapping=mapping)


def duplicate_key() -> Callable[[str], str]:
    """The normalization under which two complaints count as duplicates in validation.

    HTML, case and whitespace only. Personal data is deliberately *not* masked here: texts
    that differ only in a customer number are distinct complaints (LAPOR-10 holds a campaign
    template sent ~100 times with different PLN ids), and real traffic repeats them.
    """
    return TextNormalizer(mask=False, lexicon=False, collapse_repeats=False).fit([]).normalize


def map_agencies(
    frame: pd.DataFrame, label_col: str, agencies: Catalogue
) -> tuple[pd.DataFrame, LabelMapping]:
    """A copy of `frame` whose `label_col` holds catalogue codes where the catalogue knows them."""
    labels = ["" if pd.isna(v) else str(v).strip() for v in frame[label_col].tolist()]
    mapping = agencies.map_labels(labels)
    frame = frame.copy()
    frame[label_col] = pd.Series(mapping.labels, index=frame.index, dtype=object)
    return frame, mapping


def fit_router(
    texts: list[str],
    labels: list[str],
    *,
    seed: int = 0,
    target_precision: float = DEFAULT_TARGET_PRECISION,
    bound_confidence: float = DEFAULT_BOUND_CONFIDENCE,
    per_agency: bool = False,
    router_params: dict[str, Any] | None = None,
) -> tuple[Router, Policy, dict[str, Any]]:
    """Fit a router, choose its threshold on out-of-fold scores and score it out-of-fold.

    The threshold keeps `target_precision` with `bound_confidence` (`routing.policy`);
    `per_agency` gives every agency its own threshold by that rule.

    Raises `DataError` when no agency has 2 complaints: there is nothing to calibrate on.
    """
    counts = np.unique(np.asarray(labels, dtype=object), return_counts=True)[1]
    if len(counts) and counts.max() < 2:
        raise DataError(
            f"each of the {len(counts)} agencies has a single complaint (is the label column "
            "right?); need at least 2 complaints of one agency"
        )
    router = Router(random_state=seed, **(router_params or {})).fit(texts, labels)
    oof = router.oof_proba_
    y = np.asarray(labels, dtype=object)
    top = oof.argmax(axis=1)
    confidence = oof[np.arange(len(y)), top]
    correct = router.classes_[top] == y
    policy = choose_threshold(
        confidence,
        correct,
        target_precision,
        bound_confidence=bound_confidence,
        agencies=router.classes_[top] if per_agency else None,
    )
    auto = policy.auto(confidence, router.classes_[top])
    metrics = evaluate_suggestions(y, oof, router.classes_, policy.threshold, auto=auto)
    return router, policy, metrics


def train(
    path: str | Path,
    text_col: str,
    label_col: str,
    out_dir: str | Path,
    *,
    id_col: str | None = None,
    seed: int = 0,
    target_precision: float = DEFAULT_TARGET_PRECISION,
    bound_confidence: float = DEFAULT_BOUND_CONFIDENCE,
    per_agency: bool = False,
    min_examples: int = 5,
    format: str | None = None,
    router_params: dict[str, Any] | None = None,
    signing_key: str | None = None,
    progress: Progress | None = None,
    agencies: str | Path | None = None,
) -> TrainResult:
    """Train a router on a disposition table and write a verified bundle to `out_dir`.

    `agencies` is an agency catalogue CSV (routing.catalogue) that labels are mapped through.
    """
    say = progress or (lambda _msg: None)
    say("reading and validating data")
    catalogue = load_catalogue(agencies) if agencies is not None else None
    data = load_training_data(
        path,
        text_col,
        label_col,
        id_col=id_col,
        min_examples=min_examples,
        format=format,
        agencies=catalogue,
    )
    frame = data.frame
    say(f"fitting router on {len(frame)} complaints, {data.report.n_agencies} agencies")
    router, policy, metrics = fit_router(
        frame["text"].tolist(),
        frame["agency"].tolist(),
        seed=seed,
        target_precision=target_precision,
        bound_confidence=bound_confidence,
        per_agency=per_agency,
        router_params=router_params,
    )
    say("writing bundle")
    training: dict[str, Any] = {
        "file": data.table.path.name,
        "format": data.table.format,
        "sha256": data.table.sha256,
        "text_col": text_col,
        "label_col": label_col,
        "id_col": id_col,
        "rows_read": data.report.rows_read,
        "rows_used": len(frame),
        "validation_report": data.report.to_dict(),
    }
    if agencies is not None and data.label_mapping is not None:
        training["catalogue"] = catalogue_record(agencies, data.label_mapping)
    bundle_path, version = save_router_bundle(
        out_dir,
        router,
        policy,
        metrics,
        frame["agency"].tolist(),
        training=training,
        seed=seed,
        signing_key=signing_key,
        texts=frame["text"].tolist(),
        ids=frame["id"].tolist(),
    )
    return TrainResult(bundle_path, data.report, metrics, policy, version, data.label_mapping)


def catalogue_record(path: str | Path, mapping: LabelMapping) -> dict[str, Any]:
    """What the manifest says about the agency catalogue labels were mapped through."""
    return {
        "file": Path(path).name,
        "sha256": hashlib.sha256(Path(path).read_bytes()).hexdigest(),
        **mapping.to_dict(),
    }


def save_router_bundle(
    out_dir: str | Path,
    router: Router,
    policy: Policy,
    metrics: dict[str, Any],
    labels: list[str],
    *,
    training: dict[str, Any],
    seed: int,
    signing_key: str | None = None,
    extra: dict[str, Any] | None = None,
    texts: list[str] | None = None,
    ids: list[str] | None = None,
) -> tuple[Path, str]:
    """Write a router fitted on `labels` by `fit_router` as a bundle → (path, model_version).

    With `texts` (and `ids`) the bundle also gets a similar-complaints index of them. The
    bundle's router and index hold their embedder without its on-disk cache (`serving_copy`).
    """
    oof = router.oof_proba_
    similar = build_similar_index(router, texts, labels, ids) if texts is not None else None
    router, similar = serving_copy(router, similar)
    top = oof.argmax(axis=1)
    bundle_path = save_bundle(
        out_dir,
        router,
        policy=policy,
        calibration=Calibration(
            confidence=oof[np.arange(len(top)), top],
            correct=router.classes_[top] == np.asarray(labels, dtype=object),
            agency=router.classes_[top],
        ),
        metrics={"validation": {"method": f"{router.cv}-fold grouped out-of-fold", **metrics}},
        training=training,
        seed=seed,
        resources={
            DEFAULT_LEXICON_PATH.name: lexicon_tsv(router.normalizer_.lexicon_),
            STOPWORDS_FILE: stopwords_txt(load_stopwords()),
        },
        signing_key=signing_key,
        extra=extra,
        similar=similar,
    )
    return bundle_path, read_manifest(bundle_path, signing_key=signing_key)["model_version"]


def serving_copy(
    router: Router, similar: SimilarIndex | None
) -> tuple[Router, SimilarIndex | None]:
    """Shallow copies of a fitted router and index whose embedder has no on-disk cache.

    Training encodes through a CachedEmbedder so that refits never encode a complaint twice;
    the bundle keeps only the encoder (`routing.embeddings.without_cache`), which works
    wherever the bundle is loaded. The caller's objects are left as they are.
    """
    router = copy.copy(router)
    router.embedder = without_cache(router.embedder)
    if similar is not None:
        similar = copy.copy(similar)
        similar.embedder = without_cache(similar.embedder)
    return router, similar


def build_similar_index(
    router: Router, texts: list[str], labels: list[str], ids: list[str] | None
) -> SimilarIndex:
    """Index of the training complaints (masked snippets only) for similar-case retrieval.

    Word TF-IDF plus the router's out-of-fold probability profiles; sentence embeddings join
    when the router was trained with an embedder (see benchmarks/semantic.py).
    """
    embedder = router.embedder
    mode = "hybrid+profile" if embedder is not None else "tfidf+profile"
    index = SimilarIndex(mode=mode, embedder=embedder)
    return index.fit(texts, labels, ids, profiles=router.oof_proba_, classes=router.classes_)


def stopwords_txt(words: Iterable[str]) -> bytes:
    """A stop list in the format of data/stopwords.txt (one word a line, sorted)."""
    return "".join(f"{word}\n" for word in sorted(words)).encode("utf-8")


def lexicon_tsv(lexicon: dict[str, str]) -> bytes:
    """The lexicon a router was fitted with, in the format of data/lexicon_id.tsv."""
    lines = ["informal\tformal"] + [f"{k}\t{v}" for k, v in sorted(lexicon.items())]
    return ("\n".join(lines) + "\n").encode("utf-8")
