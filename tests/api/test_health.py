"""GET /healthz, /readyz, /metrics: no key, readiness follows the database (reads and writes)
and shows states only; admins read the reasons at /v1/admin/readiness."""

from __future__ import annotations

from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import sessionmaker

from routing.api import readiness
from routing.api.readiness import WRITE_CHECK_INTERVAL_S, WriteCheck
from routing.storage.db import PredictionRecord

from .helpers import ADMIN, INTEGRATION, predict


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


def test_readyz_is_503_with_a_state_when_the_database_is_down(client, app, tmp_path):
    app.state.engine = _unreachable_engine(tmp_path)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"detail": "not ready: database unreachable", "status": "unready"}
    assert client.get("/healthz").status_code == 200  # alive, just not ready
    details = client.get("/v1/admin/readiness", headers=ADMIN).json()
    assert (details["status"], details["problem"]) == ("unready", "database unreachable")
    assert details["detail"].startswith("OperationalError")


def _read_only(app, tmp_path):
    """The app's database opened read-only: reads work, every write fails."""
    url = f"sqlite:///file:{tmp_path / 'service.db'}?mode=ro&uri=true"
    app.state.engine = create_engine(url)
    app.state.sessions = sessionmaker(bind=app.state.engine, expire_on_commit=False)


def test_a_database_that_refuses_writes_is_not_ready(client, app, tmp_path):
    _read_only(app, tmp_path)
    # what clients see: writes fail, so the service must not say it is ready
    assert (
        client.post("/v1/predict", json={"text": "listrik padam"}, headers=INTEGRATION).status_code
        == 503
    )
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["detail"] == "not ready: database not writable"
    assert "readonly" not in response.text
    details = client.get("/v1/admin/readiness", headers=ADMIN).json()
    assert details["problem"] == "database not writable"
    assert "readonly" in details["detail"]


def test_the_write_check_leaves_nothing_behind(client, app):
    predict(client)
    with app.state.engine.connect() as connection:
        before = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    assert WriteCheck(interval=0)(app.state.engine) is None
    with app.state.engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).all() == before
    with app.state.sessions() as session:
        assert len(session.scalars(select(PredictionRecord)).all()) == 1


def test_the_write_check_runs_at_most_once_per_interval(monkeypatch, app):
    probes = []
    monkeypatch.setattr(readiness, "probe_write", lambda engine: probes.append(engine))
    now = [100.0]
    check = WriteCheck(clock=lambda: now[0])
    for _ in range(3):
        assert check(app.state.engine) is None
    now[0] += WRITE_CHECK_INTERVAL_S - 0.1
    check(app.state.engine)
    assert len(probes) == 1
    now[0] += 0.1
    check(app.state.engine)
    assert len(probes) == 2


def test_readyz_shows_no_reason_after_a_refused_reload_but_admins_see_it(client, app):
    app.state.reloader.last_error = "reload refused, still serving v1: /srv/models/x: bad checksum"
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "degraded"
    assert "/srv" not in ready.text and "checksum" not in ready.text
    assert client.get("/v1/admin/readiness", headers=INTEGRATION).status_code == 403
    details = client.get("/v1/admin/readiness", headers=ADMIN).json()
    assert (details["status"], details["problem"]) == ("degraded", "last reload refused")
    assert "/srv/models/x: bad checksum" in details["detail"]


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
