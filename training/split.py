"""Deterministic stratified splits that survive the long tail of rare agencies.

scikit-learn's splitters refuse or warn when an agency has fewer examples than folds, yet a
national system always has agencies with one or two past dispositions. These splitters keep
every class where it is most useful: a single example goes to training (a class never seen in
training cannot be predicted), and a class with 2+ examples always keeps one in training.
Run them on deduplicated data (`training.validate`) so no text lands on both sides.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

__all__ = ["stratified_folds", "train_test_split_stratified"]


def train_test_split_stratified(
    labels: Sequence[str], *, test_size: float = 0.2, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Return sorted (train, test) index arrays, stratified by label and fixed by `seed`.

    The test set holds about `ceil(test_size * n)` rows, spread over classes in proportion to
    their size. Singleton classes always go to train; larger classes keep at least one in train.
    """
    if not 0 < test_size < 1:
        raise ValueError(f"test_size must be between 0 and 1, got {test_size}")
    codes, counts = _encode(labels)
    if len(codes) == 0:
        raise ValueError("no labels to split")
    rng = np.random.default_rng(seed)
    n_test = _allocate_test_rows(counts, test_size, rng)
    train: list[np.ndarray] = []
    test: list[np.ndarray] = []
    for k in range(len(counts)):
        members = rng.permutation(np.flatnonzero(codes == k))
        test.append(members[: n_test[k]])
        train.append(members[n_test[k] :])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


def stratified_folds(
    labels: Sequence[str], *, n_splits: int = 5, seed: int = 0
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Return `n_splits` sorted (train, test) index pairs; every index is tested exactly once.

    Each class is shuffled and dealt round-robin over the folds, continuing where the previous
    class stopped, so classes and fold sizes are both as even as possible. A class with fewer
    members than folds lands in that many test folds, one member each: a singleton is missing
    from training in exactly one fold, a class of 2+ is always present in training.
    `n_splits` is clipped to the number of labels.
    """
    if n_splits < 2:
        raise ValueError(f"n_splits must be at least 2, got {n_splits}")
    codes, counts = _encode(labels)
    if len(codes) < 2:
        raise ValueError(f"need at least 2 labels for cross-validation, got {len(codes)}")
    k = min(n_splits, len(codes))
    rng = np.random.default_rng(seed)
    fold_of = np.empty(len(codes), dtype=np.int64)
    offset = int(rng.integers(k))
    for cls in rng.permutation(len(counts)):
        members = rng.permutation(np.flatnonzero(codes == cls))
        fold_of[members] = (offset + np.arange(len(members))) % k
        offset = (offset + len(members)) % k
    return [(np.flatnonzero(fold_of != f), np.flatnonzero(fold_of == f)) for f in range(k)]


def _encode(labels: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Label → class code (classes sorted, so codes do not depend on row order) and counts."""
    values = np.asarray([str(label) for label in labels], dtype=object)
    if len(values) == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    _, codes, counts = np.unique(values, return_inverse=True, return_counts=True)
    return codes.reshape(-1), counts


def _allocate_test_rows(
    counts: np.ndarray, test_size: float, rng: np.random.Generator
) -> list[int]:
    """Test rows per class: proportional, rounded by largest remainder, at most `count - 1`."""
    capacity = counts - 1
    # The epsilon keeps 0.7 * 10 (= 7.000000000000001) from rounding up to 8.
    target = min(math.ceil(test_size * counts.sum() - 1e-9), int(capacity.sum()))
    exact = counts * test_size
    n_test = np.minimum(np.floor(exact).astype(np.int64), capacity)
    remaining = target - int(n_test.sum())
    # Largest remainder first; random tie-break so equal classes share the extra rows fairly.
    order = np.lexsort((rng.random(len(counts)), -(exact - n_test)))
    while remaining > 0:
        for k in order:
            if remaining == 0:
                break
            if n_test[k] < capacity[k]:
                n_test[k] += 1
                remaining -= 1
    return [int(n) for n in n_test]
