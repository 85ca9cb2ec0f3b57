"""Deterministic stratified splits that survive the long tail of rare agencies.

scikit-learn's splitters refuse or warn when an agency has fewer examples than folds, yet a
national system always has agencies with one or two past dispositions. These splitters keep
every class where it is most useful: a single example goes to training (a class never seen in
training cannot be predicted), and a class with 2+ examples always keeps one in training.
Run them on deduplicated data (`training.validate`) so no text lands on both sides, and pass
`groups=routing.text.near_duplicate_groups(texts)` so that complaints identical but for their
numbers (a campaign template with different customer ids) land on one side too: a group is
then the unit that is split, and it counts for the label most of its complaints have.
scikit-learn's StratifiedGroupKFold groups but raises when every agency is smaller than the
folds, and scikit-learn has no stratified grouped train/test split. Without `groups` every
complaint is a group of its own: the splits are exactly the ungrouped ones.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

__all__ = ["stratified_folds", "train_test_split_stratified"]


def train_test_split_stratified(
    labels: Sequence[str],
    *,
    test_size: float = 0.2,
    seed: int = 0,
    groups: Sequence[object] | np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Return sorted (train, test) index arrays, stratified by label and fixed by `seed`.

    The test set holds about `ceil(test_size * n)` rows, spread over classes in proportion to
    their size. Singleton classes always go to train; larger classes keep at least one in train.
    With `groups` (a group id per row) every group lies wholly on one side: a class's groups
    are drawn in random order, each taken for the test set while it fits the class's share,
    so a group larger than that share stays in train and the test set may come out smaller.
    """
    if not 0 < test_size < 1:
        raise ValueError(f"test_size must be between 0 and 1, got {test_size}")
    codes, counts = _encode(labels)
    if len(codes) == 0:
        raise ValueError("no labels to split")
    group_of, group_label, sizes = _groups(codes, groups)
    rng = np.random.default_rng(seed)
    n_test = _allocate_test_rows(group_label, sizes, len(counts), test_size, rng)
    in_test = np.zeros(len(sizes), dtype=bool)
    for k, room in enumerate(n_test):
        for g in rng.permutation(np.flatnonzero(group_label == k)):
            if sizes[g] <= room:
                in_test[g] = True
                room -= sizes[g]
    test = in_test[group_of]
    return np.flatnonzero(~test), np.flatnonzero(test)


def stratified_folds(
    labels: Sequence[str],
    *,
    n_splits: int = 5,
    seed: int = 0,
    groups: Sequence[object] | np.ndarray | None = None,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Return `n_splits` sorted (train, test) index pairs; every index is tested exactly once.

    Each class is shuffled and dealt round-robin over the folds, continuing where the previous
    class stopped, so classes and fold sizes are both as even as possible. A class with fewer
    members than folds lands in that many test folds, one member each: a singleton is missing
    from training in exactly one fold, a class of 2+ is always present in training.
    `n_splits` is clipped to the number of labels.

    With `groups` (a group id per row) the groups are dealt instead, largest first, each to the
    fold holding the fewest rows of its class so far (the next in round-robin order on a tie),
    so no group straddles two folds; `n_splits` is then clipped to the number of groups.
    """
    if n_splits < 2:
        raise ValueError(f"n_splits must be at least 2, got {n_splits}")
    codes, counts = _encode(labels)
    if len(codes) < 2:
        raise ValueError(f"need at least 2 labels for cross-validation, got {len(codes)}")
    group_of, group_label, sizes = _groups(codes, groups)
    k = min(n_splits, len(sizes))
    if k < 2:
        raise ValueError("need at least 2 groups for cross-validation, got 1")
    rng = np.random.default_rng(seed)
    fold_of = np.empty(len(sizes), dtype=np.int64)
    offset = int(rng.integers(k))
    for cls in rng.permutation(len(counts)):
        members = rng.permutation(np.flatnonzero(group_label == cls))
        members = members[np.argsort(-sizes[members], kind="stable")]
        held = np.zeros(k, dtype=np.int64)  # rows of this class in each fold
        for g in members:
            order = (offset + np.arange(k)) % k
            fold = order[np.argmin(held[order])]
            fold_of[g] = fold
            held[fold] += sizes[g]
            offset = (fold + 1) % k
    fold_of = fold_of[group_of]
    return [(np.flatnonzero(fold_of != f), np.flatnonzero(fold_of == f)) for f in range(k)]


def _encode(labels: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Label → class code (classes sorted, so codes do not depend on row order) and counts."""
    values = np.asarray([str(label) for label in labels], dtype=object)
    if len(values) == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    _, codes, counts = np.unique(values, return_inverse=True, return_counts=True)
    return codes.reshape(-1), counts


def _groups(
    codes: np.ndarray, groups: Sequence[object] | np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(group of each row, class code of each group, rows of each group). A group's class is
    the one most of its rows have (the smallest code on a tie); None: a group per row."""
    if groups is None:
        return np.arange(len(codes)), codes, np.ones(len(codes), dtype=np.int64)
    ids = np.asarray(groups)
    if ids.shape != codes.shape:
        raise ValueError(f"{len(ids)} groups for {len(codes)} labels")
    _, group_of = np.unique(ids, return_inverse=True)
    group_of = group_of.reshape(-1)
    pairs, count = np.unique(np.column_stack([group_of, codes]), axis=0, return_counts=True)
    # each group's most common class first, then its first (group, class) pair is the one
    order = np.lexsort((pairs[:, 1], -count, pairs[:, 0]))
    first = np.unique(pairs[order, 0], return_index=True)[1]
    return group_of, pairs[order[first], 1], np.bincount(group_of)


def _allocate_test_rows(
    group_label: np.ndarray,
    sizes: np.ndarray,
    n_classes: int,
    test_size: float,
    rng: np.random.Generator,
) -> list[int]:
    """Test rows per class (its groups' rows): proportional, rounded by largest remainder,
    leaving at least the class's smallest group (a row, without groups) in train."""
    counts = np.bincount(group_label, weights=sizes, minlength=n_classes).astype(np.int64)
    smallest = np.full(n_classes, np.iinfo(np.int64).max)
    np.minimum.at(smallest, group_label, sizes)
    capacity = np.maximum(counts - smallest, 0)
    # The epsilon keeps 0.7 * 10 (= 7.000000000000001) from rounding up to 8.
    target = min(math.ceil(test_size * counts.sum() - 1e-9), int(capacity.sum()))
    exact = counts * test_size
    n_test = np.minimum(np.floor(exact).astype(np.int64), capacity)
    remaining = target - int(n_test.sum())
    # Largest remainder first; random tie-break so equal classes share the extra rows fairly.
    order = np.lexsort((rng.random(n_classes), -(exact - n_test)))
    while remaining > 0:
        for k in order:
            if remaining == 0:
                break
            if n_test[k] < capacity[k]:
                n_test[k] += 1
                remaining -= 1
    return [int(n) for n in n_test]
