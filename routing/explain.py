"""The words behind a suggestion.

The router's head is linear, so a suggestion's score is a sum of feature weight × feature
value. The features with the largest positive share are n-grams of the *normalized* text
("terus", " mati"); an admin needs the words as they appear in the complaint ("trs", "MATI").
We therefore map every feature back to the original words whose normalized form produced it
and rank those words by the share they carry: each of the strongest features of a suggestion
(`_MAX_FEATURES`) gives its share in equal parts to the words that produce it. Words inside
personal data (a NIK written in groups, a spaced phone number) are never returned.

A whole batch of complaints is explained with a few vectorized passes over its TF-IDF
matrix; only the word → feature lookup runs per word, and it is cached per router.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from routing.text import find_personal_data

_WORD = re.compile(r"\w+", re.UNICODE)
_MAX_FEATURES = 60  # the strongest features decide the ranking; the tail is noise
_CACHE_LIMIT = 200_000  # distinct words remembered per router; cleared when full

# A surface word's normalized tokens, the TF-IDF columns its tokens produce on their own
# (their word unigrams and character n-grams) and its case-folded form; None for words that
# are never shown.
_Form = tuple[tuple[str, ...], np.ndarray, str] | None
_MISSING = object()


def _word_forms(router) -> dict[str, _Form]:
    """Per-router cache of `_Form`s: words repeat across complaints, so each is normalized
    and cut into n-grams once per process."""
    cache = getattr(router, "_word_forms_cache", None)
    if cache is None or len(cache) > _CACHE_LIMIT:
        cache = {}
        router._word_forms_cache = cache
    return cache


def _forms(router, words: Sequence[str]) -> list[_Form]:
    """`_Form`s of distinct `words`: their normalized tokens analysed together."""
    split = [tuple(n.split()) for n in router.normalizer_.normalize_words(words)]
    vocabulary = router.vectorizer_.transformer_list[0][1].vocabulary_
    offset = np.int64(len(vocabulary))
    char = router.char_ngrams()
    # nothing left, or a placeholder of masked personal data: never shown
    shown = [bool(tokens) and not any(t.startswith("[") for t in tokens) for tokens in split]
    distinct = list(
        dict.fromkeys(t for tokens, ok in zip(split, shown, strict=True) if ok for t in tokens)
    )
    columns = dict(zip(distinct, char.columns_of(distinct), strict=True))
    forms: list[_Form] = []
    for word, tokens, ok in zip(words, split, shown, strict=True):
        if not ok:
            forms.append(None)
        elif len(tokens) == 1:  # most words: their unigram (columns first) and char n-grams
            unigram = vocabulary.get(tokens[0])
            cols = columns[tokens[0]][0] + offset
            if unigram is not None:
                cols = np.concatenate(([unigram], cols))
            forms.append((tokens, cols, word.casefold()))
        else:
            found = {vocabulary[t] for t in tokens if t in vocabulary}
            for token in tokens:
                found.update((columns[token][0] + offset).tolist())
            forms.append((tokens, np.asarray(sorted(found), dtype=np.int64), word.casefold()))
    return forms


def remember_words(router, words: Iterable[str]) -> None:
    """Analyse `words` now, as explaining a complaint would on first meeting them: later
    complaints holding them find them in the router's caches (`routing.suggest.warm_caches`)."""
    forms = _word_forms(router)
    missing = list(dict.fromkeys(w for w in words if w not in forms))
    forms.update(zip(missing, _forms(router, missing), strict=True))


@dataclass
class _Units:
    """The distinct words (case-folded) of a batch of complaints and the features they make."""

    surface: list[str] = field(default_factory=list)
    starts: list[int] = field(default_factory=lambda: [0])  # first unit of each complaint
    cols: list[np.ndarray] = field(default_factory=list)  # per unit: its own columns
    span_pairs: list[tuple[int, int]] = field(default_factory=list)  # (unit, n-gram column)

    def add_text(self, router, text: str, grams: dict[int, tuple[str, ...]]) -> None:
        """Add one complaint's words; `grams` are the word n-grams (column: tokens) whose
        sharing words are needed: the others carry no share, whoever produces them."""
        forms = _word_forms(router)
        private = find_personal_data(text)
        words = _outside(text, private) if private else _WORD.findall(text)
        unit_of: dict[str, int] = {}
        word_unit: dict[str, int] = {}  # surface word → its unit, for words that are shown
        distinct = list(dict.fromkeys(words))  # each distinct word once, in order of appearance
        found = [forms.get(word, _MISSING) for word in distinct]
        missing = [word for word, form in zip(distinct, found, strict=True) if form is _MISSING]
        if missing:  # words met for the first time, analysed together
            new = dict(zip(missing, _forms(router, missing), strict=True))
            forms.update(new)
            found = [new[w] if f is _MISSING else f for w, f in zip(distinct, found, strict=True)]
        for word, form in zip(distinct, found, strict=True):
            if form is None:
                continue
            key = form[2]
            unit = unit_of.get(key)
            if unit is None:
                unit = unit_of[key] = len(self.surface)
                self.surface.append(word)
                self.cols.append(form[1])
            word_unit[word] = unit
        if grams:  # word n-grams span words: every word of one shares it
            shown = [(forms[w][0], word_unit[w]) for w in words if w in word_unit]  # type: ignore[index]
            sequence = [token for tokens, _ in shown for token in tokens]  # the tokens in order
            owner = [unit for tokens, unit in shown for _ in tokens]  # and the unit of each
            firsts = {tokens[0] for tokens in grams.values()}
            starts = [i for i, token in enumerate(sequence) if token in firsts]
            seen: set[tuple[int, int]] = set()
            for col, tokens in grams.items():
                n = len(tokens)
                for i in starts:
                    if tuple(sequence[i : i + n]) == tokens:
                        seen.update((unit, col) for unit in owner[i : i + n])
            self.span_pairs.extend(seen)
        self.starts.append(len(self.surface))

    def pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """Distinct (unit, column) pairs: each word with every feature it produces."""
        lengths = np.fromiter((len(c) for c in self.cols), dtype=np.int64, count=len(self.cols))
        unit = np.repeat(np.arange(len(self.cols)), lengths)
        col = np.concatenate(self.cols) if self.cols else np.zeros(0, np.int64)
        if self.span_pairs:
            spans = np.asarray(self.span_pairs, dtype=np.int64)
            unit, col = np.concatenate([unit, spans[:, 0]]), np.concatenate([col, spans[:, 1]])
        return unit, col


