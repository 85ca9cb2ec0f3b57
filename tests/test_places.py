"""Places in complaints: the forms people write, what is not a place, and the decision.

Every sentence here is invented for the test.
"""

from __future__ import annotations

import csv
import random

import pytest

from routing import places
from routing.gazetteer import load_gazetteer
from routing.places import (
    DEFAULT_ALIASES_PATH,
    Jurisdiction,
    PlaceFinder,
    PlaceFinding,
    default_place_finder,
)


@pytest.fixture(scope="module")
def finder() -> PlaceFinder:
    return default_place_finder()


def _code(finder: PlaceFinder, text: str, location: str | None = None) -> str | None:
    found = finder.find(text, location).jurisdiction
    assert found is None or not found.ambiguous, found
    return found.code if found else None


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Jalan berlubang di Kabupaten Sleman sudah sebulan", "34.04"),
        ("lampu jalan mati di kab. sleman", "34.04"),
        ("sampah menumpuk kab sleman", "34.04"),
        ("KAB.SLEMAN banjir", "34.04"),
        ("Kota Bandung macet setiap pagi", "32.73"),
        ("pelayanan di kota bdg lambat", "32.73"),
        ("warga Jaksel mengeluh", "31.74"),
        ("rumah saya di Jakarta Selatan", "31.74"),
        ("Kota Administrasi Jakarta Timur", "31.75"),
        ("banjir di Jogja", "34"),
        ("macet di kota jogja", "34.71"),
        ("jalan rusak Tangsel", "36.74"),
        ("jalan raya Kab. Bogor rusak", "32.01"),
        ("sekolah di Jateng", "33"),
        ("bantuan prov. NTT belum cair", "53"),
        ("Pemerintah Provinsi Jawa Barat", "32"),
        ("pemprov jabar", "32"),
        ("air PDAM Kab. Kep. Seribu", "31.01"),
        ("Tolitoli", "72.04"),
        ("Toli-Toli", "72.04"),
        ("kantor di Kota Pare Pare", "73.72"),
        ("pasar di Solo", "33.72"),
        ("kantor Kota Batu", "35.79"),
        ("pelabuhan di kab PPU", "64.09"),
        ("jalan kabupaten di Kabupaten PALI rusak", "16.12"),
        ("pindah dari OKU Timur", "16.08"),
        ("antre lama di kantor cabang Cikarang", "32.16"),
        ("listrik padam di Sampit", "62.02"),
        # regency seats that are no gazetteer name (Natuna, Sikka, Rokan Hilir, Aceh Tengah)
        ("PLN di ranai sering padam", "21.03"),
        ("jalan ke bandara Maumere rusak", "53.07"),
        ("pelayanan puskesmas di Bagan Siapiapi lambat", "14.07"),
        ("air bersih di Takengon sering mati", "11.04"),
        ("macet di Siantar", "12.72"),
        ("kantor pajak di Purwokerto tutup", "33.02"),
        ("sinyal buruk di Talaud", "71.04"),
        ("jalan rusak, Pemko Tebing Tinggi diam saja", "12.76"),
        ("situs pajak.bandung.go.id tidak bisa dibuka, rumah saya di Kota Depok", "32.76"),
        # a renamed regency under its former name (now Kabupaten Toba)
        ("Kapolres Toba Samosir belum menindak laporan kami", "12.12"),
        ("jalan provinsi di Tobasa rusak", "12.12"),
        # a police or government body written onto its region
        ("pungutan liar dibiarkan, mohon ditindak POLDAJATIM", "35"),
        ("razia liar oleh poldasumut", "12"),
        ("pemkabsleman tidak menanggapi", "34.04"),
        # Kudus is the regency wherever written, but in "Roh Kudus"
        ("rekam KTP di tegal, sekarang tinggal di kudus dan minta cetak di kudus", "33.19"),
    ],
)
def test_places_are_found_as_people_write_them(finder, text, code):
    assert _code(finder, text) == code


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("jalan rusak di kec. Coblong", "32.73"),
        ("Kecamatan Cileunyi belum ada lampu", "32.04"),
        ("kecamatan cileunyi, kab bandung", "32.04"),
        ("desa Sukamaju kec. Cikalong Kab Tasikmalaya", "32.06"),
        ("desa Sukamaju, Tasikmalaya", "32.06"),
        ("kelurahan Dago kec. Coblong Kota Bandung", "32.73"),
        ("kel. Dago, Bandung", "32.73"),
        # one local marker for the other: the longest name, not a kecamatan in its first word
        ("got mampet di kel/kec Bojong Sempu", "32.01"),
        ("jalan rusak di kec. pabuaran mekar", "32.01"),
        # the office of a village's or kecamatan's head
        ("petugas kantor lurah utan panjang bilang NIK bermasalah", "31.71"),
        ("Pak Camat Coblong tidak menanggapi", "32.73"),
    ],
)
def test_a_kecamatan_or_village_resolves_to_its_regency(finder, text, code):
    found = finder.find(text).jurisdiction
    assert (found.code, found.level) == (code, "kabkota")


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("antre lama di Puskesmas Coblong", "32.73"),
        ("kantor PLN ULP Cileunyi tidak menjawab", "32.04"),
        ("guru SMPN 2 Cileunyi", "32.04"),
        ("dana BOS SLTP - 1 Cileunyi", "32.04"),
        ("SD Negeri 1 Cileunyi rusak", "32.04"),
        ("laporan ke Polres Batu", "35.79"),
        ("laporan ke Polres Bogor Kota", "32.71"),
        ("bantuan siswa probolinggo kab. belum cair", "35.13"),
        ("banjir di Malang Kabupaten sejak pagi", "35.07"),
        ("banjir di Bekasi kota", "32.75"),
        ("RSUD Sleman menolak pasien", "34.04"),
        # several words are the village's name, not a kecamatan elsewhere in their first word
        ("kota bandung, vaksin di puskesmas babakan sari kosong", "32.73"),
        ("kantor pln surabaya utara lambat", "35.78"),
        # a marker after the body: the marker's region, not a village named like the marker
        ("obat di puskesmas Kabupaten Kepahiang kosong", "17.08"),
        ("pungutan di SDN 4 Kabupaten Tabanan", "51.02"),
        ("guru SMPN 8 Kota Malang", "35.73"),
    ],
)
def test_a_public_body_named_with_its_region_names_that_place(finder, text, code):
    assert _code(finder, text) == code


