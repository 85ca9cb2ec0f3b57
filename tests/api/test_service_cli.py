"""`routing serve` refusals and `routing db purge`, through typer's CliRunner."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from routing.api import server
from routing.bundle import ROUTER_FILE
from routing.cli import app
from routing.cli.service import _settings
from routing.storage.db import PredictionRecord, make_engine, session_factory, upgrade
from routing.storage.repository import record_predictions
from routing.suggest import suggest

from .helpers import PERSONAL_TEXT

runner = CliRunner()


def _one_error_line(result) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output + result.stderr
    return lines[0]


def test_flags_override_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("ROUTING_PORT", "9001")
    monkeypatch.setenv("ROUTING_HOST", "127.0.0.2")
    monkeypatch.setenv("ROUTING_RATE_LIMIT", "30")
    settings = _settings(port=9002, host=None, model=tmp_path)
    assert (settings.port, settings.host, settings.rate_limit) == (9002, "127.0.0.2", 30)
    assert settings.model == tmp_path
    assert _settings().db_url == "sqlite:///var/routing.db"
    assert _settings().retention_days == 365


def test_serve_runs_uvicorn_on_the_configured_port(monkeypatch, trained_bundle, tmp_path):
    seen = {}

    def fake_uvicorn_run(app, **options):
        seen["port"] = options["port"]

    monkeypatch.setattr(server.uvicorn, "run", fake_uvicorn_run)
    settings = _settings(model=trained_bundle, port=9003, db_url=f"sqlite:///{tmp_path / 'x.db'}")
    server.run(settings, echo=lambda line: None)
    assert seen == {"port": 9003}


def test_serve_refuses_a_public_address_without_keys(trained_bundle, tmp_path):
    args = ["serve", "--model", str(trained_bundle), "--host", "0.0.0.0"]
    result = runner.invoke(app, [*args, "--db", f"sqlite:///{tmp_path / 'x.db'}"])
    assert result.exit_code == 2
    assert "without API keys" in _one_error_line(result)


def test_serve_refuses_short_keys_on_a_public_address(monkeypatch, trained_bundle, tmp_path):
    monkeypatch.setenv("ROUTING_API_KEYS", "admin:0123456789abcdef,integration:short-key")
    args = ["serve", "--model", str(trained_bundle), "--host", "0.0.0.0"]
    result = runner.invoke(app, [*args, "--db", f"sqlite:///{tmp_path / 'x.db'}"])
    assert result.exit_code == 2
    line = _one_error_line(result)
    assert "entry 2 is shorter than 16 characters" in line
    assert "short-key" not in line


def test_serve_refuses_malformed_keys(monkeypatch, trained_bundle):
    monkeypatch.setenv("ROUTING_API_KEYS", "integration:abc,guest:def")
    result = runner.invoke(app, ["serve", "--model", str(trained_bundle)])
    assert result.exit_code == 2
    line = _one_error_line(result)
    assert "unknown role 'guest'" in line
    assert "def" not in line.replace("'guest'", "")


def test_serve_refuses_a_tampered_bundle(trained_bundle, tmp_path):
    copy = shutil.copytree(trained_bundle, tmp_path / "bundle")
    with open(copy / ROUTER_FILE, "ab") as fh:
        fh.write(b"\0")
    result = runner.invoke(app, ["serve", "--model", str(copy)])
    assert result.exit_code == 2
    assert "checksum mismatch" in _one_error_line(result)


def test_serve_refuses_an_unusable_database(trained_bundle, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    url = f"sqlite:///{blocker / 'routing.db'}"
    result = runner.invoke(app, ["serve", "--model", str(trained_bundle), "--db", url])
    assert result.exit_code == 2
    assert "database" in _one_error_line(result)


def test_serve_without_a_model_says_how_to_give_one():
    result = runner.invoke(app, ["serve"])
    assert result.exit_code == 2
    assert "ROUTING_MODEL" in _one_error_line(result)


@pytest.fixture
def old_and_new_predictions(tmp_path, bundle):
    url = f"sqlite:///{tmp_path / 'purge.db'}"
    engine = make_engine(url)
    upgrade(engine)
    [prediction] = suggest(bundle, [PERSONAL_TEXT])
    now = datetime.now(UTC)
    with session_factory(engine)() as session:
        for age in (400, 30, 1):
            record_predictions(
                session, [(PERSONAL_TEXT, None, prediction)], now=now - timedelta(days=age)
            )
    yield url, engine
    engine.dispose()


def _texts_left(engine) -> int:
    with session_factory(engine)() as session:
        query = session.query(PredictionRecord)
        return query.filter(PredictionRecord.text_masked.isnot(None)).count()


def test_purge_uses_the_retention_setting_by_default(old_and_new_predictions):
    url, engine = old_and_new_predictions
    result = runner.invoke(app, ["db", "purge", "--db", url])
    assert result.exit_code == 0, result.output
    assert "purged 1 complaint texts older than 365 days" in result.stdout
    assert _texts_left(engine) == 2


def test_purge_older_than_flag_and_env(monkeypatch, old_and_new_predictions):
    url, engine = old_and_new_predictions
    monkeypatch.setenv("ROUTING_DB_URL", url)
    monkeypatch.setenv("ROUTING_RETENTION_DAYS", "10")
    result = runner.invoke(app, ["db", "purge"])
    assert "purged 2 complaint texts older than 10 days" in result.stdout
    result = runner.invoke(app, ["db", "purge", "--older-than", "0"])
    assert "purged 1 complaint texts older than 0 days" in result.stdout
    assert _texts_left(engine) == 0
    with session_factory(engine)() as session:
        assert session.query(PredictionRecord).count() == 3  # decisions and counts stay


def test_purge_on_an_unusable_database_is_one_line(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = runner.invoke(app, ["db", "purge", "--db", f"sqlite:///{blocker / 'r.db'}"])
    assert result.exit_code == 2
    assert "database" in _one_error_line(result)
