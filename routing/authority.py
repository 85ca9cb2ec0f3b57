"""Which office handles a complaint: a role learned from the text, placed by its jurisdiction.

A router learns *what kind* of office is responsible (a role such as "DINAS PU", or a national
agency's code) from the text; *which* office follows from the place the complaint is about and
from who has authority there. Authority lives in an editable rules file
(``data/authority.csv``), not in code::

    role,when,level,agency,region,note
    DINAS PENDIDIKAN,sma|smk|slb|sekolah menengah atas,provinsi,,,UU 23/2014: secondary → province
    DINAS PU,jalan nasional,pusat,KEMENPU,,national roads: the ministry
    DINAS PU,jalan provinsi,provinsi,,,
    ,,provinsi,,31.74,Jakarta Selatan is an administrative city: its offices are the province's

A *level rule* (``region`` empty) says at which level a role's complaints are handled when the
complaint's normalized text (`routing.text.TextNormalizer`) holds one of the ``when`` phrases
(separated by ``|``, each matched as whole words; empty: any text). The first rule of the role
that matches wins, in file order; ``level`` pusat needs ``agency``, the national agency that
takes them. A role no rule matches is handled at the finest level it has offices at.

A *region rule* (``region`` set to a regency/city code, ``level`` provinsi, ``when`` and
``agency`` empty) says that a regency/city has no government of its own: its offices, of
``role`` or of every role when ``role`` is empty, are its province's. Such a regency/city gets
no generated government in the catalogue.

`resolve_agency` puts it together: the role's level by the rules, the region of that level the
jurisdiction names (after region rules), and the catalogue's office of the role there, or the
region's government when the catalogue lists none.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from routing.catalogue import (
    KABKOTA_GOVERNMENT,
    LEVELS,
    PROVINCE_GOVERNMENT,
    Agency,
    Catalogue,
    CatalogueError,
    Level,
    parse_catalogue,
    read_catalogue_rows,
)
from routing.datafiles import data_file, read_table

if TYPE_CHECKING:
    from routing.gazetteer import Gazetteer
    from routing.places import Jurisdiction

__all__ = [
    "AGENCIES_FILE",
    "AUTHORITY_FILE",
    "RULE_COLUMNS",
    "Authority",
    "AuthorityError",
    "LevelRule",
    "RegionRule",
    "Resolution",
    "Rules",
    "load_authority",
    "parse_authority",
    "parse_rules",
    "resolve_agency",
]

AGENCIES_FILE = "agencies.csv"
AUTHORITY_FILE = "authority.csv"
DEFAULT_AGENCIES_PATH: Path = data_file(AGENCIES_FILE)
DEFAULT_AUTHORITY_PATH: Path = data_file(AUTHORITY_FILE)
RULE_COLUMNS = ("role", "when", "level", "agency", "region", "note")
PHRASE_SEPARATOR = "|"
_KABKOTA_CODE = re.compile(r"[0-9]{2}\.[0-9]{2}")


class AuthorityError(CatalogueError):
    """The rules file is malformed or does not fit the catalogue; str() is one line."""


@dataclass(frozen=True)
class LevelRule:
    """Complaints of `role` whose text holds one of `phrases` (none: any) are handled at
    `level`; at level pusat by the national `agency`."""

    role: str
    phrases: tuple[str, ...]
    level: Level
    agency: str | None = None
    note: str = ""
    _pattern: re.Pattern[str] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        words = (r"\s+".join(map(re.escape, phrase.split())) for phrase in self.phrases)
        pattern = re.compile(r"(?<!\w)(?:" + "|".join(words) + r")(?!\w)")
        object.__setattr__(self, "_pattern", pattern if self.phrases else None)

    def matches(self, text: str) -> bool:
        """Whether the normalized `text` holds one of the phrases as whole words."""
        return self._pattern is None or self._pattern.search(text) is not None


@dataclass(frozen=True)
class RegionRule:
    """The regency/city `region` has no government of its own: its offices of `role` (None:
    of every role) are its province's."""

    region: str
    role: str | None = None
    note: str = ""

    @property
    def province(self) -> str:
        return self.region.split(".")[0]


@dataclass(frozen=True)
class Rules:
    """A parsed rules file (`parse_rules`)."""

    level: tuple[LevelRule, ...] = ()
    region: tuple[RegionRule, ...] = ()

    def without_government(self) -> frozenset[str]:
        """Regencies/cities whose every office is their province's: no government of their own."""
        return frozenset(rule.region for rule in self.region if rule.role is None)


@dataclass(frozen=True)
class Resolution:
    """The concrete agency for one suggested class, or why there is none.

    `agency` is None for a label the catalogue does not know (a plain agency, kept as it is)
    and for a local role whose place is missing or ambiguous (`unresolved`); then
    `candidates` are the agencies it could be. `fallback` is true when `agency` is the
    region's government standing in for an office the catalogue does not list.
    """

    label: str
    agency: Agency | None
    candidates: tuple[Agency, ...] = ()
    role: str | None = None  # the label, when it is a role
    level: Level | None = None  # the level the rules gave the role
    rule: LevelRule | None = None  # the level rule that decided, if one did
    fallback: bool = False

    @property
    def unresolved(self) -> bool:
        """A role that needs a place to name its office, and did not get a decided one."""
        return self.role is not None and self.agency is None