@pytest.mark.parametrize(
    "text",
    [
        "KIP belum cair, sekolah: SMK Muhammadiyah Kota Cimahi",
        "smp muhammadiyah 3 sleman belum menerima dana",
        "mahasiswa Universitas Negeri Malang",
        "kuliah di Politeknik Negeri Bandung",
        "dari tanggal 1 sd 5 Maret",
        "puskesmas tidak buka",
        "SMPN 2 kami rusak",
        # a private school's own name before the town it holds
        "tunjangan guru SMK Cendekia Balikpapan belum cair",
        "NPSN TK PELANGI CERIA Kota Singkawang belum terbit",
        "laptop hilang di Pesantren Darul Falah Kendari",
    ],
)
def test_a_university_or_foundation_school_is_a_name_not_a_place(finder, text):
    assert finder.find(text) == PlaceFinding(None)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("SMK Muhammadiyah 1 Sleman, di Kota Yogyakarta", "34.71"),
        # the address after a private school's name: set off by a comma, or with its province
        ("guru SMP Taruna Bakti Cikarang Utara, Bekasi belum dibayar", "32.16"),
        ("guru di SMP Bina Insani Jember Jawa Timur", "35.09"),
        # a state school is no private name
        ("guru SMK Negeri 1 Balikpapan belum dibayar", "64.71"),
        ("SD Inpres Balikpapan rusak", "64.71"),
        ("anak saya di sekolah SMA Negeri 1 Balikpapan", "64.71"),
    ],
)
def test_a_foundation_school_does_not_hide_the_address_after_it(finder, text, code):
    assert _code(finder, text) == code


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("listrik mati di rt 02 rw 04 lagoa", "31.72"),
        ("RT.02/RW.04 Lagoa, banjir", "31.72"),
        ("rt/rw 02/04 lagoa", "31.72"),
        ("rt 02 rw 04 area parkir", None),
        ("rt 02 rw 04 tidak dapat bansos", None),
        ("tinggal di lagoa", None),
    ],
)
def test_a_village_right_after_a_neighbourhood_address_is_read(finder, text, code):
    assert _code(finder, text) == code


def test_a_common_village_name_alone_decides_nothing(finder):
    assert finder.find("dana desa Sukamaju belum cair").jurisdiction is None


