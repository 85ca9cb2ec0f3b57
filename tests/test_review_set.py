"""The review set (training/review_set.py): which complaints go on a blind sheet, and why."""

from __future__ import annotations

import numpy as np

from routing.corrections import SHEET_COLUMNS, id_digest, read_csv
from training.review_set import SOURCES, main, review_set


def test_review_set_takes_disagreements_and_a_seeded_agreeing_sample(small_corpus):
    texts, labels = small_corpus.texts, list(small_corpus.labels)
    flipped = labels[:]
    for i in range(0, len(flipped), 15):  # deliberate mistakes the router should disagree with
        flipped[i] = labels[(i + 30) % len(labels)]
    chosen = review_set(texts, flipped, agreeing=10, seed=0)

    assert chosen["row"].is_unique and chosen["row"].is_monotonic_increasing
    assert (chosen["recorded"] == np.asarray(flipped, dtype=object)[chosen["row"]]).all()
    # a candidate is never the recorded agency, so the two on the sheet always differ
    assert (chosen["other"] != chosen["recorded"]).all()
    sources = chosen["sources"].str.split("+")
    assert all(set(s) <= set(SOURCES) for s in sources)
    assert (sources.map(lambda s: s == ["agreeing"])).sum() == 10
    wrong = {i for i in range(len(flipped)) if flipped[i] != labels[i]}
    router_rows = set(chosen["row"][sources.map(lambda s: "router" in s)])
    assert len(wrong & router_rows) >= len(wrong) // 2  # most planted mistakes are found
    again = review_set(texts, flipped, agreeing=10, seed=0)
    assert again.equals(chosen)
    other_seed = review_set(texts, flipped, agreeing=10, seed=1)
    assert set(other_seed["row"][other_seed["sources"] == "agreeing"]) != set(
        chosen["row"][chosen["sources"] == "agreeing"]
    )


def test_sheet_and_sources_hold_no_recorded_agency_column_on_the_sheet(tmp_path, small_corpus):
    from tests.conftest import write_csv

    data = write_csv(tmp_path / "data.csv", small_corpus)
    sheet_path = tmp_path / "sheet.csv"
    main([str(data), "--out", str(sheet_path), "--agreeing", "5"])
    sheet = read_csv(sheet_path)
    sources = read_csv(tmp_path / "sheet.sources.csv")
    assert tuple(sheet.columns) == SHEET_COLUMNS
    assert set(map(id_digest, sheet["id"])) == set(sources["id"])  # no dataset id copied
    recorded = dict(zip(small_corpus.ids, small_corpus.labels, strict=True))
    for row in sheet.itertuples():  # the recorded agency is one of the two, in no fixed place
        assert recorded[row.id] in (row.candidate_a, row.candidate_b)
    assert (sheet["verdict"] == "").all() and (sheet["agency"] == "").all()
