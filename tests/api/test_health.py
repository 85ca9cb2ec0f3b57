"""GET /healthz, /readyz, /metrics: no key, readiness follows the database."""

from __future__ import annotations

from sqlalchemy import create_engine

from .helpers import INTEGRATION, predict


def _unreachable_engine(tmp_path):
    # a file in a directory that does not exist cannot be opened: like a database that is down
    return create_engine(f"sqlite:///{tmp_path / 'missing' / 'down.db'}")


def test_healthz_and_readyz_need_no_key(client, bundle):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {
        "status": "ready",
        "model_version": bundle.model_version,
        "batch_workers": 0,
    }


def test_readyz_is_503_with_a_reason_when_the_database_is_down(client, app, tmp_path):
    app.state.engine = _unreachable_engine(tmp_path)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert "database unreachable" in response.json()["detail"]
    assert client.get("/healthz").status_code == 200  # alive, just not ready


def test_readyz_is_503_without_a_model(client, app):
    app.state.model = None
    response = client.get("/readyz")
    assert response.status_code == 503
    assert "model" in response.json()["detail"]


def test_metrics_count_requests_predictions_and_feedback(client):
    prediction = predict(client)
    top = prediction["suggestions"][0]["agency"]
    client.post(
        "/v1/feedback",
        json={"prediction_id": prediction["prediction_id"], "agency": top},
        headers=INTEGRATION,
    )
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    decision = prediction["decision"]
    assert f'routing_predictions_total{{agency="{top}",decision="{decision}"}} 1.0' in text
    assert 'routing_feedback_total{accepted="true"} 1.0' in text
    assert 'routing_request_duration_seconds_count{method="POST",route="/v1/predict"} 1.0' in text
    assert 'routing_requests_total{method="POST",route="/v1/feedback",status="201"} 1.0' in text


def test_each_app_has_its_own_metrics(make_client):
    first, second = make_client(), make_client()
    predict(first)
    assert "routing_predictions_total{" in first.get("/metrics").text
    assert "routing_predictions_total{" not in second.get("/metrics").text


def test_unknown_paths_share_one_metrics_label(client):
    for path in ["/a", "/b/c", "/v1/nothing"]:
        assert client.get(path).status_code == 404
    text = client.get("/metrics").text
    assert 'route="unmatched",status="404"} 3.0' in text
    assert 'route="/a"' not in text
