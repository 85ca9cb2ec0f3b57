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