def test_an_unmarked_kecamatan_counts_alone_only_when_no_other_regency_shares_the_name(finder):
    assert _code(finder, "longsor Cileunyi, Bandung") == "32.04"
    assert _code(finder, "banjir di perumahan dekat Cikampek") == "32.15"
    # Mojosari is a kecamatan in Mojokerto and a village in many regencies
    assert finder.find("jalan rusak di Mojosari").jurisdiction is None
    assert finder.find("banjir di perumahan dekat cikampek").jurisdiction is None
    assert _code(finder, "parkir liar di kebayoran lama") == "31.74"
    assert finder.find("jalan tangan-tangan jahil").jurisdiction is None
    # a kecamatan of several words is that kecamatan, though villages elsewhere share its name
    assert _code(finder, "copet di halte pasar minggu") == "31.74"
    # not where a town elsewhere has a kelurahan so named (a kecamatan in Bengkulu, a kelurahan
    # in Jakarta)
    assert finder.find("copet di halte kampung melayu").jurisdiction is None
    assert finder.find("sudah 3 kali baru dibalas").jurisdiction is None


@pytest.mark.parametrize("text", ["Mau tanya soal KTP", "Selesai tapi belum cair", "Juli 2017"])
def test_a_kecamatan_named_like_a_common_word_needs_a_marker(finder, text):
    assert finder.find(text).jurisdiction is None


@pytest.mark.parametrize(
    "text",
    [
        "Jl. Sudirman berlubang",
        "jalan Diponegoro macet",
        "Jl Raya Bogor km 30 banjir",
        "lampu Jl. Magelang mati",
        "kota ini kotor sekali",
        "kota kami kurang taman",
        "desa kami belum dapat listrik",
        "Pak Bima tidak datang",
        "Bapak Kendal menolak",
        "bekerja di Kuala Lumpur Malaysia",
        "kapal dari Papua Nugini",
        "pekerja di Timor Leste",
        "Dinas Pendidikan tidak menjawab",
        "BPJS Kesehatan menolak klaim",
        "laporan ke Polda Metro Jaya",
        "laporan ke POLDAMETRO jaya",  # no ordinary word after a glued body
        "situs https://dukcapil.sleman.go.id/layanan tidak bisa dibuka",
        "laman pajak.bandung.go.id error",
        "kirim ke admin@kotabatu.com atau www.jogja.info",
        "peserta BPJS PPU tidak bisa klaim",
        "antrean apotek RS Siloam Purwakarta lama sekali",
        "struk belanja di Transmart Pondok Gede salah harga",
        "harga Semen Padang naik",
        "kebaktian bersama Roh Kudus",
        "hari Sabtu kantor lurah tutup",  # a word after an office's head, not a village
        # a bank's branch is named after where it stands: a company's name
        "klaim JHT lewat Bank BJB Cabang Tanah Baru Depok belum cair",
        "rekening saya di BRI Unit Cikarang diblokir",
        "batu besar menutup jalan",
        "batang pohon tumbang",
        "pasar baru di tengah kota",
        "rumah di puncak bukit",
        "",
        "   ",
    ],
)
def test_no_jurisdiction_from_streets_people_foreign_places_or_ordinary_words(finder, text):
    assert finder.find(text) == PlaceFinding(None)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        # a full stop after a spoken honorific ends the sentence: the town is no one's name
        ("air keruh sudah seminggu pak.Kendal, Jateng", "33.24"),
        ("tolong dicek bu. Kendal sering banjir", "33.24"),
        ("sudah lapor ke pak, Kendal belum ditanggapi", "33.24"),
        # an abbreviated one is written with its stop: still a person
        ("Bpk. Kendal menolak", None),
        ("sdr.Bima belum hadir", None),
    ],
)
def test_an_honorific_names_no_one_past_a_sentence_end(finder, text, code):
    assert _code(finder, text) == code


@pytest.mark.parametrize(
    ("text", "code"),
    [
        # "sedang" (now, in progress) and "bisa" (can) are villages too: not right beside Bali
        ("rumah saya di Gianyar, Bali, sedang rusak", "51.04"),
        ("Denpasar bali sedang banjir", "51.71"),
        ("sudah lapor ke PLN. Namun belum ada tindakan", None),
        ("kantor KUA. Bisa dibantu?", None),
    ],
)
def test_a_function_word_is_no_village(finder, text, code):
    assert _code(finder, text) == code


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Nama: Budi. Tempat/Tanggal Lahir: Klaten, 3 Mei 1990. Kartu BPJS saya diblokir", None),
        ("TTL Surabaya 1 Juni 1988, nomor peserta saya tidak aktif", None),
        ("Nama: Budi, Tanggal lahir Surabaya 1 Juni 1988, kartu belum jadi", None),
        ("nama Budi tgl lahir Klaten 3-5-1990 peserta BPJS", None),
        ("kantor pusat bank itu di Jakarta tidak membalas surat kami", None),
        ("call center Jakarta hanya menyuruh menunggu", None),
        ("uang tiket pesawat ke Medan belum dikembalikan maskapai", None),
        ("TTL: Klaten, 1 Mei 1990. Alamat: Kabupaten Sleman, jalan desa rusak", "34.04"),
        ("cabang Kota Depok menolak, kantor pusat di Jakarta diam saja", "32.76"),
        ("bus ugal-ugalan di tol arah Jakarta sore tadi", None),
        ("sudah mengadu ke OJK dan LBH Jakarta, belum ada tindakan", None),
        ("bus ugal-ugalan di Kota Bogor arah Jakarta", "32.71"),
    ],
)
def test_a_birthplace_or_a_head_office_is_outside_the_matter(finder, text, code):
    assert _code(finder, text) == code


