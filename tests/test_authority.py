"""Authority: a role and a jurisdiction → the concrete agency, by the editable rules file."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import pytest

from routing.authority import AuthorityError, load_authority, parse_authority, parse_rules
from routing.gazetteer import load_gazetteer
from routing.text import TextNormalizer

CATALOGUE_COLUMNS = ["code", "name", "level", "region", "role", "aliases", "replaced_by"]


@dataclass(frozen=True)
class Place:
    """Stands in for routing.places.Jurisdiction (the fields resolve_agency reads)."""

    code: str | None
    candidates: tuple[str, ...] = ()

    @property
    def ambiguous(self) -> bool:
        return bool(self.candidates)


KOTA_BANDUNG, KAB_BANDUNG, JABAR = Place("32.73"), Place("32.04"), Place("32")
BANDUNG = Place("32", candidates=("32.04", "32.73"))  # "Bandung" alone
JAKSEL = Place("31.74")

RULES = """role,when,level,agency,region,note
DINAS PENDIDIKAN,sma|smk|slb|sekolah menengah atas,provinsi,,,secondary: province
DINAS PENDIDIKAN,sd|smp,kabkota,,,
DINAS PU,jalan nasional|jl. nasional,pusat,KEMENPU,,national roads
DINAS PU,jalan provinsi,provinsi,,,
,,provinsi,,31.74,administrative city
,,provinsi,,31.71,administrative city
"""


def catalogue_csv(*rows: tuple[str, ...]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CATALOGUE_COLUMNS)
    for row in rows:
        writer.writerow([*row, *[""] * (len(CATALOGUE_COLUMNS) - len(row))])
    return out.getvalue()


CATALOGUE = catalogue_csv(
    ("KEMENPU", "KEMENTERIAN PEKERJAAN UMUM", "pusat"),
    ("PLN", "PT PLN (PERSERO)", "pusat"),
    ("DPU-KOTA", "DINAS PU KOTA BANDUNG", "kabkota", "32.73", "DINAS PU"),
    ("DPU-JABAR", "DINAS PU PROVINSI JAWA BARAT", "provinsi", "32", "DINAS PU"),
    ("DISDIK-KOTA", "DINAS PENDIDIKAN KOTA BANDUNG", "kabkota", "32.73", "DINAS PENDIDIKAN"),
    ("DISDIK-JABAR", "DINAS PENDIDIKAN JAWA BARAT", "provinsi", "32", "DINAS PENDIDIKAN"),
    ("DISDIK-DKI", "DINAS PENDIDIKAN DKI JAKARTA", "provinsi", "31", "DINAS PENDIDIKAN"),
)


@pytest.fixture(scope="module")
def authority():
    return parse_authority(CATALOGUE, RULES, gazetteer=load_gazetteer())


def resolve(authority, label, place, text=""):
    return authority.resolve(label, place, text)


def test_national_agencies_pass_through_and_unknown_labels_stay_plain(authority):
    pln = resolve(authority, "PLN", None)
    assert pln.agency.code == "PLN" and not pln.unresolved
    plain = resolve(authority, "DINAS X", KOTA_BANDUNG)
    assert plain.agency is None and not plain.unresolved and plain.candidates == ()


def test_kota_and_kabupaten_bandung_get_their_own_office(authority):
    kota = resolve(authority, "DINAS PU", KOTA_BANDUNG, "jalan berlubang di depan rumah")
    assert kota.agency.code == "DPU-KOTA" and not kota.fallback
    # the catalogue lists no public works office of Kabupaten Bandung: its government
    kab = resolve(authority, "DINAS PU", KAB_BANDUNG, "jalan berlubang di depan rumah")
    assert kab.agency.code == "PEMKAB-32.04" and kab.fallback
    assert kab.agency.name == "PEMERINTAH KABUPATEN BANDUNG"


def test_senior_high_school_goes_to_the_province_and_primary_to_the_city(authority):
    sma = resolve(authority, "DINAS PENDIDIKAN", KOTA_BANDUNG, "pungutan di sma negeri 3")
    assert (sma.agency.code, sma.level) == ("DISDIK-JABAR", "provinsi")
    assert sma.rule is not None and sma.rule.note == "secondary: province"
    smp = resolve(authority, "DINAS PENDIDIKAN", KOTA_BANDUNG, "pungutan di smp 5")
    assert (smp.agency.code, smp.level) == ("DISDIK-KOTA", "kabkota")
    # whole words only: "smart" is not "sma"
    other = resolve(authority, "DINAS PENDIDIKAN", KOTA_BANDUNG, "aplikasi smart city")
    assert other.rule is None and other.level == "kabkota"


def test_rules_match_the_routers_normalized_text(authority):
    text = TextNormalizer().fit([]).normalize("Jalan   NASIONAL rusak parah!!!")
    road = resolve(authority, "DINAS PU", KOTA_BANDUNG, text)
    assert road.agency.code == "KEMENPU" and not road.unresolved
    # a rule naming a national agency needs no place at all
    assert resolve(authority, "DINAS PU", None, "jl. nasional").agency.code == "KEMENPU"


def test_an_ambiguous_bandung_is_decided_when_both_candidates_share_the_office(authority):
    sma = resolve(authority, "DINAS PENDIDIKAN", BANDUNG, "sma")
    assert sma.agency.code == "DISDIK-JABAR"
    road = resolve(authority, "DINAS PU", BANDUNG, "jalan kampung")
    assert road.unresolved
    assert [a.code for a in road.candidates] == ["PEMKAB-32.04", "DPU-KOTA"]


def test_jakarta_selatan_offices_are_the_provinces(authority):
    school = resolve(authority, "DINAS PENDIDIKAN", JAKSEL, "pungutan smp")
    assert school.agency.code == "DISDIK-DKI"
    road = resolve(authority, "DINAS PU", JAKSEL, "jalan rusak")
    assert road.agency.code == "PEMPROV-31" and road.fallback
    assert "PEMKOT-31.74" not in authority.catalogue.agencies
    assert "PEMKOT-32.73" in authority.catalogue.agencies


def test_no_place_gives_no_agency_and_the_listed_offices_as_candidates(authority):
    road = resolve(authority, "DINAS PU", None, "jalan rusak")
    assert road.unresolved and road.agency is None
    assert [a.code for a in road.candidates] == ["DPU-KOTA"]
    # a province alone does not decide a regency/city office
    in_jabar = resolve(authority, "DINAS PU", JABAR, "jalan rusak")
    assert in_jabar.unresolved
    assert "DPU-KOTA" in {a.code for a in in_jabar.candidates}
    assert len(in_jabar.candidates) == len(
        [r for r in load_gazetteer().kabkota() if r.province == "32"]
    )
    # ... but a provincial one it does
    assert resolve(authority, "DINAS PU", JABAR, "jalan provinsi").agency.code == "DPU-JABAR"


def test_government_roles_resolve_to_the_generated_governments(authority):
    assert resolve(authority, "PEMKAB/PEMKOT", KOTA_BANDUNG).agency.code == "PEMKOT-32.73"
    assert resolve(authority, "PEMPROV", KOTA_BANDUNG).agency.code == "PEMPROV-32"
    assert resolve(authority, "PEMKAB/PEMKOT", JAKSEL).agency.code == "PEMPROV-31"


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ("role,when,level\nX,,pusat\n", "missing column agency"),
        ("role,when,level,agency,region,note\nDINAS PU,a,negara,,,\n", "level 'negara'"),
        ("role,when,level,agency,region,note\nDINAS PU,jalan,pusat,,,\n", "line 2: a rule names"),
        ("role,when,level,agency,region,note\n,,kabkota,,,\n", "line 2: a rule needs a role"),
        ("role,when,level,agency,region,note\n,,provinsi,,31,\n", "not a regency/city code"),
        ("role,when,level,agency,region,note\n,,kabkota,,31.71,\n", "region rule sends"),
    ],
)
def test_malformed_rules_are_refused_with_one_line(rules, message):
    with pytest.raises(AuthorityError, match=message) as info:
        parse_rules(rules)
    assert "\n" not in str(info.value)


def test_rules_must_fit_the_catalogue(authority):
    gazetteer = load_gazetteer()
    unknown_agency = RULES.replace("KEMENPU", "KEMENPUPR")
    with pytest.raises(AuthorityError, match="'KEMENPUPR', which is not a national agency"):
        parse_authority(CATALOGUE, unknown_agency, gazetteer=gazetteer)
    with pytest.raises(AuthorityError, match=r"region '31\.99' is not in the gazetteer"):
        parse_authority(CATALOGUE, RULES + ",,provinsi,,31.99,\n", gazetteer=gazetteer)
    # a rule about a role the catalogue does not have does nothing
    national = catalogue_csv(("PLN", "PT PLN (PERSERO)", "pusat"))
    assert parse_authority(national, unknown_agency, gazetteer=gazetteer).catalogue.roles == {
        "PEMPROV",
        "PEMKAB/PEMKOT",
    }


def test_shipped_rules_fit_the_shipped_catalogue():
    authority = load_authority()
    catalogue = authority.catalogue
    assert {rule.role for rule in authority.rules.level} <= catalogue.roles
    assert authority.warnings == ()
    # every province and every autonomous regency/city has its government
    gazetteer = load_gazetteer()
    assert len(catalogue.generated) == len(gazetteer.provinces()) + len(gazetteer.kabkota()) - 6
    assert catalogue.code_of("Pemkot Bandung") == "PEMKOT-32.73"
    assert catalogue.code_of("PEMKAB BANDUNG") == "PEMKAB-32.04"
    assert catalogue.code_of("pemprov jawa barat") == "PEMPROV-32"
    assert catalogue.code_of("PEMPROV DKI JAKARTA") == "PEMPROV-31"
    sma = authority.resolve("DINAS PENDIDIKAN", KOTA_BANDUNG, "sman 3 bandung")
    assert sma.agency.code == "DISDIK-JABAR"
    madrasah = authority.resolve("DINAS PENDIDIKAN", KOTA_BANDUNG, "madrasah aliyah")
    assert madrasah.agency.code == "KEMENAG"
