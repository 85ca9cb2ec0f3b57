"""Out of scope: complaints unlike the training history (an agency the model does not know,
or not a complaint at all), which are never routed automatically.

Two signals, both small when a complaint resembles what the router was trained on:

    d(x) = 1 - mean of the `top_k` largest cosine similarities of x to the training
           complaints (word TF-IDF of the normalized texts)
    u(x) = entropy of the router's calibrated probabilities / log(number of agencies)

    score(x) = d(x) * u(x)          in [0, 1]; 1 for an empty complaint

A complaint far from every past complaint but confidently scored, or close to past
complaints of several agencies, is not flagged: both must hold. The cutoff is chosen out of
fold: each training complaint is scored with a vectorizer and training rows that exclude its
fold (the router's folds) and with the router's out-of-fold probabilities, and the cutoff is
the score that flags `flag_share` of them. benchmarks/out_of_scope.py measures what it flags
of left-out agencies' complaints, and of known ones.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.utils.validation import check_is_fitted

from routing.features import plain_vocabulary
from routing.router import TOKEN_PATTERN

DEFAULT_FLAG_SHARE = 0.1
DEFAULT_TOP_K = 5
_CHUNK = 512  # query rows compared with the training complaints at once (bounds memory)


class NoveltyDetector(BaseEstimator):
    """How unlike the training history a complaint is, and the cutoff beyond which it is
    out of scope.

    Parameters
    ----------
    flag_share : float
        Share of the training complaints (scored out of fold) that the cutoff flags.
    top_k : int
        Nearest training complaints whose similarities are averaged.
    """

    def __init__(self, *, flag_share: float = DEFAULT_FLAG_SHARE, top_k: int = DEFAULT_TOP_K):
        self.flag_share = flag_share
        self.top_k = top_k

    def _vectorizer(self) -> TfidfVectorizer:
        return TfidfVectorizer(
            ngram_range=(1, 2),
            token_pattern=TOKEN_PATTERN,
            sublinear_tf=True,
            min_df=2,
            lowercase=False,
            dtype=np.float32,
        )

    def _nearness(self, Q: sp.csr_matrix, AT: sp.csr_matrix) -> np.ndarray:
        """Mean of each query row's `top_k` largest cosine similarities to the training
        complaints, whose TF-IDF rows are the columns of AT."""
        k = min(self.top_k, AT.shape[1])
        out = np.zeros(Q.shape[0])
        for start in range(0, Q.shape[0], _CHUNK):
            S = (Q[start : start + _CHUNK] @ AT).toarray()
            out[start : start + _CHUNK] = np.partition(S, -k, axis=1)[:, -k:].mean(axis=1)
        return out

    @staticmethod
    def _uncertainty(proba: np.ndarray) -> np.ndarray:
        """Normalized entropy of each row of probabilities, in [0, 1]."""
        proba = np.clip(np.asarray(proba, dtype=float), 1e-12, 1.0)
        uncertainty = -(proba * np.log(proba)).sum(axis=1) / np.log(max(proba.shape[1], 2))
        return np.clip(uncertainty, 0.0, 1.0)

    @classmethod
    def _combine(cls, nearness: np.ndarray, proba: np.ndarray, empty: np.ndarray) -> np.ndarray:
        score = np.clip(1.0 - nearness, 0.0, 1.0) * cls._uncertainty(proba)
        return np.where(empty, 1.0, score)

    @staticmethod
    def _empty(normalized: Sequence[str]) -> np.ndarray:
        return np.array([not t.strip() for t in normalized], dtype=bool)

    def fit(
        self,
        normalized: Sequence[str],
        oof_proba: np.ndarray,
        folds: Sequence[tuple[np.ndarray, np.ndarray]],
    ) -> NoveltyDetector:
        """Learn the training complaints and choose the cutoff on out-of-fold scores.

        `normalized`: the training complaints as the router's normalizer writes them;
        `oof_proba`: the router's out-of-fold probabilities of them (`Router.oof_proba_`);
        `folds`: the (train, test) rows those came from (`Router.folds`).
        """
        if not 0.0 < self.flag_share < 1.0:
            raise ValueError(f"flag_share must be in (0, 1), got {self.flag_share}")
        normalized = list(normalized)
        nearness = np.zeros(len(normalized))
        for train, test in folds:
            vectorizer = self._vectorizer().fit([normalized[i] for i in train])
            AT = vectorizer.transform([normalized[i] for i in train]).T.tocsr()
            nearness[test] = self._nearness(vectorizer.transform([normalized[i] for i in test]), AT)
        self.oof_scores_ = self._combine(nearness, oof_proba, self._empty(normalized))
        self.cutoff_ = float(np.quantile(self.oof_scores_, 1.0 - self.flag_share))
        self.vectorizer_ = plain_vocabulary(self._vectorizer().fit(normalized))
        # stored transposed (terms x complaints): a query's product is then CSR by CSR
        self.matrix_ = self.vectorizer_.transform(normalized).T.tocsr()
        return self

    def score(
        self, normalized: Sequence[str], proba: np.ndarray, *, at_most: float | None = None
    ) -> np.ndarray:
        """Novelty of complaints (normalized as in `fit`) given the router's probabilities.

        With `at_most`, a complaint whose score cannot exceed it (the score is at most the
        probabilities' uncertainty) gets that bound instead, without the similarity search:
        enough to compare with a cutoff of `at_most`.
        """
        check_is_fitted(self, "matrix_")
        normalized, proba = list(normalized), np.asarray(proba, dtype=float)
        empty = self._empty(normalized)
        nearness = np.zeros(len(normalized))
        rows = np.arange(len(normalized))
        if at_most is not None:
            # benchmarks/latency.py: the similarity search only where it can flag a complaint
            rows = np.flatnonzero((self._uncertainty(proba) > at_most) & ~empty)
        if len(rows):
            Q = self.vectorizer_.transform([normalized[i] for i in rows])
            nearness[rows] = self._nearness(Q, self.matrix_)
        return self._combine(nearness, proba, empty)

    def out_of_scope(self, scores: np.ndarray) -> np.ndarray:
        """Whether each score is beyond the cutoff."""
        check_is_fitted(self, "cutoff_")
        return np.asarray(scores, dtype=float) > self.cutoff_