def test_a_detached_possessive_is_no_village(finder):
    # "kelurahan nya" is "its kelurahan", not the village Nya (Aceh Besar)
    text = "bantuan di Jakarta Selatan belum cair, dari kelurahan nya tidak bisa"
    assert _code(finder, text) == "31.74"
    assert _code(finder, "dari kelurahan nya tidak bisa") is None


def test_a_chains_branch_name_hides_only_its_own_place(finder):
    assert _code(finder, "kasir Indomaret Cileunyi kasar, rumah saya di Kota Depok") == "32.76"


def test_a_local_name_gives_way_to_the_town_its_address_names(finder):
    # Coblong is a kecamatan of Kota Bandung only: an address that names Surabaya right
    # after it means a namesake neighbourhood there
    text = "saluran tersumbat di kecamatan Coblong RT 02 RW 05 gang Mawar, Kota Surabaya"
    assert _code(finder, text) == "35.78"
    assert _code(finder, "saluran tersumbat di kecamatan Coblong, Kota Bandung") == "32.73"
    # a move names two places: the kecamatan is kept (and, named deeper, holds the tie)
    assert _code(finder, "pindah dari kecamatan Coblong ke Kota Surabaya") == "32.73"


def test_a_street_named_after_a_town_is_not_the_town_but_the_address_city_is(finder):
    assert _code(finder, "Jl. Raya Bogor, Kota Depok") == "32.76"
    assert _code(finder, "Jl. Pemuda Kota Semarang") == "33.74"


def test_an_unmarked_village_is_not_narrowed_by_another_village(finder):
    # Harapanjaya is a village in Kabupaten Bogor and elsewhere, Dago one in Kota Bandung and
    # Kabupaten Bogor: only a regency/city or province beside it may pick its regency
    assert _code(finder, "Rumah di Harapanjaya, Kelurahan Dago, Kecamatan Coblong") == "32.73"


def test_bare_bandung_is_ambiguous_with_both_candidates(finder):
    found = finder.find("macet parah di Bandung").jurisdiction
    assert found == Jurisdiction(
        code="32",
        name="JAWA BARAT",
        level="provinsi",
        source="text",
        evidence="Bandung",
        candidates=("32.04", "32.73"),
    )
    assert found.ambiguous
    assert found.to_dict()["candidates"] == ["32.04", "32.73"]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Bandung, kec. Coblong", "32.73"),
        ("di Bandung, kecamatan Cileunyi", "32.04"),
        ("Kota Bandung, tinggal di Bandung", "32.73"),
        ("kab bdg", "32.04"),
    ],
)
def test_bare_bandung_is_decided_by_context(finder, text, code):
    assert _code(finder, text) == code


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("listrik padam di semarang barat sejak sore", "33.74"),
        ("Banjir di Bogor Tengah", "32.71"),
        ("kantor camat Jambi Selatan tutup", "15.71"),
    ],
)
def test_a_kecamatan_named_after_its_city_decides_the_city(finder, text, code):
    assert _code(finder, text) == code


def test_a_name_that_is_both_province_and_city_alone_is_the_province(finder):
    assert _code(finder, "Jambi") == "15"
    assert _code(finder, "kota jambi") == "15.71"
    assert _code(finder, "Yogyakarta") == "34"
    assert _code(finder, "kota Yogyakarta") == "34.71"
    assert _code(finder, "kabupaten Jambi") == "15.71"  # no such regency: the city is meant


def test_the_most_specific_place_consistent_with_the_others_wins(finder):
    assert _code(finder, "Kabupaten Sleman, Daerah Istimewa Yogyakarta") == "34.04"
    assert _code(finder, "Jateng, Kota Semarang") == "33.74"
    assert _code(finder, "Kab Bogor dekat Kab Bogor arah Kota Depok") == "32.01"


def test_function_words_are_never_villages(finder):
    assert _code(finder, "pindah dari Kota Bandung") == "32.73"
    assert finder.find("antre di kantor kecamatan yang baru dibangun").jurisdiction is None
    # a kind word in lower case after a local marker: the office of a region, no kecamatan
    assert finder.find("petugas kecamatan kota itu menolak berkas saya").jurisdiction is None
    assert _code(finder, "kantor Kecamatan Kota, Kota Kediri") == "35.71"


