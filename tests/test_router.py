import numpy as np
import pytest
from sklearn.base import clone

from routing.router import Router, top_k_from_proba
from routing.text import TextNormalizer, as_texts, near_duplicate_groups


@pytest.fixture(scope="module")
def fitted(small_corpus) -> Router:
    return Router(random_state=0).fit(small_corpus.texts, small_corpus.labels)


def _few(corpus, per_agency: int, agencies: int):
    """The first `per_agency` complaints of the first `agencies` agencies of a corpus."""
    names = list(dict.fromkeys(corpus.labels))[:agencies]
    texts, labels = [], []
    for name in names:
        rows = [t for t, y in zip(corpus.texts, corpus.labels, strict=True) if y == name]
        texts += rows[:per_agency]
        labels += [name] * len(rows[:per_agency])
    return texts, labels


def test_classes_are_the_sorted_agencies(fitted, small_corpus):
    assert list(fitted.classes_) == sorted(set(small_corpus.labels))


def test_predict_proba_rows_sum_to_one_in_classes_order(fitted, heldout_corpus):
    proba = fitted.predict_proba(heldout_corpus.texts)
    assert proba.shape == (len(heldout_corpus.texts), len(fitted.classes_))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)
    # Column order is classes_: predict is the argmax column's agency.
    np.testing.assert_array_equal(
        fitted.predict(heldout_corpus.texts), fitted.classes_[proba.argmax(1)]
    )


def test_predict_proba_is_strictly_below_one(fitted, small_corpus):
    # Training texts are the most confident the model ever gets.
    proba = fitted.predict_proba(small_corpus.texts)
    assert proba.max() < 1.0
    assert proba.min() >= 0.0


def test_router_routes_held_out_complaints(fitted, heldout_corpus):
    accuracy = np.mean(fitted.predict(heldout_corpus.texts) == np.array(heldout_corpus.labels))
    assert accuracy >= 0.8


def test_fit_returns_self(small_corpus):
    texts, labels = _few(small_corpus, 6, 2)
    router = Router(cv=3)
    assert router.fit(texts, labels) is router


def test_oof_proba_has_one_row_per_training_complaint(fitted, small_corpus):
    assert fitted.oof_proba_.shape == (len(small_corpus.texts), len(fitted.classes_))
    np.testing.assert_allclose(fitted.oof_proba_.sum(axis=1), 1.0, atol=1e-6)
    assert fitted.oof_proba_.max() < 1.0


def test_oof_proba_is_less_confident_than_in_sample(fitted, small_corpus):
    # Out-of-fold scores come from models that did not see the complaint.
    in_sample = fitted.predict_proba(small_corpus.texts).max(axis=1).mean()
    assert fitted.oof_proba_.max(axis=1).mean() < in_sample


def test_clone_gives_unfitted_router_with_same_params():
    router = Router(C=0.7, cv=3, min_df=1, random_state=5, normalizer=TextNormalizer(lexicon=False))
    copy = clone(router)
    assert copy is not router
    params, copied = router.get_params(deep=False), copy.get_params(deep=False)
    assert params.keys() == copied.keys()
    for name in params:
        if name == "normalizer":
            assert copied[name].get_params() == params[name].get_params()
        else:
            assert copied[name] == params[name]
    assert not hasattr(copy, "classes_")


def test_set_params_round_trips_get_params():
    router = Router()
    router.set_params(**Router(C=2.0, word_ngram_range=(1, 1)).get_params(deep=False))
    assert router.C == 2.0
    assert router.word_ngram_range == (1, 1)


def test_clone_of_fitted_router_fits_again(fitted, small_corpus):
    texts, labels = _few(small_corpus, 8, 3)
    copy = clone(fitted).fit(texts, labels)
    assert len(copy.classes_) == 3
    assert len(fitted.classes_) == 5  # the original is untouched


