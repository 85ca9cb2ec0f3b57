"""Explanations against their definition (`routing.explain`), worked out by hand.

A tiny router whose TF-IDF values are plain counts (no IDF, no norm) and whose weights are set
by hand, so every word's score below is a sum of a few products that can be checked on paper.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion

from routing import explain as explain_module
from routing.explain import Explainer
from routing.router import TOKEN_PATTERN
from routing.text import TextNormalizer

# "trs" is normalized to "terus" by the lexicon; "Listrik"/"listrik" are one word
COMPLAINT = "Listrik mati, listrik trs mati"


class TinyRouter:
    """What an Explainer reads from a router: counts as TF-IDF values, hand-set weights for
    the first agency (feature names as `FeatureUnion.get_feature_names_out` gives them)."""

    classes_ = np.array(["PLN", "OTHER"])

    def __init__(self, texts: list[str], weights: dict[str, float]) -> None:
        self.normalizer_ = TextNormalizer().fit([])
        counts = {"lowercase": False, "use_idf": False, "norm": None}
        word = TfidfVectorizer(ngram_range=(1, 2), token_pattern=TOKEN_PATTERN, **counts)
        char = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 2), **counts)
        self.vectorizer_ = FeatureUnion([("word", word), ("char", char)])
        self.vectorizer_.fit(self.normalizer_.transform(texts))
        names = list(self.vectorizer_.get_feature_names_out())
        self._weights = np.zeros((2, len(names)))
        for name, weight in weights.items():
            self._weights[0, names.index(name)] = weight

    def weight_matrix(self) -> np.ndarray:
        return self._weights

    def tfidf(self, normalized: list[str]):
        return self.vectorizer_.transform(normalized)


@pytest.fixture
def tiny() -> TinyRouter:
    return TinyRouter(
        [COMPLAINT],
        {
            "word__listrik": 1.0,  # twice: 2.0, all to "Listrik"
            "word__terus": 0.5,  # 0.5 to "trs", as written
            "word__listrik mati": 3.0,  # 3.0, split: 1.5 to "Listrik", 1.5 to "mati"
            "char__ma": 0.25,  # twice ("mati" twice): 0.5, all to "mati"
            "word__mati": -1.0,  # against PLN: no share
            "char__ik": -2.0,
        },
    )


def test_each_share_is_split_among_the_words_producing_it(tiny):
    explainer = Explainer(tiny)
    scores = explainer.word_scores(COMPLAINT, "PLN")
    assert scores == pytest.approx({"Listrik": 3.5, "mati": 2.0, "trs": 0.5})
    assert explainer.explain_batch([COMPLAINT], [["PLN"]]) == [[["Listrik", "mati", "trs"]]]
    assert explainer.explain_batch([COMPLAINT], [["PLN"]], n_words=2) == [[["Listrik", "mati"]]]
    # no positive weight for the other agency: no word is evidence for it
    assert explainer.explain_batch([COMPLAINT], [["OTHER", "PLN"]], 1) == [[[], ["Listrik"]]]


def test_only_the_strongest_shares_count_ties_by_column(tiny, monkeypatch):
    explainer = Explainer(tiny)
    monkeypatch.setattr(explain_module, "_MAX_FEATURES", 1)  # "listrik mati": 3.0
    assert explainer.word_scores(COMPLAINT, "PLN") == pytest.approx(
        {"Listrik": 1.5, "mati": 1.5, "trs": 0.0}
    )
    # equal scores: the word written first comes first
    assert explainer.explain_batch([COMPLAINT], [["PLN"]]) == [[["Listrik", "mati"]]]
    # the third share is a tie of 0.5 ("terus", "ma"): the lower column, the word block's
    monkeypatch.setattr(explain_module, "_MAX_FEATURES", 3)
    assert explainer.word_scores(COMPLAINT, "PLN") == pytest.approx(
        {"Listrik": 3.5, "mati": 1.5, "trs": 0.5}
    )


def test_stop_words_take_their_part_but_are_never_shown():
    text = "listrik padam di rumah"
    tiny = TinyRouter([text], {"word__di": 5.0, "word__padam di": 2.0, "word__listrik": 1.0})
    explainer = Explainer(tiny, stop_words={"di"})
    assert explainer.word_scores(text, "PLN") == pytest.approx(
        {"listrik": 1.0, "padam": 1.0, "di": 6.0, "rumah": 0.0}
    )
    assert explainer.explain_batch([text], [["PLN"]]) == [[["listrik", "padam"]]]
    # a word whose normalized form is a stop word ("d" → "di") is left out as well
    assert Explainer(tiny, stop_words={"di"}).explain_batch(["d rumah"], [["PLN"]]) == [[[]]]


def test_personal_data_produces_nothing_and_breaks_word_ngrams():
    # "trs" and "terus" are two words producing "terus"; "listrik terus" is in the text once,
    # and the phone number stands between "listrik" and "trs": no part of that n-gram to "trs"
    text = "listrik terus padam, listrik 081234567890 trs"
    tiny = TinyRouter([text], {"word__listrik terus": 3.0, "word__terus": 1.0})
    scores = Explainer(tiny).word_scores(text, "PLN")
    assert scores == pytest.approx({"listrik": 1.5, "terus": 2.5, "padam": 0.0, "trs": 1.0})


def test_unknown_agency_raises_and_nothing_asked_gives_nothing(tiny):
    explainer = Explainer(tiny)
    with pytest.raises(KeyError):
        explainer.explain_batch([COMPLAINT], [["NOT AN AGENCY"]])
    with pytest.raises(KeyError):
        explainer.explain_batch([COMPLAINT], [["NOT AN AGENCY"]], n_words=0)
    with pytest.raises(ValueError, match="2 texts but 1"):
        explainer.explain_batch([COMPLAINT, COMPLAINT], [["PLN"]])
    assert explainer.explain_batch([COMPLAINT], [["PLN"]], n_words=0) == [[[]]]
    assert explainer.explain_batch(["", "  ", "!!!"], [["PLN"]] * 3) == [[[]]] * 3
    assert explainer.explain_batch([COMPLAINT], [[]]) == [[]]
