"""Jurisdiction: how well places are found in real complaints, and what routing by role ×
jurisdiction does for regencies a router never saw.

    python benchmarks/jurisdiction.py --data ../shared/data/lapor10/lapor10.csv
    python benchmarks/jurisdiction.py --parts heldout --no-results   # no data needed
    python benchmarks/jurisdiction.py --data ../shared/data/lapor10/lapor10.csv \
        --parts places,heldout,national --model models/lapor10

Part `places` reads the annotated LAPOR-10 rounds in `data/jurisdiction/` (each 400
complaints drawn by `training.jurisdiction_set` and annotated by id digest to
docs/jurisdiction-annotation.md; `<round>-second.csv`: the second annotator's independent
reading of the shared complaints), runs `routing.places.default_place_finder()` on those
complaints' texts and prints, and writes to benchmarks/results/jurisdiction.md, per round:

- the annotators' agreement on the shared complaints (raw and Cohen's kappa on the decided
  code, none and ambiguous as their own categories);
- per complaint, precision = correct codes / complaints the finder gives a jurisdiction, recall
  = correct / complaints annotated with one, with 95 % Wilson intervals; an ambiguous finding
  or annotation (one with candidates) counts as none;
- the same by the annotated level (regency/city, province) and the kinds of error (a wrong
  code, a place where the annotation has none, a place missed).

Round 1 (`lapor10-places.csv`, seed 0) was annotated before the place finder existed, and its
rules were since tuned on all of its disagreements: it is the tuning set. Rounds 2–5
(`lapor10-places-round<k>.csv`, seeds 1–4) were each annotated blind before the k-th tuning,
which read the rounds before it; rounds 2–5 were read by the next tuning (round 5 by a sixth).
Round 6 (seed 5, drawn without any complaint of rounds 1–5) was annotated blind before the
sixth tuning; round 7 (seed 6, without any complaint of rounds 1–6) blind before the seventh,
which read round 6; round 8 (seed 7, without any of rounds 1–7) blind before the eighth, which
read round 7; round 9 (seed 8, without any of rounds 1–8) blind while the eighth ran; rounds 10
and 11 (seeds 9 and 10, without any of rounds 1–9 nor of each other) blind while the ninth,
which read rounds 8 and 9, ran; rounds 12 and 13 (seeds 11 and 12, likewise) blind after it. A
tenth tuning read rounds 10 and 11 and changed nothing (each rule tried lost as much as it
gained), so the finder is the one they were annotated blind to. Rounds 10–13 are read by no
tuning that changed the finder: they are the blind figures. Rounds 3–5 share some complaints
with earlier rounds (docs/jurisdiction-annotation.md says why): each round after the first also
gets a row "new to this round" for its complaints no earlier round holds, the figures the
tuning before it never saw, and the complaints drawn in two rounds get the agreement of their
two annotations. Each round is reported when its file exists; a last table pools the rounds no
tuning has read (`UNREAD`), each complaint once: the real-world figure.

Part `heldout` (the mechanism, on synthetic complaints): `training.regional_corpus` writes
complaints about regional offices (roads, schools, clinics, water, ID cards, …) in regencies and
cities of several provinces, naming places in varied forms without reading the place finder's
alias file; afterwards each mention is checked against that file and the share that uses none
of its aliases is reported. A benchmark catalogue lists an office of every role in every
regency/city used (``<ROLE>-<region>``) and the provincial offices of province-level topics
(senior high schools, provincial roads). The regencies/cities of some provinces are held out:
none of their complaints, and so none of their offices, are in training. Two routers are
trained on the same complaints: (a) flat, on the concrete agencies, which cannot name an office
it never saw; (b) on the classes the catalogue maps them to (roles, national agencies), the
top class resolved to a concrete agency by the place the text names (`routing.places`) and the
rules of authority (`routing.authority.resolve_agency`). Both are scored on the concrete agency
of complaints from held-out regencies, new complaints from training regencies, and new
complaints to national agencies.

Part `national` (with `--model`, a bundle `routing train` made from `--data` with the shipped
catalogue) suggests the top 3 agencies for every complaint of `--data` as the service does and
counts the suggestions that are local agencies (provincial or regency/city, or a regional role
left without a place): the national agencies of LAPOR-10 must stay national however places
are found. It also counts the complaints given a jurisdiction and those sent to review for
`no_jurisdiction` or `location_conflict`.

No complaint text is printed.
"""

from __future__ import annotations

