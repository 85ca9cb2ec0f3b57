import re
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from routing import explain as explain_module
from routing.explain import Explainer
from routing.router import Router
from routing.text import load_stopwords

PLN = "PT PLN (PERSERO)"
NIK = "3201234567890001"
NIK_GROUPED = "3201 2345 6789 0001"
PHONE = "081234567890"
PHONE_SPACED = "0812 3456 7890"
FUNCTION_WORDS = {"di", "dan", "saya", "yang"}


@pytest.fixture(scope="module")
def router(small_corpus) -> Router:
    return Router(random_state=0).fit(small_corpus.texts, small_corpus.labels)


@pytest.fixture(scope="module")
def explainer(router) -> Explainer:
    return Explainer(router, load_stopwords())


def _words(text: str) -> set[str]:
    return set(re.findall(r"\w+", text))


def _casefolded(explanations: list[list[list[str]]]) -> set[str]:
    return {w.casefold() for per_text in explanations for words in per_text for w in words}


def _explain(explainer: Explainer, text: str, agency: str, n_words: int = 5) -> list[str]:
    return explainer.explain_batch([text], [[agency]], n_words)[0][0]


def _all_explanations(explainer: Explainer, text: str, n_words: int = 50) -> list[str]:
    agencies = list(explainer.router.classes_)
    return [w for words in explainer.explain_batch([text], [agencies], n_words)[0] for w in words]


def test_explanation_words_appear_verbatim_in_the_complaint(explainer, heldout_corpus):
    for text, agency in list(zip(heldout_corpus.texts, heldout_corpus.labels, strict=True))[::7]:
        words = _explain(explainer, text, agency, n_words=5)
        assert words, "a correctly labelled complaint has words pointing to its agency"
        assert len(words) <= 5
        assert set(words) <= _words(text)


def test_scores_of_a_complaint_of_plain_words_add_up_to_its_strongest_shares(router):
    """Without punctuation or personal data every feature of a complaint is produced by its
    words, so the words' scores share out exactly the `_MAX_FEATURES` largest positive shares."""
    explainer = Explainer(router)
    grams = router.vectorizer_.transformer_list[0][1].get_feature_names_out()
    grams = [g for g in grams if re.fullmatch(r"[a-z ]+", g)]
    texts = [" ".join(grams[i : i + 40]) for i in range(0, 800, 40)]
    for text in texts:
        row = router.tfidf(router.normalizer_.transform([text]))
        for k, agency in enumerate(router.classes_):
            shares = row.data * router.weight_matrix()[k, row.indices]
            strongest = sorted(shares[shares > 0], reverse=True)[: explain_module._MAX_FEATURES]
            scores = explainer.word_scores(text, agency)
            assert sum(scores.values()) == pytest.approx(sum(strongest), rel=1e-9)
            assert min(scores.values()) >= 0


def test_explanation_has_no_duplicates_ignoring_case(explainer):
    text = "Listrik MATI, listrik mati lagi, LISTRIK mati terus"
    words = _explain(explainer, text, PLN, n_words=10)
    assert words[0] == "Listrik"  # the first spelling met
    assert len({w.casefold() for w in words}) == len(words)


def test_informal_spelling_is_returned_as_written(explainer):
    text = "listrik mati trs dr kmrn sy blm dpt tgpn"
    words = _explain(explainer, text, PLN, n_words=10)
    assert "listrik" in words
    assert set(words) <= _words(text)
    # "trs" is normalized to "terus" for the model but shown as the citizen wrote it.
    assert "terus" not in words


def test_function_words_are_never_shown(router, explainer, small_corpus, heldout_corpus):
    texts = [*small_corpus.texts, *heldout_corpus.texts]
    agencies = [list(router.classes_)] * len(texts)
    shown = _casefolded(explainer.explain_batch(texts, agencies, 20))
    assert shown and not shown & load_stopwords()
    # without the stop list they are among the deciding words
    assert _casefolded(Explainer(router).explain_batch(texts, agencies, 20)) >= FUNCTION_WORDS


def test_informal_spellings_of_function_words_are_never_shown(router, explainer):
    text = "sy tdk dpt listrik yg dijanjikan dgn pln utk rmh sy, gk ada tp tagihan dr pln"
    words = _all_explanations(explainer, text)
    assert words
    assert not {w.casefold() for w in words} & {"sy", "tdk", "yg", "dgn", "utk", "gk", "tp", "dr"}
    assert {"sy", "yg"} & {w.casefold() for w in _all_explanations(Explainer(router), text)}


def test_plain_nik_and_phone_never_appear_in_explanations(explainer):
    text = f"NIK saya {NIK} listrik padam sejak 2019 di RT 03, hubungi {PHONE} atau +62{PHONE[1:]}"
    words = _all_explanations(explainer, text)
    assert words
    assert not any(w in (NIK, PHONE, "62" + PHONE[1:]) for w in words)


