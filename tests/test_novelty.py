import numpy as np
import pytest

from routing.novelty import NoveltyDetector
from routing.router import Router
from training.pipeline import fit_novelty


@pytest.fixture(scope="module")
def fitted(small_corpus):
    router = Router(random_state=0).fit(small_corpus.texts, small_corpus.labels)
    detector = fit_novelty(
        NoveltyDetector(flag_share=0.2), router, small_corpus.texts, small_corpus.labels
    )
    return router, detector


def _score(router, detector, texts):
    return detector.score(router.normalizer_.transform(texts), router.predict_proba(texts))


def test_cutoff_flags_the_chosen_share_of_training_complaints_out_of_fold(fitted, small_corpus):
    _, detector = fitted
    assert len(detector.oof_scores_) == len(small_corpus.texts)
    assert detector.out_of_scope(detector.oof_scores_).mean() == pytest.approx(0.2, abs=0.02)


def test_oof_scores_come_from_folds_without_the_complaint(fitted, small_corpus):
    router, detector = fitted
    # scored with itself among the training complaints, a complaint is nearer than out of fold
    in_fold = _score(router, detector, small_corpus.texts)
    assert np.mean(in_fold) < np.mean(detector.oof_scores_)


def test_a_complaint_unlike_any_is_more_novel_than_a_familiar_one(fitted, heldout_corpus):
    router, detector = fitted
    familiar = _score(router, detector, heldout_corpus.texts)
    odd = _score(router, detector, ["resep rendang daging sapi bumbu kelapa santan kental"])
    assert odd[0] > np.median(familiar)
    assert detector.out_of_scope(odd)[0]


def test_an_empty_complaint_is_as_novel_as_can_be(fitted):
    router, detector = fitted
    assert _score(router, detector, ["", "   "]).tolist() == [1.0, 1.0]


def test_scores_are_between_zero_and_one(fitted, heldout_corpus):
    router, detector = fitted
    scores = _score(router, detector, heldout_corpus.texts)
    assert ((scores >= 0) & (scores <= 1)).all()


@pytest.mark.parametrize("share", [0.0, 1.0, -0.1])
def test_flag_share_outside_zero_one_is_refused(small_corpus, share):
    folds = [(np.arange(1, 4), np.array([0]))]
    with pytest.raises(ValueError, match="flag_share"):
        NoveltyDetector(flag_share=share).fit(["a b", "a c", "b c", "c d"], np.eye(4), folds)


def test_a_bound_skips_only_complaints_it_cannot_flag(fitted, heldout_corpus):
    router, detector = fitted
    texts = [*heldout_corpus.texts, "resep rendang daging sapi bumbu kelapa santan kental", ""]
    normalized, proba = router.normalizer_.transform(texts), router.predict_proba(texts)
    exact = detector.score(normalized, proba)
    bounded = detector.score(normalized, proba, at_most=detector.cutoff_)
    # the same complaints flagged, with the same scores; the others get a bound on theirs
    np.testing.assert_array_equal(detector.out_of_scope(bounded), detector.out_of_scope(exact))
    flagged = detector.out_of_scope(exact)
    assert flagged.any() and not flagged.all()
    np.testing.assert_array_equal(bounded[flagged], exact[flagged])
    assert (bounded >= exact - 1e-12).all()
