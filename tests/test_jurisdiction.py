"""The jurisdiction step of suggestions: classes made the agencies of a complaint's place."""

from __future__ import annotations

import numpy as np
import pytest

from routing.authority import load_authority
from routing.evaluation.metrics import top_suggestions
from routing.jurisdiction import (
    agency_id,
    find_places,
    place_suggestions,
    place_trouble,
    ranked_agencies,
    suggestable_agencies,
)
from routing.places import default_place_finder


@pytest.fixture(scope="module")
def authority():
    return load_authority()  # the shipped catalogue and rules


def _jurisdiction(text: str, location: str | None = None):
    return default_place_finder().find(text, location).jurisdiction


def test_roles_become_the_office_of_the_place_and_national_agencies_stay(authority):
    ranked = [("PDAM", 0.7), ("PLN", 0.2), ("LABEL TAK DIKENAL", 0.1)]
    placed = place_suggestions(authority, ranked, _jurisdiction("di Kota Bandung"), "air mati")
    assert [(p.label, p.agency, p.agency_code, p.confidence) for p in placed] == [
        ("PDAM", "PDAM TIRTAWENING KOTA BANDUNG", "PDAM-BDG", 0.7),
        ("PLN", "PT PLN (PERSERO)", "PLN", 0.2),
        ("LABEL TAK DIKENAL", "LABEL TAK DIKENAL", None, 0.1),
    ]


def test_two_roles_sent_to_one_government_are_suggested_once_the_first(authority):
    # Sleman has no office of either role in the catalogue: both fall back to its government
    sleman = _jurisdiction("jalan rusak di kabupaten Sleman")
    ranked = [("DINAS PU", 0.5), ("PDAM", 0.3), ("PLN", 0.2)]
    placed = place_suggestions(authority, ranked, sleman, "jalan rusak")
    assert [(p.label, p.agency_code, p.confidence) for p in placed] == [
        ("DINAS PU", "PEMKAB-34.04", 0.5),
        ("PLN", "PLN", 0.2),
    ]


def test_without_authority_classes_are_suggested_as_they_are():
    ranked = [("PDAM", 0.7), ("PLN", 0.3)]
    placed = place_suggestions(None, ranked, None, "air mati")
    assert [(p.agency, p.agency_code) for p in placed] == [("PDAM", None), ("PLN", None)]
    assert find_places(None, ["a", "b"], None) == [None, None]
    with pytest.raises(ValueError, match="2 texts but 1 locations"):
        find_places(None, ["a", "b"], ["Sleman"])


def test_a_local_role_without_a_decided_place_has_no_agency_and_names_candidates(authority):
    [finding] = find_places(authority, ["air pdam mati di Bandung"], None)
    assert finding.jurisdiction.ambiguous
    [top] = place_suggestions(authority, [("PDAM", 0.9)], finding.jurisdiction, "air pdam mati")
    assert (top.agency, top.agency_code) == ("PDAM", None)
    unplaced, conflict = place_trouble(authority, top, finding, "air pdam mati")
    assert unplaced == ("PDAM", ["PEMKAB-32.04", "PDAM-BDG"])
    assert conflict is None
    [nowhere] = find_places(authority, ["air pdam mati"], None)
    [top] = place_suggestions(authority, [("PDAM", 0.9)], None, "air pdam mati")
    assert place_trouble(authority, top, nowhere, "air pdam mati") == (("PDAM", ["PDAM-BDG"]), None)


def test_a_location_that_contradicts_the_text_wins_and_is_a_conflict(authority):
    [finding] = find_places(authority, ["air pdam mati di Kota Bandung"], ["Sleman"])
    assert finding.jurisdiction.code == "34.04" and finding.conflict.code == "32.73"
    [top] = place_suggestions(authority, [("PDAM", 0.9)], finding.jurisdiction, "air pdam mati")
    assert top.agency_code == "PEMKAB-34.04"
    unplaced, conflict = place_trouble(authority, top, finding, "air pdam mati")
    assert unplaced == ("PDAM", ["PEMKAB-34.04", "PDAM-BDG"])
    assert conflict == ("34.04", "32.73")
    # a national agency does not depend on the place: only the conflict is left
    [top] = place_suggestions(authority, [("PLN", 0.9)], finding.jurisdiction, "listrik mati")
    assert place_trouble(authority, top, finding, "listrik mati") == (None, ("34.04", "32.73"))


def test_a_rule_naming_a_national_agency_needs_no_place(authority):
    [top] = place_suggestions(authority, [("DINAS PU", 0.9)], None, "jalan nasional berlubang")
    assert top.agency_code == "KEMENPU"
    assert place_trouble(authority, top, None, "jalan nasional berlubang") == (None, None)


def test_agency_ids_are_catalogue_codes_else_the_label_as_written(authority):
    assert agency_id(authority, "PT PLN") == "PLN"
    assert agency_id(authority, "PDAM TIRTAWENING KOTA BANDUNG") == "PDAM-BDG"
    assert agency_id(authority, "KOMINFO") == "KOMDIGI"  # renamed: its current code
    assert agency_id(authority, "Dinas Entah") == "Dinas Entah"
    assert agency_id(None, "PT PLN") == "PT PLN"


def test_ranked_agencies_of_national_classes_are_the_routers_own_ranking(authority):
    classes = ["BPJS-KES", "IMIGRASI", "PLN", "POLRI"]
    proba = np.random.default_rng(0).dirichlet(np.ones(len(classes)), size=20)
    labels = [classes[i % 4] for i in range(20)]
    ranked, confidence = ranked_agencies(authority, proba, classes, [None] * 20, [""] * 20)
    top, expected_confidence, in_top3 = top_suggestions(labels, proba, classes)
    assert [r[0] for r in ranked] == top.tolist()
    np.testing.assert_allclose(confidence, expected_confidence)
    assert [y in r for y, r in zip(labels, ranked, strict=True)] == in_top3.tolist()


def test_suggestable_agencies_are_national_ones_offices_of_the_roles_and_governments(authority):
    agencies = suggestable_agencies(authority, ["PLN", "DINAS PU", "LABEL TAK DIKENAL"])
    codes = {a.code for a in agencies}
    assert {"PLN", "DPU-BDG", "DBMPR-JABAR", "BINAMARGA-DKI", "KEMENPU"} <= codes
    assert "PDAM-BDG" not in codes  # not a role the model learned
    assert "PEMPROV-32" in codes and "PEMKOT-32.73" in codes and "PEMKAB-34.04" in codes
    assert "LABEL TAK DIKENAL" not in codes
    names = [a.name for a in agencies]
    assert names == sorted(names)
    national = suggestable_agencies(authority, ["PLN", "POLRI"])
    assert [a.code for a in national] == ["POLRI", "PLN"]  # by name: KEPOLISIAN…, PT PLN…
