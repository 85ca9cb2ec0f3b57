"""Schemathesis over the app's own OpenAPI schema: no generated request gets a 5xx.

Requests go straight into the ASGI app (no server) with an admin key, so every operation is
reached past the key check. The checks are the ones that hold for valid and invalid input
alike: never a server error, and status code, content type and body as the schema documents
them. Schemathesis only generates strings it can encode as UTF-8, so a hook puts lone
surrogates into some of the body's strings (sent as JSON escapes, "\\udc80"): clients do send
them, and they once made the database fail with a 500.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from routing.api import create_app
from routing.bundle import Bundle, load_bundle
from routing.settings import Settings

from .helpers import ADMIN, API_KEYS

MAX_EXAMPLES = 200
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def _settings(model: Path, db_url: str = "sqlite://") -> Settings:
    return Settings(
        _env_file=None,
        model=model,
        db_url=db_url,
        api_keys=API_KEYS,
        rate_limit=0,
        batch_workers=0,
    )


# The schema is read at import, before any fixture exists; building an app starts nothing (the
# bundle is only loaded by its lifespan), so a placeholder model path is enough to describe it.
schema = schemathesis.openapi.from_dict(create_app(_settings(Path("unused"))).openapi())


LONE_SURROGATE = st.integers(0xD800, 0xDFFF).map(chr)


@st.composite
def _with_lone_surrogates(draw: st.DrawFn, value: Any) -> Any:
    """`value` with a lone surrogate put into some of its strings (none, one or several)."""
    if isinstance(value, str):
        if not draw(st.booleans()):
            return value
        at = draw(st.integers(0, len(value)))
        return value[:at] + draw(LONE_SURROGATE) + value[at:]
    if isinstance(value, list):
        return [draw(_with_lone_surrogates(item)) for item in value]
    if isinstance(value, dict):
        return {key: draw(_with_lone_surrogates(item)) for key, item in value.items()}
    return value


@schema.hook
def flatmap_body(context: schemathesis.HookContext, body: Any) -> st.SearchStrategy[Any]:
    return _with_lone_surrogates(body)


@pytest.fixture(scope="module")
def served_app(trained_bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    """One app for the module, with its own database; schemathesis runs its lifespan."""
    bundle: Bundle = load_bundle(trained_bundle)
    db = tmp_path_factory.mktemp("schemathesis") / "service.db"
    return create_app(_settings(trained_bundle, f"sqlite:///{db}"), bundle=bundle)


@pytest.mark.slow  # MAX_EXAMPLES for every operation, batches of up to 1,000 complaints
@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_no_generated_request_gets_a_server_error(case, served_app):
    response = case.call(app=served_app, headers=ADMIN)
    case.validate_response(response, checks=CHECKS, headers=ADMIN)
