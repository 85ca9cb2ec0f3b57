"""POST /v1/predict and /v1/predict/batch: response contract, storage, input errors."""

from __future__ import annotations

import re

import pytest

from routing.api.limits import MAX_BATCH_ITEMS, MAX_TEXT_CHARS
from routing.storage.db import PredictionRecord
from routing.storage.repository import get_prediction
from routing.suggest import EXPLAIN_WORDS

from .helpers import INTEGRATION, NIK, PERSONAL_TEXT, PHONE, predict

PREDICTION_KEYS = {
    "prediction_id",
    "complaint_id",
    "suggestions",
    "decision",
    "threshold",
    "reasons",
    "jurisdiction",
    "model_version",
    "similar",
}


def test_predict_answers_the_contract_shape(client, bundle):
    body = predict(client, complaint_id="LAPOR-1")
    assert set(body) == PREDICTION_KEYS
    assert body["complaint_id"] == "LAPOR-1"
    assert body["model_version"] == bundle.model_version
    assert body["threshold"] == bundle.policy.threshold
    assert body["decision"] in {"auto", "review"}
    suggestions = body["suggestions"]
    assert len(suggestions) == 3
    assert {s["agency"] for s in suggestions} <= set(bundle.labels)
    confidences = [s["confidence"] for s in suggestions]
    assert confidences == sorted(confidences, reverse=True)
    assert all(0.0 <= c <= 1.0 for c in confidences)
    for suggestion in suggestions:
        assert set(suggestion) == {"agency", "agency_code", "confidence", "explanation"}
        assert suggestion["agency_code"] is None  # a bundle without a catalogue
        assert 0 < len(suggestion["explanation"]) <= EXPLAIN_WORDS
        assert all(isinstance(w, str) for w in suggestion["explanation"])
    # the decision follows the policy on the top suggestion, and says why it is "review"
    if confidences[0] < bundle.policy.threshold:
        assert body["decision"] == "review"
    assert (body["decision"] == "review") == bool(body["reasons"])
    for reason in body["reasons"]:
        assert reason["code"] in {"low_confidence", "ambiguous", "out_of_scope", "few_shot"}
    # a bundle without a catalogue reads no place
    assert body["jurisdiction"] is None
    # similar past complaints (other citizens' texts) only when asked for
    assert body["similar"] is None


def test_predict_adds_similar_cases_when_asked(client, bundle):
    body = predict(client, include_similar=True)
    # three similar past complaints, masked snippets, similarity in [0, 1]
    assert len(body["similar"]) == 3
    for case in body["similar"]:
        assert set(case) == {"id", "agency", "similarity", "snippet"}
        assert 0.0 <= case["similarity"] <= 1.0
        assert case["agency"] in set(bundle.labels)
    assert predict(client, include_similar=False)["similar"] is None


def test_similar_snippets_never_show_personal_numbers(client):
    # the sample corpus the bundle was trained on is full of (fake) NIKs and phone numbers
    for text in ("NIK saya 3201234567890001 belum terdaftar", "hubungi saya di 081234567890"):
        for case in predict(client, text=text, include_similar=True)["similar"]:
            assert not re.search(r"\d{10,}", case["snippet"].replace(" ", ""))


def test_predict_suggests_the_obvious_agency(client):
    body = predict(client)
    assert body["suggestions"][0]["agency"] == "PT PLN (PERSERO)"


def test_explanations_never_carry_personal_data(client):
    body = predict(client)
    words = " ".join(w for s in body["suggestions"] for w in s["explanation"])
    assert NIK not in words and PHONE not in words


def test_top_k_bounds_are_inclusive(client, bundle):
    assert len(predict(client, top_k=1)["suggestions"]) == 1
    most = predict(client, top_k=10)["suggestions"]
    assert len(most) == min(10, len(bundle.labels))


