"""Training pipeline: data file → validated complaints → fitted router → policy → bundle.

read_table → validate (dedupe) → Router.fit (out-of-fold calibration scores)
→ choose_threshold → evaluate out-of-fold → save_bundle
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from routing.authority import Authority, load_authority
from routing.bundle import (
    STOPWORDS_FILE,
    Calibration,
    TrainingRows,
    fingerprints,
    read_manifest,
    save_bundle,
)
from routing.catalogue import Catalogue, LabelMapping
from routing.corrections import (
    Corrections,
    evaluation_labels,
    load_corrections,
    training_labels,
)
from routing.embeddings import without_cache
from routing.evaluation.metrics import evaluate_suggestions
from routing.novelty import NoveltyDetector
from routing.policy import (
    DEFAULT_BOUND_CONFIDENCE,
    DEFAULT_TARGET_PRECISION,
    Policy,
    choose_threshold,
    review_reasons,
)
from routing.router import Router, top_k_from_proba
from routing.settings import MAX_TEXT_CHARS
from routing.similar import SimilarIndex
from routing.text import (
    DEFAULT_LEXICON_PATH,
    TextNormalizer,
    load_stopwords,
    near_duplicate_groups,
)
from training.data import DataError, LoadedTable, read_table, require_columns
from training.validate import ValidationReport, validate

Progress = Callable[[str], None]
# The labels a threshold's precision counts against, given the out-of-fold top agencies.
JudgedLabels = Callable[[np.ndarray], np.ndarray]


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
    corrections: dict[str, Any] | None = None  # what the manifest records of them, if given
    catalogue_warnings: tuple[str, ...] = ()  # about a catalogue file to update


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
        max_text_chars=MAX_TEXT_CHARS,
    )
    return TrainingData(frame=clean, report=report, table=table, label_mapping=mapping)


def duplicate_key() -> Callable[[str], str]:
    """The normalization under which two complaints count as duplicates in validation.

    HTML, case and whitespace only. Personal data is deliberately *not* masked here: texts
    that differ only in a customer number are distinct complaints (LAPOR-10 holds a campaign
    template sent ~100 times with different PLN ids), and real traffic repeats them.
    """
    return TextNormalizer(mask=False, lexicon=False, collapse_repeats=False).fit([]).normalize


def text_fingerprints(texts: Iterable[str]) -> np.ndarray:
    """Fingerprints of texts under `duplicate_key`: what a bundle keeps of its training
    complaints, so that an evaluation can tell which of its complaints were trained on
    (`training.overlap`) without the bundle holding their text."""
    key = duplicate_key()
    return fingerprints(key(t) for t in texts)


def map_agencies(
    frame: pd.DataFrame, label_col: str, agencies: Catalogue
) -> tuple[pd.DataFrame, LabelMapping]:
    """A copy of `frame` whose `label_col` holds the classes a router learns where the catalogue
    knows the label: a regional office's role, another agency's code (`Catalogue.label_of`)."""
    labels = ["" if pd.isna(v) else str(v).strip() for v in frame[label_col].tolist()]
    mapping = agencies.map_labels(labels, roles=True)
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
    novelty: NoveltyDetector | None = None,
    judged_labels: JudgedLabels | None = None,
) -> tuple[Router, Policy, dict[str, Any]]:
    """Fit a router, choose its threshold on out-of-fold scores and score it out-of-fold.

    The threshold keeps `target_precision` with `bound_confidence` (`routing.policy`);
    `per_agency` gives every agency its own threshold by that rule. An unfitted `novelty`
    detector is fitted on the router's folds (`fit_novelty`), and the out-of-fold metrics
    count the decisions `routing.suggest` would make with it. With `judged_labels`
    (corrected labels, `corrected_training`), the threshold counts precision against them
    and the metrics gain "corrected", the same figures against them.

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
    judged = y if judged_labels is None else judged_labels(router.classes_[top])
    correct = router.classes_[top] == judged
    policy = choose_threshold(
        confidence,
        correct,
        target_precision,
        bound_confidence=bound_confidence,
        agencies=router.classes_[top] if per_agency else None,
    )
    if novelty is not None:
        fit_novelty(novelty, router, texts, labels)
    auto = oof_decisions(router, policy, novelty) == "auto"
    metrics = evaluate_suggestions(y, oof, router.classes_, policy.threshold, auto=auto)
    if judged_labels is not None:
        metrics["corrected"] = evaluate_suggestions(
            judged, oof, router.classes_, policy.threshold, auto=auto
        )
    return router, policy, metrics