@dataclass(frozen=True)
class Authority:
    """A catalogue with its rules (and the gazetteer its governments came from)."""

    catalogue: Catalogue
    rules: Rules
    gazetteer: Gazetteer | None = None
    # the texts of the catalogue and rules files it was read from, by file name: what a
    # bundle stores (AGENCIES_FILE, AUTHORITY_FILE)
    files: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)

    @property
    def warnings(self) -> tuple[str, ...]:
        """One line each about files that loaded but should be updated (`Catalogue.warnings`)."""
        return self.catalogue.warnings

    def level_of(self, role: str, text: str) -> tuple[Level, LevelRule | None]:
        """The level at which complaints of `role` with normalized `text` are handled, and the
        rule that said so (None: the finest level the role has offices at)."""
        for rule in self.rules.level:
            if rule.role == role and rule.matches(text):
                return rule.level, rule
        levels = {agency.level for agency in self.catalogue.offices_of(role)}
        return ("kabkota" if "kabkota" in levels else "provinsi"), None

    def resolve(self, label: str, jurisdiction: Jurisdiction | None, text: str) -> Resolution:
        """See `resolve_agency`."""
        catalogue = self.catalogue
        if label in catalogue.agencies:
            return Resolution(label, catalogue.agencies[catalogue.current(label)])
        if label not in catalogue.roles:
            return Resolution(label, None)
        level, rule = self.level_of(label, text)
        if rule is not None and rule.agency is not None:
            agency = catalogue.agencies[catalogue.current(rule.agency)]
            return Resolution(label, agency, role=label, level=level, rule=rule)
        found = _distinct(
            self._office(label, region) for region in self._regions(label, level, jurisdiction)
        )
        if jurisdiction is None or not found:
            listed = tuple(
                agency
                for agency in catalogue.offices_of(label)
                if agency.level == level and agency.code not in catalogue.generated
            )
            return Resolution(label, None, listed, role=label, level=level, rule=rule)
        if len(found) == 1:
            agency, fallback = found[0]
            return Resolution(label, agency, role=label, level=level, rule=rule, fallback=fallback)
        candidates = tuple(agency for agency, _ in found)
        return Resolution(label, None, candidates, role=label, level=level, rule=rule)

    def _regions(self, role: str, level: Level, jurisdiction: Jurisdiction | None) -> list[str]:
        """The regions whose office of `role` at `level` the jurisdiction could mean."""
        if jurisdiction is None:
            return []
        codes = list(jurisdiction.candidates) or ([jurisdiction.code] if jurisdiction.code else [])
        if level == "provinsi":
            return sorted({code.split(".")[0] for code in codes})
        kabkota: list[str] = []
        for code in codes:
            if "." in code:
                kabkota.append(code)
            elif self.gazetteer is not None:  # a province alone: any of its regencies/cities
                kabkota += [r.code for r in self.gazetteer.kabkota() if r.province == code]
        return sorted({self._office_region(role, code) for code in kabkota})

    def _office_region(self, role: str, kabkota: str) -> str:
        """Where a regency/city's office of `role` is: its own, or its province's by a rule."""
        for rule in self.rules.region:
            if rule.region == kabkota and rule.role in (None, role):
                return rule.province
        return kabkota

    def _office(self, role: str, region: str) -> tuple[Agency, bool] | None:
        """(the office of `role` in `region`, False), or (the region's government, True)."""
        office = self.catalogue.office(role, region)
        if office is not None:
            return office, False
        province = region.split(".")[0]
        government = (
            self.catalogue.office(KABKOTA_GOVERNMENT, region) if "." in region else None
        ) or self.catalogue.office(PROVINCE_GOVERNMENT, province)
        return None if government is None else (government, True)


def _distinct(found: Iterable[tuple[Agency, bool] | None]) -> list[tuple[Agency, bool]]:
    """The distinct (agency, fallback) pairs of `found`, Nones dropped, in order."""
    out: dict[str, tuple[Agency, bool]] = {}
    for item in found:
        if item is not None:
            out.setdefault(item[0].code, item)
    return list(out.values())


def resolve_agency(
    label: str, jurisdiction: Jurisdiction | None, text: str, authority: Authority
) -> Resolution:
    """The concrete agency for a suggested class `label` of a complaint.

    `label` is a router class: a national agency's code (or any catalogue code) passes through
    as its current agency; a label the catalogue does not know comes back without an agency.
    A role is handled at the level the rules give it for the normalized `text`; a rule naming a
    national agency decides alone. Otherwise the jurisdiction picks the region of that level
    (its province; its regency/city, or the province a region rule sends it to), and the
    catalogue's office of the role there is the agency, or the government of that regency/city
    or province when the catalogue lists none (`fallback`). With no jurisdiction, or one that
    leaves more than one office possible (ambiguous, or a province alone for a regency/city
    role), the agency is None and `candidates` lists the offices it could be (with no place:
    the catalogue's own offices of the role at that level).
    """
    return authority.resolve(label, jurisdiction, text)


