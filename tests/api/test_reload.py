"""Hot reload from a registry: admin endpoint, watcher, refused bundles, no failed request.

The service serves `--model models/` (a registry); promoting another version there, or
POST /v1/admin/reload, swaps the model while requests keep being answered.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from serve_process import clean_env, running_server  # tests/ is on sys.path

from routing.api import batch_pool, create_app
from routing.bundle import ROUTER_FILE, read_manifest
from routing.registry import Pointer, add_bundle, promote, rollback, write_pointer

from .helpers import ADMIN, API_KEYS, INTEGRATION

DEADLINE_S = 60
N_THREADS = 4
MIN_REQUESTS_BEFORE_SWAP = 8
COMPLAINT = {"text": "listrik padam sejak kemarin, token PLN sudah diisi tapi tetap mati"}


def _version(bundle: Path) -> str:
    return read_manifest(bundle)["model_version"]


@pytest.fixture
def registry(tmp_path, trained_bundle) -> Path:
    root = tmp_path / "models"
    promote(root, trained_bundle)
    return root


@pytest.fixture
def serve_registry(make_settings, registry, start_client) -> Callable[..., TestClient]:
    """Start the service on the registry (it loads the current version itself)."""

    def make(**overrides) -> TestClient:
        settings = make_settings(model=registry, **({"reload_interval": 0} | overrides))
        return start_client(create_app(settings))

    return make


def _served_version(client) -> str:
    response = client.post("/v1/predict", json=COMPLAINT, headers=INTEGRATION)
    assert response.status_code == 200, response.text
    return response.json()["model_version"]


def _wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_admin_reload_serves_the_promoted_version(
    serve_registry, registry, trained_bundle, second_bundle
):
    client = serve_registry()
    first, second = _version(trained_bundle), _version(second_bundle)
    assert _served_version(client) == first
    promote(registry, second_bundle, force=True)

    assert client.post("/v1/admin/reload", headers=INTEGRATION).status_code == 403
    response = client.post("/v1/admin/reload", headers=ADMIN)
    assert response.status_code == 200, response.text
    assert response.json() == {"model_version": second, "previous_version": first, "reloaded": True}
    assert _served_version(client) == second
    assert client.get("/v1/model", headers=INTEGRATION).json()["model_version"] == second
    again = client.post("/v1/admin/reload", headers=ADMIN).json()
    assert again["reloaded"] is False


def test_a_tampered_bundle_is_refused_and_the_old_model_keeps_serving(
    serve_registry, registry, trained_bundle, second_bundle, caplog
):
    client = serve_registry()
    first, second = _version(trained_bundle), _version(second_bundle)
    add_bundle(registry, second_bundle)
    with open(registry / second / ROUTER_FILE, "ab") as fh:
        fh.write(b"tampered after promotion")
    write_pointer(registry, Pointer(second, (first,)))

    with caplog.at_level(logging.WARNING, logger="routing.service"):
        response = client.post("/v1/admin/reload", headers=ADMIN)
    assert response.status_code == 409
    assert "checksum mismatch" in response.json()["detail"]
    assert f"still serving {first}" in response.json()["detail"]
    assert any("checksum mismatch" in r.getMessage() for r in caplog.records)

    assert _served_version(client) == first
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "degraded"
    assert ready.json()["model_version"] == first
    assert "checksum mismatch" not in ready.text  # reasons are for admins
    assert "checksum mismatch" in client.get("/v1/admin/readiness", headers=ADMIN).json()["detail"]

    # pointing the registry back at what is served clears the complaint
    rollback(registry)
    assert client.post("/v1/admin/reload", headers=ADMIN).json()["reloaded"] is False
    assert client.get("/readyz").json() == {
        "status": "ready",
        "model_version": first,
        "batch_workers": 0,
    }


def test_the_watcher_follows_promote_and_rollback(
    serve_registry, registry, trained_bundle, second_bundle
):
    client = serve_registry(reload_interval=0.05)
    first, second = _version(trained_bundle), _version(second_bundle)
    assert _served_version(client) == first
    promote(registry, second_bundle, force=True)
    _wait_for(lambda: _served_version(client) == second, "the watcher to load the new version")
    rollback(registry)
    _wait_for(lambda: _served_version(client) == first, "the watcher to follow the rollback")


def _hammer(
    post: Callable[[], httpx.Response], stop: threading.Event, log: list[tuple[int, str | None]]
) -> None:
    """Send predictions one after another until `stop`; record (status, model version)."""
    while not stop.is_set():
        try:
            response = post()
            version = response.json().get("model_version") if response.status_code == 200 else None
            log.append((response.status_code, version))
        except Exception as exc:  # a dropped connection is a failed request too
            log.append((0, type(exc).__name__))


def _swap_under_load(post: Callable[[], httpx.Response], swap: Callable[[], None], new: str):
    """Run N_THREADS hammering threads, swap once they are busy, stop when all saw `new`."""
    stop = threading.Event()
    logs: list[list[tuple[int, str | None]]] = [[] for _ in range(N_THREADS)]
    threads = [
        threading.Thread(target=_hammer, args=(post, stop, log), daemon=True) for log in logs
    ]
    for thread in threads:
        thread.start()
    try:
        _wait_for(
            lambda: sum(map(len, logs)) >= MIN_REQUESTS_BEFORE_SWAP, "requests before the swap"
        )
        swap()
        _wait_for(
            lambda: (
                all(any(v == new for _, v in log) for log in logs)
                or any(s != 200 for log in logs for s, _ in log)
            ),
            "every thread to see the new version",
        )
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=DEADLINE_S)
    return logs


def _assert_no_failure_and_one_switch(logs, old: str, new: str) -> None:
    failures = [entry for log in logs for entry in log if entry[0] != 200]
    assert failures == []
    for log in logs:
        versions = [v for _, v in log]
        assert set(versions) <= {old, new}
        # each thread's requests are sequential: once it saw the new model it never sees the old
        first_new = versions.index(new)
        assert all(v == new for v in versions[first_new:])
    assert any(log[0][1] == old for log in logs)


def test_reload_under_concurrent_requests_fails_none(
    serve_registry, registry, trained_bundle, second_bundle
):
    client = serve_registry()
    old, new = _version(trained_bundle), _version(second_bundle)

    def swap() -> None:
        promote(registry, second_bundle, force=True)
        assert client.post("/v1/admin/reload", headers=ADMIN).status_code == 200

    logs = _swap_under_load(
        lambda: client.post("/v1/predict", json=COMPLAINT, headers=INTEGRATION), swap, new
    )
    _assert_no_failure_and_one_switch(logs, old, new)


@contextmanager
def _server(registry: Path, tmp_path: Path) -> Iterator[str]:
    """serve.py on the registry with a fast watcher; yields its URL; kill -9 on the way out."""
    env = clean_env(
        ROUTING_API_KEYS=API_KEYS,
        ROUTING_DB_URL=f"sqlite:///{tmp_path / 'service.db'}",
        ROUTING_RELOAD_INTERVAL="0.2",
    )
    with running_server(registry, cwd=tmp_path, env=env, log=tmp_path / "server.log") as url:
        yield url


@pytest.mark.slow
def test_promoting_under_load_on_a_real_server_fails_no_request(
    registry, trained_bundle, second_bundle, tmp_path
):
    old, new = _version(trained_bundle), _version(second_bundle)
    with _server(registry, tmp_path) as url, httpx.Client(base_url=url, timeout=30) as http:
        logs = _swap_under_load(
            lambda: http.post("/v1/predict", json=COMPLAINT, headers=INTEGRATION),
            lambda: promote(registry, second_bundle, force=True),  # the watcher does the rest
            new,
        )
    _assert_no_failure_and_one_switch(logs, old, new)


def test_batch_workers_follow_a_reload(
    serve_registry, registry, trained_bundle, second_bundle, small_corpus, monkeypatch
):
    client = serve_registry(batch_workers=1)
    pool = client.app.state.batch_pool
    first, second = _version(trained_bundle), _version(second_bundle)
    _wait_for(lambda: pool.ready(first) == 1, "the batch worker to load the served version")
    promote(registry, second_bundle, force=True)
    assert client.post("/v1/admin/reload", headers=ADMIN).status_code == 200
    _wait_for(lambda: pool.ready(second) == 1, "the batch worker to load the new version")
    assert client.get("/readyz").json()["batch_workers"] == 1
    here: list[int] = []  # sizes of the chunks computed in the server process
    compute = batch_pool._suggest
    monkeypatch.setattr(
        batch_pool, "_suggest", lambda *args: here.append(len(args[1])) or compute(*args)
    )
    items = [{"text": text} for text in small_corpus.texts[:64]]
    response = client.post("/v1/predict/batch", json={"items": items}, headers=INTEGRATION)
    assert response.status_code == 200, response.text
    assert {r["model_version"] for r in response.json()["results"]} == {second}
    assert here == [32]  # the worker answered the other half, with the new version
