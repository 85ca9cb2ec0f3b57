"""`routing retrain`: history + admins' feedback → challenger bundle, compared with the champion."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from routing.cli.common import (
    HOLDOUT,
    TARGET_PRECISION,
    AgenciesOpt,
    BoundConfidenceOpt,
    CorrectionsOpt,
    ForceOpt,
    QuietOpt,
    agencies_file,
    check_bound_confidence,
    console,
    console_err,
    fail,
)
from routing.cli.outputs import bundle_output
from routing.cli.progress import work_progress
from routing.cli.registry import comparison_table


def retrain(
    history: Path = typer.Option(
        ..., "--history", metavar="DATA", help="Historical dispositions (CSV, JSONL, Parquet)."
    ),
    feedback: Path = typer.Option(
        ..., "--feedback", metavar="FILE", help="Output of `routing feedback export`."
    ),
    text_col: str = typer.Option(
        ..., "--text-col", metavar="COLUMN", help="History's complaint text column."
    ),
    label_col: str = typer.Option(
        ..., "--label-col", metavar="COLUMN", help="History's agency column."
    ),
    id_col: str = typer.Option(
        ...,
        "--id-col",
        metavar="COLUMN",
        help="History's complaint id column (matched with the export's).",
    ),
    out: Path = typer.Option(
        ...,
        "--out",
        metavar="DIR",
        help="Directory to write the challenger bundle to (a new or empty one).",
    ),
    force: bool = ForceOpt,
    eval_data: Path = typer.Option(
        None,
        "--eval",
        metavar="DATA",
        help="Fixed labelled evaluation set (same columns as the history); default: a "
        "held-out slice of the history chosen by --seed.",
    ),
    registry: Path = typer.Option(
        Path("models"),
        "--registry",
        metavar="DIR",
        help="Registry whose current version is the champion.",
    ),
    agencies: Path = AgenciesOpt,
    seed: int = typer.Option(
        0, "--seed", metavar="N", help="Seed of the held-out slice and of training."
    ),
    holdout: float = typer.Option(
        HOLDOUT,
        "--holdout",
        metavar="SHARE",
        help="Share of the history held out without --eval.",
    ),
    target_precision: float = typer.Option(
        TARGET_PRECISION, "--target-precision", metavar="P", help="Precision of auto-routing."
    ),
    bound_confidence: float = BoundConfidenceOpt,
    min_examples: int = typer.Option(
        5,
        "--min-examples",
        metavar="N",
        help="Warn about agencies with fewer examples (they are kept).",
    ),
    accept_new_agency: list[str] = typer.Option(
        None,
        "--accept-new-agency",
        metavar="NAME",
        help="Let decisions for NAME, an agency the history lacks, become examples "
        "(repeatable); without it such decisions are held back and listed.",
    ),
    corrections: list[Path] = CorrectionsOpt,
    quiet: bool = QuietOpt,
) -> None:
    """Train a challenger on history + corrections and compare it with the current champion.

    A decision in FILE overrides the history's label of the complaint with the same id;
    decisions on other complaints are added as examples (masked text). A decision for an agency
    the history lacks is held back and listed unless --accept-new-agency names it or the
    agency catalogue (--agencies) knows it. Only the latest decision per complaint counts.
    Challenger and champion are scored on the same evaluation set (macro-F1, accuracy,
    coverage at the target precision, ECE); the comparison is stored in the challenger's
    manifest for `routing promote`. A bundle already in DIR is replaced only with --force, and
    kept in DIR.previous.

    --corrections (reviewed corrections, as for `train`) apply after the feedback; for a
    complaint with both, the later of the admin's decision and the review wins. The
    evaluation set's labels are corrected too.
    """
    from routing.catalogue import CatalogueError
    from routing.settings import get_settings
    from training.retrain import retrain as run_retrain

    if not 0.0 < holdout < 1.0:
        raise fail(f"--holdout must be between 0 and 1, got {holdout}")
    if not 0.0 < target_precision <= 1.0:
        raise fail(f"--target-precision must be in (0, 1], got {target_precision}")
    check_bound_confidence(bound_confidence)
    try:
        with (
            bundle_output(out, force) as target,  # checked here, before the long work
            work_progress(quiet) as say,
        ):
            result = run_retrain(
                history,
                feedback,
                text_col,
                label_col,
                id_col,
                target.path,
                eval_path=eval_data,
                registry=registry,
                agencies=agencies_file(agencies),
                seed=seed,
                holdout=holdout,
                target_precision=target_precision,
                bound_confidence=bound_confidence,
                min_examples=min_examples,
                signing_key=get_settings().signing_key_value(),
                progress=say,
                accept_new_agencies=[name.strip() for name in accept_new_agency or ()],
                corrections=corrections or (),
            )
    except CatalogueError as exc:
        raise fail(str(exc)) from None
    if quiet:
        return
    merge = result.merge
    warnings = list(result.warnings)
    if merge.proposed_agencies:
        listed = ", ".join(f"{name} ({n})" for name, n in merge.proposed_agencies.items())
        warnings.append(
            f"held back {sum(merge.proposed_agencies.values())} decisions for agencies the "
            f"history does not know: {listed}; to learn one, pass --accept-new-agency NAME "
            "or add it to the agency catalogue"
        )
    for warning in warnings:
        console_err.print(f"[yellow]warning:[/yellow] {escape(warning)}", highlight=False)
    console.print(
        f"feedback: {merge.decisions} latest decisions; {merge.relabelled} relabelled and "
        f"{merge.confirmed} confirmed history rows, {merge.added} new examples, "
        f"{merge.skipped_no_text} skipped (text purged)"
    )
    if merge.new_agencies:
        console.print(f"new agencies: {escape(', '.join(merge.new_agencies))}")
    console.print(comparison_table(result.comparison))
    console.print(
        f"challenger [bold]{escape(str(out))}[/bold]  model_version {result.model_version}"
    )
    if target.previous is not None:
        console.print(f"the bundle it replaced is in {escape(str(target.previous))}")
    console.print(f"next: routing promote {escape(str(out))} --registry {escape(str(registry))}")


def register(app: typer.Typer) -> None:
    app.command()(retrain)
