"""The console of a service without keys (loopback only): it asks for no key it cannot have."""

from __future__ import annotations

import signal
from collections.abc import Iterator

import pytest
from serve_process import clean_env, running_server  # tests/ is on sys.path

from .conftest import ACTION_TIMEOUT_MS

pytest.importorskip("playwright.sync_api", reason="playwright not installed")
from playwright.sync_api import expect


@pytest.fixture(scope="module")
def open_service(chromium, trained_bundle, tmp_path_factory) -> Iterator[str]:
    """serve.py on 127.0.0.1 with no ROUTING_API_KEYS: the open mode of the quick start."""
    workdir = tmp_path_factory.mktemp("open-service")
    env = clean_env(ROUTING_DB_URL=f"sqlite:///{workdir / 'routing.db'}")
    log = workdir / "server.log"
    with running_server(trained_bundle, cwd=workdir, env=env, log=log, stop=signal.SIGTERM) as url:
        yield url


def test_an_open_service_console_shows_its_views_without_asking_for_a_key(
    browser, open_service, screenshots
):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="id-ID")
    page = context.new_page()
    page.set_default_timeout(ACTION_TIMEOUT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(f"{open_service}/console/#disposisi")
        expect(page.get_by_role("heading", level=1, name="Disposisi")).to_be_visible()
        expect(page.get_by_label("Kunci API admin")).to_be_hidden()
        expect(page.get_by_role("button", name="Keluar")).to_be_hidden()  # nothing to sign out of
        page.get_by_label("Teks pengaduan").fill("listrik padam terus, token PLN sudah diisi")
        with page.expect_response("**/v1/predict") as answer:
            page.get_by_role("button", name="Sarankan instansi").click()
        assert answer.value.ok
        page.screenshot(path=screenshots / "konsol-tanpa-kunci.png")
    finally:
        context.close()
    assert not errors, f"uncaught JavaScript errors: {errors}"
