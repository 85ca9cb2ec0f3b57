import copy
import re
from dataclasses import replace

import numpy as np
import pytest

from routing.bundle import Bundle, load_bundle
from routing.suggest import MAX_TOP_K, suggest, suggest_proba


@pytest.fixture(scope="module")
def bundle(trained_bundle) -> Bundle:
    return load_bundle(trained_bundle)


def _with_threshold(bundle: Bundle, threshold: float) -> Bundle:
    return replace(bundle, policy=replace(bundle.policy, threshold=threshold))


def _in_scope(bundle: Bundle) -> Bundle:
    """The bundle with a detector that flags no complaint but empty ones out of scope."""
    lenient = copy.copy(bundle.novelty)
    lenient.cutoff_ = 1.0 - 1e-9
    return replace(bundle, novelty=lenient)


def test_decision_follows_the_bundle_threshold(bundle, heldout_corpus):
    confidences = suggest_proba(bundle, heldout_corpus.texts).max(axis=1)
    # a threshold inside the observed range so that both decisions are exercised
    bundle = _in_scope(_with_threshold(bundle, float(np.median(confidences))))
    predictions = suggest(bundle, heldout_corpus.texts)
    assert {p.decision for p in predictions} == {"auto", "review"}
    for p in predictions:
        expected = "auto" if p.top.confidence >= bundle.policy.threshold else "review"
        assert p.decision == expected
        assert p.threshold == bundle.policy.threshold


def test_per_agency_thresholds_apply_the_top_agency_s_own(bundle, heldout_corpus):
    confidences = suggest_proba(bundle, heldout_corpus.texts).max(axis=1)
    # half the agencies never auto-routed, the others at a threshold most complaints reach
    low = float(np.quantile(confidences, 0.2))
    thresholds = {a: (1.0 if i % 2 else low) for i, a in enumerate(bundle.labels)}
    bundle = _in_scope(replace(bundle, policy=replace(bundle.policy, thresholds=thresholds)))
    predictions = suggest(bundle, heldout_corpus.texts)
    assert {p.decision for p in predictions} == {"auto", "review"}
    for p in predictions:
        assert p.threshold == thresholds[p.top.agency]
        expected = "auto" if p.top.confidence >= p.threshold and p.threshold < 1 else "review"
        assert p.decision == expected


def test_a_review_says_why_and_auto_has_no_reason(bundle, heldout_corpus):
    confidences = suggest_proba(bundle, heldout_corpus.texts).max(axis=1)
    bundle = _with_threshold(bundle, float(np.median(confidences)))
    predictions = suggest(bundle, [*heldout_corpus.texts, ""])
    assert {p.decision for p in predictions} == {"auto", "review"}
    for p in predictions:
        assert (p.decision == "review") == bool(p.reasons)
        codes = [r["code"] for r in p.reasons]
        assert ("low_confidence" in codes) == (p.top.confidence < p.threshold)
    assert "out_of_scope" in [r["code"] for r in predictions[-1].reasons]  # empty text


def test_out_of_scope_complaints_are_never_auto_routed(bundle, heldout_corpus):
    assert bundle.novelty is not None
    texts = heldout_corpus.texts[:10]
    strict = copy.copy(bundle.novelty)
    strict.cutoff_ = -1.0  # every complaint is beyond it
    predictions = suggest(replace(_with_threshold(bundle, 0.0), novelty=strict), texts)
    for p in predictions:
        assert p.decision == "review"
        [reason] = p.reasons
        assert reason["code"] == "out_of_scope" and reason["cutoff"] == -1.0
    relaxed = _in_scope(_with_threshold(bundle, 0.0))
    assert {p.decision for p in suggest(relaxed, texts)} == {"auto"}


