"""Synthetic complaints about regional offices across many regencies and cities.

`benchmarks/jurisdiction.py` trains routers on the complaints of some regencies and tests them
on regencies they never saw, to show what routing by role × jurisdiction adds to a flat router.
For that figure to mean something the places must be written the way a generator that knows
nothing of the place finder would write them: this module reads only the gazetteer's official
names (`routing.gazetteer`), never ``data/places/`` or `routing.places`, and writes each place
in one of several forms (`FORMS`): the official name, lower case, ``Kab.`` abbreviations, a
kecamatan with its regency, a village with its kecamatan, a shortening it invents (``kab.
slmn``)…

Each complaint is about one regional office of a role (``DINAS PU``, ``DINAS PENDIDIKAN``,
``DISDUKCAPIL``…) at the level the law gives the topic (a senior high school is the province's,
a primary school the regency's), or about a national agency (with or without a place). Only
``random.Random(seed)`` is used, so the same arguments give the same complaints everywhere.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, NamedTuple

from routing.gazetteer import Gazetteer, Region

__all__ = [
    "FORMS",
    "NATIONAL_TOPICS",
    "ROLE_TOPICS",
    "PlaceWriter",
    "RegionalComplaint",
    "Topic",
    "generate",
    "office_code",
    "pick_regions",
]

Level = Literal["pusat", "provinsi", "kabkota"]


class Topic(NamedTuple):
    """A complaint template and the level of government that handles it; a national topic of
    a regional role names the national `agency` that takes it."""

    level: Level
    text: str
    agency: str | None = None


# The roles of data/agencies.csv, with topics whose level follows data/authority.csv's law
# (secondary schools and provincial roads: the province; national roads: the ministry).
ROLE_TOPICS: dict[str, tuple[Topic, ...]] = {
    "DINAS PU": (
        Topic("kabkota", "Jalan di {tempat} rusak parah dan berlubang, banyak pengendara jatuh."),
        Topic("kabkota", "Drainase di {tempat} mampet, setiap hujan air meluap ke rumah warga."),
        Topic("kabkota", "Jembatan kecil di {tempat} retak dan mulai ambles."),
        Topic("kabkota", "Proyek perbaikan jalan di {tempat} terbengkalai, material menumpuk."),
        Topic("kabkota", "Gorong-gorong di {tempat} ambruk sehingga badan jalan amblas."),
        Topic("kabkota", "Aspal jalan lingkungan di {tempat} baru diperbaiki sudah mengelupas."),
        Topic("provinsi", "Jalan provinsi yang melintasi {tempat} rusak dan berlubang dalam."),
        Topic("pusat", "Jalan nasional di {tempat} berlubang besar, rawan kecelakaan.", "KEMENPU"),
    ),
    "DINAS PENDIDIKAN": (
        Topic("kabkota", "Ada pungutan uang bangunan di SDN {nomor} {tempat}."),
        Topic("kabkota", "Anak saya tidak diterima PPDB zonasi di SMPN {nomor} {tempat}."),
        Topic("kabkota", "Gedung SD negeri di {tempat} rusak, atap kelas bocor."),
        Topic("kabkota", "Guru honorer SMP negeri di {tempat} belum menerima honor."),
        Topic("provinsi", "Ijazah anak saya ditahan SMAN {nomor} {tempat} karena tunggakan SPP."),
        Topic("provinsi", "Ada dugaan jual beli kursi PPDB SMA negeri di {tempat}."),
        Topic("provinsi", "SMK negeri di {tempat} mewajibkan membeli seragam dengan harga mahal."),
    ),
    "DINAS KESEHATAN": (
        Topic("kabkota", "Pelayanan puskesmas di {tempat} sangat lambat, dokter sering telat."),
        Topic("kabkota", "Sudah banyak warga {tempat} terkena DBD, mohon segera fogging."),
        Topic("kabkota", "Vaksin imunisasi anak di puskesmas {tempat} kosong berbulan-bulan."),
        Topic("kabkota", "Obat di apotek puskesmas {tempat} sering kosong."),
        Topic("kabkota", "Posyandu di {tempat} tidak aktif padahal kasus stunting tinggi."),
    ),
    "PDAM": (
        Topic("kabkota", "Air PDAM di {tempat} mati sudah berhari-hari."),
        Topic("kabkota", "Air PDAM yang mengalir di {tempat} keruh dan berbau."),
        Topic("kabkota", "Tagihan air PDAM di {tempat} naik padahal pemakaian normal."),
        Topic("kabkota", "Pipa PDAM bocor di {tempat}, air terbuang percuma."),
        Topic("kabkota", "Sambungan baru PDAM di {tempat} sudah dibayar tapi belum dipasang."),
    ),
    "DISDUKCAPIL": (
        Topic("kabkota", "E-KTP saya belum jadi di Disdukcapil {tempat}, katanya blangko habis."),
        Topic("kabkota", "Perekaman e-KTP di Disdukcapil {tempat} antre panjang dan offline."),
        Topic("kabkota", "Pengurusan KK baru di {tempat} tidak selesai-selesai."),
        Topic("kabkota", "Akta kelahiran anak saya di {tempat} salah nama, perbaikan dipersulit."),
        Topic("kabkota", "Pindah domisili ke {tempat} sudah diajukan tapi KK belum berubah."),
    ),
    "DINAS PERHUBUNGAN": (
        Topic("kabkota", "Parkir liar di {tempat} bikin macet dan juru parkir memeras."),
        Topic("kabkota", "Lampu lalu lintas di perempatan {tempat} mati, lalu lintas semrawut."),
        Topic("kabkota", "Angkot di {tempat} sering ngetem sembarangan dan bikin macet."),
        Topic("kabkota", "Uji KIR kendaraan di {tempat} dipersulit kecuali bayar lebih."),
        Topic("kabkota", "Rambu lalu lintas di {tempat} tertutup pohon dan tidak terlihat."),
    ),
    "DINAS LINGKUNGAN HIDUP": (
        Topic("kabkota", "Sampah di TPS {tempat} sudah seminggu tidak diangkut, baunya busuk."),
        Topic("kabkota", "Truk sampah tidak pernah datang ke {tempat}, warga membakar sampah."),
        Topic("kabkota", "Pabrik di {tempat} membuang limbah ke sungai, airnya hitam."),
        Topic("kabkota", "Pembuangan sampah liar di pinggir jalan {tempat} dibiarkan."),
        Topic("kabkota", "Pohon besar di taman kota {tempat} rapuh dan hampir tumbang."),
    ),
}

# National agencies' complaints (codes of data/agencies.csv); `{tempat}` is optional there.
NATIONAL_TOPICS: dict[str, tuple[str, ...]] = {
    "PLN": (
        "Listrik di {tempat} padam sejak kemarin dan belum menyala.",
        "Token listrik yang saya beli tidak masuk ke meteran, saldo sudah terpotong.",
        "Tagihan listrik bulan ini membengkak padahal pemakaian biasa.",
        "Tiang listrik di {tempat} miring dan kabelnya menjuntai rendah.",
    ),
    "BPJS-KES": (
        "Kartu BPJS Kesehatan saya dinyatakan tidak aktif saat berobat di {tempat}.",
        "Iuran BPJS Kesehatan sudah dibayar tapi di Mobile JKN masih menunggak.",
        "Pasien JKN disuruh membeli obat sendiri di rumah sakit.",
    ),
    "KEMENSOS": (
        "Bansos PKH keluarga saya di {tempat} belum cair padahal terdaftar di DTKS.",
        "Saldo BPNT di kartu KKS saya kosong sudah tiga bulan.",
        "Pembagian BLT di {tempat} tidak tepat sasaran.",
    ),
    "POLRI": (
        "Pembuatan SIM di Satpas {tempat} lama dan ada calo menawarkan jalur cepat.",
        "Laporan polisi saya tentang penipuan online tidak ada perkembangan.",
        "Motor saya dicuri di {tempat}, sudah lapor polsek belum ada tindak lanjut.",
    ),
    "IMIGRASI": (
        "Pembuatan paspor di Kantor Imigrasi {tempat} sangat lama.",
        "Antrean online paspor di aplikasi M-Paspor selalu penuh.",
        "Paspor saya hilang di luar negeri, bagaimana prosedur penggantiannya?",
    ),
    "OJK": (
        "Saya diteror pinjol, debt collector menyebarkan data saya ke semua kontak.",
        "Debt collector leasing mau menarik motor saya secara paksa di {tempat}.",
        "Saldo rekening bank saya berkurang tanpa transaksi.",
    ),
}

GREETINGS = ("", "", "Selamat pagi.", "Yth. Admin LAPOR,", "Mohon maaf,", "Assalamualaikum.")
CLOSINGS = ("", "", "Mohon ditindaklanjuti.", "Terima kasih.", "Tolong segera ditangani.")

FormName = str
Mention = tuple[FormName, str]


@dataclass(frozen=True)
class RegionalComplaint:
    """One synthetic complaint and the office that should take it."""

    text: str
    role: str | None  # the regional office's role; None for a national agency
    agency: str | None  # the national agency's code; None for a regional office
    region: str | None  # the office's region: a province ("34") or regency/city ("34.04")
    place: str | None  # the regency/city the complaint is about; None when it names none
    mention: str  # the place as written ("" when none)
    form: FormName  # how it was written (one of FORMS; "" when none)


def office_code(role: str, region: str) -> str:
    """The catalogue code of the office of `role` in `region`: ``<ROLE>-<region>``."""
    return f"{role}-{region}"


def _title(name: str) -> str:
    return name.title()


def _kind_and_bare(region: Region) -> tuple[str, str]:
    kind, _, bare = region.name.partition(" ")
    return kind, bare


def _shortened(bare: str) -> str:
    """An invented shortening: each word's first letter and its consonants (``slmn``)."""
    return " ".join(
        w[0] + "".join(c for c in w[1:] if c not in "aeiou") for w in bare.lower().split()
    )


