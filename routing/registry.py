"""Model registry: bundles by version in one directory, and a pointer to the one to serve.

Layout::

    models/<model_version>/   a verified bundle (routing.bundle), never changed once in place
    models/CURRENT            {"version": ..., "previous": [newest first], "updated_at": ...}
    models/.lock              held (flock) by promote and rollback, one at a time

The pointer is replaced atomically (write a temporary file, fsync, rename over CURRENT, fsync
the directory), so a reader (the service's watcher) sees the old or the new pointer, never a
half-written one, even if the writer is killed or the power fails. A bundle is copied in
completely (and verified) before the pointer may name it.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from routing.bundle import (
    MANIFEST,
    Bundle,
    BundleError,
    load_bundle,
    read_manifest,
    signature_matches,
)
from routing.evaluation.comparison import DEFAULT_TOLERANCE, Verdict, judge
from routing.settings import get_settings

__all__ = [
    "LOCK_FILE",
    "POINTER_FILE",
    "Pointer",
    "Promotion",
    "RegistryError",
    "VersionInfo",
    "add_bundle",
    "is_registry",
    "list_versions",
    "load_model",
    "promote",
    "read_pointer",
    "registry_lock",
    "resolve_bundle_dir",
    "rollback",
    "write_pointer",
]

POINTER_FILE = "CURRENT"
LOCK_FILE = ".lock"
LOCK_TIMEOUT_S = 30.0
_LOCK_POLL_S = 0.05


class RegistryError(BundleError):
    """The registry cannot do what was asked; str() is one line meant for the operator."""


@dataclass(frozen=True)
class Pointer:
    """The version to serve and the versions served before it, newest first."""

    version: str
    previous: tuple[str, ...] = ()
    updated_at: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "previous": list(self.previous),
            "updated_at": self.updated_at,
        }


@dataclass(frozen=True)
class VersionInfo:
    """One bundle in the registry, as `routing models list` shows it."""

    version: str
    created_at: str | None
    macro_f1: float | None
    coverage: float | None
    measured_on: str  # "evaluation set" (recorded by retrain) or "out-of-fold"
    current: bool
    signed: bool | None = None  # signed with the key given to list_versions; None: no key


@dataclass(frozen=True)
class Promotion:
    """What `promote` did: whether the pointer moved, and the gate's verdict."""

    version: str
    previous: str | None
    promoted: bool
    verdict: Verdict
    forced: bool = False
    notes: list[str] = field(default_factory=list)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def is_registry(path: str | Path) -> bool:
    """A registry is a directory holding a CURRENT pointer."""
    return (Path(path) / POINTER_FILE).is_file()


def read_pointer(root: str | Path) -> Pointer | None:
    """The registry's pointer, or None when nothing was promoted yet."""
    path = Path(root) / POINTER_FILE
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        data = json.loads(raw)
        version = data["version"]
        previous = tuple(data.get("previous") or ())
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise RegistryError(f"{path}: not a valid pointer ({type(exc).__name__})") from None
    if (
        not isinstance(version, str)
        or not version
        or not all(isinstance(v, str) and v for v in previous)
    ):
        raise RegistryError(f"{path}: not a valid pointer (versions must be non-empty strings)")
    return Pointer(version, previous, str(data.get("updated_at") or ""))


def write_pointer(root: str | Path, pointer: Pointer) -> None:
    """Replace CURRENT atomically and durably; call it holding `registry_lock`."""
    root = Path(root)
    tmp = root / f"{POINTER_FILE}.tmp"
    payload = (json.dumps(pointer.to_dict(), indent=2) + "\n").encode("utf-8")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.write(fd, payload)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, root / POINTER_FILE)
    _fsync(root)


def _fsync(path: Path) -> None:
    """Flush a file's contents, or a directory's entries (a rename in it), to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def resolve_bundle_dir(path: str | Path) -> Path:
    """The bundle directory to load: a registry's current version, or `path` itself."""
    path = Path(path)
    if not is_registry(path):
        return path
    pointer = read_pointer(path)
    if pointer is None:  # CURRENT vanished between the two looks
        raise RegistryError(f"{path}: the registry has no current version")
    return path / pointer.version


def load_model(
    path: str | Path, *, signing_key: str | None = None, require_signed: bool | None = None
) -> Bundle:
    """Load and verify the model at `path`: a bundle, or a registry's current version.

    Every loader of a model calls this one. The bundle is verified with `signing_key`, by
    default the configured one (`ROUTING_SIGNING_KEY`). With `require_signed` (by default
    `ROUTING_REQUIRE_SIGNED`) there must be a key: an unsigned bundle is whatever model and
    threshold whoever could write the model folder put in it.
    """
    settings = get_settings()
    key = signing_key or settings.signing_key_value()
    required = settings.require_signed if require_signed is None else require_signed
    if required and not key:
        raise BundleError(
            "ROUTING_REQUIRE_SIGNED refuses unsigned bundles, and no ROUTING_SIGNING_KEY is set "
            "to verify a signature"
        )
    return load_bundle(resolve_bundle_dir(path), signing_key=key)


