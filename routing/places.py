"""The places a complaint names, and the jurisdiction they decide.

Citizens name places as they speak: ``Kabupaten Sleman``, ``kab. sleman``, ``kota bdg``,
``Jaksel``, ``Jateng``, ``kec. Coblong``, or a village with its regency. `PlaceFinder` reads
them and decides the complaint's jurisdiction: the regency/city or province that the places
named agree on, never finer than a regency/city (a kecamatan or village stands for its
regency/city).

How a place is read:

- Words are matched on a folded form (lowercase, no accents, punctuation and spaces ignored
  inside a name: ``Toli-Toli`` = ``Tolitoli``); the evidence keeps the words as written.
- Names are the gazetteer's (`routing.gazetteer`) plus ``data/places/aliases.csv``. Kind words
  are rules, not aliases: ``kab``/``kabupaten``, ``kota``/``kot``/``kodya``/``pemko``, ``prov``/
  ``provinsi``, ``kec``/``kecamatan``/``distrik``, ``desa``/``ds``/``kel``/``kelurahan``, and the
  heads of those offices, ``camat`` and ``lurah`` (``kantor lurah X``: in lower case only a name of
  several full words, as ``lurah tutup`` is a closed office). After
  one, a name of that kind is preferred (``Kota Bandung``), of another kind accepted when it is
  the only reading (``kota Sleman``). After a marker, a regency/city or province name of six
  letters or more (seven in lower case; a kecamatan's only where written as a name) is read
  with one letter wrong, added, dropped or swapped (``kab. Pasruan``), where that is the only
  name so close.
- Words run together are read apart where a capitalised word follows (``putihKab``), and so are
  ``di`` written onto a name or a marker (``dijakarta``, ``dikota X``), a police or government
  body onto its region's name (``POLDAJATIM``, ``pemkabsleman``) and a number written onto a
  word (``Sumut2``). ``Kep.`` and ``Tj.`` inside a name are ``Kepulauan``, ``Tanjung``.
- A regency/city or province name counts alone, unless it is an ordinary word
  (``data/places/needs_marker.txt``: ``batu``, ``puncak``; such a word still counts right
  beside its province: ``palu, sulteng``) or inside a phrase that names no jurisdiction
  (``data/places/not_places.txt``: ``semen padang``, ``papua nugini``). A marker before a
  possessive reads the name after it (``kota kami Semarang``).
- A kecamatan or village name counts after a kecamatan/village marker, or right beside a
  regency/city or province it lies in (``Cileunyi, Bandung``; in lower case only next to it and
  where that leaves one regency: ``tegalsari surabaya``), or when its name begins with the name
  of the regency/city it lies in (``Semarang Barat``). A kecamatan written as a name
  (capitalised, or several full words) counts alone where no other regency has a kecamatan or
  village so called (``Cikampek``, ``mampang prapatan``); one of several words also where only
  rural villages elsewhere share its name (``pasar minggu``), not a town's kelurahan; so does a
  village of several words ending in a compass word that no other regency has (``kedoya
  utara``). One that
  many regencies share (``desa Sukamaju``) counts only where the regencies the complaint names
  narrow it down (failing those, its provinces). One whose address names, right after it, only
  towns that do not contain it (``desa X RT 1/2, Semarang``, X lying elsewhere) is a namesake
  and does not count. Written as a name anywhere, a kecamatan or
  village decides a bare name that is a regency and a city (``Bandung ... Cicadas``) where it
  lies in one of them and no other regency/city is named. Two neighbouring names that are
  places of one kecamatan (a village and its kecamatan, two of its villages: ``ulujami
  pesanggrahan``, ``Kel. Pekayon Kalisari``) decide its regency however written. After an area
  word (``daerah X``, ``wilayah X``) a kecamatan, or a village of several words, that no other
  regency shares counts; another place only where others narrow it down.
- A public body named with its region reads that region, a kecamatan or village (capitalised, or
  several full words) as after a kecamatan marker (``Puskesmas Coblong``, ``PLN ULP Cileunyi``,
  ``SMPN 2 Sleman``, ``Polres Batu``, ``satlantas kabanjahe``; ``PLN sering`` names none);
  ``Polres Bogor Kota`` is the city, ``Probolinggo Kab.`` the regency. A name right after a
  neighbourhood address (``RT 02/RW 04 Lagoa``) is read as after a village marker. A
  university, a pesantren or a foundation's or other private school (``Universitas Negeri
  Malang``, ``SMK Muhammadiyah Kota Cimahi``, ``SMK Kartika Balikpapan``: a school whose kind
  is followed by a name that is no place, nor ``Negeri``, ``Inpres``, a number) is a name, not a
  place; an address after the name (``SMP Y Cikarang Utara, Bekasi``, ``Y Jember Jawa Timur``)
  is read.
- A name alone that is both a province and a city (``Jambi``, ``Yogyakarta``) is the province;
  one that is a province, a regency and a city (``Gorontalo``) is ambiguous as ``Bandung``.
- Street names (``Jl. Raya Bogor``: a street named after a town is not the town; a city's alias
  after it is, ``Jalan Tendean Jaksel``, and so is a kecamatan named after its city or, after a
  street not named after a town, a regency/city: ``Jl. Ahmad Yani Surabaya``), person names
  after an honorific (``Pak Bima``; not past a full stop, ``pak.Medan``) or ``atas nama``,
  a marker before a pronoun (``kota ini``), a chain's or a bank's branch (``RS Siloam X``,
  ``Transmart X``, ``Bank BJB Cabang X``) and web and e-mail addresses
  (``dukcapil.sleman.go.id``) are skipped, and so are places outside the matter: a birthplace
  (``Tempat/Tanggal Lahir: Klaten``, ``TTL Klaten``, ``Tgl lahir Klaten``), a head office's or
  a call centre's town (``kantor pusat di Jakarta``, ``call center Jakarta``), a flight's
  (``tiket pesawat ke Medan``).

How the jurisdiction is decided: every regency/city named is a hypothesis, counted once per
mention consistent with it (its own mentions, mentions of its province, its kecamatan and
villages). The one with most mentions wins; of several, the one whose kecamatan are named most,
then its villages, then (of one province) the one named most with its kind (``Kabupaten X``). A
tie, or a province named as often that does not contain it, makes the finding ambiguous
(`Jurisdiction.candidates`), with the deepest region all candidates share as its code (``32``
for bare ``Bandung``). With no regency/city named, the most-named province decides in the same
way.
"""

from __future__ import annotations

import bisect
import csv
import functools
import itertools
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, NamedTuple

from rapidfuzz import process
from rapidfuzz.distance import OSA

from routing.datafiles import data_file
from routing.gazetteer import Gazetteer, Region, contains, load_gazetteer, normalize_code
from routing.text import load_stopwords

__all__ = [
    "DEFAULT_ALIASES_PATH",
    "DEFAULT_NEEDS_MARKER_PATH",
    "DEFAULT_NOT_PLACES_PATH",
    "Jurisdiction",
    "PlaceFinder",
    "PlaceFinding",
    "default_place_finder",
]

DEFAULT_ALIASES_PATH: Path = data_file("places/aliases.csv")
DEFAULT_NEEDS_MARKER_PATH: Path = data_file("places/needs_marker.txt")
DEFAULT_NOT_PLACES_PATH: Path = data_file("places/not_places.txt")

Kind = Literal["provinsi", "kabupaten", "kota", "kecamatan", "desa"]

# A kecamatan or village name shared by more regencies than this says too little on its own.
MAX_CANDIDATES = 3
# How many words may separate an unmarked kecamatan/village from the regency that confirms it.
_BESIDE = 3
# The longest name, in words as people write them (village names run to six words).
_MAX_WORDS = 7

