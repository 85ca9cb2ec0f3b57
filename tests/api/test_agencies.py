"""GET /v1/agencies: the model's labels (with a catalogue: tests/api/test_jurisdiction.py)."""

from __future__ import annotations

from .helpers import INTEGRATION


def test_agencies_lists_the_model_labels_sorted_with_a_count(client, bundle):
    response = client.get("/v1/agencies", headers=INTEGRATION)
    assert response.status_code == 200
    body = response.json()
    assert body["model_version"] == bundle.model_version
    assert body["count"] == len(bundle.labels)
    # a bundle without a catalogue: its labels, with nothing known of them
    assert body["agencies"] == [
        {"agency": name, "agency_code": None, "level": None, "region": None, "role": None}
        for name in sorted(bundle.labels)
    ]
