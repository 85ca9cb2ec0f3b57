"""Speed for scikit-learn's text features, by documented means only.

`CharWbNgrams`: scikit-learn's ``char_wb`` analyzer splits a text at whitespace, pads each
word with a space on both sides and slices it into character n-grams; words are analysed
independently, so a text's n-grams are its words' n-grams, in order. Complaints repeat their
words, so `CharWbNgrams` calls scikit-learn's own analyzer once per distinct word and
remembers the answer. A vectorizer accepts any callable as its ``analyzer``, so this changes
no feature, only the time spent making them.

`prediction_config`: at prediction time the inputs are our own fitted objects' matrices,
finite and well-formed, so scikit-learn's configuration may skip re-checking them.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from contextlib import AbstractContextManager

from sklearn import config_context
from sklearn.feature_extraction.text import CountVectorizer

__all__ = ["CharWbNgrams", "prediction_config"]


def prediction_config() -> AbstractContextManager:
    """scikit-learn configured to skip input checks (finiteness, parameter validation)."""
    return config_context(assume_finite=True, skip_parameter_validation=True)


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
