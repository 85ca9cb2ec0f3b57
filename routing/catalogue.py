"""The agency catalogue: stable codes for agencies, their spellings, and their reorganisations.

Dispositions name agencies by whatever string the source system used ("BPJS KESEHATAN",
"Badan Penyelenggara Jaminan Sosial Kesehatan", "bpjs kes"), and agencies get renamed or
merged. Training on raw strings splits one agency's complaints across several labels; mapping
every label to a catalogue code first keeps them together. The catalogue is a CSV::

    code,name,level,region,role,aliases,replaced_by
    KOMINFO,KEMENTERIAN KOMUNIKASI DAN INFORMATIKA,pusat,,,KEMKOMINFO|KOMINFO RI,KOMDIGI
    KOMDIGI,KEMENTERIAN KOMUNIKASI DAN DIGITAL,pusat,,,KEMKOMDIGI,
    DPU-BDG,DINAS PEKERJAAN UMUM KOTA BANDUNG,kabkota,32.73,DINAS PU,DPU KOTA BANDUNG,

`level` is the level of government: pusat (national), provinsi or kabkota (regency/city); the
older `daerah` still loads, read as kabkota, with a warning. A regional agency's `region` is the
Kemendagri code of its province ("32") or regency/city ("32.73"), and its `role` the kind of
office it is ("DINAS PU"): complaints are learned per role, and the place a complaint is about
picks the office (`routing.authority`). National agencies have neither. `aliases` are
separated by ``|``; `replaced_by` names the code that took over (a rename, or one of several
agencies merged into a new one), applied transitively. Codes, names and aliases match case- and
whitespace-insensitively.

Loaded with a gazetteer, the catalogue also holds the government of every province and
regency/city (`government_agencies`), so they are never typed: ``PEMPROV-32`` "PEMERINTAH
PROVINSI JAWA BARAT", ``PEMKOT-32.73`` "PEMERINTAH KOTA BANDUNG", ``PEMKAB-32.04`` "PEMERINTAH
KABUPATEN BANDUNG", with the usual spellings ("PEMKOT BANDUNG") as aliases. A row of the file
with the same code replaces the generated one, and a spelling the file gives another agency is
that agency's.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal, get_args

from routing.datafiles import read_table

if TYPE_CHECKING:
    from routing.gazetteer import Gazetteer

__all__ = [
    "COLUMNS",
    "GOVERNMENT_ROLES",
    "LEVELS",
    "Agency",
    "Catalogue",
    "CatalogueError",
    "LabelMapping",
    "Level",
    "government_agencies",
    "load_catalogue",
    "parse_catalogue",
    "read_catalogue_rows",
    "spelling_key",
]

Level = Literal["pusat", "provinsi", "kabkota"]
LEVELS: tuple[Level, ...] = get_args(Level)
COLUMNS = ("code", "name", "level", "region", "role", "aliases", "replaced_by")
REQUIRED = ("code", "name", "level")
OLD_LOCAL_LEVEL = "daerah"  # before provinces and regencies were told apart
ALIAS_SEPARATOR = "|"
PROVINCE_GOVERNMENT = "PEMPROV"
KABKOTA_GOVERNMENT = "PEMKAB/PEMKOT"
GOVERNMENT_ROLES = (PROVINCE_GOVERNMENT, KABKOTA_GOVERNMENT)
# How provinces with a special status are usually written: "PEMPROV DKI JAKARTA".
_PROVINCE_ABBREVIATIONS = (("DAERAH KHUSUS IBUKOTA ", "DKI "), ("DAERAH ISTIMEWA ", "DI "))
_LISTED = 5


class CatalogueError(ValueError):
    """The catalogue file is malformed or inconsistent; str() is one line naming the problem."""


@dataclass(frozen=True)
class Agency:
    """One catalogue row."""

    code: str
    name: str
    level: Level
    aliases: tuple[str, ...] = ()
    replaced_by: str | None = None
    region: str | None = None  # Kemendagri code of its province or regency/city; None: national
    role: str | None = None  # the kind of office ("DINAS PU"); None: national or unknown

    @property
    def local(self) -> bool:
        """Whether it is a provincial or regency/city agency."""
        return self.level != "pusat"

    @property
    def label(self) -> str:
        """The class a router learns its complaints as: its role when it is a regional
        office of a known kind (the place picks the office), else its code."""
        return self.role if self.local and self.role else self.code


def spelling_key(label: str) -> str:
    """The form in which two spellings of one agency compare equal."""
    return " ".join(unicodedata.normalize("NFKC", label).split()).casefold()


@dataclass(frozen=True)
class LabelMapping:
    """Labels after mapping, and what the mapping did (counts only)."""

    labels: list[str]
    changed: int
    unknown: dict[str, int] = field(default_factory=dict)

    def warnings(self) -> list[str]:
        if not self.unknown:
            return []
        listed = ", ".join(f"{label} ({n})" for label, n in list(self.unknown.items())[:_LISTED])
        more = len(self.unknown) - _LISTED
        return [
            f"{len(self.unknown)} labels are not in the agency catalogue and were kept as "
            f"they are: {listed}" + (f" and {more} more" if more > 0 else "")
        ]

    def to_dict(self) -> dict:
        return {"changed": self.changed, "unknown": dict(self.unknown)}


@dataclass(frozen=True)
class Catalogue:
    """Agencies by code and every known spelling → code; build it with `parse_catalogue`.

    `offices` finds the agency of a role in a region; `generated` are the codes of the
    governments made from the gazetteer (none without one); `warnings` are one line each,
    about a file that loaded but should be updated.
    """

    agencies: Mapping[str, Agency]
    spellings: Mapping[str, str]
    offices: Mapping[tuple[str, str], str] = field(default_factory=dict)  # (role, region) → code
    generated: frozenset[str] = frozenset()
    warnings: tuple[str, ...] = ()

    @functools.cached_property
    def roles(self) -> frozenset[str]:
        """The roles of the regional agencies."""
        return frozenset(self._by_role)

    @functools.cached_property
    def _by_role(self) -> dict[str, tuple[Agency, ...]]:
        by_role: dict[str, list[Agency]] = {}
        for (role, _), code in sorted(self.offices.items()):
            by_role.setdefault(role, []).append(self.agencies[code])
        return {role: tuple(agencies) for role, agencies in by_role.items()}

    def labels(self) -> frozenset[str]:
        """Every class a router trained with this catalogue can learn (`Agency.label`)."""
        return frozenset(self.agencies[self.current(code)].label for code in self.agencies)

    def office(self, role: str, region: str) -> Agency | None:
        """The agency of `role` in `region` ("32.73", "32"), if the catalogue lists one."""
        code = self.offices.get((role, region))
        return None if code is None else self.agencies[code]

    def offices_of(self, role: str) -> tuple[Agency, ...]:
        """The agencies of `role`, in region order."""
        return self._by_role.get(role, ())

    def code_of(self, label: str) -> str | None:
        """The current code for a spelling, after renames and merges; None when unknown."""
        code = self.spellings.get(spelling_key(label))
        return None if code is None else self.current(code)

    def current(self, code: str) -> str:
        """Follow `replaced_by` to the agency that handles `code`'s complaints today."""
        while (successor := self.agencies[code].replaced_by) is not None:
            code = successor
        return code

    def label_of(self, label: str) -> str:
        """The class a label is learned as (`Agency.label` of its current agency); a label the
        catalogue does not know is kept as it is."""
        code = self.code_of(label) if label.strip() else None
        return label if code is None else self.agencies[code].label

    def map_labels(self, labels: Iterable[str], *, roles: bool = False) -> LabelMapping:
        """Map each label to its current code (`roles`: to the class it is learned as, see
        `label_of`); unknown and empty labels are kept as they are."""
        out: list[str] = []
        unknown: Counter[str] = Counter()
        changed = 0
        for label in labels:
            code = self.code_of(label) if label.strip() else None
            if code is None:
                if label.strip():
                    unknown[label] += 1
                out.append(label)
                continue
            mapped = self.agencies[code].label if roles else code
            changed += mapped != label
            out.append(mapped)
        return LabelMapping(out, changed, dict(unknown.most_common()))