def test_of_places_of_one_province_named_as_often_the_deepest_named_wins(finder):
    assert _code(finder, "KTP saya Kota Madiun, rumah saya di Kecamatan Wlingi") == "35.05"
    assert _code(finder, "kantor di Kota Madiun, rumah di Kecamatan Wlingi, Kabupaten Blitar") == (
        "35.05"
    )
    # a kecamatan before a village
    text = "jalan rusak dari Desa Togogan sampai Kecamatan Ngunut, Jawa Timur"
    assert _code(finder, text) == "35.04"
    # failing a kecamatan, the one named with its kind
    assert _code(finder, "sudah lapor ke Kabupaten Garut, lalu diminta ke Depok") == "32.05"
    assert finder.find("sudah lapor ke Garut, lalu diminta ke Depok").jurisdiction.ambiguous
    # in different provinces too, the one whose kecamatan or village is named
    assert _code(finder, "KTP saya Kota Madiun, rumah saya di Kecamatan Coblong") == "32.73"
    assert _code(finder, "antre di kelurahan Paninggilan, padahal KTP saya Jakarta Selatan") == (
        "36.71"
    )
    # nor by a public body named like a village of another province
    found = finder.find("antrean Puskesmas Kopo lama, saya warga Kota Bandung").jurisdiction
    assert found.ambiguous and "32.73" in found.candidates
    # but not the one named with its kind: a move goes either way
    found = finder.find("surat pindah dari Garut ke Kota Madiun").jurisdiction
    assert found.candidates == ("32.05", "35.77")


def test_places_that_disagree_leave_the_finding_ambiguous(finder):
    found = finder.find("pindah dari Kota Bandung ke Jawa Tengah").jurisdiction
    assert found.ambiguous
    assert found.candidates == ("32.73", "33")
    assert found.code is None
    assert finder.find("Jabar atau Jatim").jurisdiction.candidates == ("32", "35")


def test_evidence_is_the_words_as_written(finder):
    found = finder.find("Rumah saya di KEC. CILEUNYI, Kab. Bandung.").jurisdiction
    assert found.evidence == "KEC. CILEUNYI; Kab. Bandung"


@pytest.mark.parametrize("location", ["32.73", "3273", "32.73.02", "Kota Bandung", "kota bdg"])
def test_a_location_given_as_code_or_text_is_the_jurisdiction(finder, location):
    found = finder.find("jalan rusak parah", location)
    assert found.jurisdiction.code == "32.73"
    assert found.jurisdiction.source == "location"
    assert found.jurisdiction.evidence == location
    assert found.conflict is None


def test_the_location_wins_over_a_text_that_contradicts_it(finder):
    found = finder.find("jalan di Kota Surabaya rusak", "32.73")
    assert found.jurisdiction.code == "32.73"
    assert found.jurisdiction.source == "location"
    assert found.conflict.code == "35.78"
    assert found.conflict.source == "text"


def test_a_text_consistent_with_the_location_is_no_conflict(finder):
    assert finder.find("di Jawa Barat", "32.73").conflict is None
    assert finder.find("Kota Bandung", "32.73").jurisdiction.source == "location"


def test_a_text_inside_the_location_makes_it_more_specific(finder):
    found = finder.find("jalan rusak di Kota Bandung", "Jawa Barat")
    assert found == PlaceFinding(finder.find("jalan rusak di Kota Bandung").jurisdiction)
    assert finder.find("kec. Cileunyi", "Bandung").jurisdiction.code == "32.04"


def test_an_unknown_location_leaves_the_text_to_decide(finder):
    assert finder.find("Jateng", "99.99").jurisdiction.source == "text"
    assert finder.find("Jateng", "tidak tahu").jurisdiction.code == "33"
    assert finder.find("tidak ada tempat", "  ").jurisdiction is None


def test_find_batch_pairs_texts_with_locations(finder):
    found = finder.find_batch(["Kota Bandung", "Jateng", "tanpa tempat"], [None, "35", None])
    assert [f.jurisdiction and f.jurisdiction.code for f in found] == ["32.73", "35", None]
    assert found[1].conflict.code == "33"
    assert finder.find_batch(["Jaksel"]) == [finder.find("Jaksel")]
    with pytest.raises(ValueError):
        finder.find_batch(["a", "b"], [None])


