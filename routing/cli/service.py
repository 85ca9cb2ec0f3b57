"""Verbs that run the HTTP service and look after its database: serve, db purge.

Flags override ROUTING_* environment variables; both end up in the one `Settings` object.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from routing.cli.common import CONTEXT, DbOpt, console, fail

if TYPE_CHECKING:
    from routing.settings import Settings


def _settings(**overrides: Any) -> Settings:
    """Settings from the environment, with the flags that were given on top."""
    from pydantic import ValidationError

    from routing.settings import Settings

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
        metavar="DIR",
        envvar="ROUTING_MODEL",
        show_envvar=True,
        help="Bundle directory to serve, or a registry (models/): its current version is "
        "served and a new one is picked up without downtime.",
    ),
    host: str = typer.Option(
        None,
        "--host",
        metavar="ADDRESS",
        envvar="ROUTING_HOST",
        show_envvar=True,
        help="Address to bind (default 127.0.0.1).",
    ),
    port: int = typer.Option(
        None,
        "--port",
        min=0,
        max=65535,
        metavar="PORT",
        envvar="ROUTING_PORT",
        show_envvar=True,
        help="Port (default 8000).",
    ),
    db: str = DbOpt,
) -> None:
    """Serve the HTTP API in the foreground until Ctrl-C or SIGTERM.

    API keys come from ROUTING_API_KEYS (role:key,...; roles integration and admin).
    Without keys the service only starts on a loopback address.
    """
    from routing.api.security import ConfigError
    from routing.api.server import run
    from routing.bundle import BundleError

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
        metavar="DAYS",
        envvar="ROUTING_RETENTION_DAYS",
        show_envvar=True,
        help="Purge texts of predictions older than DAYS days (default 365).",
    ),
    db: str = DbOpt,
) -> None:
    """Remove stored complaint texts (and feedback notes) past the retention period.

    Predictions, decisions and feedback stay, so statistics do not change.
    """
    from sqlalchemy.exc import SQLAlchemyError

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


db_app = typer.Typer(
    help="Look after the service's database.", no_args_is_help=True, context_settings=CONTEXT
)
db_app.command()(purge)

# `python serve.py`: the serve verb on its own.
serve_app = typer.Typer(
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings=CONTEXT,
)
serve_app.command()(serve)


def register(app: typer.Typer) -> None:
    app.command()(serve)
    app.add_typer(db_app, name="db")
