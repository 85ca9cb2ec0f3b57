"""Meta-confidence benchmark: auto-routing on P(top agency is right), learned out of fold from
the router's probabilities and the nearest training complaints, against the top probability.

    python benchmarks/meta_confidence.py                                   # fits every fold (slow)
    python benchmarks/meta_confidence.py --cache ~/.cache/routing/accuracy  # fold results cached
    python benchmarks/meta_confidence.py --folds-limit 2 --no-results      # a quick look

Folds and fold results are those of `benchmarks/accuracy.py` with its defaults, option
`router`: grouped 5-fold CV ×2 (seeds 0 and 1) on LAPOR-10 read through the shipped agency
catalogue. With `--cache DIR` each fold's result comes from (or goes into) the joblib cache
that `benchmarks/accuracy.py --cache DIR` fills; without it the router is fitted on every
training fold.

Features of each complaint's top agency, per held-out fold: from the router's probabilities
(its out-of-fold ones for the training complaints) the logit of the top probability, the
margin over the second and the entropy; from the nearest training complaints (cosine on a
word 1-2-gram sublinear TF-IDF, min_df 2, fitted on the training fold's normalized texts) the
share of the 5, 10 and 20 nearest labelled with the top agency, the largest similarity and the
mean of the 10 largest. A training complaint's neighbours leave out its whole near-duplicate
group. A logistic regression on these learns whether the top agency is right ("meta LR"); the
ablation keeps the probability features only.

Every score is judged as `benchmarks.accuracy.delivered` judges the top probability: the
threshold chosen by `routing.policy.choose_threshold` (precision 0.99, Clopper–Pearson bound
at confidence 0.9) on the training fold's out-of-fold scores (for a meta model:
`cross_val_predict` over 5 stratified folds of the near-duplicate groups), and the held-out
complaints at or above it auto-routed (the meta model refitted on the whole training fold).

Prints Markdown and writes it to benchmarks/results/meta_confidence.md
(`benchmarks/record.py`); no complaint text is printed.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from joblib import Memory
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedGroupKFold, cross_val_predict
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.accuracy import (  # noqa: E402
    BOUND_CONFIDENCE,
    DEFAULT_DATA,
    DEFAULT_EMBEDDINGS_CACHE,
    TARGET,
    FoldRunner,
    delivered,
    make_folds,
    make_variants,
)
from benchmarks.record import add_results_arguments, recorded  # noqa: E402
from routing.catalogue import load_catalogue  # noqa: E402
from routing.cli.common import agencies_file  # noqa: E402
from routing.evaluation.metrics import (  # noqa: E402
    coverage_at_precision,
    expected_calibration_error,
)
from routing.policy import choose_threshold, decide  # noqa: E402
from routing.router import TOKEN_PATTERN  # noqa: E402
from routing.text import TextNormalizer, near_duplicate_groups  # noqa: E402
from training.pipeline import load_training_data  # noqa: E402

OPTION = "router"
# benchmarks/accuracy.py's default folds
FOLDS, REPEATS, SEED = 5, 2, 0
NEIGHBOURS = (5, 10, 20)
PROBABILITY_FEATURES = 3  # the first columns of `features`; the rest are the neighbours'
META_FOLDS = 5
TOP_PROBABILITY = "top probability"
META_LR = "meta LR"
ABLATION = "meta LR, probability features only (ablation)"


@dataclass(frozen=True)
class FoldScores:
    """One held-out fold: whether each held-out complaint's top agency is right and, per
    score, its held-out values and (auto-routed, of them right)."""

    right: np.ndarray
    held_out: dict[str, np.ndarray]
    routed: dict[str, tuple[int, int]]


def meta_model() -> Pipeline:
    """The unfitted meta model: standardized features, logistic regression."""
    return make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000))


def probability_features(proba: np.ndarray) -> np.ndarray:
    """Logit of the top probability, margin over the second, entropy; one row a complaint."""
    ranked = np.sort(proba, axis=1)[:, ::-1]
    top = np.clip(ranked[:, 0], 1e-6, 1 - 1e-6)
    entropy = -(proba * np.log(np.clip(proba, 1e-12, None))).sum(axis=1)
    return np.column_stack([np.log(top / (1 - top)), ranked[:, 0] - ranked[:, 1], entropy])


def nearest(
    queries: sparse.csr_matrix,
    train: sparse.csr_matrix,
    query_groups: np.ndarray,
    train_groups: np.ndarray,
    *,
    skip_own_group: bool,
    k: int = max(NEIGHBOURS),
    chunk: int = 1000,
) -> tuple[np.ndarray, np.ndarray]:
    """Indices and cosine similarities, most similar first, of each query's `k` nearest
    training rows (rows L2-normalized); `skip_own_group` leaves out the query's own group."""
    index = np.empty((queries.shape[0], k), dtype=np.int64)
    similarity = np.empty((queries.shape[0], k), dtype=np.float32)
    train_t = train.T.tocsr()
    for a in range(0, queries.shape[0], chunk):
        s = (queries[a : a + chunk] @ train_t).toarray()
        if skip_own_group:
            s[query_groups[a : a + chunk, None] == train_groups[None, :]] = -1.0
        part = np.argpartition(-s, k - 1, axis=1)[:, :k]
        part_s = np.take_along_axis(s, part, axis=1)
        order = np.argsort(-part_s, axis=1, kind="stable")
        index[a : a + chunk] = np.take_along_axis(part, order, axis=1)
        similarity[a : a + chunk] = np.take_along_axis(part_s, order, axis=1)
    return index, similarity


