"""Signing through the service's doors: start-up, hot reload (admin and watcher), batch workers.

With ROUTING_SIGNING_KEY set, a bundle that is unsigned or signed with another key never
serves: the service refuses to start (exit code 2, one line), a reload keeps the old model and
tells admins why, and batch workers never load it. A bundle signed with the key passes each.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from serve_process import SERVE, clean_env, free_port, running_server  # tests/ is on sys.path

from routing.api import create_app
from routing.api.batch_pool import BatchPool
from routing.bundle import load_bundle, read_manifest
from routing.registry import promote
from tests.conftest import OTHER_SIGNING_KEY, SIGNING_KEY

from .helpers import ADMIN, API_KEYS, INTEGRATION

DEADLINE_S = 60
COMPLAINT = {"text": "listrik padam sejak kemarin, token PLN sudah diisi tapi tetap mati"}
# (bundle fixture, configured key, what the refusal says)
REFUSED = [
    pytest.param("trained_bundle", SIGNING_KEY, "is not signed", id="unsigned"),
    pytest.param("signed_bundle", OTHER_SIGNING_KEY, "does not match", id="other-key"),
]


def _version(bundle: Path) -> str:
    return read_manifest(bundle)["model_version"]


def _wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _train(csv: Path, out: Path, key: str, seed: int) -> Path:
    from training.pipeline import train

    return train(csv, "text", "agency", out, id_col="id", seed=seed, signing_key=key).bundle_path


@pytest.fixture(scope="module")
def next_signed(tmp_path_factory, heldout_csv) -> Path:
    """Another version (not `second_bundle`'s: another seed), signed with the service's key."""
    out = tmp_path_factory.mktemp("next-signed") / "bundle"
    return _train(heldout_csv, out, SIGNING_KEY, seed=1)


@pytest.fixture(scope="module")
def next_other_key(tmp_path_factory, heldout_csv) -> Path:
    """Another version, signed with a key the service does not have."""
    out = tmp_path_factory.mktemp("next-other-key") / "bundle"
    return _train(heldout_csv, out, OTHER_SIGNING_KEY, seed=0)


# --- start-up: the real server process ---------------------------------------------------------


def _source(kind: str, bundle: Path, tmp_path: Path) -> Path:
    """What --model names: the bundle itself, or a registry whose current version it is."""
    if kind == "bundle":
        return bundle
    registry = tmp_path / "models"
    promote(registry, bundle)  # written without a key: the registry's writer did not check
    return registry


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["bundle", "registry"])
@pytest.mark.parametrize(("bundle_name", "key", "reason"), REFUSED)
def test_the_server_refuses_to_start_on_a_bundle_the_key_did_not_sign(
    kind, bundle_name, key, reason, request, tmp_path
):
    model = _source(kind, request.getfixturevalue(bundle_name), tmp_path)
    result = subprocess.run(
        [sys.executable, str(SERVE), "--model", str(model), "--port", str(free_port())],
        cwd=tmp_path,
        env=clean_env(ROUTING_SIGNING_KEY=key),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert reason in lines[0]
    assert not (tmp_path / "var").exists()  # it stopped before opening the database


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["bundle", "registry"])
def test_the_server_serves_a_bundle_signed_with_its_key(kind, signed_bundle, tmp_path):
    model = _source(kind, signed_bundle, tmp_path)
    env = clean_env(ROUTING_SIGNING_KEY=SIGNING_KEY, ROUTING_API_KEYS=API_KEYS)
    with running_server(model, cwd=tmp_path, env=env, log=tmp_path / "server.log") as url:
        response = httpx.post(f"{url}/v1/predict", json=COMPLAINT, headers=INTEGRATION)
    assert response.status_code == 200, response.text
    assert response.json()["model_version"] == _version(signed_bundle)


# --- hot reload: POST /v1/admin/reload and the registry watcher ---------------------------------


@pytest.fixture
def registry(tmp_path, signed_bundle) -> Path:
    root = tmp_path / "models"
    promote(root, signed_bundle, signing_key=SIGNING_KEY)
    return root


@pytest.fixture
def serve_signed(make_settings, registry, start_client) -> Callable[..., TestClient]:
    """The service on the registry, with the signing key configured."""

    def make(**overrides) -> TestClient:
        values = {"model": registry, "signing_key": SIGNING_KEY, "reload_interval": 0}
        return start_client(create_app(make_settings(**(values | overrides))))

    return make


def _served_version(client: TestClient) -> str:
    response = client.post("/v1/predict", json=COMPLAINT, headers=INTEGRATION)
    assert response.status_code == 200, response.text
    return response.json()["model_version"]


@pytest.fixture
def refused_bundle(request, second_bundle, next_other_key) -> tuple[Path, str]:
    """A new version the service's key did not sign, and what the refusal says."""
    if request.param == "unsigned":
        return second_bundle, "is not signed"
    return next_other_key, "does not match"


@pytest.mark.parametrize("refused_bundle", ["unsigned", "other-key"], indirect=True)
def test_admin_reload_keeps_the_old_model_and_says_why(
    serve_signed, registry, signed_bundle, refused_bundle, next_signed, caplog
):
    client = serve_signed()
    first = _version(signed_bundle)
    bundle, reason = refused_bundle
    promote(registry, bundle, force=True)  # no key: the registry's writer did not check

    with caplog.at_level(logging.WARNING, logger="routing.service"):
        response = client.post("/v1/admin/reload", headers=ADMIN)
    assert response.status_code == 409
    assert reason in response.json()["detail"]
    assert f"still serving {first}" in response.json()["detail"]
    assert any(reason in r.getMessage() for r in caplog.records)
    assert _served_version(client) == first
    ready = client.get("/readyz").json()
    assert (ready["status"], ready["model_version"]) == ("degraded", first)
    assert reason in client.get("/v1/admin/readiness", headers=ADMIN).json()["detail"]

    promote(registry, next_signed, force=True, signing_key=SIGNING_KEY)
    response = client.post("/v1/admin/reload", headers=ADMIN)
    assert response.status_code == 200, response.text
    assert response.json()["model_version"] == _version(next_signed)
    assert _served_version(client) == _version(next_signed)
    assert client.get("/readyz").json()["status"] == "ready"


@pytest.mark.parametrize("refused_bundle", ["unsigned", "other-key"], indirect=True)
def test_the_watcher_keeps_the_old_model_and_says_why(
    serve_signed, registry, signed_bundle, refused_bundle, next_signed
):
    client = serve_signed(reload_interval=0.05)
    first = _version(signed_bundle)
    bundle, reason = refused_bundle
    promote(registry, bundle, force=True)

    _wait_for(
        lambda: reason in (client.get("/v1/admin/readiness", headers=ADMIN).json()["detail"] or ""),
        "the watcher to refuse the new version",
    )
    assert _served_version(client) == first

    promote(registry, next_signed, force=True, signing_key=SIGNING_KEY)
    _wait_for(
        lambda: _served_version(client) == _version(next_signed),
        "the watcher to load the signed version",
    )
    assert client.get("/readyz").json()["status"] == "ready"


# --- batch workers -----------------------------------------------------------------------------


def test_batch_workers_refuse_a_bundle_signed_with_another_key(signed_bundle, caplog):
    bundle = load_bundle(signed_bundle, signing_key=SIGNING_KEY)
    pool = BatchPool(1, signing_key=OTHER_SIGNING_KEY)
    try:
        with caplog.at_level(logging.WARNING, logger="routing.service"):
            pool.start(bundle)
            _wait_for(lambda: "could not load" in caplog.text, "the failed load to be reported")
        assert pool.ready(bundle.model_version) == 0
    finally:
        pool.close()


def test_batch_workers_follow_only_reloads_that_verify(
    serve_signed, registry, signed_bundle, second_bundle, next_signed
):
    client = serve_signed(batch_workers=1)
    pool = client.app.state.batch_pool
    first, second = _version(signed_bundle), _version(next_signed)
    _wait_for(lambda: pool.ready(first) == 1, "the batch worker to load the signed version")

    promote(registry, second_bundle, force=True)  # unsigned
    assert client.post("/v1/admin/reload", headers=ADMIN).status_code == 409
    assert pool.ready(first) == 1  # the same workers, still holding the served version

    promote(registry, next_signed, force=True, signing_key=SIGNING_KEY)
    assert client.post("/v1/admin/reload", headers=ADMIN).status_code == 200
    _wait_for(lambda: pool.ready(second) == 1, "the batch worker to load the new version")
