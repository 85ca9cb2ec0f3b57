"""benchmarks/meta_confidence.py: two folds of a small sample corpus through the benchmark's
core, judged against the accuracy benchmark's own rule; the neighbours leave a complaint's
near-duplicate group out."""

from __future__ import annotations

import csv
from typing import NamedTuple

import numpy as np
import pytest
from joblib import Memory
from scipy import sparse

from benchmarks.accuracy import CACHE_VERSION, FoldRunner, delivered, make_folds, make_variants
from benchmarks.meta_confidence import (
    ABLATION,
    META_LR,
    OPTION,
    TOP_PROBABILITY,
    FoldScores,
    main,
    nearest,
    routed,
    run_folds,
    summarize,
    table,
)
from routing.text import near_duplicate_groups
from training.sample_corpus import BPJS_KES, DINKES, DPU, PDAM, PLN

# Agencies of the sample corpus that share topics (PLN/DPU, DPU/PDAM, DINKES/BPJS), so the
# router errs on some complaints and is sure of many: both outcomes for the meta model to
# learn, and enough sure ones to auto-route.
AGENCIES = (PLN, DPU, PDAM, DINKES, BPJS_KES)
PER_AGENCY = 150


class Run(NamedTuple):
    texts: list[str]
    labels: np.ndarray
    folds: list[tuple[np.ndarray, np.ndarray]]
    runner: FoldRunner
    scores: list[FoldScores]


@pytest.fixture(scope="module")
def run(sample_csv, tmp_path_factory) -> Run:
    """The first 2 of 5 grouped folds through `run_folds`, fold results cached in a joblib
    cache as with --cache."""
    with sample_csv.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    rows = [r for a in AGENCIES for r in [r for r in rows if r["agency"] == a][:PER_AGENCY]]
    texts = [r["text"] for r in rows]
    labels = np.array([r["agency"] for r in rows], dtype=object)
    groups = near_duplicate_groups(texts)
    folds = make_folds("grouped", labels, groups, folds=5, repeats=1, seed=0)[:2]
    memory = Memory(tmp_path_factory.mktemp("cache"), verbose=0)
    runner = FoldRunner(make_variants(0, None, memory, jobs=1), memory)
    return Run(texts, labels, folds, runner, run_folds(texts, labels, groups, folds, runner))


def _result(run: Run, k: int) -> dict:
    train, test = run.folds[k]
    args = ([run.texts[i] for i in train], run.labels[train], [run.texts[i] for i in test])
    assert run.runner._fit.check_call_in_cache(OPTION, CACHE_VERSION, *args, None, None)
    return run.runner.result(OPTION, *args)


def test_meta_scores_are_probabilities_of_every_held_out_complaint(run):
    for (_, test), fold in zip(run.folds, run.scores, strict=True):
        assert len(fold.right) == len(test)
        for name in (META_LR, ABLATION):
            score = fold.held_out[name]
            assert score.shape == (len(test),)
            assert np.all((score >= 0) & (score <= 1))
        # the neighbour features move the score
        assert not np.allclose(fold.held_out[META_LR], fold.held_out[ABLATION])


def test_top_probability_row_is_the_accuracy_benchmarks_delivered_and_meta_rows_share_its_rule(
    run,
):
    for k, ((train, test), fold) in enumerate(zip(run.folds, run.scores, strict=True)):
        r = _result(run, k)
        classes, oof, proba = r["classes"], r["oof"], r["proba"]
        auto, hits, n = delivered(
            oof, run.labels[train], proba, run.labels[test], classes, per_agency=False
        )
        assert auto > 0 and n == len(test)  # something is auto-routed: the check can fail
        assert fold.routed[TOP_PROBABILITY] == (auto, hits)
        right_train = classes[oof.argmax(axis=1)] == run.labels[train]
        right = classes[proba.argmax(axis=1)] == run.labels[test]
        assert np.array_equal(fold.right, right)
        assert routed(oof.max(axis=1), right_train, proba.max(axis=1), right) == (auto, hits)
        for name in (META_LR, ABLATION):
            auto_meta, hits_meta = fold.routed[name]
            assert 0 <= hits_meta <= auto_meta <= n


def test_table_has_one_row_per_score_top_probability_first_with_pooled_figures(run):
    figures = summarize(run.scores)
    assert list(figures) == [TOP_PROBABILITY, META_LR, ABLATION]
    n = sum(len(f.right) for f in run.scores)
    for name, r in figures.items():
        auto = sum(f.routed[name][0] for f in run.scores)
        errors = sum(a - h for a, h in (f.routed[name] for f in run.scores))
        assert r["coverage"] == pytest.approx(auto / n)
        assert (r["auto"], r["errors"]) == (auto, errors)
        assert 0 <= r["kept"] <= len(run.scores) and 0 <= r["ece"] <= 1
    lines = table(figures).splitlines()
    assert [line.split(" | ")[0] for line in lines[2:]] == [
        f"| {TOP_PROBABILITY}",
        f"| {META_LR}",
        f"| {ABLATION}",
    ]
    assert "| – | – |" in lines[2] and "| – | – |" not in lines[3]
    assert f"| {figures[META_LR]['coverage']:.3f} |" in lines[3]


def test_a_training_complaint_never_neighbours_its_own_near_duplicate_group():
    # rows 0 and 1 are near duplicates (group 0); row 2 is alike, row 3 unrelated
    x = sparse.csr_matrix(
        np.array([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.8, 0.6, 0.0], [0.0, 0.0, 1.0]])
    )
    groups = np.array([0, 0, 1, 2])
    index, similarity = nearest(x, x, groups, groups, skip_own_group=True, k=2)
    assert index[0].tolist() == [2, 3] and similarity[0].tolist() == pytest.approx([0.8, 0.0])
    index, _ = nearest(x[:1], x, groups[:1], groups, skip_own_group=False, k=2)
    assert sorted(index[0].tolist()) == [0, 1]


def test_absent_data_exits_with_a_reason(tmp_path):
    with pytest.raises(SystemExit, match="not found"):
        main(["--data", str(tmp_path / "absent.csv"), "--no-results"])