def test_same_seed_gives_identical_probabilities(fitted, small_corpus, heldout_corpus):
    again = Router(random_state=0).fit(small_corpus.texts, small_corpus.labels)
    np.testing.assert_array_equal(fitted.oof_proba_, again.oof_proba_)
    assert np.array_equal(
        fitted.predict_proba(heldout_corpus.texts), again.predict_proba(heldout_corpus.texts)
    )


def test_agency_with_single_example_is_kept(small_corpus):
    texts, labels = _few(small_corpus, 8, 3)
    texts.append("paspor saya hilang di bandara dan kantor imigrasi tidak membantu")
    labels.append("ZZ SINGLE AGENCY")
    router = Router(cv=3).fit(texts, labels)
    assert "ZZ SINGLE AGENCY" in router.classes_
    proba = router.predict_proba(["paspor hilang di bandara"])
    assert proba.shape == (1, 4)
    np.testing.assert_allclose(proba.sum(), 1.0, atol=1e-6)


def test_two_agencies_work(small_corpus):
    texts, labels = _few(small_corpus, 10, 2)
    router = Router(cv=3).fit(texts, labels)
    assert len(router.classes_) == 2
    proba = router.predict_proba(texts)
    assert proba.shape == (len(texts), 2)
    assert np.mean(router.predict(texts) == np.array(labels)) >= 0.9
    # The binary head's weights point toward each class in turn.
    np.testing.assert_allclose(
        router.class_weights(router.classes_[0]), -router.class_weights(router.classes_[1])
    )


def test_one_agency_is_refused(small_corpus):
    with pytest.raises(ValueError, match="at least 2 agencies"):
        Router().fit(small_corpus.texts[:10], ["PT PLN (PERSERO)"] * 10)


def test_mismatched_lengths_are_refused(small_corpus):
    with pytest.raises(ValueError, match="labels"):
        Router().fit(small_corpus.texts[:10], small_corpus.labels[:9])


def test_single_string_is_refused_in_fit_and_predict(fitted):
    with pytest.raises(TypeError, match="single string"):
        Router().fit("listrik padam", ["PLN"])
    with pytest.raises(TypeError, match="single string"):
        fitted.predict_proba("listrik padam")


def test_non_string_texts_are_refused():
    with pytest.raises(TypeError, match="complaint 1"):
        as_texts(["listrik padam", None])


def test_top_k_is_sorted_best_first_and_matches_proba(fitted, heldout_corpus):
    texts = heldout_corpus.texts[:5]
    ranked = fitted.top_k(texts, k=3)
    proba = fitted.predict_proba(texts)
    assert [len(r) for r in ranked] == [3] * 5
    for row, pairs in zip(proba, ranked, strict=True):
        confidences = [c for _, c in pairs]
        assert confidences == sorted(confidences, reverse=True)
        assert pairs[0] == (str(fitted.classes_[row.argmax()]), float(row.max()))
        for agency, confidence in pairs:
            assert confidence == row[list(fitted.classes_).index(agency)]


def test_top_k_from_proba_clips_k_to_the_number_of_agencies():
    proba = np.array([[0.2, 0.5, 0.3]])
    assert top_k_from_proba(proba, ["a", "b", "c"], 10) == [[("b", 0.5), ("c", 0.3), ("a", 0.2)]]
    assert top_k_from_proba(proba, ["a", "b", "c"], 1) == [[("b", 0.5)]]


def test_class_weights_of_unknown_agency_raise(fitted):
    with pytest.raises(KeyError):
        fitted.class_weights("NOT AN AGENCY")


def test_unfitted_router_refuses_to_predict():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        Router().predict_proba(["listrik padam"])


TOKEN = "qwertoken"  # in no complaint of the corpus


