"""GET /v1/model says whether the served bundle's signature was verified."""

from __future__ import annotations

from routing.api import create_app
from tests.conftest import SIGNING_KEY

from .helpers import INTEGRATION


def test_an_unverified_bundle_shows_signed_false(client):
    assert client.get("/v1/model", headers=INTEGRATION).json()["signed"] is False


def test_a_bundle_verified_with_the_key_shows_signed_true(
    make_settings, start_client, signed_bundle
):
    settings = make_settings(model=signed_bundle, signing_key=SIGNING_KEY)
    client = start_client(create_app(settings))
    assert client.get("/v1/model", headers=INTEGRATION).json()["signed"] is True
