"""/docs comes with its assets: nothing is loaded from a CDN, so it works offline."""

from __future__ import annotations

import re


def _assets(html: str) -> list[str]:
    return re.findall(r'(?:src|href)=["\']([^"\']+)["\']', html) + re.findall(
        r'url: *["\']([^"\']+)["\']', html
    )


def test_docs_load_every_asset_from_the_service(client):
    response = client.get("/docs")
    assert response.status_code == 200
    assets = _assets(response.text)
    assert len(assets) >= 3  # script, style sheet, the OpenAPI document
    for asset in assets:
        assert asset.startswith("/"), asset  # no other host
        assert client.get(asset).status_code == 200, asset
