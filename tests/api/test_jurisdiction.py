"""The service on a bundle trained with the agency catalogue: locations, jurisdictions, the
agencies of a place, the two place reasons, and feedback that corrects the place."""

from __future__ import annotations

from pathlib import Path

import pytest

from routing.api import create_app
from routing.api.limits import MAX_LOCATION_CHARS
from routing.bundle import load_bundle
from routing.storage.db import FeedbackRecord, PredictionRecord

from .helpers import ADMIN, INTEGRATION, predict

WATER = "air pdam tidak mengalir sudah tiga hari, mohon segera diperbaiki"
POWER = "listrik mati trs sejak kemarin, token pln sudah diisi"


@pytest.fixture(scope="module")
def catalogue_model(catalogue_bundle: Path):
    return load_bundle(catalogue_bundle)


@pytest.fixture
def client(make_settings, catalogue_model, catalogue_bundle, start_client):
    settings = make_settings(model=catalogue_bundle)
    return start_client(create_app(settings, bundle=catalogue_model))


def test_a_location_places_a_role_at_its_office_and_is_answered(client):
    body = predict(client, WATER, location="Kota Bandung")
    assert body["jurisdiction"] == {
        "code": "32.73",
        "name": "KOTA BANDUNG",
        "level": "kabkota",
        "source": "location",
        "evidence": "Kota Bandung",
    }
    top = body["suggestions"][0]
    assert (top["agency"], top["agency_code"]) == ("PDAM TIRTAWENING KOTA BANDUNG", "PDAM-BDG")
    codes = {reason["code"] for reason in body["reasons"]}
    assert not codes & {"no_jurisdiction", "location_conflict"}


def test_a_kemendagri_code_is_a_location_too(client):
    body = predict(client, WATER, location="3273")
    assert (body["jurisdiction"]["code"], body["jurisdiction"]["evidence"]) == ("32.73", "3273")


def test_national_agencies_are_answered_by_name_and_code(client):
    body = predict(client, POWER)
    top = body["suggestions"][0]
    assert (top["agency"], top["agency_code"]) == ("PT PLN (PERSERO)", "PLN")
    assert body["jurisdiction"] is None


def test_a_role_without_a_place_goes_to_review_with_its_candidates(client):
    body = predict(client, WATER)
    assert body["jurisdiction"] is None
    assert body["decision"] == "review"
    assert body["suggestions"][0] == {
        **body["suggestions"][0],
        "agency": "PDAM",
        "agency_code": None,
    }
    [reason] = [r for r in body["reasons"] if r["code"] == "no_jurisdiction"]
    assert reason == {"code": "no_jurisdiction", "role": "PDAM", "candidates": ["PDAM-BDG"]}


def test_an_ambiguous_place_is_answered_with_its_candidates(client):
    body = predict(client, WATER + " di Bandung")
    assert body["jurisdiction"]["candidates"] == ["32.04", "32.73"]
    assert body["jurisdiction"]["code"] == "32"
    [reason] = [r for r in body["reasons"] if r["code"] == "no_jurisdiction"]
    assert reason["candidates"] == ["PEMKAB-32.04", "PDAM-BDG"]


def test_a_location_that_contradicts_the_text_is_a_conflict(client, app):
    body = predict(client, WATER + " di Kota Bandung", location="Kabupaten Sleman")
    assert body["jurisdiction"]["code"] == "34.04"
    assert body["decision"] == "review"
    assert {"code": "location_conflict", "location": "34.04", "text": "32.73"} in body["reasons"]
    with app.state.sessions() as session:
        stored = session.get(PredictionRecord, body["prediction_id"])
    assert stored.jurisdiction == "34.04"
    assert "location_conflict" in stored.reason_codes.split(",")
    stats = client.get("/v1/stats", headers=ADMIN).json()
    assert stats["by_reason"]["location_conflict"]["predictions"] == 1
    assert stats["by_reason"]["no_jurisdiction"]["predictions"] == 1