class PlaceWriter:
    """Writes a regency/city the ways people do (`FORMS`), from the gazetteer's names alone."""

    def __init__(self, gazetteer: Gazetteer) -> None:
        self.gazetteer = gazetteer
        self.children: dict[str, list[Region]] = defaultdict(list)
        for level in ("kecamatan", "desa"):
            for region in gazetteer.regions(level):
                self.children[region.code.rsplit(".", 1)[0]].append(region)
        bare = [_kind_and_bare(r)[1] for r in gazetteer.kabkota()]
        bare += [p.name for p in gazetteer.provinces()]
        counts: dict[str, int] = defaultdict(int)
        for name in bare:
            counts[name] += 1
        self.unique_bare = {name for name, n in counts.items() if n == 1}

    def province_name(self, region: Region) -> str:
        province = self.gazetteer.get(region.province)
        return province.name if province else ""

    def write(self, region: Region, rng: random.Random, forms: Sequence[FormName] = ()) -> Mention:
        """(form, the words) for `region` in one of `forms` (default: any of FORMS) drawn by
        `rng`; a form a region cannot take (no kecamatan, a name others share) is redrawn."""
        names = list(forms or FORMS)
        while True:
            form = rng.choice(names)
            written = FORMS[form](region, rng, self)
            if written:
                return form, written