def test_a_token_held_out_by_one_fold_is_not_in_that_folds_vocabulary(small_corpus, monkeypatch):
    """Out-of-fold scores come from features fitted without the held-out complaints: a token
    found only in three complaints of one fold's held-out part is in the vocabulary of every
    other fold's features and of the final ones (min_df=2 lets it in), not in that fold's."""
    labels = np.asarray(small_corpus.labels, dtype=object)
    router = Router(random_state=0)
    folds = router.folds(labels, near_duplicate_groups(small_corpus.texts))
    k = 1
    holding = set(folds[k][1][:3].tolist())
    texts = [f"{t} {TOKEN}" if i in holding else t for i, t in enumerate(small_corpus.texts)]
    built = []
    make = Router.text_features
    monkeypatch.setattr(
        Router, "text_features", lambda self, n_docs: built.append(make(self, n_docs)) or built[-1]
    )
    router.fit(texts, labels)

    def words(features) -> dict:
        return features["tfidf"].named_transformers["word"].vocabulary_

    *per_fold, final = built
    assert len(per_fold) == len(folds)
    assert TOKEN in words(final) and final["tfidf"] is router.vectorizer_
    assert TOKEN not in words(per_fold[k])
    assert all(TOKEN in words(f) for j, f in enumerate(per_fold) if j != k)


def test_out_of_fold_scores_of_a_fold_ignore_its_other_held_out_texts(small_corpus):
    """Rewriting one held-out complaint changes no other score of its fold (features fitted on
    all rows would shift with its words), but does change the folds that trained on it."""
    texts, labels = list(small_corpus.texts), list(small_corpus.labels)
    router = Router(random_state=0)
    _, test = router.folds(labels, near_duplicate_groups(texts))[0]
    before = router.oof_decision_function(texts, labels)
    texts[test[0]] = "paspor saya hilang di bandara, antrean imigrasi lama sekali"
    after = router.oof_decision_function(texts, labels)
    np.testing.assert_array_equal(after[test[1:]], before[test[1:]])
    assert not np.array_equal(after[test[0]], before[test[0]])
    others = np.setdiff1d(np.arange(len(texts)), test)
    assert not np.allclose(after[others], before[others])


def test_out_of_fold_scores_never_learn_complaints_of_weight_zero(small_corpus):
    """An agency weighted 0 is left out of every fold's features and head: its complaints are
    still scored, its column scores lowest everywhere, and rewriting one of them changes no
    score of another complaint."""
    texts, labels = list(small_corpus.texts), list(small_corpus.labels)
    held = labels[0]
    weight = np.array([y != held for y in labels], dtype=float)
    router = Router(random_state=0)
    before = router.oof_decision_function(texts, labels, sample_weight=weight)
    column = list(np.unique(labels)).index(held)
    assert (before.argmin(axis=1) == column).all()
    texts[0] = "paspor saya hilang di bandara, antrean imigrasi lama sekali"
    after = router.oof_decision_function(texts, labels, sample_weight=weight)
    np.testing.assert_array_equal(after[1:], before[1:])


CAMPAIGN_AGENCY = "ZZ CAMPAIGN"


def _with_campaign(corpus, copies: int = 12) -> tuple[list[str], list[str]]:
    """The corpus with a campaign spread through it: one template sent `copies` times with
    different customer ids, NIKs and phone numbers, disposed to an agency of its own."""
    texts, labels = list(corpus.texts), list(corpus.labels)
    for i in range(copies):
        text = (
            f"Mohon cek meteran pelanggan {4100 + 37 * i} / {5300000000 + 7919 * i}, "
            f"NIK {3201000000000000 + 104729 * i}, hp 0812{7000000 + 1301 * i}, "
            "tagihan naik drastis bulan ini"
        )
        at = 7 * i + 3
        texts.insert(at, text)
        labels.insert(at, CAMPAIGN_AGENCY)
    return texts, labels


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_folds_never_split_a_group_of_near_duplicates(small_corpus, seed):
    texts, labels = _with_campaign(small_corpus)
    groups = near_duplicate_groups(texts)
    campaign = np.flatnonzero(np.asarray(labels) == CAMPAIGN_AGENCY)
    assert len(set(groups[campaign])) == 1  # the rule made them one group

    folds = Router(random_state=seed).folds(labels, groups)

    assert len(folds) == 5
    assert sorted(np.concatenate([test for _, test in folds]).tolist()) == list(range(len(texts)))
    for train, test in folds:
        assert not set(groups[train]) & set(groups[test])
    assert sum(set(campaign) <= set(test.tolist()) for _, test in folds) == 1
    again = Router(random_state=seed).folds(labels, groups)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(folds, again, strict=True))


