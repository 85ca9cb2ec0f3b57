"""The words behind a suggestion.

The router's head is linear, so a suggestion's score is a sum of feature weight × feature
value. The features with the largest positive share are n-grams of the *normalized* text
("terus", " mati"); an admin needs the words as they appear in the complaint ("trs", "MATI").
We therefore map every feature back to the original words whose normalized form produced it
and rank those words by the share they carry. Words inside personal data (a NIK written in
groups, a spaced phone number) are never returned.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from routing.text import find_personal_data

_WORD = re.compile(r"\w+", re.UNICODE)
_MAX_FEATURES = 60  # the strongest features decide the ranking; the tail is noise


_CACHE_LIMIT = 200_000  # distinct words remembered per router; cleared when full


def _feature_names(router) -> np.ndarray:
    names = getattr(router, "_feature_names_cache", None)
    if names is None:
        names = router.vectorizer_.get_feature_names_out()
        router._feature_names_cache = names
    return names


def _word_forms(router) -> dict[str, tuple[tuple[str, ...], frozenset[str]]]:
    """Per-router cache: surface word → (normalized tokens, its char n-grams).

    Normalizing a word runs every masking regex; words repeat across complaints, so each is
    analysed once per process instead of once per complaint.
    """
    cache = getattr(router, "_word_forms_cache", None)
    if cache is None or len(cache) > _CACHE_LIMIT:
        cache = {}
        router._word_forms_cache = cache
    return cache


class _Words:
    """The complaint's distinct words (outside personal data) and their normalized forms."""

    def __init__(self, router, text: str):
        private = find_personal_data(text)
        forms = _word_forms(router)
        analyzer = None
        unit_of: dict[str, int] = {}
        self.surface: list[str] = []
        self.grams: list[frozenset[str]] = []
        self.sequence: list[str] = []
        self.owner: list[int] = []
        for match in _WORD.finditer(text):
            start, end = match.span()
            if private and any(start < p_end and p_start < end for _, p_start, p_end in private):
                continue
            word = match.group()
            form = forms.get(word)
            if form is None:
                if analyzer is None:
                    analyzer = router.vectorizer_.transformer_list[1][1].build_analyzer()
                tokens = tuple(router.normalizer_.normalize(word).split())
                form = (tokens, frozenset(analyzer(" ".join(tokens))))
                forms[word] = form
            tokens, grams = form
            if not tokens or any(t.startswith("[") for t in tokens):
                continue
            key = word.casefold()
            if key not in unit_of:
                unit_of[key] = len(self.surface)
                self.surface.append(word)
                self.grams.append(grams)
            self.sequence.extend(tokens)
            self.owner.extend([unit_of[key]] * len(tokens))
        self._char_index: dict[str, set[int]] = {}
        self._word_index: dict[str, set[int]] | None = None

    def index_chars(self, wanted: set[str]) -> None:
        """Index the words containing each of the `wanted` char n-grams (set ops run in C)."""
        index: dict[str, set[int]] = {}
        for i, grams in enumerate(self.grams):
            for gram in grams & wanted:
                index.setdefault(gram, set()).add(i)
        self._char_index = index

    def _words(self, max_n: int) -> dict[str, set[int]]:
        if self._word_index is None:
            index: dict[str, set[int]] = {}
            seq, owner = self.sequence, self.owner
            for n in range(1, max_n + 1):
                for i in range(len(seq) - n + 1):
                    index.setdefault(" ".join(seq[i : i + n]), set()).update(owner[i : i + n])
            self._word_index = index
        return self._word_index

    def hits(self, kind: str, gram: str, max_n: int) -> set[int]:
        """Words that produce the feature `gram` of the given kind ("word" or "char")."""
        index = self._words(max_n) if kind == "word" else self._char_index
        return index.get(gram, set())


def explain_many(
    router, text: str, agencies: Sequence[str], n_words: int = 5, features=None
) -> list[list[str]]:
    """For each agency, up to `n_words` words of `text` that pushed the router toward it most.

    Words are returned as written in the complaint, strongest first, without duplicates.
    `features` is the text's TF-IDF row when the caller already has it.
    """
    if n_words <= 0 or not agencies:
        return [[] for _ in agencies]
    if features is None:
        features = router.tfidf([router.normalizer_.normalize(text)])
    x = features.tocsr()
    if x.nnz == 0:
        return [[] for _ in agencies]
    names = _feature_names(router)
    strongest = []
    for agency in agencies:
        contrib = x.data * router.class_weights(agency)[x.indices]
        positive = contrib > 0
        cols, shares = x.indices[positive], contrib[positive]
        top = np.argsort(-shares)[:_MAX_FEATURES]
        strongest.append((cols[top], shares[top]))
    features = {int(c): str(names[c]).partition("__") for cols, _ in strongest for c in cols}
    words = _Words(router, text)
    words.index_chars({gram for kind, _, gram in features.values() if kind == "char"})
    max_n = router.vectorizer_.transformer_list[0][1].ngram_range[1]
    hit_cache: dict[int, set[int]] = {}
    out = []
    for cols, shares in strongest:
        score = np.zeros(len(words.surface))
        for col, share in zip(cols, shares, strict=True):
            if col not in hit_cache:
                kind, _, gram = features[int(col)]
                hit_cache[col] = words.hits(kind, gram, max_n)
            hits = hit_cache[col]
            for i in hits:
                score[i] += share / len(hits)
        out.append(_ranked(words.surface, score, n_words))
    return out


def explain(router, text: str, agency: str, n_words: int = 5) -> list[str]:
    """Up to `n_words` words of `text` that pushed the router toward `agency` most."""
    return explain_many(router, text, [agency], n_words)[0]


def _ranked(surface: list[str], score: np.ndarray, n_words: int) -> list[str]:
    ranked: list[str] = []
    seen: set[str] = set()
    for i in np.argsort(-score, kind="stable"):
        if score[i] <= 0 or len(ranked) >= n_words:
            break
        if surface[i].casefold() not in seen:
            seen.add(surface[i].casefold())
            ranked.append(surface[i])
    return ranked
