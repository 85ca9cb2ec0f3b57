"""Training pipeline: data file → validated complaints → fitted router → policy → bundle.

read_table → validate (dedupe) → Router.fit (out-of-fold calibration scores)
→ choose_threshold → evaluate out-of-fold → save_bundle
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from routing.bundle import Calibration, read_manifest, save_bundle
from routing.metrics import evaluate_suggestions
from routing.policy import DEFAULT_TARGET_PRECISION, ThresholdChoice, choose_threshold
from routing.router import Router
from routing.text import DEFAULT_LEXICON_PATH, TextNormalizer
from training.data import LoadedTable, read_table, require_columns
from training.validate import ValidationReport, validate

Progress = Callable[[str], None]


@dataclass
class TrainingData:
    """Validated complaints ready for fitting, with where they came from."""

    frame: pd.DataFrame  # columns text, agency, id
    report: ValidationReport
    table: LoadedTable


@dataclass
class TrainResult:
    bundle_path: Path
    report: ValidationReport
    metrics: dict[str, Any]
    policy: ThresholdChoice
    model_version: str


def load_training_data(
    path: str | Path,
    text_col: str,
    label_col: str,
    *,
    id_col: str | None = None,
    min_examples: int = 5,
    format: str | None = None,
) -> TrainingData:
    """Read and validate a disposition table; duplicates are detected on normalized text."""
    table = read_table(path, format=format)
    columns = [text_col, label_col] + ([id_col] if id_col else [])
    require_columns(table.frame, columns, table.path)
    normalizer = TextNormalizer(lexicon=False).fit([])
    clean, report = validate(
        table.frame,
        text_col,
        label_col,
        id_col=id_col,
        min_examples=min_examples,
        normalize=normalizer.normalize,
        non_utf8_rows=table.non_utf8_rows,
    )
    return TrainingData(frame=clean, report=report, table=table)


def fit_router(
    texts: list[str],
    labels: list[str],
    *,
    seed: int = 0,
    target_precision: float = DEFAULT_TARGET_PRECISION,
    router_params: dict[str, Any] | None = None,
) -> tuple[Router, ThresholdChoice, dict[str, Any]]:
    """Fit a router, choose its threshold on out-of-fold scores and score it out-of-fold."""
    router = Router(random_state=seed, **(router_params or {})).fit(texts, labels)
    oof = router.oof_proba_
    y = np.asarray(labels, dtype=object)
    top = oof.argmax(axis=1)
    confidence = oof[np.arange(len(y)), top]
    correct = router.classes_[top] == y
    policy = choose_threshold(confidence, correct, target_precision)
    metrics = evaluate_suggestions(y, oof, router.classes_, policy.threshold)
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
    min_examples: int = 5,
    format: str | None = None,
    router_params: dict[str, Any] | None = None,
    signing_key: str | None = None,
    progress: Progress | None = None,
) -> TrainResult:
    """Train a router on a disposition table and write a verified bundle to `out_dir`."""
    say = progress or (lambda _msg: None)
    say("reading and validating data")
    data = load_training_data(
        path, text_col, label_col, id_col=id_col, min_examples=min_examples, format=format
    )
    frame = data.frame
    say(f"fitting router on {len(frame)} complaints, {data.report.n_agencies} agencies")
    router, policy, metrics = fit_router(
        frame["text"].tolist(),
        frame["agency"].tolist(),
        seed=seed,
        target_precision=target_precision,
        router_params=router_params,
    )
    oof = router.oof_proba_
    top = oof.argmax(axis=1)
    say("writing bundle")
    bundle_path = save_bundle(
        out_dir,
        router,
        policy=policy,
        calibration=Calibration(
            confidence=oof[np.arange(len(top)), top],
            correct=router.classes_[top] == frame["agency"].to_numpy(dtype=object),
        ),
        metrics={"validation": {"method": f"{router.cv}-fold out-of-fold", **metrics}},
        training={
            "file": data.table.path.name,
            "format": data.table.format,
            "sha256": data.table.sha256,
            "text_col": text_col,
            "label_col": label_col,
            "id_col": id_col,
            "rows_read": data.report.rows_read,
            "rows_used": len(frame),
            "validation_report": data.report.to_dict(),
        },
        seed=seed,
        resources={DEFAULT_LEXICON_PATH.name: lexicon_tsv(router.normalizer_.lexicon_)},
        signing_key=signing_key,
    )
    version = read_manifest(bundle_path, signing_key=signing_key)["model_version"]
    return TrainResult(bundle_path, data.report, metrics, policy, version)


def lexicon_tsv(lexicon: dict[str, str]) -> bytes:
    """The lexicon a router was fitted with, in the format of data/lexicon_id.tsv."""
    lines = ["informal\tformal"] + [f"{k}\t{v}" for k, v in sorted(lexicon.items())]
    return ("\n".join(lines) + "\n").encode("utf-8")