_MARKERS: dict[tuple[str, ...], str] = {
    **dict.fromkeys(
        [("kabupaten",), ("kab",), ("pemkab",), ("kabupaten", "administrasi"), ("kab", "adm")],
        "kab",
    ),
    **dict.fromkeys(
        [
            *[(w,) for w in ("kota", "kot", "kodya", "kotamadya", "pemkot", "pemko")],
            ("kota", "administrasi"),
            ("kota", "adm"),
        ],
        "kota",
    ),
    **dict.fromkeys(
        [(w,) for w in ("provinsi", "prov", "propinsi", "prop", "pemprov", "pemprop")], "prov"
    ),
    # "kantor lurah X", "Pak Camat X": the office of the village or kecamatan X
    **dict.fromkeys([("kecamatan",), ("kec",), ("distrik",), ("camat",)], "kec"),
    **dict.fromkeys([("desa",), ("ds",), ("kelurahan",), ("kel",), ("lurah",)], "desa"),
}
_MARKER_WORDS = frozenset(word for marker in _MARKERS for word in marker[:1])
_HEADS = frozenset({"lurah", "camat"})  # markers that name an office's head, not a region
# kinds a marker prefers, then kinds it accepts when no name of the preferred kind fits
_MARKED_KINDS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "kab": (frozenset({"kabupaten"}), frozenset({"kota", "provinsi"})),
    "kota": (frozenset({"kota"}), frozenset({"kabupaten", "provinsi"})),
    "prov": (frozenset({"provinsi"}), frozenset({"kabupaten", "kota"})),
    "kec": (frozenset({"kecamatan"}), frozenset({"desa"})),
    "desa": (frozenset({"desa"}), frozenset({"kecamatan"})),
}
_LOCAL_KINDS = frozenset({"kecamatan", "desa"})
_DIRECTIONS = frozenset({"utara", "selatan", "barat", "timur", "tengah"})
# after its marker, a name this long (in letters) is read with one letter wrong ("kab.
# Sleeman"); a shorter one is too close to other words
_TOLERANT = 6
_MISSPELT_WORDS = 3  # the most words a misspelt name is read over


def _wordset(words: str) -> frozenset[str]:
    return frozenset(words.split())


# "kota ini", "desa kami": a marker before these is a common noun
_PRONOUNS = _wordset(
    "ini itu tsb tersebut kami kita saya sy aku kamu anda kalian mereka dia sini situ "
    "setempat lain sendiri nya"
)
_AREAS = _wordset("daerah wilayah kawasan")
_POSSESSIVES = _wordset("kami kita saya sy aku")
_STREETS = frozenset({"jl", "jln", "jalan", "gg", "gang", "lorong"})
# words that are also common nouns: a street only before "raya" or a capitalised name
# ("Jalan Diponegoro", not "jalan rusak")
_COMMON_STREETS = frozenset({"jalan", "gang", "lorong"})
# a village parted into quarters is named with a compass word ("Kedoya Utara", "Pedurungan
# Kidul"): with one, several words no other regency uses are its name, not a phrase
_QUARTERS = _wordset("utara selatan barat timur tengah kidul lor wetan kulon")
_HONORIFICS = _wordset(
    "pak bapak bpk bu ibu sdr sdri saudara saudari mas mbak mba bang kak tuan nyonya ny"
)
# honorifics written short with a full stop ("Bpk. Budi"); after the others a full stop ends
# the sentence ("terima kasih pak.Medan ...": the town is no one's name)
_SHORT_HONORIFICS = _wordset("bpk bp sdr sdri ny")
# "atas nama X": X is the holder of an account or a card, a person's name of up to three words
_HOLDER = ("atas", "nama")
# an honorific before these is an office, not a person
_OFFICES = _wordset(
    "bupati walikota wali gubernur wagub camat lurah kades kepala kadis sekda menteri "
    "presiden ketua anggota dewan direktur dirut kapolres kapolda kapolsek dandim rt rw"
)
# words that end a street or person name
_STOPS = _wordset(
    "di ke dari dan atau yang untuk pada dengan menuju arah sampai hingga sd antara sekitar "
    "depan belakang samping dekat sebelah no nomor nmr rt rw km blok wilayah daerah kawasan "
    "warga tinggal dalam oleh karena sejak tahun bulan tanggal tgl juga tidak sudah belum "
    "perbatasan kalo kalau klo jika yg dgn sdh blm tdk tp tapi krn karna utk"
)
# a university, a pesantren, or a school or college run by a foundation, is named, not placed:
# "SMK Muhammadiyah Kota X", "SMK Kartika X" (a private school's own name before the town),
# "Pesantren Y X" and "Universitas Negeri X" say nothing of where the matter is
_UNIVERSITIES = _wordset(
    "universitas univ institut politeknik poltek akademi stie stikes stkip stmik sttn "
    "pesantren ponpes"
)
_SCHOOLS = _wordset("tk paud sd smp sma smk sltp slta mi mts ma madrasah sekolah")
_FOUNDATIONS = _wordset(
    "muhammadiyah aisyiyah nu maarif islam islamiyah it kristen katolik advent pgri swasta "
    "yayasan al"
)
# private chains (hospitals, shops) name their branches after the place they stand in:
# "RS Siloam X", "Transmart X" are a company's names, not where the matter is
_BRANDS = _wordset(
    "siloam hermina transmart hypermart carrefour indomaret alfamart alfamidi superindo lottemart"
)
# banks, state-owned too, are companies: "Bank BJB Cabang X", "BRI Unit X" name a branch after
# the place it stands in, not where the matter is
_BANKS = _wordset("bank bri bni btn bca bjb bsi bsm")
_BRANCHES = _wordset("cabang kcp kc kcu capem unit")
# a public body named with its region: "Puskesmas X", "PLN ULP X", "SMPN 2 X" name the kecamatan
# or town it serves; so do state schools ("SD Negeri 1 X") and numbered ones ("SLTP 3 X": "sd 5"
# is as often "sampai dengan 5"), police posts ("Pos Polisi X") and the stations and ports
# named after the place they stand in ("Stasiun X", "Terminal X", "Pelabuhan X")
_BODIES = _wordset(
    "puskesmas pustu polsek polsekta polres polresta polrestabes polda satlantas polantas "
    "satpas koramil kodim kua samsat rsud pln sdn smpn sman smkn sltpn mtsn lapas "
    "rutan kejari kejati dukcapil disdukcapil dispendukcapil pos pospol stasiun terminal "
    "pelabuhan"
)
_NUMBERED_SCHOOLS = _wordset("smp sma smk sltp slta")
# a school with one of these after its kind is the state's ("SD Inpres X", "SMP Terbuka X")
_STATE_SCHOOL_WORDS = _wordset("negeri n inpres terbuka")
# "Kantor Imigrasi Kelas I Khusus TPI X", "Polres Metro Jakarta Pusat"
_BODY_WORDS = _wordset(
    "negeri n kelas i ii iii iia iib khusus tpi rayon ulp up3 up area cabang unit ranting "
    "wilayah persero kantor metro polisi"
)
# An address names its town right after the village or kecamatan ("desa X RT 1/2 gang Y,
# Semarang"): a local name whose regency/city is not the one named so close after it (numbers,
# neighbourhood and street words, names aside) is a namesake.
_ADDRESS_NUMBERS = _wordset("rt rw no nomor")
# words between a local name and a town that make them two places, not one address
_MOVES = _wordset("ke dari menuju pindah dan atau sampai hingga serta")
# a place named after these is outside the matter: the complainant's birthplace on an identity
# form ("Tempat/Tanggal Lahir: X", "TTL X", "Tgl lahir X 1-2-1990"), a head office's or a call
# centre's town ("kantor pusat OJK di X", "call center X"), a flight's ("tiket pesawat X-Y": an
# airline's matter), a direction of travel ("tol arah X") and a legal aid office's name ("LBH X")
_ASIDES = frozenset(
    {
        ("tempat", "lahir"),
        ("tempat", "tanggal", "lahir"),
        ("tempat", "tgl", "lahir"),
        ("tmpt", "lahir"),
        ("tmp", "lahir"),
        ("tpt", "lahir"),
        ("tanggal", "lahir"),
        ("tgl", "lahir"),
        ("ttg", "lahir"),
        ("ttl",),
        ("kantor", "pusat"),
        ("call", "center"),
        ("call", "centre"),
        ("callcenter",),
        ("tiket", "pesawat"),
        ("arah",),
        ("lbh",),
    }
)
# how many words may stand between an aside and its place ("kantor pusat OJK di X")
_ASIDE_GAP = 3
# the words at which a rule other than a plain name can apply (`PlaceFinder._mentions`)
_ADDRESS_WORDS = _AREAS | {"rt"}  # where `PlaceFinder._address_at` may read an address
_RULE_WORDS = (
    _STREETS
    | _HONORIFICS
    | _SCHOOLS
    | _UNIVERSITIES
    | _BODIES
    | _MARKER_WORDS
    | _ADDRESS_WORDS
    | _BRANDS
    | _BANKS
    | {_HOLDER[0]}
    | {aside[0] for aside in _ASIDES}
)
_WORD = re.compile(r"[^\W_]+")
# words run together ("putihKab", "utaraProv") part where a capitalised word follows a small
# letter; not inside a brand ("UangMe", "eKTP")
_CAMEL = re.compile(r"(?<=[a-z]{3})(?=[A-Z][A-Za-z]{2})")
# a number written onto a word ("Sumut2.", a list's next item; "akhir2") is read apart
_DIGITS = re.compile(r"(?<=[^\W\d_]{3})(?=\d)")
# web and e-mail addresses: "dukcapil.sleman.go.id" names a website, not where the matter is
_ADDRESS = re.compile(
    r"(?i:https?://|www\.)\S+|\S+@\S+"
    r"|\b[\w-]+(?:\.[\w-]+)*\.(?:go\.id|co\.id|ac\.id|or\.id|com|id|org|net)\b\S*"
)
_BREAK = re.compile(r"[,;:!?()\[\]{}\"/|\n]")
_FULL_STOP = re.compile(r"\.\s")
_FORM_LABEL = re.compile(r"[ \t]*:[ \t]*")
# a full stop after a word this short ends an abbreviation ("Kep. Seribu"), not a sentence
_ABBREVIATION = 3
# "di" written onto the word after it ("dijakarta") is read apart before a word this long
_GLUED = 4
# words after a school's kind that begin no private school's own name
_NOT_SCHOOL_NAMES = _STATE_SCHOOL_WORDS | _SCHOOLS | _BODIES | _BODY_WORDS
# a police or government body written onto its region ("poldajatim"), longest first
_GLUED_BODIES = ("polrestabes", "polresta", "polres", "polda", "pemprov", "pemkab", "pemkot")
# "Kab. Kep. Seribu", "KEP. SIAU TAGULANDANG BIARO", "Tj. Priok"
_SPELLINGS = {"kep": "kepulauan", "tj": "tanjung"}
# a kind word written after a name that is both a regency and a city ("Bogor Kota")
_SUFFIX_KINDS = {"kota": "kota", "kab": "kab", "kabupaten": "kab"}
_KIND_PREFIX = re.compile(r"^(?:KABUPATEN|KOTA)(?: ADMINISTRASI)? ")


