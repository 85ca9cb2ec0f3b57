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
from itertools import chain, compress, islice, pairwise

import numpy as np
import scipy.sparse as sp

from routing.router import Router
from routing.text import find_personal_data

__all__ = ["Explainer"]

_WORD = re.compile(r"\w+")
_MAX_FEATURES = 60  # the strongest features decide the ranking; the tail is noise
_CACHE_WORDS = 50_000  # words whose analysis is kept, the most recently met
_BLOCK = 256  # complaints explained at once: a block's arrays stay in the CPU's caches


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
        self._chars, self._char_grams = char.vocabulary_, char.build_analyzer()
        self._weights = router.weight_matrix()
        self._index = {str(c): i for i, c in enumerate(router.classes_)}
        # the word n-grams of several words: the only columns searched for across words
        self._phrases = {c: term for term, c in self._vocabulary.items() if " " in term}
        self._is_phrase = np.isin(np.arange(self._weights.shape[1]), list(self._phrases))
        # lru_cache is thread-safe: at worst two threads analyse one new word both
        self._analyse = functools.lru_cache(maxsize=_CACHE_WORDS)(self._analyse_written)

    def _analyse_written(self, word: str) -> tuple[list[str], np.ndarray, bool] | None:
        # benchmarks/latency.py: batch guard (a word of letters shares its lowercase's analysis)
        lower = word.lower() if word.isalpha() else word
        return self._analyse_word(word) if lower == word else self._analyse(lower)

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
        the router toward that agency most, as written, strongest first, without stop words;
        `features`: the complaints' TF-IDF rows when the caller has them
        (`Router.predict_proba_with_features`). Raises KeyError for an unknown agency."""
        if len(agencies) != len(texts):
            raise ValueError(f"{len(texts)} texts but {len(agencies)} agency lists")
        classes = [[self._index[agency] for agency in names] for names in agencies]
        if n_words <= 0 or not any(classes):
            return [[[] for _ in names] for names in agencies]
        features, out = features if features is None else sp.csr_matrix(features), []
        for start in range(0, len(texts), _BLOCK):
            block = slice(start, start + _BLOCK)
            rows = None if features is None else features[block]
            words, stops, pair, unit, score = self._scores(texts[block], classes[block], rows)
            order = np.lexsort((-score, pair))  # by pair, strongest first, ties: first written
            order = order[((score > 0) & ~stops[unit])[order]]
            pair, unit = pair[order], unit[order]
            best = np.arange(len(pair)) - np.searchsorted(pair, pair) < n_words
            chosen = iter([words[u] for u in unit[best].tolist()])
            sizes = iter(np.bincount(pair[best], minlength=sum(map(len, classes[block]))).tolist())
            out += [[list(islice(chosen, next(sizes))) for _ in names] for names in classes[block]]
        return out

    def word_scores(self, text: str, agency: str, features=None) -> dict[str, float]:
        """Each shown word of `text` (stop words too) with its score for `agency`."""
        words, _, _, _, score = self._scores([text], [[self._index[agency]]], features)
        return dict(zip(words, score.tolist(), strict=True))

    def _scores(self, texts: Sequence[str], classes: list[list[int]], features) -> tuple:
        """The complaints' shown words, whether each is a stop word, and (pair, word, score)
        arrays: pairs (a complaint, one of its `classes`) in order, each with its complaint's
        words in order. `features`: the complaints' TF-IDF rows, or None."""
        if features is None:
            features = self.router.tfidf(self.router.normalizer_.transform(list(texts)))
        X = sp.csr_matrix(features).sorted_indices()  # ties go by column
        pair_text = np.repeat(np.arange(len(texts)), [len(c) for c in classes])
        pair, column, share = _strongest(X, pair_text, [*chain(*classes)], self._weights)
        keys = pair_text[pair] * X.shape[1] + column  # (complaint, column) of each share
        order = np.argsort(keys)
        end = X.shape[0] * X.shape[1]  # a key no word produces: ends all searches
        want, low, many = np.unique(np.r_[keys[order], end], return_index=True, return_counts=True)
        targets = [{} for _ in texts]  # by complaint: its wanted n-grams of several words
        for key in want[:-1][self._is_phrase[want[:-1] % X.shape[1]]].tolist():
            targets[key // X.shape[1]][self._phrases[key % X.shape[1]]] = key % X.shape[1]
        words, stops, columns, spans, first = [], [], [], set(), [0]
        for text, wanted in zip(texts, targets, strict=True):
            spans |= self._words(text, wanted, words, stops, columns)
            first.append(len(words))
        spans = np.array(sorted(spans), dtype=np.int64).reshape(-1, 2)
        unit = np.repeat(np.arange(len(words)), list(map(len, columns)))
        unit = np.concatenate([unit, spans[:, 0]])  # (word, column): own columns, then spans
        produced = np.concatenate([*columns, spans[:, 1]])
        produced += np.repeat(np.arange(len(texts)), np.diff(first))[unit] * X.shape[1]
        # each strong share split equally among the words producing its column
        at = np.searchsorted(want, produced)
        unit, at = unit[want[at] == produced], at[want[at] == produced]
        split, many = np.bincount(at, minlength=len(want))[at], many[at]  # producers
        entry = np.repeat(np.arange(len(unit)), many)
        match = order[np.arange(len(entry)) + np.repeat(low[at] - np.cumsum(many) + many, many)]
        sizes = np.diff(first)[pair_text]  # a pair's words: its complaint's, in order
        shift = np.cumsum(sizes) - sizes - np.array(first)[pair_text]
        slot = shift[pair[match]] + unit[entry]
        score = np.bincount(slot, share[match] / split[entry], sizes.sum())
        pair = np.repeat(np.arange(len(pair_text)), sizes)
        return words, np.array(stops, bool), pair, np.arange(len(pair)) - shift[pair], score

    def _words(self, text: str, targets: dict, spellings: list, stops: list, columns: list) -> set:
        """Adds the complaint's distinct shown words (first spelling of each case-folded form),
        whether each is a stop word and its own columns to `spellings`, `stops`, `columns`;
        returns (word, column) of each word (its place in `spellings`) in a `targets` n-gram."""
        units: dict[str, int] = {}  # case-folded form → its place in spellings
        tokens, owners = [], []  # every normalized token in order, and its word
        words = _text_words(text)
        for word, analysis in zip(words, map(self._analyse, words), strict=True):
            # a word never shown: its token "" is in no word n-gram of the vocabulary
            unit = -1 if analysis is None else units.setdefault(word.casefold(), len(spellings))
            if unit == len(spellings):
                spellings.append(word)
                stops.append(analysis[2])
                columns.append(analysis[1])
            tokens += analysis[0] if analysis else [""]
            owners += [unit] * len(analysis[0]) if analysis else [-1]
        spans = set()
        for n in {term.count(" ") + 1 for term in targets}:
            grams = list(map(" ".join, zip(*(tokens[k:] for k in range(n)), strict=False)))
            for i in compress(range(len(grams)), map(targets.__contains__, grams)):
                spans.update((unit, targets[grams[i]]) for unit in owners[i : i + n])
        return spans


def _text_words(text: str) -> list[str]:
    """The words of `text`, each word overlapping personal data as ""."""
    if not (private := find_personal_data(text)):
        return _WORD.findall(text)
    ends = [end for _, _, end in private]  # sorted: the spans are sorted and disjoint
    # the first span ending after each word's start: the one it could overlap
    found = [(match, bisect.bisect_right(ends, match.start())) for match in _WORD.finditer(text)]
    return ["" if k < len(ends) and private[k][1] < m.end() else m.group() for m, k in found]


def _strongest(X: sp.csr_matrix, pair_text: np.ndarray, pair_class: list[int], weights) -> tuple:
    """(pair, column, share) of each pair's `_MAX_FEATURES` largest positive shares (ties: the
    lower columns), value × weight: pairs of a row of `X` (columns sorted) and of `weights`."""
    X = X[pair_text]  # a row per pair
    pair = np.repeat(np.arange(X.shape[0]), np.diff(X.indptr))
    share = X.data * weights[np.array(pair_class, dtype=np.intp)[pair], X.indices]
    pair, column, share = pair[share > 0], X.indices[share > 0], share[share > 0]
    bounds = np.searchsorted(pair, np.arange(len(pair_text) + 1)).tolist()
    strong = np.concatenate(  # stable: equal shares keep column order
        [s + np.argsort(-share[s:e], kind="stable")[:_MAX_FEATURES] for s, e in pairwise(bounds)]
    )
    return pair[strong], column[strong], share[strong]