def test_prediction_is_stored_masked_before_the_answer(client, app):
    body = predict(client, complaint_id="C-9")
    with app.state.sessions() as session:
        record = get_prediction(session, body["prediction_id"])
    assert record is not None
    assert record.complaint_id == "C-9"
    assert record.top_agency == body["suggestions"][0]["agency"]
    assert record.decision == body["decision"]
    assert NIK not in record.text_masked and PHONE not in record.text_masked
    assert "listrik" in record.text_masked


def _post(client, body):
    return client.post("/v1/predict", json=body, headers=INTEGRATION)


def test_empty_or_whitespace_text_is_422(client):
    for text in ["", "   ", "\n\t ", "\u200b"]:
        response = _post(client, {"text": text})
        assert response.status_code == 422, text
        assert response.json()["detail"] == "text: empty text"


def test_text_over_the_limit_is_422_naming_the_limit(client):
    response = _post(client, {"text": "a" * (MAX_TEXT_CHARS + 1)})
    assert response.status_code == 422
    assert str(MAX_TEXT_CHARS) in response.json()["detail"]


def test_top_k_outside_1_to_10_is_422(client):
    for top_k in [0, 11, -1, "3", True, 2.5]:
        response = _post(client, {"text": "listrik padam", "top_k": top_k})
        assert response.status_code == 422, top_k
        assert response.json()["detail"].startswith("top_k: ")


def test_missing_or_mistyped_fields_are_422(client):
    for body in [{}, {"text": 5}, {"text": ["a"]}, {"text": "a", "topk": 3}, {"text": "a\x00b"}]:
        response = _post(client, body)
        assert response.status_code == 422, body
        assert isinstance(response.json()["detail"], str)


def test_batch_answers_in_input_order(client, app):
    texts = ["listrik padam sejak pagi", "paspor saya belum jadi di kantor imigrasi", PERSONAL_TEXT]
    items = [{"text": t, "complaint_id": f"B-{i}"} for i, t in enumerate(texts)]
    response = client.post(
        "/v1/predict/batch", json={"items": items, "top_k": 2}, headers=INTEGRATION
    )
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["complaint_id"] for r in results] == ["B-0", "B-1", "B-2"]
    assert all(set(r) == PREDICTION_KEYS and len(r["suggestions"]) == 2 for r in results)
    for text, result in zip(texts, results, strict=True):
        single = predict(client, text, top_k=2)
        assert [s["agency"] for s in single["suggestions"]] == [
            s["agency"] for s in result["suggestions"]
        ]
    assert len({r["prediction_id"] for r in results}) == 3
    with app.state.sessions() as session:
        assert all(get_prediction(session, r["prediction_id"]) for r in results)


def test_one_invalid_batch_item_rejects_the_whole_request(client, app):
    items = [{"text": "listrik padam"}] * 3 + [{"text": "  "}] + [{"text": "paspor"}]
    response = client.post("/v1/predict/batch", json={"items": items}, headers=INTEGRATION)
    assert response.status_code == 422
    assert response.json()["detail"] == "items[3].text: empty text"
    with app.state.sessions() as session:
        assert session.query(PredictionRecord).count() == 0


def test_batch_size_limits_are_422(client):
    too_many = [{"text": "x"}] * (MAX_BATCH_ITEMS + 1)
    for items in [[], too_many]:
        response = client.post("/v1/predict/batch", json={"items": items}, headers=INTEGRATION)
        assert response.status_code == 422
        assert response.json()["detail"].startswith("items: ")


# A lone surrogate, as the JSON escape and as the raw bytes ED A0 80 (json.loads lets both
# through); no database can store one.
LONE_SURROGATES = [b"\\udc80", b"\xed\xa0\x80"]


def _post_raw(client, path: str, body: bytes):
    headers = {"Content-Type": "application/json", **INTEGRATION}
    return client.post(path, content=body, headers=headers)


