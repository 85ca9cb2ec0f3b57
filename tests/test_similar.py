import pickle

import numpy as np
import pytest

from routing.similar import SNIPPET_CHARS, SimilarIndex, make_snippet

NIK = "3201234567890001"
PHONE = "081234567890"
PERSONAL = (
    f"Saya Budi, NIK {NIK}, hp {PHONE}. Listrik di rumah saya padam tiga hari dan petugas PLN "
    "belum datang memperbaiki gardu yang rusak. Tetangga sudah melapor ke kantor cabang dua kali "
    "tetapi tidak ada tanggapan sama sekali. Tolong dicek, kabelnya menjuntai dekat "
    "Gang Kenanga Purwakarta."  # the last words lie beyond the snippet
)
HOUSE = "PT PLN (PERSERO)"


class TopicEmbedder:
    """Tiny stand-in encoder: one dimension per topic word, so tests stay fast and exact."""

    model_id = "topic-1"
    WORDS = ("listrik", "paspor", "sampah", "jalan", "bpjs", "polisi")
    dim = len(WORDS) + 1

    def encode(self, texts):
        rows = [[t.lower().count(w) for w in self.WORDS] + [0.1] for t in texts]
        E = np.asarray(rows, dtype=np.float32)
        return E / np.linalg.norm(E, axis=1, keepdims=True)


@pytest.fixture(scope="module")
def tfidf_index(small_corpus) -> SimilarIndex:
    return SimilarIndex(mode="tfidf").fit(small_corpus.texts, small_corpus.labels, small_corpus.ids)


@pytest.fixture(scope="module")
def personal_index(small_corpus) -> SimilarIndex:
    texts = [*small_corpus.texts, PERSONAL]
    labels = [*small_corpus.labels, HOUSE]
    ids = [*small_corpus.ids, "P-1"]
    return SimilarIndex(mode="hybrid", embedder=TopicEmbedder()).fit(texts, labels, ids)


def test_query_returns_k_cases_with_id_agency_similarity_and_snippet(tfidf_index, heldout_corpus):
    results = tfidf_index.query(heldout_corpus.texts[:5], k=3)
    assert len(results) == 5
    for cases in results:
        assert len(cases) == 3
        assert all(set(c) == {"id", "agency", "similarity", "snippet"} for c in cases)
        sims = [c["similarity"] for c in cases]
        assert sims == sorted(sims, reverse=True)
        assert all(0.0 <= s <= 1.0 for s in sims)


def test_similar_cases_of_unseen_complaints_mostly_share_their_agency(tfidf_index, heldout_corpus):
    results = tfidf_index.query(heldout_corpus.texts, k=3)
    same = [
        c["agency"] == y
        for cases, y in zip(results, heldout_corpus.labels, strict=True)
        for c in cases
    ]
    assert np.mean(same) >= 0.8


def test_retrieval_is_not_restricted_to_one_agency(tfidf_index, heldout_corpus):
    agencies = {
        c["agency"] for cases in tfidf_index.query(heldout_corpus.texts, k=3) for c in cases
    }
    assert len(agencies) == len(set(heldout_corpus.labels))


def test_a_training_complaint_finds_itself_unless_excluded(tfidf_index, small_corpus):
    text, cid = small_corpus.texts[7], small_corpus.ids[7]
    (found,) = tfidf_index.query([text], k=1)
    assert found[0]["id"] == cid
    assert found[0]["similarity"] == pytest.approx(1.0, abs=1e-3)
    (others,) = tfidf_index.query([text], k=3, exclude_ids=[cid])
    assert cid not in [c["id"] for c in others]
    assert len(others) == 3


def test_snippets_are_masked_and_short(personal_index):
    (cases,) = personal_index.query([PERSONAL], k=1)
    snippet = cases[0]["snippet"]
    assert cases[0]["id"] == "P-1"
    assert "[NIK]" in snippet and "[TELEPON]" in snippet
    assert NIK not in snippet and PHONE not in snippet
    assert all(len(s) <= SNIPPET_CHARS + 1 for s in personal_index.snippets_)


def test_pickled_index_holds_no_personal_number(personal_index):
    data = pickle.dumps(personal_index)
    for secret in (NIK, PHONE, "3201 2345", "0812"):
        assert secret.encode() not in data
        assert secret.encode("utf-16-le") not in data
    restored = pickle.loads(data)
    assert restored.query([PERSONAL], k=1)[0][0]["id"] == "P-1"


def test_pickled_index_keeps_neither_raw_text_nor_a_vocabulary(personal_index):
    assert len(PERSONAL) > SNIPPET_CHARS + 50
    data = pickle.dumps(personal_index)
    assert b"Kenanga" not in data
    assert b"kenanga" not in data


def test_embeddings_are_stored_as_float16(personal_index):
    assert personal_index.embeddings_.dtype == np.float16


def test_hybrid_similarity_is_the_weighted_sum_of_its_terms(small_corpus, heldout_corpus):
    texts, labels = small_corpus.texts, small_corpus.labels
    queries = heldout_corpus.texts[:4]
    emb = TopicEmbedder()
    tfidf = SimilarIndex(mode="tfidf").fit(texts, labels).similarity(queries)
    dense = SimilarIndex(mode="embedding", embedder=emb).fit(texts, labels).similarity(queries)
    hybrid = SimilarIndex(mode="hybrid", embedder=emb, weights={"tfidf": 1, "embedding": 3})
    S = hybrid.fit(texts, labels).similarity(queries)
    np.testing.assert_allclose(S, 0.25 * tfidf + 0.75 * dense, atol=2e-3)


