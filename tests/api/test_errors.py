"""Errors are JSON with a readable detail; client input never causes a 5xx; DB down is 503."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

from routing.api.errors import MAX_ECHO_CHARS, error_location

from .helpers import ADMIN, INTEGRATION, predict

JSON = {"Content-Type": "application/json", **INTEGRATION}


def test_error_location_reads_like_the_request():
    assert error_location(("body", "items", 3, "text")) == "items[3].text"
    assert error_location(("query", "since")) == "since"
    assert error_location(("body",)) == ""


def test_error_location_clips_names_that_came_from_the_request():
    assert error_location(("body", "n" * 500, 2)) == "n" * MAX_ECHO_CHARS + "…[2]"


def test_errors_echo_at_most_100_characters_of_any_input(client):
    name = "f" * 900_000  # an unknown field: its name is part of the error's location
    response = client.post("/v1/predict", json={"text": "lampu", name: 1}, headers=INTEGRATION)
    assert response.status_code == 422
    assert "f" * (MAX_ECHO_CHARS + 1) not in response.text
    assert response.json()["detail"].startswith("f" * MAX_ECHO_CHARS + "…: ")
    assert len(response.content) < 1000

    agency = "A" * 300  # the longest agency name a request may send
    pid = predict(client)["prediction_id"]
    body = {"prediction_id": pid, "agency": agency}
    refused = client.post("/v1/feedback", json=body, headers=INTEGRATION)
    assert refused.status_code == 422
    assert "A" * (MAX_ECHO_CHARS + 1) not in refused.text
    assert "A" * MAX_ECHO_CHARS in refused.text


def test_malformed_json_is_422_saying_so(client):
    response = client.post("/v1/predict", content=b'{"text": ', headers=JSON)
    assert response.status_code == 422
    assert "not valid JSON" in response.json()["detail"]


def test_non_utf8_body_is_4xx_json(client):
    response = client.post("/v1/predict", content=b'{"text": "\xff\xfe lampu"}', headers=JSON)
    assert 400 <= response.status_code < 500
    assert isinstance(response.json()["detail"], str)


def test_body_that_is_not_an_object_is_422(client):
    for raw in [b"[1, 2]", b'"text"', b"null", b"42"]:
        response = client.post("/v1/predict", content=raw, headers=JSON)
        assert response.status_code == 422, raw
        assert "JSON object" in response.json()["detail"]


def test_missing_body_is_422(client):
    response = client.post("/v1/predict", headers=INTEGRATION)
    assert response.status_code == 422
    assert "body is required" in response.json()["detail"]


def test_unknown_route_and_wrong_method_are_json(client):
    assert client.get("/v1/nope").json() == {"detail": "Not Found"}
    response = client.get("/v1/predict", headers=INTEGRATION)
    assert response.status_code == 405
    assert "detail" in response.json()


@pytest.mark.parametrize(
    "raw",
    [
        b'{"text": "lampu \\ud800 mati"}',
        b'{"text": "lampu \xed\xa0\x80 mati"}',
        b'{"text": "lampu", "complaint_id": "C-\\udc80"}',
        b'{"text": "lampu", "complaint_id": "C-\xed\xa0\x80"}',
        b'{"items": [{"text": "lampu"}, {"text": "lampu", "complaint_id": "\\udc80"}]}',
        b'{"prediction_id": "p", "agency": "PLN", "admin": "\\udc80", "note": "\xed\xb2\x80"}',
        b'{"text": "lampu", "top_k": 1e400}',
        b'{"text": "lampu", "top_k": 100000000000000000000000000000000}',
        b'{"text": "lampu", "complaint_id": {"a": 1}}',
        b'{"text": {"nested": [[[[]]]]}}',
        b'{"text": "' + b"\\u0000" * 5 + b'"}',
        b'{"text": "lampu", "complaint_id": "' + b"x" * 300 + b'"}',
        b"[" * 5000 + b"]" * 5000,
        b'{"items": [{"text": null}]}',
        b"\x00\x01\x02",
    ],
)
def test_odd_input_never_causes_a_5xx(client, raw):
    for path in ["/v1/predict", "/v1/predict/batch", "/v1/feedback"]:
        response = client.post(path, content=raw, headers=JSON)
        assert 400 <= response.status_code < 500, (path, raw[:40], response.text)
        assert isinstance(response.json()["detail"], str)


def test_database_down_is_503_and_nothing_is_acknowledged(client, app, tmp_path):
    pid = predict(client)["prediction_id"]
    working = app.state.sessions
    down = create_engine(f"sqlite:///{tmp_path / 'missing' / 'down.db'}")
    app.state.sessions = sessionmaker(bind=down)
    predicted = client.post("/v1/predict", json={"text": "listrik padam"}, headers=INTEGRATION)
    assert predicted.status_code == 503
    assert predicted.headers["Retry-After"]
    assert "not stored" in predicted.json()["detail"]
    feedback = client.post(
        "/v1/feedback",
        json={"prediction_id": pid, "agency": "PT PLN (PERSERO)"},
        headers=INTEGRATION,
    )
    assert feedback.status_code == 503
    assert client.get("/v1/stats", headers=ADMIN).status_code == 503
    app.state.sessions = working
    stats = client.get("/v1/stats", headers=ADMIN).json()
    assert (stats["predictions"], stats["decisions"]) == (1, 0)
