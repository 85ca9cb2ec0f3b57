"""Fitted vectorizers' vocabularies stored as arrays in a bundle's model files.

skops writes a dict entry by entry, each a node of its own that loading audits and rebuilds:
the word and character vocabularies of a router (hundreds of thousands of terms) would make
loading a bundle take seconds in every process that serves it. Stored instead as one array of
terms in column order (a plain unicode array, which skops writes with `numpy.save`, no
pickle), they load at once; the dict is rebuilt on load.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.feature_extraction.text import CountVectorizer

__all__ = ["TERMS_ATTRIBUTE", "VocabularyError", "restore_vocabularies", "vocabularies_as_arrays"]

TERMS_ATTRIBUTE = "vocabulary_terms_"  # the array a stored vectorizer holds instead


class VocabularyError(ValueError):
    """A stored array of terms cannot be a vocabulary."""


@contextmanager
def vocabularies_as_arrays(model: object) -> Iterator[None]:
    """For the block, every fitted vectorizer inside `model` holds its vocabulary as an array
    of terms in column order instead of `vocabulary_`; restored afterwards, even on error."""
    swapped = []
    try:
        for vectorizer in _vectorizers(model):
            terms = _terms(vectorizer.vocabulary_)
            if terms is not None:
                swapped.append((vectorizer, vectorizer.__dict__.pop("vocabulary_")))
                setattr(vectorizer, TERMS_ATTRIBUTE, terms)
        yield
    finally:
        for vectorizer, vocabulary in swapped:
            vectorizer.__dict__.pop(TERMS_ATTRIBUTE, None)
            vectorizer.vocabulary_ = vocabulary


def restore_vocabularies(model: object) -> None:
    """Rebuild `vocabulary_` of every vectorizer inside `model` stored by
    `vocabularies_as_arrays`; raises VocabularyError for an array that is no vocabulary."""
    for vectorizer in _vectorizers(model, stored=True):
        terms = vectorizer.__dict__.pop(TERMS_ATTRIBUTE)
        if not isinstance(terms, np.ndarray) or terms.ndim != 1 or terms.dtype.kind != "U":
            raise VocabularyError("a vectorizer's stored terms are not an array of strings")
        vocabulary = dict(zip(terms.tolist(), range(len(terms)), strict=True))
        if len(vocabulary) != len(terms):
            raise VocabularyError("a vectorizer's stored terms repeat a term")
        vectorizer.vocabulary_ = vocabulary


def _terms(vocabulary: dict) -> np.ndarray | None:
    """The terms of `vocabulary` in column order as a fixed-width unicode array (which skops
    stores as one .npy file), or None when no such array holds it exactly: columns other than
    0…n−1, or a term numpy would cut (one that is not a str, or ends in NUL)."""
    terms = list(vocabulary)
    if sorted(vocabulary.values()) != list(range(len(terms))) or not all(
        isinstance(term, str) and not term.endswith("\0") for term in terms
    ):
        return None
    ordered = np.empty(len(terms), dtype=object)
    ordered[list(vocabulary.values())] = terms
    return ordered.astype(str)


def _vectorizers(model: object, *, stored: bool = False) -> Iterator[CountVectorizer]:
    """The vectorizers reachable from `model` through the attributes of estimators and of
    routing's own objects, lists, tuples and dict values: fitted ones (`vocabulary_`), or
    stored ones with `stored`."""
    seen: set[int] = set()
    pending = [model]
    while pending:
        node = pending.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, CountVectorizer):
            if (TERMS_ATTRIBUTE if stored else "vocabulary_") in node.__dict__:
                yield node
        elif isinstance(node, BaseEstimator) or type(node).__module__.startswith("routing."):
            pending.extend(getattr(node, "__dict__", {}).values())
        elif isinstance(node, list | tuple):
            pending.extend(node)
        elif isinstance(node, dict):
            pending.extend(node.values())
