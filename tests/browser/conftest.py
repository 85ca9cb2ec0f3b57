"""Fixtures of the browser tests: the real service in a subprocess, and Debian's Chromium.

The service is `serve.py` on a free port with a fresh SQLite database and its own keys,
serving the session's `trained_bundle`; it is started once for all browser tests. Chromium is
the system's (/usr/bin/chromium, installed by apt in CI), driven by Playwright; nothing is
ever downloaded. Without it the tests are skipped, saying why.
"""

from __future__ import annotations

import json
import shutil
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from serve_process import clean_env, running_server  # tests/ is on sys.path

from routing.bundle import MANIFEST, _finalize_manifest

from .helpers import ADMIN_KEY, INTEGRATION_KEY, Service

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-output" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
ACTION_TIMEOUT_MS = 15_000


@pytest.fixture(scope="session")
def chromium() -> Path:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} absent: install Debian's chromium (apt-get install chromium)")
    pytest.importorskip("playwright.sync_api", reason="playwright not installed")
    return CHROMIUM


# The synthetic sample model auto-routes nearly every complaint at its own threshold; the
# console's pages need both decisions on screen, so the browser tests serve a copy whose
# threshold only lets its most certain suggestions through.
STRICT_THRESHOLD = 0.999


def _strict_copy(source: Path, target: Path) -> Path:
    """`source` copied to `target` with its policy's threshold at STRICT_THRESHOLD."""
    shutil.copytree(source, target)
    manifest = json.loads((target / MANIFEST).read_text(encoding="utf-8"))
    manifest["policy"]["threshold"] = STRICT_THRESHOLD
    _finalize_manifest(manifest, target, None)
    return target


@pytest.fixture(scope="session")
def service(chromium, trained_bundle: Path, tmp_path_factory) -> Iterator[Service]:
    """serve.py with a fresh database, admin and integration keys; stopped after the session."""
    workdir = tmp_path_factory.mktemp("console-service")
    db_url = f"sqlite:///{workdir / 'routing.db'}"
    env = clean_env(
        ROUTING_DB_URL=db_url,
        ROUTING_API_KEYS=f"admin:{ADMIN_KEY},integration:{INTEGRATION_KEY}",
    )
    log = workdir / "server.log"
    bundle = _strict_copy(trained_bundle, tmp_path_factory.mktemp("strict") / "bundle")
    with running_server(bundle, cwd=workdir, env=env, log=log, stop=signal.SIGTERM) as url:
        yield Service(url=url, db_url=db_url)


@pytest.fixture(scope="session")
def browser(chromium: Path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, service: Service):
    """A fresh browser profile (no key, no language chosen); fails on uncaught JS errors."""
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="id-ID", accept_downloads=True
    )
    page = context.new_page()
    page.set_default_timeout(ACTION_TIMEOUT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert not errors, f"uncaught JavaScript errors: {errors}"


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
