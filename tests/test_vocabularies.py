import json
import zipfile

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion

from routing.bundle import ROUTER_FILE, load_bundle
from routing.vocabularies import (
    TERMS_ATTRIBUTE,
    VocabularyError,
    restore_vocabularies,
    vocabularies_as_arrays,
)

TEXTS = ["listrik mati terus", "air pdam keruh", "paspor belum jadi", " ma ti ", "jalan rusak"]


def _union() -> FeatureUnion:
    return FeatureUnion(
        [
            ("word", TfidfVectorizer(ngram_range=(1, 2))),
            ("char", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), max_features=40)),
        ]
    ).fit(TEXTS)


def test_vocabularies_stored_as_arrays_come_back_equal_and_transform_alike():
    union = _union()
    vectorizers = [t for _, t in union.transformer_list]
    before = [dict(v.vocabulary_) for v in vectorizers]
    expected = union.transform(TEXTS).toarray()
    with vocabularies_as_arrays({"model": [union]}):  # found inside containers too
        stored = [getattr(v, TERMS_ATTRIBUTE) for v in vectorizers]
        assert all("vocabulary_" not in v.__dict__ for v in vectorizers)
    for terms, vocabulary in zip(stored, before, strict=True):
        assert terms.dtype.kind == "U"
        assert terms.tolist() == sorted(vocabulary, key=vocabulary.get)  # column order
    # restored after the block
    assert [v.vocabulary_ for v in vectorizers] == before
    # as loading finds them: arrays only
    for vectorizer, terms in zip(vectorizers, stored, strict=True):
        del vectorizer.vocabulary_
        setattr(vectorizer, TERMS_ATTRIBUTE, terms)
    restore_vocabularies(union)
    assert [v.vocabulary_ for v in vectorizers] == before
    assert all(TERMS_ATTRIBUTE not in v.__dict__ for v in vectorizers)
    assert np.array_equal(union.transform(TEXTS).toarray(), expected)


def test_vocabulary_is_restored_when_the_block_fails():
    union = _union()
    before = [dict(t.vocabulary_) for _, t in union.transformer_list]
    with pytest.raises(RuntimeError), vocabularies_as_arrays(union):
        raise RuntimeError("writing failed")
    assert [t.vocabulary_ for _, t in union.transformer_list] == before
    assert all(TERMS_ATTRIBUTE not in t.__dict__ for _, t in union.transformer_list)


def test_a_vocabulary_an_array_cannot_hold_exactly_stays_a_dict():
    vectorizer = TfidfVectorizer().fit(TEXTS)
    vectorizer.vocabulary_ = {"ok": 0, "cut\0": 1}  # numpy would drop the trailing NUL
    with vocabularies_as_arrays(vectorizer):
        assert vectorizer.vocabulary_ == {"ok": 0, "cut\0": 1}
        assert TERMS_ATTRIBUTE not in vectorizer.__dict__


@pytest.mark.parametrize(
    "terms",
    [np.array(["a", "b", "a"]), np.array([1, 2]), np.array([["a"], ["b"]]), ["a", "b"]],
    ids=["repeated term", "numbers", "two dimensions", "a list"],
)
def test_stored_terms_that_are_no_vocabulary_are_refused(terms):
    vectorizer = TfidfVectorizer().fit(TEXTS)
    del vectorizer.vocabulary_
    setattr(vectorizer, TERMS_ATTRIBUTE, terms)
    with pytest.raises(VocabularyError):
        restore_vocabularies(vectorizer)


def test_a_bundle_router_file_holds_no_vocabulary_dict_and_loads_it_back(trained_bundle):
    with zipfile.ZipFile(trained_bundle / ROUTER_FILE) as archive:
        schema = archive.read("schema.json").decode()
    assert '"vocabulary_"' not in schema
    assert TERMS_ATTRIBUTE in json.dumps(json.loads(schema))
    router = load_bundle(trained_bundle).router
    (_, word), (_, char) = router.vectorizer_.transformer_list
    for vectorizer in (word, char):
        assert sorted(vectorizer.vocabulary_.values()) == list(range(len(vectorizer.vocabulary_)))
        assert TERMS_ATTRIBUTE not in vectorizer.__dict__
