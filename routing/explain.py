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


def _feature_names(router) -> np.ndarray:
    names = getattr(router, "_feature_names_cache", None)
    if names is None:
        names = router.vectorizer_.get_feature_names_out()
        router._feature_names_cache = names
    return names


class _Words:
    """The complaint's words (outside personal data) and their normalized tokens."""

    def __init__(self, router, text: str):
        private = find_personal_data(text)
        self.surface: list[str] = []
        self.tokens: list[list[str]] = []
        cache: dict[str, list[str]] = {}
        for match in _WORD.finditer(text):
            start, end = match.span()
            if any(start < p_end and p_start < end for _, p_start, p_end in private):
                continue
            word = match.group()
            if word not in cache:
                cache[word] = router.normalizer_.normalize(word).split()
            tokens = cache[word]
            if tokens and not any(t.startswith("[") for t in tokens):
                self.surface.append(word)
                self.tokens.append(tokens)
        self.sequence = [tok for tokens in self.tokens for tok in tokens]
        self.owner = [i for i, tokens in enumerate(self.tokens) for _ in tokens]
        self._char_analyzer = router.vectorizer_.transformer_list[1][1].build_analyzer()
        self._char_index: dict[str, set[int]] | None = None

    def _chars(self) -> dict[str, set[int]]:
        """char n-gram → words containing it, built once per complaint."""
        if self._char_index is None:
            index: dict[str, set[int]] = {}
            for i, tokens in enumerate(self.tokens):
                for gram in self._char_analyzer(" ".join(tokens)):
                    index.setdefault(gram, set()).add(i)
            self._char_index = index
        return self._char_index

    def hits(self, kind: str, gram: str) -> set[int]:
        """Indices of words that produce the feature `gram` of the given kind."""
        if kind == "word":
            parts = gram.split()
            n = len(parts)
            found: set[int] = set()
            for start in range(len(self.sequence) - n + 1):
                if self.sequence[start : start + n] == parts:
                    found.update(self.owner[start : start + n])
            return found
        return self._chars().get(gram, set())


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
    words = _Words(router, text)
    hit_cache: dict[int, set[int]] = {}
    out = []
    for agency in agencies:
        contrib = x.data * router.class_weights(agency)[x.indices]
        positive = contrib > 0
        cols, shares = x.indices[positive], contrib[positive]
        top = np.argsort(-shares)[:_MAX_FEATURES]
        score = np.zeros(len(words.surface))
        for col, share in zip(cols[top], shares[top], strict=True):
            if col not in hit_cache:
                kind, _, gram = str(names[col]).partition("__")
                hit_cache[col] = words.hits(kind, gram)
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