import argparse
import csv
import io
import re
import sys
import unicodedata
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd
from scipy.stats import binomtest
from sklearn.metrics import cohen_kappa_score

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.record import add_results_arguments, recorded  # noqa: E402
from routing.authority import (  # noqa: E402
    DEFAULT_AGENCIES_PATH,
    DEFAULT_AUTHORITY_PATH,
    Authority,
    parse_authority,
    resolve_agency,
)
from routing.bundle import load_bundle  # noqa: E402
from routing.catalogue import COLUMNS, read_catalogue_rows  # noqa: E402
from routing.corrections import id_digest, read_csv  # noqa: E402
from routing.gazetteer import Gazetteer, Region, load_gazetteer  # noqa: E402
from routing.places import (  # noqa: E402
    DEFAULT_ALIASES_PATH,
    PlaceFinder,
    PlaceFinding,
    default_place_finder,
)
from routing.router import Router  # noqa: E402
from routing.suggest import suggest  # noqa: E402
from training.data import read_table  # noqa: E402
from training.regional_corpus import (  # noqa: E402
    FORMS,
    ROLE_TOPICS,
    RegionalComplaint,
    generate,
    office_code,
    pick_regions,
)

ANNOTATED = ROOT / "data" / "jurisdiction"
# (file stem, heading): the annotation rounds, each reported when its file exists
ROUNDS = (
    ("lapor10-places", "round 1 (seed 0): the tuning set"),
    ("lapor10-places-round2", "round 2 (seed 1, annotated blind before the second tuning)"),
    ("lapor10-places-round3", "round 3 (seed 2, annotated blind before the third tuning)"),
    ("lapor10-places-round4", "round 4 (seed 3, annotated blind before the fourth tuning)"),
    ("lapor10-places-round5", "round 5 (seed 4, annotated blind before the fifth tuning)"),
    (
        "lapor10-places-round6",
        "round 6 (seed 5, none of rounds 1–5, annotated blind before the sixth tuning)",
    ),
    (
        "lapor10-places-round7",
        "round 7 (seed 6, none of rounds 1–6, annotated blind before the seventh tuning)",
    ),
    (
        "lapor10-places-round8",
        "round 8 (seed 7, none of rounds 1–7, annotated blind before the eighth tuning)",
    ),
    (
        "lapor10-places-round9",
        "round 9 (seed 8, none of rounds 1–8, annotated blind while the eighth tuning ran)",
    ),
    (
        "lapor10-places-round10",
        "round 10 (seed 9, none of rounds 1–9, annotated blind while the ninth tuning ran)",
    ),
    (
        "lapor10-places-round11",
        "round 11 (seed 10, none of rounds 1–10, annotated blind while the ninth tuning ran)",
    ),
    (
        "lapor10-places-round12",
        "round 12 (seed 11, none of rounds 1–11, annotated blind after the ninth tuning)",
    ),
    (
        "lapor10-places-round13",
        "round 13 (seed 12, none of rounds 1–12, annotated blind after the ninth tuning)",
    ),
    *(
        (
            f"lapor10-places-round{k}",
            f"round {k} (seed {k - 1}, none of rounds 1–{k - 1}, annotated blind while the "
            "eleventh tuning ran)",
        )
        for k in range(14, 18)
    ),
)
# the rounds annotated blind to the place finder as it is (no tuning has changed it on reading
# them): pooled, the real-world figure
UNREAD = tuple(f"lapor10-places-round{k}" for k in range(14, 18))
PARTS = ("places", "heldout", "national")
DEFAULT_PARTS = ("places", "heldout")
TOP_K = 3  # suggestions per complaint, as the service's default
# The held-out benchmark's regions: regencies/cities per province, and every HELD_OUT_EVERY-th
# province's are held out of training.
PROVINCES, PER_PROVINCE, HELD_OUT_EVERY = 12, 4, 3
# Complaints per regency/city (roles in turn) and per national agency.
TRAIN_PER_REGION, HELD_OUT_PER_REGION, NEW_PER_REGION = 70, 21, 7
TRAIN_NATIONAL, TEST_NATIONAL = 60, 20
ALIAS_FREE_TARGET = 0.30
HELD_OUT = "held-out regencies/cities"


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


def report(frame: pd.DataFrame, second: pd.DataFrame, earlier: set[str]) -> list[str]:
    """One round's tables; `earlier`: the complaints of the rounds before it."""
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
    if earlier:
        new = ~frame["id"].isin(earlier)
        rows.append(
            [f"new to this round ({int(new.sum())})", *scores(gold[new], predicted[new]).values()]
        )
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


