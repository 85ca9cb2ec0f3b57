"""`routing` command line: one module per group of verbs, one function per verb.

User mistakes (bad files, missing columns, corrupt bundles, outputs that cannot be written)
end with one line on stderr and exit code 2; anything else is a bug and keeps its traceback.

`routing --help` is read far more often than a model is trained, so the CLI modules import
only typer, rich and the standard library at the top; each verb imports the models, the web
framework and the database layer it needs when it runs.
"""

from __future__ import annotations

import sys

import typer
from rich.markup import escape

from routing.cli import audit, corrections, feedback, model, registry, retrain, service
from routing.cli.common import CONTEXT, console_err

app = typer.Typer(
    name="routing",
    help="Suggest which government agency should handle a citizen complaint.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    # plain click help: no type column (it showed <bool> beside flags) and bracketed text
    # such as [env var: …] is printed as written instead of being read as console markup
    rich_markup_mode=None,
    context_settings=CONTEXT,
)


def _print_version(value: bool) -> None:
    if value:
        from importlib import metadata

        typer.echo(f"routing {metadata.version('routing')}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False,
        "--version",
        is_eager=True,
        callback=_print_version,
        help="Print the version and exit.",
    ),
) -> None:
    """Options of `routing` itself, before the verb."""


model.register(app)
audit.register(app)
corrections.register(app)
service.register(app)
feedback.register(app)
retrain.register(app)
registry.register(app)


def user_errors() -> tuple[type[Exception], ...]:
    """The exceptions that mean a user mistake: bad files, missing columns, corrupt bundles.

    Imported when an error happens, not at start: their modules load scikit-learn.
    """
    from routing.bundle import BundleError
    from routing.catalogue import CatalogueError
    from routing.corrections import CorrectionsError
    from training.data import DataError

    return (DataError, BundleError, FileNotFoundError, CatalogueError, CorrectionsError)


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except Exception as exc:
        if not isinstance(exc, user_errors()):
            raise
        console_err.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False)
        sys.exit(2)