def test_lone_surrogate_in_any_string_is_422_naming_the_field(client, app):
    for surrogate in LONE_SURROGATES:
        for field, body in [
            ("text", b'{"text": "lampu ' + surrogate + b' mati"}'),
            ("complaint_id", b'{"text": "lampu mati", "complaint_id": "C-' + surrogate + b'"}'),
        ]:
            response = _post_raw(client, "/v1/predict", body)
            assert response.status_code == 422, (field, surrogate, response.text)
            assert response.json()["detail"] == (
                f"{field}: contains a character that is not valid UTF-8 (a lone surrogate)"
            )
    with app.state.sessions() as session:
        assert session.query(PredictionRecord).count() == 0


def test_one_lone_surrogate_in_a_large_batch_is_422_naming_its_index(client, app):
    item = b'{"text": "listrik padam", "complaint_id": "K-1"}'
    for surrogate in LONE_SURROGATES:
        odd = b'{"text": "listrik padam", "complaint_id": "K-' + surrogate + b'"}'
        items = [item] * 700 + [odd] + [item] * 299
        body = b'{"items": [' + b", ".join(items) + b"]}"
        response = _post_raw(client, "/v1/predict/batch", body)
        assert response.status_code == 422, response.text
        assert response.json()["detail"].startswith("items[700].complaint_id: contains a char")
    with app.state.sessions() as session:
        assert session.query(PredictionRecord).count() == 0


def test_complaint_id_that_looks_like_personal_data_is_422(client, app):
    for complaint_id, kind in [
        (NIK, "a NIK"),
        ("LAPOR-3273/0115/0190/0001", "a NIK"),
        (PHONE, "a phone number"),
        ("(0812) 3456-7890", "a phone number"),
        ("budi (at) gmail.com", "an e-mail address"),
    ]:
        response = _post(client, {"text": "listrik padam", "complaint_id": complaint_id})
        assert response.status_code == 422, complaint_id
        detail = response.json()["detail"]
        assert detail.startswith(f"complaint_id: looks like {kind}"), detail
        assert complaint_id not in response.text
    items = [{"text": "listrik padam", "complaint_id": f"K-{i}"} for i in range(3)]
    items[2]["complaint_id"] = PHONE
    response = client.post("/v1/predict/batch", json={"items": items}, headers=INTEGRATION)
    assert response.status_code == 422
    assert response.json()["detail"].startswith("items[2].complaint_id: looks like a phone")
    with app.state.sessions() as session:
        assert session.query(PredictionRecord).count() == 0
    assert predict(client, complaint_id="LAPOR-4821337")["complaint_id"] == "LAPOR-4821337"


def test_personal_data_written_in_disguise_is_stored_masked(client, app):
    disguised = (
        "NIK 3273/0115/0190/0001, hp (0812) 3456-7890, "
        "email budi (at) gmail (dot) com, rek BCA 1234567: listrik padam"
    )
    body = predict(client, text=disguised)
    with app.state.sessions() as session:
        stored = get_prediction(session, body["prediction_id"]).text_masked
    assert stored == ("NIK [NIK], hp [TELEPON], email [EMAIL], rek BCA [NOMOR]: listrik padam")


def test_predict_answers_the_reasons_suggest_gives(client, bundle):
    from routing.suggest import suggest

    texts = ["listrik mati trs sejak kemarin", "qwxz vbnm plkj", "paspor saya belum jadi"]
    expected = suggest(bundle, texts)
    for text, prediction in zip(texts, expected, strict=True):
        body = predict(client, text)
        assert body["decision"] == prediction.decision
        assert len(body["reasons"]) == len(prediction.reasons)
        for answered, reason in zip(body["reasons"], prediction.reasons, strict=True):
            assert answered == pytest.approx(reason)  # numbers: one text or three at once


def test_a_batch_answers_reasons_per_item(client):
    response = client.post(
        "/v1/predict/batch",
        json={"items": [{"text": "listrik mati trs sejak kemarin"}, {"text": "qwxz vbnm plkj"}]},
        headers=INTEGRATION,
    )
    assert response.status_code == 200
    for result in response.json()["results"]:
        assert (result["decision"] == "review") == bool(result["reasons"])