def test_two_close_agencies_are_ambiguous_even_when_one_is_shown(bundle, heldout_corpus):
    texts = heldout_corpus.texts[:2]
    proba = np.zeros((2, len(bundle.labels)))
    proba[0, :2] = [0.46, 0.44]  # close, and together 0.9
    proba[1, :2] = [0.75, 0.15]
    relaxed = _in_scope(_with_threshold(bundle, 0.5))
    first, second = suggest(relaxed, texts, top_k=1, proba=proba)
    assert len(first.suggestions) == 1
    assert first.reasons == [
        {"code": "ambiguous", "agencies": bundle.labels[:2]},
        {"code": "low_confidence", "confidence": 0.46, "threshold": 0.5},
    ]
    assert second.decision == "auto" and second.reasons == []


def test_a_bundle_without_a_novelty_detector_flags_only_empty_complaints(bundle, heldout_corpus):
    older = replace(_with_threshold(bundle, 0.0), novelty=None)
    predictions = suggest(older, [*heldout_corpus.texts[:5], " "])
    assert {p.decision for p in predictions[:-1]} == {"auto"}
    assert [r["code"] for r in predictions[-1].reasons] == ["out_of_scope"]


def test_threshold_zero_auto_routes_and_threshold_one_reviews_everything(bundle, heldout_corpus):
    texts = heldout_corpus.texts[:10]
    assert {p.decision for p in suggest(_in_scope(_with_threshold(bundle, 0.0)), texts)} == {"auto"}
    assert {p.decision for p in suggest(_with_threshold(bundle, 1.0), texts)} == {"review"}


def test_suggestions_are_best_first_and_match_the_router(bundle, heldout_corpus):
    texts = heldout_corpus.texts[:5]
    proba = suggest_proba(bundle, texts)
    for row, p in zip(proba, suggest(bundle, texts, top_k=3), strict=True):
        assert len(p.suggestions) == 3
        confidences = [s.confidence for s in p.suggestions]
        assert confidences == sorted(confidences, reverse=True)
        assert p.top.agency == bundle.labels[int(row.argmax())]
        assert p.top.confidence == pytest.approx(row.max())


def test_precomputed_proba_is_used(bundle, heldout_corpus):
    texts = heldout_corpus.texts[:2]
    fake = np.zeros((2, len(bundle.labels)))
    fake[:, 1] = 0.97
    fake[:, 0] = 0.03
    predictions = suggest(bundle, texts, top_k=1, proba=fake)
    assert [p.top.agency for p in predictions] == [bundle.labels[1]] * 2


@pytest.mark.parametrize("top_k", [0, -1, MAX_TOP_K + 1])
def test_top_k_out_of_bounds_is_refused(bundle, top_k):
    assert MAX_TOP_K == 10
    with pytest.raises(ValueError, match="top_k"):
        suggest(bundle, ["listrik padam"], top_k=top_k)


def test_top_k_is_capped_by_the_number_of_agencies(bundle):
    (prediction,) = suggest(bundle, ["listrik padam"], top_k=MAX_TOP_K)
    assert len(prediction.suggestions) == len(bundle.labels) == 5
    assert {s.agency for s in prediction.suggestions} == set(bundle.labels)


def test_predictions_carry_the_model_version(bundle, heldout_corpus):
    predictions = suggest(bundle, heldout_corpus.texts[:3])
    assert re.fullmatch(r"rt-[0-9a-f]{12}", bundle.model_version)
    assert {p.model_version for p in predictions} == {bundle.model_version}


def test_explanations_only_when_asked(bundle):
    text = "listrik mati trs sejak kemarin malam"
    (plain,) = suggest(bundle, [text])
    assert all(s.explanation == [] for s in plain.suggestions)
    (explained,) = suggest(bundle, [text], explain_words=3)
    assert explained.top.explanation
    assert all(len(s.explanation) <= 3 for s in explained.suggestions)
    assert set(explained.top.explanation) <= set(text.split())


def test_no_texts_give_no_predictions(bundle):
    assert suggest(bundle, [], proba=np.zeros((0, len(bundle.labels)))) == []


