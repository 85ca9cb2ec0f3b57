"""The jurisdiction step of suggestions: a complaint's place, and each suggested class there.

A bundle trained with an agency catalogue (`Bundle.authority`) suggests classes: national
agencies' codes and roles ("DINAS PU"). Each complaint's place is found once
(`routing.places`) and every class becomes the agency that handles it there
(`routing.authority.resolve_agency`); a class the catalogue does not know stays as it is.
A bundle without one suggests its classes as they are, with no place.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from routing.authority import Authority, Resolution
from routing.catalogue import GOVERNMENT_ROLES, Agency
from routing.places import Jurisdiction, PlaceFinding, default_place_finder
from routing.router import top_k_from_proba

__all__ = [
    "Placed",
    "agency_id",
    "find_places",
    "place_suggestions",
    "place_trouble",
    "ranked_agencies",
    "suggestable_agencies",
]


@dataclass(frozen=True)
class Placed:
    """A suggested class as the agency that handles it at the complaint's place."""

    label: str  # the router's class: what thresholds, explanations and few-shot are keyed by
    confidence: float  # the class's calibrated probability
    agency: str  # the agency's name; the label when there is no agency for it
    agency_code: str | None = None  # its catalogue code; None when there is none
    resolution: Resolution | None = None  # None: a bundle without authority


def find_places(
    authority: Authority | None, texts: Sequence[str], locations: Sequence[str | None] | None
) -> list[PlaceFinding | None]:
    """Each complaint's place (`PlaceFinder.find_batch`); all None without an authority,
    which has no use for them."""
    if authority is None:
        if locations is not None and len(locations) != len(texts):
            raise ValueError(f"{len(texts)} texts but {len(locations)} locations")
        return [None] * len(texts)
    return list(default_place_finder().find_batch(texts, locations))


def place_suggestions(
    authority: Authority | None,
    ranked: Sequence[tuple[str, float]],
    jurisdiction: Jurisdiction | None,
    text: str,
    limit: int | None = None,
) -> list[Placed]:
    """The ranked classes (label, probability) of one complaint as agencies of its place,
    the first `limit` of them (all when None); classes past those are not resolved.

    `text` is the complaint's normalized text (the rules of authority read it). When two
    classes resolve to the same agency (two roles the place has no office for, both sent to
    its government) only the first is kept: an answer names each agency once, so an admin's
    choice matches one suggestion, and its confidence stays one class's calibrated
    probability, the quantity its threshold was chosen for.
    """
    if authority is None:
        return [Placed(label, confidence, label) for label, confidence in ranked][:limit]
    out: list[Placed] = []
    seen: set[str] = set()
    for label, confidence in ranked:
        if limit is not None and len(out) >= limit:
            break
        resolution = authority.resolve(label, jurisdiction, text)
        agency = resolution.agency
        if agency is None:
            out.append(Placed(label, confidence, label, None, resolution))
        elif agency.code not in seen:
            seen.add(agency.code)
            out.append(Placed(label, confidence, agency.name, agency.code, resolution))
    return out


def place_trouble(
    authority: Authority | None, top: Placed, finding: PlaceFinding | None, text: str
) -> tuple[tuple[str, list[str]] | None, tuple[str | None, str | None] | None]:
    """What the place leaves open for the top suggestion, as `review_reasons` takes it.

    (role, candidate agency codes) when the top suggestion is a local role and the place is
    missing, ambiguous or contradicted by the text (the candidates: the offices each reading
    gives); (location's code, text's code) when a given location contradicts the text.
    """
    if authority is None or finding is None:
        return None, None
    conflict = finding.conflict
    contradicted = None
    if conflict is not None:
        given = finding.jurisdiction
        contradicted = (given.code if given else None, conflict.code)
    resolution = top.resolution
    if resolution is None or resolution.role is None:
        return None, contradicted
    if resolution.unresolved:
        return (resolution.role, [a.code for a in resolution.candidates]), contradicted
    if conflict is not None and resolution.agency is not None and resolution.agency.local:
        other = authority.resolve(top.label, conflict, text)
        codes = [resolution.agency.code, *(a.code for a in _agencies(other))]
        return (resolution.role, list(dict.fromkeys(codes))), contradicted
    return None, contradicted


def _agencies(resolution: Resolution) -> tuple[Agency, ...]:
    return (resolution.agency,) if resolution.agency is not None else resolution.candidates


def agency_id(authority: Authority | None, label: str) -> str:
    """What an agency written as `label` is compared by: its current catalogue code, or the
    label as written when the catalogue does not know it (or there is none)."""
    code = authority.catalogue.code_of(label) if authority is not None and label.strip() else None
    return label if code is None else code


def ranked_agencies(
    authority: Authority | None,
    proba: np.ndarray,
    classes: Sequence[str],
    jurisdictions: Sequence[Jurisdiction | None],
    normalized: Sequence[str],
    k: int = 3,
) -> tuple[list[list[str]], np.ndarray]:
    """Per complaint, the first `k` agencies of the router's own ranking at its place, each
    as `agency_id` compares it (its code, else its label), and the first one's probability.

    What `routing evaluate` scores: without an authority, or with national agencies only,
    these are the router's top classes and probabilities as they are.
    """
    depth = k if authority is None else len(classes)
    ids, confidence = [], []
    for pairs, jurisdiction, text in zip(
        top_k_from_proba(proba, classes, depth), jurisdictions, normalized, strict=True
    ):
        placed = place_suggestions(authority, pairs, jurisdiction, text, limit=k)
        ids.append([p.agency_code or p.agency for p in placed])
        confidence.append(placed[0].confidence)
    return ids, np.asarray(confidence, dtype=float)


def suggestable_agencies(authority: Authority, classes: Sequence[str]) -> list[Agency]:
    """Every catalogue agency a model with these classes can suggest, by name: the national
    agencies among them; for each role among them, every office of that role in the
    catalogue and the national agencies its rules send complaints to; and, when there is a
    role, the governments of every province and regency/city (where a role has no office).
    Classes the catalogue does not know are not agencies of it (they are suggested as they
    are)."""
    catalogue = authority.catalogue
    found: dict[str, Agency] = {}

    def add(agencies: Sequence[Agency]) -> None:
        for agency in agencies:
            found.setdefault(agency.code, agency)

    roles = [label for label in classes if label in catalogue.roles]
    add([catalogue.agencies[catalogue.current(c)] for c in classes if c in catalogue.agencies])
    for role in roles:
        add(catalogue.offices_of(role))
        add(
            [
                catalogue.agencies[catalogue.current(rule.agency)]
                for rule in authority.rules.level
                if rule.role == role and rule.agency is not None
            ]
        )
    if roles:
        for government in GOVERNMENT_ROLES:
            add(catalogue.offices_of(government))
    return sorted(found.values(), key=lambda agency: (agency.name, agency.code))
