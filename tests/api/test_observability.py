"""One JSON access-log line per request, with ids and decisions but no text, keys or PII."""

from __future__ import annotations

import json
import logging

import pytest

from routing.api.observability import ACCESS_LOGGER

from .helpers import (
    ADMIN,
    INTEGRATION,
    INTEGRATION_KEY,
    NIK,
    PERSONAL_TEXT,
    PHONE,
    SECRET_WORDS,
)


@pytest.fixture
def access_log(caplog):
    caplog.set_level(logging.INFO, logger=ACCESS_LOGGER)
    return caplog


def _lines(caplog) -> list[dict]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == ACCESS_LOGGER]


def test_one_json_line_per_request_with_what_happened(client, access_log, bundle):
    response = client.post(
        "/v1/predict", json={"text": PERSONAL_TEXT, "complaint_id": "C-77"}, headers=INTEGRATION
    )
    body = response.json()
    [line] = _lines(access_log)
    assert line["route"] == "/v1/predict"
    assert line["method"] == "POST"
    assert line["status"] == 200
    assert line["latency_ms"] > 0
    assert line["prediction_id"] == body["prediction_id"]
    assert line["decision"] == body["decision"]
    assert line["model_version"] == bundle.model_version
    assert line["role"] == "integration"
    assert line["key_id"] == "integration#1"


def test_batch_and_feedback_lines_carry_their_ids(client, access_log):
    items = [{"text": PERSONAL_TEXT}, {"text": "paspor saya hilang"}]
    batch = client.post("/v1/predict/batch", json={"items": items}, headers=INTEGRATION).json()
    ids = [r["prediction_id"] for r in batch["results"]]
    client.post(
        "/v1/feedback",
        json={"prediction_id": ids[0], "agency": "PT PLN (PERSERO)"},
        headers=INTEGRATION,
    )
    batch_line, feedback_line = _lines(access_log)
    assert batch_line["prediction_ids"] == ids
    assert sum(batch_line["decisions"].values()) == 2
    assert feedback_line["prediction_id"] == ids[0]
    assert feedback_line["status"] == 201
    assert "feedback_id" in feedback_line


def test_logs_hold_no_text_no_key_and_no_personal_data(client, access_log):
    client.post(
        "/v1/predict", json={"text": PERSONAL_TEXT, "complaint_id": "C-77"}, headers=INTEGRATION
    )
    client.post("/v1/predict/batch", json={"items": [{"text": PERSONAL_TEXT}]}, headers=INTEGRATION)
    client.post("/v1/predict", json={"text": PERSONAL_TEXT, "top_k": 99}, headers=INTEGRATION)
    client.post("/v1/predict", json={"text": PERSONAL_TEXT}, headers={"X-API-Key": "wrong"})
    client.post(
        "/v1/feedback",
        json={"prediction_id": "x", "agency": "A", "note": PERSONAL_TEXT},
        headers=INTEGRATION,
    )
    client.get("/v1/stats", headers=ADMIN)
    everything = access_log.text + "\n".join(r.getMessage() for r in access_log.records)
    assert len(_lines(access_log)) == 6
    for secret in [SECRET_WORDS, NIK, PHONE, "listrik", INTEGRATION_KEY, "wrong", "C-77"]:
        assert secret not in everything, secret


def test_rejected_requests_are_logged_without_a_role(client, access_log):
    client.get("/v1/agencies", headers={"X-API-Key": "wrong"})
    [line] = _lines(access_log)
    assert line["status"] == 401
    assert line["role"] is None
