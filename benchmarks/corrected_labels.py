"""Corrected-label figures for `benchmarks/accuracy.py --corrections FILE`.

Every figure is given twice, against LAPOR's recorded labels and against the corrected ones
(`routing.corrections.evaluation_labels`: label_wrong → the reviewed agency; both → the top
suggestion when it is one of the two agencies; unclear and label_right → recorded), never
against corrected labels alone. Nothing is chosen on the corrected figures.

Two tables:

- every option as trained today (recorded labels, threshold on recorded labels), judged both
  ways: macro-F1, coverage at 0.98/0.99 (best threshold in hindsight), and delivered coverage
  with its precision (threshold chosen on the training fold's out-of-fold probabilities);
- for one option, the effect of corrections on training and threshold choice: the threshold
  counted against corrected labels, training on corrected labels (unclear complaints left
  out; a "both" complaint teaching its recorded label, or the other agency), each judged both
  ways.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from routing.corrections import Corrections, evaluation_labels, training_labels
from routing.evaluation.metrics import evaluate_suggestions
from routing.policy import choose_threshold

FitFold = Callable[[list[str], np.ndarray, list[str]], dict]  # FoldRunner.result of one option


@dataclass(frozen=True)
class Setting:
    """How corrections enter one fit: the labels trained on and counted by the threshold."""

    name: str
    train: str  # "recorded", "corrected" (both → recorded) or "corrected, both → other"
    threshold: str  # "recorded" or "corrected"


SETTINGS = (
    Setting("today", "recorded", "recorded"),
    Setting("threshold on corrected", "recorded", "corrected"),
    Setting("trained + threshold on corrected", "corrected", "corrected"),
    Setting("… both → other agency", "corrected, both → other", "corrected"),
)


def _aligned(proba: np.ndarray, own: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """`proba` (columns `own`) with the columns of all `classes`."""
    full = np.zeros((len(proba), len(classes)))
    full[:, np.searchsorted(classes, own)] = proba
    return full


def _fold(
    fitted: Callable[[np.ndarray, np.ndarray], dict],
    setting: Setting,
    train: np.ndarray,
    test: np.ndarray,
    labels: np.ndarray,
    ids: np.ndarray,
    corrections: Corrections,
    target: float,
    bound_confidence: float,
) -> dict:
    """One held-out fold under `setting`: probabilities, automatic decisions and both label
    sets of the held-out complaints. `fitted(rows, labels)` is the option's fold result
    when trained on those training rows with those labels."""
    keep = np.ones(len(train), dtype=bool)
    train_y = labels[train]
    if setting.train != "recorded":
        both = "other" if "other" in setting.train else "recorded"
        train_y, keep = training_labels(ids[train], labels[train], corrections, both=both)
    rows = train[keep]
    result = fitted(rows, train_y[keep])
    own = result["classes"]
    oof_top = own[result["oof"].argmax(axis=1)]
    judged = train_y[keep]
    if setting.threshold == "corrected":
        judged = evaluation_labels(ids[rows], labels[rows], oof_top, corrections).labels
    policy = choose_threshold(
        result["oof"].max(axis=1), oof_top == judged, target, bound_confidence=bound_confidence
    )
    top = own[result["proba"].argmax(axis=1)]
    conf = result["proba"].max(axis=1)
    auto = np.array([policy.decide(c, a) == "auto" for c, a in zip(conf, top, strict=True)])
    corrected = evaluation_labels(ids[test], labels[test], top, corrections)
    return {
        "proba": result["proba"],
        "own": own,
        "top": top,
        "auto": auto,
        "recorded": labels[test],
        "corrected": corrected.labels,
        "changed": corrected.changed,
    }


def _scores(folds: list[dict], classes: np.ndarray, target: float) -> dict[str, dict]:
    """Pooled figures against each label set, and delivered precision per fold."""
    proba = np.vstack([_aligned(f["proba"], f["own"], classes) for f in folds])
    auto = np.concatenate([f["auto"] for f in folds])
    top = np.concatenate([f["top"] for f in folds])
    out = {}
    for which in ("recorded", "corrected"):
        y = np.concatenate([f[which] for f in folds])
        m = evaluate_suggestions(y, proba, classes, threshold=1.0)
        per_fold = [
            float((f["top"][f["auto"]] == f[which][f["auto"]]).mean()) if f["auto"].any() else 1.0
            for f in folds
        ]
        out[which] = {
            "macro_f1": m["macro_f1"],
            "coverage_0.98": m["coverage_at_precision"]["0.98"],
            "coverage_0.99": m["coverage_at_precision"]["0.99"],
            "delivered_coverage": float(auto.mean()),
            "delivered_precision": float((top[auto] == y[auto]).mean()) if auto.any() else 1.0,
            "delivered_precision_per_fold": per_fold,
            "kept": int(sum(q >= target for q in per_fold)),
        }
    out["labels_changed"] = int(sum(f["changed"] for f in folds))
    return out


def corrected_figures(
    fits: dict[str, FitFold],
    today: dict[str, list[dict]],
    effect_of: str | None,
    folds: Sequence[tuple[np.ndarray, np.ndarray]],
    texts: Sequence[str],
    labels: np.ndarray,
    ids: np.ndarray,
    corrections: Corrections,
    *,
    target: float,
    bound_confidence: float,
) -> dict[str, dict]:
    """{"options": option → scores as trained today, "settings": setting → scores of
    `effect_of`}. `today[name][k]` is the option's result on fold k with recorded labels
    (reused); the option is refitted only on corrected training labels."""
    classes = np.unique(labels)

    def run(name: str, setting: Setting) -> dict:
        per_fold = []
        for k, (train, test) in enumerate(folds):

            def fitted(rows: np.ndarray, y: np.ndarray, k=k, test=test) -> dict:
                if setting.train == "recorded":
                    return today[name][k]
                return fits[name]([texts[i] for i in rows], y, [texts[i] for i in test])

            per_fold.append(
                _fold(
                    fitted,
                    setting,
                    train,
                    test,
                    labels,
                    ids,
                    corrections,
                    target,
                    bound_confidence,
                )
            )
        return _scores(per_fold, classes, target)

    options = {name: run(name, SETTINGS[0]) for name in fits}
    settings = {}
    if effect_of is not None:
        settings = {s.name: run(effect_of, s) for s in SETTINGS}
    return {"options": options, "settings": settings}


def _cells(s: dict) -> str:
    q = s["delivered_precision_per_fold"]
    return (
        f"{s['macro_f1']:.4f} | {s['coverage_0.98']:.3f} | {s['coverage_0.99']:.3f} "
        f"| {s['delivered_coverage']:.3f} | {s['delivered_precision']:.4f} "
        f"| {min(q):.4f}–{np.median(q):.4f} | {s['kept']}/{len(q)}"
    )


def corrected_tables(figures: dict[str, dict], corrections: Corrections, n_folds: int) -> str:
    """Markdown: both tables, every row against recorded and against corrected labels."""
    verdicts = ", ".join(f"{v} {n}" for v, n in corrections.record()["verdicts"].items())
    head = (
        "| {} | labels | macro-F1 | cov@0.98 | cov@0.99 | delivered cov | delivered precision "
        "| per fold (min–median) | kept |\n|---|---|---|---|---|---|---|---|---|"
    )
    lines = [
        f"Corrected labels: {len(corrections)} reviewed complaints ({verdicts}), files "
        f"{', '.join(corrections.files)} (sha256 {corrections.sha256[:12]}). Each figure is "
        "given against the recorded and the corrected labels; none chooses a default, an "
        "option or a threshold rule.\n",
        head.format("option (trained today)"),
    ]
    for name, s in figures["options"].items():
        for which in ("recorded", "corrected"):
            lines.append(f"| {name} | {which} | {_cells(s[which])} |")
    if figures["settings"]:
        lines += ["", "Effect of training and choosing the threshold with corrections:\n"]
        lines.append(head.format("corrections used for"))
        for name, s in figures["settings"].items():
            for which in ("recorded", "corrected"):
                lines.append(f"| {name} | {which} | {_cells(s[which])} |")
    lines.append(
        f"\nHeld-out labels that the corrections change, summed over the {n_folds} folds "
        "(today's router): "
        + str(
            next(iter(figures["options"].values()))["labels_changed"] if figures["options"] else 0
        )
        + ". Delivered: one global threshold chosen on each training fold's out-of-fold "
        "probabilities (the threshold's labels as the row says), applied to the held-out fold."
    )
    return "\n".join(lines)
