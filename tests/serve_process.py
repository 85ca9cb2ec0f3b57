"""Run serve.py as a real subprocess for tests: a free port, wait for /readyz, then stop it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
SERVE = ROOT / "serve.py"
START_TIMEOUT_S = 90


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without ROUTING_* settings, plus `extra` (batch workers
    off unless `extra` sets them: test_batch_pool.py runs them)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROUTING_")}
    return env | {"PYTHONUNBUFFERED": "1", "ROUTING_BATCH_WORKERS": "0"} | extra


@contextmanager
def running_server(
    model: Path,
    *,
    cwd: Path,
    env: dict[str, str],
    log: Path,
    stop: signal.Signals = signal.SIGKILL,
    preexec_fn: Callable[[], None] | None = None,
) -> Iterator[str]:
    """Start serve.py on `model`, wait for /readyz, yield its base URL, then send `stop`.

    `preexec_fn` runs in the child before serve.py (e.g. to lower its resource limits).
    """
    port = free_port()
    with open(log, "ab") as err:
        process = subprocess.Popen(
            [sys.executable, str(SERVE), "--model", str(model), "--port", str(port)],
            cwd=cwd,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=err,
            preexec_fn=preexec_fn,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            assert process.poll() is None, log.read_text()
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not become ready"
            time.sleep(0.2)
        yield url
    finally:
        if process.poll() is None:
            process.send_signal(stop)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
