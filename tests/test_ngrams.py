import random

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from routing import ngrams
from routing.ngrams import FastTfidf

TRAIN = [
    "listrik mati terus sejak kemarin",
    "bansos belum diterima sampai sekarang",
    "jalan rusak berlubang di desa kami",
    "aaaa baaaab listrik listrik mati",
    "tagihan listrik naik, mohon dicek!",
    "[nik] saya tidak terdaftar bpjs",
]
QUERIES = [
    "listrik mati lagi",
    "",
    "   ",
    "a",
    "ab  c\t\nd",
    "x" * 40,
    "aaaa aaaa aaaa",  # repeated n-grams inside and across words
    "é ü ñ façade",
    "\u00a0listrik\u2003mati",  # unicode whitespace
    "[nik] [nik] bansos",
    "kata yang tidak pernah terlihat",
]


def _vectorizers():
    common = dict(sublinear_tf=True, lowercase=False, dtype=np.float32, min_df=1)
    return {
        "char_wb": TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), **common),
        "word": TfidfVectorizer(
            ngram_range=(1, 2), token_pattern=r"(?u)\[\w+\]|\b\w\w+\b", **common
        ),
        "char_wb lowercase": TfidfVectorizer(
            analyzer="char_wb", ngram_range=(1, 3), lowercase=True, min_df=1
        ),
        "char l1 no idf": TfidfVectorizer(
            analyzer="char", ngram_range=(1, 2), norm="l1", use_idf=False, min_df=1
        ),
        "word no norm": TfidfVectorizer(norm=None, min_df=1),
    }


@pytest.mark.parametrize("name", list(_vectorizers()))
def test_same_matrix_as_scikit_learn(name):
    vec = _vectorizers()[name].fit(TRAIN)
    fast = FastTfidf(vec)
    want = vec.transform(QUERIES)
    got = fast.transform(QUERIES)
    assert got.shape == want.shape
    assert got.dtype == want.dtype
    assert np.array_equal(got.indptr, want.indptr)
    assert np.array_equal(got.indices, want.indices)
    if want.dtype == np.float32:  # the router's dtype: bit for bit
        assert np.array_equal(got.data, want.data)
    else:  # float64 row norms may be summed in another order: equal to rounding
        np.testing.assert_allclose(got.data, want.data, rtol=1e-13, atol=0)
    # twice: the second call is served from the word cache
    np.testing.assert_allclose(fast.transform(QUERIES).toarray(), want.toarray(), rtol=1e-13)


def test_one_document_at_a_time_matches_the_batch():
    vec = _vectorizers()["char_wb"].fit(TRAIN)
    fast = FastTfidf(vec)
    batch = fast.transform(QUERIES).toarray()
    for i, query in enumerate(QUERIES):
        assert np.array_equal(fast.transform([query]).toarray()[0], batch[i])


def test_no_documents_gives_an_empty_matrix():
    vec = _vectorizers()["char_wb"].fit(TRAIN)
    assert FastTfidf(vec).transform([]).shape == (0, len(vec.vocabulary_))


def test_word_columns_count_repeated_ngrams():
    vec = _vectorizers()["char_wb"].fit(TRAIN)
    cols, counts = FastTfidf(vec).word_columns("aaaa")
    grams = vec.build_analyzer()("aaaa")
    want = {vec.vocabulary_[g]: grams.count(g) for g in set(grams) if g in vec.vocabulary_}
    assert dict(zip(cols.tolist(), counts.tolist(), strict=True)) == want
    assert max(want.values()) > 1


def test_columns_of_many_words_equal_each_word_alone():
    vec = _vectorizers()["char_wb"].fit(TRAIN)
    words = ["listrik", "aaaa", "kata", "x", "é", "zzzz", "mati", "[nik]", "baaaab"]
    analyze = vec.build_analyzer()
    fast = FastTfidf(vec)
    fast.word_columns("kata")  # some cached already, the others analysed together
    together = fast.columns_of(words)
    for word, (cols, counts) in zip(words, together, strict=True):
        grams = [g for g in analyze(word) if g in vec.vocabulary_]
        want = sorted({vec.vocabulary_[g]: grams.count(g) for g in grams}.items())
        assert cols.dtype == counts.dtype == np.int32
        assert list(zip(cols.tolist(), counts.tolist(), strict=True)) == want, word
    assert len(together[5][0]) == 0  # nothing of it in the vocabulary
    assert max(together[1][1]) > 1  # "aaaa": repeated n-grams counted


def test_full_cache_is_cleared_and_results_stay_right(monkeypatch):
    monkeypatch.setattr(ngrams, "_CACHE_LIMIT", 3)
    vec = _vectorizers()["char_wb"].fit(TRAIN)
    fast = FastTfidf(vec)
    got = fast.transform(QUERIES)
    assert len(fast._cache) <= 3
    assert (got != vec.transform(QUERIES)).nnz == 0


def _random_words(rng: random.Random, alphabet: str, n: int) -> list[str]:
    return ["".join(rng.choices(alphabet, k=rng.randint(1, 9))) for _ in range(n)]


