"""Out-of-scope benchmark, second part: a detector that learns what a complaint of an unknown
agency looks like by holding known agencies out of the training complaints.

    python benchmarks/out_of_scope_holdout.py                  # the 5 pairs of LAPOR-10, seed 0
    python benchmarks/out_of_scope_holdout.py --pairs 1 --no-results      # a quick look
    python benchmarks/out_of_scope_holdout.py --cache ~/.cache/routing/out_of_scope_holdout

The pairs, splits and model are those of benchmarks/out_of_scope.py (`agency_pairs`,
`split_pair`, `train_bundle`). On the model's training complaints, each known agency in turn
is held out: the router's out-of-fold scores are recomputed with that agency's complaints
left out of every fold's features and head (`Router.oof_decision_function` with weight 0),
calibrated out of fold on the other agencies' complaints, and the nearest training complaints
and today's novelty score are found without them. The held agency's complaints are then
examples of "unknown", the others' of "known"; a logistic regression learns to tell them
apart from one model's view of a complaint (`FEATURES`). Its cutoff flags a share
(`--flag-shares`) of the real model's training complaints, scored out of fold, and it takes
the place of today's detector (`routing.novelty`) in the `out_of_scope` reason; the threshold
and the ambiguity rule decide as `routing.suggest` does (`routing.policy.review_reasons`).
Today's detector is shown with its cutoff at the same shares, and no detector at all.

Reported per pair and as the mean over pairs, as in out_of_scope.py: the share of the pair's
complaints auto-routed and flagged `out_of_scope`; of the known agencies' held-out
complaints, the share flagged, auto-routed (coverage) and the precision of the auto-routed;
and the share of the training complaints (out of fold) the cutoff flags. With `--cache`, each
pair's rows are kept on disk (joblib) and reused by a run with the same data and seed;
delete the folder after changing the code they come from. Prints Markdown and writes it to
benchmarks/results/out_of_scope_holdout.md (`benchmarks/record.py`); no complaint text is
printed.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from joblib import Memory
from scipy.stats import entropy
from sklearn.base import clone
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import NearestNeighbors
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.out_of_scope import (  # noqa: E402
    add_pair_arguments,
    load_pairs,
    split_pair,
    train_bundle,
)
from benchmarks.record import add_results_arguments, recorded  # noqa: E402
from routing.bundle import Bundle  # noqa: E402
from routing.calibration import AdaptiveTemperature  # noqa: E402
from routing.policy import Policy, review_reasons  # noqa: E402
from routing.router import top_k_from_proba  # noqa: E402
from routing.text import near_duplicate_groups  # noqa: E402

FEATURES = (
    "top probability",
    "top-two probability margin",
    "entropy of the probabilities (normalized)",
    "top head score",
    "top-two head score margin",
    "mean similarity of the nearest training complaints",
    "similarity of the nearest training complaint",
    "share of the nearest training complaints of the top agency",
    "today's novelty score",
    "log length",
)
DEFAULT_FLAG_SHARES = (0.1, 0.2)

Folds = Sequence[tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class View:
    """One model's view of some complaints: the detector's features, the calibrated
    probabilities that decide them and today's novelty score."""

    features: np.ndarray  # (n, len(FEATURES))
    proba: np.ndarray  # columns in the order of the model's classes
    novelty: np.ndarray


@dataclass(frozen=True)
class PairRows:
    """What the detectors are fitted on and judged by, for the model trained without `pair`."""

    pair: tuple[str, str]
    classes: np.ndarray
    policy: Policy
    held_out: np.ndarray  # features of training complaints, one block per held-out agency
    unknown: np.ndarray  # whether the row's complaint is of its block's held-out agency
    training: View  # the real model's, out of fold
    left_out: View  # the real model's, of the pair's complaints
    known: View  # the real model's, of the held-out complaints of known agencies
    known_labels: np.ndarray


def nearest(Q: sp.csr_matrix, A: sp.csr_matrix, k: int) -> tuple[np.ndarray, ...]:
    """Per row of Q: the mean of its `k` largest cosine similarities to the rows of A, the
    largest, and the rows of those `k`."""
    search = NearestNeighbors(n_neighbors=min(k, A.shape[0]), metric="cosine", algorithm="brute")
    distances, rows = search.fit(A).kneighbors(Q)
    similarities = 1.0 - distances
    return similarities.mean(axis=1), similarities.max(axis=1), rows


