"""Training on cleaned labels: complaints whose recorded agency is probably wrong weigh less.

Past dispositions hold mistakes (a complaint forwarded to the wrong ministry stays labelled
with it). cleanlab's confident learning finds them from out-of-fold probabilities: a
complaint is a label issue when another agency is confidently more likely than the one
recorded, judged against each agency's own typical confidence. The probabilities must be out
of fold (`Router.oof_proba_`), so a complaint's own label never vouches for itself.

Only the heads are trained on the weights (`Router.fit(sample_weight=...)`); calibration and
the threshold keep the labels as recorded, which is what the router is judged against.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["label_issue_weights"]


def label_issue_weights(
    labels: Sequence[str], oof_proba: np.ndarray, classes: Sequence[str], weight: float = 0.0
) -> np.ndarray:
    """A weight per complaint: `weight` for cleanlab's label issues, 1 for the others.

    `oof_proba`: out-of-fold probabilities, columns in the order of `classes` (sorted, as a
    router's `classes_`). A weight of 0 drops the issues from the heads' training.
    """
    from cleanlab.filter import find_label_issues

    classes = np.asarray(classes, dtype=object)
    labels = np.asarray([str(v) for v in labels], dtype=object)
    codes = np.searchsorted(classes, labels)
    known = (codes < len(classes)) & (classes[np.minimum(codes, len(classes) - 1)] == labels)
    if oof_proba.shape != (len(labels), len(classes)) or not known.all():
        raise ValueError("oof_proba must have a column for every label, in the order of classes")
    issues = find_label_issues(codes, oof_proba, n_jobs=1)
    return np.where(issues, float(weight), 1.0)
