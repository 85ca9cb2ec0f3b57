"""POST /v1/feedback: stored decisions, acceptance, unknown predictions and agencies."""

from __future__ import annotations

from routing.storage.db import FeedbackRecord

from .helpers import ADMIN, INTEGRATION, NIK, predict


def _feedback(client, **body):
    return client.post("/v1/feedback", json=body, headers=INTEGRATION)


def test_feedback_on_the_top_agency_is_accepted_and_stored(client, app):
    prediction = predict(client)
    top = prediction["suggestions"][0]["agency"]
    response = _feedback(
        client, prediction_id=prediction["prediction_id"], agency=top, admin="op1", note="ok"
    )
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"feedback_id", "accepted"}
    assert body["accepted"] is True
    with app.state.sessions() as session:
        record = session.get(FeedbackRecord, body["feedback_id"])
    assert record is not None
    assert (record.prediction_id, record.agency, record.admin) == (
        prediction["prediction_id"],
        top,
        "op1",
    )


def test_feedback_on_another_agency_is_not_accepted(client):
    prediction = predict(client)
    other = prediction["suggestions"][1]["agency"]
    response = _feedback(client, prediction_id=prediction["prediction_id"], agency=other)
    assert response.status_code == 201
    assert response.json()["accepted"] is False


def test_unknown_prediction_is_404(client):
    response = _feedback(client, prediction_id="0" * 32, agency="PT PLN (PERSERO)")
    assert response.status_code == 404
    assert "prediction" in response.json()["detail"]


def test_agency_unknown_to_the_model_needs_new_agency(client, app):
    prediction_id = predict(client)["prediction_id"]
    refused = _feedback(client, prediction_id=prediction_id, agency="DINAS BARU KOTA X")
    assert refused.status_code == 422
    assert "new_agency" in refused.json()["detail"]
    with app.state.sessions() as session:
        assert session.query(FeedbackRecord).count() == 0
    accepted = _feedback(
        client, prediction_id=prediction_id, agency="DINAS BARU KOTA X", new_agency=True
    )
    assert accepted.status_code == 201
    assert accepted.json()["accepted"] is False


def test_every_decision_is_stored_and_the_latest_counts(client, app):
    prediction = predict(client)
    pid, top = prediction["prediction_id"], prediction["suggestions"][0]["agency"]
    other = prediction["suggestions"][1]["agency"]
    assert _feedback(client, prediction_id=pid, agency=top).json()["accepted"] is True
    assert _feedback(client, prediction_id=pid, agency=other).json()["accepted"] is False
    with app.state.sessions() as session:
        assert session.query(FeedbackRecord).filter_by(prediction_id=pid).count() == 2
    stats = client.get("/v1/stats", headers=ADMIN).json()
    assert (stats["predictions"], stats["decisions"], stats["accepted"]) == (1, 1, 0)


def test_feedback_note_is_stored_masked(client, app):
    pid = predict(client)["prediction_id"]
    body = _feedback(
        client, prediction_id=pid, agency="PT PLN (PERSERO)", note=f"warga NIK {NIK}"
    ).json()
    with app.state.sessions() as session:
        assert NIK not in session.get(FeedbackRecord, body["feedback_id"]).note


def test_invalid_feedback_bodies_are_422(client):
    pid = predict(client)["prediction_id"]
    for body in [
        {"agency": "PT PLN (PERSERO)"},
        {"prediction_id": pid},
        {"prediction_id": pid, "agency": "   "},
        {"prediction_id": pid, "agency": "PT PLN (PERSERO)", "new_agency": "maybe"},
        {"prediction_id": pid, "agency": "PT PLN (PERSERO)", "note": "x" * 2001},
    ]:
        response = _feedback(client, **body)
        assert response.status_code == 422, body
        assert isinstance(response.json()["detail"], str)