@dataclass(frozen=True)
class Jurisdiction:
    """The region a complaint belongs to: a regency/city or a province."""

    code: str | None  # "32.73" or "32"; when ambiguous, the deepest region common to all
    # candidates (e.g. "32" for bare "Bandung"), None if none
    name: str | None  # the gazetteer's official name of `code`
    level: Literal["provinsi", "kabkota"] | None
    source: Literal["text", "location"]
    evidence: str  # the words as written in the complaint / location field
    candidates: tuple[str, ...] = ()  # when ambiguous: the regency/city codes (province codes
    # where only provinces were named); empty when decided

    @property
    def ambiguous(self) -> bool:
        return bool(self.candidates)

    def to_dict(self) -> dict:
        """The answer's ``jurisdiction`` object; ``candidates`` only when ambiguous."""
        answer: dict = {
            "code": self.code,
            "name": self.name,
            "level": self.level,
            "source": self.source,
            "evidence": self.evidence,
        }
        if self.ambiguous:
            answer["candidates"] = list(self.candidates)
        return answer

    def _possible(self) -> tuple[str, ...]:
        return self.candidates or ((self.code,) if self.code else ())


@dataclass(frozen=True)
class PlaceFinding:
    """What `PlaceFinder.find` decided."""

    jurisdiction: Jurisdiction | None  # None: no place found
    conflict: Jurisdiction | None = None  # the text's own finding when a given location
    # contradicts it


class _Entry(NamedTuple):
    code: str
    kind: Kind
    alias: bool


class _Token(NamedTuple):
    word: str  # folded
    start: int
    end: int
    written: str


class _Mention(NamedTuple):
    codes: frozenset[str]  # regency/city codes, or province codes for a province
    provincial: bool
    first: int  # token span
    stop: int
    strong: bool  # counts on its own (else only where other mentions narrow it down)
    marked: bool
    local: bool  # a kecamatan or village
    places: frozenset[str] = frozenset()  # full codes of the kecamatan and villages so named,
    # whichever reading was chosen (two neighbouring names agree on one kecamatan)
    faint: bool = False  # a local name in lower case: counts only where a neighbour agrees or
    # its region is named right beside it
    alone: frozenset[str] = frozenset()  # the regency/city it stands for where no place named
    # narrows it down (a kecamatan after an area word, a kelurahan of a town elsewhere so named)


def _fold(text: str) -> str:
    if text.isascii():  # nothing to decompose
        return text
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def _words(text: str) -> list[str]:
    return [_SPELLINGS.get(w, w) for w in _WORD.findall(_fold(text).lower())]


def _key(words: Iterable[str]) -> str:
    return "".join(words)


def _kind(region: Region) -> Kind:
    if region.level == "kabkota":
        return "kota" if region.name.startswith("KOTA ") else "kabupaten"
    return region.level


def _read_phrases(path: Path) -> frozenset[str]:
    with path.open(encoding="utf-8") as handle:
        lines = (line.split("#", 1)[0].strip() for line in handle)
        return frozenset(_key(_words(line)) for line in lines if line)


def _read_aliases(path: Path, gazetteer: Gazetteer) -> list[tuple[list[str], Region]]:
    aliases = []
    with path.open(encoding="utf-8", newline="") as handle:
        for lineno, row in enumerate(csv.DictReader(handle), start=2):
            region = gazetteer.get(row["code"] or "")
            words = _words(row["alias"] or "")
            if region is None or not words:
                raise ValueError(f"{path}:{lineno}: alias {row['alias']!r} names no known region")
            aliases.append((words, region))
    return aliases


