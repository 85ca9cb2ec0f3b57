"""`routing` command line: one module per group of verbs, one function per verb.

User mistakes (bad files, missing columns, corrupt bundles) end with one line on stderr and
exit code 2; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import sys

import typer
from rich.markup import escape

from routing.bundle import BundleError
from routing.catalogue import CatalogueError
from routing.cli import audit, feedback, model, registry, retrain, service
from routing.cli.common import console_err
from training.data import DataError

app = typer.Typer(
    name="routing",
    help="Suggest which government agency should handle a citizen complaint.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
model.register(app)
audit.register(app)
service.register(app)
feedback.register(app)
retrain.register(app)
registry.register(app)

USER_ERRORS: tuple[type[BaseException], ...] = (
    DataError,
    BundleError,
    FileNotFoundError,
    CatalogueError,
)


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except USER_ERRORS as exc:
        console_err.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False)
        sys.exit(2)
