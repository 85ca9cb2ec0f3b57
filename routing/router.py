"""The router: complaint text → calibrated probability for every agency.

A scikit-learn classifier composed of parts, each replaceable:

    TextNormalizer → word + character n-gram TF-IDF (+ optional sentence embeddings)
                   → linear head (LinearSVC) → AdaptiveTemperature calibrator (fitted on
                     out-of-fold head scores; never changes the top agency)

Out of fold means the whole pipeline: for each fold (`Router.folds`) the normalizer, the
vectorizers and the head are fitted on the other folds only, so the words of a held-out
complaint are in neither the vocabulary nor the IDF that score it, and complaints identical
but for their numbers (`routing.text.near_duplicate_groups`) share a fold, so none is scored
by a head that trained on its copy. The calibrator is fitted on those scores, so its
probabilities are honest for text the router has not seen; `oof_proba_` keeps cross-fitted
calibrated probabilities of the training complaints, which the decision policy uses to pick
its threshold without a separate split. The features and head used for prediction are then
fitted on all complaints.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from joblib import Parallel, delayed
from joblib.parallel import get_active_backend
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import StratifiedGroupKFold
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import normalize as l2_normalize
from sklearn.svm import LinearSVC
from sklearn.utils.validation import check_is_fitted

from routing.calibration import AdaptiveTemperature
from routing.features import CharWbNgrams, plain_vocabulary, prediction_config, union_transform
from routing.text import TextNormalizer, as_texts, near_duplicate_groups

# Placeholders such as "[nik]" stay one token; ordinary words need two or more characters.
TOKEN_PATTERN = r"(?u)\[\w+\]|\b\w\w+\b"
# Keeps probabilities strictly below 1 so a threshold of 1.0 always means "never auto".
_MAX_PROBA = 1.0 - 1e-9

logger = logging.getLogger(__name__)


def _step(message: str, done: int, total: int) -> None:
    """Log a step of `fit` at INFO with its count (`done` of `total` units), for progress bars."""
    logger.info(message, extra={"done": done, "total": total})


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
    class_weight : dict, "balanced" or None
        The linear head's class weights (LinearSVC's ``class_weight``).
    cv : int
        Folds for the out-of-fold scores that the calibrator is fitted on (`folds`).
    embedder : object or None
        Optional sentence encoder with ``encode(texts) -> float32 array``; its vectors are
        appended to the TF-IDF features with weight ``embedding_weight``.
    embedding_weight : float
        Scale of the (L2-normalized) embedding block relative to the TF-IDF blocks.
    random_state : int
        Seed for the cross-validation folds.
    memory : str, joblib.Memory or None
        Caches each fold's fitted text features, as scikit-learn's ``Pipeline(memory=...)``
        caches fitted transformers: routers that differ only in their head or embeddings,
        fitted on the same complaints, then share the TF-IDF work. None: no caching.
    n_jobs : int or None
        Folds fitted at once, through joblib: None means one at a time, unless a
        ``joblib.parallel_config`` context chooses otherwise (another backend, say).
        LinearSVC's solver draws from one random generator per process, so folds fitted in
        threads may differ slightly from run to run; in worker processes (joblib's default)
        they do not.
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
        class_weight: dict | str | None = None,
        cv: int = 5,
        embedder=None,
        embedding_weight: float = 1.0,
        random_state: int = 0,
        memory=None,
        n_jobs: int | None = None,
    ):
        self.normalizer = normalizer
        self.word_ngram_range = word_ngram_range
        self.char_ngram_range = char_ngram_range
        self.min_df = min_df
        self.max_char_features = max_char_features
        self.C = C
        self.class_weight = class_weight
        self.cv = cv
        self.embedder = embedder
        self.embedding_weight = embedding_weight
        self.random_state = random_state
        self.memory = memory
        self.n_jobs = n_jobs

    # -- features -------------------------------------------------------------------------

    def text_features(self, n_docs: int) -> Pipeline:
        """Unfitted text features for `n_docs` training complaints: the normalizer, then word
        and character (within word boundaries) TF-IDF side by side. `fit` fits one per fold
        and one on all complaints; with `memory` set, `fit_transform` is cached."""
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
            analyzer=CharWbNgrams(self.char_ngram_range),
            sublinear_tf=True,
            min_df=min_df,
            max_features=self.max_char_features,
            dtype=np.float32,
        )
        return Pipeline(
            [
                ("normalize", clone(self.normalizer or TextNormalizer())),
                ("tfidf", FeatureUnion([("word", word), ("char", char)])),
                # Pipeline never caches its last step: this one lets `memory` cache the TF-IDF
                ("done", "passthrough"),
            ],
            memory=self.memory,
        )

    @staticmethod
    def _lengths(normalized: Sequence[str]) -> np.ndarray:
        return np.fromiter((len(t) for t in normalized), dtype=float, count=len(normalized))

    def _encode(self, texts: list[str]) -> np.ndarray | None:
        if self.embedder is None:
            return None
        return np.asarray(self.embedder.encode(texts), dtype=np.float32)

    def _with_embeddings(self, T: sp.csr_matrix, E: np.ndarray | None) -> sp.csr_matrix:
        """The head's features: TF-IDF rows `T`, then the embeddings `E` of the same
        complaints as unit rows scaled by `embedding_weight` (None: no embedding block)."""
        if E is None:
            return T
        if E.shape[0] != T.shape[0]:
            raise ValueError(f"{E.shape[0]} embeddings for {T.shape[0]} complaints")
        E = l2_normalize(E) * np.float32(self.embedding_weight)
        return sp.hstack([T, sp.csr_matrix(E)], format="csr")

    def tfidf(self, normalized: Sequence[str]) -> sp.csr_matrix:
        """TF-IDF block of already-normalized texts (as `normalizer_` writes them): word
        columns, then character columns; `vectorizer_.transform`."""
        check_is_fitted(self, "vectorizer_")
        with prediction_config():
            return union_transform(self.vectorizer_, normalized)

    def _features(
        self, texts: list[str], normalized: Sequence[str], embeddings: np.ndarray | None
    ) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        """(TF-IDF rows, the head's feature rows) of complaints; the embedder encodes `texts`
        unless their `embeddings` are given."""
        T = self.tfidf(normalized)
        if self.embedder is None:
            return T, T
        E = self._encode(texts) if embeddings is None else np.asarray(embeddings, np.float32)
        return T, self._with_embeddings(T, E)

    def transform_texts(self, X) -> sp.csr_matrix:
        """Feature matrix of complaint texts as the head sees them."""
        check_is_fitted(self, "head_")
        texts = as_texts(X)
        return self._features(texts, self.normalizer_.transform(texts), None)[1]

    # -- fitting --------------------------------------------------------------------------

    def _new_head(self) -> LinearSVC:
        return LinearSVC(C=self.C, class_weight=self.class_weight, random_state=self.random_state)

    @staticmethod
    def _scores(head: LinearSVC, F, n_classes: int) -> np.ndarray:
        """Decision scores laid out over all classes (a class the head never saw scores lowest)."""
        raw = head.decision_function(F)
        if raw.ndim == 1:  # binary head: one score, for its second class
            raw = np.column_stack([-raw, raw])
        if len(head.classes_) == n_classes:
            return raw
        out = np.full((raw.shape[0], n_classes), raw.min() - 1.0)
        out[:, head.classes_] = raw
        return out

    def folds(self, y, groups) -> list[tuple[np.ndarray, np.ndarray]]:
        """(train, test) row indices of the out-of-fold scores for labels `y`.

        `groups` holds a group id per complaint (`near_duplicate_groups` of the texts, as
        `fit` computes them): a group is never split across folds, and folds are stratified
        by agency as far as the groups allow (scikit-learn's StratifiedGroupKFold). There are
        `cv` folds, fewer when the largest agency or the number of groups is smaller; always
        the same for the same `y`, `groups`, `cv` and `random_state`.
        """
        y = np.asarray([str(v) for v in y], dtype=object)
        groups = np.asarray(groups)
        if groups.shape != y.shape:
            raise ValueError(f"{len(groups)} groups for {len(y)} complaints")
        n_groups = len(np.unique(groups))
        n_splits = int(min(self.cv, np.unique(y, return_counts=True)[1].max(), n_groups))
        if n_splits < 2:
            raise ValueError(
                "need at least two complaints of one agency, not near duplicates of each "
                "other, to calibrate"
            )
        splitter = StratifiedGroupKFold(n_splits, shuffle=True, random_state=self.random_state)
        with warnings.catch_warnings():  # rare agencies are expected, not a problem
            warnings.simplefilter("ignore", UserWarning)
            folds = splitter.split(np.zeros(len(y)), y, groups)
            # the greedy assignment can leave a fold without any group: nothing to score
            return [(train, test) for train, test in folds if len(test)]

    def _fold_scores(
        self,
        texts: list[str],
        E: np.ndarray | None,
        yi: np.ndarray,
        weight: np.ndarray | None,
        train: np.ndarray,
        test: np.ndarray,
        n_classes: int,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Head scores and normalized lengths of the `test` rows, from text features and a
        head fitted on the `train` rows only (weighted by `weight`, when given)."""
        if weight is not None:  # a complaint of weight 0 teaches nothing: as if not there
            train = train[weight[train] > 0]
        features = self.text_features(len(train))
        T = features.fit_transform([texts[i] for i in train])
        normalized = features["normalize"].transform([texts[i] for i in test])
        head_classes = np.unique(yi[train])
        if len(head_classes) < 2:  # nothing to tell apart: the one agency seen scores highest
            scores = np.zeros((len(test), n_classes))
            scores[:, head_classes] = 1.0
            return scores, self._lengths(normalized)
        head = self._new_head().fit(
            self._with_embeddings(T, _rows(E, train)), yi[train], sample_weight=_rows(weight, train)
        )
        F = self._with_embeddings(features["tfidf"].transform(normalized), _rows(E, test))
        return self._scores(head, F, n_classes), self._lengths(normalized)

    def _oof_scores(
        self,
        texts: list[str],
        E: np.ndarray | None,
        yi: np.ndarray,
        weight: np.ndarray | None,
        n_classes: int,
        folds: list[tuple[np.ndarray, np.ndarray]],
    ) -> tuple[np.ndarray, np.ndarray]:
        """Out-of-fold head scores and normalized lengths of all training complaints."""
        # scikit-learn's cross_val_predict would do, but it lays out the classes a fold
        # misses at the lowest float and refuses a two-agency fold of a larger problem
        # folds are reported as they finish, unless the backend cannot stream (Ray's)
        backend, _ = get_active_backend()
        streams = getattr(backend, "supports_return_generator", False)
        parts = Parallel(n_jobs=self.n_jobs, return_as="generator" if streams else "list")(
            delayed(self._fold_scores)(texts, E, yi, weight, train, test, n_classes)
            for train, test in folds
        )
        scores, lengths = np.zeros((len(yi), n_classes)), np.zeros(len(yi))
        for i, ((_, test), (fold_scores, fold_lengths)) in enumerate(
            zip(folds, parts, strict=True), start=1
        ):
            scores[test], lengths[test] = fold_scores, fold_lengths
            _step(f"fold {i} of {len(folds)} fitted", i, len(folds) + 2)
        return scores, lengths

    def oof_decision_function(self, X, y, sample_weight=None) -> np.ndarray:
        """Out-of-fold head scores of labelled complaints, columns in sorted agency order:
        row i comes from text features and a head fitted without the fold holding complaint
        i (`folds` of the texts' near-duplicate groups). What `fit` calibrates on; this
        router's fitted state is not used.

        `sample_weight` weighs complaints in the heads as in `fit`; a complaint of weight 0 is
        left out of every fold's features and head but still scored, and an agency whose
        complaints all weigh 0 scores lowest (as if the router did not know it).
        """
        texts, y = _labelled(X, y)
        weight = None if sample_weight is None else np.asarray(sample_weight, dtype=float)
        if weight is not None and weight.shape != y.shape:
            raise ValueError(f"{len(weight)} sample weights for {len(y)} complaints")
        classes, yi = np.unique(y, return_inverse=True)
        folds = self.folds(y, near_duplicate_groups(texts))
        return self._oof_scores(texts, self._encode(texts), yi, weight, len(classes), folds)[0]

    def _crossfit_calibrated(
        self,
        scores: np.ndarray,
        yi: np.ndarray,
        lengths: np.ndarray,
        folds: list[tuple[np.ndarray, np.ndarray]],
    ) -> np.ndarray:
        """Calibrated probabilities of training complaints from calibrators not fitted on them."""
        proba = np.zeros_like(scores)
        for train, test in folds:
            cal = AdaptiveTemperature().fit(scores[train], yi[train], lengths[train])
            proba[test] = cal.predict_proba(scores[test], lengths[test])
        return np.minimum(proba, _MAX_PROBA)

    def fit(self, X, y, sample_weight=None) -> Router:
        """Learn agencies from complaint texts `X` and their dispositions `y`.

        `sample_weight` weighs complaints in the linear heads only (e.g. down-weighting
        suspected label errors, `training.cleaning`); the calibrator and `oof_proba_` keep
        every complaint at its recorded disposition, so probabilities stay honest for the
        labels the router will be judged by.
        """
        texts, y = _labelled(X, y)
        weight = None if sample_weight is None else np.asarray(sample_weight, dtype=float)
        if weight is not None and weight.shape != y.shape:
            raise ValueError(f"{len(weight)} sample weights for {len(y)} complaints")
        self.classes_, yi = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError("need at least 2 agencies to train a router")
        if weight is not None:
            if (weight < 0).any():
                raise ValueError("sample weights must not be negative")
            unweighted = self.classes_[np.bincount(yi, weights=weight) <= 0]
            if len(unweighted):
                raise ValueError(f"every agency needs a positive sample weight: {unweighted[0]}")
        # The embedder is pretrained and learns nothing from these complaints: encoding each
        # once and taking a fold's rows gives what encoding inside the fold would. All that is
        # fitted on them (normalizer, vocabularies, IDF, head) is fitted per fold.
        E = self._encode(texts)
        folds = self.folds(y, near_duplicate_groups(texts))
        # units of work for a progress bar: each fold, the calibration, the final fit
        steps = len(folds) + 2
        _step(f"out-of-fold fits: {len(folds)} folds of {len(texts):,} complaints", 0, steps)
        scores, lengths = self._oof_scores(texts, E, yi, weight, len(self.classes_), folds)
        _step("calibration on the out-of-fold scores", len(folds), steps)
        self.calibrator_ = AdaptiveTemperature().fit(scores, yi, lengths)
        self.oof_proba_ = self._crossfit_calibrated(scores, yi, lengths, folds)
        _step(f"final fit on all {len(texts):,} complaints", len(folds) + 1, steps)
        features = self.text_features(len(texts))
        F = self._with_embeddings(features.fit_transform(texts), E)
        self.normalizer_, self.vectorizer_ = features["normalize"], features["tfidf"]
        for _, vectorizer in self.vectorizer_.transformer_list:
            plain_vocabulary(vectorizer)
        self.head_ = self._new_head().fit(F, yi, sample_weight=weight)
        self.n_features_ = F.shape[1]
        _step("router fitted", steps, steps)
        return self

    # -- prediction -----------------------------------------------------------------------

    def _head_scores(self, F) -> np.ndarray:
        with prediction_config():
            return self._scores(self.head_, F, len(self.classes_))

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
        T, F = self._features(texts, normalized, embeddings)
        proba = self.calibrator_.predict_proba(self._head_scores(F), self._lengths(normalized))
        return np.minimum(proba, _MAX_PROBA), T

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


def _labelled(X, y) -> tuple[list[str], np.ndarray]:
    texts = as_texts(X)
    y = np.asarray([str(v) for v in y], dtype=object)
    if len(texts) != len(y):
        raise ValueError(f"{len(texts)} texts but {len(y)} labels")
    return texts, y


def _rows(E: np.ndarray | None, rows: np.ndarray) -> np.ndarray | None:
    return None if E is None else E[rows]


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
