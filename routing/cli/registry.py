"""Verbs on the model registry: `models list`, `promote`, `rollback`.

The registry is a directory of bundles by version with a CURRENT pointer (routing.registry);
`routing serve --model models/` serves its current version and reloads when it changes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from routing.cli.common import CONTEXT, TOLERANCE, QuietOpt, console, console_err, fail

RegistryOpt = typer.Option(
    Path("models"),
    "--registry",
    metavar="DIR",
    help="Registry directory (bundles by version + CURRENT).",
)


def _signing_key() -> str | None:
    from routing.settings import get_settings

    return get_settings().signing_key_value()


def _num(value: Any) -> str:
    return "–" if value is None else f"{float(value):.4f}"


def comparison_table(comparison: dict[str, Any]) -> Table:
    """Challenger and champion side by side on the evaluation set."""
    from routing.evaluation.comparison import side_by_side

    champion = comparison.get("champion") or {}
    eval_set = comparison.get("eval_set") or {}
    where = eval_set.get("file") or f"held-out slice (seed {eval_set.get('seed')})"
    table = Table(
        title=f"Challenger vs champion on {eval_set.get('n', '?')} complaints ({where}), "
        f"target precision {comparison.get('target_precision')}"
    )
    table.add_column("metric")
    table.add_column("challenger", justify="right")
    table.add_column(f"champion {champion.get('model_version') or '(none)'}", justify="right")
    table.add_column("difference", justify="right")
    for label, mine, theirs in side_by_side(comparison):
        diff = "–" if theirs is None else f"{mine - theirs:+.4f}"
        table.add_row(label, _num(mine), _num(theirs), diff)
    return table


def list_models(registry: Path = RegistryOpt) -> None:
    """List the registry's bundles, oldest first; * marks the current version.

    With ROUTING_SIGNING_KEY set, a column says which versions are signed with it (the others
    would be refused by serve, promote and rollback).
    """
    from routing.registry import list_versions

    key = _signing_key()
    versions = list_versions(registry, signing_key=key)
    if not versions:
        console.print(f"{escape(str(registry))}: no bundles yet (routing promote DIR adds one)")
        return
    table = Table(title=f"Models in {registry}")
    for column, justify in (
        ("", "left"),
        ("version", "left"),
        ("created", "left"),
        ("macro-F1", "right"),
        ("coverage", "right"),
        ("measured on", "left"),
    ):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    if key:
        table.add_column("signed")
    for info in versions:
        row = [
            "*" if info.current else "",
            info.version,
            info.created_at or "?",
            _num(info.macro_f1),
            _num(info.coverage),
            info.measured_on,
        ]
        table.add_row(*row, *(["yes" if info.signed else "NO"] if key else []))
    console.print(table)


def _compare_on(data: Path, bundle: Path, registry: Path, text_col: str, label_col: str):
    """Score the challenger and the registry's current version on labelled complaints."""
    from routing.evaluation.comparison import make_comparison, score_router
    from routing.registry import load_model, read_pointer
    from training.data import read_table, require_columns

    challenger = load_model(bundle)
    champion = load_model(registry) if registry.is_dir() and read_pointer(registry) else None
    table = read_table(data)
    require_columns(table.frame, [text_col, label_col], table.path)
    pairs = [
        (str(t), str(y).strip())
        for t, y in zip(table.frame[text_col], table.frame[label_col], strict=True)
        if str(t).strip() and str(y).strip()
    ]
    if not pairs:
        raise fail(f"{data}: no rows with both text and label")
    texts, labels = [t for t, _ in pairs], [y for _, y in pairs]
    target = challenger.policy.target_precision
    scores = [
        score_router(b.router, b.policy.threshold, texts, labels, target)
        for b in (challenger, champion)
        if b is not None
    ]
    return make_comparison(
        scores[0],
        scores[1] if champion else None,
        champion_version=champion.model_version if champion else None,
        eval_set={
            "source": "file",
            "file": table.path.name,
            "sha256": table.sha256,
            "n": len(texts),
        },
        target_precision=target,
    )


def promote_command(
    bundle: Path = typer.Argument(..., metavar="DIR", help="Bundle to promote (e.g. retrain's)."),
    registry: Path = RegistryOpt,
    tolerance: float = typer.Option(
        TOLERANCE,
        "--tolerance",
        min=0.0,
        metavar="DELTA",
        help="How much worse than the champion (macro-F1, coverage) the challenger may be.",
    ),
    force: bool = typer.Option(False, "--force", help="Promote even if the challenger is worse."),
    eval_data: Path = typer.Option(
        None,
        "--eval",
        metavar="DATA",
        help="Compare both on these labelled complaints now instead of using the comparison "
        "recorded by retrain.",
    ),
    text_col: str = typer.Option(
        "text", "--text-col", metavar="COLUMN", help="Text column of --eval DATA."
    ),
    label_col: str = typer.Option(
        "agency", "--label-col", metavar="COLUMN", help="Label column of --eval DATA."
    ),
    quiet: bool = QuietOpt,
) -> None:
    """Make DIR the registry's current version, unless it is worse than the champion.

    Refused (exit code 1, with the reasons) when the challenger's macro-F1 or coverage at the
    target precision is below the champion's by more than --tolerance on the evaluation set.
    The first promotion into an empty registry is always allowed. A running service that
    serves the registry picks the new version up by itself.
    """
    from routing.registry import promote

    comparison = None
    if eval_data is not None:
        comparison = _compare_on(eval_data, bundle, registry, text_col, label_col)
        if not quiet:
            console.print(comparison_table(comparison))
    result = promote(
        registry,
        bundle,
        tolerance=tolerance,
        force=force,
        comparison=comparison,
        signing_key=_signing_key(),
    )
    if not result.promoted and not result.verdict.allowed:
        console_err.print(
            f"[red]refused:[/red] {result.version} is not promoted over {result.previous}:",
            highlight=False,
        )
        for reason in result.verdict.reasons:
            console_err.print(f"  - {escape(reason)}", highlight=False)
        console_err.print("  (--force promotes it anyway)", highlight=False)
        raise typer.Exit(1)
    if quiet:
        return
    if not result.promoted:
        console.print(f"{result.version} is already the current version")
        return
    if result.forced:
        for reason in result.verdict.reasons:
            console_err.print(f"[yellow]forced despite:[/yellow] {escape(reason)}")
    console.print(
        f"promoted {result.version} in {escape(str(registry))} "
        f"(previous: {result.previous or 'none'})"
    )


def rollback_command(registry: Path = RegistryOpt, quiet: bool = QuietOpt) -> None:
    """Make the previous version current again (a running service follows)."""
    from routing.registry import read_pointer, rollback

    before = read_pointer(registry) if registry.is_dir() else None
    pointer = rollback(registry, signing_key=_signing_key())
    if not quiet:
        was = before.version if before else "?"
        console.print(f"rolled back {escape(str(registry))} to {pointer.version} (was {was})")


models_app = typer.Typer(help="The model registry.", no_args_is_help=True, context_settings=CONTEXT)
models_app.command("list")(list_models)


def register(app: typer.Typer) -> None:
    app.add_typer(models_app, name="models")
    app.command("promote")(promote_command)
    app.command("rollback")(rollback_command)