def oof_nearest(
    vectorizer: TfidfVectorizer, normalized: list[str], folds: Folds, k: int
) -> tuple[np.ndarray, ...]:
    """`nearest` for each fold's test complaints among its training ones, with a clone of
    `vectorizer` fitted on those; the neighbours as rows of `normalized`."""
    mean, top = np.zeros(len(normalized)), np.zeros(len(normalized))
    rows = np.zeros((len(normalized), k), dtype=int)
    for train, test in folds:
        fitted = clone(vectorizer).fit([normalized[i] for i in train])
        A = fitted.transform([normalized[i] for i in train])
        Q = fitted.transform([normalized[i] for i in test])
        mean[test], top[test], columns = nearest(Q, A, k)
        rows[test] = train[columns]
    return mean, top, rows


def features(
    scores: np.ndarray,
    proba: np.ndarray,
    classes: np.ndarray,
    near: tuple[np.ndarray, np.ndarray, np.ndarray],
    novelty: np.ndarray,
    lengths: np.ndarray,
) -> np.ndarray:
    """The `FEATURES` matrix from a model's head `scores` and `proba` (columns `classes`),
    `near` (mean and top similarity, agencies of the nearest training complaints), today's
    `novelty` score and the normalized texts' `lengths`."""
    near_mean, near_top, near_agencies = near
    ordered, ordered_scores = np.sort(proba, axis=1), np.sort(scores, axis=1)
    spread = entropy(np.clip(proba, 1e-12, 1.0), axis=1) / np.log(max(proba.shape[1], 2))
    top_agency = classes[proba.argmax(axis=1)]
    return np.column_stack(
        [
            ordered[:, -1],
            ordered[:, -1] - ordered[:, -2],
            spread,
            ordered_scores[:, -1],
            ordered_scores[:, -1] - ordered_scores[:, -2],
            near_mean,
            near_top,
            (near_agencies == top_agency[:, None]).mean(axis=1),
            novelty,
            np.log1p(lengths),
        ]
    )


def _lengths(normalized: list[str]) -> np.ndarray:
    return np.array([len(t) for t in normalized], dtype=float)


def new_view(bundle: Bundle, texts: list[str], train_labels: np.ndarray) -> View:
    """The real model's view of complaints it was not trained on."""
    router, detector = bundle.router, bundle.novelty
    normalized = router.normalizer_.transform(texts)
    proba = router.predict_proba_with_features(texts, normalized=normalized)[0]
    novelty = detector.score(normalized, proba)
    mean, top, columns = nearest(
        detector.vectorizer_.transform(normalized), detector.matrix_.T.tocsr(), detector.top_k
    )
    near = (mean, top, train_labels[columns])
    scores = router.decision_function(texts)
    X = features(scores, proba, router.classes_, near, novelty, _lengths(normalized))
    return View(X, proba, novelty)


def training_view(
    bundle: Bundle, texts: list[str], labels: np.ndarray, normalized: list[str], folds: Folds
) -> View:
    """The real model's view of its training complaints, out of its folds."""
    router, detector = bundle.router, bundle.novelty
    scores = clone(router).oof_decision_function(texts, labels)
    mean, top, rows = oof_nearest(detector.vectorizer_, normalized, folds, detector.top_k)
    near = (mean, top, labels[rows])
    X = features(
        scores, router.oof_proba_, router.classes_, near, detector.oof_scores_, _lengths(normalized)
    )
    return View(X, router.oof_proba_, detector.oof_scores_)


