"""Idle and slow-header connections cannot starve real clients (a real server process).

The server runs with the common limit of 1,024 open files and a short header timeout
(ROUTING_HEADER_TIMEOUT_S), so that the test waits a fraction of a second instead of the
default ten.
"""

from __future__ import annotations

import resource
import socket
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
from serve_process import clean_env, running_server  # tests/ is on sys.path

HEADER_TIMEOUT_S = 0.5
SERVER_OPEN_FILES = 1024
HOSTILE_CONNECTIONS = 1100
# The bound a client must be answered within while the hostile connections are open.
ANSWER_WITHIN_S = 2.0
PARTIAL_HEADERS = b"GET /healthz HTTP/1.1\r\nHost: routing\r\nUser-Agent: slow"


def _server_open_files() -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (SERVER_OPEN_FILES, hard))


@pytest.fixture(scope="module")
def server(trained_bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    workdir = tmp_path_factory.mktemp("connections")
    env = clean_env(
        ROUTING_DB_URL=f"sqlite:///{workdir / 'service.db'}",
        ROUTING_HEADER_TIMEOUT_S=str(HEADER_TIMEOUT_S),
    )
    with running_server(
        trained_bundle,
        cwd=workdir,
        env=env,
        log=workdir / "server.log",
        preexec_fn=_server_open_files,
    ) as url:
        yield url


@pytest.fixture
def enough_open_files() -> Iterator[None]:
    """This process needs more than HOSTILE_CONNECTIONS open files itself."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = HOSTILE_CONNECTIONS + 256
    if hard != resource.RLIM_INFINITY and hard < needed:
        pytest.skip(f"the open-file limit ({hard}) is below the {needed} this test needs")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, needed), hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def _address(url: str) -> tuple[str, int]:
    host, port = url.removeprefix("http://").split(":")
    return host, int(port)


def _answered_within(url: str, seconds: float) -> float | None:
    """Seconds until POST /v1/predict got a 200, retrying refused or dropped connections as
    any client would; None when none came within `seconds`."""
    start = time.monotonic()
    while (left := seconds - (time.monotonic() - start)) > 0:
        try:
            response = httpx.post(
                f"{url}/v1/predict", json={"text": "lampu jalan mati"}, timeout=left
            )
        except httpx.TransportError:
            time.sleep(0.02)
            continue
        if response.status_code == 200:
            return time.monotonic() - start
    return None


def test_a_client_is_answered_while_idle_and_slow_connections_hold_every_file(
    server, enough_open_files
):
    with ExitStack() as stack:
        for i in range(HOSTILE_CONNECTIONS):
            sock = stack.enter_context(socket.create_connection(_address(server), timeout=10))
            if i % 2:
                sock.sendall(PARTIAL_HEADERS)  # headers begun, never finished
        took = _answered_within(server, ANSWER_WITHIN_S)
        assert took is not None, (
            f"no 200 within {ANSWER_WITHIN_S} s with {HOSTILE_CONNECTIONS} idle or slow "
            f"connections open against {SERVER_OPEN_FILES} open files"
        )


def test_headers_sent_a_byte_at_a_time_do_not_keep_a_connection_open(server):
    with socket.create_connection(_address(server), timeout=10) as sock:
        start = time.monotonic()
        closed = False
        for byte in PARTIAL_HEADERS:  # every byte arrives well within the timeout
            try:
                sock.sendall(bytes([byte]))
            except OSError:
                closed = True
                break
            time.sleep(HEADER_TIMEOUT_S / 10)
        if not closed:
            sock.settimeout(10)
            try:
                closed = sock.recv(1024) == b""
            except ConnectionResetError:
                closed = True
        assert closed
        # the deadline counts from the connection, not from the last byte
        assert time.monotonic() - start < len(PARTIAL_HEADERS) * HEADER_TIMEOUT_S / 10


def test_a_kept_alive_connection_serves_requests_after_the_header_timeout(server):
    with httpx.Client(base_url=server, timeout=10) as client:
        assert client.get("/healthz").status_code == 200
        time.sleep(HEADER_TIMEOUT_S * 2)  # idle, but within the keep-alive timeout
        assert client.get("/healthz").status_code == 200
        assert client.post("/v1/predict", json={"text": "jalan rusak"}).status_code == 200
