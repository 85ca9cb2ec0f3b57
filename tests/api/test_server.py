"""The real server: `python serve.py` in a subprocess, durability across kill -9, start-up refusal.

These start Python processes, so they are marked slow.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from serve_process import SERVE, clean_env, free_port  # tests/ is on sys.path
from serve_process import running_server as serve

from routing.bundle import ROUTER_FILE
from routing.storage.db import FeedbackRecord, make_engine, session_factory

from .helpers import ADMIN, API_KEYS, INTEGRATION, NIK, PERSONAL_TEXT, PHONE, SECRET_WORDS

START_TIMEOUT_S = 90
N_FEEDBACK = 20

pytestmark = pytest.mark.slow


@contextmanager
def running_server(model: Path, db_url: str, cwd: Path, log: Path) -> Iterator[str]:
    """serve.py with the test keys and `db_url`; kill -9 on the way out."""
    env = clean_env(ROUTING_DB_URL=db_url, ROUTING_API_KEYS=API_KEYS)
    with serve(model, cwd=cwd, env=env, log=log) as url:
        yield url


def test_acknowledged_writes_survive_kill_9(trained_bundle, tmp_path):
    db_url = f"sqlite:///{tmp_path / 'var' / 'routing.db'}"
    log = tmp_path / "server.log"
    items = [{"text": f"{PERSONAL_TEXT} ({i})", "complaint_id": f"K-{i}"} for i in range(20)]

    with running_server(trained_bundle, db_url, tmp_path, log) as url:
        single = httpx.post(f"{url}/v1/predict", json={"text": PERSONAL_TEXT}, headers=INTEGRATION)
        assert single.status_code == 200
        assert single.json()["suggestions"][0]["agency"] == "PT PLN (PERSERO)"
        batch = httpx.post(
            f"{url}/v1/predict/batch", json={"items": items}, headers=INTEGRATION, timeout=60
        )
        assert batch.status_code == 200
        acknowledged = []
        for result in batch.json()["results"][:N_FEEDBACK]:
            response = httpx.post(
                f"{url}/v1/feedback",
                json={"prediction_id": result["prediction_id"], "agency": "PT PLN (PERSERO)"},
                headers=INTEGRATION,
            )
            assert response.status_code == 201
            acknowledged.append(response.json()["feedback_id"])
        # leaving the block sends SIGKILL right after the last acknowledgement

    with running_server(trained_bundle, db_url, tmp_path, log) as url:
        stats = httpx.get(f"{url}/v1/stats", headers=ADMIN).json()
    assert stats["predictions"] == 21
    assert stats["decisions"] == N_FEEDBACK

    engine = make_engine(db_url)
    try:
        with session_factory(engine)() as session:
            stored = {r.id for r in session.query(FeedbackRecord)}
    finally:
        engine.dispose()
    assert stored == set(acknowledged)

    stderr = log.read_text()
    access = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    # a line is written once its response is sent: the kill may take the very last one
    assert sum(line["route"] == "/v1/feedback" for line in access) >= N_FEEDBACK - 1
    for secret in [SECRET_WORDS, NIK, PHONE, "listrik", "K-1", *API_KEYS.split(",")]:
        assert secret not in stderr, secret
    assert '"POST /v1/predict HTTP/1.1"' not in stderr  # uvicorn's own access log is off


def test_serve_py_refuses_a_tampered_bundle_with_one_line(trained_bundle, tmp_path):
    copy = shutil.copytree(trained_bundle, tmp_path / "bundle")
    with open(copy / ROUTER_FILE, "ab") as fh:
        fh.write(b"tampered")
    result = subprocess.run(
        [sys.executable, str(SERVE), "--model", str(copy), "--port", str(free_port())],
        cwd=tmp_path,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "checksum mismatch" in lines[0]
    assert "Traceback" not in result.stderr


def test_sigterm_shuts_down_cleanly_with_exit_code_0(trained_bundle, tmp_path):
    port = free_port()
    log = tmp_path / "server.log"
    with open(log, "wb") as err:
        process = subprocess.Popen(
            [sys.executable, str(SERVE), "--model", str(trained_bundle), "--port", str(port)],
            cwd=tmp_path,
            env=clean_env(ROUTING_DB_URL=f"sqlite:///{tmp_path / 'routing.db'}"),
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            assert process.poll() is None, log.read_text()
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "server did not become ready"
            time.sleep(0.2)
        process.send_signal(signal.SIGTERM)
        returncode = process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)
    stderr = log.read_text()
    assert returncode == 0, stderr
    assert "Application shutdown complete" in stderr
    assert "stopped by SIGTERM: shut down cleanly" in stderr
    assert "Traceback" not in stderr