def neighbour_features(
    index: np.ndarray, similarity: np.ndarray, train_y: np.ndarray, top: np.ndarray
) -> np.ndarray:
    """Share of the nearest 5/10/20 labelled `top`, largest similarity, mean of the top 10."""
    same = train_y[index] == top[:, None]
    shares = [same[:, :k].mean(axis=1) for k in NEIGHBOURS]
    return np.column_stack([*shares, similarity[:, 0], similarity[:, :10].mean(axis=1)])


def features(
    result: dict,
    train: np.ndarray,
    test: np.ndarray,
    labels: np.ndarray,
    groups: np.ndarray,
    normalized: list[str],
) -> tuple[np.ndarray, np.ndarray]:
    """Meta features of the training complaints (from out-of-fold probabilities) and of the
    held-out ones, for one fold's `FoldRunner` result."""
    classes, oof, proba = result["classes"], result["oof"], result["proba"]
    vectorizer = TfidfVectorizer(
        ngram_range=(1, 2),
        sublinear_tf=True,
        min_df=2,
        lowercase=False,  # the normalizer lowercased already
        token_pattern=TOKEN_PATTERN,
        dtype=np.float32,
    )
    x_train = vectorizer.fit_transform([normalized[i] for i in train])
    x_test = vectorizer.transform([normalized[i] for i in test])
    g_train, g_test = groups[train], groups[test]
    near_train = nearest(x_train, x_train, g_train, g_train, skip_own_group=True)
    near_test = nearest(x_test, x_train, g_test, g_train, skip_own_group=False)
    y_train = labels[train]
    return (
        np.column_stack(
            [
                probability_features(oof),
                neighbour_features(*near_train, y_train, classes[oof.argmax(axis=1)]),
            ]
        ),
        np.column_stack(
            [
                probability_features(proba),
                neighbour_features(*near_test, y_train, classes[proba.argmax(axis=1)]),
            ]
        ),
    )


