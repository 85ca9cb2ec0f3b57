"""Speed for scikit-learn's text features, by documented means only.

`CharWbNgrams`: scikit-learn's ``char_wb`` analyzer splits a text at whitespace, pads each
word with a space on both sides and slices it into character n-grams; words are analysed
independently, so a text's n-grams are its words' n-grams, in order. Complaints repeat their
words, so `CharWbNgrams` calls scikit-learn's own analyzer once per distinct word and
remembers the answer. A vectorizer accepts any callable as its ``analyzer``, so this changes
no feature, only the time spent making them.

`union_transform`: a fitted union's ``transform``, with each character block counted word by
word (`char_wb_transform`): a batch's n-gram counts are its (text × word) counts times its
distinct words' (word × n-gram) counts, both counted by scikit-learn's CountVectorizer, then
weighted by the vectorizer's own IDF. The same matrix, from far fewer n-grams counted.

`prediction_config`: at prediction time the inputs are our own fitted objects' matrices,
finite and well-formed, so scikit-learn's configuration may skip re-checking them.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from weakref import WeakKeyDictionary

import numpy as np
import scipy.sparse as sp
from sklearn import config_context
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer, TfidfVectorizer
from sklearn.pipeline import FeatureUnion

__all__ = [
    "CharWbNgrams",
    "char_wb_transform",
    "plain_vocabulary",
    "prediction_config",
    "union_transform",
]


def prediction_config() -> AbstractContextManager:
    """scikit-learn configured to skip input checks (finiteness, parameter validation)."""
    return config_context(assume_finite=True, skip_parameter_validation=True)


def plain_vocabulary(vectorizer: CountVectorizer) -> CountVectorizer:
    """`vectorizer` with its fitted vocabulary's column numbers as Python ints: with
    `max_features` scikit-learn leaves numpy integers there, which a bundle's model file
    (skops, `routing.bundle`) would store and load one by one, as separate arrays."""
    vectorizer.vocabulary_ = {term: int(column) for term, column in vectorizer.vocabulary_.items()}
    return vectorizer


class CharWbNgrams:
    """``char_wb`` n-grams of a text (scikit-learn's), remembered per distinct word.

    Pass as ``analyzer=`` to a TfidfVectorizer or HashingVectorizer; the vectorizer's own
    ``ngram_range`` and ``lowercase`` are then unused (a callable analyzer gets the raw text).

    Parameters
    ----------
    ngram_range : tuple
        Lengths of the character n-grams, as for ``CountVectorizer(analyzer="char_wb")``.
    max_words : int
        Distinct words remembered. A full memo is replaced by an empty one rather than
        cleared in place, so a thread still reading the old one is not disturbed. The memo
        is per process: it is never pickled or copied.
    """

    def __init__(self, ngram_range: tuple[int, int] = (2, 5), max_words: int = 50_000):
        self.ngram_range = tuple(ngram_range)
        self.max_words = max_words
        self._start()

    def _start(self) -> None:
        self._char_wb = CountVectorizer(
            analyzer="char_wb", ngram_range=self.ngram_range, lowercase=False
        ).build_analyzer()
        self._memo: dict[str, tuple[str, ...]] = {}

    def __call__(self, text: str) -> list[str]:
        memo = self._memo
        grams: list[str] = []
        for word in text.split():
            known = memo.get(word)
            grams += known if known is not None else self._remember(word)
        return grams

    def _remember(self, word: str) -> tuple[str, ...]:
        # the same n-grams recur in many words: interned, each string is kept once
        grams = tuple(map(sys.intern, self._char_wb(word)))
        if len(self._memo) >= self.max_words:
            self._memo = {}
        self._memo[word] = grams
        return grams

    def warm(self, words: Iterable[str]) -> None:
        """Analyse `words` now, as texts holding them would on first meeting them."""
        for word in words:
            self(word)

    def __getstate__(self) -> dict:
        return {"ngram_range": self.ngram_range, "max_words": self.max_words}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._start()

    def __repr__(self) -> str:
        return f"CharWbNgrams(ngram_range={self.ngram_range}, max_words={self.max_words})"


# fitted vectorizer → (its n-gram counter, its TF-IDF weighting), built once per loaded model
_BY_WORD: WeakKeyDictionary = WeakKeyDictionary()


def _by_word_parts(vectorizer: TfidfVectorizer) -> tuple[CountVectorizer, TfidfTransformer]:
    parts = _BY_WORD.get(vectorizer)
    if parts is None:
        counter = CountVectorizer(
            analyzer=vectorizer.analyzer, vocabulary=vectorizer.vocabulary_, dtype=np.int64
        )
        counter.transform([])  # checks the vocabulary once, not on every batch
        weighting = TfidfTransformer(
            norm=vectorizer.norm,
            use_idf=vectorizer.use_idf,
            smooth_idf=vectorizer.smooth_idf,
            sublinear_tf=vectorizer.sublinear_tf,
        )
        if vectorizer.use_idf:
            weighting.idf_ = vectorizer.idf_
        parts = _BY_WORD[vectorizer] = (counter, weighting)
    return parts


def char_wb_transform(vectorizer: TfidfVectorizer, texts: Sequence[str]) -> sp.csr_matrix:
    """``vectorizer.transform(texts)`` for a fitted vectorizer whose analyzer is
    `CharWbNgrams`, counting each distinct word's n-grams once per batch."""
    words = CountVectorizer(analyzer=str.split, dtype=np.int64)
    try:
        by_text = words.fit_transform(texts)
    except ValueError:  # no words at all
        return vectorizer.transform(texts)
    counter, weighting = _by_word_parts(vectorizer)
    by_word = counter.transform(words.get_feature_names_out())
    counts = (by_text @ by_word).astype(vectorizer.dtype)
    counts.sort_indices()
    return weighting.transform(counts, copy=False)


def union_transform(union: FeatureUnion, texts: Sequence[str]) -> sp.csr_matrix:
    """``union.transform(texts)`` of a fitted union of TF-IDF vectorizers (no weights), the
    `CharWbNgrams` blocks through `char_wb_transform`."""
    # benchmarks/latency.py: batch guard (the char block's per-n-gram counting dominated)
    blocks = [
        char_wb_transform(block, texts)
        if isinstance(getattr(block, "analyzer", None), CharWbNgrams)
        else block.transform(texts)
        for _, block in union.transformer_list
    ]
    return sp.hstack(blocks).tocsr()