def test_to_dict_carries_candidates_only_when_ambiguous(finder):
    decided = finder.find("Kota Bandung").jurisdiction.to_dict()
    assert decided == {
        "code": "32.73",
        "name": "KOTA BANDUNG",
        "level": "kabkota",
        "source": "text",
        "evidence": "Kota Bandung",
    }


def test_a_hostile_text_is_read_in_full(finder):
    rng = random.Random(17)
    words = ["kab.", "desa", "kec", "Jl.", "jalan", "Rusak", "pak", "ini", ",", "x" * 40]
    noise = " ".join(rng.choice(words) for _ in range(5000))[:19_980]
    assert finder.find(noise).jurisdiction is None
    assert _code(finder, noise + " Kota Surabaya") == "35.78"
    assert _code(finder, "Kota Surabaya " + noise) == "35.78"
    assert finder.find("kab " * 5000).jurisdiction is None
    assert finder.find("a" * 20_000).jurisdiction is None
    assert finder.find("Bandung " * 2500).jurisdiction.candidates == ("32.04", "32.73")


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Grt listrik padam sejak subuh", "32.05"),
        ("kantor pajak bjn tutup", "35.22"),
        # alone a consonant abbreviation of a kab and a kota is ambiguous; a kecamatan decides
        ("warga trawas mjk belum dapat bantuan", "35.16"),
    ],
)
def test_consonant_abbreviations_of_regencies_are_places(finder, text, code):
    assert _code(finder, text) == code


def test_an_abbreviation_that_is_also_a_word_counts_only_with_its_marker(finder):
    assert _code(finder, "jalan rusak di Kab. KLU") == "52.08"
    assert finder.find("klu sudah bayar kenapa belum aktif").jurisdiction is None


def test_every_alias_names_a_region_of_the_gazetteer():
    gazetteer = load_gazetteer()
    with DEFAULT_ALIASES_PATH.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows
    for row in rows:
        region = gazetteer.get(row["code"])
        assert region is not None and region.level in ("provinsi", "kabkota"), row


def test_an_alias_file_with_an_unknown_code_is_refused(tmp_path):
    aliases = tmp_path / "aliases.csv"
    aliases.write_text("alias,code\nnegeri antah,99.99\n", encoding="utf-8")
    with pytest.raises(ValueError, match="negeri antah"):
        PlaceFinder(aliases=aliases).find("Jateng")


def test_an_edited_alias_file_is_used(tmp_path):
    aliases = tmp_path / "aliases.csv"
    aliases.write_text("alias,code\nkota kembang,32.73\n", encoding="utf-8")
    finder = PlaceFinder(load_gazetteer(), aliases)
    assert _code(finder, "tinggal di kota kembang") == "32.73"
    assert finder.find("Jaksel").jurisdiction is None


@pytest.mark.parametrize(
    ("text", "code"),
    [
        # a village and its kecamatan, however written
        ("KTP hilang di ulujami pesanggrahan", "31.74"),
        # two villages of one kecamatan, the first after its marker
        ("blangko habis di Kelurahan Pekayon Kalisari", "31.75"),
        # a village and the kecamatan named like a city of the same province
        ("kapal nelayan di Bagan Asahan, Tanjung Balai", "12.09"),
    ],
)
def test_neighbouring_names_of_one_kecamatan_decide_its_regency(finder, text, code):
    assert _code(finder, text) == code


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("lampu jalan mati di kampung melayu, jakarta", "31.75"),
        ("got mampet di tegalsari surabaya", "35.78"),
        # not right beside it: only the province
        ("lampu di kampung melayu sudah mati seminggu di jakarta", "31"),
    ],
)
def test_a_lower_case_village_right_beside_its_region_decides(finder, text, code):
    assert _code(finder, text) == code


@pytest.mark.parametrize("text", ["data data tidak lengkap", "warga ulujami mengeluh"])
def test_a_lower_case_village_name_alone_or_repeated_is_no_place(finder, text):
    assert finder.find(text).jurisdiction is None


def test_a_village_is_narrowed_by_the_regencies_named_before_the_provinces(finder):
    text = "tanah di Desa Cibitung, Kabupaten Bandung Barat, Jawa Barat; kantor di Kota Bandung"
    assert _code(finder, text) == "32.17"


def test_a_village_written_as_a_name_decides_a_bare_regency_and_city_name(finder):
    text = "ditilang di Bandung padahal saya lewat dari arah Cicadas sesuai rambu"
    assert _code(finder, text) == "32.73"
    # not when another regency/city is named: it may as well be a person or a word
    text = "ditilang di Bandung, KTP Kota Bekasi, lewat dari arah Cicadas"
    assert finder.find(text).jurisdiction.code != "32.73"