def meta_scores(
    f_train: np.ndarray, right_train: np.ndarray, train_groups: np.ndarray, f_test: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """P(top agency right): out of fold for the training complaints (folds of whole groups),
    and from the model fitted on all of them for the held-out complaints."""
    cv = StratifiedGroupKFold(META_FOLDS, shuffle=True, random_state=0)
    oof = cross_val_predict(
        meta_model(), f_train, right_train, cv=cv, groups=train_groups, method="predict_proba"
    )[:, 1]
    fitted = meta_model().fit(f_train, right_train)
    return oof, fitted.predict_proba(f_test)[:, 1]


def routed(
    score_train: np.ndarray, right_train: np.ndarray, score_test: np.ndarray, right_test: np.ndarray
) -> tuple[int, int]:
    """(auto-routed, of them right) among the held-out complaints, the threshold chosen on the
    training complaints' out-of-fold scores by the product's rule."""
    threshold = choose_threshold(
        score_train, right_train, TARGET, bound_confidence=BOUND_CONFIDENCE
    ).threshold
    auto = np.array([decide(s, threshold) == "auto" for s in score_test], dtype=bool)
    return int(auto.sum()), int(right_test[auto].sum())


def score_fold(
    result: dict,
    train: np.ndarray,
    test: np.ndarray,
    labels: np.ndarray,
    groups: np.ndarray,
    normalized: list[str],
) -> FoldScores:
    """Every score of one fold: the top probability as the accuracy benchmark delivers it,
    and the meta scores through the same rule."""
    classes, oof, proba = result["classes"], result["oof"], result["proba"]
    right_train = classes[oof.argmax(axis=1)] == labels[train]
    right = classes[proba.argmax(axis=1)] == labels[test]
    auto, hits, _ = delivered(oof, labels[train], proba, labels[test], classes, per_agency=False)
    held_out = {TOP_PROBABILITY: proba.max(axis=1)}
    counts = {TOP_PROBABILITY: (auto, hits)}
    f_train, f_test = features(result, train, test, labels, groups, normalized)
    for name, columns in ((META_LR, slice(None)), (ABLATION, slice(PROBABILITY_FEATURES))):
        oof_score, held_out[name] = meta_scores(
            f_train[:, columns], right_train, groups[train], f_test[:, columns]
        )
        counts[name] = routed(oof_score, right_train, held_out[name], right)
    return FoldScores(right=right, held_out=held_out, routed=counts)


def run_folds(
    texts: list[str],
    labels: np.ndarray,
    groups: np.ndarray,
    folds: list[tuple[np.ndarray, np.ndarray]],
    runner: FoldRunner,
) -> list[FoldScores]:
    """`score_fold` on each fold, the router's fold results from `runner`."""
    normalized = TextNormalizer().fit([]).transform(texts)
    out = []
    for k, (train, test) in enumerate(folds):
        start = time.perf_counter()
        result = runner.result(
            OPTION, [texts[i] for i in train], labels[train], [texts[i] for i in test]
        )
        out.append(score_fold(result, train, test, labels, groups, normalized))
        print(f"  fold {k + 1}/{len(folds)}: {time.perf_counter() - start:.0f} s",
              file=sys.stderr, flush=True)  # fmt: skip
    return out


def summarize(folds: list[FoldScores]) -> dict[str, dict]:
    """Per score: delivered coverage pooled, precision and coverage per fold, folds kept,
    errors and auto-routed, and the pooled held-out score's OOF cov@0.99 and ECE."""
    right = np.concatenate([f.right for f in folds])
    sizes = np.array([len(f.right) for f in folds])
    figures = {}
    for name in folds[0].routed:
        auto, hits = np.array([f.routed[name] for f in folds]).T
        precision = [h / a if a else 1.0 for a, h in zip(auto, hits, strict=True)]
        score = np.concatenate([f.held_out[name] for f in folds])
        figures[name] = {
            "coverage": float(auto.sum() / sizes.sum()),
            "coverage_per_fold": auto / sizes,
            "precision_per_fold": precision,
            "kept": int(sum(p >= TARGET for p in precision)),
            "errors": int((auto - hits).sum()),
            "auto": int(auto.sum()),
            "oof_coverage": coverage_at_precision(score, right, TARGET),
            "ece": expected_calibration_error(score, right),
        }
    return figures


def table(figures: dict[str, dict]) -> str:
    """The Markdown table of `summarize`'s figures, the top probability first."""
    lines = [
        "| score | delivered cov | precision per fold | kept | errors / auto-routed "
        "| cov − top probability per fold: mean (min – max) | folds higher | OOF cov@0.99 "
        "| ECE |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    base = figures[TOP_PROBABILITY]["coverage_per_fold"]
    for name, r in figures.items():
        q, gain = r["precision_per_fold"], r["coverage_per_fold"] - base
        gain_cells = (
            "– | –"
            if name == TOP_PROBABILITY
            else f"{gain.mean():+.3f} ({gain.min():+.3f} – {gain.max():+.3f}) "
            f"| {(gain > 0).sum()}/{len(gain)}"
        )
        lines.append(
            f"| {name} | {r['coverage']:.3f} | {min(q):.4f}–{np.median(q):.4f} "
            f"| {r['kept']}/{len(q)} | {r['errors']} / {r['auto']} | {gain_cells} "
            f"| {r['oof_coverage']:.3f} | {r['ece']:.4f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument(
        "--cache",
        type=Path,
        help="benchmarks/accuracy.py's --cache folder: fold results are read from it (and the "
        "missing ones fitted into it)",
    )
    parser.add_argument("--folds-limit", type=int, metavar="N", help="only the first N folds")
    add_results_arguments(parser)
    args = parser.parse_args(argv)
    with recorded("meta_confidence", argv, args.results):
        run(args)


def run(args: argparse.Namespace) -> None:
    if not args.data.exists():
        sys.exit(f"{args.data} not found: this benchmark needs ../shared/data (LAPOR-10)")
    data = load_training_data(
        args.data, "text", "agency", id_col=None, agencies=load_catalogue(agencies_file(None))
    )
    texts = data.frame["text"].tolist()
    labels = data.frame["agency"].to_numpy(dtype=object)
    groups = near_duplicate_groups(texts)
    folds = make_folds("grouped", labels, groups, folds=FOLDS, repeats=REPEATS, seed=SEED)
    folds = folds[: args.folds_limit]
    memory = Memory(args.cache, verbose=0) if args.cache else None
    runner = FoldRunner(make_variants(SEED, DEFAULT_EMBEDDINGS_CACHE, memory, jobs=1), memory)
    seeds = ", ".join(str(SEED + r) for r in range(REPEATS))
    print(
        f"LAPOR-10: {len(texts)} complaints after dedupe ({len(np.unique(groups))} groups of "
        f"near duplicates), {len(np.unique(labels))} agencies; option `{OPTION}` on "
        f"{len(folds)} held-out folds of grouped {FOLDS}-fold CV ×{REPEATS} (seeds {seeds})\n",
        flush=True,
    )
    print(table(summarize(run_folds(texts, labels, groups, folds, runner))))
    print(
        f"\nThreshold per fold: chosen on the training fold's out-of-fold scores for precision "
        f"{TARGET} with confidence {BOUND_CONFIDENCE} (Clopper–Pearson lower bound); the top "
        "probability's row is the accuracy benchmark's delivered (global) coverage. Delivered "
        "cov: auto-routed share of all held-out complaints; precision per fold (min–median); "
        f"kept: folds at precision ≥ {TARGET}. OOF cov@0.99 (best threshold in hindsight) and "
        "ECE: of the score as P(top agency right), pooled over the held-out folds."
    )


if __name__ == "__main__":
    main()
