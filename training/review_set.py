"""A review set: which complaints of a disposition table to review, as one blind sheet.

    python -m training.review_set ../shared/data/lapor10/lapor10.csv --out REVIEW/sheet.csv

The complaints, read and deduplicated as `routing train` reads them:

- `audit`: the audit's suspects (`routing.evaluation.audit.find_suspects` with its defaults),
- `router`: the out-of-fold disagreements of the default router (`Router.oof_proba_`),
- `baseline`: the out-of-fold disagreements of a plain TF-IDF + LinearSVC on grouped folds
  (`training.split.stratified_folds`, near-duplicates on one side, same seed),
- `agreeing`: a seeded random sample of `--agreeing` of the other complaints, where the
  router agrees with the recorded agency,

all mixed in one shuffled sheet (`routing.corrections.review_sheet`). Each row's candidates are
the recorded agency and the first of: the audit's suggestion, the router's choice, the
baseline's choice; an agreeing row gets the router's second agency, so that the sheet does not
tell agreeing rows from the others. Texts are masked; the sheet still holds complaint text:
keep it out of the repository. Beside it, `SHEET.sources.csv` holds ids (as
`routing.corrections.id_digest`, so it copies no dataset id), recorded agencies, candidates and
sources (no text): what the review's agreement figures need.
"""

from __future__ import annotations

import argparse
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.svm import LinearSVC

from routing.corrections import id_digest, review_sheet, write_csv
from routing.evaluation.audit import find_suspects
from routing.router import Router
from routing.text import near_duplicate_groups
from training.pipeline import load_training_data
from training.split import stratified_folds

__all__ = ["review_set"]

SOURCES = ("audit", "router", "baseline", "agreeing")


def review_set(
    texts: list[str], labels: list[str], *, agreeing: int = 200, seed: int = 0
) -> pd.DataFrame:
    """One row per complaint to review: `row` (position), `recorded`, `other` (the second
    candidate) and `sources` ("+"-joined, from SOURCES), in row order."""
    y = np.asarray(labels, dtype=object)
    router = Router(random_state=seed).fit(texts, labels)
    classes, oof = router.classes_, router.oof_proba_
    order = np.argsort(-oof, axis=1, kind="stable")
    router_top, router_second = classes[order[:, 0]], classes[order[:, 1]]
    folds = stratified_folds(labels, n_splits=5, seed=seed, groups=near_duplicate_groups(texts))
    plain = make_pipeline(TfidfVectorizer(ngram_range=(1, 2)), LinearSVC())
    baseline = cross_val_predict(plain, np.asarray(texts, dtype=object), y, cv=folds)
    suspects = find_suspects(labels, oof, classes)
    suggested = dict(zip(suspects["row"], suspects["suggested_agency"], strict=True))

    picked: dict[int, tuple[str, list[str]]] = {}  # row → (other candidate, sources)
    for row, agency in suggested.items():
        picked[int(row)] = (agency, ["audit"])
    for name, choice in (("router", router_top), ("baseline", baseline)):
        for row in np.flatnonzero(choice != y):
            picked.setdefault(int(row), (choice[row], []))[1].append(name)
    rest = np.setdiff1d(np.flatnonzero(router_top == y), list(picked))
    rng = np.random.default_rng(seed)
    for row in rng.choice(rest, size=min(agreeing, len(rest)), replace=False):
        picked[int(row)] = (router_second[row], ["agreeing"])
    rows = sorted(picked)
    return pd.DataFrame(
        {
            "row": rows,
            "recorded": [y[r] for r in rows],
            "other": [picked[r][0] for r in rows],
            "sources": ["+".join(picked[r][1]) for r in rows],
        }
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", type=Path, help="disposition table (CSV, JSONL or Parquet)")
    parser.add_argument("--out", type=Path, required=True, help="the sheet (CSV) to write")
    parser.add_argument("--text-col", default="text")
    parser.add_argument("--label-col", default="agency")
    parser.add_argument("--id-col", default="id")
    parser.add_argument("--agreeing", type=int, default=200, help="agreeing rows to sample")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    data = load_training_data(args.data, args.text_col, args.label_col, id_col=args.id_col)
    frame = data.frame
    texts = frame[args.text_col].tolist()
    ids = frame[args.id_col].astype(str).to_numpy(dtype=object)
    chosen = review_set(
        texts, frame[args.label_col].tolist(), agreeing=args.agreeing, seed=args.seed
    )
    rows = chosen["row"].to_numpy()
    sheet = review_sheet(
        ids[rows].tolist(),
        [texts[r] for r in rows],
        chosen["recorded"].tolist(),
        chosen["other"].tolist(),
        seed=args.seed,
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_csv(sheet, args.out)
    commit = subprocess.run(
        ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    sources = chosen.drop(columns="row").assign(
        id=[id_digest(i) for i in ids[rows]], commit=commit or "unknown"
    )
    sources_path = args.out.with_name(args.out.stem + ".sources.csv")
    write_csv(sources[["id", "recorded", "other", "sources", "commit"]], sources_path)
    counts = {s: int(chosen["sources"].str.contains(s).sum()) for s in SOURCES}
    print(f"{len(sheet)} complaints to review ({counts}); sheet {args.out}, ids {sources_path}")


if __name__ == "__main__":
    main()
