"""The words behind a suggestion.

The router's head is linear, so a suggestion's score is a sum of feature weight × feature
value. The features with the largest positive share are n-grams of the *normalized* text
("terus", " mati"); an admin needs the words as they appear in the complaint ("trs", "MATI").
We therefore map every feature back to the original words whose normalized form produced it
and rank those words by the share they carry. Masked personal data is never returned.
"""

from __future__ import annotations

import re

import numpy as np

_WORD = re.compile(r"\w+", re.UNICODE)
_MAX_FEATURES = 60  # the strongest features decide the ranking; the tail is noise


def _feature_names(router) -> np.ndarray:
    names = getattr(router, "_feature_names_cache", None)
    if names is None:
        names = router.vectorizer_.get_feature_names_out()
        router._feature_names_cache = names
    return names


def _word_table(router, text: str) -> list[tuple[str, list[str]]]:
    """(surface word, its normalized tokens) for each word of the original text."""
    table = []
    seen: dict[str, list[str]] = {}
    for match in _WORD.finditer(text):
        surface = match.group()
        if surface not in seen:
            seen[surface] = router.normalizer_.normalize(surface).split()
        tokens = seen[surface]
        if tokens and not any(t.startswith("[") for t in tokens):
            table.append((surface, tokens))
    return table


def explain(router, text: str, agency: str, n_words: int = 5) -> list[str]:
    """Up to `n_words` words of `text` that pushed the router toward `agency` most.

    Words are returned as written in the complaint, strongest first, without duplicates.
    """
    weights = router.class_weights(agency)
    normalized = router.normalizer_.normalize(text)
    x = router.vectorizer_.transform([normalized]).tocsr()
    cols, values = x.indices, x.data
    contrib = values * weights[cols]
    positive = contrib > 0
    if not positive.any():
        return []
    cols, contrib = cols[positive], contrib[positive]
    top = np.argsort(-contrib)[:_MAX_FEATURES]
    names = _feature_names(router)
    words = _word_table(router, text)
    norm_seq = [tok for _, tokens in words for tok in tokens]
    owner = [i for i, (_, tokens) in enumerate(words) for _ in tokens]
    score = np.zeros(len(words))
    for col, share in zip(cols[top], contrib[top], strict=True):
        kind, _, gram = str(names[col]).partition("__")
        hits = _word_hits(kind, gram, words, norm_seq, owner)
        for i in hits:
            score[i] += share / len(hits)
    ranked: list[str] = []
    seen: set[str] = set()
    for i in np.argsort(-score, kind="stable"):
        if score[i] <= 0 or len(ranked) >= n_words:
            break
        surface = words[i][0]
        if surface.casefold() not in seen:
            seen.add(surface.casefold())
            ranked.append(surface)
    return ranked


def _word_hits(
    kind: str,
    gram: str,
    words: list[tuple[str, list[str]]],
    norm_seq: list[str],
    owner: list[int],
) -> set[int]:
    """Indices of original words that produce the feature `gram` of the given kind."""
    if kind == "word":
        parts = gram.split()
        n = len(parts)
        hits: set[int] = set()
        for start in range(len(norm_seq) - n + 1):
            if norm_seq[start : start + n] == parts:
                hits.update(owner[start : start + n])
        return hits
    # char_wb n-grams are taken inside words padded with one space on each side
    return {i for i, (_, tokens) in enumerate(words) if any(gram in f" {t} " for t in tokens)}
