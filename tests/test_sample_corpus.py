import re
from pathlib import Path

import pandas as pd
import pytest

from training.sample_corpus import (
    AGENCIES,
    CENTRAL_AGENCIES,
    DEFAULT_PATH,
    DPU,
    LOCAL_AGENCIES,
    PDAM,
    generate,
    main,
)

INFORMAL_RE = re.compile(r"\b(?:sy|yg|tdk|gk|blm|udh|krn|dgn|tlg|trs)\b")
NIK_RE = re.compile(r"\b32\d{14}\b")
PHONE_RE = re.compile(r"(?:\+62|\b0)8\d{2}[- ]?\d{3,4}[- ]?\d{3,4}\b")


@pytest.fixture(scope="module")
def corpus() -> pd.DataFrame:
    return generate()


def test_generate_twice_gives_identical_corpus():
    pd.testing.assert_frame_equal(generate(20, seed=7), generate(20, seed=7))


def test_other_seed_gives_other_corpus():
    assert generate(20, seed=7)["text"].tolist() != generate(20, seed=8)["text"].tolist()


def test_written_csv_is_byte_identical_across_runs(tmp_path: Path):
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    main(["--out", str(first), "--n-per-agency", "20", "--seed", "3"])
    main(["--out", str(second), "--n-per-agency", "20", "--seed", "3"])
    data = first.read_bytes()
    assert data == second.read_bytes()
    assert b"\r\n" not in data
    assert data.startswith(b"id,text,agency\n")


def test_committed_file_matches_fresh_generation(tmp_path: Path):
    fresh = tmp_path / "complaints.csv"
    main(["--out", str(fresh)])
    assert DEFAULT_PATH.read_bytes() == fresh.read_bytes()


def test_committed_file_reads_back_as_generated(corpus: pd.DataFrame):
    committed = pd.read_csv(DEFAULT_PATH, dtype=str, keep_default_na=False)
    assert committed["text"].tolist() == corpus["text"].tolist()
    assert committed["agency"].tolist() == corpus["agency"].tolist()


def test_covers_central_and_local_agencies(corpus: pd.DataFrame):
    assert len(AGENCIES) == len(set(AGENCIES)) >= 12
    assert set(CENTRAL_AGENCIES) | set(LOCAL_AGENCIES) == set(AGENCIES)
    assert all("KOTA BANDUNG" in agency for agency in LOCAL_AGENCIES)
    assert not any("KOTA BANDUNG" in agency for agency in CENTRAL_AGENCIES)
    assert set(corpus["agency"]) == set(AGENCIES)


def test_every_agency_has_at_least_100_complaints(corpus: pd.DataFrame):
    counts = corpus["agency"].value_counts()
    assert counts.min() >= 100
    assert counts.sum() == len(corpus) == 150 * len(AGENCIES)


def test_columns_and_ids(corpus: pd.DataFrame):
    assert corpus.columns.tolist() == ["id", "text", "agency"]
    assert corpus["id"].is_unique
    assert corpus["id"].str.fullmatch(r"S-\d{6}").all()


def test_texts_are_unique(corpus: pd.DataFrame):
    assert corpus["text"].is_unique


def test_some_texts_are_informal_but_not_all(corpus: pd.DataFrame):
    informal = corpus["text"].str.contains(INFORMAL_RE)
    lowercase = corpus["text"] == corpus["text"].str.lower()
    assert 0.05 < informal.mean() < 0.6
    assert lowercase.any()


def test_some_texts_carry_fake_personal_data(corpus: pd.DataFrame):
    texts = corpus["text"]
    assert texts.str.contains(NIK_RE).sum() >= 20
    assert texts.str.contains(PHONE_RE).sum() >= 20
    assert texts.str.contains(r"\b\w[\w.]*@\w+\.\w+").sum() >= 20
    assert texts.str.contains(r"\b5\d{11}\b").any()  # PLN customer id
    assert texts.str.contains(r"\b000\d{10}\b").any()  # BPJS Kesehatan card


def test_some_texts_keep_html_artefacts(corpus: pd.DataFrame):
    assert corpus["text"].str.contains("&#60;br />", regex=False).any()


def test_ambiguous_topic_is_labelled_with_both_agencies(corpus: pd.DataFrame):
    pipe_damage = corpus[corpus["text"].str.contains("galian pipa PDAM", case=False)]
    assert {DPU, PDAM} <= set(pipe_damage["agency"])


def test_rejects_non_positive_size():
    with pytest.raises(ValueError, match="n_per_agency"):
        generate(0)
