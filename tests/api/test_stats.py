"""GET /v1/stats: the repository's statistics, for admins."""

from __future__ import annotations

from .helpers import ADMIN, INTEGRATION, predict

GROUP_KEYS = {"predictions", "decisions", "accepted", "acceptance_rate"}


def test_stats_counts_predictions_and_decisions(client, bundle):
    first = predict(client)
    predict(client, "paspor saya belum jadi")
    client.post(
        "/v1/feedback",
        json={
            "prediction_id": first["prediction_id"],
            "agency": first["suggestions"][0]["agency"],
        },
        headers=INTEGRATION,
    )
    response = client.get("/v1/stats", headers=ADMIN)
    assert response.status_code == 200
    stats = response.json()
    assert set(stats) == GROUP_KEYS | {"by_decision", "by_reason", "by_agency", "by_model_version"}
    assert (stats["predictions"], stats["decisions"], stats["accepted"]) == (2, 1, 1)
    assert stats["acceptance_rate"] == 1.0
    assert set(stats["by_decision"]) == {"auto", "review"}
    assert stats["by_model_version"][bundle.model_version]["predictions"] == 2
    top = first["suggestions"][0]["agency"]
    assert stats["by_agency"][top]["accepted"] == 1
    assert all(set(group) == GROUP_KEYS for group in stats["by_agency"].values())


def test_stats_since_filters_by_time(client):
    predict(client)
    later = client.get("/v1/stats", params={"since": "2999-01-01T00:00:00Z"}, headers=ADMIN)
    assert later.status_code == 200
    assert later.json()["predictions"] == 0
    earlier = client.get("/v1/stats", params={"since": "2000-01-01T00:00:00Z"}, headers=ADMIN)
    assert earlier.json()["predictions"] == 1


def test_stats_with_a_bad_since_is_422(client):
    response = client.get("/v1/stats", params={"since": "yesterday"}, headers=ADMIN)
    assert response.status_code == 422
    assert response.json()["detail"].startswith("since: ")


def test_stats_count_reviews_by_reason(client):
    bodies = [predict(client), predict(client, "paspor saya belum jadi"), predict(client, "qwxz")]
    stats = client.get("/v1/stats", headers=ADMIN).json()
    expected: dict[str, int] = {}
    for body in bodies:
        for code in {reason["code"] for reason in body["reasons"]}:
            expected[code] = expected.get(code, 0) + 1
    assert expected  # the session's small model reviews everything
    assert {code: group["predictions"] for code, group in stats["by_reason"].items()} == expected