class PlaceFinder:
    """Finds the jurisdiction of complaints; the name index is built on first use."""

    def __init__(
        self,
        gazetteer: Gazetteer | None = None,
        aliases: Path | None = None,
        *,
        needs_marker: Path | None = None,
        not_places: Path | None = None,
    ) -> None:
        self.gazetteer = gazetteer
        self.aliases = aliases
        self.needs_marker = needs_marker
        self.not_places = not_places

    # --- the index -------------------------------------------------------------------------

    @functools.cached_property
    def _gazetteer(self) -> Gazetteer:
        return self.gazetteer if self.gazetteer is not None else load_gazetteer()

    @functools.cached_property
    def _index(self) -> dict[str, tuple[_Entry, ...]]:
        index: dict[str, list[_Entry]] = {}

        def add(words: list[str], region: Region, alias: bool) -> None:
            index.setdefault(_key(words), []).append(_Entry(region.code, _kind(region), alias))

        for level in ("provinsi", "kabkota", "kecamatan", "desa"):
            for region in self._gazetteer.regions(level):
                add(_words(_KIND_PREFIX.sub("", region.name)), region, alias=False)
        for words, region in _read_aliases(self.aliases or DEFAULT_ALIASES_PATH, self._gazetteer):
            add(words, region, alias=True)
        return {key: tuple(dict.fromkeys(entries)) for key, entries in index.items()}

    @functools.cached_property
    def _function_words(self) -> frozenset[str]:
        """The project's stop list: after a local marker such a word names no place."""
        return load_stopwords()

    @functools.cached_property
    def _stems(self) -> dict[str, tuple[_Entry, ...]]:
        """Villages' and kecamatan's names without a closing direction ("Utan Kayu" of "Utan
        Kayu Utara" and "Utan Kayu Selatan"), where every name so shortened lies in one
        regency/city and no place has the short name itself: people write the shared part."""
        stems: dict[str, list[_Entry]] = {}
        for level in ("kecamatan", "desa"):
            for region in self._gazetteer.regions(level):
                words = _words(region.name)
                if len(words) > 2 and words[-1] in _DIRECTIONS:
                    stems.setdefault(_key(words[:-1]), []).append(
                        _Entry(region.code, _kind(region), alias=False)
                    )
        return {
            key: tuple(dict.fromkeys(entries))
            for key, entries in stems.items()
            if key not in self._index and len({e.code[:5] for e in entries}) == 1
        }

    @functools.cached_property
    def _sorted_keys(self) -> list[str]:
        return sorted(self._index)

    def _some_name_begins(self, key: str) -> bool:
        """Whether an indexed name's key starts with `key`: reading further words can find a
        name only while it does."""
        keys = self._sorted_keys
        at = bisect.bisect_left(keys, key)
        return at < len(keys) and keys[at].startswith(key)

    @functools.cached_property
    def _needs_marker(self) -> frozenset[str]:
        return _read_phrases(self.needs_marker or DEFAULT_NEEDS_MARKER_PATH)

    @functools.cached_property
    def _not_places(self) -> frozenset[str]:
        return _read_phrases(self.not_places or DEFAULT_NOT_PLACES_PATH)

    # --- reading the text ------------------------------------------------------------------

    def _names_at(
        self, tokens: list[_Token], breaks: list[bool], at: int
    ) -> list[tuple[int, tuple[_Entry, ...]]]:
        """(length in words, entries) of every name starting at word `at`, longest first."""
        found, key = [], ""
        for end in range(at, min(len(tokens), at + _MAX_WORDS)):
            if end > at and breaks[end - 1]:
                break
            key += tokens[end].word
            entries = self._index.get(key)
            if entries:
                found.append((end - at + 1, entries))
            elif not self._some_name_begins(key):
                break
        return found[::-1]

    @staticmethod
    def _mention(
        entries: Sequence[_Entry],
        first: int,
        stop: int,
        marked: bool,
        every: Sequence[_Entry] = (),
    ) -> _Mention:
        """A mention of `entries` (chosen among `every` entry of the name); of a regency/city
        (or its kecamatan, villages) where a name is both that and a province, and the caller
        has not chosen the province."""
        places = frozenset(e.code for e in (*entries, *every) if e.kind in _LOCAL_KINDS)
        if all(e.kind == "provinsi" for e in entries):
            codes = frozenset(e.code for e in entries)
            return _Mention(codes, True, first, stop, True, marked, False, places)
        codes = frozenset(e.code[:5] for e in entries if e.kind != "provinsi")
        local = any(e.kind in _LOCAL_KINDS for e in entries)
        strong = not local or (marked and len(codes) <= MAX_CANDIDATES)
        return _Mention(codes, False, first, stop, strong, marked, local, places)

    def _marked_at(self, tokens: list[_Token], breaks: list[bool], at: int) -> _Mention | None:
        if tokens[at].word not in _MARKER_WORDS:
            return None
        for size in (2, 1):
            marker = _MARKERS.get(tuple(t.word for t in tokens[at : at + size]))
            if marker and (size == 1 or not breaks[at]):
                break
        else:
            return None
        start = at + size
        if (
            start + 1 < len(tokens)
            and tokens[start].word in _POSSESSIVES
            and not breaks[start - 1]
            and not breaks[start]
            and _plain(tokens[start + 1].word)
            and (marker not in ("kec", "desa") or tokens[start + 1].written[:1].isupper())
        ):
            start += 1  # "kota kami Semarang"; "desa saya dana ..." names no village
        if start >= len(tokens) or breaks[start - 1] or tokens[start].word in _PRONOUNS:
            return None
        if marker in ("kec", "desa") and (
            tokens[start].word in _STOPS
            or (
                tokens[start].word in self._function_words
                and not tokens[start].written[:1].isupper()
            )
        ):
            return None  # "kecamatan yang", "kelurahan dan", "kecamatan namun"
        if (
            marker in ("kec", "desa")
            and tokens[start].word in _MARKER_WORDS
            and not tokens[start].written[:1].isupper()
        ):
            return None  # "kantor kecamatan kota X" is X's office, not the kecamatan "Kota"
        preferred, accepted = _MARKED_KINDS[marker]
        names = self._names_at(tokens, breaks, start)
        if marker in ("kec", "desa"):
            # people write one local marker for the other ("kel/kec X"): the longest name
            # wins, a kecamatan over a village of the same name
            names = [(n, es) for n, es in names if any(e.kind in _LOCAL_KINDS for e in es)][:1]
            stem = self._stem_at(tokens, breaks, start)
            if stem and (not names or stem[0] > names[0][0]):
                names = [stem]
        if tokens[at].word in _HEADS and not tokens[start].written[:1].isupper():
            # an office's head is named with its place ("kantor lurah utan panjang"); one
            # word in lower case after it is as often what the office does ("lurah tutup")
            names = [
                (n, es)
                for n, es in names
                if n > 1 and all(len(t.word) > 3 for t in tokens[start : start + n])
            ]
        if not names and marker in ("kab", "kota", "prov"):
            names = self._misspelt_at(tokens, breaks, start, preferred | accepted)
        elif not names and marker == "kec" and tokens[start].written[:1].isupper():
            # a kecamatan, of which there are many more, only where written as a name
            names = self._misspelt_at(tokens, breaks, start, preferred)
        for kinds in (preferred, accepted):
            for length, entries in names:
                chosen = [e for e in entries if e.kind in kinds]
                if chosen:
                    return self._mention(chosen, at, start + length, marked=True)
        return None

    def _stem_at(
        self, tokens: list[_Token], breaks: list[bool], at: int
    ) -> tuple[int, tuple[_Entry, ...]] | None:
        """(length, entries) of the longest `_stems` name starting at word `at`, if any."""
        key, found = "", None
        for end in range(at, min(len(tokens), at + _MAX_WORDS - 1)):
            if end > at and breaks[end - 1]:
                break
            key += tokens[end].word
            if key in self._stems:
                found = (end - at + 1, self._stems[key])
        return found

    @functools.cached_property
    def _tolerant_keys(self) -> list[str]:
        """The keys of names (not of villages: too many) of `_TOLERANT` letters or more."""
        return [
            key
            for key, entries in self._index.items()
            if len(key) >= _TOLERANT and any(e.kind != "desa" for e in entries)
        ]

    def _misspelt_at(
        self, tokens: list[_Token], breaks: list[bool], at: int, kinds: frozenset[str]
    ) -> list[tuple[int, tuple[_Entry, ...]]]:
        """(length in words, entries) of the name of `kinds` one edit from the words at `at`
        (``kab. Sleeman``), longest first; a word that is a name of its own, or close to
        several names of `kinds`, reads none."""
        found, key = [], ""
        # in lower case a name must be longer: "kota kami kurang" is no Kupang
        shortest = _TOLERANT + (not tokens[at].written[:1].isupper())
        for end in range(at, min(len(tokens), at + _MISSPELT_WORDS)):
            if (end > at and breaks[end - 1]) or not _plain(tokens[end].word):
                break
            key += tokens[end].word
            if len(key) < shortest or key in self._index or key.isdigit():
                continue
            # one letter added, dropped, changed, or two neighbours swapped
            near = process.extract(
                key, self._tolerant_keys, scorer=OSA.distance, score_cutoff=1, limit=None
            )
            close = {name for name, _, _ in near if any(e.kind in kinds for e in self._index[name])}
            if len(close) == 1:
                found.append((end - at + 1, self._index[close.pop()]))
        return found[::-1]

    def _unmarked_at(
        self, tokens: list[_Token], breaks: list[bool], at: int
    ) -> tuple[_Mention | None, _Mention | None]:
        """The longest regency/city/province name at `at`, and the longest local one (or an
        ordinary word that is a regency/city, confirmed only beside its province); or a
        kecamatan whose name extends that regency/city's (``Semarang Barat``), taken as decided."""
        names = self._names_at(tokens, breaks, at)
        if tokens[at].word in _MARKER_WORDS:  # only an alias may begin with a kind word
            names = [(n, tuple(e for e in es if e.alias)) for n, es in names]
        strong = weak = None
        for length, entries in names:
            key = _key(t.word for t in tokens[at : at + length])
            wide = [e for e in entries if e.kind not in _LOCAL_KINDS]
            if key in self._needs_marker:
                if wide and weak is None:  # "palu-sulteng"
                    weak = self._mention(_bare(wide), at, at + length, False)._replace(strong=False)
                continue
            if wide and strong is None:
                strong = self._mention(_bare(wide), at, at + length, False, entries)
            local = [e for e in entries if e.kind in _LOCAL_KINDS]
            if not local or weak is not None:
                continue
            proper = self._proper_noun(tokens, at, key)
            # several full words are a name however written ("mampang prapatan")
            several = (
                length > 1
                and all(len(t.word) > 3 for t in tokens[at : at + length])
                and tokens[at].word not in _STOPS
            )
            mention = self._mention(local, at, at + length, marked=False)
            unique = len(mention.codes) == 1 and any(e.kind == "kecamatan" for e in local)
            # a kecamatan of several words is that kecamatan where only rural villages
            # elsewhere share its name ("pasar minggu"); a town's kelurahan so named is as likely
            kecamatan = [e for e in local if e.kind == "kecamatan"]
            regencies = {e.code[:5] for e in kecamatan}
            if (
                several
                and len(regencies) == 1
                and not any(_urban(e) and e.code[:5] not in regencies for e in local)
            ):
                weak = self._mention(kecamatan, at, at + length, False, local)._replace(strong=True)
            elif several and len(mention.codes) == 1 and tokens[at + length - 1].word in _QUARTERS:
                weak = mention._replace(strong=True)  # "karombasan utara": a village parted by
                # a compass word, which no other regency has, is named however written
            elif unique and proper:
                weak = mention._replace(strong=True)  # no other regency has a place so named
            elif proper:
                weak = mention
            elif _plain(tokens[at].word) and len(key) >= 4:
                weak = mention._replace(faint=True)
        if strong is not None:  # "Semarang Barat": a kecamatan named after its regency/city
            for length, entries in names:
                within = frozenset(
                    e.code[:5]
                    for e in entries
                    if e.kind in _LOCAL_KINDS
                    and (e.code[:5] in strong.codes or e.code[:2] in strong.codes)
                )
                if at + length > strong.stop and within:
                    places = frozenset(e.code for e in entries if e.kind in _LOCAL_KINDS)
                    return _Mention(within, False, at, at + length, True, False, True, places), None
        return strong, weak

    @staticmethod
    def _proper_noun(tokens: list[_Token], at: int, key: str) -> bool:
        """Whether an unmarked local name is written as one: capitalised, not a function word."""
        return tokens[at].written[:1].isupper() and len(key) >= 4 and _plain(tokens[at].word)

    def _skip_name(
        self, tokens: list[_Token], breaks: list[bool], at: int, most: int, street: bool = False
    ) -> int:
        """The word after a street or person name that starts at `at` (after its marker)."""
        end = at
        town = street and self._town_at(tokens, breaks, at, province=True)
        while end < len(tokens) and end - at < most:
            word = tokens[end].word
            if word in _STOPS or word in _MARKER_WORDS or word.isdigit():
                break
            if end > at and (
                self._city_alias_at(tokens, breaks, end)
                or self._named_after_its_city_at(tokens, breaks, end)
                or (street and not town and self._town_at(tokens, breaks, end))
            ):
                # "Jalan Tendean Jaksel", "Gang Melati Indah Semarang Barat", "Jl. Ahmad Yani
                # Surabaya"; a street named after a town runs on ("Jl. Raya Jakarta Bogor")
                break
            end += 1
            if breaks[end - 1]:
                break
        return end

    def _town_at(
        self, tokens: list[_Token], breaks: list[bool], at: int, province: bool = False
    ) -> bool:
        """Whether a regency/city's name (not an ordinary word: ``Batu``), or a province's,
        starts at `at`."""
        if at >= len(tokens):
            return False
        strong, _ = self._unmarked_at(tokens, breaks, at)
        return strong is not None and not strong.local and (province or not strong.provincial)

    def _city_alias_at(self, tokens: list[_Token], breaks: list[bool], at: int) -> bool:
        """Whether an alias of a regency/city (``Jaksel``, never a street's name) starts at `at`."""
        return any(
            e.alias and e.kind != "provinsi"
            for _, entries in self._names_at(tokens, breaks, at)
            for e in entries
        )

    def _named_after_its_city_at(self, tokens: list[_Token], breaks: list[bool], at: int) -> bool:
        """Whether a kecamatan named after its regency/city (``Semarang Barat``) starts at `at`."""
        strong, _ = self._unmarked_at(tokens, breaks, at)
        return strong is not None and strong.local

    def _private_name_at(
        self, tokens: list[_Token], breaks: list[bool], at: int, numbered: bool
    ) -> bool:
        """Whether a school's own name starts at `at` ("SMK Kartika X", "SMA Taruna X"): a
        word written as a name that is no place, nor a state school's word."""
        token = tokens[at]
        return (
            not numbered
            and token.written[:1].isupper()
            and len(token.word) > 2
            and token.word not in _NOT_SCHOOL_NAMES
            and _plain(token.word)
            and not self._names_at(tokens, breaks, at)
        )

    def _institution_at(self, tokens: list[_Token], breaks: list[bool], at: int) -> int:
        """The word after a university's or a foundation school's name at `at`; `at` if none."""
        word = tokens[at].word
        if word in _SCHOOLS:
            after = at + 1
            while after < len(tokens) and tokens[after].word.isdigit() and not breaks[after - 1]:
                after += 1
            if after >= len(tokens) or breaks[after - 1]:
                return at
            if tokens[after].word not in _FOUNDATIONS and not self._private_name_at(
                tokens, breaks, after, numbered=after > at + 1
            ):
                return at
        elif word not in _UNIVERSITIES:
            return at
        end = at + 1
        while end < len(tokens) and end - at <= 6 and tokens[end].word not in _STOPS:
            if self._address_ends_at(tokens, breaks, end):
                break  # "SMP Y Cikarang Utara, Bekasi": its address, set off by a comma
            end += 1
            if breaks[end - 1]:
                break
        return end

    def _address_ends_at(self, tokens: list[_Token], breaks: list[bool], at: int) -> bool:
        """Whether a place name at `at` is followed, past a comma, by a regency/city or
        province, or right away by a province: an address after a name ("Y Cikarang Utara,
        Bekasi", "Y Jember Jawa Timur"), not in it."""
        for length, _ in self._names_at(tokens, breaks, at):
            stop = at + length
            if stop >= len(tokens):
                continue
            if breaks[stop - 1] and self._town_at(tokens, breaks, stop, province=True):
                return True
            strong, _ = self._unmarked_at(tokens, breaks, stop)
            if strong is not None and strong.provincial:
                return True
        return False

    def _body_at(self, tokens: list[_Token], breaks: list[bool], at: int) -> _Mention | None:
        """A public body named with its region (``Puskesmas Coblong``, ``SMPN 2 Sleman``): its
        region, a kecamatan or village read as after a kecamatan marker."""
        word = tokens[at].word
        if word not in _BODIES and word not in _SCHOOLS:
            return None
        start = at + 1
        while (
            start < len(tokens)
            and not breaks[start - 1]
            and (tokens[start].word in _BODY_WORDS or tokens[start].word.isdigit())
        ):
            start += 1
        state_school = word in _SCHOOLS and any(
            t.word in ("negeri", "n") or (t.word.isdigit() and word in _NUMBERED_SCHOOLS)
            for t in tokens[at + 1 : start]
        )
        if not (word in _BODIES or state_school) or start >= len(tokens) or breaks[start - 1]:
            return None
        # "puskesmas Kabupaten X": the marker names the region; the marker reading takes it
        if tokens[start].word in _PRONOUNS | _STOPS | _MARKER_WORDS:
            return None
        names = self._names_at(tokens, breaks, start)
        for i, (length, entries) in enumerate(names):
            wide = [e for e in entries if e.kind not in _LOCAL_KINDS]
            if wide:
                return self._mention(_bare(wide), at, start + length, True, entries)
            if _key(t.word for t in tokens[start : start + length]) in self._needs_marker:
                continue
            # a village only when written as a name (capitalised, or several full words that
            # do not begin with a regency/city's name): in "pln sering" no place is named;
            # "puskesmas babakan sari" is that village, not the kecamatan Babakan
            kecamatan = [e for e in entries if e.kind == "kecamatan"]
            several = (
                length > 1
                and all(len(t.word) > 3 for t in tokens[start : start + length])
                and not any(e.kind not in _LOCAL_KINDS for _, es in names[i + 1 :] for e in es)
            )
            named = several or tokens[start].written[:1].isupper()
            chosen = kecamatan or (entries if named else [])
            if chosen:
                return self._mention(chosen, at, start + length, True, entries)
        return None

    def _address_at(self, tokens: list[_Token], breaks: list[bool], at: int) -> _Mention | None:
        """The village (or kecamatan) right after a neighbourhood address (``RT 03/RW 05 X``)
        or an area word (``daerah X``, ``wilayah X``), when X is not a regency/city's name."""
        if tokens[at].word in _AREAS:
            end = at + 1
        elif tokens[at].word == "rt":
            end = at
            while (
                end < len(tokens)
                and end - at < 6
                and (tokens[end].word in ("rt", "rw") or tokens[end].word.isdigit())
            ):
                end += 1
            words = {t.word for t in tokens[at:end]}
            if "rw" not in words or not tokens[end - 1].word.isdigit():
                return None
        else:
            return None
        if end >= len(tokens) or breaks[end - 1] or not _plain(tokens[end].word):
            return None
        if any(
            e.kind not in _LOCAL_KINDS for _, es in self._names_at(tokens, breaks, end) for e in es
        ):
            return None
        if at + 1 == end:
            return self._area(tokens, breaks, at, end)
        preferred, accepted = _MARKED_KINDS["desa"]
        names = [
            (length, entries)
            for length, entries in self._names_at(tokens, breaks, end)
            if _key(t.word for t in tokens[end : end + length]) not in self._needs_marker
        ]
        for kinds in (preferred, accepted):
            for length, entries in names:
                chosen = [e for e in entries if e.kind in kinds]
                if chosen:
                    return self._mention(chosen, at, end + length, marked=True)
        return None

    def _area(self, tokens: list[_Token], breaks: list[bool], at: int, end: int) -> _Mention | None:
        """``daerah X``: looser than a village marker, as X may be a neighbourhood named like
        villages elsewhere; it counts alone only as a kecamatan, or a village of several words,
        whose name no other regency uses (a kecamatan written as a name also where villages
        elsewhere share it: a town's kelurahan so named only where other places narrow it to
        that town), else where other places narrow it down."""
        for length, entries in self._names_at(tokens, breaks, end):
            if _key(t.word for t in tokens[end : end + length]) in self._needs_marker:
                continue
            kecamatan = [e for e in entries if e.kind == "kecamatan"]
            regencies = {e.code[:5] for e in kecamatan}
            mention = self._mention(entries, at, end + length, marked=True)
            if len(regencies) == 1 and (length > 1 or tokens[end].written[:1].isupper()):
                # a kecamatan written as a name, though rural villages elsewhere share it; where
                # a town's kelurahan elsewhere does, that one only if the places named say so
                if not any(_urban(e) and e.code[:5] not in regencies for e in entries):
                    return self._mention(kecamatan, at, end + length, True, entries)
                return mention._replace(strong=False, alone=frozenset(regencies))
            # one word is as often a neighbourhood named like a village elsewhere
            named = length > 1 or bool(kecamatan)
            return mention._replace(strong=named and len(mention.codes) == 1)
        return None

    def _kind_suffix(self, tokens: list[_Token], breaks: list[bool], mention: _Mention) -> _Mention:
        """``Bogor Kota`` (as in ``Polres Bogor Kota``), ``Probolinggo Kab.``: the city or the
        regency of a name that is both, when the kind word after it starts no name of its own."""
        stop = mention.stop
        if (
            mention.provincial
            or len(mention.codes) < 2
            or stop >= len(tokens)
            or tokens[stop].word not in _SUFFIX_KINDS
            or breaks[stop - 1]
            or self._marked_at(tokens, breaks, stop) is not None
        ):
            return mention
        city = _SUFFIX_KINDS[tokens[stop].word] == "kota"
        codes = frozenset(
            c for c in mention.codes if self._gazetteer.get(c).name.startswith("KOTA ") == city
        )
        if not codes:
            return mention
        return mention._replace(codes=codes, stop=stop + 1, strong=True)

    @functools.cached_property
    def _not_place_prefixes(self) -> frozenset[str]:
        return frozenset(key[:n] for key in self._not_places for n in range(1, len(key) + 1))

    def _not_place_at(self, tokens: list[_Token], breaks: list[bool], at: int) -> int:
        """The length in words of the longest listed non-place phrase at `at` (0: none)."""
        longest, key = 0, ""
        for end in range(at, min(len(tokens), at + 4)):
            if end > at and breaks[end - 1]:
                break
            key += tokens[end].word
            if key in self._not_places:
                longest = end - at + 1
            elif key not in self._not_place_prefixes:
                break
        return longest

    def _aside_at(self, tokens: list[_Token], breaks: list[bool], at: int) -> int:
        """The word after a place outside the matter (a birthplace, a head office's town)
        named after an aside phrase at `at`; after the phrase if no place follows it soon; `at`
        if no aside phrase starts there. The phrase's own words may be parted by punctuation
        ("Tempat/Tanggal Lahir")."""
        for size in (3, 2, 1):
            if tuple(t.word for t in tokens[at : at + size]) in _ASIDES:
                break
        else:
            return at
        if size == 1 and tokens[at].word == "arah" and at and tokens[at - 1].word == "dari":
            return at  # "dari arah X": the way the complainant came, often where it happened
        end = at + size
        for start in range(end, min(len(tokens), end + _ASIDE_GAP + 1)):
            if start > end and breaks[start - 1]:
                break
            marked = self._marked_at(tokens, breaks, start)
            strong, weak = self._unmarked_at(tokens, breaks, start)
            place = marked or strong or weak
            if place is not None:
                return place.stop
        return end

    def _mentions(self, text: str) -> tuple[list[_Token], list[_Mention]]:
        text = _ADDRESS.sub(lambda m: " " * len(m.group()), text)  # keeps the offsets
        tokens = self._unglued(_tokens(text))
        breaks = [_breaks(text, a, b) for a, b in itertools.pairwise(tokens)] + [True]
        mentions: list[_Mention] = []
        at = 0
        while at < len(tokens):
            word = tokens[at].word
            # only a name may start at a word that starts no street, title, institution, body,
            # address, marker or listed non-place
            rules = word in _RULE_WORDS or word in self._not_place_prefixes
            if rules:
                if word in _STREETS and _names_a_street(text, tokens, at):
                    start = at + 1 + (tokens[at + 1].word == "raya")
                    at = self._skip_name(tokens, breaks, start, most=3, street=True)
                    continue
                if _names_a_person(text, tokens, breaks, at):
                    at = self._skip_name(tokens, breaks, at + 1, most=2)
                    continue
                if word in _BRANDS:  # a chain's branch: "Transmart X"
                    at = self._skip_name(tokens, breaks, at + 1, most=3)
                    continue
                branch = _bank_branch_at(tokens, breaks, at)
                if branch > at:  # "Bank BJB Cabang X"
                    at = self._skip_name(tokens, breaks, branch, most=3)
                    continue
                if _names_a_holder(tokens, breaks, at):
                    at = self._skip_name(tokens, breaks, at + 2, most=3)
                    continue
                skipped = self._aside_at(tokens, breaks, at)
                if skipped > at:
                    at = skipped
                    continue
                skipped = self._not_place_at(tokens, breaks, at)
                if skipped:
                    at += skipped
                    continue
                skipped = self._institution_at(tokens, breaks, at)
                if skipped > at:
                    at = skipped
                    continue
                body = self._body_at(tokens, breaks, at) or self._address_at(tokens, breaks, at)
                if body:
                    body = self._kind_suffix(tokens, breaks, body)
                    mentions.append(body)
                    at = body.stop
                    continue
            marked = self._marked_at(tokens, breaks, at) if rules else None
            strong, weak = self._unmarked_at(tokens, breaks, at)
            if marked and (strong is None or marked.stop > strong.stop):
                chosen = marked
            else:
                chosen = strong or weak
            if chosen is None:
                at += 1
                continue
            chosen = self._kind_suffix(tokens, breaks, chosen)
            mentions.append(chosen)
            at = chosen.stop
        return tokens, self._confirmed(mentions, tokens)

    def _unglued(self, tokens: list[_Token]) -> list[_Token]:
        """`tokens`, with "di" written onto a name read apart (``dijakarta``, ``dikota X``)."""
        out = []
        for t in tokens:
            rest = t.word[2:]
            body = ""
            if t.word.startswith(_GLUED_BODIES):  # most words begin with none: test all at once
                body = next(b for b in _GLUED_BODIES if t.word.startswith(b))
            if (
                t.word.startswith("di")
                and len(rest) >= _GLUED
                and t.written[:2] == "di"
                and (rest in _RULE_WORDS or self._some_name_begins(rest))
                and not self._some_name_begins(t.word)
            ):
                out += [
                    _Token("di", t.start, t.start + 2, t.written[:2]),
                    _Token(rest, t.start + 2, t.end, t.written[2:]),
                ]
            elif body and self._names_a_region(t.word[len(body) :]):
                # "POLDAJATIM", "poldasumut": a body written onto its region
                cut = t.start + len(body)
                out += [
                    _Token(body, t.start, cut, t.written[: len(body)]),
                    _Token(t.word[len(body) :], cut, t.end, t.written[len(body) :]),
                ]
            else:
                out.append(t)
        return out

    def _names_a_region(self, key: str) -> bool:
        """Whether `key` is the whole name of a province or regency/city, no ordinary word."""
        return key not in self._needs_marker and any(
            e.kind not in _LOCAL_KINDS for e in self._index.get(key, ())
        )

    @staticmethod
    def _confirmed(mentions: list[_Mention], tokens: list[_Token]) -> list[_Mention]:
        """Strong mentions, neighbouring names that agree on a kecamatan, and weak ones where
        strong ones narrow them to a few regencies (those named first, else the provinces)."""
        mentions = _uncontradicted(_agreeing(mentions), tokens)
        strong = [m for m in mentions if m.strong]

        def narrowed(weak: _Mention, by: Iterable[_Mention]) -> _Mention | None:
            regions = {c for m in by for c in m.codes}
            codes = frozenset(c for c in weak.codes if c in regions)
            codes = codes or frozenset(c for c in weak.codes if c[:2] in regions)
            if 1 <= len(codes) <= MAX_CANDIDATES:
                return weak._replace(codes=codes, strong=True)
            return None

        kept = []
        for mention in mentions:
            if mention.strong:
                kept.append(mention)
                continue
            if mention.marked:
                by = strong
            else:  # an unmarked local name only beside a regency/city or province containing it
                # (one in lower case only right beside it: "rawa indah, jakarta")
                beside = 0 if mention.faint else _BESIDE
                by = [
                    m
                    for m in strong
                    if not m.local
                    and m.first - beside <= mention.stop
                    and mention.first <= m.stop + beside
                ]
            confirmed = narrowed(mention, by)
            if confirmed is None and mention.alone:
                confirmed = mention._replace(codes=mention.alone, strong=True)
            if confirmed is None and not mention.marked and not mention.faint:
                confirmed = _deciding(mention, strong)
            if mention.faint and confirmed is not None and len(confirmed.codes) > 1:
                confirmed = None
            if confirmed is not None:
                kept.append(confirmed)
        return kept

    # --- deciding ----------------------------------------------------------------------------

    def _decide(
        self, tokens: list[_Token], mentions: list[_Mention], text: str, source: str
    ) -> Jurisdiction | None:
        if not mentions:
            return None
        kabkota: Counter[str] = Counter()
        provinces: Counter[str] = Counter()
        named_provinces: Counter[str] = Counter()
        for m in mentions:
            for province in {c[:2] for c in m.codes}:
                provinces[province] += 1
            if m.provincial:
                named_provinces.update(m.codes)
            else:
                kabkota.update(m.codes)
        if kabkota:
            score = {k: n + named_provinces[k[:2]] for k, n in kabkota.items()}
            best = max(score.values())
            top = sorted(k for k, n in score.items() if n == best)
            rivals = sorted(
                p for p, n in provinces.items() if n >= best and not any(k[:2] == p for k in top)
            )
            top = _held(top, mentions, tokens)
            chosen = top + rivals
        else:
            best = max(provinces.values())
            chosen = sorted(p for p, n in provinces.items() if n == best)
        supporting = [
            m
            for m in mentions
            if any(contains(c, k) or contains(k, c) for c in m.codes for k in chosen)
        ]
        evidence = "; ".join(
            dict.fromkeys(text[tokens[m.first].start : tokens[m.stop - 1].end] for m in supporting)
        )
        if len(chosen) == 1:
            return self._jurisdiction(chosen[0], source, evidence)
        common = {c[:2] for c in chosen}
        code = common.pop() if len(common) == 1 else None
        return self._jurisdiction(code, source, evidence, tuple(chosen))

    def _jurisdiction(
        self, code: str | None, source: str, evidence: str, candidates: tuple[str, ...] = ()
    ) -> Jurisdiction:
        region = self._gazetteer.get(code) if code else None
        return Jurisdiction(
            code=code,
            name=region.name if region else None,
            level=region.level if region else None,  # type: ignore[arg-type]
            source=source,  # type: ignore[arg-type]
            evidence=evidence,
            candidates=candidates,
        )

    def _find_in(self, text: str, source: str) -> Jurisdiction | None:
        tokens, mentions = self._mentions(text)
        return self._decide(tokens, mentions, text, source)

    def _from_location(self, location: str) -> Jurisdiction | None:
        written = location.strip()
        code = normalize_code(written)
        if code is None:
            return self._find_in(written, "location") if written else None
        region = self._gazetteer.get(code)
        if region is None:
            return None
        return self._jurisdiction(region.kabkota or region.province, "location", written)

    # --- the public face ---------------------------------------------------------------------

    def find(self, text: str, location: str | None = None) -> PlaceFinding:
        """The jurisdiction of one complaint.

        `location` (LAPOR!'s location field: free text, or a Kemendagri code such as "32.73" or
        "3273") wins over the text. When the text names a place inside it (a regency of a
        province given as the location, or one of an ambiguous location's candidates), the
        text's finding is the more specific answer and is returned; when the text names a
        place inconsistent with it, `PlaceFinding.conflict` holds the text's finding.
        """
        in_text = self._find_in(text or "", "text")
        given = self._from_location(location) if location else None
        if given is None or in_text is None:
            return PlaceFinding(given or in_text)
        if not _consistent(given, in_text):
            return PlaceFinding(given, conflict=in_text)
        narrows = (
            not in_text.ambiguous
            and in_text.code is not None
            and any(contains(g, in_text.code) for g in given._possible())
            and (given.ambiguous or in_text.code != given.code)
        )
        return PlaceFinding(in_text if narrows else given)

    def find_batch(
        self, texts: Sequence[str], locations: Sequence[str | None] | None = None
    ) -> list[PlaceFinding]:
        """`find` for each complaint; `locations`, when given, pairs with `texts` by position."""
        if locations is None:
            locations = [None] * len(texts)
        if len(locations) != len(texts):
            raise ValueError(f"{len(texts)} texts but {len(locations)} locations")
        return [self.find(text, location) for text, location in zip(texts, locations, strict=True)]