def test_out_of_fold_scores_never_learn_a_complaint_from_its_near_duplicates(small_corpus):
    """Each campaign complaint is scored by a head that saw none of its copies: the campaign's
    agency, known from those copies only, is never its out-of-fold suggestion (with the copies
    spread over folds it would be every time)."""
    texts, labels = _with_campaign(small_corpus)
    router = Router(random_state=0).fit(texts, labels)

    campaign = np.flatnonzero(np.asarray(labels) == CAMPAIGN_AGENCY)
    column = list(router.classes_).index(CAMPAIGN_AGENCY)
    assert not np.any(router.oof_proba_[campaign].argmax(axis=1) == column)
    assert router.predict([texts[campaign[0]]])[0] == CAMPAIGN_AGENCY  # the final head learns it


def test_folds_are_fewer_when_groups_are_fewer_than_cv():
    labels = ["a", "a", "a", "b", "b", "b"]
    groups = [0, 0, 1, 1, 2, 2]
    folds = Router(cv=5).folds(labels, groups)
    assert len(folds) == 3
    for train, test in folds:
        assert not set(np.asarray(groups)[train]) & set(np.asarray(groups)[test])


def test_folds_refuse_a_single_group_or_mismatched_groups():
    with pytest.raises(ValueError, match="near duplicates"):
        Router().folds(["a", "a", "b", "b"], [7, 7, 7, 7])
    with pytest.raises(ValueError, match="groups"):
        Router().folds(["a", "a", "b"], [0, 1])


def test_fit_refuses_agencies_whose_complaints_are_all_one_template():
    texts = [f"tagihan pelanggan {100000 + i} naik" for i in range(6)]
    with pytest.raises(ValueError, match="near duplicates"):
        Router().fit(texts, ["PLN", "PDAM"] * 3)


def test_folds_fitted_in_worker_processes_give_the_same_router(
    fitted, small_corpus, heldout_corpus
):
    again = Router(random_state=0, n_jobs=2).fit(small_corpus.texts, small_corpus.labels)
    np.testing.assert_array_equal(again.oof_proba_, fitted.oof_proba_)
    np.testing.assert_array_equal(
        again.predict_proba(heldout_corpus.texts), fitted.predict_proba(heldout_corpus.texts)
    )


def test_fitted_features_are_scikit_learns_own(fitted, heldout_corpus):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion

    assert isinstance(fitted.vectorizer_, FeatureUnion)
    assert [name for name, _ in fitted.vectorizer_.transformer_list] == ["word", "char"]
    assert all(isinstance(v, TfidfVectorizer) for _, v in fitted.vectorizer_.transformer_list)
    assert isinstance(fitted.normalizer_, TextNormalizer)
    normalized = fitted.normalizer_.transform(heldout_corpus.texts)
    T = fitted.tfidf(normalized)
    np.testing.assert_array_equal(T.toarray(), fitted.vectorizer_.transform(normalized).toarray())
    proba, features = fitted.predict_proba_with_features(heldout_corpus.texts)
    np.testing.assert_array_equal(features.toarray(), T.toarray())
    np.testing.assert_array_equal(proba, fitted.predict_proba(heldout_corpus.texts))
    assert fitted.weight_matrix().shape == (len(fitted.classes_), T.shape[1])


def test_pickled_router_answers_alike_without_the_words_its_analyzer_met(fitted, heldout_corpus):
    import pickle

    want = fitted.predict_proba(heldout_corpus.texts)
    restored = pickle.loads(pickle.dumps(fitted))
    assert restored.vectorizer_.named_transformers["char"].analyzer._memo == {}
    np.testing.assert_array_equal(restored.predict_proba(heldout_corpus.texts), want)


