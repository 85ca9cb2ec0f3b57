"""Jurisdiction: how well places are found in real complaints.

    python benchmarks/jurisdiction.py --data ../shared/data/lapor10/lapor10.csv

Reads the annotated LAPOR-10 set (`data/jurisdiction/lapor10-places.csv`: 400 complaints drawn
by `training.jurisdiction_set`, annotated by id digest to docs/jurisdiction-annotation.md
before the place finder was tuned; `lapor10-places-second.csv`: the second annotator's
independent reading of the shared complaints), runs `routing.places.default_place_finder()` on
those complaints' texts and prints, and writes to benchmarks/results/jurisdiction.md:

- the annotators' agreement on the shared complaints (raw and Cohen's kappa on the decided
  code, none and ambiguous as their own categories);
- per complaint, precision = correct codes / complaints the finder gives a jurisdiction, recall
  = correct / complaints annotated with one, with 95 % Wilson intervals; an ambiguous finding
  or annotation (one with candidates) counts as none;
- the same by the annotated level (regency/city, province) and the kinds of error (a wrong
  code, a place where the annotation has none, a place missed).

The place finder was first measured on all 400 blind; later rule changes looked only at the
errors of the `dev` half (ids whose digest ends in an even hex digit), so `--half test` is
the figure its tuning never saw.

No complaint text is printed.
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
from routing.places import PlaceFinder, default_place_finder  # noqa: E402
from training.data import read_table  # noqa: E402

ANNOTATED = ROOT / "data" / "jurisdiction"
HALVES = ("all", "dev", "test")


def half_of(digest: str) -> str:
    """`dev` or `test`: a fixed split of the annotated set by its id digests."""
    return "dev" if int(digest[-1], 16) % 2 == 0 else "test"


def decided(status: pd.Series, code: pd.Series, candidates: pd.Series) -> pd.Series:
    """The code an annotation decides, "" when none or ambiguous (one with candidates)."""
    keep = (status == "place") & (candidates.fillna("") == "")
    return code.where(keep, "").fillna("")


def found(finder: PlaceFinder, texts: list[str]) -> list[str]:
    """The code the finder decides per text, "" when it finds none or an ambiguous one."""
    out = []
    for finding in finder.find_batch(texts):
        j = finding.jurisdiction
        out.append(j.code or "" if j is not None and not j.ambiguous else "")
    return out


def interval(hits: int, n: int) -> str:
    if n == 0:
        return "– (n = 0)"
    low, high = binomtest(hits, n).proportion_ci(0.95, method="wilson")
    return f"{hits / n:.3f} ({low:.3f}–{high:.3f}, {hits}/{n})"


def scores(gold: pd.Series, predicted: pd.Series) -> dict[str, str]:
    given, annotated = predicted != "", gold != ""
    correct = int((given & (predicted == gold)).sum())
    return {
        "precision": interval(correct, int(given.sum())),
        "recall": interval(correct, int(annotated.sum())),
    }


def level(code: str) -> str:
    return "none" if not code else ("regency/city" if "." in code else "province")


def report(frame: pd.DataFrame, second: pd.DataFrame) -> list[str]:
    gold, predicted = frame["gold"], frame["found"]
    lines = [f"Annotated complaints: {len(frame)}; with a decided jurisdiction: "]
    lines[0] += f"{int((gold != '').sum())} ({gold.map(level).value_counts().to_dict()})."
    if len(second):
        both = frame.merge(second, on="id")
        a, b = both["gold"], both["second"]
        lines += [
            "",
            f"Annotator agreement on the {len(both)} shared complaints: raw "
            f"{(a == b).mean():.3f}, Cohen's kappa {cohen_kappa_score(a, b):.3f} "
            "(the decided code; none/ambiguous as one category).",
        ]
    rows = [["all", *scores(gold, predicted).values()]]
    for name in ("regency/city", "province"):
        part = gold.map(level) == name
        given_here = predicted.map(level) == name
        correct = int((part & (predicted == gold)).sum())
        rows.append(
            [
                f"annotated {name}",
                interval(correct, int(given_here.sum())),
                interval(correct, int(part.sum())),
            ]
        )
    lines += ["", "| complaints | precision | recall |", "|---|---|---|"]
    lines += [f"| {r[0]} | {r[1]} | {r[2]} |" for r in rows]
    given, annotated = predicted != "", gold != ""
    errors = {
        "wrong code": int((given & annotated & (predicted != gold)).sum()),
        "place where the annotation has none": int((given & ~annotated).sum()),
        "place missed": int((~given & annotated).sum()),
    }
    lines += ["", "Errors: " + ", ".join(f"{k} {v}" for k, v in errors.items()) + "."]
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="lapor10.csv")
    parser.add_argument("--annotations", type=Path, default=ANNOTATED, help="annotation folder")
    parser.add_argument("--half", choices=HALVES, default="all", help="annotated complaints")
    add_results_arguments(parser)
    args = parser.parse_args(argv)
    table = read_table(args.data).frame
    # the shipped annotations name complaints by id_digest: no dataset id in the repository
    digests = table["id"].astype(str).map(id_digest)
    texts = dict(zip(digests, table["text"].astype(str), strict=True))
    kept = read_csv(args.annotations / "lapor10-places.csv")
    if args.half != "all":
        kept = kept[kept["id"].map(half_of) == args.half].reset_index(drop=True)
    missing = [i for i in kept["id"] if i not in texts]
    if missing:
        raise SystemExit(f"{len(missing)} annotated ids are not in {args.data}")
    frame = pd.DataFrame(
        {"id": kept["id"], "gold": decided(kept["status"], kept["code"], kept["candidates"])}
    )
    frame["found"] = found(default_place_finder(), [texts[i] for i in frame["id"]])
    second_path = args.annotations / "lapor10-places-second.csv"
    second = pd.DataFrame(columns=["id", "second"])
    if second_path.exists():
        other = read_csv(second_path)
        second = pd.DataFrame(
            {
                "id": other["id"],
                "second": decided(other["status"], other["code"], other["candidates"]),
            }
        )
    with recorded("jurisdiction", argv, args.results):
        print("\n".join(report(frame, second)))


if __name__ == "__main__":
    main()
