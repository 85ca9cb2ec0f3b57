"""Which evaluated complaints a model was trained on, from the fingerprints in its bundle.

A model scored on its own training data looks far better than it is. Training stores, for
each training complaint, a fingerprint of its text under the duplicate normalization of
validation (`training.pipeline.text_fingerprints`) and of its id
(`routing.bundle.TrainingRows`); an evaluation compares its complaints with them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from routing.bundle import Bundle, fingerprints
from training.pipeline import text_fingerprints

__all__ = ["WARN_SHARE", "Overlap", "training_overlap"]

# At this share of evaluated complaints seen in training, the scores are called flattered.
WARN_SHARE = 0.01


@dataclass(frozen=True)
class Overlap:
    """How many of `n` evaluated complaints the model was trained on (by id or by text)."""

    n: int
    trained: int

    @property
    def share(self) -> float:
        return self.trained / self.n if self.n else 0.0

    @property
    def flattered(self) -> bool:
        return self.share >= WARN_SHARE

    def describe(self) -> str:
        return (
            f"{self.trained:,} of the {self.n:,} evaluated complaints ({self.share:.1%}) were "
            "in this model's training data, so its scores are flattered; evaluate on held-out "
            "complaints (`routing split`)"
        )


def training_overlap(
    bundle: Bundle, texts: Sequence[str], ids: Sequence[str] | None = None
) -> Overlap | None:
    """The evaluated complaints the bundle was trained on; None when the bundle cannot tell.

    A complaint counts when its normalized text is a training complaint's, or when `ids` are
    given and its id is a training complaint's.
    """
    rows = bundle.training_rows
    if rows is None:
        return None
    seen = np.isin(text_fingerprints(texts), rows.text)
    if ids is not None:
        seen |= np.isin(fingerprints(ids), rows.id)
    return Overlap(n=len(texts), trained=int(seen.sum()))
