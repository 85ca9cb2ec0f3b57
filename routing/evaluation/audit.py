"""Audit past dispositions: find complaints most likely disposed to the wrong agency.

LAPOR!'s history holds mis-dispositions; training on them teaches the router the same mistakes,
and agencies want to see where routing goes wrong. Confident learning (cleanlab) finds them:
every complaint gets a probability for every agency from a router that never saw it
(out-of-fold), and a complaint whose recorded agency is implausible under those probabilities is
a suspect. On top of cleanlab's per-agency filter, a cap on the probability of the recorded
agency keeps only strong evidence: the recorded agency must look no more likely than an agency
the complaint has nothing to do with. Such a cap adapts to how sharp the
probabilities are (small data, many agencies, noisy labels), where a fixed one would not.
`benchmarks/audit.py` measured the defaults.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from routing.router import Router
from routing.text import as_texts

__all__ = [
    "DEFAULT_FILTER_BY",
    "DEFAULT_IRRELEVANT_QUANTILE",
    "DEFAULT_RANKED_BY",
    "FILTERS",
    "RANKINGS",
    "audit_dispositions",
    "find_suspects",
    "irrelevant_probability",
    "out_of_fold_proba",
    "summarize_by_agency",
    "suspected_pairs",
]

FILTERS = ("prune_by_class", "prune_by_noise_rate", "both", "confident_learning")
RANKINGS = ("self_confidence", "normalized_margin", "confidence_weighted_entropy")
DEFAULT_FILTER_BY = "prune_by_class"
DEFAULT_RANKED_BY = "self_confidence"
# Chosen by benchmarks/audit.py (precision and recall of finding deliberately flipped labels;
# see benchmarks/results/audit.md); lower finds fewer, surer suspects.
DEFAULT_IRRELEVANT_QUANTILE = 0.9

SUSPECT_COLUMNS = ("row", "agency", "suggested_agency", "label_quality")


def out_of_fold_proba(
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    folds: int = 5,
    seed: int = 0,
    router_params: dict[str, Any] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Calibrated probabilities of each complaint from routers not trained on it, and classes.

    The router already cross-fits its head and calibrator to choose its threshold, so one fit
    yields the out-of-fold probabilities that confident learning needs.
    """
    router = Router(random_state=seed, cv=folds, **(router_params or {}))
    router.fit(as_texts(texts), labels)
    return router.oof_proba_, router.classes_


def irrelevant_probability(proba: np.ndarray, y: np.ndarray, quantile: float) -> float:
    """The `quantile` of probabilities given to agencies that are neither recorded nor on top.

    These are the agencies a complaint has nothing to do with, so their probabilities show how
    much the router hands out to an agency by chance.
    """
    n = len(y)
    irrelevant = np.ones(proba.shape, dtype=bool)
    irrelevant[np.arange(n), y] = False
    irrelevant[np.arange(n), proba.argmax(axis=1)] = False
    values = proba[irrelevant]
    return float(np.quantile(values, quantile)) if values.size else 0.0