def test_batch_items_take_their_own_location(client):
    response = client.post(
        "/v1/predict/batch",
        json={"items": [{"text": WATER, "location": "32.73"}, {"text": WATER}]},
        headers=INTEGRATION,
    )
    assert response.status_code == 200
    first, second = response.json()["results"]
    assert first["jurisdiction"]["code"] == "32.73"
    assert first["suggestions"][0]["agency_code"] == "PDAM-BDG"
    assert second["jurisdiction"] is None


@pytest.mark.parametrize(
    ("location", "message"),
    [
        ("x" * (MAX_LOCATION_CHARS + 1), f"at most {MAX_LOCATION_CHARS} characters"),
        ("99.99", "not a Kemendagri region code"),
        (32, "valid string"),
    ],
)
def test_an_invalid_location_is_422_naming_the_field(client, location, message):
    response = client.post(
        "/v1/predict", json={"text": WATER, "location": location}, headers=INTEGRATION
    )
    assert response.status_code == 422
    body = response.json()
    assert body["errors"][0]["loc"] == "location"
    assert message in body["detail"]


def test_a_blank_location_counts_as_none(client):
    assert predict(client, WATER, location="  ")["jurisdiction"] is None


def test_agencies_lists_offices_national_agencies_and_governments(client):
    body = client.get("/v1/agencies", headers=INTEGRATION).json()
    by_code = {a["agency_code"]: a for a in body["agencies"]}
    assert body["count"] == len(body["agencies"]) == len(by_code)
    assert by_code["PDAM-BDG"] == {
        "agency": "PDAM TIRTAWENING KOTA BANDUNG",
        "agency_code": "PDAM-BDG",
        "level": "kabkota",
        "region": "32.73",
        "role": "PDAM",
    }
    assert by_code["PLN"] == {
        "agency": "PT PLN (PERSERO)",
        "agency_code": "PLN",
        "level": "pusat",
        "region": None,
        "role": None,
    }
    assert by_code["PEMKAB-34.04"]["role"] == "PEMKAB/PEMKOT"
    assert by_code["PEMPROV-32"]["level"] == "provinsi"
    assert "DPU-BDG" not in by_code  # a role the model did not learn
    names = [a["agency"] for a in body["agencies"]]
    assert names == sorted(names)


def test_feedback_takes_any_listed_agency_by_name_or_code_and_a_jurisdiction(client, app):
    prediction = predict(client, WATER, location="Kota Bandung")
    by_code = client.post(
        "/v1/feedback",
        json={"prediction_id": prediction["prediction_id"], "agency": "PDAM-BDG"},
        headers=INTEGRATION,
    )
    assert by_code.status_code == 201, by_code.text
    assert by_code.json()["accepted"] is True  # the code names the top agency
    government = client.post(
        "/v1/feedback",
        json={
            "prediction_id": prediction["prediction_id"],
            "agency": "PEMERINTAH KABUPATEN SLEMAN",
            "jurisdiction": "3404",
        },
        headers=INTEGRATION,
    )
    assert government.status_code == 201, government.text
    assert government.json()["accepted"] is False
    with app.state.sessions() as session:
        first = session.get(FeedbackRecord, by_code.json()["feedback_id"])
        second = session.get(FeedbackRecord, government.json()["feedback_id"])
    assert (first.agency, first.jurisdiction) == ("PDAM TIRTAWENING KOTA BANDUNG", None)
    assert (second.agency, second.jurisdiction) == ("PEMERINTAH KABUPATEN SLEMAN", "34.04")


@pytest.mark.parametrize("jurisdiction", ["99", "32.73.01", "Bandung", ""])
def test_feedback_jurisdiction_must_be_a_province_or_regency_code(client, jurisdiction):
    prediction = predict(client, WATER)
    response = client.post(
        "/v1/feedback",
        json={
            "prediction_id": prediction["prediction_id"],
            "agency": "PDAM-BDG",
            "jurisdiction": jurisdiction,
        },
        headers=INTEGRATION,
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == "jurisdiction"
