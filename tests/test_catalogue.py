"""The agency catalogue: spellings → codes, renames and merges, and refusing inconsistent files."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from typer.testing import CliRunner

from routing.bundle import read_manifest
from routing.catalogue import CatalogueError, load_catalogue, parse_catalogue
from routing.cli import app
from training.sample_corpus import AGENCIES

ROOT = Path(__file__).resolve().parents[1]
CATALOGUE = ROOT / "data" / "agencies.csv"
LAPOR10_AGENCIES = (
    "BADAN PENYELENGGARA JAMINAN SOSIAL KESEHATAN",
    "BADAN PENYELENGGARA JAMINAN SOSIAL KETENAGAKERJAAN",
    "DIREKTORAT JENDERAL IMIGRASI",
    "KEMENTERIAN DALAM NEGERI",
    "KEMENTERIAN ENERGI DAN SUMBER DAYA MINERAL (ESDM)",
    "KEMENTERIAN PENDIDIKAN DAN KEBUDAYAAN",
    "KEMENTERIAN SOSIAL",
    "KEPOLISIAN NEGARA REPUBLIK INDONESIA",
    "OTORITAS JASA KEUANGAN",
    "PT PLN (PERSERO)",
)


def row(code, name, level="pusat", aliases="", replaced_by=""):
    return {
        "code": code,
        "name": name,
        "level": level,
        "aliases": aliases,
        "replaced_by": replaced_by,
    }


def write_catalogue(path: Path, rows: list[dict]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=["code", "name", "level", "aliases", "replaced_by"])
        writer.writeheader()
        writer.writerows(rows)
    return path


REORG = [
    row(
        "KOMINFO",
        "KEMENTERIAN KOMUNIKASI DAN INFORMATIKA",
        aliases="KEMKOMINFO",
        replaced_by="KOMDIGI",
    ),
    row("KOMDIGI", "KEMENTERIAN KOMUNIKASI DAN DIGITAL"),
    row("OLD-A", "BADAN LAMA A", replaced_by="MID"),
    row("MID", "BADAN TENGAH", replaced_by="NEW"),
    row("NEW", "BADAN BARU", aliases="BB|Badan  Baru RI"),
    row("PLN", "PT PLN (PERSERO)", aliases="PLN|PT PLN"),
]


def test_spellings_map_to_codes_ignoring_case_and_whitespace():
    catalogue = parse_catalogue(REORG)
    assert catalogue.code_of("pt pln (persero)") == "PLN"
    assert catalogue.code_of("  PT   PLN ") == "PLN"
    assert catalogue.code_of("badan baru ri") == "NEW"
    assert catalogue.code_of("bb") == "NEW"
    assert catalogue.code_of("PERTAMINA") is None


def test_renames_and_merges_apply_transitively():
    catalogue = parse_catalogue(REORG)
    assert catalogue.code_of("KEMKOMINFO") == "KOMDIGI"
    assert catalogue.code_of("Badan Lama A") == "NEW"  # OLD-A → MID → NEW
    assert catalogue.code_of("MID") == "NEW"


def test_map_labels_keeps_and_reports_unknown_labels():
    mapping = parse_catalogue(REORG).map_labels(
        ["PT PLN (PERSERO)", "Kementerian Komunikasi dan Informatika", "DINAS X", "DINAS X", ""]
    )
    assert mapping.labels == ["PLN", "KOMDIGI", "DINAS X", "DINAS X", ""]
    assert mapping.changed == 2
    assert mapping.unknown == {"DINAS X": 2}
    assert "DINAS X (2)" in mapping.warnings()[0]


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([row("A", "ALPHA"), row("A", "ANOTHER")], "duplicate code 'A'"),
        ([row("A", "ALPHA", aliases="X"), row("B", "BETA", aliases="x")], "both A and B"),
        ([row("A", "ALPHA"), row("B", "alpha")], "both A and B"),
        ([row("A", "ALPHA", replaced_by="B"), row("B", "BETA", replaced_by="A")], "cycle"),
        ([row("A", "ALPHA", replaced_by="A")], "replaced by itself"),
        ([row("A", "ALPHA", replaced_by="Z")], "unknown code 'Z'"),
        ([row("A", "ALPHA", level="negara")], "level 'negara'"),
        ([row("A", "")], "empty name"),
    ],
)
def test_inconsistent_catalogues_are_refused_with_a_reason(rows, message):
    with pytest.raises(CatalogueError, match=message):
        parse_catalogue(rows)


def test_a_long_replacement_cycle_is_named(tmp_path):
    rows = [
        row("A", "ALPHA", replaced_by="B"),
        row("B", "BETA", replaced_by="C"),
        row("C", "GAMMA", replaced_by="A"),
    ]
    with pytest.raises(CatalogueError, match="A → B → C → A"):
        load_catalogue(write_catalogue(tmp_path / "cycle.csv", rows))


def test_load_refuses_a_file_without_the_required_columns(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("code,name\nA,ALPHA\n", encoding="utf-8")
    with pytest.raises(CatalogueError, match="missing column level"):
        load_catalogue(path)
    with pytest.raises(CatalogueError, match="not found"):
        load_catalogue(tmp_path / "absent.csv")


def test_shipped_catalogue_covers_lapor10_and_the_sample_corpus():
    catalogue = load_catalogue(CATALOGUE)
    mapping = catalogue.map_labels([*LAPOR10_AGENCIES, *AGENCIES])
    assert mapping.unknown == {}
    # the two spellings of BPJS Kesehatan (LAPOR-10, sample corpus) are one agency
    assert catalogue.code_of(LAPOR10_AGENCIES[0]) == catalogue.code_of("BPJS KESEHATAN")
    levels = {catalogue.agencies[c].level for c in set(mapping.labels)}
    assert levels == {"pusat", "kabkota"}
    assert catalogue.warnings == ()
    # the sample corpus's Bandung offices are learned as their roles
    assert catalogue.label_of("DINAS PEKERJAAN UMUM KOTA BANDUNG") == "DINAS PU"
    assert catalogue.agencies["DPU-BDG"].region == "32.73"


def test_train_with_a_catalogue_merges_a_renamed_agency_into_one_label(tmp_path, small_corpus):
    catalogue = write_catalogue(
        tmp_path / "agencies.csv",
        [
            row("PLN", "PT PLN (PERSERO)"),
            row(
                "BPJS-KES", "BADAN PENYELENGGARA JAMINAN SOSIAL KESEHATAN", aliases="BPJS KESEHATAN"
            ),
            row("IMI-OLD", "DIREKTORAT JENDERAL IMIGRASI", replaced_by="IMIGRASI"),
            row("IMIGRASI", "DIREKTORAT JENDERAL IMIGRASI DAN PEMASYARAKATAN"),
            row("POLRI", "KEPOLISIAN NEGARA REPUBLIK INDONESIA"),
        ],
    )
    # half of the immigration complaints carry the new name: one agency, two spellings
    labels = list(small_corpus.labels)
    immigration = [i for i, y in enumerate(labels) if y == "DIREKTORAT JENDERAL IMIGRASI"]
    for i in immigration[::2]:
        labels[i] = "Direktorat Jenderal Imigrasi dan Pemasyarakatan"
    data = tmp_path / "history.csv"
    with data.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "text", "agency"])
        writer.writerows(zip(small_corpus.ids, small_corpus.texts, labels, strict=True))

    out = tmp_path / "bundle"
    args = ["train", data, "--text-col", "text", "--label-col", "agency", "--id-col", "id"]
    result = CliRunner().invoke(
        app, [str(a) for a in [*args, "--out", out, "--agencies", catalogue]]
    )
    assert result.exit_code == 0, result.output
    assert "PDAM TIRTAWENING KOTA BANDUNG (30)" in result.output  # reported, kept

    manifest = read_manifest(out)
    assert manifest["labels"] == sorted(
        ["BPJS-KES", "IMIGRASI", "PDAM TIRTAWENING KOTA BANDUNG", "PLN", "POLRI"]
    )
    assert manifest["training_data"]["catalogue"]["unknown"] == {
        "PDAM TIRTAWENING KOTA BANDUNG": 30
    }


def local(code, name, level, region, role, aliases=""):
    return {**row(code, name, level, aliases), "region": region, "role": role}


def test_an_old_catalogue_with_level_daerah_loads_as_kabkota_with_a_warning(tmp_path):
    rows = [row("PLN", "PT PLN (PERSERO)"), row("DPU", "DINAS PU KOTA X", level="daerah")]
    catalogue = load_catalogue(write_catalogue(tmp_path / "old.csv", rows))
    assert catalogue.agencies["DPU"].level == "kabkota"
    assert catalogue.agencies["DPU"].region is None and catalogue.agencies["DPU"].role is None
    (warning,) = catalogue.warnings
    assert "1 agencies have level 'daerah', read as kabkota" in warning
    # without a role an old regional agency is learned as its code, as before
    assert catalogue.map_labels(["DINAS PU KOTA X"], roles=True).labels == ["DPU"]


def test_regional_offices_are_learned_as_their_role_and_national_agencies_as_their_code():
    catalogue = parse_catalogue(
        [
            row("PLN", "PT PLN (PERSERO)"),
            local("DPU-KOTA", "DINAS PU KOTA BANDUNG", "kabkota", "32.73", "dinas  pu"),
            local("DPU-OLD", "DPU LAMA", "kabkota", "", ""),
        ]
    )
    assert catalogue.agencies["DPU-KOTA"].role == "DINAS PU"  # spacing and case normalized
    mapping = catalogue.map_labels(["PT PLN (PERSERO)", "Dinas PU Kota Bandung", "X"], roles=True)
    assert mapping.labels == ["PLN", "DINAS PU", "X"]
    assert catalogue.map_labels(["Dinas PU Kota Bandung"]).labels == ["DPU-KOTA"]
    assert catalogue.labels() == {"PLN", "DINAS PU", "DPU-OLD"}
    assert catalogue.office("DINAS PU", "32.73").code == "DPU-KOTA"
    assert catalogue.office("DINAS PU", "32.04") is None


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([local("A", "ALPHA", "pusat", "", "DINAS PU")], "national \\(pusat\\) agency has no"),
        ([local("A", "ALPHA", "kabkota", "32", "DINAS PU")], "region '32' does not fit level"),
        ([local("A", "ALPHA", "provinsi", "32.73", "DINAS PU")], "'32.73' does not fit level"),
        ([local("A", "ALPHA", "kabkota", "", "DINAS PU")], "role 'DINAS PU' needs the agency's"),
        (
            [
                local("A", "ALPHA", "kabkota", "32.73", "PDAM"),
                local("B", "BETA", "kabkota", "32.73", "PDAM"),
            ],
            "A and B are both the PDAM of region 32.73",
        ),
        (
            [
                row("DUKCAPIL", "DITJEN DUKCAPIL"),
                local("B", "BETA", "kabkota", "32.73", "DUKCAPIL"),
            ],
            "role 'DUKCAPIL' is also an agency's code",
        ),
    ],
)
def test_regions_and_roles_that_do_not_fit_are_refused(rows, message):
    with pytest.raises(CatalogueError, match=message):
        parse_catalogue(rows)


def test_a_row_of_the_file_overrides_the_generated_government():
    from routing.gazetteer import load_gazetteer

    rows = [
        local(
            "PEMKOT-32.73",
            "PEMERINTAH KOTA BANDUNG (PEMKOT)",
            "kabkota",
            "32.73",
            "PEMKAB/PEMKOT",
            aliases="PEMKOT BANDUNG",
        ),
        local(
            "DPU-X", "DINAS PU X", "kabkota", "32.04", "DINAS PU", aliases="PEMDA KABUPATEN BANDUNG"
        ),
    ]
    catalogue = parse_catalogue(rows, gazetteer=load_gazetteer())
    assert catalogue.agencies["PEMKOT-32.73"].name == "PEMERINTAH KOTA BANDUNG (PEMKOT)"
    assert "PEMKOT-32.73" not in catalogue.generated
    assert "PEMKAB-32.04" in catalogue.generated
    # a spelling the file gives another agency stays that agency's
    assert catalogue.code_of("PEMDA KABUPATEN BANDUNG") == "DPU-X"
    assert catalogue.code_of("PEMKAB BANDUNG") == "PEMKAB-32.04"
    with pytest.raises(CatalogueError, match=r"region '32\.99' is not in the gazetteer"):
        parse_catalogue(
            [local("A", "ALPHA", "kabkota", "32.99", "PDAM")], gazetteer=load_gazetteer()
        )


def test_shipped_catalogue_maps_lapor10_to_national_codes_only():
    from routing.authority import load_authority

    catalogue = load_authority().catalogue
    mapping = catalogue.map_labels(LAPOR10_AGENCIES, roles=True)
    assert mapping.unknown == {}
    assert len(set(mapping.labels)) == len(LAPOR10_AGENCIES)
    assert all(not catalogue.agencies[label].local for label in mapping.labels)