class CountingEmbedder:
    """Stand-in sentence encoder: three dimensions, and a count of the texts it encoded."""

    model_id = "counting-1"

    def __init__(self):
        self.encoded = 0

    def encode(self, texts):
        self.encoded += len(texts)
        rows = [[t.lower().count("listrik"), t.lower().count("paspor"), 1.0] for t in texts]
        return np.asarray(rows, dtype=np.float32)


def test_embedder_encodes_each_training_complaint_once(small_corpus):
    embedder = CountingEmbedder()
    texts, labels = _few(small_corpus, 8, 3)
    router = Router(cv=3, embedder=embedder).fit(texts, labels)
    assert embedder.encoded == len(texts)
    proba, T = router.predict_proba_with_features(texts[:2])
    assert router.n_features_ == T.shape[1] + 3  # the TF-IDF block, then the embeddings
    assert router.transform_texts(texts[:2]).shape == (2, router.n_features_)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)


def test_cached_text_features_give_the_same_router(small_corpus, heldout_corpus, tmp_path):
    texts, labels = small_corpus.texts, small_corpus.labels
    plain = Router(random_state=0).fit(texts, labels)
    first = Router(random_state=0, memory=str(tmp_path)).fit(texts, labels)
    again = Router(random_state=0, memory=str(tmp_path)).fit(texts, labels)  # read from the cache
    assert any(tmp_path.iterdir())
    for router in (first, again):
        np.testing.assert_array_equal(router.oof_proba_, plain.oof_proba_)
        np.testing.assert_array_equal(
            router.predict_proba(heldout_corpus.texts), plain.predict_proba(heldout_corpus.texts)
        )


def test_sample_weights_change_the_heads_but_not_the_labels_calibrated_on(small_corpus):
    texts, labels = small_corpus.texts, np.asarray(small_corpus.labels, dtype=object)
    weight = np.ones(len(labels))
    weight[labels == labels[0]] = 0.01  # one agency's complaints teach the heads little
    router = Router(random_state=0).fit(texts, labels, sample_weight=weight)
    unit = Router(random_state=0).fit(texts, labels, sample_weight=np.ones(len(labels)))
    plain = Router(random_state=0).fit(texts, labels)
    np.testing.assert_array_equal(unit.oof_proba_, plain.oof_proba_)
    mine = router.classes_ == labels[0]
    assert router.oof_proba_[labels == labels[0]][:, mine].mean() < (
        plain.oof_proba_[labels == labels[0]][:, mine].mean()
    )
    assert router.oof_proba_.shape == plain.oof_proba_.shape


def test_sample_weights_must_match_the_complaints(small_corpus):
    with pytest.raises(ValueError, match="sample weights"):
        Router().fit(small_corpus.texts, small_corpus.labels, sample_weight=[1.0, 2.0])


def test_an_agency_without_weight_is_refused_and_zero_weights_drop_out_of_folds(small_corpus):
    texts, labels = small_corpus.texts, np.asarray(small_corpus.labels, dtype=object)
    weight = np.ones(len(labels))
    weight[labels == labels[0]] = 0.0
    with pytest.raises(ValueError, match="positive sample weight"):
        Router(random_state=0).fit(texts, labels, sample_weight=weight)
    first = np.flatnonzero(labels == labels[0])
    weight[first[1:]] = 1.0  # one complaint of it left out of the heads: folds still fit
    router = Router(random_state=0).fit(texts, labels, sample_weight=weight)
    assert router.oof_proba_.shape == (len(labels), len(router.classes_))


def test_class_weight_reaches_the_head(small_corpus):
    router = Router(class_weight="balanced", random_state=0)
    router.fit(small_corpus.texts, small_corpus.labels)
    assert router.head_.class_weight == "balanced"