def test_a_city_named_like_an_ordinary_word_counts_beside_its_province(finder):
    assert _code(finder, "sampah di palu, sulteng") == "72.71"
    assert _code(finder, "Tebing Tinggi, Sumatera Utara") == "12.76"
    assert finder.find("palu dan paku hilang").jurisdiction is None
    # beside another regency it stays a word
    assert finder.find("batu besar di Malang").jurisdiction.candidates == ("35.07", "35.73")


def test_a_bare_name_of_a_province_a_regency_and_a_city_is_ambiguous(finder):
    found = finder.find("bantuan belum cair di Gorontalo").jurisdiction
    assert (found.code, found.candidates) == ("75", ("75.01", "75.71"))
    assert _code(finder, "Kota Gorontalo") == "75.71"
    assert _code(finder, "Provinsi Gorontalo") == "75"


def test_words_run_together_are_read_apart(finder):
    assert _code(finder, "Kec : napal putihKab: bengkulu utaraProv : bengkulu") == "17.03"
    assert finder.find("aplikasi UangMe dan lainnya").jurisdiction is None


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("pelayanan satlantas kabanjahe lambat", "12.06"),
        ("oknum Polres Metro Jakarta Pusat", "31.71"),
        ("razia polantas Kota Tasikmalaya", "32.78"),
        ("pungutan liar di Pos Polisi Cengkareng", "31.73"),
    ],
)
def test_police_units_are_public_bodies_named_with_their_region(finder, text, code):
    assert _code(finder, text) == code


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("ojek liar mangkal di depan Stasiun Klender", "31.75"),
        ("calo tiket di terminal pulo gadung", "31.75"),
        ("antrean kapal di Pelabuhan Tanjung Perak", "35.78"),
    ],
)
def test_stations_and_ports_are_named_after_their_place(finder, text, code):
    assert _code(finder, text) == code


@pytest.mark.parametrize("text", ["pln sering padam", "puskesmas nya tutup", "PLN mau naik"])
def test_an_ordinary_word_after_a_public_body_is_no_village(finder, text):
    assert finder.find(text).jurisdiction is None


def test_a_street_name_ends_at_a_city_alias_a_kecamatan_named_after_its_city_or_a_town(finder):
    assert _code(finder, "U turn di Jalan Tendean Jaksel") == "31.74"
    assert finder.find("Jl. Raya Jakarta Bogor macet").jurisdiction is None
    assert _code(finder, "kos di Gang Melati Indah Semarang Barat bocor") == "33.74"
    # or at a town's name after the street's own name, unless the street is named after a town
    assert _code(finder, "klinik di jalan Kenanga Surabaya tutup") == "35.78"
    assert finder.find("Jl. Raya Solo Sragen macet").jurisdiction is None


def test_the_name_of_a_holder_is_no_place(finder):
    assert finder.find("dana PIP atas nama Rina Dewi lingga belum cair").jurisdiction is None
    assert _code(finder, "rekening atas nama Budi Santoso di Kota Kupang diblokir") == "53.71"
    assert _code(finder, "surat atas nama Kabupaten Sleman") == "34.04"


def test_a_marker_before_a_possessive_still_names_the_place(finder):
    assert _code(finder, "sekolah di kota kami semarang penuh") == "33.74"
    assert finder.find("desa saya sudah lama banjir").jurisdiction is None
    # a village after a possessive only when written as a name
    assert finder.find("di desa saya dana bantuan belum cair").jurisdiction is None


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("kemarin saya dijakarta selatan antre lama", "31.74"),
        ("perpanjangan sim dilampung mahal", "18"),
        ("lampu mati didaerah Cempaka Putih Barat", "31.71"),
        ("dibantu petugas dipindah ke loket lain", None),
    ],
)
def test_di_written_onto_a_place_is_read_apart(finder, text, code):
    assert _code(finder, text) == code


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("banjir di daerah cileungsi", "32.01"),
        # Manyaran is a kecamatan elsewhere and a village of Kota Semarang
        ("rumah di daerah Manyaran, Kota Semarang", "33.74"),
        # alone, the kecamatan (the guideline: a unique kecamatan decides though villages
        # elsewhere share its name); the town's kelurahan only where the town is named
        ("rumah di daerah Manyaran", "33.12"),
        ("banjir di daerah Peterongan tiap hujan", "35.17"),
        ("jalan rusak di daerah Peterongan, Semarang", "33.74"),
        ("rumah di daerah terpencil", None),
        ("banjir di daerah Cempaka Putih Barat", "31.71"),
        # a kecamatan written as a name, though rural villages elsewhere share its name
        ("banyak pencurian di wilayah Cipondoh", "36.71"),
        # a village of one word is as often a neighbourhood named like it
        ("listrik padam di daerah tomang", None),
    ],
)
def test_an_area_word_reads_a_unique_kecamatan_or_long_village_or_a_place_others_narrow(
    finder, text, code
):
    assert _code(finder, text) == code


