"""The words behind a suggestion.

The router's head is linear: a suggestion's score is a sum of weight × TF-IDF value over
n-grams of the *normalized* text ("terus", " mati"); an admin needs the words as the citizen
wrote them ("trs", "MATI"). For a complaint and an agency, each of the `_MAX_FEATURES` largest
positive shares (ties: the lower column) is split equally among the complaint's distinct words
(case-folded; shown as first written) producing it: the word unigrams and character n-grams of
the word's normalized tokens, and the word n-grams spanning it. The explanation: the `n_words`
words of highest positive total, strongest first (ties: first written first). Words
overlapping personal data (`routing.text.find_personal_data`) produce nothing, and no word
n-gram spans them; stop words ("di", "yang": `routing.text.load_stopwords`) take their part of
a share like any word but are never shown.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Iterable, Sequence

import numpy as np
import scipy.sparse as sp

from routing.router import Router
from routing.text import find_personal_data

__all__ = ["Explainer"]

_WORD = re.compile(r"\w+")
_MAX_FEATURES = 60  # the strongest features decide the ranking; the tail is noise
_CACHE_WORDS = 50_000  # words whose analysis is kept, the most recently met


class Explainer:
    """Explains a fitted router's suggestions; built once per bundle, shared by threads.

    `router`: a fitted router, read through its public state only (`normalizer_`,
    `vectorizer_`, `weight_matrix()`, `classes_`, `tfidf()`). `stop_words`: lowercase words
    never shown, compared with a word's case-folded and its normalized form.
    """

    def __init__(self, router: Router, stop_words: Iterable[str] = ()) -> None:
        self.router = router
        self.stop_words = frozenset(stop_words)
        (_, word), (_, char) = router.vectorizer_.transformer_list
        self._vocabulary, self._tokenize = word.vocabulary_, word.build_tokenizer()
        self._ngram_range = word.ngram_range
        self._chars, self._char_grams = char.vocabulary_, char.build_analyzer()
        # rows gathered per complaint: contiguous (the head's own weights may be Fortran-ordered)
        self._weights = np.ascontiguousarray(router.weight_matrix())
        self._index = {str(c): i for i, c in enumerate(router.classes_)}
        # lru_cache is thread-safe: at worst two threads analyse one new word both
        self._analyse = functools.lru_cache(maxsize=_CACHE_WORDS)(self._analyse_word)

    def _analyse_word(self, word: str) -> tuple[list[str], np.ndarray, bool] | None:
        """A word's normalized tokens (as the word block cuts them), the columns it produces
        on its own (its tokens' unigrams and character n-grams) and whether it is a stop
        word; None for a word never shown (it normalizes to nothing or to masked data)."""
        normalized = self.router.normalizer_.normalize(word)
        if not normalized or "[" in normalized:  # "[nik]", "[telepon]": personal data
            return None
        tokens, offset, chars = self._tokenize(normalized), len(self._vocabulary), self._chars
        columns = {self._vocabulary[t] for t in tokens if t in self._vocabulary}
        columns |= {offset + chars[g] for g in self._char_grams(normalized) if g in chars}
        stop = word.casefold() in self.stop_words or normalized in self.stop_words
        return tokens, np.fromiter(columns, np.int32, len(columns)), stop

    def remember(self, words: Iterable[str]) -> None:
        """Analyse `words` ahead of complaints (`routing.suggest.warm_caches`); same answers."""
        for word in words:
            self._analyse(word)

    def explain_batch(
        self,
        texts: Sequence[str],
        agencies: Sequence[Sequence[str]],
        n_words: int = 5,
        features: sp.spmatrix | None = None,
    ) -> list[list[list[str]]]:
        """For each complaint and each agency of its list, up to `n_words` words that pushed
        the router toward that agency most, as written, strongest first, without stop words.

        `features` are the complaints' TF-IDF rows when the caller has them
        (`Router.predict_proba_with_features`). Raises KeyError for an unknown agency.
        """
        if len(agencies) != len(texts):
            raise ValueError(f"{len(texts)} texts but {len(agencies)} agency lists")
        classes = [[self._index[agency] for agency in names] for names in agencies]
        if n_words <= 0 or not any(classes):
            return [[[] for _ in names] for names in agencies]
        X = self._rows(texts, features)
        out = []
        for i, text in enumerate(texts):
            part = slice(X.indptr[i], X.indptr[i + 1])
            words, stops, scores = self._scores(text, X.indices[part], X.data[part], classes[i])
            out.append([_best(words, stops, score, n_words) for score in scores])
        return out

    def word_scores(self, text: str, agency: str, features=None) -> dict[str, float]:
        """Each shown word of `text` (stop words too) with its score for `agency`;
        `features`: the complaint's TF-IDF row when the caller has it."""
        X = self._rows([text], features)
        words, _, [score] = self._scores(text, X.indices, X.data, [self._index[agency]])
        return dict(zip(words, score, strict=True))

    def _rows(self, texts: Sequence[str], features: sp.spmatrix | None) -> sp.csr_matrix:
        """The complaints' TF-IDF rows, column indices sorted (ties go by column)."""
        if features is None:
            features = self.router.tfidf(self.router.normalizer_.transform(list(texts)))
        X = sp.csr_matrix(features)
        return X if X.has_sorted_indices else X.sorted_indices()

    def _scores(
        self, text: str, columns: np.ndarray, values: np.ndarray, classes: list[int]
    ) -> tuple[list[str], list[bool], list[np.ndarray]]:
        """The complaint's shown words, whether each is a stop word, and for each of
        `classes` the score of each word; `columns` (sorted), `values`: its TF-IDF row."""
        strong = _strongest(values * self._weights[np.array(classes)[:, None], columns])
        kept = strong.any(axis=0)
        columns, strong = columns[kept], strong[:, kept]
        words, stops, units, produced = self._words(text, set(columns.tolist()))
        if not len(columns):
            return words, stops, [np.zeros(len(words)) for _ in classes]
        # each strong share split equally among the words producing its column
        at = np.searchsorted(columns, produced).clip(max=len(columns) - 1)
        found = columns[at] == produced
        units, at = units[found], at[found]
        parts = strong[:, at] / np.bincount(at, minlength=len(columns))[at]
        return words, stops, [np.bincount(units, part, len(words)) for part in parts]

    def _words(
        self, text: str, wanted: set[int]
    ) -> tuple[list[str], list[bool], np.ndarray, np.ndarray]:
        """The complaint's distinct shown words (first spelling of each case-folded form),
        whether each is a stop word, and the columns each produces as (word, column) pairs:
        all it produces on its own, the word n-grams of `wanted` that span it."""
        words = _text_words(text)
        units: dict[str, int] = {}  # case-folded form → its place in spellings
        spellings, stops, columns = [], [], []
        tokens, owners = [], []  # every normalized token in order, and its word
        # benchmarks/latency.py: batch guard (a word of letters shares its lowercase's analysis)
        analyses = map(self._analyse, (w.lower() if w.isalpha() else w for w in words))
        for word, analysis in zip(words, analyses, strict=True):
            if analysis is None:  # its token "": in no word n-gram of the vocabulary
                tokens.append("")
                owners.append(-1)
                continue
            unit = units.setdefault(word.casefold(), len(units))
            if unit == len(spellings):
                spellings.append(word)
                stops.append(analysis[2])
                columns.append(analysis[1])
            tokens += analysis[0]
            owners += [unit] * len(analysis[0])
        spans = set()
        low, high = self._ngram_range
        for n in range(max(low, 2), high + 1):
            grams = map(" ".join, zip(*(tokens[k:] for k in range(n)), strict=False))
            for i, column in enumerate(map(self._vocabulary.get, grams)):
                if column in wanted:
                    spans.update((unit, column) for unit in owners[i : i + n])
        spans = np.array(sorted(spans), dtype=np.int32).reshape(-1, 2)
        units = np.repeat(np.arange(len(columns)), [len(c) for c in columns])
        units = np.concatenate([units, spans[:, 0]])
        return spellings, stops, units, np.concatenate([*columns, spans[:, 1]])


def _text_words(text: str) -> list[str]:
    """The words of `text`, each word overlapping personal data as ""."""
    private = find_personal_data(text)
    if not private:
        return _WORD.findall(text)
    ends = [end for _, _, end in private]  # sorted: the spans are sorted and disjoint
    words = []
    for match in _WORD.finditer(text):
        k = bisect.bisect_right(ends, match.start())  # the first span ending after its start
        words.append("" if k < len(ends) and private[k][1] < match.end() else match.group())
    return words


def _strongest(shares: np.ndarray) -> np.ndarray:
    """`shares` (agencies × a row's columns, in column order) with all but each agency's
    `_MAX_FEATURES` largest positive shares set to 0 (ties at the cut: the lower columns)."""
    shares = shares.clip(0)
    if shares.shape[1] <= _MAX_FEATURES:
        return shares
    cut = np.partition(shares, -_MAX_FEATURES, axis=1)[:, -_MAX_FEATURES, None]
    strong = np.where(shares >= cut, shares, 0.0)
    for row in np.flatnonzero(np.count_nonzero(strong, axis=1) > _MAX_FEATURES):
        ties = np.flatnonzero(shares[row] == cut[row])
        strong[row, ties[_MAX_FEATURES - np.count_nonzero(shares[row] > cut[row]) :]] = 0.0
    return strong


def _best(words: list[str], stops: list[bool], score: np.ndarray, n_words: int) -> list[str]:
    """The `n_words` shown words of highest positive score (ties: first written first)."""
    score = score.tolist()
    shown = [unit for unit, stop in enumerate(stops) if score[unit] > 0 and not stop]
    return [words[unit] for unit in sorted(shown, key=lambda unit: -score[unit])[:n_words]]