def round_part(
    texts: dict[str, str], annotations: Path, stem: str, source: Path, earlier: set[str]
) -> tuple[list[str], pd.DataFrame, pd.DataFrame]:
    """The report of one annotation round (`<stem>.csv`, `<stem>-second.csv` if present), its
    annotations, and its scored complaints (id, gold, found); `earlier`: the complaints of the
    rounds before it."""
    kept = read_csv(annotations / f"{stem}.csv")
    missing = [i for i in kept["id"] if i not in texts]
    if missing:
        raise SystemExit(f"{len(missing)} ids of {stem}.csv are not in {source}")
    frame = pd.DataFrame(
        {"id": kept["id"], "gold": decided(kept["status"], kept["code"], kept["candidates"])}
    )
    frame["found"] = found(default_place_finder(), [texts[i] for i in frame["id"]])
    second_path = annotations / f"{stem}-second.csv"
    second = pd.DataFrame(columns=["id", "second"])
    if second_path.exists():
        other = read_csv(second_path)
        second = pd.DataFrame(
            {
                "id": other["id"],
                "second": decided(other["status"], other["code"], other["candidates"]),
            }
        )
    return report(frame, second, earlier), kept, frame


def across_rounds(rounds: Sequence[pd.DataFrame]) -> list[str]:
    """How the rounds' annotations of the complaints drawn in more than one round agree: each
    such complaint's first annotation against each later one (other annotators each time)."""
    firsts, laters = [pd.Series(dtype=str)], [pd.Series(dtype=str)]
    for i, first in enumerate(rounds):
        for later in rounds[i + 1 :]:
            both = first.merge(later, on="id", suffixes=("_a", "_b"))
            firsts.append(decided(both["status_a"], both["code_a"], both["candidates_a"]))
            laters.append(decided(both["status_b"], both["code_b"], both["candidates_b"]))
    a, b = pd.concat(firsts, ignore_index=True), pd.concat(laters, ignore_index=True)
    if a.empty:
        return []
    return [
        "",
        "### Complaints drawn in more than one round",
        "",
        f"{len(a)} pairs of annotations of one complaint in two rounds (by different "
        f"annotators, each blind to the other): the same decided code in {int((a == b).sum())} "
        f"({(a == b).mean():.3f}), Cohen's kappa {cohen_kappa_score(a, b):.3f}. Each round's "
        '"new to this round" row leaves out the complaints an earlier round holds: those rows '
        "are the figures the tuning before the round never saw.",
    ]


def pooled(frames: dict[str, pd.DataFrame]) -> list[str]:
    """Precision and recall over the complaints of the rounds blind to the finder (`UNREAD`)
    and over those of the others, each complaint once (its first round's annotation)."""
    first: dict[str, pd.DataFrame] = {}  # each round's complaints no earlier round holds
    seen: set[str] = set()
    for stem, frame in frames.items():
        first[stem] = frame[~frame["id"].isin(seen)]
        seen |= set(frame["id"])
    rows = []
    for name, blind in (("blind to this finder", True), ("tuned on", False)):
        parts = [f for stem, f in first.items() if (stem in UNREAD) == blind]
        if parts:
            both = pd.concat(parts, ignore_index=True)
            got = scores(both["gold"], both["found"])
            rows.append(
                f"| rounds {name} ({len(parts)}; {len(both)}) | {got['precision']} "
                f"| {got['recall']} |"
            )
    return [
        "",
        "### Pooled",
        "",
        "Each complaint once, by the round that drew it first; the rounds annotated blind to "
        "this finder (no tuning has changed it on reading them) are the real-world figure.",
        "",
        "| rounds (how many; complaints) | precision | recall |",
        "|---|---|---|",
        *rows,
    ]


def texts_by_digest(data: Path) -> dict[str, str]:
    """The complaints of `data` by the id_digest of their ids, as the annotations name them
    (no dataset id in the repository)."""
    table = read_table(data).frame
    digests = table["id"].astype(str).map(id_digest)
    return dict(zip(digests, table["text"].astype(str), strict=True))