@contextmanager
def registry_lock(root: str | Path, timeout: float = LOCK_TIMEOUT_S) -> Iterator[None]:
    """Hold the registry's lock; the kernel releases it if the holder dies (even kill -9)."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    with open(root / LOCK_FILE, "a+") as fh:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise RegistryError(
                        f"{root} is locked by another promote or rollback; try again"
                    ) from None
                time.sleep(_LOCK_POLL_S)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def add_bundle(root: str | Path, source: str | Path, *, signing_key: str | None = None) -> str:
    """Copy a verified bundle into `root/<model_version>/` (no-op when it is there) → version."""
    root, source = Path(root), Path(source)
    version = read_manifest(source, signing_key=signing_key)["model_version"]
    target = root / version
    if target.exists():
        if target.resolve() != source.resolve():
            try:
                read_manifest(target, signing_key=signing_key)
            except BundleError as exc:
                raise RegistryError(
                    f"{target} exists but is not a valid bundle ({exc}); remove it first"
                ) from None
        return version
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{version}.", dir=root))
    try:
        for file in sorted(source.iterdir()):
            if file.is_file():
                shutil.copyfile(file, staging / file.name)
                _fsync(staging / file.name)
        read_manifest(staging, signing_key=signing_key)  # the copy is what will be served
        os.rename(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _fsync(root)
    return version


def promote(
    root: str | Path,
    source: str | Path,
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    force: bool = False,
    comparison: dict[str, Any] | None = None,
    signing_key: str | None = None,
) -> Promotion:
    """Make the bundle at `source` the registry's current version if it is not worse.

    The gate judges `comparison` (default: the one `retrain` recorded in the bundle's
    manifest) against the current version; `force` promotes whatever it says. The bundle is
    copied into the registry first, so the pointer never names an incomplete bundle.
    """
    root = Path(root)
    manifest = read_manifest(source, signing_key=signing_key)
    version = manifest["model_version"]
    with registry_lock(root):
        pointer = read_pointer(root)
        current = pointer.version if pointer else None
        if current == version:
            return Promotion(version, current, False, Verdict(True, [f"{version} is current"]))
        recorded = comparison if comparison is not None else manifest.get("comparison")
        verdict = judge(recorded, current, tolerance)
        if not verdict.allowed and not force:
            return Promotion(version, current, False, verdict)
        add_bundle(root, source, signing_key=signing_key)
        history = [current, *(pointer.previous if pointer else ())] if current else []
        write_pointer(
            root,
            Pointer(version, tuple(dict.fromkeys(v for v in history if v != version)), _now()),
        )
    return Promotion(version, current, True, verdict, forced=not verdict.allowed)


def rollback(root: str | Path, *, signing_key: str | None = None) -> Pointer:
    """Make the previous version current again; refuses when it is missing or fails to verify."""
    root = Path(root)
    with registry_lock(root):
        pointer = read_pointer(root)
        if pointer is None:
            raise RegistryError(f"{root}: nothing promoted yet; nothing to roll back")
        if not pointer.previous:
            raise RegistryError(f"{root}: {pointer.version} has no previous version")
        target = pointer.previous[0]
        try:
            read_manifest(root / target, signing_key=signing_key)
        except BundleError as exc:
            raise RegistryError(f"cannot roll back to {target}: {exc}") from None
        new = Pointer(target, pointer.previous[1:], _now())
        write_pointer(root, new)
    return new


def list_versions(root: str | Path, *, signing_key: str | None = None) -> list[VersionInfo]:
    """The bundles in the registry, oldest first; reads manifests without verifying checksums.

    With `signing_key`, each version says whether its manifest is signed with that key (what
    serve, promote and rollback will check, along with the checksums).
    """
    root = Path(root)
    if not root.is_dir():
        raise RegistryError(f"{root}: no such registry directory")
    pointer = read_pointer(root)
    found = []
    for directory in sorted(root.iterdir()):
        if directory.name.startswith(".") or not (directory / MANIFEST).is_file():
            continue
        try:
            manifest = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            manifest = {}
        found.append(_version_info(directory.name, manifest, pointer, signing_key))
    return sorted(found, key=lambda info: (info.created_at or "", info.version))


def _version_info(
    name: str, manifest: dict[str, Any], pointer: Pointer | None, signing_key: str | None
) -> VersionInfo:
    compared = (manifest.get("comparison") or {}).get("challenger")
    if isinstance(compared, dict):
        macro_f1, coverage = compared.get("macro_f1"), compared.get("coverage")
        measured_on = "evaluation set"
    else:
        validation = (manifest.get("metrics") or {}).get("validation") or {}
        macro_f1 = validation.get("macro_f1")
        coverage = (manifest.get("policy") or {}).get("coverage")
        measured_on = "out-of-fold"
    return VersionInfo(
        version=name,
        created_at=manifest.get("created_at"),
        macro_f1=macro_f1,
        coverage=coverage,
        measured_on=measured_on,
        current=pointer is not None and pointer.version == name,
        signed=signature_matches(manifest, signing_key) if signing_key else None,
    )