def without_agency(
    bundle: Bundle,
    texts: list[str],
    labels: np.ndarray,
    normalized: list[str],
    folds: Folds,
    agency: str,
) -> np.ndarray:
    """`FEATURES` of the training complaints, out of fold, as a model that never saw `agency`
    views them: the same folds with its complaints left out of what each fold fits."""
    router, detector = bundle.router, bundle.novelty
    known = labels != agency
    others = router.classes_ != agency
    scores = clone(router).oof_decision_function(texts, labels, sample_weight=known)[:, others]
    classes = router.classes_[others]
    y, lengths = np.searchsorted(classes, labels), _lengths(normalized)
    folds = [(train[known[train]], test) for train, test in folds]
    proba = np.zeros_like(scores)
    for train, test in folds:  # as the router's cross-fitted calibration, without `agency`
        calibrator = AdaptiveTemperature().fit(scores[train], y[train], lengths[train])
        proba[test] = calibrator.predict_proba(scores[test], lengths[test])
    mean, top, rows = oof_nearest(detector.vectorizer_, normalized, folds, detector.top_k)
    novelty = clone(detector).fit(normalized, proba, folds).oof_scores_
    return features(scores, proba, classes, (mean, top, labels[rows]), novelty, lengths)


def pair_rows(
    texts: list[str], labels: np.ndarray, groups: np.ndarray, pair: tuple[str, str], seed: int = 0
) -> PairRows:
    """Train without `pair` as out_of_scope.py does, then view its training complaints with
    each known agency held out in turn, and the pair's and the held-out complaints."""
    train, test, left_out = split_pair(labels, groups, pair, seed)
    tr_texts, ytr = [texts[i] for i in train], labels[train]
    bundle = train_bundle(tr_texts, ytr.tolist(), seed=seed)
    router = bundle.router
    folds = router.folds(ytr, near_duplicate_groups(tr_texts))
    normalized = router.normalizer_.transform(tr_texts)
    blocks = []
    for agency in router.classes_:
        start = time.perf_counter()
        blocks.append(without_agency(bundle, tr_texts, ytr, normalized, folds, agency))
        print(f"  held out {agency}: {time.perf_counter() - start:.0f} s", file=sys.stderr)
    return PairRows(
        pair=pair,
        classes=router.classes_,
        policy=bundle.policy,
        held_out=np.vstack(blocks),
        unknown=np.concatenate([ytr == agency for agency in router.classes_]),
        training=training_view(bundle, tr_texts, ytr, normalized, folds),
        left_out=new_view(bundle, [texts[i] for i in left_out], ytr),
        known=new_view(bundle, [texts[i] for i in test], ytr),
        known_labels=labels[test],
    )


def decide(
    view: View, classes: np.ndarray, policy: Policy, scores: np.ndarray, cutoff: float
) -> tuple[np.ndarray, np.ndarray]:
    """(auto-routed, flagged out_of_scope) per complaint, by `review_reasons` with `scores`
    and `cutoff` as the out-of-scope detector's."""
    tops = top_k_from_proba(view.proba, classes, 2)
    reasons = [
        review_reasons(top, policy.threshold_for(top[0][0]), novelty=(float(s), cutoff))
        for top, s in zip(tops, scores, strict=True)
    ]
    auto = np.array([not r for r in reasons], dtype=bool)
    flagged = np.array([any(x["code"] == "out_of_scope" for x in r) for r in reasons], dtype=bool)
    return auto, flagged


def judge(
    rows: PairRows, scores: tuple[np.ndarray, np.ndarray, np.ndarray], cutoff: float
) -> dict[str, float | None]:
    """A detector's figures on one pair, from its (training, left-out, known) scores."""
    out_auto, out_flagged = decide(rows.left_out, rows.classes, rows.policy, scores[1], cutoff)
    auto, flagged = decide(rows.known, rows.classes, rows.policy, scores[2], cutoff)
    right = rows.classes[rows.known.proba.argmax(axis=1)] == rows.known_labels
    return {
        "out_auto": float(out_auto.mean()),
        "out_flagged": float(out_flagged.mean()),
        "known_flagged": float(flagged.mean()),
        "known_auto": float(auto.mean()),
        "known_precision": float(right[auto].mean()) if auto.any() else None,
        "training_flagged": float((scores[0] > cutoff).mean()),
    }


def holdout_detector() -> Pipeline:
    """The held-out-agency detector: standardized `FEATURES`, then a logistic regression."""
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))