def places_part(data: Path, annotations: Path) -> list[str]:
    """Place finding on the annotated LAPOR-10 complaints, round by round, then pooled."""
    texts = texts_by_digest(data)
    lines = ["## Place finding on LAPOR-10 complaints"]
    rounds: list[pd.DataFrame] = []
    frames: dict[str, pd.DataFrame] = {}
    for stem, heading in ROUNDS:
        if (annotations / f"{stem}.csv").exists():
            earlier = set().union(*(r["id"] for r in rounds))
            body, kept, frames[stem] = round_part(texts, annotations, stem, data, earlier)
            lines += ["", f"### {heading[:1].upper()}{heading[1:]}", "", *body]
            rounds.append(kept)
    if len(lines) == 1:
        raise SystemExit(f"no annotation round in {annotations}")
    return lines + across_rounds(rounds) + pooled(frames)


# --- national agencies stay national -----------------------------------------------------


def national_part(data: Path, model: Path, chunk: int = 500) -> list[str]:
    """Local suggestions among the top-k for every complaint of `data` by the bundle `model`."""
    bundle = load_bundle(model)
    if bundle.authority is None:
        raise SystemExit(f"{model}: the bundle has no catalogue (trained with --agencies none)")
    agencies, roles = bundle.authority.catalogue.agencies, bundle.authority.catalogue.roles
    texts = read_table(data).frame["text"].astype(str).tolist()
    suggested: Counter[str] = Counter()
    placed = local_complaints = 0
    reasons: Counter[str] = Counter()
    for start in range(0, len(texts), chunk):
        for prediction in suggest(bundle, texts[start : start + chunk], top_k=TOP_K):
            placed += prediction.jurisdiction is not None
            reasons.update(r["code"] for r in prediction.reasons)
            kinds = [
                _kind_of(s.agency_code, s.agency, agencies, roles) for s in prediction.suggestions
            ]
            suggested.update(kinds)
            local_complaints += any(kind != "national" for kind in kinds)
    total = sum(suggested.values())
    return [
        "## National agencies stay national (LAPOR-10)",
        "",
        f"Model {bundle.model_version} ({len(bundle.labels)} classes), top {TOP_K} suggestions "
        f"for each of {len(texts):,} complaints.",
        "",
        "| suggestions | count |",
        "|---|---:|",
        f"| all | {total:,} |",
        *(f"| {kind} | {suggested[kind]:,} |" for kind in ("national", "local", "regional role")),
        "",
        f"Complaints with a local suggestion: {local_complaints:,}; given a jurisdiction: "
        f"{placed:,}; sent to review for no_jurisdiction: {reasons['no_jurisdiction']:,}, for "
        f"location_conflict: {reasons['location_conflict']:,}.",
    ]


def _kind_of(code: str | None, name: str, agencies: Mapping, roles: frozenset[str]) -> str:
    if code is not None and code in agencies:
        return "local" if agencies[code].local else "national"
    return "regional role" if name in roles else "national"


# --- held-out regencies -------------------------------------------------------------------


def _alias_words(text: str) -> list[str]:
    folded = unicodedata.normalize("NFKD", text.lower())
    return re.findall(r"[a-z0-9]+", "".join(c for c in folded if not unicodedata.combining(c)))


def read_alias_keys(path: Path = DEFAULT_ALIASES_PATH) -> frozenset[str]:
    """The place finder's aliases, each as its words run together (``"kota jogja"`` →
    ``"kotajogja"``): spaces and punctuation inside a name do not matter to the finder."""
    with path.open(encoding="utf-8", newline="") as handle:
        return frozenset("".join(_alias_words(row["alias"])) for row in csv.DictReader(handle))


def alias_free(mention: str, alias_keys: frozenset[str]) -> bool:
    """Whether no alias of the file occurs in `mention` as a run of whole words."""
    words = _alias_words(mention)
    return not any(
        "".join(words[i:j]) in alias_keys
        for i in range(len(words))
        for j in range(i + 1, len(words) + 1)
    )


