"""Bundles trained with an embedder: what they carry, and how often suggest() encodes."""

import pickle
import shutil

import numpy as np
import pytest
from sklearn.feature_extraction.text import HashingVectorizer

from routing.bundle import TRUSTED_TYPES, load_bundle
from routing.embeddings import CachedEmbedder
from routing.suggest import suggest
from training.pipeline import train


class WordEncoder:
    """A tiny deterministic sentence encoder (hashed words); counts its encode calls."""

    model_id = "test-words-v1"
    dim = 64

    def __init__(self):
        self.calls: list[int] = []  # number of texts per encode call

    def encode(self, texts):
        texts = list(texts)
        self.calls.append(len(texts))
        hasher = HashingVectorizer(n_features=self.dim, alternate_sign=False, norm="l2")
        return hasher.transform(texts).toarray().astype(np.float32)


@pytest.fixture(scope="module", autouse=True)
def _trust_the_word_encoder():
    """WordEncoder is a test class: bundles holding it load only where it is trusted."""
    with pytest.MonkeyPatch.context() as patch:
        name = f"{WordEncoder.__module__}.{WordEncoder.__qualname__}"
        patch.setattr("routing.bundle.TRUSTED_TYPES", (*TRUSTED_TYPES, name))
        yield


def encode_calls(bundle) -> list[int]:
    """encode calls of the bundle's router and index embedders (separate objects once loaded)."""
    return bundle.router.embedder.calls + bundle.similar.embedder.calls


def reset_calls(bundle) -> None:
    bundle.router.embedder.calls.clear()
    bundle.similar.embedder.calls.clear()


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("embedding-cache")


@pytest.fixture(scope="module")
def embedded_bundle(tmp_path_factory, small_csv, cache_dir):
    """A bundle trained through a CachedEmbedder, as `routing train --embedder` does."""
    out = tmp_path_factory.mktemp("bundles") / "embedded"
    encoder = CachedEmbedder(WordEncoder(), cache_dir)
    train(small_csv, "text", "agency", out, id_col="id", router_params={"embedder": encoder})
    return load_bundle(out)


def test_training_went_through_the_cache(embedded_bundle, cache_dir):
    assert list(cache_dir.rglob("vectors.sqlite3"))


def test_saved_bundle_holds_the_encoder_without_the_cache(embedded_bundle, cache_dir):
    assert type(embedded_bundle.router.embedder) is WordEncoder
    assert type(embedded_bundle.similar.embedder) is WordEncoder
    assert embedded_bundle.similar.mode == "hybrid+profile"
    path = str(cache_dir).encode()
    assert path not in pickle.dumps(embedded_bundle.router)
    assert path not in pickle.dumps(embedded_bundle.similar)
    manifest = (embedded_bundle.path / "manifest.json").read_bytes()
    assert path not in manifest and b"CachedEmbedder" not in manifest


def test_loaded_bundle_encodes_without_the_trainers_cache(tmp_path, embedded_bundle, cache_dir):
    moved = tmp_path / "gone"
    shutil.move(cache_dir, moved)
    try:
        reset_calls(embedded_bundle)
        predictions = suggest(embedded_bundle, ["listrik padam sejak pagi"], similar=2)
        assert len(predictions[0].similar) == 2
        assert sum(encode_calls(embedded_bundle)) == 1
        assert not cache_dir.exists()
    finally:
        shutil.move(moved, cache_dir)


@pytest.mark.parametrize(
    ("similar", "explain_words"), [(0, 0), (3, 0), (3, 2)], ids=["plain", "similar", "explained"]
)
def test_suggest_encodes_each_complaint_once(
    embedded_bundle, heldout_corpus, similar, explain_words
):
    texts = heldout_corpus.texts[:7]
    reset_calls(embedded_bundle)
    predictions = suggest(embedded_bundle, texts, similar=similar, explain_words=explain_words)
    assert encode_calls(embedded_bundle) == [len(texts)]
    # the same probabilities as the router computing its own embeddings
    proba = embedded_bundle.router.predict_proba(texts)
    got = [p.top.confidence for p in predictions]
    np.testing.assert_allclose(got, proba.max(axis=1), rtol=1e-6)
    if similar:
        expected = embedded_bundle.similar.query(texts, similar, proba=proba)
        assert [p.similar for p in predictions] == expected


def test_router_refuses_embeddings_of_another_batch(embedded_bundle):
    E = np.zeros((2, WordEncoder.dim), dtype=np.float32)
    with pytest.raises(ValueError, match="2 embeddings for 1"):
        embedded_bundle.router.predict_proba(["listrik padam"], embeddings=E)
