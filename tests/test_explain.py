import re

import pytest

from routing.explain import explain, explain_batch, explain_many
from routing.router import Router

PLN = "PT PLN (PERSERO)"
NIK = "3201234567890001"
NIK_GROUPED = "3201 2345 6789 0001"
PHONE = "081234567890"
PHONE_SPACED = "0812 3456 7890"


@pytest.fixture(scope="module")
def router(small_corpus) -> Router:
    return Router(random_state=0).fit(small_corpus.texts, small_corpus.labels)


def _words(text: str) -> set[str]:
    return set(re.findall(r"\w+", text))


def _all_explanations(router: Router, text: str, n_words: int = 50) -> list[str]:
    return [w for agency in router.classes_ for w in explain(router, text, agency, n_words)]


def test_explanation_words_appear_verbatim_in_the_complaint(router, heldout_corpus):
    for text, agency in list(zip(heldout_corpus.texts, heldout_corpus.labels, strict=True))[::7]:
        words = explain(router, text, agency, n_words=5)
        assert words, "a correctly labelled complaint has words pointing to its agency"
        assert len(words) <= 5
        assert set(words) <= _words(text)


def test_explanation_has_no_duplicates_ignoring_case(router):
    text = "Listrik MATI, listrik mati lagi, LISTRIK mati terus"
    words = explain(router, text, PLN, n_words=10)
    assert len({w.casefold() for w in words}) == len(words)


def test_informal_spelling_is_returned_as_written(router):
    text = "listrik mati trs dr kmrn sy blm dpt tgpn"
    words = explain(router, text, PLN, n_words=10)
    assert "listrik" in words
    assert set(words) <= _words(text)
    # "trs" is normalized to "terus" for the model but shown as the citizen wrote it.
    assert "terus" not in words


def test_plain_nik_and_phone_never_appear_in_explanations(router):
    text = f"NIK saya {NIK} listrik padam sejak 2019 di RT 03, hubungi {PHONE} atau +62{PHONE[1:]}"
    words = _all_explanations(router, text)
    assert words
    assert not any(w in (NIK, PHONE, "62" + PHONE[1:]) for w in words)


def test_grouped_nik_and_spaced_phone_never_appear_in_explanations(router):
    # The normalizer masks "3201 2345 6789 0001" as one NIK; no piece of it may be shown.
    text = (
        f"NIK saya {NIK_GROUPED} tahun 2019 listrik padam di RT 03, hp {PHONE_SPACED} "
        "mohon segera diperbaiki"
    )
    assert "[nik]" in router.normalizer_.normalize(text)
    pieces = _words(NIK_GROUPED) | _words(PHONE_SPACED)
    leaked = sorted(set(_all_explanations(router, text)) & pieces)
    assert leaked == []


def test_empty_text_has_no_explanation(router):
    assert explain(router, "", PLN) == []
    assert explain(router, "   ", PLN) == []


def test_zero_words_requested_gives_nothing(router):
    assert explain(router, "listrik mati", PLN, n_words=0) == []


def test_explaining_an_unknown_agency_raises(router):
    with pytest.raises(KeyError):
        explain(router, "listrik mati", "NOT AN AGENCY")


def test_a_batch_explains_each_complaint_as_it_would_alone(router, heldout_corpus):
    texts = [*heldout_corpus.texts[:12], "", f"NIK {NIK} listrik padam"]
    agencies = [list(router.classes_[: 1 + i % 3]) for i in range(len(texts))]
    batch = explain_batch(router, texts, agencies, n_words=4)
    assert [len(words) for words in batch] == [len(a) for a in agencies]
    for text, names, got in zip(texts, agencies, batch, strict=True):
        assert got == explain_many(router, text, names, n_words=4)
    assert any(words for per_text in batch for words in per_text)


def test_a_batch_needs_one_agency_list_per_complaint(router):
    with pytest.raises(ValueError, match="2 texts but 1"):
        explain_batch(router, ["listrik mati", "bansos"], [[PLN]])
    with pytest.raises(KeyError):
        explain_batch(router, ["listrik mati"], [["NOT AN AGENCY"]])


def test_words_do_not_depend_on_the_other_complaints_of_the_batch(router, small_corpus):
    """Equal contributions (common among character n-grams) are ranked by column, not by
    where the complaint sits in its batch."""
    texts = [f"{text} nomor {i}" for i, text in enumerate(small_corpus.texts[:96])]
    agencies = [list(router.classes_[:3])] * len(texts)
    whole = explain_batch(router, texts, agencies, n_words=5)
    halves = explain_batch(router, texts[:48], agencies[:48], n_words=5) + explain_batch(
        router, texts[48:], agencies[48:], n_words=5
    )
    assert whole == halves
    assert whole[60] == explain_batch(router, [texts[60]], [agencies[60]], n_words=5)[0]