def _outside(text: str, private: list[tuple[str, int, int]]) -> list[str]:
    """The words of `text` that overlap none of the (sorted, disjoint) `private` spans."""
    words: list[str] = []
    spans = iter(private)
    _, p_start, p_end = next(spans)
    for match in _WORD.finditer(text):
        start, end = match.span()
        while p_end <= start:  # spans wholly before this word can touch no later word
            _, p_start, p_end = next(spans, ("", len(text) + 1, len(text) + 2))
        if not p_start < end:
            words.append(match.group())
    return words


def _strong_contributions(X: sp.csr_matrix, W: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Per non-zero of X: its share (value × weight of the row's class) if among the row's
    `_MAX_FEATURES` largest positive shares, else 0. A row whose class is -1 gets zeros."""
    rows = np.repeat(np.arange(X.shape[0]), np.diff(X.indptr))
    cls = classes[rows]
    share = X.data * W[np.maximum(cls, 0), X.indices]
    share[cls < 0] = 0.0
    positive = share > 0
    counts = np.bincount(rows[positive], minlength=X.shape[0])
    # rows with more positive shares than kept: keep the largest, ties at the cut by column,
    # so a complaint's words never depend on the other complaints of its batch
    for row in np.flatnonzero(counts > _MAX_FEATURES):
        start, end = X.indptr[row], X.indptr[row + 1]
        segment = share[start:end]
        values = segment[positive[start:end]]
        cut = np.partition(values, len(values) - _MAX_FEATURES)[len(values) - _MAX_FEATURES]
        keep = segment > cut  # the cut is positive: zeros and negatives stay out
        keep[np.flatnonzero(segment == cut)[: _MAX_FEATURES - np.count_nonzero(keep)]] = True
        positive[start:end] = keep
    return np.where(positive, share, 0.0)


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
    X = sp.csr_matrix(features)
    X.sort_indices()

    W = router.weight_matrix()
    n_ranks = max(len(names) for names in agencies)
    shares = [
        _strong_contributions(
            X,
            W,
            np.asarray(
                [index[names[r]] if r < len(names) else -1 for names in agencies], dtype=np.int64
            ),
        )
        for r in range(n_ranks)
    ]
    # the word n-grams among each complaint's strong features: only their words are looked up
    strong = np.logical_or.reduce([share > 0 for share in shares])
    column = router.word_grams()
    units = _Units()
    for d, text in enumerate(texts):
        lo, hi = X.indptr[d], X.indptr[d + 1]
        cols = X.indices[lo:hi][strong[lo:hi]]
        cols = cols[cols < len(column)].tolist()
        grams = {c: tuple(column[c].split(" ")) for c in cols if " " in column[c]}
        units.add_text(router, text, grams)
    starts = np.asarray(units.starts)
    unit_doc = np.repeat(np.arange(len(texts)), np.diff(starts))
    pair_unit, pair_col = units.pairs()
    # where each (unit, column) pair sits among the non-zeros of X; pairs the complaint's
    # features do not contain (a word n-gram across masked data) are dropped
    rows = np.repeat(np.arange(X.shape[0]), np.diff(X.indptr))
    x_keys = rows * X.shape[1] + X.indices
    keys = unit_doc[pair_unit] * X.shape[1] + pair_col
    at = np.minimum(np.searchsorted(x_keys, keys), max(len(x_keys) - 1, 0))
    found = (x_keys[at] == keys) if len(x_keys) else np.zeros(len(keys), bool)
    if len(x_keys):  # only strong features carry a share: the others would add zeros
        found &= strong[at]
    pair_unit, at = pair_unit[found], at[found]
    strong_at = np.flatnonzero(strong)
    at = np.searchsorted(strong_at, at)  # its place among the strong features
    sharers = np.bincount(at, minlength=len(strong_at))  # words producing each feature
    shares = [share[strong_at] for share in shares]

    for r, share in enumerate(shares):
        score = np.bincount(
            pair_unit, weights=share[at] / np.maximum(sharers[at], 1), minlength=len(unit_doc)
        )
        for d, names in enumerate(agencies):
            if r < len(names):
                out[d][r] = _ranked(units.surface, score, starts[d], starts[d + 1], n_words)
    return out


def _ranked(surface: list[str], score: np.ndarray, start: int, end: int, n: int) -> list[str]:
    part = score[start:end]
    order = np.argsort(-part, kind="stable")[:n]
    return [surface[start + i] for i in order if part[i] > 0]


def explain_many(
    router, text: str, agencies: Sequence[str], n_words: int = 5, features=None
) -> list[list[str]]:
    """For each agency, up to `n_words` words of `text` that pushed the router toward it most."""
    return explain_batch(router, [text], [list(agencies)], n_words, features)[0]


def explain(router, text: str, agency: str, n_words: int = 5) -> list[str]:
    """Up to `n_words` words of `text` that pushed the router toward `agency` most."""
    return explain_many(router, text, [agency], n_words)[0]