def _tokens(text: str) -> list[_Token]:
    tokens = []
    for match in _WORD.finditer(text):
        start, written = match.start(), match.group()
        plain = written[1:].islower() or written.isupper() or written.isdigit()
        parts = (written,) if plain else _CAMEL.split(written)
        if not written.isalpha():  # benchmarks/latency.py: batch guard (most words hold no digit)
            parts = [piece for p in parts for piece in _DIGITS.split(p)]
        for part in parts:
            word = _fold(part).lower()
            tokens.append(_Token(_SPELLINGS.get(word, word), start, start + len(part), part))
            start += len(part)
    return tokens


def _uncontradicted(mentions: list[_Mention], tokens: list[_Token]) -> list[_Mention]:
    """`mentions` without the kecamatan and villages whose address names other towns: when
    regencies/cities or provinces are named in the address that runs on after a local name
    (places, numbers, street words and names; nothing like "ke" or "dan"), one must contain
    some reading of it (``Tlogosari, Semarang`` is not the kecamatan Tlogosari of
    Bondowoso)."""

    def contradicted(m: _Mention) -> bool:
        towns, last = [], m.stop
        for t in mentions:
            if t.first < m.stop:
                continue
            between = [
                w
                for w in tokens[last : t.first]
                if not (w.word.isdigit() or w.word in _ADDRESS_NUMBERS)
            ]
            if len(between) > _BESIDE or not all(_in_address(w) for w in between):
                break
            if not t.local:
                towns.append(t)
            last = t.stop
        readings = {c[:5] for c in (*m.codes, *m.places)}
        return bool(towns) and not any(
            c in t.codes or c[:2] in t.codes for t in towns for c in readings
        )

    return [m for m in mentions if not (m.local and contradicted(m))]