def parse_catalogue(
    rows: Sequence[Mapping[str, str | None]],
    source: str = "catalogue",
    *,
    gazetteer: Gazetteer | None = None,
    without_government: Collection[str] = (),
) -> Catalogue:
    """Validate catalogue rows (dicts keyed by COLUMNS) and index their spellings.

    With a gazetteer, regions must exist in it and the governments of its provinces and
    regencies/cities join the catalogue (`government_agencies`), except those of the
    regencies/cities in `without_government` (Jakarta's administrative cities: their offices
    are the province's). Without one, regions are only checked for their form.

    Raises CatalogueError for a missing field, an unknown level, a region that does not fit
    the level, a role without a region or on a national agency, two offices of one role in one
    region, a role spelled like a code, a duplicate code, a spelling shared by two codes, a
    replacement by an unknown code, or a replacement cycle.
    """
    agencies: dict[str, Agency] = {}
    spellings: dict[str, str] = {}
    offices: dict[tuple[str, str], str] = {}
    old_levels = 0
    for line, row in enumerate(rows, start=2):  # line 1 is the header
        where = f"{source}, line {line}"
        agency = _agency(row, where)
        old_levels += (row.get("level") or "").strip() == OLD_LOCAL_LEVEL
        if gazetteer is not None and agency.region and gazetteer.get(agency.region) is None:
            raise CatalogueError(f"{where}: region {agency.region!r} is not in the gazetteer")
        if agency.code in agencies:
            raise CatalogueError(f"{where}: duplicate code {agency.code!r}")
        _add(agency, agencies, spellings, offices, where)
    typed = set(agencies)
    generated = []
    if gazetteer is not None:
        generated = [
            agency
            for agency in government_agencies(gazetteer, without=without_government)
            if agency.code not in typed
        ]
    for agency in generated:
        # the file's own spellings and offices win over the generated ones
        names = (agency.code, agency.name, *agency.aliases)
        agency = Agency(
            agency.code,
            agency.name,
            agency.level,
            tuple(a for a in agency.aliases if spelling_key(a) not in spellings),
            region=agency.region,
            role=agency.role,
        )
        if spelling_key(names[0]) in spellings or spelling_key(names[1]) in spellings:
            continue
        if (agency.role, agency.region) in offices:
            continue
        _add(agency, agencies, spellings, offices, f"{source} (generated)")
    for agency in agencies.values():
        if agency.replaced_by is not None and agency.replaced_by not in agencies:
            raise CatalogueError(
                f"{source}: {agency.code} is replaced by unknown code {agency.replaced_by!r}"
            )
    for role, _ in offices:
        if role in agencies:
            raise CatalogueError(
                f"{source}: role {role!r} is also an agency's code; a router could not tell "
                "the two apart"
            )
    _check_cycles(agencies, source)
    warnings = ()
    if old_levels:
        warnings = (
            f"{source}: {old_levels} agencies have level {OLD_LOCAL_LEVEL!r}, read as kabkota; "
            "write provinsi or kabkota",
        )
    return Catalogue(
        agencies=agencies,
        spellings=spellings,
        offices=offices,
        generated=frozenset(a.code for a in generated if a.code in agencies),
        warnings=warnings,
    )


