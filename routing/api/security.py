"""Who may call the service: API keys with roles, the loopback-only open mode, rate limits.

Keys come from ROUTING_API_KEYS as comma-separated ``role:key`` pairs. A presented key is
compared with every configured key in constant time and without stopping at the first match,
so response timing says nothing about how much of a key was right or which key it resembled.
Keys themselves never leave this module: callers get a `Principal` (role and a key id such as
``admin#2``) that is safe to log.
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
        for role, key in keys:
            counts[role] = counts.get(role, 0) + 1
            self._keys.append(_Key(Principal(role, f"{role}#{counts[role]}"), key.encode()))

    @property
    def open(self) -> bool:
        return not self._keys

    def __len__(self) -> int:
        return len(self._keys)

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
    """Refuse to serve without keys on an address other machines can reach."""
    if keys.open and not is_loopback(host):
        raise ConfigError(
            f"refusing to listen on {host} without API keys: set ROUTING_API_KEYS "
            "(role:key,...) or bind to 127.0.0.1"
        )


class RateLimiter:
    """Token bucket per key: `per_minute` requests per minute, bursts up to that many.

    `check` answers how many seconds the caller must wait (0 when the request may go on).
    """

    def __init__(self, per_minute: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key id -> (tokens, last time)
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.per_minute > 0

    def check(self, key_id: str) -> int:
        if not self.enabled:
            return 0
        rate = self.per_minute / 60.0
        with self._lock:
            now = self._clock()
            tokens, last = self._buckets.get(key_id, (float(self.per_minute), now))
            tokens = min(float(self.per_minute), tokens + (now - last) * rate)
            if tokens >= 1.0:
                self._buckets[key_id] = (tokens - 1.0, now)
                return 0
            self._buckets[key_id] = (tokens, now)
            return max(1, math.ceil((1.0 - tokens) / rate))