def find_suspects(
    labels: Sequence[str],
    proba: np.ndarray,
    classes: Sequence[str],
    *,
    filter_by: str = DEFAULT_FILTER_BY,
    ranked_by: str = DEFAULT_RANKED_BY,
    irrelevant_quantile: float | None = DEFAULT_IRRELEVANT_QUANTILE,
) -> pd.DataFrame:
    """Suspected mis-dispositions, most suspect first, from out-of-fold probabilities.

    A complaint is a suspect when cleanlab's `filter_by` flags it and the probability of its
    recorded agency is below `irrelevant_probability(irrelevant_quantile)`; None skips that cap.
    Returns one row per suspect with columns `row` (position in `labels`), `agency` (recorded),
    `suggested_agency` (the most likely other agency) and `label_quality` (cleanlab's
    `ranked_by` score of the recorded agency, lower = more suspect).
    """
    from cleanlab.filter import find_label_issues
    from cleanlab.rank import get_label_quality_scores

    if filter_by not in FILTERS:
        raise ValueError(f"filter_by must be one of {', '.join(FILTERS)}, got {filter_by!r}")
    if ranked_by not in RANKINGS:
        raise ValueError(f"ranked_by must be one of {', '.join(RANKINGS)}, got {ranked_by!r}")
    if irrelevant_quantile is not None and not 0.0 < irrelevant_quantile <= 1.0:
        raise ValueError(f"irrelevant_quantile must be in (0, 1], got {irrelevant_quantile}")
    classes = np.asarray(classes, dtype=object)
    given = np.asarray([str(v) for v in labels], dtype=object)
    proba = np.asarray(proba, dtype=float)
    if proba.shape != (len(given), len(classes)):
        raise ValueError(f"proba has shape {proba.shape}, expected ({len(given)}, {len(classes)})")
    y = np.searchsorted(classes, given)
    if np.any(y >= len(classes)) or np.any(classes[np.minimum(y, len(classes) - 1)] != given):
        raise ValueError("labels hold an agency that is not in classes")

    with warnings.catch_warnings():  # rare agencies make cleanlab warn; they are audited anyway
        warnings.simplefilter("ignore")
        issue = find_label_issues(y, proba, filter_by=filter_by, n_jobs=1)
        quality = get_label_quality_scores(y, proba, method=ranked_by)
    if irrelevant_quantile is not None:
        cap = irrelevant_probability(proba, y, irrelevant_quantile)
        issue &= proba[np.arange(len(y)), y] < cap
    rows = np.flatnonzero(issue)
    rows = rows[np.argsort(quality[rows], kind="stable")]

    others = proba[rows].copy()
    others[np.arange(len(rows)), y[rows]] = -np.inf
    return pd.DataFrame(
        {
            "row": rows,
            "agency": pd.Series(given[rows], dtype=object),
            "suggested_agency": pd.Series(classes[others.argmax(axis=1)], dtype=object),
            "label_quality": quality[rows],
        },
        columns=list(SUSPECT_COLUMNS),
    )


def audit_dispositions(
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    folds: int = 5,
    seed: int = 0,
    filter_by: str = DEFAULT_FILTER_BY,
    ranked_by: str = DEFAULT_RANKED_BY,
    irrelevant_quantile: float | None = DEFAULT_IRRELEVANT_QUANTILE,
    router_params: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """Complaints most likely disposed to the wrong agency (see `find_suspects` for columns)."""
    if folds < 2:
        raise ValueError(f"folds must be at least 2, got {folds}")
    proba, classes = out_of_fold_proba(
        texts, labels, folds=folds, seed=seed, router_params=router_params
    )
    return find_suspects(
        labels,
        proba,
        classes,
        filter_by=filter_by,
        ranked_by=ranked_by,
        irrelevant_quantile=irrelevant_quantile,
    )


def summarize_by_agency(labels: Sequence[str], suspects: pd.DataFrame) -> pd.DataFrame:
    """Per recorded agency: complaints audited, suspected and their share; most suspects first."""
    audited = pd.Series([str(v) for v in labels], dtype=object).value_counts()
    suspected = suspects["agency"].value_counts().reindex(audited.index, fill_value=0)
    table = pd.DataFrame(
        {
            "agency": audited.index.astype(object),
            "audited": audited.to_numpy(dtype=int),
            "suspected": suspected.to_numpy(dtype=int),
        }
    )
    table["share"] = table["suspected"] / table["audited"]
    return table.sort_values(
        ["suspected", "share", "agency"], ascending=[False, False, True], kind="stable"
    ).reset_index(drop=True)


def suspected_pairs(suspects: pd.DataFrame) -> pd.DataFrame:
    """Recorded agency → suggested agency pairs among the suspects, most frequent first."""
    if suspects.empty:
        return pd.DataFrame(columns=["agency", "suggested_agency", "suspected"])
    pairs = suspects.groupby(["agency", "suggested_agency"], sort=False).size()
    table = pairs.rename("suspected").reset_index()
    return table.sort_values(
        ["suspected", "agency", "suggested_agency"], ascending=[False, True, True], kind="stable"
    ).reset_index(drop=True)
