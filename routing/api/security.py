"""Who may call the service: API keys with roles, the loopback-only open mode, rate limits.

Keys come from ROUTING_API_KEYS as comma-separated ``role:key`` pairs. A presented key is
compared with every configured key in constant time and without stopping at the first match,
so response timing says nothing about how much of a key was right or which key it resembled.
Keys themselves never leave this module: callers get a `Principal` (role and a key id such as
``admin#2``) that is safe to log and to store. On an address other machines can reach, keys
must be long (`MIN_KEY_CHARS`), and unknown keys are throttled per client address with the
same token bucket as the rate limit, so guessing stays slow.
"""

from __future__ import annotations

import hmac
import ipaddress
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

Role = Literal["integration", "admin"]
ROLES: tuple[Role, ...] = ("integration", "admin")
# What each role may do: admin includes everything an integration may.
GRANTS: dict[Role, frozenset[Role]] = {
    "integration": frozenset({"integration"}),
    "admin": frozenset({"integration", "admin"}),
}
OPEN_KEY_ID = "open"
# Shorter keys are refused on an address other machines can reach: guessable under any throttle.
MIN_KEY_CHARS = 16


class ConfigError(ValueError):
    """The service is configured so that it must not start; str() is one line."""


@dataclass(frozen=True)
class Principal:
    """The caller of a request: its role and a loggable key id (never the key)."""

    role: Role
    key_id: str

    def may(self, role: Role) -> bool:
        return role in GRANTS[self.role]


@dataclass(frozen=True)
class _Key:
    principal: Principal
    secret: bytes


class KeyRing:
    """The configured API keys; an empty ring means the service runs open (loopback only)."""

    def __init__(self, keys: list[tuple[Role, str]]) -> None:
        counts: dict[str, int] = {}
        self._keys: list[_Key] = []
        self._short: list[int] = []
        for position, (role, key) in enumerate(keys, start=1):
            counts[role] = counts.get(role, 0) + 1
            self._keys.append(_Key(Principal(role, f"{role}#{counts[role]}"), key.encode()))
            if len(key) < MIN_KEY_CHARS:
                self._short.append(position)

    @property
    def open(self) -> bool:
        return not self._keys

    def __len__(self) -> int:
        return len(self._keys)

    @property
    def short(self) -> list[int]:
        """Positions (from 1) of the keys shorter than MIN_KEY_CHARS."""
        return list(self._short)

    def identify(self, presented: str | None) -> Principal | None:
        """The principal whose key was presented, or None; constant time per configured key."""
        if self.open:
            return Principal("admin", OPEN_KEY_ID)
        candidate = (presented or "").encode()
        found: Principal | None = None
        for key in self._keys:
            # no early exit: every key is compared whatever matched before
            if hmac.compare_digest(candidate, key.secret) and found is None:
                found = key.principal
        return found


def parse_api_keys(raw: str | None) -> KeyRing:
    """Parse ``role:key,role:key``; raises ConfigError naming the bad entry's position."""
    pairs: list[tuple[Role, str]] = []
    if raw is None or not raw.strip():
        return KeyRing(pairs)
    seen: set[str] = set()
    for position, entry in enumerate(raw.split(","), start=1):
        role, sep, key = entry.strip().partition(":")
        role, key = role.strip(), key.strip()
        if not sep:
            raise ConfigError(
                f"ROUTING_API_KEYS entry {position} is not of the form role:key "
                f"(roles: {', '.join(ROLES)})"
            )
        if role not in ROLES:
            raise ConfigError(
                f"ROUTING_API_KEYS entry {position} has unknown role {role!r} "
                f"(roles: {', '.join(ROLES)})"
            )
        if not key:
            raise ConfigError(f"ROUTING_API_KEYS entry {position} ({role}) has an empty key")
        if key in seen:
            raise ConfigError(f"ROUTING_API_KEYS entry {position} repeats an earlier key")
        seen.add(key)
        pairs.append((role, key))  # type: ignore[arg-type]  # role checked against ROLES
    return KeyRing(pairs)


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[] ")).is_loopback
    except ValueError:
        return False


def check_exposure(keys: KeyRing, host: str) -> None:
    """Refuse to serve without keys, or with short keys, on an address others can reach."""
    if is_loopback(host):
        return
    if keys.open:
        raise ConfigError(
            f"refusing to listen on {host} without API keys: set ROUTING_API_KEYS "
            "(role:key,...) or bind to 127.0.0.1"
        )
    if keys.short:
        raise ConfigError(
            f"refusing to listen on {host}: ROUTING_API_KEYS entry {keys.short[0]} is shorter "
            f"than {MIN_KEY_CHARS} characters (make keys with: openssl rand -hex 24)"
        )


class RateLimiter:
    """Token bucket per name (a key id, or a client address for failed key attempts):
    `per_minute` events per minute, bursts up to that many.

    `check` spends one token and `wait` only looks; both answer how many seconds the caller
    must wait (0 when it may go on).
    """

    # Buckets that have filled up again say nothing: past this many names they are dropped,
    # so that clients from ever new addresses cannot grow the table without end.
    MAX_NAMES = 10_000

    def __init__(self, per_minute: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # name -> (tokens, last time)
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.per_minute > 0

    def check(self, name: str) -> int:
        return self._take(name, spend=True)

    def wait(self, name: str) -> int:
        return self._take(name, spend=False)

    def _take(self, name: str, *, spend: bool) -> int:
        if not self.enabled:
            return 0
        rate = self.per_minute / 60.0
        full = float(self.per_minute)
        with self._lock:
            now = self._clock()
            tokens, last = self._buckets.get(name, (full, now))
            tokens = min(full, tokens + (now - last) * rate)
            if tokens >= 1.0:
                if spend:
                    self._buckets[name] = (tokens - 1.0, now)
                    self._forget_full(now, rate)
                return 0
            self._buckets[name] = (tokens, now)
            return max(1, math.ceil((1.0 - tokens) / rate))

    def _forget_full(self, now: float, rate: float) -> None:
        if len(self._buckets) <= self.MAX_NAMES:
            return
        full = float(self.per_minute)
        self._buckets = {
            name: (tokens, last)
            for name, (tokens, last) in self._buckets.items()
            if tokens + (now - last) * rate < full
        }