def _in_address(token: _Token) -> bool:
    """Whether a word may stand inside an address, between a village and its town: a street
    word or a name (``gang Mawar``), not a clause (``padahal KTP saya``) nor a move (``ke``)."""
    if token.word in _MOVES:
        return False
    return token.word in _STREETS or token.written[:1].isupper()


def _agreeing(mentions: list[_Mention]) -> list[_Mention]:
    """`mentions`, where two neighbouring names are places of one kecamatan (a village and its
    kecamatan, or two of its villages: ``ulujami pesanggrahan``, ``Kel. Pekayon Kalisari``)
    both read as places of its regency, however written. A regency/city or province reading
    gives way only to a kecamatan in its own province."""
    out = list(mentions)
    for i, (a, b) in enumerate(itertools.pairwise(mentions)):
        if b.first != a.stop or not a.places or not b.places or a.places == b.places:
            continue
        shared = {c[:8] for c in a.places} & {c[:8] for c in b.places}
        regencies = frozenset(c[:5] for c in shared)
        for m in (a, b):
            if not m.local:
                regencies = frozenset(c for c in regencies if c[:2] in {k[:2] for k in m.codes})
        if 1 <= len(regencies) <= MAX_CANDIDATES:
            for k in (i, i + 1):
                out[k] = out[k]._replace(
                    codes=regencies, provincial=False, strong=True, local=True, faint=False
                )
    return out


