import numpy as np
import pytest

from training.cleaning import label_issue_weights

CLASSES = np.array(["IMIGRASI", "PLN"], dtype=object)


def _confident(labels_true: list[str]) -> np.ndarray:
    """Out-of-fold probabilities sure of the true agency of each complaint."""
    return np.array([[0.95, 0.05] if y == "IMIGRASI" else [0.05, 0.95] for y in labels_true])


def test_a_complaint_recorded_against_confident_evidence_is_an_issue():
    truth = ["PLN"] * 20 + ["IMIGRASI"] * 20
    recorded = list(truth)
    recorded[3] = "IMIGRASI"  # a PLN complaint disposed to immigration
    weights = label_issue_weights(recorded, _confident(truth), CLASSES, weight=0.25)
    assert weights[3] == 0.25
    assert (np.delete(weights, 3) == 1.0).all()


def test_clean_labels_keep_every_weight_at_one():
    truth = ["PLN"] * 20 + ["IMIGRASI"] * 20
    assert (label_issue_weights(truth, _confident(truth), CLASSES) == 1.0).all()


def test_probabilities_must_have_a_column_per_agency():
    with pytest.raises(ValueError, match="column"):
        label_issue_weights(["PLN", "POLRI"], np.full((2, 2), 0.5), CLASSES)
