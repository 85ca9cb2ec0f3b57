"""/console: the admins' page is served by the service itself, without a key, and locked down.

The page's behaviour in a browser is tested in tests/browser/.
"""

from __future__ import annotations

import re

from routing.api.routes.console import CONSOLE_DIR


def test_console_redirects_to_its_folder(client):
    response = client.get("/console", follow_redirects=False)
    assert response.status_code == 308
    assert response.headers["location"] == "/console/"


def test_console_page_loads_without_a_key_and_allows_only_its_own_origin(client):
    response = client.get("/console/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert '<script type="module" src="js/app.js">' in response.text
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "connect-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert response.headers["x-content-type-options"] == "nosniff"


def test_console_scripts_are_served_as_javascript_modules(client):
    response = client.get("/console/js/app.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert client.head("/console/console.css").status_code == 200


def test_console_refuses_paths_outside_its_folder(client):
    for path in ("/console/../settings.py", "/console/%2e%2e/api/app.py", "/console/nothing.js"):
        assert client.get(path).status_code == 404, path


def test_console_is_not_part_of_the_api_description(client):
    assert not any(
        path.startswith("/console") for path in client.get("/openapi.json").json()["paths"]
    )


def test_console_loads_nothing_from_other_hosts():
    """The machines are offline: every file the page uses must be one of its own."""
    external = re.compile(
        r"""(?:src|href)\s*=\s*["']\s*(?:https?:)?//|@import\s+url\(\s*["']?https?:"""
    )
    files = [p for p in CONSOLE_DIR.rglob("*") if p.suffix in {".html", ".css", ".js"}]
    assert files
    for path in files:
        assert not external.search(path.read_text(encoding="utf-8")), path


def test_console_scripts_never_parse_data_as_html():
    """Complaint texts are untrusted; the scripts build DOM nodes with textContent only."""
    sinks = re.compile(
        r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function"
    )
    for path in CONSOLE_DIR.rglob("*.js"):
        assert not sinks.search(path.read_text(encoding="utf-8")), path
