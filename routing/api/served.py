"""The served model: a loaded bundle warmed up for requests, and what requests look up in it.

The server, the hot reload and each batch worker load a bundle the same way: verified by
`routing.bundle.load_bundle`, then `warm_up`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from routing.bundle import Bundle, BundleError
from routing.catalogue import Agency
from routing.jurisdiction import suggestable_agencies
from routing.suggest import EXPLAIN_WORDS, suggest, warm_caches

__all__ = ["ServedModel", "warm_up"]


@dataclass(frozen=True)
class ServedModel:
    """The loaded bundle with what requests look up in it, computed once.

    `listed`: every agency the model can suggest (`routing.jurisdiction.suggestable_agencies`)
    and, as plain names, the classes its catalogue does not know (all of them for a bundle
    without one), by name; `agencies`: the name each of them is suggested by, for its name
    and its catalogue code (what feedback accepts).
    """

    bundle: Bundle
    agencies: Mapping[str, str]
    listed: tuple[Agency | str, ...] = ()

    @classmethod
    def from_bundle(cls, bundle: Bundle) -> ServedModel:
        authority = bundle.authority
        known = suggestable_agencies(authority, bundle.labels) if authority is not None else []
        catalogue = authority.catalogue if authority is not None else None
        plain = [
            label
            for label in bundle.labels
            if catalogue is None
            or (label not in catalogue.agencies and label not in catalogue.roles)
        ]
        names = {label: label for label in plain}
        for agency in known:
            names.setdefault(agency.name, agency.name)
            names.setdefault(agency.code, agency.name)
        listed = sorted([*known, *plain], key=lambda a: a if isinstance(a, str) else a.name)
        return cls(bundle=bundle, agencies=names, listed=tuple(listed))


def warm_up(bundle: Bundle) -> None:
    """Fill the model's word caches with its own vocabulary and run one explained prediction,
    so that requests do not pay for lookup tables; refuse a model whose probabilities are not
    finite."""
    try:
        warm_caches(bundle)
        [prediction] = suggest(bundle, ["warm up"], explain_words=EXPLAIN_WORDS)
    except Exception as exc:  # a bundle that cannot predict is refused with one line
        reason = f"{type(exc).__name__}: {' '.join(str(exc).split())}"
        raise BundleError(
            f"{bundle.path}: the model fails on a test complaint ({reason})"
        ) from None
    if not all(np.isfinite(s.confidence) for s in prediction.suggestions):
        raise BundleError(f"{bundle.path}: the model gives non-finite probabilities")
