"""benchmarks/jurisdiction.py: the place-finding report of each annotation round, and the
held-out-regencies part's alias-free mentions and benchmark catalogue."""

import csv
from pathlib import Path

import pytest

from benchmarks.jurisdiction import (
    alias_free,
    benchmark_catalogue,
    concrete,
    national_part,
    places_part,
    read_alias_keys,
)
from routing.authority import DEFAULT_AUTHORITY_PATH, parse_authority, resolve_agency
from routing.corrections import id_digest
from routing.gazetteer import load_gazetteer
from routing.places import default_place_finder
from training.regional_corpus import generate, pick_regions


@pytest.fixture(scope="module")
def gazetteer():
    return load_gazetteer()


def test_a_mention_holding_an_alias_as_whole_words_is_not_alias_free():
    keys = frozenset({"jogja", "kotajogja", "tolitoli"})
    assert not alias_free("Kota Jogja", keys)
    assert not alias_free("kec. Gondokusuman, jogja", keys)
    assert not alias_free("Kab. Toli-Toli", keys)  # punctuation inside a name does not matter
    assert alias_free("Kab. Sleman", keys)
    assert alias_free("Jogjakarta", keys)  # a longer word is not the alias


def test_at_least_a_third_of_generated_mentions_are_absent_from_the_alias_file(gazetteer):
    regions = [r for group in pick_regions(gazetteer, 8, 3, seed=2) for r in group]
    corpus = generate(regions, 14, national=6, gazetteer=gazetteer, seed=3)
    keys = read_alias_keys()
    assert "jogja" in keys and "jaksel" in keys
    mentions = [c.mention for c in corpus if c.mention]
    free = [alias_free(m, keys) for m in mentions]
    assert sum(free) / len(free) >= 0.30


def test_the_benchmark_catalogue_names_every_label_and_resolves_by_place(gazetteer):
    groups = pick_regions(gazetteer, 3, 2, seed=4)
    regions = [r for group in groups for r in group]
    authority = parse_authority(
        benchmark_catalogue(groups, gazetteer),
        DEFAULT_AUTHORITY_PATH.read_text(encoding="utf-8"),
        gazetteer=gazetteer,
    )
    catalogue = authority.catalogue
    corpus = generate(regions, 21, national=4, gazetteer=gazetteer, seed=1)
    finder = default_place_finder()
    resolved = 0
    for c in corpus:
        label = concrete(c)
        assert catalogue.code_of(label) == label
        if c.role is None or c.form != "official name":
            continue
        # the role, placed by the official name, is the complaint's own office
        place = finder.find(c.text).jurisdiction
        resolution = resolve_agency(c.role, place, c.text.lower(), authority)
        assert resolution.agency is not None and resolution.agency.code == label
        resolved += 1
    assert resolved > 0


def _write(path, rows, columns):
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


def _annotation(complaint_id, status, code="", candidates=""):
    return {"id": id_digest(complaint_id), "status": status, "code": code}, candidates


def _round(path, rows):
    columns = ["id", "status", "code", "candidates", "annotator", "note"]
    out = [dict(row, candidates=candidates, annotator="A", note="") for row, candidates in rows]
    _write(path, out, columns)


def _first_round(tmp_path: Path, texts: dict[str, str]) -> Path:
    """A lapor10.csv of `texts` and an annotation folder whose round 1 annotates complaints
    "1" (Kota Surabaya) and "2" (no place)."""
    _write(
        tmp_path / "lapor10.csv",
        [{"id": i, "text": t, "agency": "X"} for i, t in texts.items()],
        ["id", "text", "agency"],
    )
    folder = tmp_path / "annotations"
    folder.mkdir()
    _round(
        folder / "lapor10-places.csv",
        [_annotation("1", "place", "35.78"), _annotation("2", "none")],
    )
    return folder


def test_a_second_round_is_reported_apart_from_the_tuning_set(tmp_path):
    texts = {
        "1": "jalan rusak di Kota Surabaya",
        "2": "pelayanan lambat sekali",
        "3": "sampah menumpuk di kab. sleman",
        "4": "lampu mati di Kota Bandung",
        "5": "banjir di Bandung",
        "6": "antre lama tanpa kejelasan",
    }
    folder = _first_round(tmp_path, texts)
    second_round = [
        _annotation("3", "place", "34.04"),
        _annotation("4", "place", "32.04"),  # the finder reads Kota Bandung: a wrong code
        _annotation("5", "place", "32", "32.04|32.73"),  # ambiguous: counts as none
        _annotation("6", "place", "33.74"),  # the finder finds nothing: a place missed
    ]
    _round(folder / "lapor10-places-round2.csv", second_round)
    _round(
        folder / "lapor10-places-round2-second.csv",
        [_annotation("3", "place", "34.04"), _annotation("4", "place", "32.73")],
    )
    lines = places_part(tmp_path / "lapor10.csv", folder)
    text = "\n".join(lines)
    first, second = text.split("### Round 2 (seed 1, annotated blind before the second tuning)")
    assert "### Round 1 (seed 0): the tuning set" in first
    assert "| all | 1.000 (0.207–1.000, 1/1) | 1.000 (0.207–1.000, 1/1) |" in first
    assert "agreement" not in first  # round 1 has no second annotator's file here
    assert "Annotated complaints: 4; with a decided jurisdiction: 3" in second
    assert "| all | 0.500 (0.095–0.905, 1/2) | 0.333 (0.061–0.792, 1/3) |" in second
    assert "Errors: wrong code 1, place where the annotation has none 0, place missed 1." in second
    assert "agreement on the 2 shared complaints: raw 0.500" in second


