"""Calibrating linear scores into probabilities without changing the suggested agency.

`AdaptiveTemperature` is temperature scaling whose temperature depends on the complaint:

    p(agency | x) = softmax(scores(x) / T(x)),   T(x) = exp(-w · f(x))

with f(x) = [1, log length, top score, top-two margin, one-hot of the top agency]. Dividing
by a positive number never reorders a row, so the top suggestion stays the head's argmax (a
full multinomial calibrator reorders rows and cost us accuracy), while the confidence learns
that short complaints, narrow margins and some agencies (PLN vs ESDM) are less reliable. The
weights are fitted by penalized negative log-likelihood on out-of-fold scores.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize
from scipy.special import log_softmax, softmax
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

_LOG_LENGTH_CENTER = 6.0  # ~400 characters, a typical complaint


class AdaptiveTemperature(BaseEstimator):
    """Per-complaint temperature scaling of a K-column score matrix.

    Parameters
    ----------
    l2 : float
        Ridge penalty on the weights other than the global temperature.
    """

    def __init__(self, l2: float = 1e-3):
        self.l2 = l2

    def _design(self, scores: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        ordered = np.sort(scores, axis=1)
        top = ordered[:, -1]
        margin = ordered[:, -1] - ordered[:, -2] if scores.shape[1] > 1 else np.zeros(len(top))
        onehot = np.eye(scores.shape[1])[scores.argmax(axis=1)]
        log_len = np.log1p(np.asarray(lengths, dtype=float)) - _LOG_LENGTH_CENTER
        return np.column_stack([np.ones(len(top)), log_len, top, margin, onehot])

    def fit(self, scores: np.ndarray, y: np.ndarray, lengths: np.ndarray) -> AdaptiveTemperature:
        """Fit on scores (n, K), integer labels y in [0, K) and text lengths (n,)."""
        scores = np.asarray(scores, dtype=float)
        y = np.asarray(y, dtype=int)
        design = self._design(scores, lengths)
        result = minimize(
            self._loss,
            np.zeros(design.shape[1]),
            args=(scores, y, design),
            jac=True,
            method="L-BFGS-B",
        )
        self.coef_ = result.x
        self.n_classes_ = scores.shape[1]
        return self

    def _loss(
        self, w: np.ndarray, scores: np.ndarray, y: np.ndarray, design: np.ndarray
    ) -> tuple[float, np.ndarray]:
        """Penalized mean negative log-likelihood of weights `w` and its analytic gradient."""
        rows = np.arange(len(y))
        penalized = np.ones(design.shape[1])
        penalized[0] = 0.0  # the global temperature is not shrunk
        scale = np.exp(design @ w)
        logp = log_softmax(scores * scale[:, None], axis=1)
        p = np.exp(logp)
        nll = -logp[rows, y].mean() + self.l2 * np.sum(penalized * w**2)
        # d nll / d scale_i = -(s_iy - sum_k p_ik s_ik) / n
        d_scale = -(scores[rows, y] - np.sum(p * scores, axis=1)) / len(y)
        grad = design.T @ (d_scale * scale) + 2 * self.l2 * penalized * w
        return nll, grad

    def predict_proba(self, scores: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        check_is_fitted(self, "coef_")
        scores = np.asarray(scores, dtype=float)
        scale = np.exp(self._design(scores, lengths) @ self.coef_)
        return softmax(scores * scale[:, None], axis=1)