def compare(rows: PairRows, flag_shares: Sequence[float]) -> dict[str, dict[str, Any]]:
    """Each detector's `judge` figures on one pair: none, then today's and the held-out-agency
    one with cutoffs that flag each share of the training complaints (out of fold)."""
    views = (rows.training, rows.left_out, rows.known)
    none = tuple(np.zeros(len(v.proba)) for v in views)
    results = {"no detector": judge(rows, none, np.inf)}
    model = holdout_detector().fit(rows.held_out, rows.unknown)
    learned = tuple(model.predict_proba(v.features)[:, 1] for v in views)
    today = tuple(v.novelty for v in views)
    for share in flag_shares:
        for name, scores in (("today's novelty", today), ("held-out agencies", learned)):
            cutoff = float(np.quantile(scores[0], 1.0 - share))
            results[f"{name}, {_pct(share, 0)}"] = judge(rows, scores, cutoff)
    return results


def _pct(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{100 * value:.{digits}f} %"


COLUMNS = (
    ("out_auto", "left-out: auto-routed (≤ 1 %)", 1),
    ("out_flagged", "left-out: flagged (≥ 50 %)", 1),
    ("known_flagged", "known: flagged", 1),
    ("known_auto", "known: auto", 1),
    ("known_precision", "known: precision of auto", 2),
    ("training_flagged", "training: flagged (OOF)", 1),
)


def _cells(figures: dict[str, Any]) -> str:
    return " | ".join(_pct(figures[key], digits) for key, _, digits in COLUMNS)


def mean_table(results: list[dict[str, dict[str, Any]]]) -> str:
    """The Markdown table of each detector's figures averaged over the pairs (`compare`)."""
    lines = [
        "| detector | " + " | ".join(title for _, title, _ in COLUMNS) + " |",
        "|---|" + "---:|" * len(COLUMNS),
    ]
    for name in results[0]:
        mean = {}
        for key, _, _ in COLUMNS:
            values = [r[name][key] for r in results if r[name][key] is not None]
            mean[key] = float(np.mean(values)) if values else None
        lines.append(f"| {name} | {_cells(mean)} |")
    return "\n".join(lines)


def pair_table(pairs: list[tuple[str, str]], results: list[dict[str, dict[str, Any]]]) -> str:
    """The Markdown table of each detector's figures on each pair."""
    lines = [
        "| left-out pair | detector | " + " | ".join(title for _, title, _ in COLUMNS) + " |",
        "|---|---|" + "---:|" * len(COLUMNS),
    ]
    for pair, result in zip(pairs, results, strict=True):
        for name, figures in result.items():
            lines.append(f"| {' + '.join(pair)} | {name} | {_cells(figures)} |")
    return "\n".join(lines)


def _flag_shares(text: str) -> tuple[float, ...]:
    try:
        shares = tuple(float(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not comma-separated numbers: {text!r}") from None
    if not all(0.0 < s < 1.0 for s in shares):
        raise argparse.ArgumentTypeError(f"flag shares must be in (0, 1), got {text!r}")
    return shares


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_pair_arguments(parser)
    parser.add_argument(
        "--flag-shares",
        type=_flag_shares,
        default=DEFAULT_FLAG_SHARES,
        metavar="SHARES",
        help="comma-separated shares of the training complaints (out of fold) each detector's "
        "cutoff flags (default: 0.1,0.2)",
    )
    parser.add_argument(
        "--cache", type=Path, help="folder keeping each pair's rows across runs (joblib)"
    )
    add_results_arguments(parser)
    args = parser.parse_args(argv)
    with recorded("out_of_scope_holdout", argv, args.results):
        run(args)


def run(args: argparse.Namespace) -> None:
    texts, labels, groups, pairs = load_pairs(args)
    rows_of = Memory(args.cache, verbose=0).cache(pair_rows) if args.cache else pair_rows
    print(
        f"LAPOR-10: {len(texts)} complaints after dedupe, {len(set(labels))} agencies, "
        f"{len(pairs)} left-out pairs (seed {args.seed}); held-out-agency detector: "
        f"{', '.join(FEATURES)}\n"
    )
    results = []
    for pair in pairs:
        start = time.perf_counter()
        print(f"without {' + '.join(pair)}", file=sys.stderr)
        results.append(compare(rows_of(texts, labels, groups, pair, args.seed), args.flag_shares))
        print(f"  done in {time.perf_counter() - start:.0f} s", file=sys.stderr)
    print(f"## Mean over the {len(pairs)} pairs\n")
    print(mean_table(results))
    print("\n## Per pair\n")
    print(pair_table(pairs, results))


if __name__ == "__main__":
    main()