def test_complaints_of_an_earlier_round_are_scored_apart_and_their_annotations_compared(
    tmp_path,
):
    texts = {
        "1": "jalan rusak di Kota Surabaya",
        "2": "pelayanan lambat sekali",
        "3": "sampah menumpuk di kab. sleman",
    }
    folder = _first_round(tmp_path, texts)
    _round(
        folder / "lapor10-places-round2.csv",
        [
            _annotation("1", "place", "35.78"),  # drawn again, annotated alike
            _annotation("2", "place", "33.74"),  # drawn again, annotated otherwise: missed
            _annotation("3", "place", "34.04"),  # the only complaint new to round 2
        ],
    )
    text = "\n".join(places_part(tmp_path / "lapor10.csv", folder))
    second = text.split("### Round 2")[1]
    assert "| all | 1.000 (0.342–1.000, 2/2) | 0.667 (0.208–0.939, 2/3) |" in second
    assert (
        "| new to this round (1) | 1.000 (0.207–1.000, 1/1) | 1.000 (0.207–1.000, 1/1) |" in second
    )
    assert "new to this round" not in text.split("### Round 2")[0]
    assert "2 pairs of annotations of one complaint in two rounds" in text
    assert "the same decided code in 1 (0.500)" in text


def test_only_the_rounds_present_are_reported(tmp_path):
    _write(
        tmp_path / "lapor10.csv",
        [{"id": "1", "text": "Jateng", "agency": "X"}],
        ["id", "text", "agency"],
    )
    folder = tmp_path / "annotations"
    folder.mkdir()
    _round(folder / "lapor10-places.csv", [_annotation("1", "place", "33")])
    text = "\n".join(places_part(tmp_path / "lapor10.csv", folder))
    assert "Round 1" in text and "Round 2" not in text


def _counts(lines: list[str]) -> dict[str, int]:
    rows = [line.strip("|").split("|") for line in lines if line.startswith("| ")]
    return {
        k.strip(): int(v.strip().replace(",", "")) for k, v in rows if k.strip() != "suggestions"
    }


def test_national_part_counts_every_suggestion_by_kind(catalogue_bundle, small_csv):
    lines = national_part(small_csv, catalogue_bundle, chunk=7)
    counts = _counts(lines)
    n = sum(1 for _ in small_csv.open(encoding="utf-8")) - 1
    assert counts["all"] == 3 * n
    assert counts["national"] + counts["local"] + counts["regional role"] == counts["all"]
    # the small corpus holds complaints to a Bandung PDAM: some suggestions are local
    assert counts["local"] + counts["regional role"] > 0 and counts["national"] > 0


def test_national_part_needs_a_bundle_with_a_catalogue(trained_bundle, small_csv):
    with pytest.raises(SystemExit, match="no catalogue"):
        national_part(small_csv, trained_bundle)


def test_the_rounds_blind_to_the_finder_are_pooled_apart_each_complaint_once(tmp_path):
    texts = {
        "1": "jalan rusak di Kota Surabaya",
        "2": "pelayanan lambat sekali",
        "3": "sampah menumpuk di kab. sleman",
        "4": "antre lama tanpa kejelasan",
    }
    folder = _first_round(tmp_path, texts)
    _round(  # an unread round: "1" was drawn in round 1 already and is pooled there
        folder / "lapor10-places-round14.csv",
        [
            _annotation("1", "none"),
            _annotation("3", "place", "34.04"),
            _annotation("4", "place", "33.74"),  # missed
        ],
    )
    pooled = "\n".join(places_part(tmp_path / "lapor10.csv", folder)).split("### Pooled")[1]
    assert (
        "| rounds blind to this finder (1; 2) | 1.000 (0.207–1.000, 1/1) "
        "| 0.500 (0.095–0.905, 1/2) |" in pooled
    )
    assert (
        "| rounds tuned on (1; 2) | 1.000 (0.207–1.000, 1/1) | 1.000 (0.207–1.000, 1/1) |" in pooled
    )
