"""The served model: a loaded bundle warmed up for requests, and what requests look up in it.

The server, the hot reload and each batch worker load a bundle the same way: verified by
`routing.bundle.load_bundle`, then `warm_up`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from routing.bundle import Bundle, BundleError
from routing.suggest import EXPLAIN_WORDS, suggest, warm_caches

__all__ = ["ServedModel", "warm_up"]


@dataclass(frozen=True)
class ServedModel:
    """The loaded bundle with what requests look up in it, computed once."""

    bundle: Bundle
    agencies: frozenset[str]

    @classmethod
    def from_bundle(cls, bundle: Bundle) -> ServedModel:
        return cls(bundle=bundle, agencies=frozenset(bundle.labels))


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
