"""The HTTP service: `create_app` builds it; `routing serve` / serve.py run it."""

from routing.api.app import create_app

__all__ = ["create_app"]
