"""benchmarks/accuracy.py: its folds keep near-duplicate groups whole, repeat by repeat."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
# benchmarks/ is a folder of scripts, not an installed package: load the script by its path
_spec = importlib.util.spec_from_file_location(
    "benchmark_accuracy", ROOT / "benchmarks" / "accuracy.py"
)
accuracy = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = accuracy  # its dataclasses look their module up there
_spec.loader.exec_module(accuracy)

# 3 agencies of 20 complaints; agency "a" holds a campaign of 8 near duplicates (group 0)
LABELS = np.array(["a"] * 20 + ["b"] * 20 + ["c"] * 20, dtype=object)
GROUPS = np.array([0] * 8 + list(range(1, 53)))


def _straddles(train: np.ndarray, test: np.ndarray) -> bool:
    return bool(set(GROUPS[train]) & set(GROUPS[test]))


def test_grouped_folds_never_split_a_group_and_repeat_with_the_next_seed():
    folds = accuracy.make_folds("grouped", LABELS, GROUPS, folds=5, repeats=2, seed=3)

    assert len(folds) == 10
    assert not any(_straddles(train, test) for train, test in folds)
    for r in range(2):
        tests = np.concatenate([test for _, test in folds[5 * r : 5 * r + 5]])
        assert sorted(tests) == list(range(len(LABELS)))  # each repeat tests every row once
    first = [test.tolist() for _, test in folds[:5]]
    again = accuracy.make_folds("grouped", LABELS, GROUPS, folds=5, repeats=1, seed=3)
    following = accuracy.make_folds("grouped", LABELS, GROUPS, folds=5, repeats=1, seed=4)
    assert first == [test.tolist() for _, test in again]
    assert [test.tolist() for _, test in folds[5:]] == [test.tolist() for _, test in following]


def test_stratified_folds_ignore_the_groups():
    straddled = [
        _straddles(train, test)
        for seed in range(3)
        for train, test in accuracy.make_folds(
            "stratified", LABELS, GROUPS, folds=5, repeats=1, seed=seed
        )
    ]
    assert any(straddled)
    with pytest.raises(ValueError, match="unknown folds"):
        accuracy.make_folds("repeated", LABELS, GROUPS, folds=5, repeats=1, seed=0)


def test_a_stricter_bound_delivers_no_more_and_a_bound_outside_0_1_is_refused(tmp_path):
    rng = np.random.default_rng(0)
    classes = np.array(["a", "b"], dtype=object)
    top = rng.uniform(0.5, 1.0, 4000)  # calibrated: the top agency is right with that chance
    train_y = np.where(rng.uniform(size=4000) < top, "a", "b").astype(object)
    oof = np.c_[top, 1 - top]
    test_top = rng.uniform(0.5, 1.0, 1000)
    test_y = np.where(rng.uniform(size=1000) < test_top, "a", "b").astype(object)
    proba = np.c_[test_top, 1 - test_top]
    auto = [
        accuracy.delivered(oof, train_y, proba, test_y, classes, False, confidence)[0]
        for confidence in (0.5, 0.9, 0.99)
    ]
    assert auto[0] >= auto[1] >= auto[2]
    assert auto[0] > auto[2]
    with pytest.raises(SystemExit, match="between 0 and 1"):
        accuracy.main(["--bound-confidence", "1.5", "--no-results"])