def _deciding(local: _Mention, strong: list[_Mention]) -> _Mention | None:
    """A local name written as one (``Cicadas``) anywhere in a complaint whose only regency/city
    named is a bare name of both a regency and a city (``Bandung``), when it lies in just one of
    those: it decides which. With other places named it might as well be a person or a word."""
    named = {m.codes for m in strong if not m.local and not m.provincial}
    if len(named) != 1:
        return None
    (bare,) = named
    codes = local.codes & bare
    return local._replace(codes=codes, strong=True) if len(bare) > 1 and len(codes) == 1 else None


def _held(top: list[str], mentions: list[_Mention], tokens: list[_Token]) -> list[str]:
    """Of regencies/cities named as often, those that hold the place of the matter (not a town
    in passing): those whose kecamatan, else villages, are named most; of one province, else
    those named most with their kind (``Kabupaten X``: kab and kota of one name). Across
    provinces the kind says nothing of the matter ("pindah dari X ke kota Y" goes either way),
    nor does a public body's name, which villages elsewhere share (``Puskesmas Kopo``)."""
    across = len({k[:2] for k in top}) > 1
    local = [
        m
        for m in mentions
        if m.local and not (across and tokens[m.first].word in _BODIES | _SCHOOLS)
    ]

    def depth(k: str) -> tuple[int, ...]:
        kecamatan = sum(any(len(p) == 8 and p[:5] == k for p in m.places) for m in local)
        villages = sum(k in m.codes for m in local)
        if across:
            return kecamatan, villages
        kind = sum(tokens[m.first].word in _MARKER_WORDS and k in m.codes for m in mentions)
        return kecamatan, villages, kind

    depths = {k: depth(k) for k in top}
    return [k for k in top if depths[k] == max(depths.values())]


