"""The API docs render in a browser that can reach nothing but the service (offline)."""

from __future__ import annotations

import pytest

from .helpers import Service

pytest.importorskip("playwright.sync_api", reason="playwright not installed")
from playwright.sync_api import Page, Route, expect


@pytest.fixture
def offline(page: Page, service: Service) -> list[str]:
    """Abort every request that is not for the service; the URLs that tried, in order."""
    outside: list[str] = []

    def only_the_service(route: Route) -> None:
        if route.request.url.startswith(service.url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_the_service)
    return outside


def test_swagger_ui_shows_the_operations_offline(page, service, offline, screenshots):
    page.goto(f"{service.url}/docs")
    predict = page.locator('.opblock-summary-path[data-path="/v1/predict"]')
    expect(predict).to_be_visible()
    expect(page.locator('.opblock-summary-path[data-path="/v1/feedback"]')).to_be_visible()
    page.screenshot(path=screenshots / "docs.png", full_page=True)
    assert offline == []
