"""The held-out-regencies part of benchmarks/jurisdiction.py: alias-free mentions and the
benchmark catalogue."""

import pytest

from benchmarks.jurisdiction import alias_free, benchmark_catalogue, concrete, read_alias_keys
from routing.authority import DEFAULT_AUTHORITY_PATH, parse_authority, resolve_agency
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
