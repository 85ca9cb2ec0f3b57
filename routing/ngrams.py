"""Fast prediction-time transform of a fitted TfidfVectorizer: the same matrix, less overhead.

At prediction time ``TfidfVectorizer.transform`` costs more than the model: its ``char_wb``
analyzer slices every word of every complaint into n-grams in pure Python (about 0.6 ms per
LAPOR complaint), and each call re-validates its intermediate matrices (a fixed ~0.3 ms
that dominates a single complaint). ``FastTfidf`` produces the same matrix:

- ``char_wb`` n-grams depend only on the word (" word " padded) and words repeat across
  complaints, so each distinct word is analysed once and keeps its vocabulary columns and
  counts; a batch becomes one sparse product (complaints × words) @ (words × n-grams), a
  few complaints one sort of their words' columns;
- other analyzers use the vectorizer's own ``build_analyzer()``;
- then the same sublinear TF, IDF weighting and L2/L1 normalization, applied directly.

The output equals scikit-learn's bit for bit in float32 (the router's dtype) and to rounding
in float64 (tested). Nothing here changes what a model learns.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from itertools import chain, islice, repeat
from typing import NamedTuple

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

__all__ = ["FastTfidf", "KeyTable", "hstack_rows", "normalize_rows"]

_CACHE_LIMIT = 500_000  # distinct words remembered; the cache is cleared when full
_SMALL_BATCH = 8  # up to this many texts: summed by one sort (char), the analyzer (word)
_CODED_MIN_WORDS = 64  # fewer new words are cut one by one: the array passes cost more
_EMPTY = np.zeros(0, dtype=np.int32)
_NO_KEYS = np.zeros(0, dtype=np.int64)


class KeyTable:
    """Distinct integer keys, for finding where other keys sit among them.

    Many keys are found through a hash table (pandas' Index, made on first need), whose
    lookups do not slow down with the table's size as a binary search does through its cache
    misses: several times faster for a batch's hundreds of thousands of keys. A call to it
    has a fixed cost of tens of microseconds, though, so fewer than `HASH_MIN_KEYS` keys
    (a single complaint's) are found by binary search.
    """

    HASH_MIN_KEYS = 256

    def __init__(self, keys: np.ndarray, *, is_sorted: bool = False) -> None:
        self.keys = keys if is_sorted else np.sort(keys)
        self._index: pd.Index | None = None

    def find(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Where each of `keys` sits in `self.keys` and whether it is there: the position is
        meaningful only where found."""
        if len(self.keys) == 0:
            return np.zeros(len(keys), dtype=np.int64), np.zeros(len(keys), dtype=bool)
        if len(keys) < self.HASH_MIN_KEYS:
            at = np.minimum(np.searchsorted(self.keys, keys), len(self.keys) - 1)
            return at, self.keys[at] == keys
        index = self._index
        if index is None:  # two threads may both build it: the same index, harmless
            index = pd.Index(self.keys, copy=False)
            index.get_indexer(self.keys[:1])  # the hash table, built before it is shared
            self._index = index
        at = index.get_indexer(keys)
        return at, at >= 0


class _Coded(NamedTuple):
    """A vocabulary's n-grams as integers: an n-gram of codes c0 … c(n-1) (each ≥ 1) is
    c0 + c1·base + … + c(n-1)·base^(n-1)."""

    code: dict[str, int]  # character or word token → its code (1 …)
    base: int
    keys: KeyTable  # the vocabulary's n-grams as integers
    cols: np.ndarray  # their columns, in the order of keys.keys

    @classmethod
    def of(cls, vocabulary: dict[str, int], code: dict[str, int], base: int, grams) -> _Coded:
        """The coding of `vocabulary`, whose entries are the sequences `grams` (same order)."""
        keys = np.asarray(
            [sum(code[x] * base**i for i, x in enumerate(g)) for g in grams], dtype=np.int64
        )
        order = np.argsort(keys)
        cols = np.fromiter(vocabulary.values(), np.int64, len(vocabulary))
        return cls(code, base, KeyTable(keys[order], is_sorted=True), cols[order])

    def columns(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Which of `keys` are vocabulary n-grams, and the columns of those."""
        at, found = self.keys.find(keys)
        return found, self.cols[at[found]]


class FastTfidf:
    """``vectorizer.transform`` for a fitted TfidfVectorizer, with a per-word cache.

    Safe to share between threads: the cache only ever gains entries that any thread would
    compute identically, and is replaced (not mutated) when it is cleared.
    """

    def __init__(self, vectorizer: TfidfVectorizer):
        self.vectorizer = vectorizer
        self.per_word = (
            vectorizer.analyzer == "char_wb"
            and not vectorizer.lowercase
            and vectorizer.strip_accents is None
            and vectorizer.preprocessor is None
        )
        self.min_n, self.max_n = vectorizer.ngram_range
        self.vocabulary = vectorizer.vocabulary_
        self.n_features = len(self.vocabulary)
        self.dtype = vectorizer.dtype
        self.idf = np.asarray(vectorizer.idf_) if vectorizer.use_idf else None
        self._analyzer = None if self.per_word else vectorizer.build_analyzer()
        self._cache: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._lock = threading.Lock()
        self._coding: _Coded | bool | None = None  # see _coded
        self._words_coded: _Coded | bool | None = None  # see _word_coding

    def prepare(self) -> None:
        """Build the lookup tables that large batches use now, not on the first large batch
        (the service warms up with it)."""
        if self.per_word:
            self._coded()
        else:
            self._word_coding()

    # -- char_wb, one word at a time ------------------------------------------------------------

    def _grams(self, word: str) -> list[str]:
        """char_wb n-grams of one whitespace-free word, exactly as scikit-learn cuts them."""
        padded = f" {word} "
        length = len(padded)
        if length > self.max_n:  # the common case, in one comprehension
            return [
                padded[i : i + n]
                for n in range(self.min_n, self.max_n + 1)
                for i in range(length - n + 1)
            ]
        out = []
        for n in range(self.min_n, self.max_n + 1):
            if n >= length:  # a short word yields itself once, then nothing longer
                out.append(padded)
                break
            out += [padded[i : i + n] for i in range(length - n + 1)]
        return out

    def word_columns(self, word: str) -> tuple[np.ndarray, np.ndarray]:
        """Vocabulary columns of a word's char n-grams (sorted, unique) and their counts."""
        hit = self._cache.get(word)
        return hit if hit is not None else self._analyse_many([word])[word]

    def _analyse_many(self, words: Sequence[str]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Columns and counts of each of `words` (distinct), cached; one numpy pass for all,
        so a word costs its n-grams' lookups, not a few array calls of its own."""
        coded = self._coded()
        if coded is not None and len(words) >= _CODED_MIN_WORDS:
            owner, cols = self._coded_grams(coded, words)
        else:
            vocabulary, grams = self.vocabulary, self._grams
            lengths = np.empty(len(words), dtype=np.int64)
            found: list[int] = []
            for k, word in enumerate(words):
                hits = [c for c in map(vocabulary.get, grams(word)) if c is not None]
                lengths[k] = len(hits)
                found += hits
            owner = np.repeat(np.arange(len(words), dtype=np.int64), lengths)
            cols = np.asarray(found, dtype=np.int64)
        # (word, column) keys sorted: each word's columns ascending, repeats counted
        keys, counts = np.unique(owner * self.n_features + cols, return_counts=True)
        owner, column = np.divmod(keys, self.n_features)
        bounds = np.searchsorted(owner, np.arange(len(words) + 1)).tolist()
        column, counts = column.astype(np.int32), counts.astype(np.int32)
        analysed = {
            word: (column[bounds[k] : bounds[k + 1]], counts[bounds[k] : bounds[k + 1]])
            for k, word in enumerate(words)
        }
        if len(self._cache) + len(analysed) > _CACHE_LIMIT:
            with self._lock:
                if len(self._cache) + len(analysed) > _CACHE_LIMIT:
                    self._cache = {}
        self._cache.update(
            analysed if len(analysed) <= _CACHE_LIMIT else islice(analysed.items(), _CACHE_LIMIT)
        )
        return analysed

    def _coded(self) -> _Coded | None:
        """The vocabulary's n-grams as integers (each character its index in the vocabulary's
        alphabet, a power of two as base), made once; None when they would not fit 62 bits."""
        if self._coding is None:
            alphabet = sorted(set("".join(self.vocabulary)))
            bits = max(len(alphabet) + 1, 2).bit_length()  # 0: padding; all ones: unknown
            if bits * self.max_n > 62 or "\0" in alphabet:  # "\0" separates the words
                self._coding = False
            else:
                code = {c: i + 1 for i, c in enumerate(alphabet)}
                self._coding = _Coded.of(self.vocabulary, code, 1 << bits, self.vocabulary)
        return self._coding or None

    def _coded_grams(self, coded: _Coded, words: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(word index, column) of every char_wb n-gram of `words` found in the vocabulary,
        the n-grams of all words cut at once as windows over one array of character codes."""
        unknown = coded.base - 1
        padded = [f" {w} " for w in words]
        text = "\0".join(padded)  # the separator is unknown: no window crosses it
        chars = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        distinct, where = np.unique(chars, return_inverse=True)
        codes = np.asarray([coded.code.get(chr(c), unknown) for c in distinct.tolist()])
        codes = codes.astype(np.int64)[where.ravel()]
        lengths = np.fromiter(map(len, padded), np.int64, len(padded))
        word_of = np.repeat(np.arange(len(words)), lengths + 1)[: len(codes)]
        owners, cols = [], []
        key = np.zeros(len(codes), dtype=np.int64)
        bad = np.zeros(len(codes), dtype=bool)
        for n in range(1, self.max_n + 1):
            # windows of n characters starting at each position: key and whether any unknown
            key[: len(codes) - n + 1] += codes[n - 1 :] * coded.base ** (n - 1)
            bad[: len(codes) - n + 1] |= codes[n - 1 :] == unknown
            start = np.arange(len(codes) - n + 1)
            # a word shorter than min_n yields itself once (as scikit-learn cuts it)
            whole = (lengths < self.min_n) & (lengths == n) if n < self.min_n else None
            if n < self.min_n and not whole.any():
                continue
            ok = ~bad[: len(start)]
            if whole is not None:
                firsts = np.concatenate(([0], np.cumsum(lengths + 1)[:-1]))[whole]
                ok = np.zeros(len(start), dtype=bool)
                ok[firsts] = True
            at = start[ok]
            hit, columns = coded.columns(key[at])
            owners.append(word_of[at[hit]])
            cols.append(columns)
        if not owners:
            return _NO_KEYS, _NO_KEYS
        return np.concatenate(owners), np.concatenate(cols)

    def columns_of(self, words: Sequence[str]) -> list[tuple[np.ndarray, np.ndarray]]:
        """`word_columns` of each of `words` (distinct); the ones not cached yet are analysed
        together, in one numpy pass."""
        cache = self._cache
        found = [cache.get(w) for w in words]
        missing = [w for w, hit in zip(words, found, strict=True) if hit is None]
        if not missing:
            return found  # type: ignore[return-value]
        analysed = self._analyse_many(missing)
        return [
            hit if hit is not None else analysed[w] for w, hit in zip(words, found, strict=True)
        ]

    def _word_counts(self, docs: Sequence[str]) -> sp.csr_matrix:
        local: dict[str, int] = {}
        words: list[str] = []
        doc_indptr = [0]
        doc_cols: list[int] = []
        for doc in docs:
            for word in doc.split():
                j = local.get(word)
                if j is None:
                    j = local[word] = len(words)
                    words.append(word)
                doc_cols.append(j)
            doc_indptr.append(len(doc_cols))
        D = sp.csr_matrix(
            (np.ones(len(doc_cols), dtype=self.dtype), doc_cols, doc_indptr),
            shape=(len(docs), len(words)),
        )
        pairs = self.columns_of(words)
        lengths = np.array([len(c) for c, _ in pairs], dtype=np.int64)
        indptr = np.zeros(len(words) + 1, dtype=np.int64)
        np.cumsum(lengths, out=indptr[1:])
        indices = np.concatenate([c for c, _ in pairs]) if pairs else _EMPTY
        data = np.concatenate([n for _, n in pairs]).astype(self.dtype) if pairs else _EMPTY
        W = sp.csr_matrix((data, indices, indptr), shape=(len(words), self.n_features))
        return D @ W

    def _few_word_counts(self, docs: Sequence[str]) -> sp.csr_matrix:
        """`_word_counts` for a few texts: each distinct word's columns, times its count."""
        n = self.n_features
        keys: list[np.ndarray] = []
        values: list[np.ndarray] = []
        for row, doc in enumerate(docs):
            times: dict[str, int] = {}
            for word in doc.split():
                times[word] = times.get(word, 0) + 1
            if not times:
                continue
            pairs = self.columns_of(list(times))
            lengths = [len(cols) for cols, _ in pairs]
            keys.append(np.concatenate([cols for cols, _ in pairs]).astype(np.int64) + row * n)
            repeats = np.repeat(np.fromiter(times.values(), np.int64, len(times)), lengths)
            values.append(np.concatenate([counts for _, counts in pairs]) * repeats)
        return self._summed(len(docs), keys, values)

    # -- any analyzer -------------------------------------------------------------------------

    def _word_coding(self) -> _Coded | None:
        """For a plain word analyzer: the vocabulary's word n-grams as integers (each token
        its index among the vocabulary's tokens, in base (tokens + 1); 0: a token outside
        them), made once; None for other analyzers or when the keys would pass 62 bits."""
        if self._words_coded is None:
            vec, coded = self.vectorizer, None
            plain = (
                vec.analyzer == "word"
                and vec.tokenizer is None
                and vec.preprocessor is None
                and vec.stop_words is None
            )
            grams = [g.split(" ") for g in self.vocabulary] if plain else []
            ok = plain and all(self.min_n <= len(g) <= self.max_n and all(g) for g in grams)
            tokens = dict.fromkeys(t for g in grams for t in g) if ok else {}
            base = len(tokens) + 1
            if ok and base**self.max_n < 2**62:
                code = {t: i + 1 for i, t in enumerate(tokens)}
                coded = _Coded.of(self.vocabulary, code, base, grams)
                # set before the coding: another thread may use it as soon as it is there
                self._tokenize = vec.build_tokenizer()
                self._preprocess = vec.build_preprocessor()
            self._words_coded = coded or False
        return self._words_coded or None

    def _token_counts(self, coded: _Coded, docs: Sequence[str]) -> sp.csr_matrix:
        """Word n-gram counts as scikit-learn's word analyzer makes them (its own preprocessor
        and tokenizer), the n-grams matched as windows of token codes over the whole batch."""
        tokenize, preprocess = self._tokenize, self._preprocess
        per_doc = [tokenize(preprocess(doc)) for doc in docs]
        flat = list(chain.from_iterable(per_doc))
        codes = np.fromiter(map(coded.code.get, flat, repeat(0)), np.int64, len(flat))
        doc = np.repeat(np.arange(len(docs), dtype=np.int64), [len(t) for t in per_doc])
        keys, key, known = [], np.zeros(len(codes), dtype=np.int64), codes > 0
        for n in range(1, self.max_n + 1):
            starts = len(codes) - n + 1
            if starts <= 0:
                break
            key[:starts] += codes[n - 1 :] * coded.base ** (n - 1)
            known[:starts] &= codes[n - 1 :] > 0
            if n < self.min_n:
                continue
            # windows of known tokens inside one document
            at = np.flatnonzero(known[:starts] & (doc[:starts] == doc[n - 1 :]))
            hit, columns = coded.columns(key[at])
            keys.append(doc[at[hit]] * self.n_features + columns)
        return self._summed(len(docs), keys)

    def _analyzed_counts(self, docs: Sequence[str]) -> sp.csr_matrix:
        vocabulary, analyze, n = self.vocabulary, self._analyzer, self.n_features
        keys = [
            np.asarray([c for c in map(vocabulary.get, analyze(doc)) if c is not None], np.int64)
            + row * n
            for row, doc in enumerate(docs)
        ]
        return self._summed(len(docs), keys)

    # -- both -----------------------------------------------------------------------------------

    def _summed(
        self, n_docs: int, keys: list[np.ndarray], values: list[np.ndarray] | None = None
    ) -> sp.csr_matrix:
        """Counts matrix of `keys` (row × n_features + column), each counted once or with its
        `values`, summed per key: rows sorted by column, no zeros."""
        key = np.concatenate(keys) if keys else _NO_KEYS
        if values is None:
            key, count = np.unique(key, return_counts=True)
        else:
            value = np.concatenate(values) if values else _NO_KEYS
            order = np.argsort(key, kind="stable")
            key, value = key[order], value[order]
            first = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if len(key) else _NO_KEYS
            key, count = key[first], np.add.reduceat(value, first) if len(key) else value
        row, col = np.divmod(key, self.n_features)
        return sp.csr_matrix(
            (count.astype(self.dtype), col, np.searchsorted(row, np.arange(n_docs + 1))),
            shape=(n_docs, self.n_features),
        )

    def counts(self, docs: Sequence[str]) -> sp.csr_matrix:
        """Feature counts (docs × vocabulary), as CountVectorizer.transform produces them."""
        if not self.per_word:
            # a few texts go through the analyzer: the arrays' fixed cost would be more
            coded = self._word_coding() if len(docs) > _SMALL_BATCH else None
            if coded is not None:
                return self._token_counts(coded, docs)
            return self._analyzed_counts(docs)
        if len(docs) <= _SMALL_BATCH:
            return self._few_word_counts(docs)
        X = self._word_counts(docs)
        X.sum_duplicates()  # also sorts the indices of each row
        X.eliminate_zeros()
        return X

    def transform(self, docs: Sequence[str]) -> sp.csr_matrix:
        """TF-IDF rows of `docs`, equal to ``vectorizer.transform(docs)``."""
        X = self.counts(docs)
        vec = self.vectorizer
        if vec.sublinear_tf:
            np.log(X.data, X.data)
            X.data += 1
        if self.idf is not None:
            X.data *= self.idf[X.indices]
        if vec.norm is not None:
            normalize_rows(X.data, X.indptr, vec.norm)
        return X


def normalize_rows(data: np.ndarray, indptr: np.ndarray, norm: str = "l2") -> None:
    """Scale the rows of a CSR matrix (its `data` and `indptr`) to unit `norm` in place, equal
    bit for bit to scikit-learn's ``normalize``: squares (or absolute values) in the data's
    precision, summed in double; all-zero rows stay zero."""
    squares = np.abs(data) if norm == "l1" else data * data
    values = squares.astype(np.float64)
    sums = np.zeros(len(indptr) - 1)
    nonempty = np.diff(indptr) > 0
    sums[nonempty] = np.add.reduceat(values, indptr[:-1][nonempty])
    norms = sums if norm == "l1" else np.sqrt(sums)
    norms[norms == 0] = 1.0
    data /= np.repeat(norms, np.diff(indptr))


def hstack_rows(blocks: Sequence[sp.csr_matrix]) -> sp.csr_matrix:
    """Column blocks with the same rows side by side: ``sp.hstack(blocks, format="csr")``,
    without its conversions (each row's entries stay in block order)."""
    n_rows = blocks[0].shape[0]
    offsets = np.cumsum([0] + [b.shape[1] for b in blocks])
    lengths = np.stack([np.diff(b.indptr) for b in blocks])  # (blocks, rows)
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(lengths.sum(axis=0), out=indptr[1:])
    starts = indptr[:-1] + np.cumsum(lengths, axis=0) - lengths  # each block's place in a row
    data = np.empty(indptr[-1], dtype=np.result_type(*[b.data for b in blocks]))
    indices = np.empty(indptr[-1], dtype=np.int64)
    for block, offset, start in zip(blocks, offsets, starts, strict=False):
        rows = np.repeat(np.arange(n_rows), np.diff(block.indptr))
        at = start[rows] + np.arange(block.nnz) - block.indptr[rows]
        data[at] = block.data
        indices[at] = block.indices + offset
    return sp.csr_matrix((data, indices, indptr), shape=(n_rows, int(offsets[-1])))
