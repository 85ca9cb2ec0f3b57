"""Out-of-scope benchmark: complaints of agencies the model was not trained on.

    python benchmarks/out_of_scope.py                  # the 5 pairs of LAPOR-10, seed 0
    python benchmarks/out_of_scope.py --pairs 1 --no-results      # a quick look

LAPOR-10's 10 agencies are cut into 5 disjoint pairs, fixed by `--seed`. For each pair in
turn, the other agencies' complaints are split 80/20 (stratified, near duplicates on one
side, `training.split`); a model is trained on the 80 % exactly as `routing train` trains one
(router, threshold for 0.99 precision with the lower-bound rule, out-of-scope detector fitted
out of fold) and `routing.suggest.suggest` decides every complaint of the pair and of the
held-out 20 %. Reported per pair and on the mean over pairs: the share of the pair's
complaints auto-routed (target ≤ 1 %) and flagged `out_of_scope` (target ≥ 50 %); for the
known agencies' held-out complaints, the share flagged `out_of_scope`, the share auto-routed
(coverage), the coverage if the out-of-scope flag were ignored and the precision of the auto
routed. A second table checks the ambiguity rule out of fold: how often it holds on the
training complaints, and how often the right agency is then one of the two. Prints Markdown
and writes it to benchmarks/results/out_of_scope.md (`benchmarks/record.py`); no complaint
text is printed. benchmarks/out_of_scope_holdout.py compares, on the same pairs and models, a
detector trained by holding known agencies out of the training complaints.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.record import add_results_arguments, recorded  # noqa: E402
from routing.bundle import Bundle, Calibration  # noqa: E402
from routing.novelty import DEFAULT_FLAG_SHARE, NoveltyDetector  # noqa: E402
from routing.policy import is_ambiguous  # noqa: E402
from routing.router import top_k_from_proba  # noqa: E402
from routing.suggest import Prediction, suggest  # noqa: E402
from routing.text import near_duplicate_groups  # noqa: E402
from training.pipeline import fit_router, load_training_data  # noqa: E402
from training.split import train_test_split_stratified  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "data" / "lapor10" / "lapor10.csv"
TARGET_PRECISION = 0.99


def agency_pairs(agencies: list[str], seed: int = 0) -> list[tuple[str, str]]:
    """Disjoint pairs of the agencies (sorted, then shuffled with `seed`); an odd one out is
    left over."""
    order = np.random.default_rng(seed).permutation(sorted(agencies))
    return [(str(a), str(b)) for a, b in zip(order[0::2], order[1::2], strict=False)]


def _shares(predictions: list[Prediction]) -> tuple[float, float]:
    """(share auto-routed, share flagged out_of_scope)."""
    n = max(len(predictions), 1)
    auto = sum(p.decision == "auto" for p in predictions)
    flagged = sum(any(r["code"] == "out_of_scope" for r in p.reasons) for p in predictions)
    return auto / n, flagged / n


def split_pair(
    labels: np.ndarray, groups: np.ndarray, pair: tuple[str, str], seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows (train, test, left out): the pair's complaints are left out and the other
    agencies' split 80/20, stratified, near duplicates (`groups`) on one side."""
    left_out = np.isin(labels, pair)
    known = np.flatnonzero(~left_out)
    train, test = train_test_split_stratified(
        labels[known], test_size=0.2, seed=seed, groups=groups[known]
    )
    return known[train], known[test], np.flatnonzero(left_out)


def train_bundle(
    texts: list[str], labels: list[str], *, seed: int = 0, flag_share: float = DEFAULT_FLAG_SHARE
) -> Bundle:
    """A model trained as `routing train` trains one (router, threshold for
    TARGET_PRECISION, out-of-scope detector), held in memory as a bundle for `suggest`."""
    detector = NoveltyDetector(flag_share=flag_share)
    router, policy, _ = fit_router(
        texts, labels, seed=seed, target_precision=TARGET_PRECISION, novelty=detector
    )
    return Bundle(
        path=Path("(benchmark)"),
        manifest={"model_version": "benchmark", "policy": policy.to_dict()},
        router=router,
        calibration=Calibration(np.zeros(0), np.zeros(0, dtype=bool)),
        policy=policy,
        novelty=detector,
    )


def run_pair(
    texts: list[str],
    labels: np.ndarray,
    groups: np.ndarray,
    pair: tuple[str, str],
    *,
    seed: int = 0,
    flag_share: float = DEFAULT_FLAG_SHARE,
) -> dict[str, Any]:
    """Train without `pair` and decide its complaints and held-out known ones."""
    train, test, left_out = split_pair(labels, groups, pair, seed)
    ytr = labels[train].tolist()
    start = time.perf_counter()
    bundle = train_bundle([texts[i] for i in train], ytr, seed=seed, flag_share=flag_share)
    seconds = time.perf_counter() - start
    router, policy, detector = bundle.router, bundle.policy, bundle.novelty
    out = suggest(bundle, [texts[i] for i in left_out], top_k=1)
    held = suggest(bundle, [texts[i] for i in test], top_k=1)
    auto = np.array([p.decision == "auto" for p in held])
    right = np.array([p.top.agency for p in held], dtype=object) == labels[test]
    only_oos = np.array([[r["code"] for r in p.reasons] == ["out_of_scope"] for p in held])
    out_auto, out_flagged = _shares(out)
    _, known_flagged = _shares(held)
    oof = router.oof_proba_
    top2 = top_k_from_proba(oof, router.classes_, 2)
    ambiguous = np.array([is_ambiguous(t[0][1], t[1][1]) for t in top2])
    in_two = np.array([y in (t[0][0], t[1][0]) for y, t in zip(ytr, top2, strict=True)], dtype=bool)
    return {
        "pair": pair,
        "n_out": len(left_out),
        "out_auto": out_auto,
        "out_flagged": out_flagged,
        "n_known": len(test),
        "known_flagged": known_flagged,
        "known_auto": float(auto.mean()),
        "known_auto_without_flag": float((auto | only_oos).mean()),
        "known_precision": float(right[auto].mean()) if auto.any() else None,
        "threshold": policy.threshold,
        "cutoff": detector.cutoff_,
        "ambiguous_share": float(ambiguous.mean()),
        "ambiguous_in_two": float(in_two[ambiguous].mean()) if ambiguous.any() else None,
        "seconds": seconds,
    }


