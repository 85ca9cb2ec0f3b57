"""API keys, roles, the loopback-only open mode and the per-key rate limit."""

from __future__ import annotations

import pytest

from routing.api import create_app, security
from routing.api.security import (
    ConfigError,
    Principal,
    RateLimiter,
    check_exposure,
    is_loopback,
    parse_api_keys,
)

from .helpers import ADMIN, INTEGRATION, INTEGRATION_KEY, INTEGRATION_KEY_2, predict

# --- keys ---------------------------------------------------------------------------------


def test_keys_parse_into_roles_with_loggable_ids():
    ring = parse_api_keys(" integration:a1 , admin:b1,integration:a2 ")
    assert len(ring) == 3 and not ring.open
    assert ring.identify("a2") == Principal("integration", "integration#2")
    assert ring.identify("b1") == Principal("admin", "admin#1")
    assert ring.identify("a") is None
    assert ring.identify("") is None
    assert ring.identify(None) is None


def test_a_key_may_contain_colons():
    assert parse_api_keys("admin:x:y").identify("x:y") == Principal("admin", "admin#1")


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("root:abc", "unknown role 'root'"),
        ("admin:", "empty key"),
        ("admin:  ", "empty key"),
        ("abc", "not of the form role:key"),
        ("admin:k,,integration:j", "entry 2"),
        ("admin:k,integration:k", "repeats"),
    ],
)
def test_malformed_keys_are_refused_with_a_clear_line(raw, reason):
    with pytest.raises(ConfigError, match=reason) as caught:
        parse_api_keys(raw)
    assert "\n" not in str(caught.value)


def test_key_errors_never_echo_a_key():
    for raw in ["root:supersecret", "admin:supersecret,admin:supersecret", "supersecret"]:
        with pytest.raises(ConfigError) as caught:
            parse_api_keys(raw)
        assert "supersecret" not in str(caught.value)


def test_no_keys_means_open_as_admin():
    ring = parse_api_keys("  ")
    assert ring.open
    assert ring.identify(None) == Principal("admin", security.OPEN_KEY_ID)


def test_every_key_is_compared_in_constant_time(monkeypatch):
    ring = parse_api_keys("admin:k1,integration:k2,integration:k3")
    calls = []

    def counting(a, b):
        calls.append((a, b))
        return a == b

    monkeypatch.setattr(security.hmac, "compare_digest", counting)
    assert ring.identify("k1") == Principal("admin", "admin#1")
    assert len(calls) == 3  # no early exit on the first (matching) key
    calls.clear()
    assert ring.identify("nope") is None
    assert len(calls) == 3


# --- exposure -----------------------------------------------------------------------------


def test_loopback_addresses():
    for host in ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost"]:
        assert is_loopback(host), host
    for host in ["0.0.0.0", "::", "192.168.1.10", "example.org", ""]:
        assert not is_loopback(host), host


def test_no_keys_on_a_public_address_is_refused():
    with pytest.raises(ConfigError, match="without API keys"):
        check_exposure(parse_api_keys(None), "0.0.0.0")
    check_exposure(parse_api_keys(None), "127.0.0.1")
    check_exposure(parse_api_keys("admin:k"), "0.0.0.0")


def test_create_app_refuses_to_be_open_on_a_public_address(make_settings, bundle):
    with pytest.raises(ConfigError, match=r"0\.0\.0\.0"):
        create_app(make_settings(api_keys=None, host="0.0.0.0"), bundle=bundle)
    create_app(make_settings(host="0.0.0.0"), bundle=bundle)  # with keys it may


def test_create_app_refuses_malformed_keys(make_settings, bundle):
    with pytest.raises(ConfigError, match="unknown role"):
        create_app(make_settings(api_keys="integration:k,superuser:x"), bundle=bundle)


# --- roles over HTTP ----------------------------------------------------------------------

NO_KEY: dict[str, str] = {}
UNKNOWN = {"X-API-Key": "not-a-key"}
PREFIX = {"X-API-Key": INTEGRATION_KEY[:-1]}


def _call(client, method, path, headers, prediction_id):
    if path == "/v1/predict":
        return client.post(path, json={"text": "listrik padam"}, headers=headers)
    if path == "/v1/predict/batch":
        return client.post(path, json={"items": [{"text": "listrik padam"}]}, headers=headers)
    if path == "/v1/feedback":
        body = {"prediction_id": prediction_id, "agency": "PT PLN (PERSERO)"}
        return client.post(path, json=body, headers=headers)
    return client.request(method, path, headers=headers)


ROLE_MATRIX = [
    # path, method, no key, unknown key, integration, admin
    ("/v1/predict", "POST", 401, 401, 200, 200),
    ("/v1/predict/batch", "POST", 401, 401, 200, 200),
    ("/v1/feedback", "POST", 401, 401, 201, 201),
    ("/v1/agencies", "GET", 401, 401, 200, 200),
    ("/v1/model", "GET", 401, 401, 200, 200),
    ("/v1/stats", "GET", 401, 401, 403, 200),
    ("/healthz", "GET", 200, 200, 200, 200),
    ("/readyz", "GET", 200, 200, 200, 200),
    ("/metrics", "GET", 200, 200, 200, 200),
    ("/docs", "GET", 200, 200, 200, 200),
    ("/openapi.json", "GET", 200, 200, 200, 200),
]


def test_role_matrix(client):
    pid = predict(client)["prediction_id"]
    for path, method, *expected in ROLE_MATRIX:
        got = [
            _call(client, method, path, headers, pid).status_code
            for headers in (NO_KEY, UNKNOWN, INTEGRATION, ADMIN)
        ]
        assert got == expected, path


def test_401_and_403_are_json_and_do_not_echo_the_key(client):
    for headers, status in [(UNKNOWN, 401), (PREFIX, 401), (INTEGRATION, 403)]:
        response = client.get("/v1/stats", headers=headers)
        assert response.status_code == status
        assert headers["X-API-Key"] not in response.text
        assert response.json()["detail"]


def test_open_mode_on_loopback_serves_everything_without_a_key(make_client):
    client = make_client(api_keys=None, host="127.0.0.1")
    assert client.post("/v1/predict", json={"text": "listrik padam"}).status_code == 200
    assert client.get("/v1/stats").status_code == 200
    assert client.get("/v1/agencies").status_code == 200


# --- rate limit ---------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_rate_limiter_refills_over_time():
    clock = FakeClock()
    limiter = RateLimiter(2, clock=clock)
    assert [limiter.check("a"), limiter.check("a")] == [0, 0]
    wait = limiter.check("a")
    assert wait == 30  # one token every 30 s at 2 per minute
    assert limiter.check("b") == 0  # per key
    clock.now += 30
    assert limiter.check("a") == 0
    assert limiter.check("a") > 0


def test_rate_limit_off_by_default():
    limiter = RateLimiter(0)
    assert not limiter.enabled
    assert all(limiter.check("a") == 0 for _ in range(1000))


def test_rate_limit_answers_429_with_retry_after_per_key(make_client):
    client = make_client(rate_limit=2)
    for _ in range(2):
        assert client.get("/v1/agencies", headers=INTEGRATION).status_code == 200
    limited = client.get("/v1/agencies", headers=INTEGRATION)
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) >= 1
    assert "rate limit" in limited.json()["detail"]
    other = {"X-API-Key": INTEGRATION_KEY_2}
    assert client.get("/v1/agencies", headers=other).status_code == 200
    assert client.get("/healthz").status_code == 200  # unauthenticated routes are not limited
    assert client.get("/v1/stats", headers=ADMIN).status_code == 200