@dataclass(frozen=True)
class CorrectedTraining:
    """Training rows with corrections applied, and the labels a threshold is judged by."""

    frame: pd.DataFrame  # columns text, agency (to learn), id; unclear rows left out
    recorded: np.ndarray  # the recorded agency of each row of `frame`
    corrections: Corrections

    def judged_labels(self, top_agency: np.ndarray) -> np.ndarray:
        """Corrected labels of the rows whose top suggestions are `top_agency`."""
        ids = self.frame["id"].tolist()
        return evaluation_labels(ids, self.recorded, top_agency, self.corrections).labels

    def record(self, both: str) -> dict[str, Any]:
        """What the manifest says: the corrections, and that the threshold used them."""
        return {**self.corrections.record(), "both": both, "threshold_labels": "corrected"}


def corrected_training(
    frame: pd.DataFrame,
    corrections: Corrections,
    *,
    both: Literal["recorded", "other"] = "recorded",
) -> CorrectedTraining:
    """Validated rows (text, agency, id) with `corrections` applied
    (`routing.corrections.training_labels`)."""
    learned, keep = training_labels(frame["id"].tolist(), frame["agency"], corrections, both=both)
    kept = frame.assign(agency=learned)[keep].reset_index(drop=True)
    return CorrectedTraining(kept, frame["agency"].to_numpy(dtype=object)[keep], corrections)


def fit_novelty(
    detector: NoveltyDetector, router: Router, texts: list[str], labels: list[str]
) -> NoveltyDetector:
    """Fit an out-of-scope detector on the complaints `router` was fitted on, out of the
    router's own folds, with its out-of-fold probabilities."""
    folds = router.folds(labels, near_duplicate_groups(texts))
    return detector.fit(router.normalizer_.transform(texts), router.oof_proba_, folds)


