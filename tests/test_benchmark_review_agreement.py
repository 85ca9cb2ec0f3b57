"""benchmarks/review_agreement.py: whom a verdict sides with, and the agreement it reports."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location(
    "review_agreement", ROOT / "benchmarks" / "review_agreement.py"
)
agreement = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(agreement)


def test_side_of_each_verdict():
    assert agreement.side("label_right", "", "PLN") == "recorded"
    assert agreement.side("label_wrong", "PLN", "PLN") == "router"
    assert agreement.side("label_wrong", "ESDM", "PLN") == "third agency"
    assert agreement.side("both", "PLN", "PLN") == "both"
    assert agreement.side("unclear", "", "PLN") == "unclear"


def test_a_wrong_label_agrees_only_with_the_same_agency():
    frame = pd.DataFrame(
        {"verdict": ["label_wrong", "label_wrong", "both"], "agency": ["PLN", "ESDM", "PLN"]}
    )
    assert agreement.categories(frame).tolist() == [
        "label_wrong → PLN",
        "label_wrong → ESDM",
        "both",
    ]


def test_report_counts_sources_sides_and_agreeing_errors():
    ids = [f"c{i}" for i in range(6)]
    data = pd.DataFrame({"id": ids, "recorded": ["ESDM", "ESDM", "PLN", "PLN", "OJK", "OJK"]})
    kept = pd.DataFrame(
        {
            "id": ids,
            "verdict": [
                "label_wrong",
                "label_right",
                "both",
                "label_wrong",
                "label_right",
                "label_wrong",
            ],
            "agency": ["PLN", "", "ESDM", "POLRI", "", "POLRI"],
        }
    )
    second = kept.iloc[:4].copy()
    second.loc[3, "agency"] = "OJK"  # one disagreement out of four
    sources = pd.DataFrame(
        {
            "id": ids,
            "other": ["PLN", "PLN", "ESDM", "ESDM", "POLRI", "POLRI"],
            "sources": [
                "router",
                "router+baseline",
                "audit+router",
                "router",
                "agreeing",
                "agreeing",
            ],
        }
    )
    text = "\n".join(agreement.report(data, kept, second, sources))
    assert "raw 0.750" in text
    assert "4 complaints: router 1, recorded 1, both 1, a third agency 1, unclear 0." in text
    assert "label wrong 1 (50.0%" in text
