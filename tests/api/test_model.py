"""GET /v1/model: the manifest summary."""

from __future__ import annotations

from .helpers import INTEGRATION


def test_model_summarizes_the_manifest(client, bundle):
    response = client.get("/v1/model", headers=INTEGRATION)
    assert response.status_code == 200
    body = response.json()
    manifest = bundle.manifest
    assert body["model_version"] == bundle.model_version
    assert body["created_at"] == manifest["created_at"]
    assert body["threshold"] == bundle.policy.threshold
    assert body["target_precision"] == bundle.policy.target_precision
    assert body["bound_confidence"] == bundle.policy.bound_confidence == 0.9
    assert body["threshold_lower_bound"] == bundle.policy.threshold_lower_bound
    assert body["thresholds"] is None
    assert body["labels"] == len(bundle.labels)
    assert body["training_rows"] == manifest["training_data"]["rows_used"]
    validation = manifest["metrics"]["validation"]
    assert body["metrics"]["accuracy"] == validation["accuracy"]
    assert body["metrics"]["macro_f1"] == validation["macro_f1"]