def test_grouped_nik_and_spaced_phone_never_appear_in_explanations(router, explainer):
    # The normalizer masks "3201 2345 6789 0001" as one NIK; no piece of it may be shown.
    text = (
        f"NIK saya {NIK_GROUPED} tahun 2019 listrik padam di RT 03, hp {PHONE_SPACED} "
        "mohon segera diperbaiki"
    )
    assert "[nik]" in router.normalizer_.normalize(text)
    pieces = _words(NIK_GROUPED) | _words(PHONE_SPACED)
    leaked = sorted(set(_all_explanations(explainer, text)) & pieces)
    assert leaked == []
    assert "listrik" in _all_explanations(explainer, text)


def test_empty_text_has_no_explanation(explainer):
    assert _explain(explainer, "", PLN) == []
    assert _explain(explainer, "   ", PLN) == []


def test_explaining_an_unknown_agency_raises(explainer):
    with pytest.raises(KeyError):
        _explain(explainer, "listrik mati", "NOT AN AGENCY")


def test_a_batch_explains_each_complaint_as_it_would_alone(router, explainer, heldout_corpus):
    texts = [*heldout_corpus.texts[:12], "", f"NIK {NIK} listrik padam"]
    agencies = [list(router.classes_[: 1 + i % 3]) for i in range(len(texts))]
    batch = explainer.explain_batch(texts, agencies, n_words=4)
    assert [len(words) for words in batch] == [len(a) for a in agencies]
    for text, names, got in zip(texts, agencies, batch, strict=True):
        assert got == explainer.explain_batch([text], [names], n_words=4)[0]
    assert any(words for per_text in batch for words in per_text)


def test_given_features_give_the_same_words(router, explainer, heldout_corpus):
    texts = heldout_corpus.texts[:20]
    agencies = [list(router.classes_[:3])] * len(texts)
    _, features = router.predict_proba_with_features(texts)
    assert explainer.explain_batch(texts, agencies, features=features) == (
        explainer.explain_batch(texts, agencies)
    )


def test_threads_explaining_new_words_at_once_agree_with_one_thread(router, small_corpus):
    rng = np.random.default_rng(0)
    vocabulary = sorted({w for t in small_corpus.texts for w in t.split()})
    texts = [
        " ".join(rng.choice(vocabulary, 30).tolist()) + f" kata{i} baru{i % 7}" for i in range(64)
    ]
    agencies = [list(router.classes_[:3])] * len(texts)
    want = Explainer(router).explain_batch(texts, agencies)
    shared = Explainer(router)
    with ThreadPoolExecutor(4) as pool:
        parts = list(
            pool.map(lambda k: shared.explain_batch(texts[k::4], agencies[k::4]), range(4))
        )
    got = [None] * len(texts)
    for k, part in enumerate(parts):
        got[k::4] = part
    assert got == want
    assert any(words for per_text in want for words in per_text)


HOSTILE = [
    f"NIK {NIK} hp {PHONE_SPACED} Listrik MATI di RT03/RW05 sejak 2019",
    "email Budi.Santoso@Example.COM, lihat HTTPS://LAPOR.GO.ID/Tiket?id=7 dan www.Contoh.id",
    "B 1234 XYZ dan D1234ABC parkir di Jalan SUDIRMAN no. 12",
    "ÉLÈVE straße İstanbul ΟΔΟΣ ﬁle ＬＩＳＴＲＩＫ Ǆemal ǅ ǆ ß ẞ",
    "Yg Dgn TRSSS Sy TDK Dpt Air PDAM &amp; <b>Tagihan</b> &lt;naik&gt;",
    "",
]


def _analysis(explainer: Explainer, word: str):
    found = explainer._analyse_word(word)
    return None if found is None else (found[0], sorted(found[1].tolist()), found[2])


def test_a_word_of_letters_is_analysed_as_its_lowercase_is(router):
    """What lets explanations share one analysis between "Jalan", "JALAN" and "jalan"."""
    explainer = Explainer(router, load_stopwords())
    words = {w for text in HOSTILE for w in explain_module._text_words(text) if w.isalpha()}
    assert len([w for w in words if w != w.lower()]) > 20
    for word in words:
        assert _analysis(explainer, word) == _analysis(explainer, word.lower()), word


def test_capitalised_words_are_shown_as_written(router, explainer):
    agencies = [list(router.classes_)] * len(HOSTILE)
    shown = explainer.explain_batch(HOSTILE, agencies, n_words=50)
    for text, per_text in zip(HOSTILE, shown, strict=True):
        assert {w for words in per_text for w in words} <= _words(text)
    assert any(w != w.lower() for per_text in shown for words in per_text for w in words)
