"""Fixtures of the HTTP service tests: one loaded bundle per session, an app per test.

The bundle is the session's `trained_bundle` (tests/conftest.py: a router fitted on a small
subset of data/sample/complaints.csv). Each test gets its own SQLite file, keys and metrics.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from routing.api import create_app
from routing.bundle import Bundle, load_bundle
from routing.settings import Settings

from .helpers import API_KEYS


@pytest.fixture(autouse=True)
def _service_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No ROUTING_* setting of the developer's environment leaks into a test."""
    for name in list(os.environ):
        if name.startswith("ROUTING_"):
            monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def bundle(trained_bundle: Path) -> Bundle:
    return load_bundle(trained_bundle)


@pytest.fixture(scope="session")
def second_bundle(tmp_path_factory: pytest.TempPathFactory, heldout_csv: Path) -> Path:
    """Another valid bundle (trained on other complaints): the version to reload to."""
    from training.pipeline import train

    out = tmp_path_factory.mktemp("second") / "bundle"
    return train(heldout_csv, "text", "agency", out, id_col="id").bundle_path


@pytest.fixture
def make_settings(tmp_path: Path, trained_bundle: Path) -> Callable[..., Settings]:
    def make(**overrides) -> Settings:
        values = {
            "model": trained_bundle,
            "db_url": f"sqlite:///{tmp_path / 'service.db'}",
            "api_keys": API_KEYS,
            "batch_workers": 0,  # tests/api/test_batch_pool.py runs the workers
        } | overrides
        return Settings(_env_file=None, **values)

    return make


@pytest.fixture
def start_client() -> Iterator[Callable[[FastAPI], TestClient]]:
    """Start an app (lifespan included) in a TestClient; every one is stopped after the test."""
    clients: list[TestClient] = []

    def start(app: FastAPI) -> TestClient:
        client = TestClient(app)
        client.__enter__()
        clients.append(client)
        return client

    yield start
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def make_client(
    make_settings: Callable[..., Settings], bundle: Bundle, start_client
) -> Callable[..., TestClient]:
    """Start an app on the session's bundle with settings overrides; stopped after the test."""
    return lambda **overrides: start_client(create_app(make_settings(**overrides), bundle=bundle))


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client()


@pytest.fixture
def app(client: TestClient) -> FastAPI:
    return client.app  # type: ignore[return-value]
