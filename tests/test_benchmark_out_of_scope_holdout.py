"""benchmarks/out_of_scope_holdout.py: the held-out-agency detector on one pair of the small
corpus, against what out_of_scope.py's own path gives."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks import out_of_scope
from benchmarks import out_of_scope_holdout as holdout
from routing.text import near_duplicate_groups

SHARES = {0.1: "10 %", 0.2: "20 %"}


@pytest.fixture(scope="module")
def lower_target():
    """The small corpus cannot show 0.99 precision: nothing would be auto-routed and the
    figures of auto-routing would agree trivially."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(out_of_scope, "TARGET_PRECISION", 0.9)
        yield


@pytest.fixture(scope="module")
def corpus(small_corpus):
    texts, labels = small_corpus.texts, np.asarray(small_corpus.labels, dtype=object)
    return texts, labels, np.asarray(near_duplicate_groups(texts)), (labels[0], labels[-1])


@pytest.fixture(scope="module")
def rows(corpus, lower_target):
    return holdout.pair_rows(*corpus)


@pytest.fixture(scope="module")
def results(rows):
    return holdout.compare(rows, tuple(SHARES))


def test_each_known_agency_is_held_out_once_over_all_training_complaints(rows):
    n_train = len(rows.training.proba)
    assert rows.held_out.shape == (len(rows.classes) * n_train, len(holdout.FEATURES))
    assert rows.unknown.sum() == n_train  # every training complaint is unknown in one block
    assert np.isfinite(rows.held_out).all()


def test_nearest_complaints_are_those_todays_detector_measures(rows):
    """The novelty score is (1 - mean similarity of the nearest) x normalized entropy: the
    detector's own score must follow from the features' neighbours, fold for fold, both for
    the real model and for each model without an agency."""
    names = list(holdout.FEATURES)
    for X in (rows.training.features, rows.held_out):
        near = X[:, names.index("mean similarity of the nearest training complaints")]
        spread = X[:, names.index("entropy of the probabilities (normalized)")]
        novelty = X[:, names.index("today's novelty score")]
        np.testing.assert_allclose(novelty, np.clip(1 - near, 0, 1) * spread, atol=1e-6)


def test_figures_are_shares_and_the_cutoff_flags_the_chosen_share(rows, results):
    assert list(results) == [
        "no detector",
        "today's novelty, 10 %",
        "held-out agencies, 10 %",
        "today's novelty, 20 %",
        "held-out agencies, 20 %",
    ]
    for figures in results.values():
        for key, value in figures.items():
            assert value is None or 0.0 <= value <= 1.0, key
    n_train = len(rows.training.proba)
    for share in SHARES:
        flagged = results[f"held-out agencies, {SHARES[share]}"]["training_flagged"]
        assert abs(flagged - share) <= 1 / n_train
        today = results[f"today's novelty, {SHARES[share]}"]["training_flagged"]
        assert today <= share + 1 / n_train
    assert results["no detector"]["out_flagged"] == results["no detector"]["known_flagged"] == 0


def test_todays_rows_equal_what_out_of_scope_benchmark_gives(corpus, lower_target, results):
    """Decided by review_reasons with today's scores, the figures are those of
    out_of_scope.run_pair, which decides through routing.suggest, at each flag share."""
    keys = ("out_auto", "out_flagged", "known_flagged", "known_auto", "known_precision")
    assert 0 < results["no detector"]["out_auto"] < 1  # the comparison is not trivial
    for share, name in SHARES.items():
        direct = out_of_scope.run_pair(*corpus, flag_share=share)
        today = results[f"today's novelty, {name}"]
        assert {k: today[k] for k in keys} == {k: direct[k] for k in keys}
        assert results["no detector"]["known_auto"] == direct["known_auto_without_flag"]


def test_the_learned_detector_ranks_held_out_agencies_above_known_ones(rows):
    model = holdout.holdout_detector().fit(rows.held_out, rows.unknown)
    score = model.predict_proba(rows.held_out)[:, 1]
    assert score[rows.unknown].mean() > score[~rows.unknown].mean()


def test_tables_name_every_pair_and_detector_and_no_complaint_text(corpus, results):
    texts, _, _, pair = corpus
    mean, per_pair = holdout.mean_table([results]), holdout.pair_table([pair], [results])
    for name in results:
        assert f"| {name} |" in mean and name in per_pair
    assert " + ".join(pair) in per_pair
    assert not any(text in mean + per_pair for text in texts)


def test_without_the_data_it_exits_with_a_reason(tmp_path):
    with pytest.raises(SystemExit) as exit_info:
        holdout.main(["--data", str(tmp_path / "absent.csv"), "--no-results"])
    assert "not found" in str(exit_info.value.code)


def test_flag_shares_outside_zero_one_are_refused(capsys):
    with pytest.raises(SystemExit) as exit_info:
        holdout.main(["--flag-shares", "0.1,1.5", "--no-results"])
    assert exit_info.value.code == 2
    assert "flag shares must be in (0, 1)" in capsys.readouterr().err
