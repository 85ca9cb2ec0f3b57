"""Real-data accuracy benchmark: grouped stratified K-fold CV on LAPOR-10, side by side.

    python benchmarks/accuracy.py                      # all variants, 5 folds
    python benchmarks/accuracy.py --variants baseline,router --folds 5 --no-results
    python benchmarks/accuracy.py --variants router --folds-kind both   # grouped vs not

Variants: a plain calibrated TF-IDF (word 1-2) + LinearSVC baseline, the project's router, and
the router with each normalization step switched off. Metrics are pooled over the out-of-fold
predictions; coverage at 0.99 precision is also given per fold, because it is decided by a
handful of confidently "wrong" complaints. The data is deduplicated (as `routing train` does)
before splitting, and complaints identical but for their numbers
(`routing.text.near_duplicate_groups`) stay in one fold; `--folds-kind stratified` gives the
earlier folds that let them straddle, `both` a table for each. Prints Markdown tables and
writes them to benchmarks/results/accuracy.md (`benchmarks/record.py`); no complaint text is
printed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import make_pipeline
from sklearn.svm import LinearSVC

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.record import add_results_arguments, recorded  # noqa: E402
from routing.evaluation.metrics import coverage_at_precision, evaluate_suggestions  # noqa: E402
from routing.router import Router  # noqa: E402
from routing.text import TextNormalizer, near_duplicate_groups  # noqa: E402
from training.pipeline import load_training_data  # noqa: E402
from training.split import stratified_folds  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "data" / "lapor10" / "lapor10.csv"
STEPS = ("html", "mask", "lowercase", "collapse_repeats", "lexicon")
FOLDS_KINDS = ("grouped", "stratified")


def baseline():
    """The plain model the issue compares against: calibrated TF-IDF word 1-2 + LinearSVC."""
    return make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2)), CalibratedClassifierCV(LinearSVC(), cv=5)
    )


def make_variants(seed: int) -> dict:
    variants = {"baseline": baseline, "router": lambda: Router(random_state=seed)}
    for step in STEPS:
        variants[f"router -{step}"] = lambda step=step: Router(
            normalizer=TextNormalizer(**{step: False}), random_state=seed
        )
    variants["router, no normalization"] = lambda: Router(
        normalizer=TextNormalizer(**dict.fromkeys(STEPS, False)), random_state=seed
    )
    return variants


def run_variant(make, texts, labels, folds, classes):
    proba = np.zeros((len(texts), len(classes)))
    fit_s, pred_s, fold_cov = [], [], []
    for train, test in folds:
        model = make()
        t0 = time.perf_counter()
        model.fit([texts[i] for i in train], labels[train])
        fit_s.append(time.perf_counter() - t0)
        test_texts = [texts[i] for i in test]
        t0 = time.perf_counter()
        p = model.predict_proba(test_texts)
        pred_s.append(len(test) / (time.perf_counter() - t0))
        cols = np.searchsorted(classes, model.classes_)
        proba[np.ix_(test, cols)] = p
        top = p.argmax(axis=1)
        correct = model.classes_[top] == labels[test]
        fold_cov.append(coverage_at_precision(p[np.arange(len(test)), top], correct, 0.99))
    return proba, fit_s, pred_s, fold_cov


def confident_errors(proba, labels, classes, n=5) -> list[tuple[str, str, int]]:
    """The true → predicted agency pairs among errors in the most confident 75%."""
    top = proba.argmax(axis=1)
    conf = proba[np.arange(len(top)), top]
    cut = np.quantile(conf, 0.25)
    wrong = (classes[top] != labels) & (conf >= cut)
    pairs = Counter((labels[i], classes[top[i]]) for i in np.nonzero(wrong)[0])
    return [(a, b, c) for (a, b), c in pairs.most_common(n)]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--text-col", default="text")
    parser.add_argument("--label-col", default="agency")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--variants", default="all", help="comma-separated names, or all")
    parser.add_argument(
        "--folds-kind",
        choices=(*FOLDS_KINDS, "both"),
        default="grouped",
        help="grouped: near duplicates stay in one fold; stratified: by agency only; both",
    )
    parser.add_argument("--json", type=Path, help="also write all numbers as JSON")
    add_results_arguments(parser)
    args = parser.parse_args(argv)
    with recorded("accuracy", argv, args.results):
        run(args)


def run(args: argparse.Namespace) -> None:
    if not args.data.exists():
        sys.exit(f"{args.data} not found: this benchmark needs ../shared/data (LAPOR-10)")

    data = load_training_data(args.data, args.text_col, args.label_col)
    texts = data.frame["text"].tolist()
    labels = data.frame["agency"].to_numpy(dtype=object)
    classes = np.unique(labels)
    groups = near_duplicate_groups(texts)
    kinds = FOLDS_KINDS if args.folds_kind == "both" else (args.folds_kind,)
    variants = make_variants(args.seed)
    names = list(variants) if args.variants == "all" else args.variants.split(",")
    near = np.bincount(groups)
    near = near[near > 1]
    print(
        f"LAPOR-10: {data.report.rows_read} rows read, {len(texts)} after dedupe, "
        f"{len(classes)} agencies, {args.folds}-fold CV (seed {args.seed}); {near.sum()} "
        f"complaints in {len(near)} groups of near duplicates (largest {near.max(initial=0)})\n",
        flush=True,
    )
    results = {}
    for kind in kinds:
        folds = stratified_folds(
            labels,
            n_splits=args.folds,
            seed=args.seed,
            groups=groups if kind == "grouped" else None,
        )
        results[kind] = {}
        for name in names:
            results[kind][name] = score_variant(variants[name], texts, labels, folds, classes)
            r = results[kind][name]
            print(
                f"  {kind} folds, {name}: macro-F1 {r['macro_f1']:.4f}, cov@0.99 "
                f"{r['coverage_at_precision']['0.99']:.3f}",
                file=sys.stderr,
                flush=True,
            )

    for i, kind in enumerate(kinds):
        if len(kinds) > 1:
            print(("\n" if i else "") + f"### {kind.capitalize()} folds\n")
        print(table(results[kind]))
    for kind in kinds:
        if "router" in results[kind]:
            print(
                f"\nMost frequent confident errors of the router, {kind} folds "
                "(true → predicted, count):"
            )
            for true, pred, count in results[kind]["router"]["confident_error_pairs"]:
                print(f"- {true} → {pred}: {count}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")


def score_variant(make, texts, labels, folds, classes) -> dict:
    proba, fit_s, pred_s, fold_cov = run_variant(make, texts, labels, folds, classes)
    m = evaluate_suggestions(labels, proba, classes, threshold=1.0)
    return {
        "accuracy": m["accuracy"],
        "macro_f1": m["macro_f1"],
        "top3_accuracy": m["top3_accuracy"],
        "ece": m["ece"],
        "coverage_at_precision": m["coverage_at_precision"],
        "coverage_0.99_per_fold": fold_cov,
        "fit_seconds_median": float(np.median(fit_s)),
        "predictions_per_second_median": float(np.median(pred_s)),
        "confident_error_pairs": confident_errors(proba, labels, classes),
    }


def table(results: dict) -> str:
    lines = [
        "| variant | accuracy | macro-F1 | top-3 | ECE | cov@0.98 | cov@0.99 (pooled) "
        "| cov@0.99 per fold (min–max) | fit s | predictions/s |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        cov = r["coverage_at_precision"]
        folds_cov = r["coverage_0.99_per_fold"]
        lines.append(
            f"| {name} | {r['accuracy']:.4f} | {r['macro_f1']:.4f} | {r['top3_accuracy']:.4f} "
            f"| {r['ece']:.4f} | {cov['0.98']:.3f} | {cov['0.99']:.3f} "
            f"| {np.mean(folds_cov):.3f} ({min(folds_cov):.3f}–{max(folds_cov):.3f}) "
            f"| {r['fit_seconds_median']:.1f} | {r['predictions_per_second_median']:.0f} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
