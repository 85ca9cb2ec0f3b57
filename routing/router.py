"""The router: complaint text → calibrated probability for every agency.

A scikit-learn classifier composed of parts, each replaceable:

    TextNormalizer → word + character n-gram TF-IDF (+ optional sentence embeddings)
                   → linear head (LinearSVC) → AdaptiveTemperature calibrator (fitted on
                     out-of-fold head scores; never changes the top agency)

The calibrator is fitted on out-of-fold scores, so its probabilities are honest for text the
head has not seen; `oof_proba_` keeps cross-fitted calibrated probabilities of the training
complaints, which the decision policy uses to pick its threshold without a separate split.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import FeatureUnion
from sklearn.preprocessing import normalize as l2_normalize
from sklearn.svm import LinearSVC
from sklearn.utils.validation import check_is_fitted

from routing.calibration import AdaptiveTemperature
from routing.ngrams import FastTfidf, hstack_rows
from routing.text import TextNormalizer, as_texts

# Placeholders such as "[nik]" stay one token; ordinary words need two or more characters.
TOKEN_PATTERN = r"(?u)\[\w+\]|\b\w\w+\b"
# Keeps probabilities strictly below 1 so a threshold of 1.0 always means "never auto".
_MAX_PROBA = 1.0 - 1e-9


class Router(ClassifierMixin, BaseEstimator):
    """Calibrated complaint → agency classifier.

    Parameters
    ----------
    normalizer : TextNormalizer or None
        Text normalization; None means the default TextNormalizer.
    word_ngram_range, char_ngram_range : tuple
        n-gram ranges of the word and character (within word boundaries) TF-IDF features.
    min_df : int
        Ignore n-grams seen in fewer complaints than this.
    max_char_features : int
        Cap on character n-grams, which bounds memory and prediction time.
    C : float
        Inverse regularization of the linear head.
    cv : int
        Folds for the out-of-fold scores that the calibrator is fitted on.
    embedder : object or None
        Optional sentence encoder with ``encode(texts) -> float32 array``; its vectors are
        appended to the TF-IDF features with weight ``embedding_weight``.
    embedding_weight : float
        Scale of the (L2-normalized) embedding block relative to the TF-IDF blocks.
    random_state : int
        Seed for the cross-validation folds.
    """

    def __init__(
        self,
        *,
        normalizer: TextNormalizer | None = None,
        word_ngram_range: tuple[int, int] = (1, 2),
        char_ngram_range: tuple[int, int] = (2, 5),
        min_df: int = 2,
        max_char_features: int = 300_000,
        C: float = 0.3,
        cv: int = 5,
        embedder=None,
        embedding_weight: float = 1.0,
        random_state: int = 0,
    ):
        self.normalizer = normalizer
        self.word_ngram_range = word_ngram_range
        self.char_ngram_range = char_ngram_range
        self.min_df = min_df
        self.max_char_features = max_char_features
        self.C = C
        self.cv = cv
        self.embedder = embedder
        self.embedding_weight = embedding_weight
        self.random_state = random_state

    def __getstate__(self) -> dict:
        # lookup caches built while explaining are rebuilt on demand, never pickled
        state = super().__getstate__()
        return {k: v for k, v in state.items() if not k.endswith("_cache")}

    # -- features -------------------------------------------------------------------------

    def _make_vectorizer(self, n_docs: int) -> FeatureUnion:
        min_df = self.min_df if n_docs >= 4 * self.min_df else 1
        word = TfidfVectorizer(
            ngram_range=tuple(self.word_ngram_range),
            token_pattern=TOKEN_PATTERN,
            sublinear_tf=True,
            min_df=min_df,
            lowercase=False,
            dtype=np.float32,
        )
        char = TfidfVectorizer(
            analyzer="char_wb",
            ngram_range=tuple(self.char_ngram_range),
            sublinear_tf=True,
            min_df=min_df,
            max_features=self.max_char_features,
            lowercase=False,
            dtype=np.float32,
        )
        return FeatureUnion([("word", word), ("char", char)])

    @staticmethod
    def _lengths(normalized: list[str]) -> np.ndarray:
        return np.fromiter((len(t) for t in normalized), dtype=float, count=len(normalized))

    def fast_tfidf(self) -> list[FastTfidf]:
        """Cached fast transforms of the word and character blocks (scikit-learn's output)."""
        fast = getattr(self, "_fast_tfidf_cache", None)
        if fast is None:
            fast = [FastTfidf(vec) for _, vec in self.vectorizer_.transformer_list]
            self._fast_tfidf_cache = fast
        return fast

    def word_grams(self) -> np.ndarray:
        """The word block's word or word n-gram of each column (the vocabulary's own strings,
        not copies), made once per process."""
        grams = getattr(self, "_word_grams_cache", None)
        if grams is None:
            vocabulary = self.vectorizer_.transformer_list[0][1].vocabulary_
            grams = np.empty(len(vocabulary), dtype=object)
            grams[list(vocabulary.values())] = list(vocabulary)
            self._word_grams_cache = grams
        return grams

    def char_ngrams(self) -> FastTfidf:
        """The character n-gram block's transform (its per-word columns explain suggestions)."""
        return self.fast_tfidf()[1]

    def tfidf(self, normalized: list[str]) -> sp.csr_matrix:
        """TF-IDF block of normalized texts: FeatureUnion.transform, without its overheads."""
        return hstack_rows([fast.transform(normalized) for fast in self.fast_tfidf()])

    def _features(
        self,
        normalized: list[str],
        raw: list[str] | None = None,
        embeddings: np.ndarray | None = None,
    ) -> sp.csr_matrix:
        F = self.tfidf(normalized)
        if self.embedder is None:
            return F
        if embeddings is None:
            embeddings = self.embedder.encode(raw if raw is not None else normalized)
        E = np.asarray(embeddings, np.float32)
        if E.shape[0] != F.shape[0]:
            raise ValueError(f"{E.shape[0]} embeddings for {F.shape[0]} complaints")
        E = l2_normalize(E) * self.embedding_weight
        return sp.hstack([F, sp.csr_matrix(E)], format="csr")

    def transform_texts(self, X) -> sp.csr_matrix:
        """Feature matrix of complaint texts as the head sees them."""
        check_is_fitted(self, "head_")
        texts = as_texts(X)
        return self._features(self.normalizer_.transform(texts), texts)

    # -- fitting --------------------------------------------------------------------------

    def _new_head(self) -> LinearSVC:
        return LinearSVC(C=self.C, random_state=self.random_state)

    def _scores(self, head: LinearSVC, F, n_classes: int, head_classes: np.ndarray) -> np.ndarray:
        """Decision scores laid out over all classes (a class the head never saw scores lowest)."""
        # LinearSVC.decision_function without re-validating the features it is given
        raw = np.asarray(F @ head.coef_.T) + head.intercept_
        if raw.shape[1] == 1:  # binary head: one column for the positive class
            raw = np.column_stack([-raw[:, 0], raw[:, 0]])
        if len(head_classes) == n_classes:
            return raw
        out = np.full((raw.shape[0], n_classes), raw.min() - 1.0)
        out[:, head_classes] = raw
        return out

    def _folds(self, yi: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        counts = np.bincount(yi)
        n_splits = int(min(self.cv, counts.max(), len(yi)))
        if n_splits < 2:
            raise ValueError("need at least two complaints of one agency to calibrate")
        splitter = StratifiedKFold(n_splits, shuffle=True, random_state=self.random_state)
        with warnings.catch_warnings():  # rare agencies are expected, not a problem
            warnings.simplefilter("ignore", UserWarning)
            return list(splitter.split(np.zeros(len(yi)), yi))

    def _oof_scores(self, F, yi: np.ndarray, n_classes: int) -> np.ndarray:
        scores = np.zeros((len(yi), n_classes))
        for train, test in self._folds(yi):
            head_classes = np.unique(yi[train])
            if len(head_classes) < 2:
                scores[np.ix_(test, head_classes)] = 1.0
                continue
            head = self._new_head().fit(F[train], yi[train])
            scores[test] = self._scores(head, F[test], n_classes, head_classes)
        return scores

    def _crossfit_calibrated(
        self, scores: np.ndarray, yi: np.ndarray, lengths: np.ndarray
    ) -> np.ndarray:
        """Calibrated probabilities of training complaints from calibrators not fitted on them."""
        proba = np.zeros_like(scores)
        for train, test in self._folds(yi):
            cal = AdaptiveTemperature().fit(scores[train], yi[train], lengths[train])
            proba[test] = cal.predict_proba(scores[test], lengths[test])
        return np.minimum(proba, _MAX_PROBA)

    def fit(self, X, y) -> Router:
        """Learn agencies from complaint texts `X` and their dispositions `y`."""
        texts = as_texts(X)
        y = np.asarray([str(v) for v in y], dtype=object)
        if len(texts) != len(y):
            raise ValueError(f"{len(texts)} texts but {len(y)} labels")
        self.classes_, yi = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError("need at least 2 agencies to train a router")
        for stale in [k for k in vars(self) if k.endswith("_cache")]:
            delattr(self, stale)  # lookups built from a previous fit
        self.normalizer_ = clone(self.normalizer or TextNormalizer()).fit(texts)
        normalized = self.normalizer_.transform(texts)
        self.vectorizer_ = self._make_vectorizer(len(texts)).fit(normalized)
        F = self._features(normalized, texts)
        lengths = self._lengths(normalized)
        scores = self._oof_scores(F, yi, len(self.classes_))
        self.calibrator_ = AdaptiveTemperature().fit(scores, yi, lengths)
        self.oof_proba_ = self._crossfit_calibrated(scores, yi, lengths)
        self.head_ = self._new_head().fit(F, yi)
        self.n_features_ = F.shape[1]
        return self

    # -- prediction -----------------------------------------------------------------------

    def _head_scores(self, F) -> np.ndarray:
        return self._scores(self.head_, F, len(self.classes_), np.arange(len(self.classes_)))

    def decision_function(self, X) -> np.ndarray:
        """Uncalibrated head scores, columns in the order of `classes_`."""
        check_is_fitted(self, "head_")
        return self._head_scores(self.transform_texts(X))

    def predict_proba(self, X, *, embeddings: np.ndarray | None = None) -> np.ndarray:
        """Calibrated probabilities, columns in the order of `classes_`.

        `embeddings`: the embedder's vectors of X when the caller already has them (they
        are then not encoded again); ignored by a router without an embedder.
        """
        return self.predict_proba_with_features(X, embeddings=embeddings)[0]

    def predict_proba_with_features(
        self,
        X,
        *,
        embeddings: np.ndarray | None = None,
        normalized: Sequence[str] | None = None,
    ) -> tuple[np.ndarray, sp.csr_matrix]:
        """Calibrated probabilities and the TF-IDF rows they came from (for explanations).

        `normalized`: ``self.normalizer_.transform(X)`` when the caller already has it.
        """
        check_is_fitted(self, "head_")
        texts = as_texts(X)
        if normalized is None:
            normalized = self.normalizer_.transform(texts)
        elif len(normalized) != len(texts):
            raise ValueError(f"{len(normalized)} normalized texts for {len(texts)} texts")
        normalized = list(normalized)
        F = self._features(normalized, texts, embeddings)
        proba = self.calibrator_.predict_proba(self._head_scores(F), self._lengths(normalized))
        n_tfidf = len(self.vectorizer_.transformer_list[0][1].vocabulary_) + len(
            self.vectorizer_.transformer_list[1][1].vocabulary_
        )
        return np.minimum(proba, _MAX_PROBA), F if F.shape[1] == n_tfidf else F[:, :n_tfidf]

    def predict(self, X) -> np.ndarray:
        return self.classes_[self.predict_proba(X).argmax(axis=1)]

    def top_k(self, X, k: int = 3) -> list[list[tuple[str, float]]]:
        """The k most likely agencies per complaint, best first, with their probabilities."""
        proba = self.predict_proba(X)
        return top_k_from_proba(proba, self.classes_, k)

    def weight_matrix(self) -> np.ndarray:
        """(n_classes, n_features) linear weights of the head, positive = evidence for the
        class, rows in the order of `classes_`."""
        check_is_fitted(self, "head_")
        coef = self.head_.coef_
        if coef.shape[0] == 1:  # binary head: one row, for the positive (second) class
            return np.vstack([-coef[0], coef[0]])
        return coef

    def class_weights(self, agency: str) -> np.ndarray:
        """Linear weights of the head for one agency (positive = evidence for it)."""
        check_is_fitted(self, "head_")
        idx = int(np.searchsorted(self.classes_, agency))
        if idx >= len(self.classes_) or self.classes_[idx] != agency:
            raise KeyError(f"unknown agency {agency!r}")
        return self.weight_matrix()[idx]


def top_k_from_proba(
    proba: np.ndarray, classes: Sequence[str], k: int
) -> list[list[tuple[str, float]]]:
    """Sort each row of `proba` and keep the k best (agency, probability) pairs."""
    classes = np.asarray(classes, dtype=object)
    k = max(1, min(int(k), proba.shape[1]))
    order = np.argsort(-proba, axis=1, kind="stable")[:, :k]
    return [
        [(str(classes[j]), float(row[j])) for j in idx]
        for row, idx in zip(proba, order, strict=True)
    ]
