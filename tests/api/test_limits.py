"""Request bodies over 1 MiB are refused with 413, declared or streamed."""

from __future__ import annotations

from routing.api.limits import MAX_BODY_BYTES

from .helpers import ADMIN, INTEGRATION

JSON = {"Content-Type": "application/json", **INTEGRATION}


def _stored_predictions(client) -> int:
    return client.get("/v1/stats", headers=ADMIN).json()["predictions"]


def test_declared_body_over_1_mib_is_413_json(client):
    body = b'{"text": "' + b"a" * MAX_BODY_BYTES + b'"}'
    response = client.post("/v1/predict", content=body, headers=JSON)
    assert response.status_code == 413
    assert "1 MiB" in response.json()["detail"]
    assert _stored_predictions(client) == 0


def test_streamed_body_over_1_mib_is_413_json(client):
    def chunks():  # no Content-Length: sent chunked, counted as it arrives
        yield b'{"items": ['
        for _ in range(200):
            yield b'{"text": "' + b"a" * 10_000 + b'"},'
        yield b'{"text": "a"}]}'

    response = client.post("/v1/predict/batch", content=chunks(), headers=JSON)
    assert response.status_code == 413
    assert "1 MiB" in response.json()["detail"]
    assert _stored_predictions(client) == 0


def test_body_just_under_the_limit_is_read(client):
    # valid JSON just under 1 MiB: refused for its content (too long text), not its size
    body = b'{"text": "' + b"a" * (MAX_BODY_BYTES - 20) + b'"}'
    assert len(body) <= MAX_BODY_BYTES
    response = client.post("/v1/predict", content=body, headers=JSON)
    assert response.status_code == 422


def test_unparseable_content_length_is_400(client):
    response = client.post("/v1/predict", content=b"{}", headers={**JSON, "Content-Length": "lots"})
    assert response.status_code == 400
    assert "Content-Length" in response.json()["detail"]
