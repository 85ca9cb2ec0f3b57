import re
from pathlib import Path

import pandas as pd
import pytest

from routing.authority import load_authority
from routing.places import default_place_finder
from training.sample_corpus import (
    AGENCIES,
    CENTRAL_AGENCIES,
    DEFAULT_PATH,
    DPU,
    GOVERNMENT_REGIONS,
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
    assert set(AGENCIES) < set(corpus["agency"])


def test_every_agency_has_150_complaints_and_every_government_a_few(corpus: pd.DataFrame):
    counts = corpus["agency"].value_counts()
    assert (counts[list(AGENCIES)] == 150).all()
    governments = counts.drop(list(AGENCIES))
    assert governments.index.str.startswith("PEMERINTAH ").all()
    assert governments.min() >= 5
    assert counts.sum() == len(corpus) < 1.2 * 150 * len(AGENCIES)


def test_every_label_is_known_to_the_shipped_catalogue(corpus: pd.DataFrame):
    catalogue = load_authority().catalogue
    mapping = catalogue.map_labels(corpus["agency"].tolist())
    assert mapping.unknown == {}
    codes = set(mapping.labels)
    assert "PEMKAB-34.04" in codes and "PEMKOT-35.78" in codes and "PEMPROV-35" in codes
    assert {catalogue.agencies[c].level for c in codes} == {"pusat", "provinsi", "kabkota"}


def test_local_complaints_name_places_in_many_regencies_of_several_provinces(corpus):
    assert len({code[:2] for code in GOVERNMENT_REGIONS}) >= 5
    catalogue = load_authority().catalogue
    finder = default_place_finder()
    governments = corpus[corpus["agency"].str.startswith("PEMERINTAH ")]
    right, named = 0, set()
    for text, label in zip(governments["text"], governments["agency"], strict=True):
        region = catalogue.agencies[catalogue.code_of(label)].region
        place = finder.find(text).jurisdiction
        if place is not None and place.code is not None and place.code.startswith(region):
            right += 1
            named.add(place.code)
    assert right >= 0.9 * len(governments)
    assert len(named) >= len(GOVERNMENT_REGIONS)


def test_every_bandung_office_complaint_names_kota_bandung(corpus):
    finder = default_place_finder()
    local = corpus[corpus["agency"].isin(LOCAL_AGENCIES)]
    found = [finder.find(text).jurisdiction for text in local["text"]]
    right = [j is not None and j.code == "32.73" for j in found]
    # a few name a puskesmas or a village whose name other regions share as well
    assert sum(right) >= 0.95 * len(local)
    assert not [j for j in found if j is not None and j.code and not "32.73".startswith(j.code)]


def test_line_breaks_fall_between_sentences_not_after_abbreviations(corpus):
    broken = corpus["text"].str.contains("br", regex=False)
    assert broken.sum() > 20
    assert not corpus["text"].str.contains(r"\b(?:Jl|Ds|Kel|Kec|Kab|No)\.(?:&|\s<)").any()


def test_senior_high_schools_go_to_the_province(corpus):
    secondary = corpus["text"].str.contains(r"\b(?:sman|sma negeri|smk negeri)\b", case=False)
    assert secondary.sum() > 20
    assert corpus[secondary]["agency"].str.startswith("PEMERINTAH PROVINSI ").all()
    provinces = corpus["agency"].str.startswith("PEMERINTAH PROVINSI ")
    assert secondary[provinces].all()


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
    # the topics of a road damaged by water pipes, which DPU and PDAM share
    pipes = "galian pipa PDAM|perbaikan pipa air|rembesan air"
    pipe_damage = corpus[corpus["text"].str.contains(pipes, case=False)]
    assert {DPU, PDAM} <= set(pipe_damage["agency"])


def test_rejects_non_positive_size():
    with pytest.raises(ValueError, match="n_per_agency"):
        generate(0)