def _add(
    agency: Agency,
    agencies: dict[str, Agency],
    spellings: dict[str, str],
    offices: dict[tuple[str, str], str],
    where: str,
) -> None:
    agencies[agency.code] = agency
    for spelling in (agency.code, agency.name, *agency.aliases):
        key = spelling_key(spelling)
        owner = spellings.setdefault(key, agency.code)
        if owner != agency.code:
            raise CatalogueError(
                f"{where}: {spelling!r} would name both {owner} and "
                f"{agency.code}; a spelling must point at one code"
            )
    if agency.role and agency.region:
        other = offices.setdefault((agency.role, agency.region), agency.code)
        if other != agency.code:
            raise CatalogueError(
                f"{where}: {other} and {agency.code} are both the {agency.role} of region "
                f"{agency.region}; a region has one office of a role"
            )


def government_agencies(gazetteer: Gazetteer, without: Collection[str] = ()) -> list[Agency]:
    """The government of every province (``PEMPROV-32``) and regency/city (``PEMKAB-32.04``,
    ``PEMKOT-32.73``) of the gazetteer, but the regencies/cities in `without`."""
    out = []
    for province in gazetteer.provinces():
        name = province.name
        short = name
        for long, abbreviation in _PROVINCE_ABBREVIATIONS:
            short = short.replace(long, abbreviation)
        spellings = {f"PEMPROV {name}", f"PEMPROV {short}", f"PEMERINTAH PROVINSI {short}"}
        out.append(
            Agency(
                f"{PROVINCE_GOVERNMENT}-{province.code}",
                f"PEMERINTAH PROVINSI {name}",
                "provinsi",
                tuple(sorted(spellings - {f"PEMERINTAH PROVINSI {name}"})),
                region=province.code,
                role=PROVINCE_GOVERNMENT,
            )
        )
    skipped = set(without)
    for region in gazetteer.kabkota():
        if region.code in skipped:
            continue
        kind, _, bare = region.name.partition(" ")
        short = "PEMKOT" if kind == "KOTA" else "PEMKAB"
        out.append(
            Agency(
                f"{short}-{region.code}",
                f"PEMERINTAH {region.name}",
                "kabkota",
                (f"{short} {bare}", f"PEMDA {region.name}"),
                region=region.code,
                role=KABKOTA_GOVERNMENT,
            )
        )
    return out