def test_precomputed_embeddings_replace_the_embedder(small_corpus):
    E = TopicEmbedder().encode(small_corpus.texts)
    index = SimilarIndex(mode="embedding").fit(
        small_corpus.texts, small_corpus.labels, embeddings=E
    )
    (cases,) = index.query(["x"], k=1, embeddings=E[[3]])
    assert cases[0]["similarity"] == pytest.approx(1.0, abs=1e-3)
    with pytest.raises(ValueError, match="embedder"):
        index.query(["x"], k=1)


def test_profile_term_is_the_bhattacharyya_coefficient_of_router_probabilities():
    profiles = np.array([[1.0, 0.0], [0.5, 0.5], [0.0, 1.0]])
    index = SimilarIndex(mode="profile").fit(
        ["a", "b", "c"], ["X", "Y", "Y"], profiles=profiles, classes=["X", "Y"]
    )
    S = index.similarity(["q"], proba=np.array([[1.0, 0.0]]))
    np.testing.assert_allclose(S[0], [1.0, np.sqrt(0.5), 0.0], atol=2e-3)
    with pytest.raises(ValueError, match="proba"):
        index.similarity(["q"])


def test_profile_modes_need_profiles(small_corpus):
    with pytest.raises(ValueError, match="profiles"):
        SimilarIndex(mode="hybrid+profile", embedder=TopicEmbedder()).fit(
            small_corpus.texts, small_corpus.labels
        )


@pytest.mark.parametrize("mode", ["bm25", "tfidf+tfidf", "", "hybrid+embedding"])
def test_unknown_modes_are_refused(mode, small_corpus):
    with pytest.raises(ValueError, match="mode"):
        SimilarIndex(mode=mode).fit(small_corpus.texts, small_corpus.labels)


def test_make_snippet_masks_before_cutting():
    text = "a" * 195 + f" {NIK} tail"
    snippet = make_snippet(text)
    assert "320123" not in snippet
    assert snippet.endswith("…")


def test_tfidf_term_keeps_nepali_words_whole():
    index = SimilarIndex(mode="tfidf").fit(["नेपाल सरकारको कार्यालय", "सडक बिग्रिएको छ"], ["X", "Y"])
    X = index.tfidf_.transform(index.normalizer_.transform(["सरकारको कार्यालय"]))
    # two words + one bigram, all seen in training
    assert X.nnz == 3
    np.testing.assert_allclose(np.linalg.norm(X.toarray()), 1.0, atol=1e-6)


def test_character_ngrams_match_inflected_words_that_word_tfidf_misses():
    docs, labels = ["jalan berlubang belum diperbaiki", "antrean paspor lama"], ["X", "Y"]
    query = ["perbaikan"]
    word = SimilarIndex(mode="tfidf").fit(docs, labels)
    chars = SimilarIndex(mode="tfidf", char_ngrams=True).fit(docs, labels)
    assert not word.similarity(query).any()
    S = chars.similarity(query)[0]
    assert S[0] > S[1]
    assert S[0] <= 1.0 + 1e-6


def test_word_and_character_blocks_share_the_unit_norm_equally(small_corpus):
    from scipy.sparse.linalg import norm

    index = SimilarIndex(mode="tfidf", char_ngrams=True).fit(
        small_corpus.texts, small_corpus.labels
    )
    X = index.tfidf_matrix_[:5]
    word_columns = X.shape[1] // 2  # the word and character blocks hash alike
    np.testing.assert_allclose(norm(X[:, :word_columns], axis=1), np.sqrt(0.5), atol=1e-6)
    np.testing.assert_allclose(norm(X[:, word_columns:], axis=1), np.sqrt(0.5), atol=1e-6)


def test_pickled_character_index_keeps_no_word_it_met(small_corpus):
    """The character analyzer remembers the words it analysed; that memo is never pickled."""
    index = SimilarIndex(mode="tfidf", char_ngrams=True).fit(
        [*small_corpus.texts, PERSONAL], [*small_corpus.labels, HOUSE]
    )
    index.query(["listrik padam di Kenanga"], k=1)
    assert b"enanga" not in pickle.dumps(index)


def test_centroid_similarity_is_the_cosine_to_each_agencys_mean_vector():
    E = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]], dtype=np.float32)
    index = SimilarIndex(mode="embedding").fit(["a", "b", "c"], ["X", "X", "Y"], embeddings=E)
    S = index.centroid_similarity(["q"], ["X", "Y", "Z"], embeddings=np.array([[1.0, 0.0]]))
    # X's centroid is (1, 1)/sqrt(2); Y's is (1, 0); Z has no complaints
    np.testing.assert_allclose(S[0], [np.sqrt(0.5), 1.0, 0.0], atol=2e-3)


def test_prenormalized_texts_give_the_same_vectors(tfidf_index, heldout_corpus):
    texts = heldout_corpus.texts[:10]
    normalized = tfidf_index.normalizer_.transform(texts)
    with_given = tfidf_index.query(texts, 3, normalized=normalized)
    assert with_given == tfidf_index.query(texts, 3)
    with pytest.raises(ValueError, match="normalized"):
        tfidf_index.similarity(texts, normalized=normalized[:-1])


def test_only_an_equal_normalizer_shares_its_texts(tfidf_index):
    from routing.text import TextNormalizer

    assert tfidf_index.shares_normalization(TextNormalizer().fit([]))
    assert not tfidf_index.shares_normalization(TextNormalizer(lexicon=False).fit([]))
    other = TextNormalizer().fit([])
    other.lexicon_ = {**other.lexicon_, "zzq": "zzquux"}
    assert not tfidf_index.shares_normalization(other)
    profile_only = SimilarIndex(mode="embedding").fit(
        ["a", "b"], ["X", "Y"], embeddings=np.eye(2, dtype=np.float32)
    )
    assert not profile_only.shares_normalization(TextNormalizer().fit([]))
