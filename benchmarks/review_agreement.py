"""What a review of dispositions found: agreement between reviewers, and whom verdicts side with.

    python benchmarks/review_agreement.py --data ../shared/data/lapor10/lapor10.csv

Reads the shipped LAPOR-10 review (`data/corrections/`: `lapor10.csv`, the kept verdicts;
`lapor10-second.csv`, the second reviewer's independent verdicts on a subset;
`lapor10-sources.csv`, why each complaint was in the review set and the candidate shown beside
the recorded agency) and the data, for the recorded agencies. Prints, and writes to
benchmarks/results/review_agreement.md:

- Cohen's kappa between the two reviewers on the complaints both judged (categories: label
  right, label wrong *to a given agency*, both, unclear), with the raw agreement;
- verdicts per source (`training.review_set`: audit suspects, router and baseline
  disagreements, agreeing sample);
- for the router's out-of-fold disagreements, per pair (recorded → router), how often the
  verdict sides with the router (the label is wrong and the router's agency is the right one),
  with the recorded label, is `both`, names a third agency or is `unclear`;
- the error rate among the agreeing sample (label wrong), with a 95 % Clopper–Pearson interval.

No complaint text is read or printed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd
from scipy.stats import binomtest
from sklearn.metrics import cohen_kappa_score

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.record import add_results_arguments, recorded  # noqa: E402
from routing.corrections import id_digest, read_csv  # noqa: E402
from training.data import read_table  # noqa: E402

REVIEW = ROOT / "data" / "corrections"
SOURCES = ("audit", "router", "baseline", "agreeing")
SIDES = ("router", "recorded", "both", "third agency", "unclear")


def categories(frame: pd.DataFrame) -> pd.Series:
    """Each review's category for agreement: a wrong label counts with the agency named."""
    wrong = frame["verdict"] == "label_wrong"
    return frame["verdict"].where(~wrong, "label_wrong → " + frame["agency"])


def side(verdict: str, agency: str, router: str) -> str:
    """Whom a verdict sides with, for a complaint where the router chose `router`."""
    if verdict == "label_right":
        return "recorded"
    if verdict == "label_wrong":
        return "router" if agency == router else "third agency"
    return verdict


def markdown(frame: pd.DataFrame) -> list[str]:
    head = "| " + " | ".join(map(str, frame.columns)) + " |"
    rule = "|" + "---|" * len(frame.columns)
    return [head, rule, *("| " + " | ".join(map(str, row)) + " |" for row in frame.to_numpy())]


def report(data: pd.DataFrame, kept: pd.DataFrame, second: pd.DataFrame, sources: pd.DataFrame):
    lines = []
    both = kept.merge(second, on="id", suffixes=("_1", "_2"))
    a = categories(both.rename(columns={"verdict_1": "verdict", "agency_1": "agency"}))
    b = categories(both.rename(columns={"verdict_2": "verdict", "agency_2": "agency"}))
    lines += [
        f"Reviewed: {len(kept)} complaints (first pass); the second reviewer judged {len(both)} "
        "of them independently.",
        "",
        f"Agreement on those {len(both)}: Cohen's kappa {cohen_kappa_score(a, b):.3f}, raw "
        f"{(a.to_numpy() == b.to_numpy()).mean():.3f} (categories: label right, label wrong to "
        "a named agency, both, unclear).",
        "",
    ]
    rows = kept.merge(sources, on="id").merge(data, on="id")
    per_source = []
    for name in SOURCES:
        part = rows[rows["sources"].str.split("+").map(lambda s, n=name: n in s)]
        counts = part["verdict"].value_counts()
        per_source.append(
            [name, len(part)]
            + [int(counts.get(v, 0)) for v in ("label_right", "label_wrong")]
            + [int(counts.get(v, 0)) for v in ("both", "unclear")]
        )
    columns = ["source", "complaints", "label right", "label wrong", "both", "unclear"]
    lines += ["### Verdicts by source", "", *markdown(pd.DataFrame(per_source, columns=columns))]
    lines += ["", "A complaint in several sources counts in each.", ""]

    disagree = rows[rows["sources"].str.contains("router")].copy()
    disagree["side"] = [
        side(v, a, r)
        for v, a, r in zip(disagree["verdict"], disagree["agency"], disagree["other"], strict=True)
    ]
    disagree = disagree.rename(columns={"recorded": "recorded agency", "other": "router's agency"})
    pairs = disagree.groupby(["recorded agency", "router's agency"])["side"].value_counts()
    pairs = pairs.unstack(fill_value=0)
    pairs = pairs.reindex(columns=list(SIDES), fill_value=0)
    pairs.insert(0, "complaints", pairs.sum(axis=1))
    pairs = pairs.sort_values("complaints", ascending=False).reset_index()
    total = pairs[list(SIDES)].sum()
    lines += [
        "### The router's out-of-fold disagreements: whom the verdict sides with",
        "",
        f"{len(disagree)} complaints: router {total['router']}, recorded {total['recorded']}, "
        f"both {total['both']}, a third agency {total['third agency']}, "
        f"unclear {total['unclear']}.",
        "",
        *markdown(pairs),
        "",
    ]
    agreeing = rows[rows["sources"] == "agreeing"]
    wrong = int((agreeing["verdict"] == "label_wrong").sum())
    low, high = binomtest(wrong, len(agreeing)).proportion_ci(0.95, method="exact")
    counts = agreeing["verdict"].value_counts()
    lines += [
        "### The agreeing sample",
        "",
        f"{len(agreeing)} complaints where the router agrees with the recorded agency: label "
        f"wrong {wrong} ({wrong / max(len(agreeing), 1):.1%}, 95 % interval {low:.1%}–"
        f"{high:.1%}), both {int(counts.get('both', 0))}, unclear "
        f"{int(counts.get('unclear', 0))}.",
    ]
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="lapor10.csv")
    parser.add_argument("--review", type=Path, default=REVIEW, help="folder of the review files")
    add_results_arguments(parser)
    args = parser.parse_args(argv)
    table = read_table(args.data).frame
    # the shipped files name complaints by id_digest: no dataset id in the repository
    ids = table["id"].astype(str).map(id_digest)
    data = pd.DataFrame({"id": ids, "recorded": table["agency"].astype(str)})
    data = data.drop_duplicates("id")
    kept = read_csv(args.review / "lapor10.csv")
    second = read_csv(args.review / "lapor10-second.csv")
    sources = read_csv(args.review / "lapor10-sources.csv")
    with recorded("review_agreement", argv, args.results):
        print("\n".join(report(data, kept, second, sources)))


if __name__ == "__main__":
    main()
