"""`routing retrain`: history + admins' feedback → challenger bundle, compared with the champion."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from routing.catalogue import CatalogueError
from routing.cli.common import console, console_err, fail, status
from routing.cli.registry import comparison_table
from routing.policy import DEFAULT_TARGET_PRECISION
from routing.settings import get_settings
from training.retrain import DEFAULT_HOLDOUT


def retrain(
    history: Path = typer.Option(
        ..., "--history", metavar="DATA", help="Historical dispositions (CSV, JSONL, Parquet)."
    ),
    feedback: Path = typer.Option(
        ..., "--feedback", metavar="FILE", help="Output of `routing feedback export`."
    ),
    text_col: str = typer.Option(..., "--text-col", help="History's complaint text column."),
    label_col: str = typer.Option(..., "--label-col", help="History's agency column."),
    id_col: str = typer.Option(
        ..., "--id-col", help="History's complaint id column (matched with the export's)."
    ),
    out: Path = typer.Option(..., "--out", help="Directory to write the challenger bundle to."),
    eval_data: Path = typer.Option(
        None,
        "--eval",
        metavar="DATA",
        help="Fixed labelled evaluation set (same columns as the history); default: a "
        "held-out slice of the history chosen by --seed.",
    ),
    registry: Path = typer.Option(
        Path("models"), "--registry", help="Registry whose current version is the champion."
    ),
    agencies: Path = typer.Option(
        None, "--agencies", metavar="FILE", help="Agency catalogue CSV (data/agencies.csv)."
    ),
    seed: int = typer.Option(0, "--seed", help="Seed of the held-out slice and of training."),
    holdout: float = typer.Option(
        DEFAULT_HOLDOUT, "--holdout", help="Share of the history held out without --eval."
    ),
    target_precision: float = typer.Option(
        DEFAULT_TARGET_PRECISION, "--target-precision", help="Precision of auto-routing."
    ),
    min_examples: int = typer.Option(
        5, "--min-examples", help="Warn about agencies with fewer examples (they are kept)."
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print only errors."),
) -> None:
    """Train a challenger on history + corrections and compare it with the current champion.

    A decision in FILE overrides the history's label of the complaint with the same id;
    decisions on other complaints are added as examples (masked text), so new agencies are
    learned. Only the latest decision per complaint counts. Challenger and champion are scored
    on the same evaluation set (macro-F1, accuracy, coverage at the target precision, ECE);
    the comparison is stored in the challenger's manifest for `routing promote`.
    """
    from training.retrain import retrain as run_retrain

    if not 0.0 < holdout < 1.0:
        raise fail(f"--holdout must be between 0 and 1, got {holdout}")
    if not 0.0 < target_precision <= 1.0:
        raise fail(f"--target-precision must be in (0, 1], got {target_precision}")
    try:
        with status("retraining (merge, validation, fit, comparison)…", quiet):
            result = run_retrain(
                history,
                feedback,
                text_col,
                label_col,
                id_col,
                out,
                eval_path=eval_data,
                registry=registry,
                agencies=agencies,
                seed=seed,
                holdout=holdout,
                target_precision=target_precision,
                min_examples=min_examples,
                signing_key=get_settings().signing_key_value(),
                progress=None if quiet else lambda m: console_err.log(m),
            )
    except CatalogueError as exc:
        raise fail(str(exc)) from None
    for warning in result.warnings:
        console_err.print(f"[yellow]warning:[/yellow] {escape(warning)}", highlight=False)
    if quiet:
        return
    merge = result.merge
    console.print(
        f"feedback: {merge.decisions} latest decisions; {merge.relabelled} relabelled and "
        f"{merge.confirmed} confirmed history rows, {merge.added} new examples, "
        f"{merge.skipped_no_text} skipped (text purged)"
    )
    if merge.new_agencies:
        console.print(f"new agencies: {escape(', '.join(merge.new_agencies))}")
    console.print(comparison_table(result.comparison))
    console.print(
        f"challenger [bold]{escape(str(result.bundle_path))}[/bold]  "
        f"model_version {result.model_version}"
    )
    console.print(
        f"next: routing promote {escape(str(result.bundle_path))} --registry "
        f"{escape(str(registry))}"
    )


def register(app: typer.Typer) -> None:
    app.command()(retrain)
