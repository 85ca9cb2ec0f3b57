from collections import Counter

import numpy as np
import pytest

from training.split import stratified_folds, train_test_split_stratified

LABELS = ["PLN"] * 40 + ["Polri"] * 20 + ["OJK"] * 10 + ["BPN"] * 2 + ["KPK"]


def test_split_is_a_partition_without_overlap():
    train, test = train_test_split_stratified(LABELS, test_size=0.2, seed=0)

    assert not set(train) & set(test)
    assert sorted([*train, *test]) == list(range(len(LABELS)))
    assert list(train) == sorted(train)
    assert list(test) == sorted(test)


def test_split_is_deterministic_for_a_seed_and_changes_with_it():
    first = train_test_split_stratified(LABELS, seed=3)
    again = train_test_split_stratified(LABELS, seed=3)
    other = train_test_split_stratified(LABELS, seed=4)

    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert not np.array_equal(first[1], other[1])


def test_split_is_stratified_and_sized():
    _, test = train_test_split_stratified(LABELS, test_size=0.2, seed=0)

    counts = Counter(LABELS[i] for i in test)
    assert counts["PLN"] == 8
    assert counts["Polri"] == 4
    assert counts["OJK"] == 2
    assert len(test) == 15  # ceil(0.2 * 73)


@pytest.mark.parametrize("seed", range(5))
def test_rare_classes_stay_in_train(seed):
    labels = ["a"] * 5 + ["b", "b"] + ["c"] + ["d", "d", "d"]
    train, _ = train_test_split_stratified(labels, test_size=0.5, seed=seed)

    train_counts = Counter(labels[i] for i in train)
    assert train_counts["c"] == 1
    assert all(train_counts[label] >= 1 for label in set(labels))


def test_split_of_only_singletons_puts_everything_in_train():
    train, test = train_test_split_stratified(["a", "b", "c"], seed=0)

    assert list(train) == [0, 1, 2]
    assert len(test) == 0


@pytest.mark.parametrize("test_size", [0, 1, -0.1, 1.5])
def test_split_rejects_impossible_test_size(test_size):
    with pytest.raises(ValueError, match="test_size"):
        train_test_split_stratified(LABELS, test_size=test_size)


@pytest.mark.parametrize("n_splits", [2, 5, 10])
def test_every_index_is_tested_exactly_once(n_splits):
    folds = stratified_folds(LABELS, n_splits=n_splits, seed=0)

    assert len(folds) == n_splits
    tested = np.concatenate([test for _, test in folds])
    assert sorted(tested) == list(range(len(LABELS)))
    for train, test in folds:
        assert not set(train) & set(test)
        assert len(train) + len(test) == len(LABELS)


def test_folds_are_stratified_and_balanced():
    folds = stratified_folds(LABELS, n_splits=5, seed=0)

    sizes = [len(test) for _, test in folds]
    assert max(sizes) - min(sizes) <= 1
    for _, test in folds:
        counts = Counter(LABELS[i] for i in test)
        assert counts["PLN"] == 8
        assert counts["Polri"] == 4
        assert counts["OJK"] == 2


def test_folds_tolerate_classes_smaller_than_n_splits():
    folds = stratified_folds(LABELS, n_splits=5, seed=1)

    singleton = LABELS.index("KPK")
    assert sum(singleton in test for _, test in folds) == 1
    pair = [i for i, label in enumerate(LABELS) if label == "BPN"]
    for train, _ in folds:
        assert set(pair) & set(train)  # a class of 2+ is always seen in training


def test_folds_are_deterministic_for_a_seed_and_change_with_it():
    def tests(seed):
        return [test.tolist() for _, test in stratified_folds(LABELS, seed=seed)]

    assert tests(7) == tests(7)
    assert tests(7) != tests(8)


def test_n_splits_is_clipped_to_number_of_labels():
    folds = stratified_folds(["a", "b", "a"], n_splits=5, seed=0)

    assert len(folds) == 3
    assert sorted(int(test[0]) for _, test in folds) == [0, 1, 2]


@pytest.mark.parametrize(("labels", "n_splits"), [(["a"], 5), (LABELS, 1)])
def test_folds_reject_impossible_requests(labels, n_splits):
    with pytest.raises(ValueError):
        stratified_folds(labels, n_splits=n_splits)
