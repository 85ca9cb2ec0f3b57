"""Shared pieces of the command line: consoles, help conventions, progress, user-error exits."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape

console = Console(soft_wrap=True)
console_err = Console(stderr=True, soft_wrap=True)

# Every verb and group answers -h as well as --help.
CONTEXT: dict[str, Any] = {"help_option_names": ["-h", "--help"]}

# Defaults that --help shows, copied here because the modules that own them load
# scikit-learn; tests/cli/test_conventions.py checks that each equals its original.
TARGET_PRECISION = 0.99  # routing.policy.DEFAULT_TARGET_PRECISION
BOUND_CONFIDENCE = 0.9  # routing.policy.DEFAULT_BOUND_CONFIDENCE
MAX_TOP_K = 10  # routing.suggest.MAX_TOP_K
HOLDOUT = 0.2  # training.retrain.DEFAULT_HOLDOUT
IRRELEVANT_QUANTILE = 0.9  # routing.evaluation.audit.DEFAULT_IRRELEVANT_QUANTILE
TOLERANCE = 0.005  # routing.evaluation.comparison.DEFAULT_TOLERANCE

# Options that several verbs share, with the same metavar and words everywhere.
QuietOpt = typer.Option(False, "--quiet", "-q", help="Print only errors.")
TextCol = typer.Option(
    ..., "--text-col", metavar="COLUMN", help="Column holding the complaint text."
)
LabelCol = typer.Option(
    ..., "--label-col", metavar="COLUMN", help="Column holding the agency (disposition)."
)
LocationCol = typer.Option(
    None,
    "--location-col",
    metavar="COLUMN",
    help="Column holding the complaint's location (LAPOR!'s location field: free text or a "
    "Kemendagri code such as 32.73); it wins over the places the text names, and a "
    "contradiction between them sends the complaint to review (location_conflict).",
)
FormatOpt = typer.Option(
    None, "--format", metavar="FORMAT", help="csv, jsonl or parquet (default: by suffix)."
)
BoundConfidenceOpt = typer.Option(
    BOUND_CONFIDENCE,
    "--bound-confidence",
    metavar="C",
    envvar="ROUTING_BOUND_CONFIDENCE",
    show_envvar=True,
    help="Confidence with which the target precision must hold on new complaints: the "
    "threshold is the lowest whose one-sided Clopper-Pearson lower bound on out-of-fold "
    "precision reaches the target.",
)
SeedOpt = typer.Option(0, "--seed", metavar="N", help="Seed for folds and the linear head.")
# The environment variables are read by click, as well as by routing.settings, so that
# --help can show them; a flag wins over its variable either way.
DbOpt = typer.Option(
    None,
    "--db",
    metavar="URL",
    envvar="ROUTING_DB_URL",
    show_envvar=True,
    help="SQLAlchemy URL of the service's database (default sqlite:///var/routing.db).",
)
CorrectionsOpt = typer.Option(
    None,
    "--corrections",
    metavar="FILE",
    help="Reviewed corrections of the recorded agencies (CSV: id, verdict, agency, reviewer, "
    "reviewed_at, reason); repeatable, the latest review of a complaint wins (on a tie the "
    "file named later). Needs --id-col.",
)
AgenciesOpt = typer.Option(
    None,
    "--agencies",
    metavar="FILE",
    help="Agency catalogue CSV (default: the shipped data/agencies.csv; 'none': no "
    "catalogue): labels become its codes, and a regional office's label its role (the place "
    "a complaint names picks the office), renames and merges applied; unknown labels are "
    "kept and reported. The bundle keeps the catalogue and data/authority.csv's rules.",
)
# For verbs that compare labels as written, where a catalogue is opt-in.
MapAgenciesOpt = typer.Option(
    None,
    "--agencies",
    metavar="FILE",
    help="Agency catalogue CSV (data/agencies.csv): labels become its codes (a regional "
    "office's its role), renames and merges applied; unknown labels are kept and reported.",
)
NO_AGENCIES = "none"  # --agencies none: train without a catalogue
ForceOpt = typer.Option(
    False, "--force", help="Replace a bundle already in DIR; the old one moves to DIR.previous."
)


def agencies_file(value: Path | None) -> Path | None:
    """The catalogue --agencies names: the shipped one when not given, none for `none`."""
    if value is None:
        from routing.datafiles import data_file

        return data_file("agencies.csv")
    return None if str(value).strip().lower() == NO_AGENCIES else value


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print one clear line and return the Exit to raise."""
    console_err.print(f"[red]error:[/red] {escape(message)}", highlight=False)
    return typer.Exit(code)


def require_id_col(id_col: str | None, *options: tuple[str, object]) -> None:
    """Stop when an option that names complaints by id is given without --id-col."""
    for name, value in options:
        if value and not id_col:
            raise fail(f"{name} names complaints by id: give --id-col COLUMN")


def check_bound_confidence(value: float) -> None:
    if not 0.0 < value < 1.0:
        raise fail(f"--bound-confidence must be in (0, 1), got {value}")


@contextmanager
def status(message: str, quiet: bool) -> Iterator[None]:
    """A spinner for a long step, silent with --quiet or when not on a terminal."""
    if quiet or not console_err.is_terminal:
        yield
        return
    with console_err.status(message):
        yield


def write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