def _regency(region: Region, rng: random.Random, places: PlaceWriter) -> str:
    """The regency/city written in one of the usual ways."""
    kind, bare = _kind_and_bare(region)
    if kind == "KOTA":
        choices = (f"Kota {_title(bare)}", f"kota {bare.lower()}", f"Kodya {_title(bare)}")
    else:
        choices = (
            f"Kabupaten {_title(bare)}",
            f"Kab. {_title(bare)}",
            f"kab {bare.lower()}",
            f"Kab.{_title(bare)}",
        )
    return rng.choice(choices)


def _child(parent: str, rng: random.Random, places: PlaceWriter) -> Region | None:
    children = places.children.get(parent)
    return rng.choice(children) if children else None


def _form_official(region: Region, rng: random.Random, places: PlaceWriter) -> str | None:
    return _title(region.name)


def _form_lower(region: Region, rng: random.Random, places: PlaceWriter) -> str | None:
    return region.name.lower()


def _form_abbreviated(region: Region, rng: random.Random, places: PlaceWriter) -> str | None:
    return _regency(region, rng, places)


def _form_bare(region: Region, rng: random.Random, places: PlaceWriter) -> str | None:
    bare = _kind_and_bare(region)[1]
    # a name several regions share is not how anyone names one of them alone
    return _title(bare) if bare in places.unique_bare else None


def _form_with_province(region: Region, rng: random.Random, places: PlaceWriter) -> str | None:
    province = _title(places.province_name(region))
    return f"{_regency(region, rng, places)}, {rng.choice(('', 'Provinsi '))}{province}"