def oof_decisions(
    router: Router, policy: Policy, novelty: NoveltyDetector | None = None
) -> np.ndarray:
    """The decision `routing.suggest` would make for each training complaint, from
    out-of-fold probabilities and novelty scores (few-shot ranking left out)."""
    pairs = top_k_from_proba(router.oof_proba_, router.classes_, 2)
    scores = novelty.oof_scores_ if novelty is not None else None
    decisions = [
        "review"
        if review_reasons(
            top,
            policy.threshold_for(top[0][0]),
            novelty=None if scores is None else (float(scores[i]), novelty.cutoff_),
        )
        else "auto"
        for i, top in enumerate(pairs)
    ]
    return np.asarray(decisions, dtype=object)


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
    corrections: Sequence[str | Path] = (),
    both: Literal["recorded", "other"] = "recorded",
) -> TrainResult:
    """Train a router on a disposition table and write a verified bundle to `out_dir`.

    `agencies` is an agency catalogue CSV (routing.catalogue) that labels are mapped through:
    regional offices are learned as their role, other agencies as their code. The bundle keeps
    it and the rules of authority (`routing.authority`, the shipped ``data/authority.csv``),
    which its `Bundle.authority` is read from.
    `corrections` are reviewed corrections files (`routing.corrections`, ids of `id_col`):
    the router learns the corrected labels (`both`: which label a "both" row teaches) and the
    threshold counts precision against them; the manifest records them.
    """
    say = progress or (lambda _msg: None)
    say("reading and validating data")
    authority = load_authority(agencies) if agencies is not None else None
    catalogue = authority.catalogue if authority is not None else None
    data = load_training_data(
        path,
        text_col,
        label_col,
        id_col=id_col,
        min_examples=min_examples,
        format=format,
        agencies=catalogue,
    )
    frame, corrected = data.frame, None
    if corrections:
        if id_col is None:
            raise DataError("corrections name complaints by id: give the id column")
        # any id of the input may be named, also one validation dropped; agencies only
        # those training knows
        loaded = load_corrections(
            corrections,
            ids=set(data.table.frame[id_col].astype(str).str.strip()),
            labels=set(frame["agency"]),
            agency_of=catalogue.label_of if catalogue is not None else None,
        )
        corrected = corrected_training(frame, loaded, both=both)
        frame = corrected.frame
    say(f"fitting router on {len(frame)} complaints, {data.report.n_agencies} agencies")
    novelty = NoveltyDetector()
    router, policy, metrics = fit_router(
        frame["text"].tolist(),
        frame["agency"].tolist(),
        seed=seed,
        target_precision=target_precision,
        bound_confidence=bound_confidence,
        per_agency=per_agency,
        router_params=router_params,
        novelty=novelty,
        judged_labels=corrected.judged_labels if corrected else None,
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
    if corrected is not None:
        training["corrections"] = corrected.record(both)
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
        ids_are_row_numbers=id_col is None,
        novelty=novelty,
        judged_labels=corrected.judged_labels if corrected else None,
        authority=authority,
    )
    return TrainResult(
        bundle_path,
        data.report,
        metrics,
        policy,
        version,
        data.label_mapping,
        training.get("corrections"),
        authority.warnings if authority is not None else (),
    )


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
    ids_are_row_numbers: bool = False,
    novelty: NoveltyDetector | None = None,
    judged_labels: JudgedLabels | None = None,
    authority: Authority | None = None,
) -> tuple[Path, str]:
    """Write a router fitted on `labels` by `fit_router` as a bundle → (path, model_version).

    The calibration scores (what `retarget` moves the threshold on) count a suggestion right
    against `labels`, or against `judged_labels` when the threshold was chosen with them.

    With `texts` (and `ids`) the bundle also gets a similar-complaints index of them and their
    fingerprints (`text_fingerprints`, and ids only when they are not just row numbers); with
    `novelty`, the fitted out-of-scope detector (`fit_novelty`); with `authority`, the
    catalogue and rules files it was read from (`Bundle.authority`). The
    bundle's router and index hold their embedder without its on-disk cache (`serving_copy`).
    """

    oof = router.oof_proba_
    similar = build_similar_index(router, texts, labels, ids) if texts is not None else None
    router, similar = serving_copy(router, similar)
    top = oof.argmax(axis=1)
    judged = np.asarray(labels, dtype=object)
    if judged_labels is not None:
        judged = judged_labels(router.classes_[top])
    bundle_path = save_bundle(
        out_dir,
        router,
        policy=policy,
        calibration=Calibration(
            confidence=oof[np.arange(len(top)), top],
            correct=router.classes_[top] == judged,
            agency=router.classes_[top],
        ),
        metrics={"validation": {"method": f"{router.cv}-fold grouped out-of-fold", **metrics}},
        training=training,
        seed=seed,
        resources={
            DEFAULT_LEXICON_PATH.name: lexicon_tsv(router.normalizer_.lexicon_),
            STOPWORDS_FILE: stopwords_txt(load_stopwords()),
            **{
                name: text.encode("utf-8")
                for name, text in (authority.files if authority is not None else {}).items()
            },
        },
        signing_key=signing_key,
        extra=extra,
        similar=similar,
        training_rows=None
        if texts is None
        else TrainingRows(
            text=text_fingerprints(texts),
            id=fingerprints([] if ids_are_row_numbers else [str(i) for i in ids or ()]),
        ),
        novelty=novelty,
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
