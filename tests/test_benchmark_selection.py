"""Grid choices made on some runs and reported on others (benchmarks/selection.py)."""

import pytest

from benchmarks.selection import held_out_choice, split_runs


def test_split_runs_never_reports_on_a_choosing_run():
    select, report = split_runs(5)
    assert select == [0, 1] and report == [2, 3, 4]
    assert split_runs(3, n_select=1) == ([0], [1, 2])
    with pytest.raises(ValueError, match="≥ 2 runs"):
        split_runs(1)
    with pytest.raises(ValueError, match="between 1 and 2"):
        split_runs(3, n_select=3)


def test_choice_uses_only_selection_runs_and_reports_the_others():
    # "lucky" wins on the reporting runs only: choosing on them would flatter it
    scores = {"steady": [0.8, 0.8, 0.8, 0.8], "lucky": [0.5, 0.5, 0.99, 0.99]}
    choice = held_out_choice(scores, "lucky", [0, 1], [2, 3])
    assert choice.chosen == "steady"
    assert choice.chosen_selected == pytest.approx(0.8)
    assert choice.chosen_reported == pytest.approx(0.8)
    assert choice.default_reported == pytest.approx(0.99)
    assert not choice.default_agrees


def test_eligibility_restricts_the_choice_and_falls_back_to_all():
    scores = {"a": [0.9, 0.9], "b": [0.7, 0.6]}
    assert held_out_choice(scores, "a", [0], [1], eligible=lambda c: c == "b").chosen == "b"
    assert held_out_choice(scores, "a", [0], [1], eligible=lambda c: False).chosen == "a"