def _form_kecamatan(region: Region, rng: random.Random, places: PlaceWriter) -> str | None:
    kecamatan = _child(region.code, rng, places)
    if kecamatan is None:
        return None
    marker = rng.choice(("Kecamatan", "Kec.", "kec"))
    return f"{marker} {_title(kecamatan.name)}, {_regency(region, rng, places)}"


def _form_village(region: Region, rng: random.Random, places: PlaceWriter) -> str | None:
    kecamatan = _child(region.code, rng, places)
    village = _child(kecamatan.code, rng, places) if kecamatan else None
    if kecamatan is None or village is None:
        return None
    # Kemendagri village codes: 1xxx a kelurahan, 2xxx a desa
    marker = rng.choice(("Kelurahan", "Kel.") if village.code[-4] == "1" else ("Desa", "Ds."))
    return f"{marker} {_title(village.name)}, Kecamatan {_title(kecamatan.name)}"


def _form_shortened(region: Region, rng: random.Random, places: PlaceWriter) -> str | None:
    kind, bare = _kind_and_bare(region)
    kecamatan = _child(region.code, rng, places)
    if kecamatan is None:
        return None
    short = f"{'kota' if kind == 'KOTA' else 'kab'} {_shortened(bare)}"
    return f"kec. {kecamatan.name.lower()} {short}"


FORMS: dict[FormName, Callable[[Region, random.Random, PlaceWriter], str | None]] = {
    "official name": _form_official,
    "lower case": _form_lower,
    "abbreviated marker": _form_abbreviated,
    "name alone": _form_bare,
    "with province": _form_with_province,
    "kecamatan + regency/city": _form_kecamatan,
    "village + kecamatan": _form_village,
    "kecamatan + invented shortening": _form_shortened,
}


def pick_regions(
    gazetteer: Gazetteer, provinces: int, per_province: int, seed: int = 0
) -> list[list[Region]]:
    """`per_province` regencies/cities of each of `provinces` provinces drawn by `seed`, grouped
    by province. DKI Jakarta is left out: its cities have no government of their own."""
    rng = random.Random(seed)
    pool = [p for p in gazetteer.provinces() if p.code != "31"]
    chosen = sorted(rng.sample(pool, provinces), key=lambda p: p.code)
    out = []
    for province in chosen:
        regencies = [r for r in gazetteer.kabkota() if r.province == province.code]
        out.append(
            sorted(rng.sample(regencies, min(per_province, len(regencies))), key=lambda r: r.code)
        )
    return out


def _compose(template: str, mention: str, rng: random.Random) -> str:
    body = template.format(tempat=mention, nomor=rng.randint(1, 12))
    text = " ".join(p for p in (rng.choice(GREETINGS), body, rng.choice(CLOSINGS)) if p)
    return text.lower() if rng.random() < 0.3 else text


def generate(
    regions: Sequence[Region],
    per_region: int,
    *,
    national: int = 0,
    gazetteer: Gazetteer,
    seed: int = 0,
) -> list[RegionalComplaint]:
    """`per_region` complaints about regional offices in each regency/city of `regions` (roles
    drawn in turn, topics at random), then `national` complaints per national agency, half of
    them naming a place in one of `regions`."""
    rng = random.Random(seed)
    places = PlaceWriter(gazetteer)
    roles = sorted(ROLE_TOPICS)
    out: list[RegionalComplaint] = []
    for region in regions:
        for i in range(per_region):
            role = roles[i % len(roles)]
            topic = rng.choice(ROLE_TOPICS[role])
            form, written = places.write(region, rng)
            text = _compose(topic.text, written, rng)
            if topic.level == "pusat":
                out.append(
                    RegionalComplaint(text, None, topic.agency, None, region.code, written, form)
                )
                continue
            office = region.province if topic.level == "provinsi" else region.code
            out.append(RegionalComplaint(text, role, None, office, region.code, written, form))
    for agency in sorted(NATIONAL_TOPICS):
        for i in range(national):
            template = rng.choice(NATIONAL_TOPICS[agency])
            if "{tempat}" not in template or i % 2 or not regions:
                text = _compose(
                    template.replace(" di {tempat}", "").replace(" {tempat}", ""), "", rng
                )
                out.append(RegionalComplaint(text, None, agency, None, None, "", ""))
                continue
            region = rng.choice(regions)
            form, written = places.write(region, rng)
            text = _compose(template, written, rng)
            out.append(RegionalComplaint(text, None, agency, None, region.code, written, form))
    return out