def _urban(entry: _Entry) -> bool:
    """Whether an entry is a kelurahan (a town's village: Kemendagri codes ``.1xxx``)."""
    return entry.kind == "desa" and entry.code[-4] == "1"


def _plain(word: str) -> bool:
    """Whether a word may begin a place name read without a marker."""
    return word not in _STOPS and word not in _PRONOUNS and word not in _MARKER_WORDS


def _bare(wide: Sequence[_Entry]) -> list[_Entry]:
    """The reading of a regency/city or province name written without a marker: a name that
    is a province and one city is the province (``Jambi``); one that is also both a regency
    and a city names one of those two, like a bare ``Bandung`` (``Gorontalo``)."""
    provinces = [e for e in wide if e.kind == "provinsi"]
    if provinces and len(wide) - len(provinces) >= 2:
        return [e for e in wide if e.kind != "provinsi"]
    return provinces or list(wide)


def _names_a_person(text: str, tokens: list[_Token], breaks: list[bool], at: int) -> bool:
    """Whether an honorific at `at` names the person after it (``Pak Bima``): not an office
    (``Pak Bupati``), nor a word past punctuation or the end of a sentence (``pak, Medan``)."""
    if tokens[at].word not in _HONORIFICS or at + 1 >= len(tokens) or breaks[at]:
        return False
    if tokens[at + 1].word in _OFFICES:
        return False
    between = text[tokens[at].end : tokens[at + 1].start]
    return "." not in between or tokens[at].word in _SHORT_HONORIFICS


def _bank_branch_at(tokens: list[_Token], breaks: list[bool], at: int) -> int:
    """The word after a bank's branch word ("Bank BRI Cabang", "BRI Unit") at `at`; `at` if
    no bank's branch is named there."""
    if tokens[at].word not in _BANKS:
        return at
    for end in range(at + 1, min(len(tokens), at + 4)):
        if breaks[end - 1]:
            break
        if tokens[end].word in _BRANCHES:
            return end + 1
    return at


def _names_a_holder(tokens: list[_Token], breaks: list[bool], at: int) -> bool:
    """Whether ``atas nama`` (on behalf of, in the name of) starts at `at`."""
    return (
        at + 2 < len(tokens)
        and (tokens[at].word, tokens[at + 1].word) == _HOLDER
        and not breaks[at]
    )


def _names_a_street(text: str, tokens: list[_Token], at: int) -> bool:
    if at + 1 >= len(tokens):
        return False
    after = tokens[at + 1]
    if tokens[at].word not in _COMMON_STREETS or after.word == "raya":
        return True
    return after.written[:1].isupper()


def _breaks(text: str, before: _Token, after: _Token) -> bool:
    """Whether punctuation between two words ends a name."""
    if _MARKERS.get((before.word,)) in ("kec", "desa") and _FORM_LABEL.fullmatch(
        text, before.end, after.start
    ):
        # a form's label: "Kecamatan : X" (a town's, "Kota: X", is as often a birthplace or
        # an address elsewhere)
        return False
    if _BREAK.search(text, before.end, after.start):
        return True
    short = before.end - before.start <= _ABBREVIATION
    return not short and bool(_FULL_STOP.search(text, before.end, after.start))


def _consistent(a: Jurisdiction, b: Jurisdiction) -> bool:
    """Whether some reading of `a` equals or contains some reading of `b`, or the reverse."""
    return any(contains(x, y) or contains(y, x) for x in a._possible() for y in b._possible())


@functools.cache
def default_place_finder() -> PlaceFinder:
    """The place finder over the shipped gazetteer and ``data/places/``, one per process."""
    return PlaceFinder()