@pytest.mark.parametrize("ngram_range", [(2, 5), (4, 6), (1, 3)])
def test_words_cut_as_windows_of_character_codes_equal_the_per_word_cut(ngram_range):
    rng = random.Random(0)
    alphabet = "abcdeé\u0301x[]-😀"
    train = [" ".join(_random_words(rng, alphabet, 30)) for _ in range(20)]
    vec = TfidfVectorizer(
        analyzer="char_wb", ngram_range=ngram_range, lowercase=False, min_df=1
    ).fit(train)
    words = list(dict.fromkeys(_random_words(rng, alphabet + "\ud800\x00q", 3000)))
    coded, plain = FastTfidf(vec), FastTfidf(vec)
    plain._coding = False  # the per-word path
    assert coded._coded() is not None
    got, want = coded._analyse_many(words), plain._analyse_many(words)
    for word in words:
        assert np.array_equal(got[word][0], want[word][0]), word
        assert np.array_equal(got[word][1], want[word][1]), word
    assert sum(len(cols) for cols, _ in got.values()) > len(words) / 4  # not all misses


def test_vocabularies_that_codes_cannot_hold_are_cut_word_by_word():
    separator = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 3), lowercase=False)
    wide = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), lowercase=False)
    for vec, train in [
        (separator, ["ab\x00cd ab", "cd\x00 ab"]),  # "\0" separates words in the code array
        (wide, [" ".join(chr(0x4E00 + i) * 2 for i in range(5000))]),  # 13 bits × 5 > 62
    ]:
        vec.fit(train)
        fast = FastTfidf(vec)
        assert fast._coded() is None
        words = list(dict.fromkeys(train[0].split()))[:50]
        for word, (cols, _) in zip(words, fast.columns_of(words), strict=True):
            grams = {vec.vocabulary_[g] for g in vec.build_analyzer()(word)}
            assert cols.tolist() == sorted(grams)


@pytest.mark.parametrize(
    "options",
    [
        {"ngram_range": (1, 2), "token_pattern": r"(?u)\[\w+\]|\b\w\w+\b", "lowercase": False},
        {"ngram_range": (1, 3)},
        {"ngram_range": (2, 3), "min_df": 2},
        {"ngram_range": (1, 2), "token_pattern": r"(\w+)-x", "strip_accents": "unicode"},
    ],
)
def test_word_ngrams_matched_as_token_codes_equal_scikit_learn(options):
    rng = random.Random(1)
    words = ["listrik", "mati", "[nik]", "Bansos", "jalan", "rusak", "é", "a", "ab-x", "cd-x"]
    train = [" ".join(rng.choices(words, k=12)) for _ in range(40)]
    unseen = [*words, "baru", "KATA"]
    queries = [" ".join(rng.choices(unseen, k=rng.randint(0, 15))) for _ in range(60)]
    vec = TfidfVectorizer(dtype=np.float32, **{"min_df": 1, **options}).fit(train)
    fast = FastTfidf(vec)
    assert fast._word_coding() is not None
    got, want = fast.transform(queries), vec.transform(queries)
    assert np.array_equal(got.indptr, want.indptr)
    assert np.array_equal(got.indices, want.indices)
    assert np.array_equal(got.data, want.data)
    one = [fast.transform([q]).toarray()[0] for q in queries[:5]]  # alone as in the batch
    assert np.array_equal(np.vstack(one), want[:5].toarray())


@pytest.mark.parametrize(
    "options",
    [
        {"tokenizer": str.split, "token_pattern": None},
        {"analyzer": "char", "token_pattern": None},
        {"stop_words": ["listrik"]},
    ],
)
def test_other_analyzers_keep_scikit_learns(options):
    vec = TfidfVectorizer(**options).fit(TRAIN)
    fast = FastTfidf(vec)
    assert fast._word_coding() is None
    assert np.allclose(fast.transform(QUERIES).toarray(), vec.transform(QUERIES).toarray())


@pytest.mark.parametrize("n_keys", [10, 3000])  # binary search, hash table
@pytest.mark.parametrize("dtype", [np.int64, np.int32])
def test_a_key_table_finds_each_key_or_says_it_is_absent(dtype, n_keys):
    rng = np.random.default_rng(0)
    table = rng.choice(2**30, size=5000, replace=False).astype(dtype)
    half = n_keys // 2
    keys = np.concatenate([table[rng.integers(0, len(table), half)], rng.integers(0, 2**30, half)])
    keys = np.concatenate([keys, [table.min(), table.max(), table.max() + 1, -1]])
    want = np.isin(keys, table)
    for lookup in (ngrams.KeyTable(table), ngrams.KeyTable(np.sort(table), is_sorted=True)):
        for _ in range(2):  # the hash table is made on the first call, then reused
            at, found = lookup.find(keys)
            assert np.array_equal(found, want)
            assert np.array_equal(lookup.keys[at[found]], keys[found])
    at, found = ngrams.KeyTable(np.zeros(0, dtype=np.int64)).find(keys)
    assert not found.any() and len(at) == len(keys)
    at, found = ngrams.KeyTable(table).find(np.zeros(0, dtype=np.int64))
    assert len(at) == len(found) == 0
