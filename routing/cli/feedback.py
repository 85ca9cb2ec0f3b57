"""Verbs on admins' feedback: `routing feedback export` for the learning loop."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.markup import escape

from routing.cli.common import CONTEXT, DbOpt, QuietOpt, console, fail
from routing.cli.outputs import check_file_output


def _since(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise fail(f"--since {value!r} is not an ISO 8601 date or date-time") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _check_sqlite_file(url: str) -> None:
    """Refuse a SQLite path that does not exist instead of exporting from a new empty file."""
    from sqlalchemy import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        raise fail(f"--db {url!r} is not a SQLAlchemy database URL") from None
    database = parsed.database or ""
    if parsed.get_backend_name() != "sqlite" or database in ("", ":memory:"):
        return
    if not database.startswith("file:") and not Path(database).expanduser().is_file():
        raise fail(f"database file not found: {database}")


def export(
    out: Path = typer.Option(
        ...,
        "--out",
        metavar="FILE",
        help="File to write: CSV (*.csv) or JSON lines (*.jsonl, *.ndjson).",
    ),
    db: str = DbOpt,
    since: str = typer.Option(
        None,
        "--since",
        metavar="DATE",
        help="Only decisions made at or after DATE (ISO 8601, e.g. 2024-05-01; UTC unless "
        "it carries an offset).",
    ),
    quiet: bool = QuietOpt,
) -> None:
    """Export each prediction's latest admin decision, oldest first, for `routing retrain`.

    Columns: complaint_id, prediction_id, text (personal data masked; empty once purged),
    suggested_agency (the model's top suggestion), agency (the admin's final choice),
    accepted, decision (auto/review), model_version, decided_at, predicted_at,
    suggested_jurisdiction (the place code the prediction found), jurisdiction (the one the
    admin gave, if any).
    """
    from sqlalchemy.exc import SQLAlchemyError

    from routing.api.server import database_problem
    from routing.settings import get_settings
    from routing.storage.db import make_engine, session_factory
    from routing.storage.feedback_export import export_feedback, export_format

    try:
        export_format(out)
    except ValueError as exc:
        raise fail(f"--out: {exc}") from None
    check_file_output(out, "--out")
    moment = _since(since)
    url = db or get_settings().db_url
    _check_sqlite_file(url)
    try:
        engine = make_engine(url)
        try:
            with session_factory(engine)() as session:
                count = export_feedback(session, out, since=moment)
        finally:
            engine.dispose()
    except (SQLAlchemyError, ImportError) as exc:
        raise fail(database_problem(url, exc)) from None
    except OSError as exc:
        raise fail(f"cannot write {out}: {exc.strerror or type(exc).__name__}") from None
    if not quiet:
        console.print(f"exported {count} decisions to {escape(str(out))}")


feedback_app = typer.Typer(
    help="Admins' feedback on suggestions.", no_args_is_help=True, context_settings=CONTEXT
)
feedback_app.command()(export)


def register(app: typer.Typer) -> None:
    app.add_typer(feedback_app, name="feedback")
