import copy
import pickle

import numpy as np
import pytest
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.pipeline import FeatureUnion

from routing.features import CharWbNgrams, char_wb_transform, plain_vocabulary, union_transform

TEXTS = [
    "listrik padam sejak kemarin",
    "  spasi   ganda\tdan tab\n\nbaris baru  ",
    "a b cd e",  # words shorter than the n-grams
    "",
    "   \t\n ",
    "kata\u00a0tak\u2003terpisah\u3000biasa",  # non-breaking and other Unicode spaces
    "nyeri di perut pasien rsud — layanan buruk!!",
    "नेपाल सरकारको कार्यालय",
    "café naïve Ünïcode ĝ 😀 emoji",
    "[nik] [telepon] dilaporkan",
    "listrik padam lagi, listrik padam lagi",
]


@pytest.mark.parametrize("ngram_range", [(2, 5), (1, 3), (3, 3)])
def test_analyzer_equals_scikit_learns_char_wb(ngram_range):
    ours = CharWbNgrams(ngram_range)
    theirs = CountVectorizer(
        analyzer="char_wb", ngram_range=ngram_range, lowercase=False
    ).build_analyzer()
    for _ in range(2):  # the second time from the memo
        for text in TEXTS:
            assert ours(text) == theirs(text), repr(text)


def test_full_memo_is_replaced_and_answers_stay_the_same():
    ours = CharWbNgrams((2, 5), max_words=3)
    theirs = CountVectorizer(analyzer="char_wb", ngram_range=(2, 5), lowercase=False)
    for text in TEXTS:
        assert ours(text) == theirs.build_analyzer()(text)
        assert len(ours._memo) <= 3


def test_vectorizer_with_the_analyzer_equals_scikit_learns_char_wb():
    docs = TEXTS * 3
    ours = TfidfVectorizer(analyzer=CharWbNgrams((2, 5)), sublinear_tf=True, min_df=2)
    theirs = TfidfVectorizer(
        analyzer="char_wb", ngram_range=(2, 5), lowercase=False, sublinear_tf=True, min_df=2
    )
    X, Y = ours.fit_transform(docs), theirs.fit_transform(docs)
    assert ours.vocabulary_ == theirs.vocabulary_
    assert X.nnz > 0
    np.testing.assert_array_equal(X.toarray(), Y.toarray())


@pytest.mark.parametrize("copy_of", [lambda a: pickle.loads(pickle.dumps(a)), copy.deepcopy])
def test_copies_keep_the_settings_but_not_the_words_met(copy_of):
    ours = CharWbNgrams((2, 4), max_words=10)
    ours.warm(["kenanga", "purwakarta"])
    assert "kenanga" in ours._memo
    assert b"kenanga" not in pickle.dumps(ours)
    again = copy_of(ours)
    assert (again.ngram_range, again.max_words) == ((2, 4), 10)
    assert again._memo == {}
    assert again("kenanga indah") == ours("kenanga indah")


@pytest.mark.parametrize(
    "batch",
    [
        TEXTS,
        TEXTS[:1],
        ["", "   \t\n "],  # no words at all
        ["kata yang belum pernah dilihat zzqx", "listrik listrik listrik"],
    ],
)
def test_union_transform_equals_the_unions_own(batch):
    docs = TEXTS * 3
    word = TfidfVectorizer(sublinear_tf=True, dtype=np.float32)
    char = TfidfVectorizer(
        analyzer=CharWbNgrams((2, 5)), sublinear_tf=True, min_df=2, dtype=np.float32
    )
    union = FeatureUnion([("word", word), ("char", char)]).fit(docs)
    want, got = union.transform(batch), union_transform(union, batch)
    assert got.shape == want.shape and got.dtype == want.dtype
    assert got.has_sorted_indices
    want.sort_indices()
    np.testing.assert_array_equal(got.indptr, want.indptr)
    np.testing.assert_array_equal(got.indices, want.indices)
    np.testing.assert_array_equal(got.data, want.data)


def test_char_wb_transform_counts_repeated_words_of_one_text():
    docs = ["padam padam listrik", "listrik mati", "air mati"]
    char = TfidfVectorizer(analyzer=CharWbNgrams((2, 3)), sublinear_tf=True).fit(docs)
    batch = ["padam padam padam mati", "air"]
    np.testing.assert_array_equal(
        char_wb_transform(char, batch).toarray(), char.transform(batch).toarray()
    )


def test_plain_vocabulary_holds_python_ints_and_transforms_alike():
    # max_features leaves numpy integers in vocabulary_; a model file must hold plain ints
    texts = ["listrik mati lagi", "token listrik habis", "bansos belum cair", "listrik padam"]
    fitted = TfidfVectorizer(max_features=5).fit(texts)
    before = fitted.transform(texts).toarray()
    assert any(not isinstance(c, int) for c in fitted.vocabulary_.values())
    plain = plain_vocabulary(fitted)
    assert all(type(c) is int for c in plain.vocabulary_.values())
    np.testing.assert_array_equal(plain.transform(texts).toarray(), before)
