"""benchmarks/out_of_scope.py: the pairs it leaves out, and one pair run on the small corpus."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from routing.text import near_duplicate_groups

ROOT = Path(__file__).resolve().parents[1]
# benchmarks/ is a folder of scripts, not an installed package: load the script by its path
_spec = importlib.util.spec_from_file_location(
    "benchmark_out_of_scope", ROOT / "benchmarks" / "out_of_scope.py"
)
out_of_scope = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(out_of_scope)

AGENCIES = [f"agency {i}" for i in range(10)]


def test_pairs_are_disjoint_cover_every_agency_and_are_fixed_by_the_seed():
    pairs = out_of_scope.agency_pairs(list(reversed(AGENCIES)), seed=0)
    assert len(pairs) == 5
    assert sorted(a for pair in pairs for a in pair) == sorted(AGENCIES)
    assert pairs == out_of_scope.agency_pairs(AGENCIES, seed=0)  # order of input is irrelevant
    assert pairs != out_of_scope.agency_pairs(AGENCIES, seed=1)


def test_a_left_out_pair_is_flagged_more_and_routed_less_than_known_agencies(small_corpus):
    texts, labels = small_corpus.texts, np.asarray(small_corpus.labels, dtype=object)
    groups = np.asarray(near_duplicate_groups(texts))
    pair = (labels[0], labels[-1])
    result = out_of_scope.run_pair(texts, labels, groups, pair, flag_share=0.2)
    assert result["n_out"] == int(np.isin(labels, pair).sum())
    for key in ("out_auto", "out_flagged", "known_flagged", "known_auto"):
        assert 0.0 <= result[key] <= 1.0
    assert result["out_flagged"] > result["known_flagged"]
    assert result["out_auto"] <= result["known_auto"]
    table = out_of_scope.table([result])
    assert " + ".join(pair) in table and "mean over pairs" in table
