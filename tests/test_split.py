from collections import Counter

import numpy as np
import pytest

from routing.text import near_duplicate_groups
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


# --- groups of near duplicates -----------------------------------------------------------------

TEMPLATE = "Token listrik pelanggan {} belum masuk, NIK {}, hp 0813{}. Mohon dibantu."


def _corpus_with_campaign() -> tuple[list[str], list[str]]:
    """LABELS as distinct texts, with a campaign of 9 PLN complaints identical but for their
    customer ids, NIKs and phone numbers, spread through them."""
    # distinct in their letters ("hal 3" and "hal 4" would be near duplicates)
    codes = ["".join(chr(ord("a") + int(d)) for d in str(i)) for i in range(len(LABELS))]
    texts = [
        f"keluhan {label.lower()} kode{code}" for label, code in zip(LABELS, codes, strict=True)
    ]
    labels = list(LABELS)
    for i in range(9):
        at = 8 * i + 5
        texts.insert(at, TEMPLATE.format(530000000 + 7 * i, 3201000000000000 + 11 * i, 1000000 + i))
        labels.insert(at, "PLN")
    return texts, labels


def _straddles(groups: np.ndarray, train: np.ndarray, test: np.ndarray) -> bool:
    return bool(set(groups[train]) & set(groups[test]))


@pytest.mark.parametrize("seed", range(5))
def test_grouped_folds_keep_each_near_duplicate_group_in_one_fold(seed):
    texts, labels = _corpus_with_campaign()
    groups = near_duplicate_groups(texts)
    assert len(set(groups)) == len(LABELS) + 1  # the campaign is one group, the rest distinct

    folds = stratified_folds(labels, n_splits=5, seed=seed, groups=groups)

    assert len(folds) == 5
    assert sorted(np.concatenate([test for _, test in folds])) == list(range(len(labels)))
    assert not any(_straddles(groups, train, test) for train, test in folds)
    sizes = sorted(len(test) for _, test in folds)
    assert sizes[-1] - sizes[0] <= 9  # the campaign's fold is larger by at most the campaign


@pytest.mark.parametrize("seed", range(5))
def test_grouped_split_keeps_each_near_duplicate_group_on_one_side(seed):
    texts, labels = _corpus_with_campaign()
    groups = near_duplicate_groups(texts)

    train, test = train_test_split_stratified(labels, test_size=0.2, seed=seed, groups=groups)

    assert sorted([*train, *test]) == list(range(len(labels)))
    assert not _straddles(groups, train, test)
    assert abs(len(test) - 0.2 * len(labels)) <= 2
    assert Counter(labels[i] for i in test)["Polri"] == 4


def test_without_groups_the_splits_are_those_of_one_group_per_row():
    ids = np.arange(len(LABELS))[::-1] * 3  # any distinct ids in row order
    for seed in range(3):
        plain = stratified_folds(LABELS, n_splits=5, seed=seed)
        grouped = stratified_folds(LABELS, n_splits=5, seed=seed, groups=np.sort(ids))
        assert [t.tolist() for _, t in plain] == [t.tolist() for _, t in grouped]
        split = train_test_split_stratified(LABELS, seed=seed)
        same = train_test_split_stratified(LABELS, seed=seed, groups=np.sort(ids))
        assert all(np.array_equal(a, b) for a, b in zip(split, same, strict=True))


def test_grouped_folds_split_a_rare_agency_s_groups_and_hold_mixed_groups_whole():
    labels = ["a"] * 12 + ["b", "b", "b", "b"] + ["c", "a"]
    groups = [g // 3 for g in range(12)] + [10, 10, 11, 11] + [12, 12]

    folds = stratified_folds(labels, n_splits=5, seed=0, groups=groups)

    g = np.asarray(groups)
    assert len(folds) == 5
    assert not any(_straddles(g, train, test) for train, test in folds)
    for train, _ in folds:
        assert "b" in {labels[i] for i in train}  # its two groups are in different folds


def test_grouped_folds_are_clipped_to_the_number_of_groups():
    folds = stratified_folds(["a", "a", "b", "b"], n_splits=5, seed=0, groups=[1, 1, 2, 3])
    assert len(folds) == 3
    with pytest.raises(ValueError, match="groups"):
        stratified_folds(["a", "b"], n_splits=2, groups=["x", "x"])


def test_a_group_larger_than_its_agency_s_share_stays_in_train():
    labels = ["a"] * 10 + ["b"] * 10
    groups = [0] * 6 + list(range(1, 15))

    for seed in range(5):
        train, test = train_test_split_stratified(labels, test_size=0.2, seed=seed, groups=groups)
        assert set(range(6)) <= set(train.tolist())
        assert len(test) == 4


def test_an_agency_in_one_group_stays_in_train():
    labels = ["a"] * 4 + ["b"] * 6
    groups = [0, 0, 0, 0, 1, 2, 3, 4, 5, 6]
    train, test = train_test_split_stratified(labels, test_size=0.5, seed=0, groups=groups)
    assert {0, 1, 2, 3} <= set(train.tolist())
    assert len(test) == 5  # b gives the rows a cannot, and keeps one in train


def test_groups_must_match_labels():
    with pytest.raises(ValueError, match="groups"):
        stratified_folds(LABELS, groups=[0, 1])
    with pytest.raises(ValueError, match="groups"):
        train_test_split_stratified(LABELS, groups=[0, 1])
