"""The promotion gate: judging a challenger against the current version with a tolerance."""

from __future__ import annotations

import pytest

from routing.evaluation.comparison import judge, make_comparison, side_by_side

CHAMPION = "rt-champion0001"


def comparison(challenger: dict, champion: dict | None, version: str | None = CHAMPION) -> dict:
    base = {"n": 100, "accuracy": 0.9, "ece": 0.02}
    return make_comparison(
        base | challenger,
        None if champion is None else base | champion,
        champion_version=version,
        eval_set={"source": "holdout", "seed": 0, "n": 100},
        target_precision=0.99,
    )


def test_first_promotion_is_always_allowed():
    assert judge(None, None, 0.005).allowed


def test_a_challenger_worse_beyond_tolerance_is_refused_with_each_reason():
    verdict = judge(
        comparison({"macro_f1": 0.80, "coverage": 0.30}, {"macro_f1": 0.82, "coverage": 0.40}),
        CHAMPION,
        0.005,
    )
    assert not verdict.allowed
    assert len(verdict.reasons) == 2
    assert "macro-F1 0.8000 is below the champion's 0.8200" in verdict.reasons[0]
    assert "coverage at target precision" in verdict.reasons[1]


@pytest.mark.parametrize(("f1", "allowed"), [(0.816, True), (0.815, True), (0.8149, False)])
def test_tolerance_is_the_largest_allowed_drop(f1, allowed):
    record = comparison({"macro_f1": f1, "coverage": 0.5}, {"macro_f1": 0.82, "coverage": 0.5})
    assert judge(record, CHAMPION, 0.005).allowed is allowed


def test_a_comparison_against_another_version_is_stale():
    record = comparison({"macro_f1": 0.9, "coverage": 0.9}, {"macro_f1": 0.1, "coverage": 0.1})
    verdict = judge(record, "rt-someoneelse", 0.005)
    assert not verdict.allowed
    assert "current version is rt-someoneelse" in verdict.reasons[0]
    no_champion = comparison({"macro_f1": 0.9, "coverage": 0.9}, None, version=None)
    assert not judge(no_champion, CHAMPION, 0.005).allowed


def test_side_by_side_lists_challenger_and_champion_values():
    rows = side_by_side(
        comparison({"macro_f1": 0.9, "coverage": 0.5}, {"macro_f1": 0.8, "coverage": 0.4})
    )
    assert rows[0] == ("macro-F1", 0.9, 0.8)
    assert [label for label, _, _ in rows][-1].startswith("ECE")