@pytest.mark.parametrize(
    ("text", "code"),
    [
        # "Tj." is written for "Tanjung" inside names (Kelurahan Tanjung Priok, Jakarta Utara)
        ("banjir rob di kel. Tj. Priok", "31.72"),
        # a list's number run onto a province ("Sumut2.") is read apart from it
        ("1. jalan rusak di Tebing Tinggi Sumut2. lampu mati", "12.76"),
    ],
)
def test_abbreviated_and_numbered_words_are_read_as_names(finder, text, code):
    assert _code(finder, text) == code


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("lampu jalan mati di kedoya utara sejak kemarin", "31.73"),
        ("Jalan rusak di Kelapa Gading Barat belum diperbaiki", "31.72"),
        # no compass word: several ordinary words that happen to name a village elsewhere
        ("mohon perhatian sumber daya manusia di kantor ini", None),
        ("angin kencang dari arah barat daya", None),
    ],
)
def test_a_village_of_several_words_with_a_compass_word_no_other_regency_has_counts(
    finder, text, code
):
    assert _code(finder, text) == code


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("antre paspor di kantor imigrasi JKT Selatan", "31.74"),
        ("jalan rusak di tanggerang selatan", "36.74"),
        ("macet setiap pagi di kota tanggerang", "36.71"),
    ],
)
def test_common_written_forms_of_city_names_are_aliases(finder, text, code):
    assert _code(finder, text) == code


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("jalan rusak di kab. Pasruan", "35.14"),  # a letter dropped
        ("antre KTP di kota sidaorjo", "35.15"),  # a letter added
        ("banjir di kabupaten Selman", "34.04"),  # a letter dropped
        ("sampah di kota Smearang", "33.74"),  # two letters swapped
        ("Pasruan banjir", None),  # no marker, no misspelt name
        ("kecamatan selalu tutup", None),  # a kecamatan's only when written as a name
        ("kota kami kurang taman", None),  # a short word in lower case is a word
    ],
)
def test_a_name_after_its_marker_is_read_with_one_letter_wrong(finder, text, code):
    assert _code(finder, text) == code


class _EveryWord(frozenset):
    def __contains__(self, word: object) -> bool:
        return True


def _sentences_of_this_module() -> list[str]:
    texts = []
    for test in list(globals().values()):
        for mark in getattr(test, "pytestmark", []):
            if mark.name == "parametrize":
                texts += [v[0] if isinstance(v, tuple) else v for v in mark.args[1]]
    return [t for t in texts if isinstance(t, str)]


def test_passing_over_words_that_start_no_rule_changes_no_finding(finder, monkeypatch):
    """The finder goes straight to the name lookup at words outside `_RULE_WORDS`; a rule
    that starts at another word must be listed there, or its findings would silently go."""
    texts = _sentences_of_this_module()
    assert len(texts) > 100
    fast = [finder.find(text) for text in texts]
    monkeypatch.setattr(places, "_RULE_WORDS", _EveryWord())
    assert [finder.find(text) for text in texts] == fast


@pytest.mark.parametrize(
    ("text", "code"),
    [
        # a function word after a local marker names no kecamatan or village
        ("sudah ke kantor kecamatan namun belum ada jawaban", None),
        ("sudah ke kantor kecamatan Wonoayu namun belum ada jawaban", "35.15"),
        # a form's label: the colon does not end a kecamatan's name
        ("Data pemohon. Kecamatan : Wonoayu. Pengajuan belum diproses", "35.15"),
        ("Kecamatan: Wonoayu, pengajuan belum diproses", "35.15"),
    ],
)
def test_a_local_marker_reads_form_labels_but_not_function_words(finder, text, code):
    assert _code(finder, text) == code


def test_the_shared_part_of_directional_village_names_is_their_town(finder):
    # the gazetteer has Utan Kayu Utara and Utan Kayu Selatan (Jakarta Timur), no Utan Kayu;
    # "Utan" alone is a kecamatan in Sumbawa
    assert _code(finder, "jalan rusak di kelurahan Utan Kayu sudah sebulan") == "31.75"


@pytest.mark.parametrize(
    "text",
    [
        "saya meminjam di aplikasi Bali Dana, data saya disebar",
        "pinjaman di nias cash menagih dengan kasar",
    ],
)
def test_an_online_lenders_app_named_after_a_place_is_no_place(finder, text):
    assert _code(finder, text) is None
