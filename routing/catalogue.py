"""The agency catalogue: stable codes for agencies, their spellings, and their reorganisations.

Dispositions name agencies by whatever string the source system used ("BPJS KESEHATAN",
"Badan Penyelenggara Jaminan Sosial Kesehatan", "bpjs kes"), and agencies get renamed or
merged. Training on raw strings splits one agency's complaints across several labels; mapping
every label to a catalogue code first keeps them together. The catalogue is a CSV::

    code,name,level,aliases,replaced_by
    KOMINFO,KEMENTERIAN KOMUNIKASI DAN INFORMATIKA,pusat,KEMKOMINFO|KOMINFO RI,KOMDIGI
    KOMDIGI,KEMENTERIAN KOMUNIKASI DAN DIGITAL,pusat,KEMKOMDIGI,

`aliases` are separated by ``|``; `replaced_by` names the code that took over (a rename, or
one of several agencies merged into a new one), applied transitively. Codes, names and
aliases match case- and whitespace-insensitively.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "COLUMNS",
    "LEVELS",
    "Agency",
    "Catalogue",
    "CatalogueError",
    "LabelMapping",
    "load_catalogue",
    "parse_catalogue",
    "spelling_key",
]

COLUMNS = ("code", "name", "level", "aliases", "replaced_by")
REQUIRED = ("code", "name", "level")
LEVELS = ("pusat", "daerah")
ALIAS_SEPARATOR = "|"
_LISTED = 5


class CatalogueError(ValueError):
    """The catalogue file is malformed or inconsistent; str() is one line naming the problem."""


@dataclass(frozen=True)
class Agency:
    """One catalogue row."""

    code: str
    name: str
    level: str
    aliases: tuple[str, ...] = ()
    replaced_by: str | None = None


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
    """Agencies by code and every known spelling → code; build it with `parse_catalogue`."""

    agencies: Mapping[str, Agency]
    spellings: Mapping[str, str]

    def code_of(self, label: str) -> str | None:
        """The current code for a spelling, after renames and merges; None when unknown."""
        code = self.spellings.get(spelling_key(label))
        return None if code is None else self.current(code)

    def current(self, code: str) -> str:
        """Follow `replaced_by` to the agency that handles `code`'s complaints today."""
        while (successor := self.agencies[code].replaced_by) is not None:
            code = successor
        return code

    def map_labels(self, labels: Iterable[str]) -> LabelMapping:
        """Map each label to its current code; unknown and empty labels are kept as they are."""
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
            changed += code != label
            out.append(code)
        return LabelMapping(out, changed, dict(unknown.most_common()))


def parse_catalogue(
    rows: Sequence[Mapping[str, str | None]], source: str = "catalogue"
) -> Catalogue:
    """Validate catalogue rows (dicts keyed by COLUMNS) and index their spellings.

    Raises CatalogueError for a missing field, an unknown level, a duplicate code, a spelling
    shared by two codes, a replacement by an unknown code, or a replacement cycle.
    """
    agencies: dict[str, Agency] = {}
    spellings: dict[str, str] = {}
    for line, row in enumerate(rows, start=2):  # line 1 is the header
        agency = _agency(row, f"{source}, line {line}")
        if agency.code in agencies:
            raise CatalogueError(f"{source}, line {line}: duplicate code {agency.code!r}")
        agencies[agency.code] = agency
        for spelling in (agency.code, agency.name, *agency.aliases):
            key = spelling_key(spelling)
            owner = spellings.setdefault(key, agency.code)
            if owner != agency.code:
                raise CatalogueError(
                    f"{source}, line {line}: {spelling!r} would name both {owner} and "
                    f"{agency.code}; a spelling must point at one code"
                )
    for agency in agencies.values():
        if agency.replaced_by is not None and agency.replaced_by not in agencies:
            raise CatalogueError(
                f"{source}: {agency.code} is replaced by unknown code {agency.replaced_by!r}"
            )
    _check_cycles(agencies, source)
    return Catalogue(agencies=agencies, spellings=spellings)


def load_catalogue(path: str | Path) -> Catalogue:
    """Read and validate a catalogue CSV (UTF-8, header row with at least code,name,level)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise CatalogueError(f"agency catalogue not found: {path}") from None
    except UnicodeDecodeError:
        raise CatalogueError(f"{path}: the agency catalogue must be UTF-8") from None
    reader = csv.DictReader(io.StringIO(text))
    header = [c.strip() for c in reader.fieldnames or []]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise CatalogueError(
            f"{path}: missing column {', '.join(missing)}; columns are {', '.join(COLUMNS)}"
        )
    reader.fieldnames = header
    rows = list(reader)
    if not rows:
        raise CatalogueError(f"{path}: the agency catalogue has no rows")
    return parse_catalogue(rows, source=str(path))


def _agency(row: Mapping[str, str | None], where: str) -> Agency:
    values = {column: (row.get(column) or "").strip() for column in COLUMNS}
    for column in REQUIRED:
        if not values[column]:
            raise CatalogueError(f"{where}: empty {column}")
    if values["level"] not in LEVELS:
        raise CatalogueError(
            f"{where}: level {values['level']!r} is not one of {', '.join(LEVELS)}"
        )
    aliases = tuple(a.strip() for a in values["aliases"].split(ALIAS_SEPARATOR) if a.strip())
    replaced_by = values["replaced_by"] or None
    if replaced_by == values["code"]:
        raise CatalogueError(f"{where}: {values['code']} is replaced by itself")
    return Agency(values["code"], values["name"], values["level"], aliases, replaced_by)


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