def parse_rules(text: str, source: str = AUTHORITY_FILE) -> Rules:
    """Validate a rules file's text (CSV with RULE_COLUMNS); raises AuthorityError naming the
    line for an unknown column set, level, a level rule without a role, a pusat rule without
    an agency, an agency on another level, or a region rule that is not a regency/city code
    sent to its province."""
    reader = read_table(text, RULE_COLUMNS, source=source, error=AuthorityError)
    level_rules: list[LevelRule] = []
    region_rules: list[RegionRule] = []
    for line, row in enumerate(reader, start=2):
        rule = _rule(row, f"{source}, line {line}")
        if isinstance(rule, RegionRule):
            region_rules.append(rule)
        else:
            level_rules.append(rule)
    return Rules(tuple(level_rules), tuple(region_rules))


def _rule(row: Mapping[str, str | None], where: str) -> LevelRule | RegionRule:
    values = {column: " ".join((row.get(column) or "").split()) for column in RULE_COLUMNS}
    role = values["role"].upper() or None
    level, agency, region = values["level"], values["agency"] or None, values["region"] or None
    if level not in LEVELS:
        raise AuthorityError(f"{where}: level {level!r} is not one of {', '.join(LEVELS)}")
    if region is not None:
        if not _KABKOTA_CODE.fullmatch(region):
            raise AuthorityError(
                f"{where}: region {region!r} is not a regency/city code like '31.74'"
            )
        if level != "provinsi" or agency or values["when"]:
            raise AuthorityError(
                f"{where}: a region rule sends a regency/city to its province: level "
                "provinsi, no when, no agency"
            )
        return RegionRule(region, role, values["note"])
    if role is None:
        raise AuthorityError(f"{where}: a rule needs a role (or a region)")
    if (level == "pusat") != (agency is not None):
        raise AuthorityError(
            f"{where}: a rule names an agency exactly when its level is pusat (the national "
            "agency that takes the complaints)"
        )
    phrases = tuple(p.strip().lower() for p in values["when"].split(PHRASE_SEPARATOR) if p.strip())
    return LevelRule(role, phrases, level, agency, values["note"])  # type: ignore[arg-type]


def parse_authority(
    catalogue_text: str,
    rules_text: str,
    *,
    gazetteer: Gazetteer | None = None,
    sources: tuple[str, str] = (AGENCIES_FILE, AUTHORITY_FILE),
) -> Authority:
    """A catalogue CSV's and a rules file's texts, checked against each other.

    The catalogue gets the governments of `gazetteer`'s regions (but of the regencies/cities
    region rules give to their province). A rule about a role no agency of the catalogue has
    does nothing (the shipped rules work with any catalogue); a rule about a role it has must
    name a national agency it holds, and region rules regencies/cities of the gazetteer.
    """
    catalogue_source, rules_source = sources
    rules = parse_rules(rules_text, rules_source)
    catalogue = parse_catalogue(
        read_catalogue_rows(catalogue_text, catalogue_source),
        catalogue_source,
        gazetteer=gazetteer,
        without_government=rules.without_government(),
    )
    for rule in rules.level:
        if rule.role not in catalogue.roles or rule.agency is None:
            continue
        agency = catalogue.agencies.get(rule.agency)
        if agency is None or agency.local:
            raise AuthorityError(
                f"{rules_source}: the {rule.role} rule names {rule.agency!r}, which is not a "
                f"national agency of {catalogue_source}"
            )
    for rule in rules.region:
        if gazetteer is not None and gazetteer.get(rule.region) is None:
            raise AuthorityError(f"{rules_source}: region {rule.region!r} is not in the gazetteer")
    files = {AGENCIES_FILE: catalogue_text, AUTHORITY_FILE: rules_text}
    return Authority(catalogue, rules, gazetteer, files)


def load_authority(
    catalogue: str | Path | None = None,
    rules: str | Path | None = None,
    *,
    gazetteer: Gazetteer | None = None,
) -> Authority:
    """Read a catalogue and a rules file (default: the shipped ``data/agencies.csv`` and
    ``data/authority.csv``) with the governments of `gazetteer` (default: the shipped one)."""
    if gazetteer is None:
        from routing.gazetteer import load_gazetteer

        gazetteer = load_gazetteer()
    catalogue_path = Path(catalogue or DEFAULT_AGENCIES_PATH)
    rules_path = Path(rules or DEFAULT_AUTHORITY_PATH)
    return parse_authority(
        _read(catalogue_path, "agency catalogue"),
        _read(rules_path, "rules file"),
        gazetteer=gazetteer,
        sources=(str(catalogue_path), str(rules_path)),
    )


def _read(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise AuthorityError(f"{what} not found: {path}") from None
    except UnicodeDecodeError:
        raise AuthorityError(f"{path}: the {what} must be UTF-8") from None
