"""The app factory: what it refuses, what its lifespan loads, what /docs documents."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from routing.api import create_app
from routing.api.limits import MAX_TEXT_CHARS
from routing.api.security import ConfigError

from .helpers import INTEGRATION


def test_create_app_needs_a_model(make_settings):
    with pytest.raises(ConfigError, match="ROUTING_MODEL"):
        create_app(make_settings(model=None))


def test_lifespan_loads_the_bundle_from_settings_and_migrates_the_database(
    make_settings, bundle, tmp_path
):
    db = tmp_path / "fresh" / "routing.db"
    app = create_app(make_settings(db_url=f"sqlite:///{db}"))
    with TestClient(app) as client:
        assert client.get("/readyz").json()["model_version"] == bundle.model_version
        response = client.post("/v1/predict", json={"text": "listrik padam"}, headers=INTEGRATION)
        assert response.status_code == 200
    assert db.is_file()
    assert app.state.model is None  # released at shutdown


def test_openapi_documents_bodies_limits_and_the_key(client):
    spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    for path in ["/v1/predict", "/v1/predict/batch", "/v1/feedback"]:
        assert "post" in paths[path], path
    for path in ["/v1/agencies", "/v1/model", "/v1/stats", "/healthz", "/readyz", "/metrics"]:
        assert "get" in paths[path], path
    schemas = spec["components"]["schemas"]
    text = schemas["PredictRequest"]["properties"]["text"]
    assert text["maxLength"] == MAX_TEXT_CHARS
    assert text["description"]
    assert schemas["PredictionOut"]["properties"]["decision"]["enum"] == ["auto", "review"]
    assert "StatsOut" in schemas
    assert spec["components"]["securitySchemes"]["APIKeyHeader"]["name"] == "X-API-Key"
    assert "422" in paths["/v1/predict"]["post"]["responses"]
    assert "security" not in paths["/healthz"]["get"]