def benchmark_catalogue(groups: Sequence[Sequence[Region]], gazetteer: Gazetteer) -> str:
    """A catalogue CSV: the shipped national agencies, an office of every role in every
    regency/city of `groups`, and the provincial offices of roles with province-level topics."""
    shipped = read_catalogue_rows(DEFAULT_AGENCIES_PATH.read_text(encoding="utf-8"), "shipped")
    rows = [{c: row.get(c) or "" for c in COLUMNS} for row in shipped if row["level"] == "pusat"]
    provincial = sorted(
        role for role, topics in ROLE_TOPICS.items() if any(t.level == "provinsi" for t in topics)
    )
    for regions in groups:
        province = gazetteer.get(regions[0].province)
        assert province is not None
        for role in provincial:
            code = office_code(role, province.code)
            name = f"{role} PROVINSI {province.name}"
            rows.append({"code": code, "name": name, "level": "provinsi"})
            rows[-1].update(region=province.code, role=role)
        for region in regions:
            for role in sorted(ROLE_TOPICS):
                code, name = office_code(role, region.code), f"{role} {region.name}"
                rows.append({"code": code, "name": name, "level": "kabkota"})
                rows[-1].update(region=region.code, role=role)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, restval="", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def concrete(complaint: RegionalComplaint) -> str:
    """The catalogue code of the agency a complaint should reach."""
    if complaint.agency is not None:
        return complaint.agency
    assert complaint.role is not None and complaint.region is not None
    return office_code(complaint.role, complaint.region)


def held_out(index: int) -> bool:
    """Whether the `index`-th province of `pick_regions` is held out of training."""
    return index % HELD_OUT_EVERY == HELD_OUT_EVERY - 1


def heldout_sets(
    gazetteer: Gazetteer, seed: int
) -> tuple[list[list[Region]], list[RegionalComplaint], dict[str, list[RegionalComplaint]]]:
    """The regions by province, the training complaints and the named test sets (none of
    whose texts is in training)."""
    groups = pick_regions(gazetteer, PROVINCES, PER_PROVINCE, seed)
    trained = [r for i, g in enumerate(groups) if not held_out(i) for r in g]
    unseen = [r for i, g in enumerate(groups) if held_out(i) for r in g]
    train = generate(
        trained, TRAIN_PER_REGION, national=TRAIN_NATIONAL, gazetteer=gazetteer, seed=seed
    )
    every = trained + unseen
    tests = {
        HELD_OUT: generate(unseen, HELD_OUT_PER_REGION, gazetteer=gazetteer, seed=seed + 1),
        "training regencies/cities, new complaints": generate(
            trained, NEW_PER_REGION, gazetteer=gazetteer, seed=seed + 2
        ),
        "national agencies, new complaints": generate(
            every, 0, national=TEST_NATIONAL, gazetteer=gazetteer, seed=seed + 3
        ),
    }
    seen = {c.text for c in train}
    tests = {name: [c for c in test if c.text not in seen] for name, test in tests.items()}
    return groups, train, tests


def role_by_jurisdiction(
    router: Router, authority: Authority, texts: list[str], findings: list[PlaceFinding]
) -> list[str]:
    """The concrete agency of each text ("" when unresolved): the router's top class, resolved
    by the place found in the text and the rules of authority, as a suggestion would be."""
    classes = router.predict(texts)
    normalized = router.normalizer_.transform(texts)
    out = []
    for label, finding, text in zip(classes, findings, normalized, strict=True):
        resolution = resolve_agency(str(label), finding.jurisdiction, text, authority)
        out.append(resolution.agency.code if resolution.agency is not None else "")
    return out


def share(flags: Sequence[bool]) -> str:
    return f"{sum(flags) / len(flags):.3f}" if flags else "–"