def _pct(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{100 * value:.{digits}f} %"


def table(results: list[dict[str, Any]]) -> str:
    """The Markdown table of `run_pair` results, one row per pair and the mean."""
    lines = [
        "| left-out pair | complaints | auto-routed (≤ 1 %) | flagged out_of_scope (≥ 50 %) "
        "| known: flagged | known: auto | known: auto without the flag "
        "| known: precision of auto | threshold | cutoff |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {' + '.join(r['pair'])} | {r['n_out']} | {_pct(r['out_auto'])} "
            f"| {_pct(r['out_flagged'])} | {_pct(r['known_flagged'])} | {_pct(r['known_auto'])} "
            f"| {_pct(r['known_auto_without_flag'])} | {_pct(r['known_precision'], 2)} "
            f"| {r['threshold']:.4f} | {r['cutoff']:.4f} |"
        )

    def mean(key: str) -> float | None:
        values = [r[key] for r in results if r[key] is not None]
        return float(np.mean(values)) if values else None

    lines.append(
        f"| **mean over pairs** | | **{_pct(mean('out_auto'))}** | **{_pct(mean('out_flagged'))}** "
        f"| {_pct(mean('known_flagged'))} | {_pct(mean('known_auto'))} "
        f"| {_pct(mean('known_auto_without_flag'))} | {_pct(mean('known_precision'), 2)} | | |"
    )
    return "\n".join(lines)


def ambiguity_table(results: list[dict[str, Any]]) -> str:
    """How often the ambiguity rule holds out of fold, and how often it names the right
    agency among its two."""
    lines = [
        "| model trained without | training complaints ambiguous (OOF) "
        "| of those, right agency among the two |",
        "|---|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {' + '.join(r['pair'])} | {_pct(r['ambiguous_share'])} "
            f"| {_pct(r['ambiguous_in_two'])} |"
        )
    return "\n".join(lines)


def add_pair_arguments(parser: argparse.ArgumentParser) -> None:
    """The data and pair options `load_pairs` reads."""
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--text-col", default="text")
    parser.add_argument("--label-col", default="agency")
    parser.add_argument("--seed", type=int, default=0, help="fixes the pairs and the splits")
    parser.add_argument("--pairs", type=int, default=None, help="only the first N pairs")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_pair_arguments(parser)
    parser.add_argument(
        "--flag-share",
        type=float,
        default=DEFAULT_FLAG_SHARE,
        help="share of training complaints (out of fold) the detector's cutoff flags",
    )
    add_results_arguments(parser)
    args = parser.parse_args(argv)
    with recorded("out_of_scope", argv, args.results):
        run(args)


def load_pairs(
    args: argparse.Namespace,
) -> tuple[list[str], np.ndarray, np.ndarray, list[tuple[str, str]]]:
    """The complaints of `args.data` (texts, labels, near-duplicate groups) and the first
    `args.pairs` left-out pairs fixed by `args.seed`; exits when the data is absent."""
    if not args.data.exists():
        sys.exit(f"{args.data} not found: this benchmark needs ../shared/data (LAPOR-10)")
    data = load_training_data(args.data, args.text_col, args.label_col)
    texts = data.frame["text"].tolist()
    labels = data.frame["agency"].to_numpy(dtype=object)
    groups = np.asarray(near_duplicate_groups(texts))
    return texts, labels, groups, agency_pairs(sorted(set(labels)), args.seed)[: args.pairs]


def run(args: argparse.Namespace) -> None:
    texts, labels, groups, pairs = load_pairs(args)
    print(
        f"LAPOR-10: {len(texts)} complaints after dedupe, {len(set(labels))} agencies, "
        f"{len(pairs)} left-out pairs (seed {args.seed}); target precision "
        f"{TARGET_PRECISION}, detector flag share {args.flag_share}\n"
    )
    results = []
    for pair in pairs:
        results.append(
            run_pair(texts, labels, groups, pair, seed=args.seed, flag_share=args.flag_share)
        )
        print(f"trained without {' + '.join(pair)} in {results[-1]['seconds']:.0f} s",
              file=sys.stderr)  # fmt: skip
    print("## Complaints of agencies the model does not know\n")
    print(table(results))
    print("\n## The ambiguity rule, out of fold\n")
    print(ambiguity_table(results))


if __name__ == "__main__":
    main()
