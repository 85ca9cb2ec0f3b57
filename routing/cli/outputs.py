"""Where verbs write, checked before the long work so that a mistake costs no fit.

A file output must not be a directory, a directory output must not be a file, no part of the
path may be a file, and the user must be allowed to write there. A bundle output never replaces
a bundle without --force, and then the old bundle is kept in DIR.previous.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from routing.cli.common import fail


def check_file_output(path: Path, option: str) -> None:
    """PATH can be written as a file (missing directories above it are made)."""
    if path.is_dir():
        raise fail(f"{option} {path} is a directory; give a file name")
    if path.exists() and not os.access(path, os.W_OK):
        raise fail(f"{option} {path}: permission denied")
    _check_writable(path.parent, option, path)


def check_directory_output(path: Path, option: str) -> None:
    """PATH can be written as a directory (made when missing; files in it are replaced)."""
    if path.exists() and not path.is_dir():
        raise fail(f"{option} {path} is a file, not a directory")
    _check_writable(path, option, path)


def _check_writable(directory: Path, option: str, path: Path) -> None:
    """The nearest existing one of `directory` and those above it is a writable directory."""
    existing = directory
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise fail(f"{option} {path}: {existing} is a file, not a directory")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise fail(f"{option} {path}: cannot write in {existing} (permission denied)")


def holds_bundle(path: Path) -> bool:
    from routing.bundle import MANIFEST

    return (path / MANIFEST).is_file()


def previous_bundle(out: Path) -> Path:
    """Where --force keeps the bundle it replaces in `out`."""
    return out.with_name(out.name + ".previous")


@dataclass(frozen=True)
class BundleTarget:
    """Where to write a bundle meant for DIR, and where DIR's old bundle goes (None: none)."""

    path: Path
    previous: Path | None


def check_bundle_output(out: Path, force: bool) -> None:
    """DIR can receive a bundle: a new or empty directory, or a bundle with --force."""
    check_directory_output(out, "--out")
    # bundles are staged beside DIR and moved in, so the directory above must be writable too
    _check_writable(out.parent, "--out", out)
    if not out.is_dir() or not any(out.iterdir()):
        return
    if not holds_bundle(out):
        raise fail(f"--out {out} holds files that are not a bundle; refusing to write there")
    previous = previous_bundle(out)
    if not force:
        raise fail(
            f"--out {out} already holds a bundle; --force replaces it (the old one is then "
            f"kept in {previous})"
        )
    if previous.exists() and not (previous.is_dir() and holds_bundle(previous)):
        raise fail(f"--force: {previous} exists and is not a bundle; move it away first")


@contextmanager
def bundle_output(out: Path, force: bool) -> Iterator[BundleTarget]:
    """Check DIR (`check_bundle_output`), then give where to write its bundle.

    A bundle already in DIR stays there until the new one is complete: the new one is written
    beside it, then the old one moves to DIR.previous (replacing an older one there) and the
    new one to DIR. A failure on the way leaves DIR as it was.
    """
    check_bundle_output(out, force)
    if not holds_bundle(out):
        yield BundleTarget(out, None)
        return
    staging = out.with_name(f".{out.name}.new-{os.getpid()}")
    previous = previous_bundle(out)
    try:
        yield BundleTarget(staging, previous)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if previous.exists():
        shutil.rmtree(previous)
    os.replace(out, previous)
    os.replace(staging, out)


@contextmanager
def partial_file(out: Path) -> Iterator[Path]:
    """A file beside OUT to write to: it becomes OUT when the block ends, or is removed on error."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".partial")
    try:
        yield tmp
        tmp.replace(out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