def heldout_part(seed: int) -> list[str]:
    """Concrete-agency accuracy on regencies held out of training, flat vs role × place."""
    gazetteer = load_gazetteer()
    groups, train, tests = heldout_sets(gazetteer, seed)
    authority = parse_authority(
        benchmark_catalogue(groups, gazetteer),
        DEFAULT_AUTHORITY_PATH.read_text(encoding="utf-8"),
        gazetteer=gazetteer,
        sources=("benchmark catalogue", DEFAULT_AUTHORITY_PATH.name),
    )
    catalogue = authority.catalogue
    texts, labels = [c.text for c in train], [concrete(c) for c in train]
    unknown = sorted({label for label in labels if catalogue.code_of(label) != label})
    if unknown:
        raise SystemExit(f"labels missing from the benchmark catalogue: {unknown[:5]}")
    flat = Router(random_state=seed).fit(texts, labels)
    learned = catalogue.map_labels(labels, roles=True).labels
    by_role = Router(random_state=seed).fit(texts, learned)
    finder, alias_keys = default_place_finder(), read_alias_keys()

    held = [i for i in range(len(groups)) if held_out(i)]
    held_names = [gazetteer.get(groups[i][0].province) for i in held]
    lines = [
        "## Held-out regencies/cities: flat router vs role × jurisdiction",
        "",
        f"Synthetic complaints (`training.regional_corpus`, seed {seed}) in "
        f"{sum(map(len, groups))} regencies/cities of {len(groups)} provinces; held out of "
        f"training: the {sum(len(groups[i]) for i in held)} of "
        f"{', '.join(p.name for p in held_names if p)}. Training: {len(train)} complaints; "
        f"the flat router learns {len(set(labels))} concrete agencies, the other router "
        f"{len(set(learned))} classes (roles and national agencies). Accuracy = the concrete "
        "agency is right (95 % Wilson intervals); place columns count complaints that name a "
        "place; unresolved = a role with no decided place (no agency named).",
        "",
        "| test complaints | n | place decided | place right | alias-free mentions "
        "| flat router | role × jurisdiction | unresolved |",
        "|---|---|---|---|---|---|---|---|",
    ]
    by_form: dict[str, list[tuple[bool, bool, bool]]] = {form: [] for form in FORMS}
    mentions = [c.mention for c in train if c.mention]
    for name, test in tests.items():
        test_texts, gold = [c.text for c in test], [concrete(c) for c in test]
        findings = finder.find_batch(test_texts)
        flat_right = [p == g for p, g in zip(flat.predict(test_texts), gold, strict=True)]
        resolved = role_by_jurisdiction(by_role, authority, test_texts, findings)
        right = [p == g for p, g in zip(resolved, gold, strict=True)]
        placed, place_right, free = [], [], []
        for c, finding, ok in zip(test, findings, right, strict=True):
            if not c.mention:
                continue
            j = finding.jurisdiction
            placed.append(j is not None and not j.ambiguous)
            place_right.append(j is not None and j.code == c.place)
            free.append(alias_free(c.mention, alias_keys))
            mentions.append(c.mention)
            if name == HELD_OUT:
                by_form[c.form].append((free[-1], place_right[-1], ok))
        lines.append(
            f"| {name} | {len(test)} | {share(placed)} | {share(place_right)} | {share(free)} "
            f"| {interval(sum(flat_right), len(test))} | {interval(sum(right), len(test))} "
            f"| {share([r == '' for r in resolved])} |"
        )
    lines += [
        "",
        f"By how the place is written ({HELD_OUT}):",
        "",
        "| mention form | n | alias-free | place right | role × jurisdiction |",
        "|---|---|---|---|---|",
    ]
    for form, rows in by_form.items():
        if rows:
            columns = [share([r[k] for r in rows]) for k in range(3)]
            lines.append(f"| {form} | {len(rows)} | " + " | ".join(columns) + " |")
    free_all = sum(alias_free(m, alias_keys) for m in mentions)
    lines += [
        "",
        f"Place mentions in forms absent from the alias file ({DEFAULT_ALIASES_PATH.name}), "
        f"training and test together: {free_all} of {len(mentions)} "
        f"({free_all / len(mentions):.3f}; the issue asks at least {ALIAS_FREE_TARGET:.2f}).",
    ]
    if free_all / len(mentions) < ALIAS_FREE_TARGET:
        raise SystemExit("too few place mentions in forms absent from the alias file")
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--parts",
        default=",".join(DEFAULT_PARTS),
        help=f"comma-separated parts to run, of {', '.join(PARTS)} (default: "
        f"{','.join(DEFAULT_PARTS)})",
    )
    parser.add_argument("--data", type=Path, help="lapor10.csv (needed by places and national)")
    parser.add_argument("--model", type=Path, help="a LAPOR-10 bundle (needed by part national)")
    parser.add_argument("--annotations", type=Path, default=ANNOTATED, help="annotation folder")
    parser.add_argument("--seed", type=int, default=0, help="seed of part heldout")
    add_results_arguments(parser)
    args = parser.parse_args(argv)
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    wrong = [p for p in parts if p not in PARTS]
    if wrong or not parts:
        parser.error(f"--parts takes {', '.join(PARTS)}; got {args.parts!r}")
    if "places" in parts and args.data is None:
        parser.error("part places needs --data lapor10.csv (or --parts heldout)")
    if "national" in parts and (args.data is None or args.model is None):
        parser.error("part national needs --data lapor10.csv and --model BUNDLE")
    with recorded("jurisdiction", argv, args.results):
        blocks = []
        if "places" in parts:
            blocks.append(places_part(args.data, args.annotations))
        if "heldout" in parts:
            blocks.append(heldout_part(args.seed))
        if "national" in parts:
            blocks.append(national_part(args.data, args.model))
        print("\n\n".join("\n".join(block) for block in blocks))


if __name__ == "__main__":
    main()
