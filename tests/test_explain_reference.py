"""Explanations against their definition, computed the slow, obvious way, one word at a time.

`routing.explain` explains a whole batch with vectorized passes over word ids; this reference
follows the module docstring literally: the strongest positive shares of a suggestion, each
split equally among the complaint's distinct words (ignoring case) that produce it (their
normalized tokens' unigrams and character n-grams, and word n-grams spanning them).
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from routing import explain as explain_module
from routing.explain import explain_batch
from routing.router import Router
from routing.text import find_personal_data

MAX_FEATURES = explain_module._MAX_FEATURES
TEXTS_EXTRA = [
    "listrik mati trs dr kmrn sy blm dpt tgpn, LISTRIK mati lagi",
    "sy blm trima bansos yg dijanjikan, gpp kalau telat tp tolong dicek",
    "jalan rusak, lampu mati dll; ybs tidak datang dsb sbb listrik padam dll",
    "NIK 3201 2345 6789 0001 hp 0812 3456 7890 jalan rusak parah di desa kami",
    "NIK3201234567890001 rekening 1234567890 bansos belum cair",
    "",
    "!!!",
]


def _reference(router: Router, text: str, agency: str) -> dict[str, float]:
    """Score of each shown word (first spelling met, per case-folded form) for `agency`."""
    normalizer = router.normalizer_
    word_vec = router.vectorizer_.transformer_list[0][1]
    char_vec = router.vectorizer_.transformer_list[1][1]
    vocabulary, offset = word_vec.vocabulary_, len(word_vec.vocabulary_)
    char_analyzer, char_vocabulary = char_vec.build_analyzer(), char_vec.vocabulary_
    row = router.tfidf(normalizer.transform([text])).tocsr()
    weights = router.weight_matrix()[list(router.classes_).index(agency)]
    share = {int(c): float(v) * weights[c] for c, v in zip(row.indices, row.data, strict=True)}
    positive = sorted((c for c in share if share[c] > 0), key=lambda c: (-share[c], c))
    strong = set(positive[:MAX_FEATURES])

    private = find_personal_data(text)
    words = [
        m.group()
        for m in re.finditer(r"\w+", text)
        if not any(s < m.end() and m.start() < e for _, s, e in private)
    ]
    units: dict[str, str] = {}  # case-folded → first spelling
    unit_cols: dict[str, set[int]] = {}
    sequence: list[tuple[str, str]] = []  # (token, unit) of each shown word, in order
    for word in words:
        tokens = normalizer.normalize(word).split()
        if not tokens or any(t.startswith("[") for t in tokens):
            continue
        key = word.casefold()
        if key not in units:
            units[key] = word
            cols = {vocabulary[t] for t in tokens if t in vocabulary}
            for token in tokens:
                grams = char_analyzer(token)
                cols |= {offset + char_vocabulary[g] for g in grams if g in char_vocabulary}
            unit_cols[key] = cols
        sequence += [(token, key) for token in tokens]
    low, high = word_vec.ngram_range
    for n in range(max(low, 2), high + 1):
        for i in range(len(sequence) - n + 1):
            col = vocabulary.get(" ".join(t for t, _ in sequence[i : i + n]))
            if col is not None and col in strong:
                for _, key in sequence[i : i + n]:
                    unit_cols[key].add(col)
    sharers = {c: sum(c in cols for cols in unit_cols.values()) for c in strong}
    return {
        units[key]: sum(share[c] / sharers[c] for c in cols if c in strong)
        for key, cols in unit_cols.items()
    }


def _check(router: Router, texts: list[str], n_words: int = 5) -> int:
    """explain_batch's words are a best-first top `n_words` of the reference scores (ties
    within rounding may come in either order). Returns the number of words checked."""
    agencies = [list(router.classes_[:3])] * len(texts)
    checked = 0
    explained = explain_batch(router, texts, agencies, n_words)
    for text, names, got in zip(texts, agencies, explained, strict=True):
        for agency, words in zip(names, got, strict=True):
            scores = _reference(router, text, agency)
            positive = sorted((s for s in scores.values() if s > 0), reverse=True)
            assert len(words) == min(n_words, len(positive))
            tolerance = 1e-9 * max(positive, default=1.0)
            got_scores = [scores[w] for w in words]
            assert got_scores == pytest.approx(positive[: len(words)], abs=tolerance)
            checked += len(words)
    return checked


@pytest.fixture(scope="module", params=[(1, 2), (1, 3)], ids=["word-1-2", "word-1-3"])
def router(request, small_corpus) -> Router:
    return Router(word_ngram_range=request.param, random_state=0).fit(
        small_corpus.texts, small_corpus.labels
    )


def test_batch_explanations_follow_the_definition(router, heldout_corpus):
    texts = [*heldout_corpus.texts[:20], *TEXTS_EXTRA]
    assert _check(router, texts) > 100


def test_word_ngrams_share_their_weight_among_the_words_they_span(router, small_corpus):
    """Complaints made of the corpus' own word pairs (and triples), so that word n-grams are
    among the strongest features."""
    grams = [g for g in router.word_grams() if " " in g]
    assert grams
    texts = [" ".join(grams[i : i + 6]) for i in range(0, min(len(grams), 120), 6)]
    assert _check(router, texts) > 50


def test_a_full_word_cache_starts_afresh_with_the_same_answers(router, heldout_corpus, monkeypatch):
    texts = [*heldout_corpus.texts[:10], *TEXTS_EXTRA]
    agencies = [list(router.classes_[:2])] * len(texts)
    want = explain_batch(router, texts, agencies)
    monkeypatch.setattr(explain_module, "_CACHE_LIMIT", 20)
    monkeypatch.delattr(router, "_word_table_cache")
    assert explain_batch(router, texts, agencies) == want
    assert len(router._word_table_cache.ids) > 20  # one batch's words are kept whole
    assert explain_batch(router, texts[:3], agencies[:3]) == want[:3]
    assert len(router._word_table_cache.ids) < 300


def test_threads_explaining_new_words_at_once_agree_with_one_thread(small_corpus):
    router = Router(random_state=0).fit(small_corpus.texts, small_corpus.labels)
    rng = np.random.default_rng(0)
    vocabulary = sorted({w for t in small_corpus.texts for w in t.split()})
    texts = [
        " ".join(rng.choice(vocabulary, 30).tolist()) + f" kata{i} baru{i % 7}" for i in range(64)
    ]
    agencies = [list(router.classes_[:3])] * len(texts)
    fresh = Router(random_state=0).fit(small_corpus.texts, small_corpus.labels)
    want = explain_batch(fresh, texts, agencies)
    with ThreadPoolExecutor(4) as pool:
        parts = list(
            pool.map(lambda k: explain_batch(router, texts[k::4], agencies[k::4]), range(4))
        )
    got = [None] * len(texts)
    for k, part in enumerate(parts):
        got[k::4] = part
    assert got == want
