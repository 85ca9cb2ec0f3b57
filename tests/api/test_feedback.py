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
    body = {"prediction_id": prediction_id, "agency": "DINAS BARU KOTA X", "new_agency": True}
    accepted = client.post("/v1/feedback", json=body, headers=ADMIN)
    assert accepted.status_code == 201
    assert accepted.json()["accepted"] is False


def test_only_an_admin_key_may_propose_a_new_agency(client, app):
    prediction_id = predict(client)["prediction_id"]
    body = {"prediction_id": prediction_id, "agency": "DINAS BARU KOTA X", "new_agency": True}
    refused = client.post("/v1/feedback", json=body, headers=INTEGRATION)
    assert refused.status_code == 403
    assert "admin" in refused.json()["detail"]
    with app.state.sessions() as session:
        assert session.query(FeedbackRecord).count() == 0
    assert client.post("/v1/feedback", json=body, headers=ADMIN).status_code == 201


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


def test_lone_surrogate_in_any_field_is_422_naming_it(client, app):
    valid = {"prediction_id": predict(client)["prediction_id"], "agency": "PT PLN (PERSERO)"}
    headers = {"Content-Type": "application/json", **INTEGRATION}
    # the JSON escape and the raw bytes ED A0 80: json.loads lets both through
    for surrogate in [b"\\udc80", b"\xed\xa0\x80"]:
        for field in ["admin", "note", "agency", "prediction_id"]:
            fields = {name: value.encode() for name, value in (valid | {field: "x"}).items()}
            fields[field] += surrogate
            body = b", ".join(b'"%s": "%s"' % (name.encode(), v) for name, v in fields.items())
            response = client.post("/v1/feedback", content=b"{%s}" % body, headers=headers)
            assert response.status_code == 422, (field, response.text)
            assert response.json()["detail"] == (
                f"{field}: contains a character that is not valid UTF-8 (a lone surrogate)"
            )
    with app.state.sessions() as session:
        assert session.query(FeedbackRecord).count() == 0


def test_admin_that_looks_like_personal_data_is_422(client, app):
    pid = predict(client)["prediction_id"]
    for admin in [NIK, "0812-3456-7890", "budi@dinas.go.id", "budi [at] gmail [dot] com"]:
        response = _feedback(client, prediction_id=pid, agency="PT PLN (PERSERO)", admin=admin)
        assert response.status_code == 422, admin
        assert response.json()["detail"].startswith("admin: looks like "), admin
        assert admin not in response.text
    with app.state.sessions() as session:
        assert session.query(FeedbackRecord).count() == 0
    ok = _feedback(client, prediction_id=pid, agency="PT PLN (PERSERO)", admin="op-2024")
    assert ok.status_code == 201


def test_feedback_note_is_stored_masked_however_the_data_is_written(client, app):
    pid = predict(client)["prediction_id"]
    note = (
        "warga NIK ３２７３\u200b０１１５\u200b０１９０\u200b０００１, hp +62 (812) 3456 7890, "
        "email budi[at]gmail[dot]com, norek 12345678"
    )
    body = _feedback(client, prediction_id=pid, agency="PT PLN (PERSERO)", note=note).json()
    with app.state.sessions() as session:
        stored = session.get(FeedbackRecord, body["feedback_id"]).note
    assert stored == "warga NIK [NIK], hp [TELEPON], email [EMAIL], norek [NOMOR]"
