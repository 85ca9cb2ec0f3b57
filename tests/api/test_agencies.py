"""GET /v1/agencies: the model's labels."""

from __future__ import annotations

from .helpers import INTEGRATION


def test_agencies_lists_the_model_labels_sorted_with_a_count(client, bundle):
    response = client.get("/v1/agencies", headers=INTEGRATION)
    assert response.status_code == 200
    body = response.json()
    assert body["model_version"] == bundle.model_version
    assert body["count"] == len(bundle.labels)
    assert body["agencies"] == [{"agency": name} for name in sorted(bundle.labels)]
