"""API keys, roles, the loopback-only open mode, the per-key rate limit and the throttle on
unknown keys per client address."""

from __future__ import annotations

import pytest

from routing.api import create_app, security
from routing.api.security import (
    MIN_KEY_CHARS,
    ConfigError,
    Principal,
    RateLimiter,
    check_exposure,
    is_loopback,
    parse_api_keys,
)
from routing.storage.db import FeedbackRecord, PredictionRecord

from .helpers import (
    ADMIN,
    ADMIN_KEY,
    INTEGRATION,
    INTEGRATION_KEY,
    INTEGRATION_KEY_2,
    predict,
)

LONG_KEYS = "integration:0123456789abcdef,admin:fedcba9876543210"

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
    check_exposure(parse_api_keys(LONG_KEYS), "0.0.0.0")


def test_create_app_refuses_to_be_open_on_a_public_address(make_settings, bundle):
    with pytest.raises(ConfigError, match=r"0\.0\.0\.0"):
        create_app(make_settings(api_keys=None, host="0.0.0.0"), bundle=bundle)
    create_app(make_settings(api_keys=LONG_KEYS, host="0.0.0.0"), bundle=bundle)  # with keys


def test_short_keys_are_refused_on_a_public_address_only():
    short = "k" * (MIN_KEY_CHARS - 1)
    keys = parse_api_keys(f"admin:{'a' * MIN_KEY_CHARS},integration:{short}")
    for host in ["0.0.0.0", "::", "192.168.1.10"]:
        with pytest.raises(ConfigError, match="entry 2 is shorter than 16 characters") as caught:
            check_exposure(keys, host)
        assert short not in str(caught.value) and "\n" not in str(caught.value)
    check_exposure(keys, "127.0.0.1")  # tests and local tries keep short keys


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


def test_rate_limiter_wait_only_looks():
    clock = FakeClock()
    limiter = RateLimiter(1, clock=clock)
    assert [limiter.wait("a"), limiter.wait("a")] == [0, 0]
    assert limiter.check("a") == 0
    assert limiter.wait("a") == 60 and limiter.check("a") == 60


def test_rate_limiter_forgets_refilled_names_past_its_bound(monkeypatch):
    monkeypatch.setattr(RateLimiter, "MAX_NAMES", 3)
    clock = FakeClock()
    limiter = RateLimiter(1, clock=clock)
    for name in "abc":
        limiter.check(name)
    clock.now += 60  # a, b and c are full again
    limiter.check("d")
    limiter.check("e")
    assert limiter.wait("e") > 0  # still remembered: it spent its token
    assert set(limiter._buckets) == {"d", "e"}


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


# --- unknown keys per client address ----------------------------------------------------------

WRONG = {"X-API-Key": "a-guessed-key"}


def test_unknown_keys_are_throttled_per_address_and_then_every_key_is_refused(make_client):
    client = make_client(key_failures_per_minute=3)
    assert [client.get("/v1/agencies", headers=WRONG).status_code for _ in range(3)] == [401] * 3
    for headers in (WRONG, INTEGRATION):  # the right key is refused too: guessing gains nothing
        throttled = client.get("/v1/agencies", headers=headers)
        assert throttled.status_code == 429
        assert int(throttled.headers["Retry-After"]) >= 1
        assert "unknown API keys" in throttled.json()["detail"]
    assert client.get("/healthz").status_code == 200


def test_missing_keys_are_not_counted_as_guesses(make_client):
    client = make_client(key_failures_per_minute=2)
    assert all(client.get("/v1/agencies").status_code == 401 for _ in range(5))
    assert client.get("/v1/agencies", headers=INTEGRATION).status_code == 200


def test_x_forwarded_for_names_the_client_only_behind_a_trusted_proxy(make_client):
    # TestClient's peer address is "testclient": here it plays the reverse proxy
    behind_proxy = make_client(key_failures_per_minute=2, trusted_proxies="testclient")
    guesser = {**WRONG, "X-Forwarded-For": "203.0.113.7"}
    for _ in range(2):
        assert behind_proxy.get("/v1/agencies", headers=guesser).status_code == 401
    assert behind_proxy.get("/v1/agencies", headers=guesser).status_code == 429
    other = {**INTEGRATION, "X-Forwarded-For": "198.51.100.9"}
    assert behind_proxy.get("/v1/agencies", headers=other).status_code == 200

    # from an untrusted peer the header is the client's own claim: ignored
    direct = make_client(key_failures_per_minute=2)
    for address in ["203.0.113.7", "203.0.113.8"]:
        headers = {**WRONG, "X-Forwarded-For": address}
        assert direct.get("/v1/agencies", headers=headers).status_code == 401
    headers = {**INTEGRATION, "X-Forwarded-For": "198.51.100.9"}
    assert direct.get("/v1/agencies", headers=headers).status_code == 429


# --- audit trail ------------------------------------------------------------------------------


def test_each_prediction_and_decision_stores_the_key_id_that_made_it(client, app):
    second = {"X-API-Key": INTEGRATION_KEY_2}
    single = client.post("/v1/predict", json={"text": "listrik padam"}, headers=second).json()
    batch = client.post(
        "/v1/predict/batch", json={"items": [{"text": "jalan rusak"}]}, headers=ADMIN
    ).json()
    pid = single["prediction_id"]
    body = {"prediction_id": pid, "agency": single["suggestions"][0]["agency"]}
    decided = client.post("/v1/feedback", json=body, headers=INTEGRATION).json()
    with app.state.sessions() as session:
        assert session.get(PredictionRecord, pid).key_id == "integration#2"
        assert session.get(PredictionRecord, batch["results"][0]["prediction_id"]).key_id == (
            "admin#1"
        )
        assert session.get(FeedbackRecord, decided["feedback_id"]).key_id == "integration#1"
        stored = [
            str(value)
            for record in [*session.query(PredictionRecord), *session.query(FeedbackRecord)]
            for value in vars(record).values()
        ]
    for key in (INTEGRATION_KEY, INTEGRATION_KEY_2, ADMIN_KEY):
        assert not any(key in value for value in stored)  # ids, never the keys


def test_open_mode_stores_its_own_key_id(make_client):
    client = make_client(api_keys=None, host="127.0.0.1")
    pid = predict(client)["prediction_id"]
    with client.app.state.sessions() as session:
        assert session.get(PredictionRecord, pid).key_id == security.OPEN_KEY_ID