def read_catalogue_rows(text: str, source: str) -> list[dict[str, str]]:
    """The rows of a catalogue CSV's text, after checking its header."""
    reader = read_table(text, REQUIRED, source=source, error=CatalogueError, columns=COLUMNS)
    rows = list(reader)
    if not rows:
        raise CatalogueError(f"{source}: the agency catalogue has no rows")
    return rows


def load_catalogue(
    path: str | Path,
    *,
    gazetteer: Gazetteer | None = None,
    without_government: Collection[str] = (),
) -> Catalogue:
    """Read and validate a catalogue CSV (UTF-8, header row with at least code,name,level);
    with a gazetteer, the governments join it (see `parse_catalogue`)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise CatalogueError(f"agency catalogue not found: {path}") from None
    except UnicodeDecodeError:
        raise CatalogueError(f"{path}: the agency catalogue must be UTF-8") from None
    return parse_catalogue(
        read_catalogue_rows(text, str(path)),
        source=str(path),
        gazetteer=gazetteer,
        without_government=without_government,
    )


_REGION_FORM = {"provinsi": re.compile(r"[0-9]{2}"), "kabkota": re.compile(r"[0-9]{2}\.[0-9]{2}")}
_REGION_EXAMPLE = {"provinsi": "32", "kabkota": "32.73"}


def _agency(row: Mapping[str, str | None], where: str) -> Agency:
    values = {column: (row.get(column) or "").strip() for column in COLUMNS}
    for column in REQUIRED:
        if not values[column]:
            raise CatalogueError(f"{where}: empty {column}")
    level = "kabkota" if values["level"] == OLD_LOCAL_LEVEL else values["level"]
    if level not in LEVELS:
        raise CatalogueError(
            f"{where}: level {values['level']!r} is not one of {', '.join(LEVELS)}"
        )
    region, role = values["region"] or None, " ".join(values["role"].split()).upper() or None
    if level == "pusat" and (region or role):
        raise CatalogueError(f"{where}: a national (pusat) agency has no region and no role")
    if region and not _REGION_FORM[level].fullmatch(region):
        raise CatalogueError(
            f"{where}: region {region!r} does not fit level {level} "
            f"(a Kemendagri code like {_REGION_EXAMPLE[level]!r})"
        )
    if role and not region:
        raise CatalogueError(f"{where}: role {role!r} needs the agency's region")
    aliases = tuple(a.strip() for a in values["aliases"].split(ALIAS_SEPARATOR) if a.strip())
    replaced_by = values["replaced_by"] or None
    if replaced_by == values["code"]:
        raise CatalogueError(f"{where}: {values['code']} is replaced by itself")
    return Agency(
        values["code"], values["name"], level, aliases, replaced_by, region=region, role=role
    )


def _check_cycles(agencies: Mapping[str, Agency], source: str) -> None:
    settled: set[str] = set()  # codes whose chain is known to end
    for start in agencies:
        chain: list[str] = []
        code: str | None = start
        while code is not None and code not in settled:
            if code in chain:
                cycle = " → ".join([*chain[chain.index(code) :], code])
                raise CatalogueError(f"{source}: replacement cycle {cycle}")
            chain.append(code)
            code = agencies[code].replaced_by
        settled.update(chain)
