"""Verbs on reviewed labels: `routing corrections resolve` turns a filled review sheet into a
corrections file for `train`, `evaluate`, `retrain` and `audit --corrections`."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from routing.cli.common import (
    CONTEXT,
    FormatOpt,
    LabelCol,
    MapAgenciesOpt,
    QuietOpt,
    console,
    fail,
)
from routing.cli.outputs import check_file_output, partial_file


def resolve(
    sheet: Path = typer.Argument(
        ..., metavar="SHEET", help="A review sheet written by `routing audit --review-file`."
    ),
    data: Path = typer.Option(
        ..., "--data", metavar="DATA", help="The dispositions the sheet was made from."
    ),
    label_col: str = LabelCol,
    id_col: str = typer.Option(
        ..., "--id-col", metavar="COLUMN", help="Column with complaint ids (the sheet's ids)."
    ),
    out: Path = typer.Option(..., "--out", metavar="FILE", help="Corrections CSV to write."),
    agencies: Path = MapAgenciesOpt,
    data_format: str = FormatOpt,
    digest_ids: bool = typer.Option(
        False,
        "--digest-ids",
        help="Write each id as sha256:<hex> of it, for a file kept apart from the data (the "
        "loaders match it to the data's ids).",
    ),
    quiet: bool = QuietOpt,
) -> None:
    """Turn a filled blind review sheet into a corrections file.

    In each row the reviewer wrote the responsible agency in `agency` (verdict left empty),
    or `both` (both candidates defensible) or `unclear` in `verdict`. An agency equal to the
    recorded one in DATA becomes label_right, another agency label_wrong; both takes the
    candidate that is not the recorded agency. Rows left without an answer, unknown ids and
    agencies DATA does not hold are listed, one line each, and nothing is written.
    """
    from routing.corrections import (
        id_digest,
        load_corrections,
        read_csv,
        resolve_review,
        write_csv,
    )
    from training.data import read_table, require_columns

    check_file_output(out, "--out")
    table = read_table(data, format=data_format)
    require_columns(table.frame, [label_col, id_col], table.path)
    frame = table.frame
    if agencies is not None:
        from routing.catalogue import CatalogueError, load_catalogue
        from training.pipeline import map_agencies

        try:
            frame, _ = map_agencies(frame, label_col, load_catalogue(agencies))
        except CatalogueError as exc:
            raise fail(str(exc)) from None
    ids = frame[id_col].astype(str).str.strip().tolist()
    labels = frame[label_col].fillna("").astype(str).str.strip().tolist()
    recorded = dict(zip(ids, labels, strict=True))
    corrections = resolve_review(read_csv(sheet), recorded)
    if digest_ids:
        corrections["id"] = corrections["id"].map(id_digest)
    with partial_file(out) as tmp:
        write_csv(corrections, tmp)
        # the checks of every command that reads it, before it takes OUT's name
        load_corrections([tmp], ids=recorded, labels={y for y in labels if y})
    if not quiet:
        counts = corrections["verdict"].value_counts()
        verdicts = ", ".join(f"{v} {n}" for v, n in counts.items())
        console.print(
            f"{len(corrections):,} reviewed complaints ({verdicts}) written to {escape(str(out))}"
        )


corrections_app = typer.Typer(
    help="Reviewed corrections of recorded agencies.",
    no_args_is_help=True,
    context_settings=CONTEXT,
)
corrections_app.command()(resolve)


def register(app: typer.Typer) -> None:
    app.add_typer(corrections_app, name="corrections")
