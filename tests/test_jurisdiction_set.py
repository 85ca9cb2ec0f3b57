"""The place-finding annotation sample is fixed by its seed: the annotated ids depend on it."""

import numpy as np

from training.jurisdiction_set import annotation_sample


def test_sample_is_seeded_sorted_and_distinct() -> None:
    rows = annotation_sample(7_000, 400, seed=0)
    assert len(rows) == 400 and len(set(rows.tolist())) == 400
    assert np.all(np.diff(rows) > 0) and rows.max() < 7_000
    assert np.array_equal(rows, annotation_sample(7_000, 400, seed=0))
    assert not np.array_equal(rows, annotation_sample(7_000, 400, seed=1))


def test_sample_of_a_small_table_takes_every_row() -> None:
    assert annotation_sample(10, 400).tolist() == list(range(10))


def test_a_later_round_is_disjoint_from_the_earlier_one() -> None:
    first = annotation_sample(1_000, 400, seed=0)
    second = annotation_sample(1_000, 400, seed=1, exclude=first)
    assert len(second) == 400
    assert not set(first) & set(second)
    assert annotation_sample(500, 400, seed=1, exclude=np.arange(400)).min() >= 400