@pytest.mark.parametrize("lexicon", [True, False])
def test_similar_cases_are_the_index_own_answer(bundle, heldout_corpus, lexicon):
    """suggest() hands the router's normalized texts to the index only when the index would
    normalize them alike; either way the cases are what the index finds on its own."""
    from routing.text import TextNormalizer

    assert bundle.similar is not None
    router = copy.deepcopy(bundle.router)
    router.normalizer_ = TextNormalizer(lexicon=lexicon).fit([])
    b = replace(bundle, router=router)
    assert bundle.similar.shares_normalization(router.normalizer_) is lexicon
    texts = [*heldout_corpus.texts[:8], "sy blm trima bansos yg dijanjikan"]
    proba = suggest_proba(b, texts)
    want = bundle.similar.query(texts, 3, proba=proba)
    assert [p.similar for p in suggest(b, texts, similar=3)] == want


def test_warm_caches_fills_the_word_caches_and_changes_no_answer(trained_bundle, heldout_corpus):
    from routing.suggest import warm_caches

    cold, warm = load_bundle(trained_bundle), load_bundle(trained_bundle)
    analysed = warm_caches(warm)
    vocabulary = warm.router.vectorizer_.transformer_list[0][1].vocabulary_
    assert analysed == len(vocabulary)
    words = [w for w in vocabulary if " " not in w]
    assert warm.explainer._analyse.cache_info().currsize == len(words)
    assert set(words) <= set(warm.router.vectorizer_.named_transformers["char"].analyzer._memo)
    assert warm_caches(load_bundle(trained_bundle), limit=10) == 10
    texts = [*heldout_corpus.texts, "sy blm trima bansos", ""]
    assert suggest(warm, texts, explain_words=5, similar=3) == suggest(
        cold, texts, explain_words=5, similar=3
    )


@pytest.fixture(scope="module")
def catalogue_model(catalogue_bundle) -> Bundle:
    return load_bundle(catalogue_bundle)


WATER = "air pdam tidak mengalir sudah tiga hari, mohon segera diperbaiki"


def test_a_role_is_suggested_as_the_office_of_the_place_with_its_probability(catalogue_model):
    bundle = _in_scope(catalogue_model)
    proba = suggest_proba(bundle, [WATER])
    [placed] = suggest(bundle, [WATER], locations=["Kota Bandung"], proba=proba, top_k=5)
    [plain] = suggest(bundle, [WATER], proba=proba, top_k=5)
    assert (placed.top.agency, placed.top.agency_code) == (
        "PDAM TIRTAWENING KOTA BANDUNG",
        "PDAM-BDG",
    )
    assert (plain.top.agency, plain.top.agency_code) == ("PDAM", None)
    column = list(bundle.router.classes_).index("PDAM")
    assert placed.top.confidence == plain.top.confidence == pytest.approx(proba[0, column])
    assert placed.jurisdiction.code == "32.73" and plain.jurisdiction is None
    assert "no_jurisdiction" in {r["code"] for r in plain.reasons}
    assert "no_jurisdiction" not in {r["code"] for r in placed.reasons}


def test_a_roles_threshold_applies_to_its_office(catalogue_model):
    bundle = _in_scope(catalogue_model)
    thresholds = {label: 1.0 for label in bundle.labels} | {"PDAM": 0.0}
    bundle = replace(bundle, policy=replace(bundle.policy, thresholds=thresholds))
    [prediction] = suggest(bundle, [WATER], locations=["32.73"])
    assert prediction.top.agency_code == "PDAM-BDG"
    assert prediction.threshold == 0.0
    assert prediction.decision == "auto", prediction.reasons


def test_locations_must_pair_with_the_texts(catalogue_model):
    with pytest.raises(ValueError, match="2 texts but 1 locations"):
        suggest(catalogue_model, [WATER, WATER], locations=["32.73"])


def test_a_bundle_without_authority_has_no_place_and_no_codes(bundle, heldout_corpus):
    predictions = suggest(bundle, heldout_corpus.texts[:5], locations=["Kota Bandung"] * 5)
    assert all(p.jurisdiction is None for p in predictions)
    assert all(s.agency_code is None for p in predictions for s in p.suggestions)
