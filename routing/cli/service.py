"""Verbs that run the HTTP service and look after its database: serve, db purge.

Flags override ROUTING_* environment variables; both end up in the one `Settings` object.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import typer
from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from routing.bundle import BundleError
from routing.cli.common import console, fail
from routing.settings import Settings


def _settings(**overrides: Any) -> Settings:
    """Settings from the environment, with the flags that were given on top."""
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        raise fail(f"invalid setting ROUTING_{field.upper()}: {first['msg']}") from None


def serve(
    model: Path = typer.Option(
        None,
        "--model",
        help="Bundle directory to serve, or a registry (models/): its current version is "
        "served and a new one is picked up without downtime. (env ROUTING_MODEL)",
    ),
    host: str = typer.Option(
        None, "--host", help="Address to bind (default 127.0.0.1). (env ROUTING_HOST)"
    ),
    port: int = typer.Option(
        None, "--port", min=0, max=65535, help="Port (default 8000). (env ROUTING_PORT)"
    ),
    db: str = typer.Option(
        None,
        "--db",
        help="SQLAlchemy URL of the database (default sqlite:///var/routing.db). "
        "[env: ROUTING_DB_URL]",
    ),
) -> None:
    """Serve the HTTP API in the foreground until Ctrl-C or SIGTERM.

    API keys come from ROUTING_API_KEYS (role:key,...; roles integration and admin).
    Without keys the service only starts on a loopback address.
    """
    from routing.api.security import ConfigError
    from routing.api.server import run

    settings = _settings(model=model, host=host, port=port, db_url=db)
    try:
        run(settings, echo=lambda line: typer.echo(line))
    except (ConfigError, BundleError) as exc:
        raise fail(str(exc)) from None


def purge(
    older_than: int = typer.Option(
        None,
        "--older-than",
        min=0,
        help="Purge texts of predictions older than DAYS days "
        "(default ROUTING_RETENTION_DAYS, 365).",
        metavar="DAYS",
    ),
    db: str = typer.Option(
        None, "--db", help="SQLAlchemy URL of the database. (env ROUTING_DB_URL)"
    ),
) -> None:
    """Remove stored complaint texts (and feedback notes) past the retention period.

    Predictions, decisions and feedback stay, so statistics do not change.
    """
    from routing.api.server import database_problem
    from routing.storage.db import make_engine, session_factory, upgrade
    from routing.storage.repository import purge_text

    settings = _settings(db_url=db)
    days = settings.retention_days if older_than is None else older_than
    try:
        engine = make_engine(settings.db_url)
        try:
            upgrade(engine)
            with session_factory(engine)() as session:
                purged = purge_text(session, older_than=timedelta(days=days))
        finally:
            engine.dispose()
    except (SQLAlchemyError, OSError, ImportError) as exc:
        raise fail(database_problem(settings.db_url, exc)) from None
    console.print(f"purged {purged} complaint texts older than {days} days")


db_app = typer.Typer(help="Look after the service's database.", no_args_is_help=True)
db_app.command()(purge)

# `python serve.py`: the serve verb on its own.
serve_app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
serve_app.command()(serve)


def register(app: typer.Typer) -> None:
    app.command()(serve)
    app.add_typer(db_app, name="db")
