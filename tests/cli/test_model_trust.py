"""Bundles that cannot be trusted: what serve and the loaders do about them.

A bundle whose model file holds a type no bundle trusts, or that fails a check after loading,
is refused with one line (exit code 2 at start, the old model kept on reload);
ROUTING_REQUIRE_SIGNED refuses to load without a signing key; a service reachable from other
machines without a signing key says so at start.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest
import skops.io as sio

from routing.api import server
from routing.api.reload import ModelReloader
from routing.api.served import ServedModel
from routing.bundle import (
    MANIFEST,
    ROUTER_FILE,
    TRUSTED_TYPES,
    BundleError,
    _finalize_manifest,
    load_bundle,
)
from routing.registry import load_model
from routing.settings import Settings
from tests.cli.helpers import assert_user_error, run_main


def _with_router(source: Path, target: Path, change) -> Path:
    """A copy of `source` whose router is replaced by what `change` returns for it, checksums
    made to match."""
    shutil.copytree(source, target)
    router = sio.loads((target / ROUTER_FILE).read_bytes(), trusted=list(TRUSTED_TYPES))
    sio.dump(change(router), target / ROUTER_FILE)
    manifest = json.loads((target / MANIFEST).read_text(encoding="utf-8"))
    _finalize_manifest(manifest, target, None)
    return target


def _changed(attribute: str, *value):
    """A change setting (with a value) or deleting (without) the router's `attribute`."""

    def change(router):
        (setattr if value else delattr)(router, attribute, *value)
        return router

    return change


class _Stranger:
    """A type no bundle trusts, held by the router."""


@pytest.fixture(scope="module")
def odd_classes(trained_bundle, tmp_path_factory) -> Path:
    return _with_router(
        trained_bundle,
        tmp_path_factory.mktemp("odd") / "bundle",
        _changed("classes_", 5),
    )


@pytest.fixture(scope="module")
def cannot_predict(trained_bundle, tmp_path_factory) -> Path:
    return _with_router(
        trained_bundle,
        tmp_path_factory.mktemp("broken") / "bundle",
        _changed("calibrator_"),
    )


@pytest.fixture(scope="module")
def untrusted(trained_bundle, tmp_path_factory) -> Path:
    return _with_router(
        trained_bundle,
        tmp_path_factory.mktemp("untrusted") / "bundle",
        _changed("head_", _Stranger()),
    )


@pytest.fixture
def no_uvicorn(monkeypatch):
    def refuse(*_args, **_kwargs):
        raise AssertionError("uvicorn started on a bundle that should have been refused")

    monkeypatch.setattr(server.uvicorn, "run", refuse)


@pytest.mark.parametrize(
    ("bundle", "fragment"),
    [
        ("odd_classes", "is malformed (TypeError"),
        ("cannot_predict", "fails on a test complaint"),
        ("untrusted", f"{ROUTER_FILE} holds types this routing does not trust"),
    ],
)
def test_serve_refuses_a_bundle_failing_a_check_after_loading_with_one_line(
    request, monkeypatch, capsys, tmp_path, no_uvicorn, bundle, fragment
):
    model = request.getfixturevalue(bundle)
    code, _, err = run_main(
        monkeypatch, capsys, "serve", "--model", model, "--db", f"sqlite:///{tmp_path / 'x.db'}"
    )
    assert_user_error(code, err, fragment)


@pytest.mark.parametrize(
    ("bundle", "fragment"), [("odd_classes", "malformed"), ("untrusted", "does not trust")]
)
def test_a_reload_to_a_bundle_failing_a_check_keeps_the_old_model(
    request, trained_bundle, bundle, fragment
):
    old = ServedModel.from_bundle(load_bundle(trained_bundle))
    state = SimpleNamespace(model=old, batch_pool=None)
    outcome = ModelReloader(request.getfixturevalue(bundle), signing_key=None, interval=0).reload(
        state
    )
    assert not outcome.reloaded and fragment in outcome.error
    assert state.model is old


def test_require_signed_refuses_to_load_without_a_signing_key(
    monkeypatch, capsys, tmp_path, trained_bundle, no_uvicorn
):
    with pytest.raises(BundleError, match="ROUTING_REQUIRE_SIGNED"):
        load_model(trained_bundle, require_signed=True)
    monkeypatch.setenv("ROUTING_REQUIRE_SIGNED", "1")
    code, _, err = run_main(
        monkeypatch,
        capsys,
        *("serve", "--model", trained_bundle, "--db", f"sqlite:///{tmp_path / 'x.db'}"),
    )
    assert_user_error(code, err, "ROUTING_REQUIRE_SIGNED", "ROUTING_SIGNING_KEY")


@pytest.mark.parametrize(
    ("host", "key", "warned"),
    [("0.0.0.0", None, True), ("0.0.0.0", "k" * 32, False), ("127.0.0.1", None, False)],
)
def test_the_banner_warns_of_unsigned_models_on_a_reachable_address(
    trained_bundle, host, key, warned
):
    settings = Settings(_env_file=None, host=host, signing_key=key, model=trained_bundle)
    lines = server.banner(settings, load_bundle(trained_bundle), open_mode=False)
    assert any("NO SIGNING KEY" in line for line in lines) is warned
