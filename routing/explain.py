"""The words behind a suggestion.

The router's head is linear, so a suggestion's score is a sum of feature weight × feature
value. The features with the largest positive share are n-grams of the *normalized* text
("terus", " mati"); an admin needs the words as they appear in the complaint ("trs", "MATI").
We therefore map every feature back to the original words whose normalized form produced it
and rank those words by the share they carry: each of the strongest features of a suggestion
(`_MAX_FEATURES`) gives its share in equal parts to the words that produce it. Words inside
personal data (a NIK written in groups, a spaced phone number) are never returned.

A whole batch of complaints is explained with a few vectorized passes: each distinct word is
normalized and cut into the router's features once per process (`_WordTable`), after that a
word is an integer and the batch's words, features and word n-grams are numpy arrays.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import chain, compress, islice

import numpy as np
import scipy.sparse as sp

from routing.ngrams import KeyTable
from routing.text import find_personal_data

_WORD = re.compile(r"\w+", re.UNICODE)
_MAX_FEATURES = 60  # the strongest features decide the ranking; the tail is noise
_CACHE_LIMIT = 200_000  # distinct words remembered per router; cleared when full
_LOCK = threading.Lock()  # guards the routers' word tables while words are added
_NO_COLUMNS = np.zeros(0, dtype=np.int32)


class _Growing:
    """An append-only numpy array; views taken earlier stay valid as it grows."""

    def __init__(self, dtype: type, first: Sequence[int] = ()) -> None:
        self._data = np.zeros(max(1024, len(first)), dtype=dtype)
        self.size = 0
        self.extend(np.asarray(first, dtype=dtype))

    def extend(self, values: np.ndarray) -> None:
        end = self.size + len(values)
        if end > len(self._data):
            grown = np.zeros(max(end, 2 * len(self._data)), dtype=self._data.dtype)
            grown[: self.size] = self._data[: self.size]
            self._data = grown
        self._data[self.size : end] = values
        self.size = end

    def view(self) -> np.ndarray:
        return self._data[: self.size]


@dataclass
class _WordTable:
    """Every surface word explanations have met, as an integer, with (per word id) its unit
    key (the case-folded form's id; -1: never shown), its own columns and its normalized
    tokens' ids, the last two as CSR arrays. Token ids begin with the word block's tokens:
    `grams` holds each word-block column's tokens as ids (-1 past its length)."""

    ids: dict[str, int] = field(default_factory=dict)
    keys: dict[str, int] = field(default_factory=dict)
    tokens: dict[str, int] = field(default_factory=dict)
    key: _Growing = field(default_factory=lambda: _Growing(np.int64))
    col_ptr: _Growing = field(default_factory=lambda: _Growing(np.int64, [0]))
    cols: _Growing = field(default_factory=lambda: _Growing(np.int32))
    token_ptr: _Growing = field(default_factory=lambda: _Growing(np.int64, [0]))
    token_ids: _Growing = field(default_factory=lambda: _Growing(np.int32))
    grams: np.ndarray = field(default_factory=lambda: np.zeros((0, 1), dtype=np.int64))

    @classmethod
    def of(cls, router) -> _WordTable:
        """An empty table for `router`, its word block's tokens numbered (`grams`)."""
        table = cls()
        split = [g.split(" ") for g in router.word_grams()]
        lengths = np.fromiter(map(len, split), np.int64, len(split))
        ids = [table.tokens.setdefault(t, len(table.tokens)) for t in chain.from_iterable(split)]
        table.grams = np.full((len(split), int(lengths.max(initial=1))), -1, dtype=np.int64)
        rows = np.repeat(np.arange(len(split)), lengths)
        within = np.arange(len(ids)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        table.grams[rows, within] = ids
        return table

    def add(self, router, words: Sequence[str]) -> None:
        """Append distinct new `words`: each normalized (all together) and given its unit
        key, its tokens and its own columns, the word unigrams of its tokens (these columns
        first) and their character n-grams (call under `_LOCK`)."""
        if not words:
            return
        split = [n.split() for n in router.normalizer_.normalize_words(words)]
        vocabulary = router.vectorizer_.transformer_list[0][1].vocabulary_
        keys, tokens = self.keys, self.tokens
        # nothing left, or a placeholder of masked personal data: never shown
        shown = [bool(t) and not any(x.startswith("[") for x in t) for t in split]
        distinct = list(dict.fromkeys(chain.from_iterable(compress(split, shown))))
        chars = dict(zip(distinct, router.char_ngrams().columns_of(distinct), strict=True))
        key, heads, n_heads, tails, toks, n_toks = [], [], [], [], [], []
        for word, split_tokens, ok in zip(words, split, shown, strict=True):
            if not ok:
                key.append(-1)
                n_heads.append(0)
                tails.append(_NO_COLUMNS)
                n_toks.append(0)
                continue
            key.append(keys.setdefault(word.casefold(), len(keys)))
            unigrams = sorted({vocabulary[t] for t in split_tokens if t in vocabulary})
            heads += unigrams
            n_heads.append(len(unigrams))
            if len(split_tokens) == 1:
                tails.append(chars[split_tokens[0]][0])
            else:  # a lexicon expansion ("gpp" → "tidak apa apa"): its tokens' n-grams, once
                tails.append(np.unique(np.concatenate([chars[t][0] for t in split_tokens])))
            toks += [tokens.setdefault(t, len(tokens)) for t in split_tokens]
            n_toks.append(len(split_tokens))
        self.key.extend(np.asarray(key, dtype=np.int64))
        # per word: its unigram columns, then its n-gram columns (after the word block's)
        offset = len(vocabulary)
        n_tails = np.fromiter(map(len, tails), np.int64, len(tails))
        columns = np.concatenate(tails).astype(np.int64) + offset
        starts = np.cumsum(n_tails) - n_tails
        columns = np.insert(columns, np.repeat(starts, n_heads), heads)
        self.cols.extend(columns)
        self.col_ptr.extend(self.col_ptr.view()[-1] + np.cumsum(n_tails + n_heads))
        self.token_ids.extend(np.asarray(toks, dtype=np.int64))
        self.token_ptr.extend(self.token_ptr.view()[-1] + np.cumsum(n_toks))
        self.ids.update(zip(words, range(len(self.ids), len(self.ids) + len(words)), strict=True))


def _table(router, words: Sequence[str]) -> _WordTable:
    """The router's word table, holding `words` (added when new; the table is replaced by a
    fresh one when it would pass `_CACHE_LIMIT`)."""
    with _LOCK:
        table = getattr(router, "_word_table_cache", None)
        known = table.ids if table is not None else {}
        missing = [w for w in dict.fromkeys(words) if w not in known]
        if table is None or len(known) + len(missing) > _CACHE_LIMIT:
            table = router._word_table_cache = _WordTable.of(router)
            # what the caller needs, including words the old table held
            missing = list(dict.fromkeys(words)) if known else missing
        if missing:
            table.add(router, missing)
        return table


def remember_words(router, words: Iterable[str]) -> None:
    """Analyse `words` now, as explaining a complaint would on first meeting them: later
    complaints holding them find them in the router's caches (`routing.suggest.warm_caches`)."""
    _table(router, list(words))


def _outside(text: str, private: list[tuple[str, int, int]]) -> list[str]:
    """The words of `text` that overlap none of the (sorted, disjoint) `private` spans."""
    words: list[str] = []
    pos = 0
    for start, end in [(s, e) for _, s, e in private] + [(len(text), len(text))]:
        found = _WORD.findall(text, pos, start)
        # a word cut by the slice's edge runs into personal data: left out
        if found and _inside_word(text, pos):
            found = found[1:]
        if found and _inside_word(text, start):
            found = found[:-1]
        words += found
        pos = end
    return words


def _inside_word(text: str, i: int) -> bool:
    """Whether position `i` falls between two word characters (inside one word)."""
    run = _WORD.match(text, i - 1, i + 1) if 0 < i < len(text) else None
    return run is not None and run.end() == i + 1


def _words(text: str) -> list[str]:
    """The words of a complaint, without those inside personal data."""
    private = find_personal_data(text)
    return _outside(text, private) if private else _WORD.findall(text)


def _rows(X: sp.csr_matrix) -> np.ndarray:
    return np.repeat(np.arange(X.shape[0]), np.diff(X.indptr))


def _strong_shares(
    X: sp.csr_matrix, WT: np.ndarray, classes: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The strong features of a batch and their shares.

    `WT` is the head's weights by feature, (n_features, n_classes) and C-contiguous (each
    non-zero's weights side by side in memory). `classes` holds, per rank, each row's class
    (-1: none). A non-zero of X is strong for a rank when its share (value × weight of the
    row's class) is among the row's `_MAX_FEATURES` largest positive shares (ties at the cut
    by column, so a complaint's words never depend on the other complaints of its batch).
    Returns the positions in X of the features strong for some rank, and per rank their
    shares there (0 where not strong)."""
    per_row = np.diff(X.indptr)
    running = np.zeros(X.nnz + 1, dtype=np.int64)  # positive shares up to each non-zero
    masks, shares = [], []
    weights, at_feature = WT.ravel(), X.indices.astype(np.int64) * WT.shape[1]
    for cls in classes:
        share = X.data * weights[at_feature + np.repeat(np.maximum(cls, 0), per_row)]
        if (cls < 0).any():
            share[np.repeat(cls < 0, per_row)] = 0.0
        positive = share > 0
        np.cumsum(positive, out=running[1:])
        counts = np.diff(running[X.indptr])
        for row in np.flatnonzero(counts > _MAX_FEATURES).tolist():
            start, end = X.indptr[row], X.indptr[row + 1]
            segment = share[start:end]
            # more than _MAX_FEATURES positive shares: the cut is positive
            cut = np.partition(segment, len(segment) - _MAX_FEATURES)[-_MAX_FEATURES]
            keep = segment >= cut
            if np.count_nonzero(keep) > _MAX_FEATURES:  # ties at the cut: the first columns
                ties = np.flatnonzero(segment == cut)
                keep[ties[_MAX_FEATURES - np.count_nonzero(segment > cut) :]] = False
            positive[start:end] = keep
        masks.append(positive)
        shares.append(share)
    strong = np.flatnonzero(np.logical_or.reduce(masks))
    kept = [np.where(m[strong], s[strong], 0.0) for m, s in zip(masks, shares, strict=True)]
    return strong, np.stack(kept)


def _csr_take(ptr: np.ndarray, values: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, ...]:
    """The values of CSR `rows` (in order, concatenated) and the row (index into `rows`) of each."""
    lo, counts = ptr[rows], ptr[rows + 1] - ptr[rows]
    owner = np.repeat(np.arange(len(rows)), counts)
    within = np.arange(len(owner)) - np.repeat(np.cumsum(counts) - counts, counts)
    return values[np.repeat(lo, counts) + within], owner


def _weights_by_feature(router) -> np.ndarray:
    """The head's weights as (n_features, n_classes), C-contiguous, made once per process."""
    WT = getattr(router, "_weights_by_feature_cache", None)
    if WT is None:
        WT = router._weights_by_feature_cache = np.ascontiguousarray(router.weight_matrix().T)
    return WT


def _gram_lengths(router) -> np.ndarray:
    """Tokens in each word-block column (1 for a single word), made once per process."""
    lengths = getattr(router, "_gram_lengths_cache", None)
    if lengths is None:
        lengths = np.asarray([g.count(" ") + 1 for g in router.word_grams()], dtype=np.int64)
        router._gram_lengths_cache = lengths
    return lengths


def _span_pairs(
    router,
    table: _WordTable,
    sequence: tuple[np.ndarray, np.ndarray, np.ndarray],
    strong_cols: np.ndarray,
    strong_keys: KeyTable,
    n_features: int,
) -> np.ndarray:
    """(unit, column) pairs of word n-grams (n ≥ 2) among a complaint's strong features: a
    word n-gram spans words, and every word of one shares it.

    `sequence` is (token id, unit, complaint) of each normalized token of the shown words, in
    order; `strong_cols` the columns of the strong features, `strong_keys` their
    (complaint × n_features + column)."""
    tokens, owner, doc = sequence
    lengths = _gram_lengths(router)
    col_s = strong_cols
    is_word = col_s < len(lengths)
    found = []
    for n in np.unique(lengths[col_s[is_word]]).tolist():
        if n < 2 or len(tokens) < n:
            continue
        # the batch's strong n-grams of this length, as token ids
        gram_cols = np.unique(col_s[is_word][lengths[col_s[is_word]] == n])
        gram_tokens = table.grams[gram_cols, :n]
        # the windows of n tokens inside one complaint, starting at `within`
        within = np.flatnonzero(doc[: len(tokens) - n + 1] == doc[n - 1 :])

        def column(k: int, within=within, gram_tokens=gram_tokens) -> np.ndarray:
            """The k-th token of every window, then of every n-gram."""
            return np.concatenate([tokens[within + k], gram_tokens[:, k]])

        # one dense code per distinct token sequence, a position at a time
        code = column(0)
        base = int(code.max()) + 1
        for k in range(1, n):
            following = column(k)
            base = max(base, int(following.max()) + 1)
            code = np.unique(code * base + following, return_inverse=True)[1].ravel()
            base = max(base, int(code.max()) + 1)
        col_of_code = np.full(int(code.max()) + 1, -1, dtype=np.int64)
        col_of_code[code[len(within) :]] = gram_cols
        col = col_of_code[code[: len(within)]]
        hit = col >= 0
        starts, col = within[hit], col[hit]
        _, keep = strong_keys.find(doc[starts] * n_features + col)
        starts, col = starts[keep], col[keep]
        for k in range(n):
            found.append(owner[starts + k] * n_features + col)
    if not found:
        return np.zeros(0, dtype=np.int64)
    return np.unique(np.concatenate(found))


def explain_batch(
    router,
    texts: Sequence[str],
    agencies: Sequence[Sequence[str]],
    n_words: int = 5,
    features: sp.spmatrix | None = None,
) -> list[list[list[str]]]:
    """For each complaint and each of its agencies, up to `n_words` words that pushed the
    router toward that agency most.

    Words are returned as written in the complaint, strongest first, without duplicates
    (ignoring case). `features` are the complaints' TF-IDF rows when the caller already has
    them (`Router.predict_proba_with_features`). Raises KeyError for an unknown agency.
    """
    if len(agencies) != len(texts):
        raise ValueError(f"{len(texts)} texts but {len(agencies)} agency lists")
    index = {str(c): i for i, c in enumerate(router.classes_)}
    for names in agencies:
        for agency in names:
            if agency not in index:
                raise KeyError(f"unknown agency {agency!r}")
    out: list[list[list[str]]] = [[[] for _ in names] for names in agencies]
    if n_words <= 0 or not texts or not any(agencies):
        return out
    if features is None:
        features = router.tfidf(router.normalizer_.transform(list(texts)))
    X = features.tocsr() if sp.issparse(features) else sp.csr_matrix(features)  # no copy
    if not X.has_sorted_indices:
        X = X.sorted_indices()
    n_docs, n_features = X.shape

    n_ranks = max(len(names) for names in agencies)
    classes = np.asarray(
        [[index[n[r]] if r < len(n) else -1 for n in agencies] for r in range(n_ranks)],
        dtype=np.int64,
    ).reshape(n_ranks, n_docs)
    strong, shares = _strong_shares(X, _weights_by_feature(router), classes)
    strong_doc, strong_col = _rows(X)[strong], X.indices[strong].astype(np.int64)
    strong_keys = KeyTable(strong_doc * n_features + strong_col, is_sorted=True)  # X is sorted

    # every word of every complaint as a word id; units are a complaint's distinct shown
    # words, ignoring case, in order of first appearance (written as first met)
    words = [_words(text) for text in texts]
    flat = list(chain.from_iterable(words))
    table = _table(router, flat)
    ids = np.fromiter(map(table.ids.__getitem__, flat), dtype=np.int64, count=len(flat))
    doc = np.repeat(np.arange(n_docs), [len(w) for w in words])
    key = table.key.view()[ids]
    at_word = np.flatnonzero(key >= 0)
    ids, doc, key = ids[at_word], doc[at_word], key[at_word]
    _, first, inverse = np.unique(
        doc * (int(key.max(initial=0)) + 1) + key, return_index=True, return_inverse=True
    )
    order = np.argsort(first, kind="stable")
    unit_of = np.empty_like(order)
    unit_of[order] = np.arange(len(order))
    unit_of = unit_of[inverse.ravel()]  # the unit of each shown word
    first = first[order]
    unit_doc = doc[first]
    written = at_word[first]  # where each unit's word is in `flat`
    starts = np.searchsorted(unit_doc, np.arange(n_docs + 1))

    # (unit, column) pairs: each unit with the columns its word produces, and with the word
    # n-grams it is part of; kept where the column is a strong feature of its complaint
    pair_col, pair_unit = _csr_take(table.col_ptr.view(), table.cols.view(), ids[first])
    token_ids, token_word = _csr_take(table.token_ptr.view(), table.token_ids.view(), ids)
    spans = _span_pairs(
        router,
        table,
        (token_ids, unit_of[token_word], doc[token_word]),
        strong_col,
        strong_keys,
        n_features,
    )
    pair_unit = np.concatenate([pair_unit, spans // n_features])
    pair_col = np.concatenate([pair_col, spans % n_features])
    # most columns are strong in no complaint of the batch: those pairs go first, cheaply
    in_some = np.zeros(n_features, dtype=bool)
    in_some[strong_col] = True
    maybe = in_some[pair_col]
    pair_unit, pair_col = pair_unit[maybe], pair_col[maybe]
    keys = unit_doc[pair_unit] * n_features + pair_col
    at, found = strong_keys.find(keys)
    pair_unit, at = pair_unit[found], at[found]
    sharers = np.bincount(at, minlength=len(strong))  # words producing each strong feature

    for r, share in enumerate(shares):
        score = np.bincount(
            pair_unit, weights=share[at] / np.maximum(sharers[at], 1), minlength=len(unit_doc)
        )
        # per complaint, its units by score (ties: first met first), the best n positive
        ranked = np.lexsort((-score, unit_doc))
        place = np.arange(len(ranked)) - starts[unit_doc[ranked]]
        ranked = ranked[(place < n_words) & (score[ranked] > 0)]
        shown = iter([flat[i] for i in written[ranked].tolist()])
        for d, count in enumerate(np.bincount(unit_doc[ranked], minlength=n_docs).tolist()):
            if r < len(agencies[d]):
                out[d][r] = list(islice(shown, count))
    return out


def explain_many(
    router, text: str, agencies: Sequence[str], n_words: int = 5, features=None
) -> list[list[str]]:
    """For each agency, up to `n_words` words of `text` that pushed the router toward it most."""
    return explain_batch(router, [text], [list(agencies)], n_words, features)[0]


def explain(router, text: str, agency: str, n_words: int = 5) -> list[str]:
    """Up to `n_words` words of `text` that pushed the router toward `agency` most."""
    return explain_many(router, text, [agency], n_words)[0]
